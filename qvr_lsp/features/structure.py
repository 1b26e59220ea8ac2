"""Folding ranges and selection ranges, from the AST (and comments), robust to broken code."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

from qvr.syntax.ast import MarginalizeStep, ProgramDecl, walk_steps
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
            out.append(Fold(a, b))  # tier-3 blocks included
        if decl.__class__ is ProgramDecl:
            for step in walk_steps(decl.steps):  # a `marginalize` step and its body
                if step.__class__ is MarginalizeStep and step.body:
                    a = index.line_of(step.span.start)
                    b = index.line_of(max(step.span.start, step.body[-1].span.end - 1))
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
    spans.extend(_tree_sitter_spans(doc, offset))
    spans.append(Span(0, len(doc.text)))
    out: list[Span] = []
    # innermost first; each span must strictly contain the previous one
    for s in sorted(set(spans), key=lambda s: (s.end - s.start, -s.start)):
        if out and not s.covers(out[-1]):
            continue
        out.append(s)
    return out


def _tree_sitter_spans(doc, offset: int) -> list[Span]:
    """Named CST nodes around `offset`: they still exist in text lark cannot parse."""
    tree = doc.tree
    if tree is None:
        return []
    text = doc.text
    ascii_text = doc.line_index._ascii if hasattr(doc.line_index, "_ascii") else text.isascii()
    data = None if ascii_text else text.encode("utf-8", errors="surrogatepass")

    def to_offset(byte: int) -> int:
        return byte if data is None else len(data[:byte].decode("utf-8", errors="ignore"))

    byte = doc.line_index.byte_offset(offset)
    node = tree.root_node.named_descendant_for_byte_range(byte, byte)
    out = []
    while node is not None and len(out) < 64:
        out.append(Span(to_offset(node.start_byte), to_offset(node.end_byte)))
        node = node.parent
    return out
