"""`migrate(text)`: rewrite every deprecated form (QVR090–QVR109) to the current form.

Deprecation fixes are computed independently and may overlap (a `continuous` statement's
rewrite contains its `Euclidean` signature), so each round applies the fixes whose edits do
not overlap any already chosen, then re-analyses; it stops when no deprecation is left (or
when a round changes nothing, so a fix that fails to remove its hint cannot loop)."""
from __future__ import annotations

from ..diagnostics import apply_edits
from .engine import analyze

DEPRECATION_CODES = frozenset(f"QVR{n:03d}" for n in range(90, 110))
MAX_ROUNDS = 20


def deprecation_fixes(analysis) -> list:
    return [d for d in analysis.diagnostics if d.code in DEPRECATION_CODES and d.fixes]


def migrate(text: str) -> str:
    for _ in range(MAX_ROUNDS):
        analysis = analyze(text)
        text = analysis.text
        chosen, taken = [], []
        for diag in deprecation_fixes(analysis):
            edits = diag.fixes[0].edits
            if any(e.span.start < t.end and t.start < e.span.end or
                   (e.span.start == e.span.end == t.start) for e in edits for t in taken):
                continue
            chosen.extend(edits)
            taken.extend(e.span for e in edits)
        if not chosen:
            return text
        new = apply_edits(text, chosen)
        if new == text:
            return text
        text = new
    return text
