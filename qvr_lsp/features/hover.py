"""Hover: what a name means, with resolved types and dimensions, docs and family details.

A hover is a list of blocks (`Block`): a QVR code line (a signature), a sentence of ours (in
which `backticks` mark code), or the user's own `#!` documentation. `HoverResult.markdown`
renders them for clients that show markdown (code in ```qvr fences), `HoverResult.plaintext`
for clients that asked for plain text (`textDocument.hover.contentFormat`): no fences, no
backticks; the user's documentation is shown as written either way.

Builtin functions and the combinator keywords are described by one table, `BUILTIN_HOVERS`.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Optional, Sequence

from qvr.semantics import marginalize, templates
from qvr.semantics.types import count_text
from qvr.syntax.span import Span

from . import families
from .common import display_type, nodes_containing, render_type, word_at


@dataclass(frozen=True)
class Block:
    """One paragraph of a hover: ``code`` (a QVR line), ``text`` (ours; `backticks` mark
    code) or ``doc`` (the user's documentation, verbatim)."""

    kind: str
    text: str


def _code(text: str) -> Block:
    return Block("code", text)


def _text(text: str) -> Block:
    return Block("text", text)


_INLINE_CODE = re.compile(r"`([^`]*)`")


def render(blocks: Sequence[Block], plaintext: bool = False) -> str:
    """The blocks as markdown (code in ```qvr fences) or as plain text."""
    out = []
    for block in blocks:
        if block.kind == "code":
            out.append(block.text if plaintext else f"```qvr\n{block.text}\n```")
        elif block.kind == "text" and plaintext:
            out.append(_INLINE_CODE.sub(r"\1", block.text))
        else:
            out.append(block.text)
    return "\n\n".join(out)


@dataclass(frozen=True)
class HoverResult:
    blocks: tuple[Block, ...]
    span: Span

    @property
    def markdown(self) -> str:
        return render(self.blocks)

    @property
    def plaintext(self) -> str:
        return render(self.blocks, plaintext=True)


# Builtin functions (`qvr.syntax.vocabulary.BUILTINS`, applied to one value in program steps)
# and the combinator keywords of morphism expressions: a signature-like line and one sentence.
BUILTIN_HOVERS: dict[str, tuple[str, str]] = {
    "sigmoid": ("builtin sigmoid(x) : Real n -> Real n",
                "Logistic function 1 / (1 + exp(-x)), elementwise; values in (0, 1)."),
    "tanh": ("builtin tanh(x) : Real n -> Real n",
             "Hyperbolic tangent, elementwise; values in (-1, 1)."),
    "exp": ("builtin exp(x) : Real n -> Real n",
            "Exponential, elementwise; values in (0, ∞)."),
    "log": ("builtin log(x) : Real n -> Real n",
            "Natural logarithm, elementwise; defined for x > 0."),
    "abs": ("builtin abs(x) : Real n -> Real n",
            "Absolute value, elementwise."),
    "softplus": ("builtin softplus(x) : Real n -> Real n",
                 "log(1 + exp(x)), elementwise: a smooth relu with values in (0, ∞)."),
    "relu": ("builtin relu(x) : Real n -> Real n",
             "max(x, 0), elementwise."),
    "sqrt": ("builtin sqrt(x) : Real n -> Real n",
             "Square root, elementwise; defined for x ≥ 0."),
    "logit": ("builtin logit(x) : Real n -> Real n",
              "log(x / (1 - x)), elementwise: the inverse of sigmoid, defined on (0, 1)."),
    "softmax": ("builtin softmax(x) : Real n -> Real n",
                "exp(x) normalised over the whole vector: n entries in (0, 1) that sum to 1."),
    "identity": ("identity(A) : A -> A",
                 "The identity morphism of object `A`: returns its input unchanged."),
    "fan": ("fan(f, g, ...) : A -> B * C * ...",
            "Runs every component on the same input and returns the product of their outputs; "
            "the components must share a domain."),
    "repeat": ("repeat(f, n) : A -> A",
               "Applies the endomorphism `f` n times with shared parameters (without n, as many "
               "times as the run's step count)."),
    "stack": ("stack(f, n) : A -> A",
              "Applies n independent, freshly initialised copies of `f` one after the other; "
              "for n ≥ 2, `f` must be an endomorphism."),
    "scan": ("scan(cell, init=zeros|learned, states=last|all, direction=forward|backward)"
             " : Seq[X] -> S",
             "Runs the cell `X * S -> S` along a sequence, threading the state `S`; "
             "`states=all` returns `Seq[S]`."),
    "marginalize": ("marginalize(f, B, ...) : A -> C",
                    "Sums the named factors out of the finite codomain of a finite-world "
                    "morphism `f`, keeping the others."),
    "parser": ("parser(rules=..., categories=..., terminal=..., start=..., depth=...)",
               "A chart parser over the declared grammar rules (the grammar world)."),
    "ccg": ("ccg(categories=..., terminal=..., start=..., depth=...)",
            "A chart parser with the combinatory categorial grammar rules (evaluation, "
            "harmonic and crossed composition)."),
    "lambek": ("lambek(categories=..., terminal=..., start=..., depth=...)",
               "A chart parser with the Lambek calculus rules (evaluation, adjunction units, "
               "tensor introduction and projection)."),
}
# The builtins of spec part 2 §5.8 beyond P1's ten: their forms and kinds, from the builtin table.
BUILTIN_HOVERS.update({name: families.builtin_doc(name) for name in families.builtin_names()
                       if name not in BUILTIN_HOVERS})


def _docs(symbol) -> str:
    """The user's `#!` documentation of `symbol`: text, or comment nodes joined by lines."""
    doc = symbol.doc
    if not doc:
        return ""
    if isinstance(doc, str):
        return doc
    return "\n".join(getattr(d, "text", str(d)) for d in doc)


def family_blocks(name: str) -> Optional[list[Block]]:
    fam = families.family(name)
    if fam is None:
        return None
    lines = [_code(f"family {fam.signature()}"), _text(f"Support: {fam.support}")]
    if fam.alt_names:
        lines.append(_text(f"Alternative parameter names: {', '.join(fam.alt_names)}"))
    if fam.has_scale:
        lines.append(_text("Accepts the `scale` option as a kernel."))
    if not fam.inline:
        lines.append(_text("Kernel and fixed distribution only (not inline)."))
    return lines


def family_markdown(name: str) -> Optional[str]:
    blocks = family_blocks(name)
    return None if blocks is None else render(blocks)


def _morphism_signature(analysis, name: str, symbol) -> str:
    info = analysis.morphisms.get(name)
    if info is None or info.type is None:
        return symbol.detail or name
    text = f"{name} : {render_type(info.type)}"
    if info.family:
        text += f" ~ {info.family}" + ("(…)" if info.fixed_args else "")
    elif info.role:
        text += f"  [role={info.role}]"
    return text


def symbol_markdown(analysis, symbol) -> str:
    return render(symbol_blocks(analysis, symbol))


def symbol_blocks(analysis, symbol) -> list[Block]:
    """The hover of `symbol`. Sizes of a template's abstract object parameters are shown in
    symbolic form (`templates.symbolic`), never as the checker's placeholder."""
    program = analysis.programs.get(symbol.name if symbol.kind == "program" else symbol.scope)
    params = templates.object_params(program)
    return [b if b.kind == "doc" else Block(b.kind, templates.symbolic(b.text, params))
            for b in _symbol_blocks(analysis, symbol)]


def _symbol_blocks(analysis, symbol) -> list[Block]:
    kind, name = symbol.kind, symbol.name
    parts: list[Block] = []
    if kind == "morphism":
        parts.append(_code(_morphism_signature(analysis, name, symbol)))
        info = analysis.morphisms.get(name)
        f = families.family(info.family) if info is not None and info.family else None
        if f is not None:
            parts.append(_text(f"Family `{f.signature()}`, support {f.support}"))
        shown = {k: v for k, v in (info.options if info is not None else {}).items()
                 if v is not None}
        if shown:
            parts.append(_text("Options: " + ", ".join(f"`{k}={v}`" for k, v in shown.items())))
    elif kind == "program":
        info = analysis.programs.get(name)
        if info is not None:
            params = ", ".join(p.text for p, _ in info.params)
            head = f"program {name}" + (f"({params})" if params else "")
            parts.append(_code(f"{head} : {render_type(info.declared)}"))
            if info.promoted:
                parts.append(_text(f"Promoted to `{render_type(info.effective)}`"))
        else:
            parts.append(_code(symbol.detail or f"program {name}"))
    elif kind in ("define", "object") and symbol.scope:
        # a typed parameter of a program (spec part 2 §5.5): only its header line is known
        parts.append(_code(symbol.detail.split(" (")[0] if symbol.detail else name))
        parts.append(_text(f"template parameter of program `{symbol.scope}`"))
    elif kind == "define":
        info = analysis.defines.get(name)
        typ = info.type if info is not None else symbol.type
        parts.append(_code(f"define {name} : {render_type(typ)}" if typ is not None else (symbol.detail or name)))
    elif kind == "object":
        obj = analysis.objects.get(name) or symbol.type
        parts.append(_code(symbol.detail or f"object {name}"))
        if obj is not None:
            if obj.is_finite:
                parts.append(_text(f"finite, cardinality {count_text(obj.cardinality)}"))
            else:
                parts.append(_text(f"value width {obj.width}, feature width {obj.feature_width}"))
    elif kind in ("parameter", "variable"):
        typ = symbol.type
        what = "parameter" if kind == "parameter" else "variable"
        scope = symbol.scope
        info = analysis.programs.get(scope) if scope else None
        var = info.variables.get(name) if info is not None else None
        block = _marginal_block(info, symbol)
        if block is not None:  # one of the blocks binding `name` (they may reuse it)
            what = block.describe()
        elif var is not None and var.kind:
            what = f"{var.kind} variable" if kind == "variable" else what
            typ = typ or var.type
            what = _current_local(info, name, var.kind) or what
        shown = render_type(typ) if typ is not None else "?"
        plain = display_type(typ) if typ is not None else "?"
        line = f"{name} : {shown}"
        if plain not in shown and plain != "?":
            line += f"  // {plain}"
        if block is None and var is not None and var.kind == "data":  # spec part 2 §5.3
            line, what = line + " (data)", "data input"
        parts.append(_code(line))
        parts.append(_text(f"{what}" + (f" of program `{scope}`" if scope else "")))
    else:
        parts.append(_code(symbol.detail or f"{kind} {name}"))
    doc = _docs(symbol)
    if doc:
        parts.append(Block("doc", doc))
    return parts


def _marginal_block(info, symbol):
    """The `marginalize` block whose variable `symbol` is, if it is one."""
    if info is None:
        return None
    for block in marginalize.blocks_of(info):
        if block.step is not None and block.step.name.span == symbol.name_span:
            return block
    return None


def _current_local(info, name: str, kind: str) -> Optional[str]:
    """What a local of a part-2 step form is (spec part 2 §5.12): a `marginalize` variable
    (summed out, with its atoms), a `score` name, a typed (template) parameter."""
    if kind == "marginalize":
        block = marginalize.marginals_of(info).get(name)
        return block.describe() if block is not None else "marginalize variable"
    if kind == "score":
        return "log-density factor"
    if kind == "parameter" and name in dict(templates.typed_param_kinds(info)):
        return "template parameter"
    return None


def _is_seq(t) -> bool:
    return type(t).__name__ == "SeqType"


def _compose_hover(analysis, offset: int) -> Optional[HoverResult]:
    nodes = nodes_containing(analysis.module, offset)
    # inside a template the types may have its abstract sizes: shown in symbolic form
    program = analysis.programs.get(nodes[0].name.text) if nodes and type(nodes[0]).__name__ \
        == "ProgramDecl" else None
    params = templates.object_params(program)
    for node in reversed(nodes):
        if type(node).__name__ != "Compose":
            continue
        op = node.op
        if not (op.span.start <= offset <= op.span.end):
            continue
        left = analysis.type_of(node.left)
        right = analysis.type_of(node.right)
        whole = analysis.type_of(node)
        middle = getattr(left, "cod", None)
        lines = []
        if middle is not None:
            shown, plain = render_type(middle), display_type(middle)
            # a per-element left side feeding a sequence consumer is lifted: values are Seq[...]
            if _is_seq(getattr(right, "dom", None)) and not _is_seq(middle):
                shown, plain = f"Seq[{shown}]", f"Seq[{plain}]"
            lines.append(_code(f"{op.text} : {shown}"))
            lines.append(_text(f"Intermediate type `{plain}`"))
        if whole is not None:
            lines.append(_text(f"Composite: `{render_type(whole)}`"))
        if lines:
            return HoverResult(tuple(Block(b.kind, templates.symbolic(b.text, params))
                                     for b in lines), op.span)
    return None


def hover(doc, offset: int) -> Optional[HoverResult]:
    analysis = doc.analysis
    if analysis is None:
        return None
    ref = analysis.reference_at(offset)
    if ref is not None and ref.symbol is not None:
        return HoverResult(tuple(symbol_blocks(analysis, ref.symbol)), ref.span)
    composed = _compose_hover(analysis, offset)
    if composed is not None:
        return composed
    word = word_at(doc.text, offset)
    if word is None or _in_comment(analysis, offset):
        return None
    text, span = word
    blocks = family_blocks(text)
    if blocks:
        return HoverResult(tuple(blocks), span)
    described = BUILTIN_HOVERS.get(text)
    if described is not None:
        signature, sentence = described
        return HoverResult((_code(signature), _text(sentence)), span)
    return None


def _in_comment(analysis, offset: int) -> bool:
    return any(c.span.start <= offset < c.span.end for c in analysis.module.comments)
