"""Diagnostics of a document: the checker's (syntax and semantic), each reported once.

They come from `Document.diagnostics` (the analysis engine's incremental run: a keystroke
re-checks only the declarations it touched), which equals the full analysis' diagnostics.

The checker's lark-based syntax diagnostics (QVR001–QVR005) are authoritative. Tree-sitter
ERROR/MISSING nodes are only used when the checker is unavailable, worded for humans, so a
syntax error is never reported twice.
"""
from __future__ import annotations

from qvr.diagnostics import Diagnostic, Severity
from qvr.syntax.span import Span


def document_diagnostics(doc) -> list[Diagnostic]:
    """The document's diagnostics with repeats (same code, range and message) left out.
    They arrive sorted by (start, end, code), so a repeat lies in the run of diagnostics with
    its range and code: only such runs are compared (this runs on every keystroke, over
    thousands of hints in a file of deprecated forms)."""
    diagnostics = doc.diagnostics
    if diagnostics is None:
        return tree_sitter_syntax_errors(doc)
    out = []
    run_start = run_end = run_code = None
    run_messages: list = []
    for d in diagnostics:
        span = d.span
        if span.start != run_start or span.end != run_end or d.code != run_code:
            run_start, run_end, run_code = span.start, span.end, d.code
            run_messages = [d.message]
        elif d.message in run_messages:
            continue
        else:
            run_messages.append(d.message)
        out.append(d)
    return out


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
