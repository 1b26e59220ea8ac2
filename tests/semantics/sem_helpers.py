"""Renderings of a checker run that the semantics tests compare whole."""
from __future__ import annotations

from qvr.semantics import analyze


def diagnostics(text: str) -> list:
    """Every diagnostic as (code, 1-based line, 0-based column, message), in order."""
    a = analyze(text)
    out = []
    for d in a.diagnostics:
        line, col = a.line_index.position(d.span.start)
        out.append((d.code, line + 1, col, d.message))
    return out


def positions(text: str) -> list[tuple[str, str]]:
    """Every diagnostic as ("line:col", code), both 1-based, in order."""
    a = analyze(text)
    out = []
    for d in a.diagnostics:
        line, col = a.line_index.position(d.span.start)
        out.append((f"{line + 1}:{col + 1}", d.code))
    return out
