"""Diagnostics shared by every layer: the record the checker produces and everyone reports.

A `Diagnostic` has a catalogue code (``QVR0xx``, spec §4.8), a severity, a message, a span
(code-point offsets into the normalised text), optional LSP tags, related locations and,
for deprecations and other rewrites, machine-applicable fixes made of text edits. The CLI
prints them, `qvr.load` raises them, and the language server converts them to LSP types.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from enum import IntEnum

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # annotations only; importing qvr.syntax here would be circular
    from .syntax.span import LineIndex, Span


class Severity(IntEnum):
    """Numbered as LSP's DiagnosticSeverity so conversion is a cast."""

    ERROR = 1
    WARNING = 2
    INFORMATION = 3
    HINT = 4

    @property
    def label(self) -> str:
        return self.name.lower()


TAG_UNNECESSARY = "unnecessary"
TAG_DEPRECATED = "deprecated"


@dataclass(frozen=True, slots=True)
class TextEdit:
    span: Span
    new_text: str


@dataclass(frozen=True, slots=True)
class Fix:
    title: str
    edits: tuple[TextEdit, ...]


@dataclass(frozen=True, slots=True)
class Related:
    span: Span
    message: str


@dataclass(frozen=True, slots=True)
class Diagnostic:
    code: str
    severity: Severity
    message: str
    span: Span
    tags: tuple[str, ...] = ()
    related: tuple[Related, ...] = ()
    fixes: tuple[Fix, ...] = ()

    @property
    def is_error(self) -> bool:
        return self.severity == Severity.ERROR

    def shifted(self, delta: int) -> "Diagnostic":
        """This diagnostic with every span (its own, related locations, fix edits) moved."""
        if not delta:
            return self
        span = self.span.shifted(delta)
        related = tuple(Related(r.span.shifted(delta), r.message) for r in self.related)
        fixes = tuple(Fix(f.title, tuple(TextEdit(e.span.shifted(delta), e.new_text) for e in f.edits))
                      for f in self.fixes)
        return Diagnostic(self.code, self.severity, self.message, span, self.tags, related, fixes)

    def format(self, filename: str, index: LineIndex) -> str:
        """``file:line:col: severity[code]: message`` with 1-based line and code-point column."""
        line, col = index.position(self.span.start)
        return f"{filename}:{line + 1}:{col + 1}: {self.severity.label}[{self.code}]: {self.message}"

    def to_json(self, filename: str, index: LineIndex) -> dict:
        line, col = index.position(self.span.start)
        end_line, end_col = index.position(self.span.end)
        return {
            "file": filename,
            "line": line + 1,
            "column": col + 1,
            "end_line": end_line + 1,
            "end_column": end_col + 1,
            "severity": self.severity.label,
            "code": self.code,
            "message": self.message,
        }


def apply_edits(text: str, edits: tuple[TextEdit, ...] | list[TextEdit]) -> str:
    """Apply non-overlapping edits (any order) to `text`."""
    out = text
    for edit in sorted(edits, key=lambda e: (e.span.start, e.span.end), reverse=True):
        out = out[: edit.span.start] + edit.new_text + out[edit.span.end:]
    return out
