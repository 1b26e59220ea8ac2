"""Code lenses above every ``program`` and the ``export``/``output`` line: Run SVI, Sample,
Run NUTS and Check.

A pure function of the analysis: it returns plain `Lens` records (a span, a title, a command
and its arguments) that the server converts to LSP ``CodeLens``. Lenses are never hidden:
when a run is impossible (the file has errors, or runs are disabled in this workspace) they
are shown disabled, the title says why, and the command (``qvr.run.disabled``) only explains.
While an entry is running, its lenses offer to cancel that run instead.

Arguments are the ones docs/internals.md fixes for the run commands: one object with ``uri``
and ``entry`` (the disabled command also gets ``kind`` and the ``reason``).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Mapping, Sequence

from qvr.diagnostics import Diagnostic, Severity
from qvr.syntax.span import Span

RUN_COMMANDS = (
    ("svi", "Run SVI", "qvr.run.svi"),
    ("sample", "Sample", "qvr.run.sample"),
    ("nuts", "Run NUTS", "qvr.run.nuts"),
)
CHECK_COMMAND = "qvr.run.check"
DISABLED_COMMAND = "qvr.run.disabled"
CANCEL_COMMAND = "qvr.run.cancel"

RUNS_OFF_REASON = "runs disabled"
RUNS_OFF_MESSAGE = (
    "Model runs are disabled in this workspace (setting qvr.run.enabled is false; the VS Code "
    "extension turns it off in untrusted workspaces)."
)


@dataclass(frozen=True)
class Lens:
    span: Span
    title: str
    command: str
    arguments: tuple


@dataclass(frozen=True)
class Target:
    """Something runnable the lenses sit above: a program, or the exported entry."""

    entry: str | None  # None: an exported expression that is not a plain name
    anchor: Span  # where the lens row goes (the declaration keyword)
    scope: Span | None  # diagnostics inside count as this target's own; None: whole file


def targets(analysis) -> list[Target]:
    """Programs in source order, then the export."""
    found = []
    for name, info in getattr(analysis, "programs", {}).items():
        decl = info.decl
        found.append(Target(name, decl.keyword.span, decl.span))
    export = getattr(analysis, "export", None)
    if export is not None:
        name = getattr(getattr(export.expr, "name", None), "text", None)
        is_plain_name = type(export.expr).__name__ == "Ref" and isinstance(name, str)
        found.append(Target(name if is_plain_name else None, export.keyword.span, None))
    return sorted(found, key=lambda t: t.anchor.start)


def count_summary(diagnostics: Iterable[Diagnostic]) -> str:
    """``2 errors, 1 warning`` (severities with a count only) or ``no problems``."""
    counts = {s: 0 for s in Severity}
    for d in diagnostics:
        counts[Severity(d.severity)] += 1
    words = {Severity.ERROR: "error", Severity.WARNING: "warning",
             Severity.INFORMATION: "info", Severity.HINT: "hint"}
    parts = [f"{n} {words[s]}{'' if n == 1 or s == Severity.INFORMATION else 's'}"
             for s, n in counts.items() if n]
    return ", ".join(parts) if parts else "no problems"


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def overlaps(span: Span, scope: Span) -> bool:
    # zero-width diagnostics at the very start still belong to the declaration
    return (span.start < scope.end and scope.start < span.end) or span.start == scope.start


def code_lenses(
    analysis,
    uri: str,
    *,
    diagnostics: Sequence[Diagnostic] | None = None,
    runs_enabled: bool = True,
    active: Mapping[str, str] | None = None,
) -> list[Lens]:
    """Lenses for one document.

    `diagnostics` defaults to ``analysis.diagnostics`` (pass the server's list to include
    run diagnostics); `active` maps an entry that is running now to its kind.
    """
    if analysis is None:
        return []
    diagnostics = list(analysis.diagnostics if diagnostics is None else diagnostics)
    file_errors = [d for d in diagnostics if d.severity == Severity.ERROR]
    active = active or {}
    lenses: list[Lens] = []
    for target in targets(analysis):
        own = diagnostics if target.scope is None else [
            d for d in diagnostics if overlaps(d.span, target.scope)]
        own_errors = [d for d in own if d.severity == Severity.ERROR]
        if target.entry is None:
            reason = "export is not a plain name"
            message = ("Only a program or a named definition can be run: export a name "
                       "(e.g. `define model = ...` then `export model`).")
        elif not runs_enabled:
            reason, message = RUNS_OFF_REASON, RUNS_OFF_MESSAGE
        elif own_errors:
            reason = _plural(len(own_errors), "error")
            message = f"{target.entry} has {reason}; fix them to run it."
        elif file_errors:
            reason = f"{_plural(len(file_errors), 'error')} in file"
            message = (f"The file has {_plural(len(file_errors), 'error')}; a module with "
                       "errors cannot be loaded, so nothing in it can run.")
        else:
            reason = message = None
        args = {"uri": uri, "entry": target.entry}
        running = active.get(target.entry) if target.entry is not None else None
        for kind, title, command in RUN_COMMANDS:
            if running == kind:
                lenses.append(Lens(target.anchor, f"{title}: running… (cancel)", CANCEL_COMMAND,
                                   (args,)))
            elif reason is None:
                lenses.append(Lens(target.anchor, title, command, (args,)))
            else:
                lenses.append(Lens(target.anchor, f"{title} (disabled: {reason})",
                                   DISABLED_COMMAND,
                                   ({**args, "kind": kind, "reason": message},)))
        lenses.append(Lens(target.anchor, f"Check: {count_summary(own)}", CHECK_COMMAND,
                           (args,)))
    return lenses
