"""The entry a run command should run for a cursor position (the ``qvr/entryAt`` request).

One rule for every client (the VS Code palette commands, Neovim's ``:QvrRun*``), from the
analysis instead of each client scanning the text:

1. the program or ``define`` whose declaration holds the cursor (a cursor in a ``where``
   binding picks the define that owns it);
2. else the export, when it is a plain name (``export model``);
3. else the file's only program.

Anything else (several programs, the cursor outside them, no export) has no single answer:
None, and the client asks or says so.
"""
from __future__ import annotations

from dataclasses import dataclass

from qvr.run.contract import RUN_KINDS
from qvr.syntax.span import Span
from qvr.syntax.ast import Ref

from ..client_contract import RUNS


@dataclass(frozen=True)
class Entry:
    name: str
    kind: str  # "program", "define", or "export" (an exported name that is neither)
    span: Span  # the declaration (the export statement for kind "export")
    name_span: Span  # the name in it
    reason: str  # why this one: "cursor", "export" or "only program"
    commands: tuple[str, ...] = tuple(RUNS[k]["command"] for k in RUN_KINDS)


def _contains(span: Span, offset: int) -> bool:
    return span.start <= offset <= span.end


def _declared(analysis, name: str, reason: str) -> Entry | None:
    info = analysis.programs.get(name)
    kind = "program"
    if info is None:
        info, kind = analysis.defines.get(name), "define"
    if info is None:
        return None
    decl = info.decl
    return Entry(name, kind, decl.span, decl.name.span, reason)


def entry_at(analysis, offset: int) -> Entry | None:
    """The entry to run for a cursor at `offset` (a code-point offset into the analysed text)."""
    if analysis is None:
        return None
    for name, info in analysis.programs.items():
        if _contains(info.decl.span, offset):
            return _declared(analysis, name, "cursor")
    for name, info in analysis.defines.items():
        if _contains(info.decl.span, offset):
            return _declared(analysis, info.owner or name, "cursor")
    export = analysis.export
    if export is not None and export.expr.__class__ is Ref:
        ref = export.expr.name
        found = _declared(analysis, ref.text, "export")
        if found is not None:
            return found
        return Entry(ref.text, "export", export.span, ref.span, "export")
    if len(analysis.programs) == 1:
        (name,) = analysis.programs
        return _declared(analysis, name, "only program")
    return None
