"""The QVR syntax tree: frozen dataclasses, one per node kind of the normative grammar.

Every node has a `span` (code-point offsets into the normalised text, end exclusive) and
every name written in the source is a `Name` with its own span, so the checker can point at
exactly the right characters and the language server can navigate and rename. Class names
follow the lark alias names of spec §3.1 (``compose`` → `Compose`, ``draw_step`` →
`DrawStep`, ...). Sequences are tuples so nodes stay hashable and immutable.

Conventions:
* ``keyword`` fields are `Name`s holding the keyword as written (``object``, ``type``,
  ``let``/``define``, ``output``/``export``, ``draw``...) and its span (spec's keyword_range).
* Binary type and arithmetic operators keep the tree the grammar builds; products and
  coproducts of types are flattened into ``factors``/``operands`` (parentheses removed, as
  spec §4.6 counts "top-level factors as written, after removing parentheses"). Use
  `Paren`-free trees: parentheses never produce nodes.
* ``a << b`` is stored as ``Compose(left=b, right=a, op=Name("<<", ...))``.
* Doc comments (``#!``) attach to the following declaration or program step as ``docs``.

Every node class is ``@dataclass(frozen=True, slots=True)`` with the fast constructor of
`frozen_init`; `frozen_dataclass` builds exactly that at a fraction of the import cost (the
language server imports this module at start-up).
"""
from __future__ import annotations

from typing import Optional, Union

from .frozen_init import frozen_dataclass
from .span import Span


@frozen_dataclass
class Name:
    """An identifier (or keyword/operator token) as written, with its span."""

    text: str
    span: Span



@frozen_dataclass
class Doc:
    """One ``#!`` line: its text (after ``#!`` and one leading space) and the line's span."""

    text: str
    span: Span


@frozen_dataclass
class Comment:
    """Any comment kept for the formatter: kind is ``line``, ``doc`` or ``block``."""

    kind: str
    text: str  # the full comment as written, markers included
    span: Span


@frozen_dataclass
class Number:
    """A numeric literal, possibly with a leading ``-`` (signed_number); span covers the sign."""

    value: Union[int, float]
    text: str
    span: Span

    @property
    def is_int(self) -> bool:
        return isinstance(self.value, int)


# ---------------------------------------------------------------------------- types ----
@frozen_dataclass
class KwArg:
    """``key = value`` inside ``{...}``, a constructor call, or a bracket ctor: the value is a
    signed number, a name (`KwName`) or a list of names (`KwList`)."""

    key: Name
    value: Union[Number, "KwName", "KwList"]
    span: Span


@frozen_dataclass
class BraceOpts:
    items: tuple[KwArg, ...]
    span: Span


@frozen_dataclass
class TypeRef:
    name: Name
    span: Span


@frozen_dataclass
class TypeCard:
    """A bare integer in type position (classic ``object T : 256``)."""

    value: Number
    span: Span


@frozen_dataclass
class TypeCtor:
    """``Real 64``, ``FinSet 3``, ``Real 2 {low=0.0}`` (``NAME number+ [brace_opts]``)."""

    ctor: Name
    args: tuple[Number, ...]
    options: Optional[BraceOpts]
    span: Span


@frozen_dataclass
class TypeCall:
    """``FinSet(3)``, ``Euclidean(4, low=0.0)``, ``UnitInterval()``; args are Number, KwArg
    or CtorName (``FreeMonoid(X)``)."""

    ctor: Name
    args: tuple[Union[Number, KwArg, "CtorName"], ...]
    options: Optional[BraceOpts]
    span: Span


@frozen_dataclass
class BracketCtor:
    """0.11 form ``Real 1 [low=0.0]`` (only directly as an object value)."""

    ctor: Name
    args: tuple[Number, ...]
    kwargs: tuple[KwArg, ...]
    bracket_span: Span  # from ``[`` to ``]``
    span: Span


@frozen_dataclass
class Product:
    factors: tuple["TypeExpr", ...]
    op_spans: tuple[Span, ...]  # each ``*``
    span: Span


@frozen_dataclass
class Coproduct:
    operands: tuple["TypeExpr", ...]
    op_spans: tuple[Span, ...]  # each ``+``
    span: Span


@frozen_dataclass
class EnumSet:
    """``{a, b, c}`` as an object value: a finite set with labels."""

    labels: tuple[Name, ...]
    span: Span


@frozen_dataclass
class CtorName:
    """A bare name as a type-constructor argument (``FreeMonoid(X, max_length=3)``)."""

    name: Name
    span: Span


@frozen_dataclass
class KwName:
    """A name as the value of ``key=value`` inside a type constructor or brace options."""

    name: Name
    span: Span


