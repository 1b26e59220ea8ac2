"""`migrate(text)`: rewrite every deprecated form (QVR090–QVR109) to the current form.

Deprecation fixes are computed independently and may overlap (a `continuous` statement's
rewrite contains its `Euclidean` signature), so each round applies the fixes whose edits do
not overlap any already chosen, then re-analyses; it stops when no deprecation is left (or
when a round changes nothing, so a fix that fails to remove its hint cannot loop)."""
from __future__ import annotations

from bisect import bisect_left, bisect_right

from ..diagnostics import apply_edits
from .engine import analyze

DEPRECATION_CODES = frozenset(f"QVR{n:03d}" for n in range(90, 110))
MAX_ROUNDS = 20


def deprecation_fixes(analysis) -> list:
    return [d for d in analysis.diagnostics if d.code in DEPRECATION_CODES and d.fixes]


def _overlaps_taken(span, starts: list, ends: list) -> bool:
    """Whether `span` overlaps one of the taken spans (`starts`/`ends`: theirs, in order; they
    do not overlap each other), or is empty where one begins: only the taken span that
    begins last before `span` ends can overlap it, so one look-up, not a pass over all."""
    k = bisect_left(starts, span.end)
    if k and ends[k - 1] > span.start:  # (among spans of one start, the longest sorts last)
        return True
    return span.start == span.end and k < len(starts) and starts[k] == span.start


def migrate(text: str) -> str:
    for _ in range(MAX_ROUNDS):
        analysis = analyze(text)
        text = analysis.text
        chosen, starts, ends = [], [], []
        for diag in deprecation_fixes(analysis):
            edits = diag.fixes[0].edits
            if any(_overlaps_taken(e.span, starts, ends) for e in edits):
                continue
            chosen.extend(edits)
            for e in edits:
                k = bisect_right(starts, e.span.start)
                while k and starts[k - 1] == e.span.start and ends[k - 1] > e.span.end:
                    k -= 1  # (keep the spans of one start by their ends)
                starts.insert(k, e.span.start)
                ends.insert(k, e.span.end)
        if not chosen:
            return text
        new = apply_edits(text, chosen)
        if new == text:
            return text
        text = new
    return text
