"""Code actions: the checker's fixes as quick fixes, and a source action that migrates the whole
file to current syntax (`qvr.semantics.migrate`)."""
from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Optional

from qvr.diagnostics import Diagnostic
from qvr.syntax.span import Span

from .formatting import minimal_edit

MIGRATE_KIND = "source.migrate.qvr"


@dataclass(frozen=True)
class Action:
    title: str
    kind: str  # "quickfix" or MIGRATE_KIND
    edits: tuple[tuple[Span, str], ...]
    diagnostic: Optional[Diagnostic] = None
    preferred: bool = False


def _overlaps(a: Span, b: Span) -> bool:
    return a.start <= b.end and b.start <= a.end


def quick_fixes(doc, span: Span) -> list[Action]:
    analysis = doc.analysis
    if analysis is None:
        return []
    out = []
    for d in analysis.diagnostics:
        if not d.fixes or not _overlaps(d.span, span):
            continue
        for i, fix in enumerate(d.fixes):
            edits = tuple((e.span, e.new_text) for e in fix.edits)
            out.append(Action(fix.title, "quickfix", edits, d, preferred=(i == 0 and len(d.fixes) == 1)))
    return out


def migrated_text(text: str) -> Optional[str]:
    try:
        semantics = importlib.import_module("qvr.semantics")
        migrate = getattr(semantics, "migrate")
    except Exception:
        return None
    result = migrate(text)
    return getattr(result, "text", result) if not isinstance(result, str) else result


def migrate_action(doc) -> Optional[Action]:
    new = migrated_text(doc.text)
    if new is None:
        return None
    edit = minimal_edit(doc.text, new)
    if edit is None:
        return None
    return Action("Migrate file to current QVR syntax", MIGRATE_KIND, (edit,))


def code_actions(doc, span: Span, only: Optional[list[str]] = None) -> list[Action]:
    def wanted(kind: str) -> bool:
        return not only or any(kind == k or kind.startswith(k + ".") for k in only)

    actions: list[Action] = []
    if wanted("quickfix"):
        actions.extend(quick_fixes(doc, span))
    if wanted(MIGRATE_KIND):
        action = migrate_action(doc)
        if action is not None:
            actions.append(action)
    return actions