@frozen_dataclass
class KwList:
    """``[a, b]`` as the value of ``key=value`` inside a type constructor or brace options."""

    names: tuple[Name, ...]
    span: Span


TypeExpr = Union[TypeRef, TypeCard, TypeCtor, TypeCall, BracketCtor, Product, Coproduct, EnumSet]


# ----------------------------------------------------------------- options and args ----
@frozen_dataclass
class OptName:
    """An identifier or role word used as an option value (``kernel``, ``embed``, ``mlp``)."""

    name: Name
    is_keyword: bool  # a reserved role word (embed/latent/observed/discretize)
    span: Span


@frozen_dataclass
class OptList:
    items: tuple["OptValue", ...]
    span: Span


@frozen_dataclass
class OptCall:
    """``mlp(16, 8)`` as an option value."""

    callee: Name
    args: tuple["OptValue", ...]
    span: Span


OptValue = Union[Number, OptName, OptList, OptCall]


@frozen_dataclass
class Option:
    key: Name
    value: Optional[OptValue]
    span: Span


@frozen_dataclass
class Options:
    """An option block ``[k=v, ...]``; span covers the brackets."""

    items: tuple[Option, ...]
    span: Span


@frozen_dataclass
class Signature:
    domain: TypeExpr
    codomain: TypeExpr
    arrow: Span
    span: Span


@frozen_dataclass
class Replication:
    """``[k]`` after a declaration name."""

    count: Number
    span: Span


# ------------------------------------------------------------------------ arithmetic ----
@frozen_dataclass
class Lit:
    value: Number
    span: Span


@frozen_dataclass
class Var:
    name: Name
    span: Span


@frozen_dataclass
class Call:
    """``f(a, b)`` inside arithmetic: a builtin or a deterministic morphism."""

    name: Name
    args: tuple["Arith", ...]
    span: Span


@frozen_dataclass
class Vec:
    items: tuple["Arith", ...]
    span: Span


@frozen_dataclass
class BinOp:
    """``+ - * /``; op is the operator character."""

    op: str
    left: "Arith"
    right: "Arith"
    op_span: Span
    span: Span


@frozen_dataclass
class Neg:
    operand: "Arith"
    span: Span


@frozen_dataclass
class Index:
    """``v[i, 0]``: gathers, literal indices and sections of a plated value."""

    name: Name
    indices: tuple["Arith", ...]
    span: Span


@frozen_dataclass
class MethodCall:
    """``receiver.method(args)`` in arithmetic (``chart.goal_weight()``)."""

    receiver: Name
    method: Name
    args: tuple["Arg", ...]
    span: Span


@frozen_dataclass
class Lambda:
    """``x -> e`` (tier 3: parsed, never checked)."""

    param: Name
    body: Union["Lambda", "Arith"]
    arrow: Span
    span: Span


Arith = Union[Lit, Var, Call, Vec, BinOp, Neg, Index, MethodCall]


@frozen_dataclass
class NamedArg:
    """``key = arith`` in a target or family call."""

    key: Name
    value: Arith
    span: Span


Arg = Union[Arith, NamedArg, Lambda]


@frozen_dataclass
class FactorBinder:
    """``v : K`` of a comprehension."""

    name: Name
    type: TypeExpr
    span: Span


@frozen_dataclass
class FactorCase:
    """``k -> e`` of a comprehension over cases."""

    key: Number
    value: Arith
    span: Span


@frozen_dataclass
class FactorCases:
    """``{ 0 -> e0, 1 -> e1 }``."""

    cases: tuple[FactorCase, ...]
    span: Span


@frozen_dataclass
class FactorExpr:
    """``factor v : K, c : L in e`` or ``factor c : K in { 0 -> e, ... }``. ``in_word`` is the
    word after the binders as written (the checker requires ``in``)."""

    keyword: Name
    binders: tuple[FactorBinder, ...]
    in_word: Name
    body: Union[Arith, FactorCases]
    span: Span


@frozen_dataclass
class FamilyCall:
    """``~ Normal(0.0, 1.0)`` after a morphism signature: a fixed distribution."""

    name: Name
    args: tuple[Arg, ...]
    span: Span


# ------------------------------------------------------------- morphism expressions ----
@frozen_dataclass
class Ref:
    name: Name
    span: Span


@frozen_dataclass
class Compose:
    """``left >> right`` (also ``right << left`` and deprecated ``>=>``)."""

    left: "MExpr"
    right: "MExpr"
    op: Name
    span: Span


