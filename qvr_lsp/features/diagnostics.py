"""Diagnostics of a document: the checker's (syntax and semantic), each reported once.

They come from `Document.diagnostics` (the incremental checker: a keystroke re-checks only the
declarations it touched), which equals the full analysis' diagnostics.

The checker's lark-based syntax diagnostics (QVR001–QVR005) are authoritative. Tree-sitter
ERROR/MISSING nodes are only used when the checker is unavailable, worded for humans, so a
syntax error is never reported twice.
"""
from __future__ import annotations

from qvr.diagnostics import Diagnostic, Severity
from qvr.syntax.span import Span


def document_diagnostics(doc) -> list[Diagnostic]:
    diagnostics = doc.diagnostics
    if diagnostics is not None:
        out, seen = [], set()
        for d in diagnostics:
            key = (d.code, d.span.start, d.span.end, d.message)
            if key not in seen:
                seen.add(key)
                out.append(d)
        return out
    return tree_sitter_syntax_errors(doc)


def _offset_of_byte(text: str, byte: int) -> int:
    return len(text.encode("utf-8", errors="surrogatepass")[:byte].decode("utf-8", errors="ignore"))


def tree_sitter_syntax_errors(doc, limit: int = 50) -> list[Diagnostic]:
    """QVR002-style diagnostics from the tree-sitter CST (fallback when lark is unavailable)."""
    tree = doc.tree
    if tree is None or not tree.root_node.has_error:
        return []
    out: list[Diagnostic] = []
    cursor = [tree.root_node]
    while cursor and len(out) < limit:
        node = cursor.pop()
        if node.is_missing:
            start = _offset_of_byte(doc.text, node.start_byte)
            out.append(Diagnostic("QVR002", Severity.ERROR, f"syntax error: expected `{node.type}` here", Span(start, start)))
            continue
        if node.type == "ERROR":
            start = _offset_of_byte(doc.text, node.start_byte)
            end = _offset_of_byte(doc.text, node.end_byte)
            snippet = doc.text[start:end].split("\n", 1)[0][:30]
            out.append(Diagnostic("QVR002", Severity.ERROR, f"syntax error: unexpected `{snippet}`", Span(start, end)))
            continue
        if node.has_error:
            cursor.extend(reversed(node.children))
    return sorted(out, key=lambda d: (d.span.start, d.span.end))
