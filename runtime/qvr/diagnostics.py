"""Diagnostics shared by every layer: the record the checker produces and everyone reports.

A `Diagnostic` has a catalogue code (``QVR0xx``, spec §4.8), a severity, a message, a span
(code-point offsets into the normalised text), optional LSP tags, related locations and,
for deprecations and other rewrites, machine-applicable fixes made of text edits. The CLI
prints them, `qvr.load` raises them, and the language server converts them to LSP types.
"""
from __future__ import annotations

import dataclasses
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
        # Built by filling slots (see `slot_filler`), the usual shapes without comprehensions:
        # the language server moves every diagnostic after an edit, thousands per keystroke
        # in a file of deprecation hints.
        span = self.span
        _span = span.__class__  # `Span` (qvr.syntax imports this module, not the reverse)
        related = self.related
        if related:
            related = tuple([_related(_span(r.span.start + delta, r.span.end + delta), r.message)
                             for r in related])
        fixes = self.fixes
        if fixes:
            moved = []
            for f in fixes:
                edits = f.edits
                if len(edits) == 1:
                    e = edits[0]
                    edits = (_text_edit(_span(e.span.start + delta, e.span.end + delta), e.new_text),)
                else:
                    edits = tuple([_text_edit(_span(e.span.start + delta, e.span.end + delta),
                                              e.new_text) for e in edits])
                moved.append(_fix(f.title, edits))
            fixes = tuple(moved)
        return _diagnostic(self.code, self.severity, self.message,
                           _span(span.start + delta, span.end + delta), self.tags, related, fixes)

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


def slot_filler(cls):
    """A function ``(*field values) -> cls instance`` for a frozen slotted dataclass: a bare
    instance with each slot set through its own descriptor. The generated `__init__` goes
    through ``object.__setattr__`` per field, about twice the time, and the checker makes
    thousands of diagnostics and fixes (every deprecated form has one of each) and the
    language server moves thousands after each edit. The result equals the class' own."""
    names = [f.name for f in dataclasses.fields(cls)]
    if tuple(names) != tuple(getattr(cls, "__slots__", ())) or hasattr(cls, "__post_init__"):
        raise TypeError(f"{cls.__name__} is not a plain slotted dataclass")
    body = "".join(f"    set_{n}(obj, {n})\n" for n in names)
    namespace = {"new": object.__new__, "cls": cls,
                 **{f"set_{n}": getattr(cls, n).__set__ for n in names}}
    exec(f"def make({', '.join(names)}):\n    obj = new(cls)\n{body}    return obj\n", namespace)
    return namespace["make"]


_diagnostic = slot_filler(Diagnostic)
_related = slot_filler(Related)
_fix = slot_filler(Fix)
_text_edit = slot_filler(TextEdit)



def apply_edits(text: str, edits: tuple[TextEdit, ...] | list[TextEdit]) -> str:
    """Apply non-overlapping edits (any order) to `text`."""
    out = text
    for edit in sorted(edits, key=lambda e: (e.span.start, e.span.end), reverse=True):
        out = out[: edit.span.start] + edit.new_text + out[edit.span.end:]
    return out
