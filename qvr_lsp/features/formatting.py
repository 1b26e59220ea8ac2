"""Document formatting through the checker's formatter (`qvr.semantics.formatter.format_text`).

Refuses (returns a message, no edits) when the document has syntax errors: formatting a file
the parser cannot read could lose text. Returns a single minimal edit (common prefix and suffix
trimmed) so the client keeps the cursor and undo stack sensible.
"""
from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Optional

from qvr.syntax.span import Span

SYNTAX_CODES = {"QVR001", "QVR002", "QVR003", "QVR004", "QVR005"}


@dataclass(frozen=True)
class FormatResult:
    edits: tuple[tuple[Span, str], ...]
    message: Optional[str] = None  # why nothing was done, for the user


def minimal_edit(old: str, new: str) -> Optional[tuple[Span, str]]:
    if old == new:
        return None
    n = min(len(old), len(new))
    a = 0
    while a < n and old[a] == new[a]:
        a += 1
    b = 0
    while b < n - a and old[len(old) - 1 - b] == new[len(new) - 1 - b]:
        b += 1
    return Span(a, len(old) - b), new[a: len(new) - b]


def format_document(doc, parsed=None) -> FormatResult:
    """The edit that formats `doc`, or why there is none. `parsed`: its `ParseResult` (given
    by the server, which formats in its worker thread: see `formatter.format_text`)."""
    analysis = doc.analysis
    if analysis is None:
        return FormatResult((), "the QVR checker is unavailable")
    errors = [d for d in analysis.diagnostics if d.code in SYNTAX_CODES]
    if errors:
        line, col = doc.line_index.position(errors[0].span.start)
        return FormatResult((), f"not formatting: syntax error at {line + 1}:{col + 1} ({errors[0].code}: {errors[0].message})")
    try:
        formatter = importlib.import_module("qvr.semantics.formatter")
        new = formatter.format_text(doc.text, parsed)
    except Exception as exc:
        return FormatResult((), f"the formatter failed: {exc}")
    edit = minimal_edit(doc.text, new)
    return FormatResult((edit,) if edit else ())