@frozen_dataclass
class Tensor:
    left: "MExpr"
    right: "MExpr"
    op: Span
    span: Span


@frozen_dataclass
class Marginalize:
    expr: "MExpr"
    names: tuple[Name, ...]
    keyword: Name
    span: Span


@frozen_dataclass
class Method:
    """``e.dagger``, ``e.trace(A)``: a postfix method on a morphism expression; ``args`` is
    None without parentheses."""

    expr: "MExpr"
    name: Name
    args: Optional[tuple[Arg, ...]]
    span: Span


@frozen_dataclass
class Identity:
    object: Name
    keyword: Name
    span: Span


@frozen_dataclass
class Fan:
    items: tuple["MExpr", ...]
    keyword: Name
    span: Span


@frozen_dataclass
class Repeat:
    expr: "MExpr"
    count: Optional[Number]
    keyword: Name
    span: Span


@frozen_dataclass
class Stack:
    expr: "MExpr"
    count: Number
    keyword: Name
    span: Span


@frozen_dataclass
class ScanOpt:
    key: Name
    value: Name
    span: Span


@frozen_dataclass
class Scan:
    cell: "MExpr"
    options: tuple[ScanOpt, ...]
    keyword: Name
    span: Span


@frozen_dataclass
class IdList:
    names: tuple[Name, ...]
    span: Span


@frozen_dataclass
class ParserArg:
    key: Name
    value: Union[IdList, Name, Number]
    span: Span


@frozen_dataclass
class ParserExpr:
    """``parser(...)``, ``ccg(...)``, ``lambek(...)``; keyword.text tells which."""

    keyword: Name
    args: tuple[ParserArg, ...]
    span: Span


MExpr = Union[Ref, Compose, Tensor, Marginalize, Method, FamilyCall, Identity, Fan, Repeat, Stack,
              Scan, ParserExpr]
Init = Union[FamilyCall, MExpr]


# ------------------------------------------------------------------ category patterns ----
@frozen_dataclass
class CatRef:
    name: Name
    span: Span


@frozen_dataclass
class CatSlash:
    """``left / right`` (op ``/``) or ``left \\ right`` (op ``\\``)."""

    op: str
    left: "CatPat"
    right: "CatPat"
    op_span: Span
    span: Span


@frozen_dataclass
class CatProduct:
    left: "CatPat"
    right: "CatPat"
    op_span: Span
    span: Span


CatPat = Union[CatRef, CatSlash, CatProduct]


# --------------------------------------------------------------------------- programs ----
@frozen_dataclass
class PatVar:
    name: Name
    span: Span


@frozen_dataclass
class PatTuple:
    """``(a, b)`` (current) or, with ``bracket=True``, ``[a, b]`` (0.11, deprecated)."""

    names: tuple[Name, ...]
    bracket: bool
    span: Span


Pattern = Union[PatVar, PatTuple]


@frozen_dataclass
class Target:
    """``name`` or ``name(args)``; ``args`` is None when written without parentheses."""

    name: Name
    args: Optional[tuple[Arg, ...]]
    span: Span


@frozen_dataclass
class DrawStep:
    """Classic ``draw p ~ target``."""

    keyword: Name
    pattern: Pattern
    target: Target
    docs: tuple[Doc, ...]
    span: Span


@frozen_dataclass
class BindStep:
    """Classic bare ``x <- target``; ``keyword`` is the ``<-`` token."""

    keyword: Name
    name: Name
    target: Target
    docs: tuple[Doc, ...]
    span: Span


@frozen_dataclass
class SampleStep:
    keyword: Name
    pattern: Pattern
    annotation: Optional[TypeExpr]
    target: Target
    options: Optional[Options]
    docs: tuple[Doc, ...]
    span: Span


@frozen_dataclass
class ObserveTildeStep:
    """Classic ``observe y ~ target``."""

    keyword: Name
    pattern: Pattern
    target: Target
    docs: tuple[Doc, ...]
    span: Span


@frozen_dataclass
class ObserveStep:
    keyword: Name
    pattern: Pattern
    annotation: Optional[TypeExpr]
    target: Target
    options: Optional[Options]
    docs: tuple[Doc, ...]
    span: Span


@frozen_dataclass
class LetStep:
    """``let n = e``; ``e`` is arithmetic, a `FactorExpr` comprehension or a `Lambda`."""

    keyword: Name
    name: Name
    value: Union[Arith, FactorExpr, Lambda]
    docs: tuple[Doc, ...]
    span: Span


@frozen_dataclass
class CallStep:
    """``let g <- target [options]``: a draw from a program or a deterministic map."""

    keyword: Name
    name: Name
    target: Target
    options: Optional[Options]
    docs: tuple[Doc, ...]
    span: Span


