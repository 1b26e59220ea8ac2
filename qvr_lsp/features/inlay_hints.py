"""Inlay hints: the inferred type and dimension after program variables (`let`, `sample`, draws,
`marginalize` variables, `score` names), with their plates (`Real 1 over School`, spec part 2
§5.1); after a data name at its first use, its inferred type (§5.3); and after the name of
top-level compositions (`define`/`let x = …`). In a template, the sizes of its abstract object
parameters are shown in symbolic form (`Real |S|`, `templates.symbolic`)."""
from __future__ import annotations

from dataclasses import dataclass

from qvr.syntax.span import Span

from qvr.semantics import marginalize, templates
from qvr.semantics.plates import PlatedType

from .common import dimension_note, render_type


@dataclass(frozen=True)
class Hint:
    offset: int
    label: str


def inlay_hints(doc, span: Span) -> list[Hint]:
    analysis = doc.analysis
    if analysis is None:
        return []
    out: list[Hint] = []
    for info in analysis.programs.values():
        if not _may_overlap(info.decl, span):  # (its hints lie inside its declaration)
            continue
        params = templates.object_params(info)
        for var in marginalize.all_variables(info):  # a name blocks reuse: every binding
            typ = var.type
            if typ is None or var.kind == "parameter":
                continue
            name_span = _var_name_span(var)
            if name_span is None or not (span.start <= name_span.end <= span.end):
                continue
            out.append(Hint(name_span.end, f": {templates.symbolic(value_note(typ), params)}"))
    for name, info in analysis.defines.items():
        decl, typ = info.decl, info.type
        if decl is None or typ is None:
            continue
        end = decl.name.span.end
        if span.start <= end <= span.end:
            out.append(Hint(end, f": {render_type(typ)}"))
    return sorted(out, key=lambda h: h.offset)


def _may_overlap(decl, span: Span) -> bool:
    """Whether `decl` (None or a node with a span) may hold a hint in `span`: a request for the
    visible lines of a big file costs the programs there, not every variable of the file."""
    at = getattr(decl, "span", None)
    return at is None or (at.end >= span.start and at.start <= span.end)


def value_note(t) -> str:
    """`dimension_note` of a value type followed by its plates: `Val(1) over Subject`,
    `Real 1 over ?x`, `Token(5) (row plate Resp, 32 rows)`."""
    if t.__class__ is not PlatedType:
        return dimension_note(t)
    return dimension_note(t.base) + t.plates.suffix()


def _var_name_span(var):
    """The span of the variable's own name inside its binding step."""
    node, name = var.node, var.name
    if node is None:
        return None
    candidates = []
    pattern = getattr(node, "pattern", None)
    if pattern is not None:
        candidates.extend(getattr(pattern, "names", ()) or ())
        if hasattr(pattern, "name"):
            candidates.append(pattern.name)
    if hasattr(node, "name") and hasattr(node.name, "span"):
        candidates.append(node.name)
    if hasattr(node, "text") and hasattr(node, "span"):
        candidates.append(node)
    for c in candidates:
        if getattr(c, "text", None) == name:
            return c.span
    return None
