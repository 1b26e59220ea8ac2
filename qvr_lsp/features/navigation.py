"""Go to definition, find references and document highlight (scope-aware, via the Analysis
reference index, so names inside comments or in another program's scope never match)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

from qvr.syntax.span import Span


@dataclass(frozen=True)
class Highlight:
    span: Span
    is_write: bool


def _ref_at(doc, offset: int):
    analysis = doc.analysis
    if analysis is None:
        return None, None
    ref = analysis.reference_at(offset)
    if ref is None or ref.symbol is None:
        return analysis, None
    return analysis, ref


def definition(doc, offset: int) -> Optional[Span]:
    """The span of the declared name the cursor refers to."""
    _, ref = _ref_at(doc, offset)
    if ref is None:
        return None
    return ref.symbol.name_span


def references(doc, offset: int, include_declaration: bool = True) -> list[Span]:
    analysis, ref = _ref_at(doc, offset)
    if ref is None:
        return []
    spans = [r.span for r in analysis.references_to(ref.symbol) if include_declaration or not r.is_definition]
    return sorted(set(spans), key=lambda s: (s.start, s.end))


def highlights(doc, offset: int) -> list[Highlight]:
    analysis, ref = _ref_at(doc, offset)
    if ref is None:
        return []
    seen, out = set(), []
    for r in analysis.references_to(ref.symbol):
        if (r.span.start, r.span.end) not in seen:
            seen.add((r.span.start, r.span.end))
            out.append(Highlight(r.span, bool(r.is_definition)))
    return sorted(out, key=lambda h: h.span.start)
