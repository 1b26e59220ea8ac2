"""`qvr explain CODE`: what a diagnostic code means, with a failing example and its fix.

Every code the parser and the checker can report (the `QVR0xx` codes and `internal`) has one
`Entry` in `ENTRIES`: a one-line title, the severity, a short explanation written for someone
modelling with QVR, a small program that triggers the code and the same program fixed. For
deprecated syntax (QVR090–QVR109) the entry also names the old form and its current rewrite.

The diagnostic an example gives is never written down here: `example_diagnostics` runs the
checker on the example each time, so what `qvr explain` prints is what `qvr check` says today.
The tests check that every example triggers its code, that every fix does not, and that the
codes explained are exactly the codes the source of `qvr.syntax` and `qvr.semantics` can emit.

`python -m qvr.explain --markdown` writes docs/diagnostics.md from the same entries (a test
fails when the committed file is stale). This module is torch-free, like `qvr check`.
"""
from __future__ import annotations

import difflib
import re
import sys
import textwrap
from dataclasses import dataclass
from typing import Optional

# The file name the example diagnostics are reported against.
EXAMPLE_FILE = "example.qvr"
# Width of the wrapped explanation in the plain-text output.
TEXT_WIDTH = 79


@dataclass(frozen=True)
class Entry:
    """One explained code. `example` triggers `code`; `fix` is the same program corrected.
    `old_form` and `rewrite` are set for deprecated syntax only."""

    code: str
    title: str
    severity: str  # a `Severity.label`: error, warning, information or hint
    explanation: str
    example: Optional[str] = None
    fix: Optional[str] = None
    old_form: Optional[str] = None
    rewrite: Optional[str] = None


def _e(code, title, severity, explanation, example=None, fix=None, old_form=None, rewrite=None):
    """An Entry with its texts tidied: the explanation as one paragraph, programs dedented and
    ending in one newline (so they read the same in the source, the CLI and the docs)."""
    def program(text):
        return None if text is None else textwrap.dedent(text).strip("\n") + "\n"

    return Entry(code, title, severity, " ".join(explanation.split()), program(example),
                 program(fix), old_form, rewrite)


def _deprecated(code, title, old_form, rewrite, explanation, example, fix):
    return _e(code, title, "hint", explanation, example, fix, old_form, rewrite)