@frozen_dataclass
class ScoreStep:
    """``score n = e``: one log-density term. ``keyword`` is the first word as written (the
    checker requires ``score``)."""

    keyword: Name
    name: Name
    value: Arith
    docs: tuple[Doc, ...]
    span: Span


@frozen_dataclass
class MarginalizeStep:
    """``marginalize z [: A] <- target [options]`` with its body: the steps after it that
    start in a column greater than the keyword's (empty when none do)."""

    keyword: Name
    name: Name
    annotation: Optional[TypeExpr]
    target: Target
    options: Optional[Options]
    body: tuple["Step", ...]
    docs: tuple[Doc, ...]
    span: Span


@frozen_dataclass
class RetItem:
    """``var`` or ``label : var`` in a tuple return."""

    var: Name
    label: Optional[Name]
    span: Span


@frozen_dataclass
class RetVar:
    var: Name
    span: Span


@frozen_dataclass
class RetTuple:
    items: tuple[RetItem, ...]
    span: Span


@frozen_dataclass
class ReturnStep:
    keyword: Name
    pattern: Union[RetVar, RetTuple]
    docs: tuple[Doc, ...]
    span: Span


Step = Union[DrawStep, BindStep, SampleStep, ObserveTildeStep, ObserveStep, LetStep, CallStep,
             ScoreStep, MarginalizeStep]


def nodes(root):
    """Every syntax node under `root` (a node or a tuple of them; itself included, `Name`s
    too), in no particular order."""
    todo = [root]
    while todo:
        node = todo.pop()
        if node.__class__ is tuple:
            todo.extend(node)
            continue
        slots = getattr(node.__class__, "__slots__", None)
        if not slots or node.__class__ is Span:
            continue
        yield node
        if node.__class__ is Name:
            continue
        for f in slots:
            v = getattr(node, f, None)
            if v is not None and not isinstance(v, (str, int, float, bool)):
                todo.append(v)


def walk_steps(steps):
    """Every step of a program body in source order, those inside `marginalize` bodies
    included (each block before its body's steps)."""
    stack = [iter(steps)]
    while stack:
        for step in stack[-1]:
            yield step
            if step.__class__ is MarginalizeStep and step.body:
                stack.append(iter(step.body))
                break
        else:
            stack.pop()


@frozen_dataclass
class TypedParam:
    """``x : K`` in a program header: ``kind`` is a `KindRef` (``FinSet``, ``Real``, ...) or a
    `KindMor` (``Mor[A, B]``)."""

    name: Name
    kind: Union["KindRef", "KindMor"]
    span: Span


@frozen_dataclass
class KindRef:
    name: Name
    span: Span


@frozen_dataclass
class KindMor:
    name: Name
    domain: TypeExpr
    codomain: TypeExpr
    span: Span


# ----------------------------------------------------------------------- declarations ----
@frozen_dataclass
class ObjectDecl:
    keyword: Name
    names: tuple[Name, ...]
    value: TypeExpr
    docs: tuple[Doc, ...]
    span: Span


@frozen_dataclass
class TypeDecl:
    keyword: Name
    name: Name
    value: TypeExpr
    docs: tuple[Doc, ...]
    span: Span


@frozen_dataclass
class SpaceDecl:
    keyword: Name
    name: Name
    value: TypeExpr
    docs: tuple[Doc, ...]
    span: Span


@frozen_dataclass
class QuantaleDecl:
    keyword: Name
    name: Name
    docs: tuple[Doc, ...]
    span: Span


@frozen_dataclass
class CategoryDecl:
    keyword: Name
    names: tuple[Name, ...]
    docs: tuple[Doc, ...]
    span: Span


@frozen_dataclass
class RuleDecl:
    keyword: Name
    name: Name
    variables: tuple[Name, ...]
    premises: tuple[CatPat, ...]
    arrow: Name  # ``=>``, ``|-`` or ``⊢``
    conclusion: CatPat
    docs: tuple[Doc, ...]
    span: Span


@frozen_dataclass
class MorphismDecl:
    """``morphism f, g : A -> B [opts] ~ init [opts]``.

    ``options`` is the block before ``~``, ``init_options`` the (deprecated) block after it.
    """

    keyword: Name
    names: tuple[Name, ...]
    sig: Signature
    options: Optional[Options]
    init: Optional[Init]
    init_options: Optional[Options]
    tilde: Optional[Span]
    docs: tuple[Doc, ...]
    span: Span


