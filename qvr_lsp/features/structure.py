"""Folding ranges and selection ranges, from the AST (and comments), robust to broken code."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

from qvr.syntax.span import Span

from .common import nodes_containing, word_at


@dataclass(frozen=True)
class Fold:
    start_line: int
    end_line: int
    kind: Optional[str] = None  # "comment" or None (region)


def folding_ranges(doc) -> list[Fold]:
    parsed = doc.parsed
    index = doc.line_index
    out: list[Fold] = []
    if parsed is None:
        return out
    module = parsed.module
    for decl in module.statements:
        a = index.line_of(decl.span.start)
        b = index.line_of(max(decl.span.start, decl.span.end - 1))
        if b > a:
            out.append(Fold(a, b))
    # runs of line comments, and block comments spanning lines
    run_start = run_end = None
    for c in getattr(module, "comments", ()):
        a = index.line_of(c.span.start)
        b = index.line_of(max(c.span.start, c.span.end - 1))
        if b > a:
            out.append(Fold(a, b, "comment"))
            continue
        if run_end is not None and a == run_end + 1:
            run_end = a
        else:
            if run_start is not None and run_end > run_start:
                out.append(Fold(run_start, run_end, "comment"))
            run_start = run_end = a
    if run_start is not None and run_end > run_start:
        out.append(Fold(run_start, run_end, "comment"))
    return sorted(set(out), key=lambda f: (f.start_line, f.end_line))


def selection_chain(doc, offset: int) -> list[Span]:
    """Spans around `offset`, innermost first, each containing the previous: word, AST nodes
    from the innermost outwards, the whole document."""
    spans: list[Span] = []
    word = word_at(doc.text, offset)
    if word is not None:
        spans.append(word[1])
    parsed = doc.parsed
    if parsed is not None:
        for node in reversed(nodes_containing(parsed.module, offset)):
            spans.append(node.span)
    spans.append(Span(0, len(doc.text)))
    out: list[Span] = []
    for s in spans:
        if out and (s == out[-1] or not s.covers(out[-1])):
            continue
        out.append(s)
    return out