ENTRIES: tuple[Entry, ...] = (
    # ------------------------------------------------------------------ lexing, parsing ----
    _e("QVR001", "Unexpected character", "error", """
        The file contains a character that is not part of QVR: punctuation such as `;`, `$`,
        `!` or quotes, a lone `<`, `>` or `|`, a non-word character inside a name, or bytes
        that are not UTF-8. Statements in QVR need no terminator, so a `;` carried over from
        another language is the most common cause. Nothing after the character can be read
        as intended, so the statement around it is not checked.""",
       example="""
        object Hidden : Real 4
        morphism step : Hidden -> Hidden ~ Normal;
        export step
        """,
       fix="""
        object Hidden : Real 4
        morphism step : Hidden -> Hidden ~ Normal
        export step
        """),
    _e("QVR002", "Syntax error", "error", """
        The tokens are all valid, but they do not form a statement of the grammar: a missing
        comma, `:` or `->`, an unbalanced bracket, or a number literal that cannot be a value.
        The message names what the parser expected at that point and what it found. The
        broken statement still declares its names, so uses elsewhere do not cascade into
        "undefined" errors, but its body is not checked until it parses.""",
       example="""
        object Hidden : Real 4
        morphism prior : Hidden -> Hidden ~ Normal(loc=0.0 scale=1.0)
        export prior
        """,
       fix="""
        object Hidden : Real 4
        morphism prior : Hidden -> Hidden ~ Normal(loc=0.0, scale=1.0)
        export prior
        """),
    _e("QVR003", "Block comment is not closed", "error", """
        A `#{` block comment runs until the matching `}#`. Without the closing mark, everything
        to the end of the file is comment, so declarations you meant to keep silently
        disappear from the model. The diagnostic covers the whole swallowed region; close the
        comment, or use `#` line comments for short notes.""",
       example="""
        object Hidden : Real 4
        morphism step : Hidden -> Hidden ~ Normal
        export step
        #{ to try: a Laplace transition for heavier tails
        """,
       fix="""
        object Hidden : Real 4
        morphism step : Hidden -> Hidden ~ Normal
        export step
        #{ to try: a Laplace transition for heavier tails }#
        """),
    _e("QVR004", "Reserved word used as a name", "error", """
        Keywords of every generation of QVR syntax (`sample`, `scan`, `repeat`, `latent`,
        `output` and the rest) are reserved everywhere, so that old and new files parse with
        one grammar. A declaration, parameter or variable cannot be called by one of them.
        Pick another name, for instance by adding a suffix.""",
       example="""
        object X : Real 1
        program jitter(sample) : X -> X
            let moved = sample + 1.0
            return moved
        export jitter
        """,
       fix="""
        object X : Real 1
        program jitter(value) : X -> X
            let moved = value + 1.0
            return moved
        export jitter
        """),
    _e("QVR005", "Program has no `return` step", "error", """
        A program body is a sequence of steps that must end with `return`; the `return` is
        what closes the body, since indentation carries no meaning. Without it the parser
        cannot tell where the program stops, and the program has no value to give to the
        model that uses it. Add a `return` naming the variable (or tuple of variables) the
        program produces.""",
       example="""
        object X : Real 1
        program noisy(x) : X -> X
            sample y <- Normal(loc=x, scale=1.0)
        export noisy
        """,
       fix="""
        object X : Real 1
        program noisy(x) : X -> X
            sample y <- Normal(loc=x, scale=1.0)
            return y
        export noisy
        """),
    _e("QVR006", "`where` without bindings", "error", """
        The bindings of a `where` are the `define` statements right after it whose keyword
        starts in a column to the right of the owner's `define`. When the next statement is
        not indented further, the `where` owns nothing, which almost always means the helper
        definitions were not indented. Indent them under the owner, or drop the `where`.""",
       example="""
        object Hidden : Real 4
        morphism step : Hidden -> Hidden ~ Normal
        define two_steps = step >> step
            where
        define model = two_steps >> step
        export model
        """,
       fix="""
        object Hidden : Real 4
        morphism step : Hidden -> Hidden ~ Normal
        define model = two_steps >> step
            where
                define two_steps = step >> step
        export model
        """),
    # ---------------------------------------------------------------------------- names ----
    _e("QVR010", "Undefined type", "error", """
        A type position (a signature, an object alias, an annotation) names an object that is
        not declared in the file. Types decide how values are represented and which
        distributions may produce them, so nothing that depends on the unknown type can be
        checked. Usually a typo: declare the object or correct the name.""",
       example="""
        object Hidden : Real 4
        morphism step : Hidden -> Hiden ~ Normal
        export step
        """,
       fix="""
        object Hidden : Real 4
        morphism step : Hidden -> Hidden ~ Normal
        export step
        """),
    _e("QVR011", "Undefined morphism", "error", """
        A morphism expression (a `define`, an `export`, the inside of `scan`, `fan` and the
        like) refers to a name that is not a declared morphism, program or define. The model
        cannot be assembled without it. Declare it before this point or fix the spelling.""",
       example="""
        object Hidden : Real 4
        morphism step : Hidden -> Hidden ~ Normal
        define model = step >> stpe
        export model
        """,
       fix="""
        object Hidden : Real 4
        morphism step : Hidden -> Hidden ~ Normal
        define model = step >> step
        export model
        """),
    _e("QVR012", "Undefined variable in a program", "error", """
        Inside a program, a step can use only parameters and variables bound by an earlier
        step. A name that is bound by a later step has no value yet where it is used: steps
        run in the order they are written. (A name bound nowhere in the program is read as
        data instead, QVR111.) A name in `return` must be bound by a step. Move the binding
        step before the use.""",
       example="""
        object X : Real 1
        program model(x) : X -> X
            let m = x + mu
            sample mu <- Normal(loc=0.0, scale=1.0)
            sample y <- Normal(loc=m + mu, scale=1.0)
            return y
        export model
        """,
       fix="""
        object X : Real 1
        program model(x) : X -> X
            sample mu <- Normal(loc=0.0, scale=1.0)
            let m = x + mu
            sample y <- Normal(loc=m + mu, scale=1.0)
            return y
        export model
        """),
    _e("QVR013", "Unknown target or function", "error", """
        The target of a `sample`/`observe` step must be a declared morphism, program or
        define, or a distribution family such as `Normal`; a function called in `let` must be
        a declared deterministic morphism or a builtin such as `tanh`. The name given is none
        of these, so the checker cannot know which distribution the step draws from. Check the
        spelling, or declare the morphism first.""",
       example="""
        object X : Real 1
        program noisy(x) : X -> X
            sample y <- Norml(loc=x, scale=1.0)
            return y
        export noisy
        """,
       fix="""
        object X : Real 1
        program noisy(x) : X -> X
            sample y <- Normal(loc=x, scale=1.0)
            return y
        export noisy
        """),
    _e("QVR014", "Used before its declaration", "error", """
        QVR reads a file from top to bottom: a name can only be used after the statement that
        declares it (only `export` and a `where` owner may look further down). The name does
        exist, later in the file, so the fix is to move its declaration up. This order is also
        what keeps programs from calling themselves recursively.""",
       example="""
        object Hidden : Real 4
        define model = step >> step
        morphism step : Hidden -> Hidden ~ Normal
        export model
        """,
       fix="""
        object Hidden : Real 4
        morphism step : Hidden -> Hidden ~ Normal
        define model = step >> step
        export model
        """),
    _e("QVR015", "Name already declared", "error", """
        Objects, morphisms, programs, defines, categories and rules share one namespace, so a
        name can be declared only once, whatever its kind. A second declaration would make
        every use ambiguous; with learned parameters it would also be unclear which set of
        weights a use refers to. Rename one of the two.""",
       example="""
        object Hidden : Real 4
        morphism step : Hidden -> Hidden ~ Normal
        morphism step : Hidden -> Hidden ~ Laplace
        define model = step >> step
        export model
        """,
       fix="""
        object Hidden : Real 4
        morphism step : Hidden -> Hidden ~ Normal
        morphism jump : Hidden -> Hidden ~ Laplace
        define model = step >> jump
        export model
        """),
    _e("QVR016", "Variable bound twice in a program", "error", """
        Each variable of a program (parameters included) is bound exactly once. Random
        variables are named sites of the model: inference, `observe` data and posterior
        samples are keyed by these names, so rebinding one would make two different draws
        indistinguishable. Give the second draw its own name.""",
       example="""
        object X : Real 1
        program walk(x) : X -> X
            sample z <- Normal(loc=x, scale=1.0)
            sample z <- Normal(loc=z, scale=1.0)
            return z
        export walk
        """,
       fix="""
        object X : Real 1
        program walk(x) : X -> X
            sample z1 <- Normal(loc=x, scale=1.0)
            sample z2 <- Normal(loc=z1, scale=1.0)
            return z2
        export walk
        """),
    _e("QVR017", "Name of the wrong kind", "error", """
        The name exists but is used where a different kind of thing is expected: a morphism
        in a type, an object in a morphism expression, a category where a morphism belongs.
        Types and morphisms live in the same namespace, so the checker can tell you what the
        name actually is. Use a name of the expected kind.""",
       example="""
        object Hidden : Real 4
        morphism step : Hidden -> Hidden ~ Normal
        morphism read : step -> Hidden ~ Normal
        define model = step >> read
        export model
        """,
       fix="""
        object Hidden : Real 4
        morphism step : Hidden -> Hidden ~ Normal
        morphism read : Hidden -> Hidden ~ Normal
        define model = step >> read
        export model
        """),
    _e("QVR018", "Group used outside `fan(...)`", "error", """
        A replicated declaration (`[replicate=k]`) creates members `name_0` … `name_{k-1}`,
        each with its own parameters. The bare name stands for the whole group, which only
        makes sense as a direct argument of `fan(...)`, where it expands to all members run
        side by side. Elsewhere use `fan(group)` or a single member.""",
       example="""
        object Hidden : Real 4
        morphism head : Hidden -> Hidden [replicate=2] ~ Normal
        define model = head
        export model
        """,
       fix="""
        object Hidden : Real 4
        morphism head : Hidden -> Hidden [replicate=2] ~ Normal
        define model = fan(head)
        export model
        """),
    _e("QVR019", "Declaration shadows a family or builtin", "warning", """
        The declared name is also the name of a distribution family or a builtin function.
        Declarations win, so inside this file the family or builtin can no longer be reached
        by that name, and a reader who sees `tanh(x)` or `Normal` will assume the standard
        meaning. The file still checks; renaming the declaration removes the surprise.""",
       example="""
        object Hidden : Real 4
        morphism tanh : Hidden -> Hidden
        export tanh
        """,
       fix="""
        object Hidden : Real 4
        morphism squash : Hidden -> Hidden
        export squash
        """),
    # ---------------------------------------------------------------------------- types ----
    _e("QVR020", "Size must be a positive integer", "error", """
        The cardinality of a finite set and the dimension of a real space must be integer
        literals of at least 1. A zero-sized or fractional space has no values to sample and
        no parameters to learn. Write the size you meant.""",
       example="""
        object Hidden : Real 0
        morphism step : Hidden -> Hidden ~ Normal
        export step
        """,
       fix="""
        object Hidden : Real 4
        morphism step : Hidden -> Hidden ~ Normal
        export step
        """),
    _e("QVR021", "Unknown type constructor", "error", """
        Objects are built with `FinSet n`, `Real n` (optionally bounded with
        `{low=…, high=…}`), `Simplex n` and a few older spellings. Any other word before the
        size is not a constructor the checker knows, so the object has no type. Use one of
        the constructors.""",
       example="""
        object Hidden : Reals 4
        morphism step : Hidden -> Hidden ~ Normal
        export step
        """,
       fix="""
        object Hidden : Real 4
        morphism step : Hidden -> Hidden ~ Normal
        export step
        """),
    _e("QVR022", "Invalid constructor argument", "error", """
        A type constructor got arguments it cannot use: a missing or extra size, an option it
        does not take, a positional argument after a keyword, or a lower bound that is not
        below the upper bound. Bounds define the support of the space, which decides which
        families may produce values in it, so an empty or malformed box cannot be accepted.""",
       example="""
        object Rate : Real 1 {low=1.0, high=0.0}
        morphism noise : Rate -> Rate ~ Beta
        export noise
        """,
       fix="""
        object Rate : Real 1 {low=0.0, high=1.0}
        morphism noise : Rate -> Rate ~ Beta
        export noise
        """),
    _e("QVR023", "Coproduct of a continuous space", "error", """
        `A + B` is the disjoint union of two finite sets (its size is the sum of theirs). A
        continuous space has no finite number of elements to add, so it cannot be an operand.
        To combine a discrete and a continuous part, use a product `A * B` instead.""",
       example="""
        object Token : FinSet 4
        object Hidden : Real 2
        object Either : Token + Hidden
        morphism read : Either -> Hidden ~ Normal
        export read
        """,
       fix="""
        object Token : FinSet 4
        object Hidden : Real 2
        object Both : Token * Hidden
        morphism read : Both -> Hidden ~ Normal
        export read
        """),
    _e("QVR024", "A finite object is needed", "error", """
        This position needs a finite set but got a continuous space. An embedding, for
        example, is a lookup table with one learned vector per element of its domain, so the
        domain must have finitely many elements. Use a `FinSet` object there, or a kernel or
        deterministic map for continuous inputs.""",
       example="""
        object Feature : Real 3
        object Hidden : Real 4
        morphism embed_feature : Feature -> Hidden [role=embed]
        export embed_feature
        """,
       fix="""
        object Feature : FinSet 3
        object Hidden : Real 4
        morphism embed_feature : Feature -> Hidden [role=embed]
        export embed_feature
        """),
    _e("QVR025", "A continuous space is needed", "error", """
        This position needs a continuous space but got a finite set. An embedding maps each
        token to a real vector, so its codomain must be `Real n`. To map tokens to tokens,
        declare a kernel with `~ Categorical` instead.""",
       example="""
        object Token : FinSet 8
        object Tag : FinSet 3
        morphism embed_tok : Token -> Tag [role=embed]
        export embed_tok
        """,
       fix="""
        object Token : FinSet 8
        object Hidden : Real 3
        morphism embed_tok : Token -> Hidden [role=embed]
        export embed_tok
        """),
    # ------------------------------------------------------------ declarations, options ----
    _e("QVR026", "Unknown role", "error", """
        `role=` says what kind of morphism a declaration is, and with it how it is
        parameterised and whether it is random: `kernel`, `deterministic`, `embed`, `latent`,
        `observed` or `discretize`. Any other value leaves the declaration without a meaning.
        Usually the role can also be left out and inferred from the `~` part.""",
       example="""
        object Hidden : Real 4
        morphism encode : Hidden -> Hidden [role=encoder] ~ Normal
        export encode
        """,
       fix="""
        object Hidden : Real 4
        morphism encode : Hidden -> Hidden [role=kernel] ~ Normal
        export encode
        """),
    _e("QVR027", "Role and `~` part disagree", "error", """
        Each role fixes what may follow the signature: a kernel needs a family (`~ Normal`),
        an observed morphism needs an initializer expression, and deterministic maps,
        embeddings, latent relations and discretizers take none. Here the `~`/`=` part is
        missing or not allowed for the role, so it is unclear whether the morphism is random
        and with which distribution. Add the part the role needs or change the role.""",
       example="""
        object Hidden : Real 4
        morphism step : Hidden -> Hidden [role=kernel]
        export step
        """,
       fix="""
        object Hidden : Real 4
        morphism step : Hidden -> Hidden [role=kernel] ~ Normal
        export step
        """),
    _e("QVR028", "Unknown option", "error", """
        The option block of a declaration accepts only the keys that apply to its role (the
        message lists them), and program headers and steps accept none. A misspelt key would
        otherwise be ignored silently and the model would train with a default you did not
        choose. Use one of the allowed keys.""",
       example="""
        object Hidden : Real 4
        morphism step : Hidden -> Hidden [hidden_size=32] ~ Normal
        export step
        """,
       fix="""
        object Hidden : Real 4
        morphism step : Hidden -> Hidden [hidden_dim=32] ~ Normal
        export step
        """),
    _e("QVR029", "Option value of the wrong type", "error", """
        The option is known but its value is not acceptable: a scale must be a positive
        number, a width or count a positive integer, a choice one of its listed words. A
        negative or zero scale, for instance, is not a distribution. Give a value of the
        stated type.""",
       example="""
        object Hidden : Real 4
        morphism step : Hidden -> Hidden [scale=-0.1] ~ Normal
        export step
        """,
       fix="""
        object Hidden : Real 4
        morphism step : Hidden -> Hidden [scale=0.1] ~ Normal
        export step
        """),
    _e("QVR030", "Option given twice", "warning", """
        The same key appears more than once in a declaration's options; the last value is
        the one used. This is accepted, but a reader (or you, later) may take the first value
        as the setting, so the model would not be what the text seems to say. Keep one.""",
       example="""
        object Hidden : Real 4
        morphism step : Hidden -> Hidden [scale=0.1, scale=0.5] ~ Normal
        export step
        """,
       fix="""
        object Hidden : Real 4
        morphism step : Hidden -> Hidden [scale=0.5] ~ Normal
        export step
        """),
    _e("QVR031", "Unknown distribution family", "error", """
        The name after `~` is neither a distribution family the runtime provides (`Normal`,
        `LogNormal`, `Categorical`, `Beta`, …) nor a declared morphism. Without a family
        there is no likelihood or sampler for the kernel. Check the spelling of the family.""",
       example="""
        object Hidden : Real 4
        morphism step : Hidden -> Hidden ~ Gaussian
        export step
        """,
       fix="""
        object Hidden : Real 4
        morphism step : Hidden -> Hidden ~ Normal
        export step
        """),
    _e("QVR032", "Family cannot produce the codomain's values", "error", """
        The values a family produces must lie in the declared codomain: a `Normal` gives any
        real number, so it cannot produce tokens of a `FinSet`, and it could leave a bounded
        box. If samples could fall outside the codomain, densities and downstream types would
        be wrong. Pick a family whose support fits (`Categorical` for finite sets, `Beta` or
        `LogitNormal` for the unit interval, `LogNormal` for positive values), or change the
        codomain.""",
       example="""
        object Hidden : Real 4
        object Token : FinSet 8
        morphism emit : Hidden -> Token ~ Normal
        export emit
        """,
       fix="""
        object Hidden : Real 4
        object Token : FinSet 8
        morphism emit : Hidden -> Token ~ Categorical
        export emit
        """),
    _e("QVR033", "`scale` does not apply to this family", "error", """
        The `scale` option fixes a family's scale parameter instead of learning it, so it
        only applies to families that have one (such as `Normal` or `Laplace`). A
        `Categorical`, for example, is parameterised by probabilities alone. Remove the
        option, or use a family with a scale.""",
       example="""
        object Hidden : Real 4
        object Token : FinSet 8
        morphism emit : Hidden -> Token [scale=0.5] ~ Categorical
        export emit
        """,
       fix="""
        object Hidden : Real 4
        object Token : FinSet 8
        morphism emit : Hidden -> Token ~ Categorical
        export emit
        """),
    _e("QVR034", "Fixed distribution with non-literal arguments or network options", "error", """
        `~ F(args)` declares a fixed distribution, a prior whose parameters are written in the
        file and never learned: its arguments must be number literals (or vectors of them),
        and options that shape a parameter network (`hidden_dim`, `n_layers`, …) have nothing
        to act on. To learn the parameters from the input, write the bare family `~ F`
        instead.""",
       example="""
        object Hidden : Real 4
        morphism prior : Hidden -> Hidden [hidden_dim=32] ~ Normal(loc=0.0, scale=1.0)
        export prior
        """,
       fix="""
        object Hidden : Real 4
        morphism prior : Hidden -> Hidden ~ Normal(loc=0.0, scale=1.0)
        export prior
        """),
    _e("QVR035", "Discretize needs a bounded one-dimensional space", "error", """
        A discretizer places evenly spaced bin centres on an interval and draws a bin for
        each value, favouring the nearest centre. That needs a single real coordinate with
        both a lower and an upper bound; an unbounded or multi-dimensional space cannot be
        covered by finitely many bins. Give
        the domain bounds, as in `Real 1 {low=0.0, high=1.0}`.""",
       example="""
        object Level : Real 1
        object Bin : FinSet 4
        morphism bucket : Level -> Bin [role=discretize]
        export bucket
        """,
       fix="""
        object Level : Real 1 {low=0.0, high=1.0}
        object Bin : FinSet 4
        morphism bucket : Level -> Bin [role=discretize]
        export bucket
        """),
    _e("QVR036", "Initializer has the wrong type", "error", """
        An observed morphism is defined by the expression after `~`, and that expression's
        type must match the declared signature (up to compatible shapes). Otherwise the
        declaration promises one type and delivers another, and every use would be checked
        against the wrong one. Fix the signature or the expression.""",
       example="""
        object Hidden : Real 4
        object Out : Real 2
        morphism step : Hidden -> Hidden ~ Normal
        morphism path : Hidden -> Out [role=observed] ~ step >> step
        export path
        """,
       fix="""
        object Hidden : Real 4
        morphism step : Hidden -> Hidden ~ Normal
        morphism path : Hidden -> Hidden [role=observed] ~ step >> step
        export path
        """),
    _e("QVR037", "Unknown quantale", "error", """
        A `quantale` statement chooses how the finite relations declared after it combine
        (the algebra of their truth values). Only a fixed set of quantales exists; the message
        lists them. Names are matched without regard to case, so this is a real misspelling.""",
       example="""
        quantale tropicl
        object State : FinSet 3
        morphism link : State -> State [role=latent]
        export link
        """,
       fix="""
        quantale tropical
        object State : FinSet 3
        morphism link : State -> State [role=latent]
        export link
        """),
    _e("QVR038", "Count must be at least 1", "error", """
        A replication count (`[replicate=k]`, `f[k]`) and the count of `stack(f, n)` or
        `repeat(f, n)` must be positive integers. Zero copies or zero applications of a
        morphism would leave nothing to run (and nothing to learn). Write the number you
        want; `stack(f, 1)` is a single copy with its own parameters.""",
       example="""
        object Hidden : Real 4
        morphism step : Hidden -> Hidden ~ Normal
        define model = stack(step, 0)
        export model
        """,
       fix="""
        object Hidden : Real 4
        morphism step : Hidden -> Hidden ~ Normal
        define model = stack(step, 2)
        export model
        """),
    _e("QVR039", "Deterministic morphism with a finite codomain", "error", """
        A deterministic map is computed by a learned network; a network outputs real
        numbers, so the codomain must be continuous. Choosing one element of a finite set is
        a random choice in QVR: declare the morphism as a `~ Categorical` kernel to get a
        distribution over the elements. (Without `~` and without a role, a morphism into a
        finite object is read as that kernel: see QVR135.)""",
       example="""
        object Hidden : Real 4
        object Token : FinSet 8
        morphism emit : Hidden -> Token [role=deterministic]
        export emit
        """,
       fix="""
        object Hidden : Real 4
        object Token : FinSet 8
        morphism emit : Hidden -> Token ~ Categorical
        export emit
        """),
    # ---------------------------------------------------------------------- expressions ----
    _e("QVR040", "Cannot compose: types do not match", "error", """
        In `f >> g` the output of `f` is fed to `g`, so the codomain of `f` must match the
        domain of `g` (shapes are compared, names are not: `Real 4` fits any 4-dimensional
        space). The message gives both types. Insert a morphism that converts one into the
        other, or fix a signature.""",
       example="""
        object Token : FinSet 8
        object Hidden : Real 4
        object Out : Real 2
        morphism embed_tok : Token -> Hidden [role=embed]
        morphism read : Out -> Out ~ Normal
        define model = embed_tok >> read
        export model
        """,
       fix="""
        object Token : FinSet 8
        object Hidden : Real 4
        object Out : Real 2
        morphism embed_tok : Token -> Hidden [role=embed]
        morphism read : Hidden -> Out ~ Normal
        define model = embed_tok >> read
        export model
        """),
    _e("QVR041", "Sequence that cannot be lifted", "error", """
        A morphism on single elements is lifted automatically when it meets a sequence: it is
        applied at every position with shared parameters. A morphism that already consumes a
        whole sequence (a `scan`, for example) cannot be lifted again, because sequences of
        sequences are not supported. Summarise the sequence once, or keep all positions with
        `states=all` before the next step.""",
       example="""
        object Token : FinSet 8
        object Hidden : Real 4
        morphism embed_tok : Token -> Hidden [role=embed]
        morphism cell : Hidden * Hidden -> Hidden ~ Normal
        define summary = embed_tok >> scan(cell)
        define model = summary >> summary
        export model
        """,
       fix="""
        object Token : FinSet 8
        object Hidden : Real 4
        morphism embed_tok : Token -> Hidden [role=embed]
        morphism cell : Hidden * Hidden -> Hidden ~ Normal
        define summary = embed_tok >> scan(cell)
        export summary
        """),
    _e("QVR042", "Not a valid scan cell", "error", """
        `scan(cell)` runs a recurrence: at each position the cell receives the current input
        and the previous state and returns the next state. So the cell's domain must end with
        a part matching its (continuous) codomain, the state, and have at least one input
        part before it. A cell of type `State -> State` has no input, and a cell whose state
        part does not match its output cannot be iterated.""",
       example="""
        object Token : FinSet 8
        object Hidden : Real 4
        morphism embed_tok : Token -> Hidden [role=embed]
        morphism cell : Hidden -> Hidden ~ Normal
        define model = embed_tok >> scan(cell)
        export model
        """,
       fix="""
        object Token : FinSet 8
        object Hidden : Real 4
        morphism embed_tok : Token -> Hidden [role=embed]
        morphism cell : Hidden * Hidden -> Hidden ~ Normal
        define model = embed_tok >> scan(cell)
        export model
        """),
    _e("QVR043", "Invalid scan option", "error", """
        `scan` takes three options: `init=zeros|learned` (the initial state),
        `states=last|all` (return the final state or one state per position) and
        `direction=forward|backward`. Any other key or value is rejected rather than
        silently replaced by a default.""",
       example="""
        object Token : FinSet 8
        object Hidden : Real 4
        morphism embed_tok : Token -> Hidden [role=embed]
        morphism cell : Hidden * Hidden -> Hidden ~ Normal
        define model = embed_tok >> scan(cell, states=every)
        export model
        """,
       fix="""
        object Token : FinSet 8
        object Hidden : Real 4
        morphism embed_tok : Token -> Hidden [role=embed]
        morphism cell : Hidden * Hidden -> Hidden ~ Normal
        define model = embed_tok >> scan(cell, states=all)
        export model
        """),
    _e("QVR044", "`fan` components take different inputs", "error", """
        `fan(e1, e2, …)` feeds one input to every component and pairs up their outputs, so
        all components must accept the same domain. The message names the first component
        that differs. To give each component its own input, use `e1 @ e2` instead.""",
       example="""
        object Hidden : Real 4
        object Other : Real 2
        morphism left : Hidden -> Hidden ~ Normal
        morphism right : Other -> Hidden ~ Normal
        define model = fan(left, right)
        export model
        """,
       fix="""
        object Hidden : Real 4
        morphism left : Hidden -> Hidden ~ Normal
        morphism right : Hidden -> Hidden ~ Normal
        define model = fan(left, right)
        export model
        """),
    _e("QVR045", "Mixing sequence and per-element operands", "error", """
        The operands of `@` and the components of `fan(...)` must either all work on
        sequences or all work on single elements. Mixing the two leaves no sensible shape for
        the result: one side has a time axis and the other does not. Lift the per-element
        part inside the sequence pipeline (for example with `states=all` and `>>`), or
        summarise the sequence first.""",
       example="""
        object Token : FinSet 8
        object Hidden : Real 4
        morphism cell : Hidden * Hidden -> Hidden ~ Normal
        morphism embed_tok : Token -> Hidden [role=embed]
        define model = scan(cell, states=all) @ embed_tok
        export model
        """,
       fix="""
        object Token : FinSet 8
        object Hidden : Real 4
        morphism cell : Hidden * Hidden -> Hidden ~ Normal
        morphism embed_tok : Token -> Hidden [role=embed]
        define model = embed_tok >> scan(cell, states=all)
        export model
        """),
    _e("QVR046", "`@` on two sequences", "warning", """
        `f @ g` with two sequence operands runs each side on its own input sequence, so the
        model expects a pair of sequences. When you want both sides to read the same
        sequence, such as the forward and backward halves of a bidirectional network, that
        is `fan(f, g)`. The warning stays if two separate sequences are what you mean.""",
       example="""
        object Hidden : Real 4
        morphism cell : Hidden * Hidden -> Hidden ~ Normal
        define forward = scan(cell, states=all)
        define model = forward @ forward
        export model
        """,
       fix="""
        object Hidden : Real 4
        morphism cell : Hidden * Hidden -> Hidden ~ Normal
        define forward = scan(cell, states=all)
        define model = fan(forward, forward)
        export model
        """),
    _e("QVR047", "`repeat`/`stack` needs an endomorphism", "error", """
        `repeat(f, n)` applies `f` n times and `stack(f, n)` chains n copies of `f` with their
        own parameters; either way the output of one application is the input of the next,
        so `f` must map a type to itself (up to shape). Repeat only a morphism whose domain
        and codomain match.""",
       example="""
        object Hidden : Real 4
        object Out : Real 2
        morphism step : Hidden -> Out ~ Normal
        define model = repeat(step, 3)
        export model
        """,
       fix="""
        object Hidden : Real 4
        morphism step : Hidden -> Hidden ~ Normal
        define model = repeat(step, 3)
        export model
        """),
    _e("QVR048", "Invalid marginalization", "error", """
        `e.marginalize(A, …)` sums the named factors out of the finite product that `e`
        produces, leaving a distribution over the remaining factors. The expression must be a
        finite-world morphism, each named object must be a factor of its codomain, and at
        least one factor must remain, otherwise there is no distribution left.""",
       example="""
        object A : FinSet 2
        object B : FinSet 3
        morphism joint : A -> A * B ~ Categorical
        define model = joint.marginalize(A, B)
        export model
        """,
       fix="""
        object A : FinSet 2
        object B : FinSet 3
        morphism joint : A -> A * B ~ Categorical
        define model = joint.marginalize(B)
        export model
        """),
    _e("QVR049", "Quantale mismatch", "error", """
        Finite relations compose with the algebra of their quantale: kernels always use
        `markov` (probabilities: sum over the middle, multiply along), while `latent`
        relations use the quantale active where they are declared. Composing relations from
        two different quantales would mix two meanings of "combine". Declare both parts under
        the same quantale.""",
       example="""
        quantale boolean
        object State : FinSet 3
        morphism link : State -> State [role=latent]
        morphism move : State -> State ~ Categorical
        define model = link >> move
        export model
        """,
       fix="""
        quantale markov
        object State : FinSet 3
        morphism link : State -> State [role=latent]
        morphism move : State -> State ~ Categorical
        define model = link >> move
        export model
        """),
    _e("QVR050", "Fuzzy relation cannot be sampled", "error", """
        A `latent` relation in a non-probabilistic quantale (fuzzy, boolean, tropical, …)
        assigns degrees, not probabilities, so there is no distribution to draw from. It can
        be composed with other finite relations, but not sampled in a program, used in `scan`
        or `fan`, or mixed with continuous parts. Declare it under `quantale markov`, or use a
        `~ Categorical` kernel, when you need samples.""",
       example="""
        object State : FinSet 3
        morphism link : State -> State [role=latent]
        program walk(s) : State -> State
            sample t <- link(s)
            return t
        export walk
        """,
       fix="""
        object State : FinSet 3
        morphism link : State -> State ~ Categorical
        program walk(s) : State -> State
            sample t <- link(s)
            return t
        export walk
        """),
    _e("QVR052", "Invalid grammar rule", "error", """
        A `rule` declares an inference schema for a grammar parser: one or two premise
        categories and a conclusion. A rule with more than two premises cannot be used by the
        chart parser, and a rule named like a built-in schema (`evaluation`,
        `harmonic_composition`, …) would hide it. Split the rule or rename it.""",
       example="""
        object Word : FinSet 16
        category S, N
        rule apply(X, Y) : X / Y, Y, Y |- X
        define grammar = ccg(rules=[apply], categories=[S, N], terminal=Word)
        export grammar
        """,
       fix="""
        object Word : FinSet 16
        category S, N
        rule apply(X, Y) : X / Y, Y |- X
        define grammar = ccg(rules=[apply], categories=[S, N], terminal=Word)
        export grammar
        """),
    _e("QVR053", "Invalid parser arguments", "error", """
        `parser(...)`, `ccg(...)` and `lambek(...)` take `rules`, `categories`, `terminal`,
        `start`, `depth` and `constructors`, and these must fit together: rules are either all
        schema rules or all finite kernels, schema rules need categories and a finite
        terminal object, and so on. The message says which requirement is not met.""",
       example="""
        object Word : FinSet 16
        category S, N
        define grammar = ccg(categories=[S, N], terminal=Word, width=3)
        export grammar
        """,
       fix="""
        object Word : FinSet 16
        category S, N
        define grammar = ccg(categories=[S, N], terminal=Word, depth=3)
        export grammar
        """),
    _e("QVR054", "Exported twice", "error", """
        A file may export several models; the first `export` is the primary one, which
        `qvr.load` and `qvr run` build by default. Exporting the same name a second time
        adds nothing and usually means a different model was meant. Remove the repeated
        `export` or name the other model.""",
       example="""
        object Hidden : Real 4
        morphism step : Hidden -> Hidden ~ Normal
        morphism jump : Hidden -> Hidden ~ Laplace
        export step
        export jump
        export step
        """,
       fix="""
        object Hidden : Real 4
        morphism step : Hidden -> Hidden ~ Normal
        morphism jump : Hidden -> Hidden ~ Laplace
        export step
        export jump
        """),
    _e("QVR055", "No `export`", "information", """
        The file checks, but it does not say which model it defines, so `qvr.load` and
        `qvr run` have nothing to build. That is fine for a file that is only a collection of
        declarations being written; add `export NAME` when the model is ready to run. (In the
        example, the declaration is also reported as unused, since nothing refers to it.)""",
       example="""
        object Hidden : Real 4
        morphism step : Hidden -> Hidden ~ Normal
        """,
       fix="""
        object Hidden : Real 4
        morphism step : Hidden -> Hidden ~ Normal
        export step
        """),
    # ------------------------------------------------------------------------- programs ----
    _e("QVR060", "Parameters do not match the domain", "error", """
        A program's parameters name its input: one parameter binds the whole input, several
        bind the written factors of the domain (or each of its leaves) one by one. Any other
        count leaves parameters without a value or input parts without a name. Match the
        parameter list to the domain's factors.""",
       example="""
        object X : Real 1
        object Y : Real 1
        program add(a, b, c) : X * Y -> X
            let s = a + b + c
            return s
        export add
        """,
       fix="""
        object X : Real 1
        object Y : Real 1
        program add(a, b) : X * Y -> X
            let s = a + b
            return s
        export add
        """),
    _e("QVR061", "Arguments do not match the target's domain", "error", """
        The arguments of a named target, put together, must have the shape of the target's
        domain. Feeding a morphism values of the wrong size would not even have a tensor
        shape at run time. The message shows what the target expects and what the arguments
        give.""",
       example="""
        object X : Real 2
        object Y : Real 3
        morphism step : X -> X ~ Normal
        program p(b) : Y -> X
            sample z <- step(b)
            return z
        export p
        """,
       fix="""
        object X : Real 2
        object Y : Real 3
        morphism step : Y -> X ~ Normal
        program p(b) : Y -> X
            sample z <- step(b)
            return z
        export p
        """),
    _e("QVR062", "Keyword argument to a named target", "error", """
        Keyword arguments (`scale=0.5`) bind the parameters of an inline distribution family.
        A declared morphism or program takes its inputs positionally, in the order of its
        domain; its parameters are learned or set in its declaration, not at the call. A
        builtin function (`exp`, `sum`, `max`, …) takes its arguments positionally too. Pass
        the input positionally, and put a fixed scale in the morphism's options.""",
       example="""
        object X : Real 2
        morphism step : X -> X ~ Normal
        program p(a) : X -> X
            sample z <- step(a, scale=0.5)
            return z
        export p
        """,
       fix="""
        object X : Real 2
        morphism step : X -> X [scale=0.5] ~ Normal
        program p(a) : X -> X
            sample z <- step(a)
            return z
        export p
        """),
    _e("QVR063", "Family arguments do not fit its parameters", "error", """
        Each family has a fixed list of parameters (`Normal` has `loc` and `scale`). Every
        parameter must be given exactly once, by position in that order or by name, and
        positional arguments cannot follow keyword ones. An unknown, missing or repeated
        parameter means the distribution is not fully specified.""",
       example="""
        object X : Real 1
        program p(a) : X -> X
            sample z <- Normal(loc=a, sigma=0.5)
            return z
        export p
        """,
       fix="""
        object X : Real 1
        program p(a) : X -> X
            sample z <- Normal(loc=a, scale=0.5)
            return z
        export p
        """),
    _e("QVR064", "Argument widths cannot be broadcast", "error", """
        The arguments of an inline distribution (or of a fixed one) are broadcast to a common
        width: a scalar fits anything, otherwise widths must be equal. A 2-dimensional mean
        with a 3-dimensional scale has no common shape, so the size of the draw is
        undefined.""",
       example="""
        object X : Real 2
        program p(a) : X -> X
            sample z <- Normal(loc=a, scale=[0.5, 0.5, 0.5])
            return z
        export p
        """,
       fix="""
        object X : Real 2
        program p(a) : X -> X
            sample z <- Normal(loc=a, scale=[0.5, 0.5])
            return z
        export p
        """),
    _e("QVR065", "Family cannot be used inline here", "error", """
        A family used directly as a step's target needs its parameters in parentheses, since
        there is no learned network to supply them; and some families can only be used as a
        kernel's `~` family, not inline. Write the arguments, or declare a kernel morphism
        with that family and draw from it.""",
       example="""
        object X : Real 2
        program p(a) : X -> X
            sample z <- Normal
            let y = z + a
            return y
        export p
        """,
       fix="""
        object X : Real 2
        program p(a) : X -> X
            sample z <- Normal(loc=0.0, scale=1.0)
            let y = z + a
            return y
        export p
        """),
    _e("QVR066", "`return` type differs from the declared codomain", "error", """
        The value a program returns must have the shape of the codomain in its header (or be
        a sequence of it). Code that uses the program relies on the header's type, so a
        mismatch would surface as a shape error far from its cause. Return a value of the
        declared type, or correct the header.""",
       example="""
        object X : Real 2
        object Y : Real 3
        program p(a) : X -> Y
            sample z <- Normal(loc=a, scale=1.0)
            return z
        export p
        """,
       fix="""
        object X : Real 2
        program p(a) : X -> X
            sample z <- Normal(loc=a, scale=1.0)
            return z
        export p
        """),
    _e("QVR067", "Scalar returned for a one-element finite codomain", "warning", """
        Older QVR programs used a one-element finite set as a placeholder for "a number". The
        program returns a continuous scalar while declaring such a set; this is accepted and
        the returned type is used, but the header does not say what the program produces.
        Declare the codomain as `Real 1`.""",
       example="""
        object X : Real 2
        object Score : FinSet 1
        program score : X -> Score
            sample s <- Normal(loc=0.0, scale=1.0)
            return s
        export score
        """,
       fix="""
        object X : Real 2
        object Score : Real 1
        program score : X -> Score
            sample s <- Normal(loc=0.0, scale=1.0)
            return s
        export score
        """),
    _e("QVR068", "Cannot destructure the value", "error", """
        A tuple pattern `(a, b)` splits a value along the top-level factors of its type, so
        the number of variables must equal the number of factors. A single `Real 2` is one
        factor, not two, even though it has two coordinates. Bind it to one variable, or draw
        from a morphism whose codomain is a product.""",
       example="""
        object X : Real 2
        program p(a) : X -> X
            sample (u, v) <- Normal(loc=a, scale=1.0)
            return (u, v)
        export p
        """,
       fix="""
        object X : Real 2
        program p(a) : X -> X
            sample u <- Normal(loc=a, scale=1.0)
            return u
        export p
        """),
    _e("QVR069", "Arithmetic on incompatible widths", "error", """
        `+`, `-`, `*` and `/` (in a `let` or an argument) work coordinate by coordinate, so both operands must
        have the same width, or one of them width 1 (it is then broadcast). Values of widths
        2 and 3 cannot be paired up.""",
       example="""
        object X : Real 2
        object Y : Real 3
        program p(a, b) : X * Y -> X
            let s = a + b
            return s
        export p
        """,
       fix="""
        object X : Real 2
        object Y : Real 3
        program p(a, _b) : X * Y -> X
            let s = a + a
            return s
        export p
        """),
    _e("QVR070", "Invalid call in `let`", "error", """
        A `let` computes a value deterministically. Its calls may be builtins (which take one
        argument) or deterministic morphisms. Calling a stochastic morphism there would hide a
        random choice from the model: it would not be a named site, so it could not be
        observed or inferred. Bind random values with `sample`, and give builtins one
        argument.""",
       example="""
        object X : Real 2
        morphism step : X -> X ~ Normal
        program p(a) : X -> X
            let z = step(a)
            return z
        export p
        """,
       fix="""
        object X : Real 2
        morphism step : X -> X ~ Normal
        program p(a) : X -> X
            sample z <- step(a)
            return z
        export p
        """),
    _e("QVR071", "Observed target has no density", "error", """
        `observe` conditions the model on data, which adds the log-density of the data under
        the target to the joint. A deterministic map has no density, so there is nothing to
        score. Observe a distribution family, a kernel, a discretizer, or a composite whose
        last part is one of these.""",
       example="""
        object X : Real 2
        morphism centre : X -> X
        program p(a) : X -> X
            observe y <- centre(a)
            return y
        export p
        """,
       fix="""
        object X : Real 2
        morphism centre : X -> X
        program p(a) : X -> X
            let m = centre(a)
            observe y <- Normal(loc=m, scale=1.0)
            return y
        export p
        """),
    _e("QVR072", "`observe` binds more than one variable", "error", """
        An observed step names one value, the one supplied as data when the model is
        conditioned. A tuple pattern would split it into several sites, each of which would
        need its own data. Observe the whole value under one name, or observe the parts in
        separate steps.""",
       example="""
        object X : Real 2
        morphism pair : X -> X * X ~ Normal
        program p(a) : X -> X * X
            observe (y, z) <- pair(a)
            return (y, z)
        export p
        """,
       fix="""
        object X : Real 2
        morphism pair : X -> X * X ~ Normal
        program p(a) : X -> X * X
            observe yz <- pair(a)
            return yz
        export p
        """),
    _e("QVR073", "Annotation does not match the value", "error", """
        A step may state the type of the value it binds (`sample t : Token <- …`); the
        checker then confirms it against what the target produces. Here the two differ, so
        the annotation documents a type the value does not have. Correct the annotation or
        the target.""",
       example="""
        object X : Real 2
        object Token : FinSet 3
        morphism emit : X -> Token ~ Categorical
        program p(a) : X -> Token
            sample t : X <- emit(a)
            return t
        export p
        """,
       fix="""
        object X : Real 2
        object Token : FinSet 3
        morphism emit : X -> Token ~ Categorical
        program p(a) : X -> Token
            sample t : Token <- emit(a)
            return t
        export p
        """),
    _e("QVR074", "Repeated `return` label", "error", """
        Labels in a tuple return (`return (mean: m, noisy: d)`) name the parts of the
        program's result. Two parts with the same label could not be told apart, so each
        label may appear only once. A label also names the returned variable's site (values
        are given, and traces read, by site name), so it cannot be the name of another
        variable of the program or of one of its data inputs either.""",
       example="""
        object X : Real 2
        program p(a) : X -> X * X
            sample z <- Normal(loc=a, scale=1.0)
            return (out: a, out: z)
        export p
        """,
       fix="""
        object X : Real 2
        program p(a) : X -> X * X
            sample z <- Normal(loc=a, scale=1.0)
            return (input: a, noisy: z)
        export p
        """),
    _e("QVR075", "Arithmetic on the index of a finite value", "warning", """
        A value of a finite set takes part in arithmetic as its index (0, 1, 2, …). For a
        two-element set that is a natural 0/1 indicator, but for larger sets the order of the
        elements is usually arbitrary, so sums and products of indices rarely mean what is
        intended. Embed the value (`role=embed`) to get a learned vector instead.""",
       example="""
        object Token : FinSet 8
        object Score : Real 1
        program p(t) : Token -> Score
            let s = t * 0.5
            return s
        export p
        """,
       fix="""
        object Token : FinSet 8
        object Score : Real 1
        morphism embed_tok : Token -> Score [role=embed]
        program p(t) : Token -> Score
            let s = embed_tok(t) * 0.5
            return s
        export p
        """),
    # --------------------------------------------------------------------- unused names ----
    _e("QVR080", "Declared but never used", "hint", """
        Nothing in the file refers to this declaration, and it is not exported, so it takes
        no part in the model: its parameters are never trained and its samples never drawn.
        It is often left over from an edit, or meant to be wired in. Use it, remove it, or
        start its name with `_` to keep it on purpose.""",
       example="""
        object X : Real 2
        morphism unused_step : X -> X ~ Normal
        program p(a) : X -> X
            sample z <- Normal(loc=a, scale=1.0)
            return z
        export p
        """,
       fix="""
        object X : Real 2
        morphism step : X -> X ~ Normal
        program p(a) : X -> X
            sample z <- step(a)
            return z
        export p
        """),
    _e("QVR081", "`let` variable never used", "warning", """
        The program computes a value with `let` and then never uses it. Since a `let` is
        deterministic, the computation has no effect on the model at all, which often means
        the wrong variable is used further down.""",
       example="""
        object X : Real 2
        program p(a) : X -> X
            let doubled = a * 2.0
            return a
        export p
        """,
       fix="""
        object X : Real 2
        program p(a) : X -> X
            let doubled = a * 2.0
            return doubled
        export p
        """),
    _e("QVR082", "Sampled variable never used", "hint", """
        The variable is drawn but nothing reads it. Unlike an unused `let`, the draw still
        matters: it is a random site of the model, it contributes to the joint density and
        inference still has to account for it. If that is intended, name it with a leading
        `_`; otherwise use it or drop the step.""",
       example="""
        object X : Real 2
        program p(a) : X -> X
            sample noise <- Normal(loc=a, scale=1.0)
            return a
        export p
        """,
       fix="""
        object X : Real 2
        program p(a) : X -> X
            sample noise <- Normal(loc=a, scale=1.0)
            return noise
        export p
        """),
    _e("QVR083", "Parameter never used", "hint", """
        The program receives this part of its input but never reads it, so the output does
        not depend on it. Keep the parameter if the input shape requires it and start its
        name with `_` to say so; otherwise use it.""",
       example="""
        object X : Real 2
        program p(a, b) : X * X -> X
            return a
        export p
        """,
       fix="""
        object X : Real 2
        program p(a, _b) : X * X -> X
            return a
        export p
        """),
    # ------------------------------------------------------------------- deprecated syntax ----
    _deprecated("QVR090", "Bare number as a finite set", "object X : n", "object X : FinSet n", """
        Early QVR let a bare number stand for a finite set of that size. It still means the
        same, but `FinSet n` says so explicitly and reads the same as the other
        constructors. The quick fix rewrites it.""",
                example="""
        object Token : 8
        object Hidden : Real 4
        morphism embed_tok : Token -> Hidden [role=embed]
        export embed_tok
        """,
                fix="""
        object Token : FinSet 8
        object Hidden : Real 4
        morphism embed_tok : Token -> Hidden [role=embed]
        export embed_tok
        """),
    _deprecated("QVR091", "`type` or `space` declaration", "type X = S / space X : S",
                "object X : S", """
        `type` and `space` were separate keywords for what is now a single kind of
        declaration: every finite set and every space is an `object`. The meaning is
        unchanged.""",
                example="""
        object Token : FinSet 8
        type Hidden = Real 4
        morphism embed_tok : Token -> Hidden [role=embed]
        export embed_tok
        """,
                fix="""
        object Token : FinSet 8
        object Hidden : Real 4
        morphism embed_tok : Token -> Hidden [role=embed]
        export embed_tok
        """),
    _deprecated("QVR092", "Old type constructor", "Euclidean n, PositiveReals n, UnitInterval, "
                "FinSet(n), Real(n)", "Real n, Real n {low=0.0}, Real 1 {low=0.0, high=1.0}, "
                "FinSet n, Real n", """
        `Euclidean`, `PositiveReals` and `UnitInterval` are older names for real spaces, now
        all written with `Real` and optional bounds, and the call forms `FinSet(n)` and
        `Real(n)` are now written without parentheses. The quick fix gives the equivalent
        current spelling.""",
                example="""
        object Token : FinSet 8
        object Hidden : Euclidean 4
        morphism embed_tok : Token -> Hidden [role=embed]
        export embed_tok
        """,
                fix="""
        object Token : FinSet 8
        object Hidden : Real 4
        morphism embed_tok : Token -> Hidden [role=embed]
        export embed_tok
        """),
    _deprecated("QVR093", "`embed` declaration", "embed e[k] : A -> B",
                "morphism e : A -> B [role=embed, replicate=k]", """
        Embeddings are now ordinary `morphism` declarations with `role=embed`; a replication
        count moves into the options as `replicate=k`.""",
                example="""
        object Token : FinSet 8
        object Hidden : Real 4
        embed embed_tok : Token -> Hidden
        export embed_tok
        """,
                fix="""
        object Token : FinSet 8
        object Hidden : Real 4
        morphism embed_tok : Token -> Hidden [role=embed]
        export embed_tok
        """),
    _deprecated("QVR094", "`continuous` declaration", "continuous f[k] : A -> B ~ F [o]",
                "morphism f : A -> B [o, replicate=k] ~ F", """
        A `continuous` declaration was a kernel with a continuous family. A `morphism` with
        `~ F` is the same kernel; its options move before the `~`.""",
                example="""
        object Hidden : Real 4
        continuous step : Hidden -> Hidden ~ Normal [scale=0.1]
        export step
        """,
                fix="""
        object Hidden : Real 4
        morphism step : Hidden -> Hidden [scale=0.1] ~ Normal
        export step
        """),
    _deprecated("QVR095", "`stochastic` declaration", "stochastic f[k] : A -> B",
                "morphism f : A -> B [replicate=k] ~ Categorical", """
        A `stochastic` declaration was a kernel into a finite set. It is now a `morphism`
        with the `Categorical` family written out.""",
                example="""
        object Hidden : Real 4
        object Token : FinSet 8
        stochastic emit : Hidden -> Token
        export emit
        """,
                fix="""
        object Hidden : Real 4
        object Token : FinSet 8
        morphism emit : Hidden -> Token ~ Categorical
        export emit
        """),
    _deprecated("QVR096", "`latent` declaration", "latent f : A -> B [o]",
                "morphism f : A -> B [role=latent, o]", """
        Latent relations between finite sets are now `morphism` declarations with
        `role=latent`.""",
                example="""
        object State : FinSet 3
        latent link : State -> State
        export link
        """,
                fix="""
        object State : FinSet 3
        morphism link : State -> State [role=latent]
        export link
        """),
    _deprecated("QVR097", "`observed` declaration", "observed g : A -> B = e",
                "morphism g : A -> B [role=observed] ~ e", """
        A morphism defined by an expression is now a `morphism` with `role=observed`, and the
        expression follows `~` instead of `=`.""",
                example="""
        object State : FinSet 3
        morphism move : State -> State ~ Categorical
        observed two_moves : State -> State = move >> move
        export two_moves
        """,
                fix="""
        object State : FinSet 3
        morphism move : State -> State ~ Categorical
        morphism two_moves : State -> State [role=observed] ~ move >> move
        export two_moves
        """),
    _deprecated("QVR098", "`discretize` declaration", "discretize d : S -> n [o]",
                "morphism d : S -> FinSet n [role=discretize, o]", """
        Discretizers are now `morphism` declarations with `role=discretize`, and the number of
        bins is written as the finite set `FinSet n`.""",
                example="""
        object Level : Real 1 {low=0.0, high=1.0}
        discretize bucket : Level -> 4
        export bucket
        """,
                fix="""
        object Level : Real 1 {low=0.0, high=1.0}
        morphism bucket : Level -> FinSet 4 [role=discretize]
        export bucket
        """),
    _deprecated("QVR099", "Top-level `let`", "let x = e", "define x = e", """
        Top-level named expressions are written with `define`; `let` is kept for the
        deterministic steps inside programs, so the two uses are no longer confused.""",
                example="""
        object Hidden : Real 4
        morphism step : Hidden -> Hidden ~ Normal
        let model = step >> step
        export model
        """,
                fix="""
        object Hidden : Real 4
        morphism step : Hidden -> Hidden ~ Normal
        define model = step >> step
        export model
        """),
    _deprecated("QVR100", "`output` statement", "output e", "export e", """
        The statement that names the file's model is now spelt `export`.""",
                example="""
        object Hidden : Real 4
        morphism step : Hidden -> Hidden ~ Normal
        output step
        """,
                fix="""
        object Hidden : Real 4
        morphism step : Hidden -> Hidden ~ Normal
        export step
        """),
    _deprecated("QVR101", "`draw` step", "draw p ~ m(a)", "sample p <- m(a)", """
        Random draws in programs are written `sample p <- m(a)`, which reads the same as
        the other binding steps.""",
                example="""
        object X : Real 1
        program p(a) : X -> X
            draw z ~ Normal(loc=a, scale=1.0)
            return z
        export p
        """,
                fix="""
        object X : Real 1
        program p(a) : X -> X
            sample z <- Normal(loc=a, scale=1.0)
            return z
        export p
        """),
    _deprecated("QVR102", "Bind step without `sample`", "x <- m(a)", "sample x <- m(a)", """
        A bare `x <- m(a)` draws a random value; writing the `sample` keyword makes every
        random site visible at the start of its line.""",
                example="""
        object X : Real 1
        program p(a) : X -> X
            z <- Normal(loc=a, scale=1.0)
            return z
        export p
        """,
                fix="""
        object X : Real 1
        program p(a) : X -> X
            sample z <- Normal(loc=a, scale=1.0)
            return z
        export p
        """),
    _deprecated("QVR103", "`observe` with `~`", "observe y ~ m(a)", "observe y <- m(a)", """
        Observations use the same arrow as samples: `observe y <- m(a)`.""",
                example="""
        object X : Real 1
        morphism noise : X -> X ~ Normal
        program p(a) : X -> X
            observe y ~ noise(a)
            return y
        export p
        """,
                fix="""
        object X : Real 1
        morphism noise : X -> X ~ Normal
        program p(a) : X -> X
            observe y <- noise(a)
            return y
        export p
        """),
    _deprecated("QVR104", "Positional family arguments", "F(a, b)", "F(p1=a, p2=b)", """
        Family arguments given by position depend on remembering each family's parameter
        order. Naming them (`loc=`, `scale=`, …) makes the distribution readable; the quick
        fix inserts the parameter names.""",
                example="""
        object X : Real 1
        program p(a) : X -> X
            sample z <- Normal(a, 1.0)
            return z
        export p
        """,
                fix="""
        object X : Real 1
        program p(a) : X -> X
            sample z <- Normal(loc=a, scale=1.0)
            return z
        export p
        """),
    _deprecated("QVR105", "Bracket variable pattern", "[a, b]", "(a, b)", """
        Several variables bound by one step are written as a tuple in parentheses, the same
        way they are returned.""",
                example="""
        object X : Real 1
        morphism pair : X -> X * X ~ Normal
        program p(a) : X -> X * X
            sample [u, v] <- pair(a)
            return (u, v)
        export p
        """,
                fix="""
        object X : Real 1
        morphism pair : X -> X * X ~ Normal
        program p(a) : X -> X * X
            sample (u, v) <- pair(a)
            return (u, v)
        export p
        """),
    _deprecated("QVR106", "Bracket options on a type constructor", "Real n [low=a]",
                "Real n {low=a}", """
        Bounds of a real space are written in braces, so that they cannot be mistaken for a
        declaration's option block in square brackets.""",
                example="""
        object Rate : Real 1 [low=0.0]
        morphism grow : Rate -> Rate ~ LogNormal
        export grow
        """,
                fix="""
        object Rate : Real 1 {low=0.0}
        morphism grow : Rate -> Rate ~ LogNormal
        export grow
        """),
    _deprecated("QVR107", "`>=>` composition", "f >=> g", "f >> g", """
        `>=>` is an older spelling of sequential composition; `>>` means exactly the
        same.""",
                example="""
        object Hidden : Real 4
        morphism step : Hidden -> Hidden ~ Normal
        define model = step >=> step
        export model
        """,
                fix="""
        object Hidden : Real 4
        morphism step : Hidden -> Hidden ~ Normal
        define model = step >> step
        export model
        """),
    _deprecated("QVR108", "`=>` in a rule", "rule … : P => C", "rule … : P |- C", """
        The arrow between a rule's premises and its conclusion is written `|-` (or `⊢`).""",
                example="""
        object Word : FinSet 16
        category S, N
        rule apply(X, Y) : X / Y, Y => X
        define grammar = ccg(rules=[apply], categories=[S, N], terminal=Word)
        export grammar
        """,
                fix="""
        object Word : FinSet 16
        category S, N
        rule apply(X, Y) : X / Y, Y |- X
        define grammar = ccg(rules=[apply], categories=[S, N], terminal=Word)
        export grammar
        """),
    _deprecated("QVR109", "Options after the family", "morphism … ~ F [o]",
                "morphism … [o] ~ F", """
        A declaration's options belong right after its signature, before the `~` part, so
        that every declaration has them in the same place.""",
                example="""
        object Hidden : Real 4
        morphism step : Hidden -> Hidden ~ Normal [scale=0.1]
        export step
        """,
                fix="""
        object Hidden : Real 4
        morphism step : Hidden -> Hidden [scale=0.1] ~ Normal
        export step
        """),
    _e("QVR110", "Not checked (tier 3)", "information", """
        The construct is parsed, outlined and highlighted, but not checked and not run: a
        block such as `deduction`, `schema`, `signature` or a QIEC `define f(x : T) …`, a
        free object (`FreeResiduated(…)`), or an expression form such as a lambda, `map(…)`
        or a postfix method other than `.dagger`. Whatever uses it has no static type, so the
        checker says nothing more about those uses, and running it stops with a
        `NotSupportedError`. Keep such code apart from the models you check and run.""",
       example="""
        object Token : FinSet 4
        deduction Chart : Token -> Token [semiring=LogProb]
            atoms Token
        morphism emit : Token -> Token ~ Categorical
        export emit
        """,
       fix="""
        object Token : FinSet 4
        morphism emit : Token -> Token ~ Categorical
        export emit
        """),
    _e("QVR111", "Data input of a program", "hint", """
        A name that a program uses but never binds is a data input: its value is supplied by
        name when the program is run, one value per data row. The hint states the type the
        checker gave it (from its first use) and its plate, `?x` while the number of rows is
        known only from the data. If the name was meant to be a random quantity, sample it
        first.""",
       example="""
        object N : FinSet 4
        object R : Real 1
        program p : N -> R
            sample b <- Normal(loc=0.0, scale=1.0)
            observe y : N <- Normal(loc=b * x, scale=1.0)
            return b
        export p
        """,
       fix="""
        object N : FinSet 4
        object R : Real 1
        program p : N -> R
            sample b <- Normal(loc=0.0, scale=1.0)
            sample x <- Normal(loc=0.0, scale=1.0)
            observe y : N <- Normal(loc=b * x, scale=1.0)
            return b
        export p
        """),
    _e("QVR112", "Data input that looks like a misspelt variable", "warning", """
        The name is not bound in the program, so it is read as a data input, but it differs
        from a variable of the program by one letter or only by underscores. It is most
        likely a typo for that variable: the program would otherwise expect a data array of
        that name at run time.""",
       example="""
        object N : FinSet 4
        object R : Real 1
        program p : N -> R
            sample beta_1 <- Normal(loc=0.0, scale=1.0)
            observe y : N <- Normal(loc=beta1 * 2.0, scale=1.0)
            return beta_1
        export p
        """,
       fix="""
        object N : FinSet 4
        object R : Real 1
        program p : N -> R
            sample beta_1 <- Normal(loc=0.0, scale=1.0)
            observe y : N <- Normal(loc=beta_1 * 2.0, scale=1.0)
            return beta_1
        export p
        """),
    _e("QVR113", "Program with data or plates where they cannot be supplied", "error", """
        Inside `>>`, `@`, `fan`, `scan`, `repeat`, `stack` or a `define`, a program is applied
        to one element at a time with shared parameters. A program that reads a data input
        or has a step over a plate is not such a per-element map: its data rows and plates
        belong to the whole program. Draw it in another program (`sample v <- p`), export it
        by name, or pass the data in as an argument. A program drawn from another hands its
        data inputs to that program, supplied by name with its observations: a drawing
        program with a variable of the same name would mean two things by it, so rename
        one of them. Likewise a scalar parameter that a program hands on by name to a
        program it draws cannot be bound by a call (the drawn program would not see it).""",
       example="""
        object N : FinSet 3
        object R : Real 1
        program p : N -> R
            sample u : N <- Normal(loc=0.0, scale=1.0)
            return u
        define model = p
        export model
        """,
       fix="""
        object N : FinSet 3
        object R : Real 1
        program p : N -> R
            sample u : N <- Normal(loc=0.0, scale=1.0)
            return u
        export p
        """),
    _e("QVR114", "Argument does not vary over the step's plates", "error", """
        A step annotated with a finite object (`observe y : N <- …`) or given `iid_over`
        draws one value per element of those plates. Each argument must vary over the same
        plates or fewer; one that varies over another plate has no single value for an
        element of the step. A data input varying over data rows must meet exactly one plate
        the argument does not already have, so that its rows are known. Annotate the step
        with the plate the arguments vary over, or index the argument. The same holds for the
        value of a template call that varies over a declared plate and over the rows of a
        data input the template reads: those rows cannot later become that same plate. A
        `marginalize` block without `over` or an annotation whose target varies over the rows
        of a data input not yet tied to a plate has no plate to group its body by: annotate
        it (`marginalize z : N <- …`).""",
       example="""
        object A : FinSet 2
        object B : FinSet 3
        object R : Real 1
        program p : A -> R
            sample s <- HalfNormal(scale=1.0)
            sample u : A <- Normal(loc=0.0, scale=1.0)
            observe y : B <- Normal(loc=u, scale=s)
            return s
        export p
        """,
       fix="""
        object A : FinSet 2
        object R : Real 1
        program p : A -> R
            sample s <- HalfNormal(scale=1.0)
            sample u : A <- Normal(loc=0.0, scale=1.0)
            observe y : A <- Normal(loc=u, scale=s)
            return s
        export p
        """),
    _e("QVR115", "Data input or batch used over two plates", "error", """
        A data input has one value per data row, and its rows become those of the first
        plate it meets. Used again with another plate, it would have to have both numbers of
        rows at once. This holds across calls too: a data input of a drawn program (or of
        a template instance) is the caller's, so two calls that read it over different
        plates are this error at the second call. Use a separate data input for the second
        plate. The program's input is one batch in the same way: a step that reads a plate
        as its row plate (QVR117) makes the batch that plate's elements, in this program
        and in every program that draws it, so a second, different row plate (even one of
        the same size) is this error too.""",
       example="""
        object A : FinSet 2
        object B : FinSet 3
        object R : Real 1
        program p : A -> R
            sample s <- HalfNormal(scale=1.0)
            observe y : A <- Normal(loc=x, scale=s)
            observe z : B <- Normal(loc=x, scale=s)
            return s
        export p
        """,
       fix="""
        object A : FinSet 2
        object B : FinSet 3
        object R : Real 1
        program p : A -> R
            sample s <- HalfNormal(scale=1.0)
            sample x <- Normal(loc=0.0, scale=1.0)
            observe y : A <- Normal(loc=x, scale=s)
            observe z : B <- Normal(loc=x, scale=s)
            return s
        export p
        """),
    _e("QVR116", "Invalid index", "error", """
        `v[i, …]` takes one index per plate of `v`, in order (and one more for a coordinate of
        a continuous value): an integer literal within the plate's size picks one element, a
        finite value of the plate's size gathers (its plates replace the plate), and the
        plate's own name keeps the plate. More indices than plates, a literal out of range,
        an index of another size or a value that is not finite cannot index `v`. Index data
        read by two calls (a template's `raw[which]` called over plates of two sizes) is one
        input, so it cannot index both.""",
       example="""
        object N : FinSet 3
        object R : Real 1
        program p : N -> R
            sample u : N <- Normal(loc=0.0, scale=1.0)
            let v = u[3]
            return v
        export p
        """,
       fix="""
        object N : FinSet 3
        object R : Real 1
        program p : N -> R
            sample u : N <- Normal(loc=0.0, scale=1.0)
            let v = u[2]
            return v
        export p
        """),
    _e("QVR117", "Annotation read as the row plate", "hint", """
        The annotation names a finite object that is not the type of the values, and the
        arguments depend on the program input without varying over any plate. The object is
        then the row plate: it counts the rows of the batch (one value per row), and at run
        time the batch must have exactly that many rows. If the annotation was meant to state
        the value type, write the value type.""",
       example="""
        object Tok : FinSet 10
        object Row : FinSet 4
        object H : Real 3
        morphism emb : Tok -> H [role=embed]
        morphism head : H -> Tok ~ Categorical
        program lm : Tok -> Tok
            sample h <- emb
            observe y : Row <- head(h)
            return y
        export lm
        """,
       fix="""
        object Tok : FinSet 10
        object H : Real 3
        morphism emb : Tok -> H [role=embed]
        morphism head : H -> Tok ~ Categorical
        program lm : Tok -> Tok
            sample h <- emb
            observe y : Tok <- head(h)
            return y
        export lm
        """),
    _e("QVR118", "Codomain is a plate of the program", "hint", """
        The declared codomain is a finite object that the program uses as a plate, and the
        returned value is not of that type. As in many benchmark models, the codomain names
        the plate rather than the values: the program returns the value it computes (the hint
        says which type). Declare the codomain as the returned value type to state it
        directly.""",
       example="""
        object N : FinSet 5
        program p : N -> N
            sample m <- Normal(loc=0.0, scale=1.0)
            observe y : N <- Normal(loc=m, scale=1.0)
            return m
        export p
        """,
       fix="""
        object N : FinSet 5
        object R : Real 1
        program p : N -> R
            sample m <- Normal(loc=0.0, scale=1.0)
            observe y : N <- Normal(loc=m, scale=1.0)
            return m
        export p
        """),
    _e("QVR119", "`marginalize` without a body", "error", """
        A `marginalize` block sums its variable out of the steps of its body: the steps right
        after it that are indented more than the word `marginalize`. With no such step there
        is nothing to sum over. Indent the observations that depend on the variable under
        the block.""",
       example="""
        object N : FinSet 5
        object R : Real 1
        program p : N -> R
            sample s <- HalfNormal(scale=1.0)
            marginalize z <- Categorical(probs=[0.5, 0.5])
            observe y : N <- Normal(loc=0.0, scale=s)
            return s
        export p
        """,
       fix="""
        object N : FinSet 5
        object R : Real 1
        program p : N -> R
            sample s <- HalfNormal(scale=1.0)
            marginalize z <- Categorical(probs=[0.5, 0.5])
                observe y : N <- Normal(loc=z * s, scale=s)
            return s
        export p
        """),
    _e("QVR120", "Draw inside `marginalize` depends on the summed variable", "error", """
        The body of a `marginalize` block is evaluated once per value of its variable, but a
        `sample` or call step in it is drawn only once, before the block. So only `let`,
        `observe` and `score` steps may depend on the variable. Move the draw out of the
        block and make the dependence deterministic, or observe it instead.""",
       example="""
        object N : FinSet 5
        object R : Real 1
        program p : N -> R
            sample s <- HalfNormal(scale=1.0)
            marginalize z <- Bernoulli(probs=0.5)
                sample u <- Normal(loc=z, scale=1.0)
                observe y : N <- Normal(loc=u, scale=s)
            return s
        export p
        """,
       fix="""
        object N : FinSet 5
        object R : Real 1
        program p : N -> R
            sample s <- HalfNormal(scale=1.0)
            sample u <- Normal(loc=0.0, scale=1.0)
            marginalize z <- Bernoulli(probs=0.5)
                observe y : N <- Normal(loc=u + z, scale=s)
            return s
        export p
        """),
    _e("QVR121", "`marginalize` over a family without finite support", "warning", """
        Only families with finitely many values can be summed out exactly: Categorical,
        Bernoulli, and ContinuousBernoulli and RelaxedBernoulli (at 0.0 and 1.0), or a kernel
        with a finite codomain. For any other family the variable is sampled like a `sample`
        step whose scope is the block. Use `sample` to say so, or an enumerable family.""",
       example="""
        object N : FinSet 5
        object R : Real 1
        program p : N -> R
            sample s <- HalfNormal(scale=1.0)
            marginalize u <- Normal(loc=0.0, scale=1.0)
                observe y : N <- Normal(loc=u, scale=s)
            return s
        export p
        """,
       fix="""
        object N : FinSet 5
        object R : Real 1
        program p : N -> R
            sample s <- HalfNormal(scale=1.0)
            sample u <- Normal(loc=0.0, scale=1.0)
            observe y : N <- Normal(loc=u, scale=s)
            return s
        export p
        """),
    _e("QVR122", "`reduction` on a family that is not summed out", "error", """
        `reduction=logsumexp|sum|mean` says how a `marginalize` block combines the values of
        its variable's atoms. A family without finite support has no atoms (its variable is
        sampled, QVR121), so the option means nothing there. Remove it or use an enumerable
        family.""",
       example="""
        object N : FinSet 5
        object R : Real 1
        program p : N -> R
            sample s <- HalfNormal(scale=1.0)
            marginalize u <- Normal(loc=0.0, scale=1.0) [reduction=sum]
                observe y : N <- Normal(loc=u, scale=s)
            return s
        export p
        """,
       fix="""
        object N : FinSet 5
        object R : Real 1
        program p : N -> R
            sample s <- HalfNormal(scale=1.0)
            marginalize u <- Bernoulli(probs=0.5) [reduction=sum]
                observe y : N <- Normal(loc=u * s, scale=s)
            return s
        export p
        """),
    _e("QVR123", "Observation not grouped by its `marginalize` block", "error", """
        A `marginalize` block over plates (`over=G`, or an annotation read as a plate) has one
        variable per group, and each observation and score of its body must say which group
        each of its elements belongs to: with `over`, by `[via=i]` (an index data name per
        grouping object) or by varying over the group plates themselves; without `over`, by
        varying over the block's plates. An annotation beside `over` states the value type.""",
       example="""
        object G : FinSet 3
        object K : FinSet 2
        object N : FinSet 6
        object R : Real 1
        program p : N -> R
            sample mu : K <- Normal(loc=0.0, scale=1.0)
            marginalize k : K <- Categorical(probs=[0.5, 0.5]) [over=G]
                observe y : N <- Normal(loc=mu[k], scale=1.0)
            return y
        export p
        """,
       fix="""
        object G : FinSet 3
        object K : FinSet 2
        object N : FinSet 6
        object R : Real 1
        program p : N -> R
            sample mu : K <- Normal(loc=0.0, scale=1.0)
            marginalize k : K <- Categorical(probs=[0.5, 0.5]) [over=G]
                observe y : G <- Normal(loc=mu[k], scale=1.0)
            return y
        export p
        """),
    _e("QVR124", "`score` value is not a real scalar", "error", """
        A `score` step adds its value to the program's log density, once per plate element,
        so the value must be one real number per element (`Real 1` or `Count 1`, over any
        plates). A vector, a finite index or a sequence has no single log-density value.
        Reduce a vector first (`sum`, `logsumexp`) or score each coordinate on its own.""",
       example="""
        object N : FinSet 2
        object R : Real 1
        program p : N -> R
            sample s <- Normal(loc=0.0, scale=1.0)
            score t = [s, s]
            return s
        export p
        """,
       fix="""
        object N : FinSet 2
        object R : Real 1
        program p : N -> R
            sample s <- Normal(loc=0.0, scale=1.0)
            score t = -0.5 * s * s
            return s
        export p
        """),
    _e("QVR125", "Unknown parameter kind or template misused", "error", """
        A typed program parameter `x : K` has one of the kinds FinSet, Space, Object (object
        parameters), Real, Nat (scalar parameters) or Mor[A, B] (a morphism parameter). A
        program with an object or morphism parameter is a template: it stands for a family
        of programs and is only usable as the target of a draw or call step that passes its
        arguments (`sample v <- p(School, 0.5)`); it cannot be drawn without arguments,
        exported, run or used in a morphism expression.""",
       example="""
        object N : FinSet 2
        object R : Real 1
        program t(K : Set) : N -> R
            sample s <- Normal(loc=0.0, scale=1.0)
            return s
        export t
        """,
       fix="""
        object N : FinSet 2
        object R : Real 1
        program t(scale : Real) : N -> R
            sample s <- Normal(loc=0.0, scale=scale)
            return s
        export t
        """),
    _e("QVR126", "Wrong arguments for a program with typed parameters", "error", """
        A call of a program with typed parameters passes either one argument per parameter
        or one per typed parameter (in order). An object parameter takes a declared object of
        its kind (FinSet: a finite object, Space: a continuous one), a scalar parameter a
        value of width 1 without plates, and a Mor[A, B] parameter a morphism, define or
        program of that type. The error names the argument that does not fit, or the
        counts when the number of arguments is wrong.""",
       example="""
        object N : FinSet 2
        object R : Real 1
        program tmpl(K : FinSet, sd : Real) : K -> R
            sample v : K <- Normal(loc=0.0, scale=sd)
            return v
        program main : N -> R
            sample a <- tmpl(2.0, 3.0)
            return a
        export main
        """,
       fix="""
        object N : FinSet 2
        object R : Real 1
        program tmpl(K : FinSet, sd : Real) : K -> R
            sample v : K <- Normal(loc=0.0, scale=sd)
            return v
        program main : N -> R
            sample a <- tmpl(N, 3.0)
            return a
        export main
        """),
    _e("QVR127", "Step performs an effect the program does not declare", "error", """
        `[effects=[…]]` on a program states which effects its body may perform: `Sample`
        (drawing a random value), `Score` (`observe` and `score` steps), `Marginal`
        (`marginalize` blocks); draws and calls of other programs perform the callee's
        effects. `Pure` stands alone and allows none. Add the effect to the list or remove
        the step.""",
       example="""
        object N : FinSet 2
        object R : Real 1
        program p : N -> R [effects=[Sample]]
            sample m <- Normal(loc=0.0, scale=1.0)
            observe y : N <- Normal(loc=m, scale=1.0)
            return m
        export p
        """,
       fix="""
        object N : FinSet 2
        object R : Real 1
        program p : N -> R [effects=[Sample, Score]]
            sample m <- Normal(loc=0.0, scale=1.0)
            observe y : N <- Normal(loc=m, scale=1.0)
            return m
        export p
        """),
    _e("QVR128", "`factor` cases do not cover the object", "error", """
        `factor c : K in { 0 -> e0, … }` builds a table with one entry per element of `K`,
        so it needs exactly one binder and exactly one case for each key 0 … |K|−1: a key
        that is missing, repeated or out of range leaves an entry undefined or defined twice.
        Write one case per element.""",
       example="""
        object K : FinSet 2
        object R : Real 1
        program p : K -> R
            let t = factor c : K in { 0 -> 1.0, 2 -> 3.0 }
            return t
        export p
        """,
       fix="""
        object K : FinSet 2
        object R : Real 1
        program p : K -> R
            let t = factor c : K in { 0 -> 1.0, 1 -> 3.0 }
            return t
        export p
        """),
    _e("QVR129", "Transpose of a kernel", "error", """
        `e.dagger` transposes a finite-world relation `A -> B` into `B -> A` by transposing
        its table. A kernel's table is a conditional distribution (each row sums to one);
        its transpose is not one, so `.dagger` is allowed only on expressions built from
        latent or observed relations and identities, without kernels. Transpose the relation
        before it is composed with kernels, or declare it as a `latent` relation.""",
       example="""
        object A : FinSet 2
        object B : FinSet 3
        morphism f : A -> B ~ Categorical
        define g = f.dagger
        export g
        """,
       fix="""
        object A : FinSet 2
        object B : FinSet 3
        morphism f : A -> B [role=latent]
        define g = f.dagger
        export g
        """),
    _e("QVR130", "Sequence over plates", "error", """
        A sequence value (from a scan or a promoted program) has its own time axis and
        cannot also vary over plates or data rows. Combine it with values without plates,
        or reduce the plated value first.""",
       example="""
        object Tok : FinSet 5
        object N : FinSet 3
        object H : Real 2
        morphism emb : Tok -> H [role=embed]
        morphism cell : H * H -> H ~ Normal
        define states = emb >> scan(cell, states=all)
        program p : Tok -> H
            sample hs <- states
            sample u : N <- Normal(loc=0.0, scale=1.0)
            let z = hs * u
            return z
        export p
        """,
       fix="""
        object Tok : FinSet 5
        object H : Real 2
        morphism emb : Tok -> H [role=embed]
        morphism cell : H * H -> H ~ Normal
        define states = emb >> scan(cell, states=all)
        program p : Tok -> H
            sample hs <- states
            sample u <- Normal(loc=0.0, scale=1.0)
            let z = hs * u
            return z
        export p
        """),
    _e("QVR131", "Family cannot be a learned kernel", "error", """
        A bare `~ F` makes a learned kernel: a network maps the input to the family's
        parameters. Only the original families (`Normal`, `Gamma`, `Categorical`, …) have
        such a parameter network; the newer ones (`Poisson`, `Gumbel`, `Weibull`,
        `MixtureNormal`, …) can be drawn inline in a program step, with their arguments
        written out, or used as a fixed distribution with literal arguments. Give the
        arguments, or pick a family that can be learned.""",
       example="""
        object A : Real 1
        morphism f : A -> A ~ Gumbel
        export f
        """,
       fix="""
        object A : Real 1
        morphism f : A -> A ~ Gumbel(loc=0.0, scale=1.0)
        export f
        """),
    _e("QVR132", "Family needs its size", "error", """
        Some families cannot tell their event size from their arguments: `LKJCholesky` (the
        side of its matrix), and `Dirichlet` or `RelaxedOneHotCategorical` given a single
        concentration or probability. Annotate the step with a finite object (`: N`), whose
        size sets the event size, or give `[over=N]`.""",
       example="""
        object K : FinSet 3
        object R : Real 1
        program p : K -> R
            sample _weights <- Dirichlet(concentration=1.0)
            sample s <- Normal(loc=0.0, scale=1.0)
            return s
        export p
        """,
       fix="""
        object K : FinSet 3
        object R : Real 1
        program p : K -> R
            sample _weights : K <- Dirichlet(concentration=1.0)
            sample s <- Normal(loc=0.0, scale=1.0)
            return s
        export p
        """),
    _e("QVR133", "Invalid matrix", "error", """
        A matrix literal `[[…], […]]` is a list of rows of one width; rows of different widths
        do not make a matrix. A family's matrix argument (`scale_tril`, `covariance_matrix`,
        `precision_matrix`) must be a square matrix whose side is the width of the values.""",
       example="""
        object N : FinSet 2
        object R : Real 1
        program p : N -> R
            let m = [[1.0, 2.0], [3.0]]
            sample s <- Normal(loc=m, scale=1.0)
            return s
        export p
        """,
       fix="""
        object N : FinSet 2
        object R : Real 1
        program p : N -> R
            let m = [1.0, 2.0]
            sample s <- Normal(loc=sum(m), scale=1.0)
            return s
        export p
        """),
    _e("QVR134", "Posterior consumer: not a program, or not pure", "error", """
        `program q : A -> B [over=M]` consumes posterior samples of the program `M`: a free
        name of `q` that is a latent site of `M` takes that site's value. The option must
        name a program, and `q` itself must not sample, observe, score or marginalize: its
        randomness comes from `M`'s posterior. (Consumers are checked but not yet runnable.)""",
       example="""
        object N : FinSet 2
        object R : Real 1
        program q : N -> R [over=N]
            let a = 1.0
            return a
        export q
        """,
       fix="""
        object N : FinSet 2
        object R : Real 1
        program m : N -> R
            sample a <- Normal(loc=0.0, scale=1.0)
            return a
        program q : N -> R [over=m]
            let b = 1.0
            return b
        export m
        export q
        """),
    _e("QVR135", "Finite morphism without a family", "hint", """
        A morphism into a finite object written without `~` and without a role is a
        Categorical kernel: a learned distribution over the codomain's elements for each
        input. The hint says so because the declaration looks like a deterministic map;
        write `~ Categorical` to make the family explicit.""",
       example="""
        object A : FinSet 2
        object B : FinSet 4
        morphism s : A -> B
        export s
        """,
       fix="""
        object A : FinSet 2
        object B : FinSet 4
        morphism s : A -> B ~ Categorical
        export s
        """),
    _e("internal", "The checker failed on a statement", "error", """
        Not a problem in your model: the checker itself failed on this statement (a bug in
        the checker), or the statement is nested too deeply for it. The statement was not
        checked, so an error stands in its place rather than a false "OK", and unused-name
        hints are left out for the file. For deep nesting, split the expression into smaller
        `define`s; otherwise please report the file."""),
)

