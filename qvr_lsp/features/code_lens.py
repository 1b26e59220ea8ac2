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

from bisect import bisect_left, bisect_right
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
    for name, info in analysis.programs.items():
        decl = info.decl
        found.append(Target(name, decl.keyword.span, decl.span))
    export = analysis.export
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


def diagnostics_by_target(found: Sequence[Target], diagnostics: Sequence[Diagnostic]) -> list[list[Diagnostic]]:
    """For each target, the diagnostics that count as its own (`overlaps` its scope; all of
    them for a target without one), in their order: each diagnostic is placed by binary search
    over the scopes, not compared with every target (a file of thousands of programs and
    thousands of diagnostics took minutes that way).

    Program scopes are top-level declarations, so sorted by start they are sorted by end too;
    the targets a diagnostic overlaps are then one run of that order (those starting before it
    ends, among those ending after it starts). Scopes that are not so ordered fall back to
    comparing each pair."""
    own: list[list[Diagnostic]] = [[] for _ in found]
    scoped = sorted((t.scope.start, t.scope.end, k) for k, t in enumerate(found) if t.scope is not None)
    for k, t in enumerate(found):
        if t.scope is None:
            own[k] = list(diagnostics)
    starts = [start for start, _, _ in scoped]
    ends = [end for _, end, _ in scoped]
    if any(a > b for a, b in zip(ends, ends[1:])):
        for start, end, k in scoped:
            scope = found[k].scope
            own[k] = [d for d in diagnostics if overlaps(d.span, scope)]
        return own
    for d in diagnostics:
        span = d.span
        first = bisect_right(ends, span.start)  # the first scope ending after the span starts
        last = bisect_left(starts, span.end)  # scopes from here on start at or after its end
        for i in range(first, last):
            own[scoped[i][2]].append(d)
        # a diagnostic at the very start of a scope (zero-width ones) belongs to it as well
        for i in range(bisect_left(starts, span.start), bisect_right(starts, span.start)):
            if not first <= i < last:
                own[scoped[i][2]].append(d)
    return own


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
    found = targets(analysis)
    for target, own in zip(found, diagnostics_by_target(found, diagnostics)):
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
