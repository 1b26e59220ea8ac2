"""Code actions: the checker's fixes as quick fixes, and a source action that migrates the whole
file to current syntax (`qvr.semantics.migrate`).

Editors ask for code actions on every move of the cursor, so they are made from what typing
keeps up to date: the document's diagnostics (`Document.diagnostics`, the engine's run for
that version, equal to the full analysis' and carrying the same fixes) and its chunks, never a
parse or a full analysis of the whole text. The migration re-analyses the file (again for
each round of fixes that overlap), so it is offered from those diagnostics (the file has a
deprecated form with a fix) and only made when the user picks it (`Action.deferred`: the
server's migration command)."""
from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass
from operator import attrgetter
from typing import Optional

from qvr.diagnostics import Diagnostic
from qvr.semantics.migration import DEPRECATION_CODES, migrate
from qvr.syntax.span import Span

from . import MIGRATE_KIND  # in the package with the other names announced at initialize
from .formatting import minimal_edit


@dataclass(frozen=True)
class Action:
    title: str
    kind: str  # "quickfix" or MIGRATE_KIND
    edits: tuple[tuple[Span, str], ...]
    diagnostic: Optional[Diagnostic] = None
    preferred: bool = False
    # no edits yet: they are made when the action is picked (see the module docstring)
    deferred: bool = False


MIGRATE_TITLE = "Migrate file to current QVR syntax"


def _overlaps(a: Span, b: Span) -> bool:
    return a.start <= b.end and b.start <= a.end


def quick_fixes(doc, span: Span) -> list[Action]:
    out = []
    for d in doc.diagnostics or ():
        if not _overlaps(d.span, span):
            continue
        if d.code == UNDEFINED_TYPE and not d.fixes:
            action = declare_missing_object(doc, d)
            if action is not None:
                out.append(action)
            continue
        for i, fix in enumerate(d.fixes):
            edits = tuple((e.span, e.new_text) for e in fix.edits)
            out.append(Action(fix.title, "quickfix", edits, d, preferred=(i == 0 and len(d.fixes) == 1)))
    return out


UNDEFINED_TYPE = "QVR010"


def declare_missing_object(doc, diag: Diagnostic) -> Optional[Action]:
    """For `undefined type X` without a checker fix: declare `object X : Real 1` on the line
    before the declaration that uses it (declaration order matters, spec §4.1). That is the
    last top-level declaration starting at or before it at column 0 (the document's chunks;
    a `where` binding is a chunk of its own, indented under its owner)."""
    name = doc.text[diag.span.start:diag.span.end]
    if not name or not name.isidentifier():
        return None
    text = doc.text
    chunks = doc.chunks
    k = bisect_right(chunks, diag.span.start, key=attrgetter("start")) - 1
    while k > 0 and chunks[k].start > 0 and text[chunks[k].start - 1] != "\n":
        k -= 1  # an indented chunk (a `where` binding): its owner's declaration
    stmt_start = chunks[k].start if k >= 0 else diag.span.start
    line_start = text.rfind("\n", 0, stmt_start) + 1
    edit = (Span(line_start, line_start), f"object {name} : Real 1\n")
    return Action(f"Declare object `{name}`", "quickfix", (edit,), diag)


def migrate_action(doc) -> Optional[Action]:
    """The migration of the whole file as one edit (None: nothing to change)."""
    edit = minimal_edit(doc.text, migrate(doc.text))
    if edit is None:
        return None
    return Action(MIGRATE_TITLE, MIGRATE_KIND, (edit,))


def has_deprecated_forms(doc) -> bool:
    """Whether the file has a deprecated form that a migration rewrites (a fix of QVR090–109),
    from its diagnostics: what offering the migration costs."""
    return any(d.fixes and d.code in DEPRECATION_CODES for d in doc.diagnostics or ())


def code_actions(doc, span: Span, only: Optional[list[str]] = None) -> list[Action]:
    def wanted(kind: str) -> bool:
        return not only or any(kind == k or kind.startswith(k + ".") for k in only)

    actions: list[Action] = []
    if wanted("quickfix"):
        actions.extend(quick_fixes(doc, span))
    if wanted(MIGRATE_KIND) and has_deprecated_forms(doc):
        actions.append(Action(MIGRATE_TITLE, MIGRATE_KIND, (), deferred=True))
    return actions