CATALOGUE: dict[str, Entry] = {e.code: e for e in ENTRIES}


# ------------------------------------------------------------------------- live checks ----
def example_diagnostics(entry: Entry) -> list[str]:
    """Every diagnostic the checker reports for the entry's example, formatted as
    `qvr check --hints example.qvr` prints them. The examples are written to give only the
    entry's code; where another one cannot be avoided (a file without `export` has an unused
    declaration), it is shown too rather than hidden."""
    from .semantics import analyze

    if entry.example is None:
        return []
    analysis = analyze(entry.example)
    return [d.format(EXAMPLE_FILE, analysis.line_index) for d in analysis.diagnostics]


# ----------------------------------------------------------------------------- lookup ----
def suggest(word: str) -> list[str]:
    """Known codes close to `word`, which is not one: the same code in another case or
    without the zero padding (`qvr13`, `13` give QVR013); for an unused number, the codes
    either side of it (QVR051 gives QVR050 and QVR052); otherwise the nearest spellings."""
    w = word.strip()
    m = re.fullmatch(r"(?:qvr)?0*(\d{1,4})", w, re.IGNORECASE)
    if m:
        n = int(m.group(1))
        if f"QVR{n:03d}" in CATALOGUE:
            return [f"QVR{n:03d}"]
        # Numbers are the part people mistype or misremember; spelling distance between
        # digit strings says nothing about that, numeric distance does.
        return [f"QVR{k:03d}" for k in (n - 1, n + 1) if f"QVR{k:03d}" in CATALOGUE]
    folded = {code.lower(): code for code in CATALOGUE}
    if w.lower() in folded:
        return [folded[w.lower()]]
    return [folded[c] for c in difflib.get_close_matches(w.lower(), list(folded), n=3, cutoff=0.75)]


