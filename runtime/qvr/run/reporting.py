"""Where a run's life goes: JSON events on stdout (``--json``, read live by the language
server), a progress bar and a summary for a person, or nothing (data-parallel ranks but 0).

Every reporter has the same four calls: ``start(StartEvent)``, ``progress(step, total, value,
elapsed, chains=None, metric="loss")`` (`value` is the kind's metric, `qvr.run.contract.METRIC`:
SVI's loss or the log joint of a Sample or NUTS draw), ``result(ResultEvent)`` and
``error(RunError)``.
"""
from __future__ import annotations

import json
import sys

from ..errors import non_finite_site
from .contract import (METRIC_TITLES, TOTAL_UNITS, ProgressEvent, ResultEvent, RunError, StartEvent,
                       dumps_event)


class JsonReporter:
    """One event per line on stdout (docs/internals.md, "qvr run --json events")."""

    def __init__(self, stream=None):
        self.stream = stream or sys.stdout

    def emit(self, event: dict) -> None:
        # The language server reads these live: one object per line, flushed at once.
        self.stream.write(dumps_event(event) + "\n")
        self.stream.flush()

    def progress(self, step, total, value, elapsed, chains=None, metric="loss"):
        self.emit(ProgressEvent(step, total, value, elapsed,
                                tuple(chains) if chains is not None else None,
                                metric).to_json())

    def start(self, event: StartEvent):
        self.emit(event.to_json())

    def result(self, event: ResultEvent):
        self.emit(event.to_json())

    def error(self, err: RunError):
        self.emit(err.event())


class HumanReporter:
    """A progress bar on stderr; the final summary on stdout."""

    def __init__(self, out=None, err=None):
        self.out = out or sys.stdout
        self.err = err or sys.stderr
        self.tty = hasattr(self.err, "isatty") and self.err.isatty()
        self._last_tenth = -1

    def start(self, event: StartEvent):
        self.err.write(f"qvr run: {event.kind} on {event.entry} ({event.device}), "
                       f"{event.total} {TOTAL_UNITS.get(event.kind, 'steps')}\n")
        self.err.flush()

    def progress(self, step, total, value, elapsed, chains=None, metric="loss"):
        width = 30
        filled = int(width * step / total) if total else width
        bar = "#" * filled + "-" * (width - filled)
        line = f"[{bar}] {step}/{total}  {METRIC_TITLES[metric]} {_fmt(value)}  {elapsed:.1f}s"
        if chains is not None:
            per_chain = total // len(chains) if total else 0
            line += "  chains " + " ".join(f"{100 * done // per_chain if per_chain else 100}%"
                                           for done in chains)
        if self.tty:
            self.err.write("\r" + line + ("\n" if step >= total else ""))
            self.err.flush()
        else:
            tenth = int(10 * step / total) if total else 10
            if tenth != self._last_tenth or step >= total:
                self._last_tenth = tenth
                self.err.write(line + "\n")
                self.err.flush()

    def result(self, event: ResultEvent):
        extra = event.extra
        if "val_perplexity" in extra:  # a text corpus (qvr.charlm)
            self.out.write(f"training perplexity {_fmt(extra['train_perplexity'])}, "
                           f"validation perplexity {_fmt(extra['val_perplexity'])}\n")
            if extra.get("generated") is not None:
                self.out.write(f"generated: {json.dumps(extra['generated'])}\n")
        nan = extra.get("nan_log_joints")
        if nan is not None:  # prior draws whose log joint is NaN (qvr.run.drivers.sample)
            where = f"{nan['file']}:{nan['line']}:{nan['column']}: " if nan.get("line") else ""
            site = non_finite_site(nan["site"]) if nan.get("site") else "no site is non-finite on its own"
            self.err.write(f"qvr run: {where}note: {nan['draws']} draw(s) have a NaN log joint, the "
                           f"first draw {nan['first_draw']}: {site}\n")
        title = METRIC_TITLES[event.metric]
        self.out.write(
            f"{event.kind} {event.entry}: final {title} {_fmt(event.final)} "
            f"in {round(event.elapsed, 4):.1f}s on {event.device}\n"
            f"summary: {event.summary_path}\n{title} curve: {event.curve_path}\n")
        self.out.flush()

    def error(self, err: RunError):
        if self.tty:
            self.err.write("\n")
        where = ""
        if err.file is not None and err.line is not None:
            where = f"{err.file}:{err.line}:{err.column}: "
        self.err.write(f"qvr run: {where}error[{err.code}]: {err}\n")
        self.err.flush()


class SilentReporter:
    """What the processes other than rank 0 of a data-parallel run report: nothing but a
    failure, as one line on stderr."""

    def start(self, event):
        pass

    def progress(self, *args, **kwargs):
        pass

    def result(self, event):
        pass

    def error(self, err):
        print(f"qvr run: error[{err.code}]: {err}", file=sys.stderr)


def _fmt(x):
    return "n/a" if x is None else f"{x:.4g}"