@frozen_dataclass
class ContinuousDecl:
    keyword: Name
    name: Name
    replication: Optional[Replication]
    sig: Signature
    options: Optional[Options]
    init: Init
    init_options: Optional[Options]
    tilde: Span
    docs: tuple[Doc, ...]
    span: Span


@frozen_dataclass
class StochasticDecl:
    keyword: Name
    name: Name
    replication: Optional[Replication]
    sig: Signature
    options: Optional[Options]
    docs: tuple[Doc, ...]
    span: Span


@frozen_dataclass
class LatentDecl:
    keyword: Name
    name: Name
    sig: Signature
    options: Optional[Options]
    init: Optional[MExpr]
    docs: tuple[Doc, ...]
    span: Span


@frozen_dataclass
class ObservedDecl:
    keyword: Name
    name: Name
    sig: Signature
    options: Optional[Options]
    init: Optional[MExpr]
    docs: tuple[Doc, ...]
    span: Span


@frozen_dataclass
class EmbedDecl:
    keyword: Name
    name: Name
    replication: Optional[Replication]
    sig: Signature
    options: Optional[Options]
    docs: tuple[Doc, ...]
    span: Span


@frozen_dataclass
class DiscretizeDecl:
    keyword: Name
    name: Name
    domain: TypeExpr
    arrow: Span
    bins: Number
    options: Optional[Options]
    docs: tuple[Doc, ...]
    span: Span


@frozen_dataclass
class ProgramDecl:
    keyword: Name
    name: Name
    params: Optional[tuple[Name, ...]]  # None when the header has no parameter list
    params_span: Optional[Span]
    # per parameter: its `TypedParam` (``x : K``) or None for a bare name; () without a list
    param_kinds: tuple[Optional[TypedParam], ...]
    sig: Signature
    options: Optional[Options]
    steps: tuple[Step, ...]
    ret: ReturnStep
    docs: tuple[Doc, ...]
    span: Span


@frozen_dataclass
class DefineDecl:
    """``let x = e`` (classic) or ``define x = e``; ``where`` is the span of a trailing
    ``where`` keyword (its bindings are the following indented DefineDecls, spec §3.3)."""

    keyword: Name
    name: Name
    expr: MExpr
    where: Optional[Span]
    docs: tuple[Doc, ...]
    span: Span


@frozen_dataclass
class ExportDecl:
    """``output e`` (classic) or ``export e``."""

    keyword: Name
    expr: MExpr
    docs: tuple[Doc, ...]
    span: Span


@frozen_dataclass
class CompositionDecl:
    """``composition NAME [options]``: the algebra selector. ``keyword`` is the first word as
    written (the checker requires ``composition``)."""

    keyword: Name
    name: Name
    options: Optional[Options]
    docs: tuple[Doc, ...]
    span: Span


@frozen_dataclass
class OpaqueDecl:
    """A tier-3 block, one token in the grammar: ``head`` is its first word (``deduction``,
    ``define``, ``composition``, ...), ``name`` the identifier after it, ``text`` the block as
    written (comments included; formatters keep it byte for byte)."""

    head: Name
    name: Name
    text: str
    docs: tuple[Doc, ...]
    span: Span


@frozen_dataclass
class BrokenDecl:
    """A top-level declaration with a syntax error: only its keyword and the names it would
    declare are known (`parse_module` reports the error). The names are declared all the same,
    so that the rest of the module can still use them without an "undefined" error for every
    use; the declaration itself is never checked, compiled or formatted."""

    keyword: Name
    names: tuple[Name, ...]
    docs: tuple[Doc, ...]
    span: Span


Decl = Union[
    ObjectDecl, TypeDecl, SpaceDecl, QuantaleDecl, CategoryDecl, RuleDecl, MorphismDecl,
    ContinuousDecl, StochasticDecl, LatentDecl, ObservedDecl, EmbedDecl, DiscretizeDecl,
    ProgramDecl, DefineDecl, ExportDecl, CompositionDecl, OpaqueDecl, BrokenDecl,
]

OBJECT_DECLS = (ObjectDecl, TypeDecl, SpaceDecl)
MORPHISM_DECLS = (
    MorphismDecl, ContinuousDecl, StochasticDecl, LatentDecl, ObservedDecl, EmbedDecl,
    DiscretizeDecl,
)


def declared_names(decl: Decl) -> tuple[Name, ...]:
    """The names a top-level declaration introduces (none for `export`)."""
    names = getattr(decl, "names", None)
    if names is not None:
        return names
    name = getattr(decl, "name", None)
    return (name,) if name is not None else ()


@frozen_dataclass
class Module:
    statements: tuple[Decl, ...]
    comments: tuple[Comment, ...]
    span: Span