# ---------------------------------------------------------------------------- renders ----
def _indent(text: str, prefix: str = "    ") -> str:
    return "".join(prefix + line if line.strip() else line
                   for line in text.splitlines(True))


def render_text(entry: Entry) -> str:
    """The plain-text page `qvr explain CODE` prints."""
    out = [f"{entry.code}: {entry.title}", f"Severity: {entry.severity}", "",
           textwrap.fill(entry.explanation, TEXT_WIDTH), ""]
    if entry.old_form is not None:
        out += [f"Deprecated form: {entry.old_form}", f"Current form:    {entry.rewrite}", ""]
    if entry.example is None:
        out += ["No example: a correct program cannot produce this code.", ""]
        return "\n".join(out)
    out += ["Example:", _indent(entry.example).rstrip("\n"), "",
            f"`qvr check --hints {EXAMPLE_FILE}` reports:"]
    out += [_indent(line + "\n").rstrip("\n") for line in example_diagnostics(entry)]
    out += ["", "Fix:", _indent(entry.fix).rstrip("\n"), ""]
    return "\n".join(out)


def render_list() -> str:
    """Every code with its severity and title, one a line (`qvr explain` without a code)."""
    return "".join(f"{e.code:<9}{e.severity:<12}{e.title}\n" for e in ENTRIES)


def to_json(entry: Entry) -> dict:
    """The entry for tools: its fields, with the example's diagnostics computed live."""
    return {
        "code": entry.code,
        "title": entry.title,
        "severity": entry.severity,
        "explanation": entry.explanation,
        "example": entry.example,
        "example_diagnostics": example_diagnostics(entry),
        "fix": entry.fix,
        "deprecated_form": entry.old_form,
        "rewrite": entry.rewrite,
    }


def render_markdown() -> str:
    """docs/diagnostics.md: an index table and one section per code."""
    out = [
        "# QVR diagnostics",
        "",
        "<!-- Generated by `python -m qvr.explain --markdown > docs/diagnostics.md`; edit the",
        "     entries in runtime/qvr/explain.py, not this file. -->",
        "",
        "Every diagnostic that `qvr check` and the language server report has a code. This",
        "page explains each one with a small program that triggers it and the same program",
        "fixed; `qvr explain CODE` prints the same text in a terminal. The diagnostic lines",
        "under each example are what the checker reports for it (hints included, as with",
        "`qvr check --hints`).",
        "",
        "Severities: an **error** stops the file from loading (`qvr.load`, `qvr run`); a",
        "**warning** points at something that is accepted but probably not meant;",
        "**information** is a remark `qvr check` prints too; **hints** (unused names,",
        "deprecated syntax) are shown by editors and by `qvr check --hints`.",
        "Deprecated syntax (QVR090–QVR109) keeps its meaning; the language server offers the",
        "rewrite as a quick fix (`qvr fmt` leaves it as written).",
        "",
        "| code | severity | title |",
        "|---|---|---|",
    ]
    out += [f"| [{e.code}](#{e.code.lower()}) | {e.severity} | {e.title.replace('|', chr(92) + '|')} |"
            for e in ENTRIES]
    for e in ENTRIES:
        out += ["", f"## {e.code}", "", f"**{e.title}** ({e.severity})", "", e.explanation]
        if e.old_form is not None:
            out += ["", f"Deprecated form: `{e.old_form}`; current form: `{e.rewrite}`."]
        if e.example is None:
            out += ["", "No example: a correct program cannot produce this code."]
            continue
        out += ["", "Example:", "", "```qvr", e.example.rstrip("\n"), "```", "", "```text"]
        out += example_diagnostics(e)
        out += ["```", "", "Fix:", "", "```qvr", e.fix.rstrip("\n"), "```"]
    return "\n".join(out) + "\n"


def main(argv: Optional[list] = None) -> int:
    """`python -m qvr.explain --markdown`: print docs/diagnostics.md."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv != ["--markdown"]:
        print("usage: python -m qvr.explain --markdown", file=sys.stderr)
        return 2
    sys.stdout.write(render_markdown())
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
