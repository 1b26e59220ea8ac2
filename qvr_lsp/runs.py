"""Model runs started from the editor: one worker process per run, never the server itself.

A run is ``<python> -m qvr run SNAPSHOT --entry NAME --svi|--sample|--nuts --json ...`` in an
asyncio subprocess; its output lines are the events of `qvr.run.contract` (read with
`parse_event`; docs/internals.md, "qvr run --json events"). The language server never imports
torch (the contract is torch-free): a model that crashes, hangs or eats memory takes down only
its worker.

This module knows nothing about LSP. `RunManager` turns the worker's JSON lines into calls on a
`RunReporter` (progress begin/report/end, a final `RunOutcome`, changed diagnostics); the pygls
wiring lives in ``qvr_lsp.run_commands``. That split keeps the process handling testable with
a plain recording reporter.

Life of a run:

1. at most one run per (document, entry): a request for an entry that has a run queued,
   starting or running gets that run back (`RunManager.start`), however close together the
   requests come; at most ``max_concurrent`` workers run at once, later runs wait in a queue
   (reported as "queued") and start in order as slots free up;
2. the document text is written to a private temporary directory (what runs is exactly what
   the editor shows, saved or not); the worker writes ``summary.json`` and the curve of the
   kind's metric (SVI's loss, the log joint of Sample and NUTS draws) to the
   request's ``out_dir`` (the server passes ``runs/<entry>-<kind>-<time>`` next to the document,
   as ``qvr run`` itself does). When the run ends the snapshot directory is removed, and so is
   an ``out_dir`` the worker left empty (a cancelled run), with the ``runs`` folder above it if
   this manager created it and it is empty;
3. every line of stdout is one event; stderr is kept (last lines) to explain a crash;
4. no output for ``timeout`` seconds (counted from the last line, so a long run that keeps
   reporting is never a hang) is a hang, a non-finite loss (SVI) or log joint (NUTS) is a NaN
   failure (a Sample run keeps its NaN prior draws: its result counts them); both stop the
   worker, as does a cancel: SIGTERM to its process group, SIGKILL after ``grace`` seconds, then
   the process is reaped, so nothing is left behind;
5. an ``error`` event with a line becomes a diagnostic on that line of the document
   (`RunManager.extra_diagnostics`), kept until the document text changes or the entry runs again.

Workers die with the server however it dies: each worker asks Linux for SIGKILL when the
server's process ends (``PR_SET_PDEATHSIG``, set between fork and exec), the server kills every
worker's process group at exit (`RunManager.shutdown_now`, from ``atexit`` and from its SIGTERM
handler), and a clean ``shutdown`` stops them politely first. The worker keeps a process group
of its own so that stopping it also stops the processes it started (parallel NUTS chains,
data-parallel copies).
"""
from __future__ import annotations

import asyncio
import collections
import json
import logging
import math
import os
import shlex
import shutil
import signal
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Callable, Mapping, Protocol

from qvr.diagnostics import Diagnostic, Severity
from qvr.run.contract import (METRIC, METRIC_SERIES, METRIC_TITLES, RUN_KINDS, TOTAL_UNITS,
                               finite_or_none, parse_event)
from qvr.syntax.span import LineIndex, Span

from .client_contract import RUN_SETTING_DEFAULTS, RUNS

KIND_TITLES = {kind: RUNS[kind]["lens"] for kind in RUN_KINDS}

#: Environment variable naming a command that replaces ``<python> -m qvr`` (tests use a fake
#: worker through it; it is also a way to run models in another environment, e.g. a container).
WORKER_ENV = "QVR_LSP_WORKER"

#: Diagnostic code for a run failure whose worker did not say which QVR code applies.
RUN_ERROR_CODE = "QVR-run"

#: The ``$/progress`` message of a run waiting for a free slot (``qvr.run.maxConcurrent``).
QUEUED_MESSAGE = "queued"

log = logging.getLogger(__name__)

_STDERR_TAIL_LINES = 20
_STREAM_LIMIT = 16 * 1024 * 1024  # a result event carries posterior summaries: allow long lines


# ------------------------------------------------------------------------------------------------
# settings


@dataclass(frozen=True)
class RunSettings:
    """The ``qvr.run`` settings section (docs/internals.md) plus the process knobs.

    ``timeout`` is how long a worker may stay silent before it counts as hung (model loading
    and torch start-up included, so it is generous by default); ``grace`` is the time between
    SIGTERM and SIGKILL when a run is stopped; ``max_concurrent`` (``maxConcurrent``) is how
    many workers may run at once.
    """

    # the defaults of qvr_lsp.client_contract, which the clients' settings share; an empty
    # string there is None here (steps, samples, warmup None: the runner's defaults)
    enabled: bool = RUN_SETTING_DEFAULTS["enabled"]
    steps: int | None = RUN_SETTING_DEFAULTS["steps"]  # SVI steps
    samples: int | None = RUN_SETTING_DEFAULTS["samples"]  # Sample draws, NUTS draws per chain
    warmup: int | None = RUN_SETTING_DEFAULTS["warmup"]  # NUTS warm-up per chain
    device: str | None = RUN_SETTING_DEFAULTS["device"] or None
    data: str | None = RUN_SETTING_DEFAULTS["data"] or None
    python: str | None = RUN_SETTING_DEFAULTS["python"] or None
    timeout: float = RUN_SETTING_DEFAULTS["timeout"]
    grace: float = RUN_SETTING_DEFAULTS["grace"]
    max_concurrent: int = RUN_SETTING_DEFAULTS["maxConcurrent"]

    def merged(self, values: Any, *, allow_python: bool = False,
               warn: Callable[[str], None] | None = None) -> "RunSettings":
        """These settings updated from a client's ``qvr.run`` object (or ``{"qvr": {"run": …}}``
        / ``{"run": …}``).

        Values are taken only when they have the right JSON type: ``enabled`` only as
        ``true``/``false`` (a string "false", 0 or null are not booleans), numbers only as
        positive numbers (integers for ``steps``, ``samples`` and ``maxConcurrent``; ``warmup``
        a non-negative integer; ``steps``, ``samples`` and ``warmup`` may be null: the runner's
        default). Anything else is ignored, the current value kept, and `warn` is
        told why, so a misconfigured client cannot break the server or turn runs on.

        ``python`` names the interpreter the worker runs, so it is code execution: it is taken
        only with ``allow_python`` (settings of the user's own, see `RunService`); otherwise it
        is ignored and `warn` is told."""
        section = _run_section(values)
        if not section:
            return self
        changes: dict[str, Any] = {}

        def refuse(key: str, expected: str) -> None:
            if warn is not None:
                current = getattr(self, _SETTING_FIELDS.get(key, key))
                warn(f"qvr.run.{key}: {json.dumps(section[key], default=repr)} is not {expected}; "
                     f"keeping {json.dumps(current)}")

        if "enabled" in section:
            if isinstance(section["enabled"], bool):
                changes["enabled"] = section["enabled"]
            else:
                refuse("enabled", "true or false")
        for key, kind in (("steps", int), ("samples", int), ("warmup", int),
                          ("timeout", float), ("grace", float), ("maxConcurrent", int)):
            if key not in section:
                continue
            value = section[key]
            low_ok = key == "warmup"  # no warm-up at all is a choice; no draws is not
            if value is None and key in ("steps", "samples", "warmup"):
                changes[key] = None
            elif (isinstance(value, (int, float)) and not isinstance(value, bool)
                  and math.isfinite(value) and (value > 0 or (low_ok and value == 0))
                  and (kind is float or float(value).is_integer())):
                changes[_SETTING_FIELDS.get(key, key)] = kind(value)
            else:
                refuse(key, "a non-negative integer" if low_ok else
                       "a positive integer" if kind is int else "a positive number")
        for key in ("device", "data", "python"):
            if key not in section:
                continue
            value = section[key]
            if value is not None and not isinstance(value, str):
                refuse(key, "a string")
            elif key == "python" and not allow_python:
                if value and warn is not None:
                    warn(f"qvr.run.python {json.dumps(value)} is ignored: the interpreter is "
                         "taken only from initializationOptions or the user's global settings, "
                         "never from a workspace's")
            else:
                changes[key] = value or None
        return replace(self, **changes)


# JSON keys whose dataclass field is spelled differently.
_SETTING_FIELDS = {"maxConcurrent": "max_concurrent"}


def _run_section(values: Any) -> Mapping[str, Any] | None:
    if not isinstance(values, Mapping):
        return None
    if isinstance(values.get("qvr"), Mapping):
        values = values["qvr"]
    if isinstance(values.get("run"), Mapping):
        values = values["run"]
    return values


# ------------------------------------------------------------------------------------------------
# requests, events and outcomes


@dataclass(frozen=True)
class RunRequest:
    """What to run: the document (uri, text as the editor has it), the entry and the kind."""

    uri: str
    entry: str
    kind: str
    text: str
    settings: RunSettings = RunSettings()
    filename: str = "model.qvr"  # base name of the snapshot written for the worker
    cwd: str | None = None  # where the worker runs (relative --data paths resolve there)
    out_dir: str | None = None  # where results go (--out); None: a fresh temporary directory


@dataclass
class RunOutcome:
    """How a run ended; `to_notification` is the ``qvr/runFinished`` payload.

    ``final`` and ``values`` are the kind's metric (`qvr.run.contract.METRIC`: SVI's loss, the
    log joint of a Sample or NUTS draw) and the payload names them as the worker's events do:
    ``final_loss``, ``losses``, ``loss_curve_path`` for SVI, ``final_log_joint``,
    ``log_joints``, ``log_joint_curve_path`` for the others, with ``metric`` saying which."""

    uri: str
    entry: str
    kind: str
    ok: bool
    message: str
    status: str  # "ok", "failed", "cancelled"
    final: float | None = None
    elapsed: float | None = None
    device: str | None = None
    values: list[float] = field(default_factory=list)
    posterior: dict = field(default_factory=dict)
    curve_path: str | None = None
    summary_path: str | None = None
    error_line: int | None = None  # 1-based, from the worker's error event

    @property
    def metric(self) -> str:
        return METRIC.get(self.kind, "loss")

    def to_notification(self) -> dict:
        metric = self.metric
        return {
            "uri": self.uri,
            "entry": self.entry,
            "kind": self.kind,
            "ok": self.ok,
            "status": self.status,  # "ok", "failed" or "cancelled" (a cancel is not a failure)
            "metric": metric,
            f"final_{metric}": finite_or_none(self.final),
            "elapsed": self.elapsed,
            "device": self.device,
            METRIC_SERIES[metric]: [finite_or_none(x) for x in self.values],
            "posterior": self.posterior,
            f"{metric}_curve_path": self.curve_path,
            "summary_path": self.summary_path,
            "message": self.message,
        }


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value)


def format_value(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.4g}"


# ------------------------------------------------------------------------------------------------
# the worker command


def worker_prefix(settings: RunSettings) -> list[str]:
    """The command that stands for ``qvr``: ``$QVR_LSP_WORKER`` if set, else
    ``<qvr.run.python or this interpreter> -P -m qvr``.

    ``-P`` keeps the working directory (the user's workspace) off ``sys.path``: a ``qvr.py`` or
    ``qvr/`` folder there must neither shadow the package nor run as code."""
    override = os.environ.get(WORKER_ENV)
    if override:
        return shlex.split(override)
    return [settings.python or sys.executable, "-P", "-m", "qvr"]


def worker_command(settings: RunSettings, path: str, entry: str, kind: str,
                   out_dir: str) -> list[str]:
    if kind not in RUN_KINDS:
        raise ValueError(f"unknown run kind {kind!r}; expected one of {', '.join(RUN_KINDS)}")
    cmd = worker_prefix(settings) + ["run", path, "--entry", entry, f"--{kind}", "--json"]
    # each count goes to the kind it is for (qvr run refuses the others)
    if kind == "svi" and settings.steps is not None:
        cmd += ["--steps", str(settings.steps)]
    if kind != "svi" and settings.samples is not None:
        cmd += ["--samples", str(settings.samples)]
    if kind == "nuts" and settings.warmup is not None:
        cmd += ["--warmup", str(settings.warmup)]
    if settings.device:
        cmd += ["--device", settings.device]
    if settings.data:
        cmd += ["--data", settings.data]
    cmd += ["--out", out_dir]
    return cmd


_PR_SET_PDEATHSIG = 1  # <linux/prctl.h>
_prctl: Any = None  # libc's prctl, looked up once (never in the forked child)


def _die_with_parent() -> Callable[[], None] | None:
    """A ``preexec_fn`` that makes the worker receive SIGKILL when the server's process ends,
    whatever ends it (SIGKILL included, when no handler of ours runs). None outside Linux.

    It runs in the child between fork and exec; the setting survives exec. Linux sends the
    signal when the thread that forked exits: the event loop's thread, the main thread. If the
    server died before the call, nobody would send it, so the child checks its parent and
    kills itself."""
    global _prctl
    if not sys.platform.startswith("linux"):
        return None
    if _prctl is None:
        try:
            import ctypes

            _prctl = ctypes.CDLL(None, use_errno=True).prctl
        except (OSError, AttributeError):
            _prctl = False
    if not _prctl:
        return None
    prctl, parent = _prctl, os.getpid()

    def preexec() -> None:
        prctl(_PR_SET_PDEATHSIG, int(signal.SIGKILL), 0, 0, 0)
        if os.getppid() != parent:
            os.kill(os.getpid(), signal.SIGKILL)

    return preexec


# ------------------------------------------------------------------------------------------------
# reporting


class RunReporter(Protocol):
    """Where a run's life is reported (the LSP implementation is in run_commands.py)."""

    async def begin(self, run: "Run", title: str, message: str) -> None: ...

    def report(self, run: "Run", message: str, percentage: int | None) -> None: ...

    def end(self, run: "Run", message: str) -> None: ...

    def finished(self, run: "Run", outcome: RunOutcome) -> None: ...

    def diagnostics_changed(self, uri: str) -> None: ...


@dataclass(eq=False)
class Run:
    """One run (queued, or one worker process) and what its worker has said so far."""

    request: RunRequest
    work_dir: str = ""  # private: holds the snapshot, made when the worker starts, removed at the end
    out_dir: str = ""  # the worker's --out: summary.json and the curve, kept if not empty
    id: str = field(default_factory=lambda: uuid.uuid4().hex[:12])
    process: asyncio.subprocess.Process | None = None
    task: asyncio.Task | None = None
    started_at: float = field(default_factory=time.monotonic)
    queued: bool = False  # waiting for a free slot (`RunManager.max_concurrent`)
    device: str | None = None
    total: int | None = None
    values: list[float] = field(default_factory=list)  # the kind's metric (METRIC) so far
    result: dict | None = None
    error: dict | None = None
    stop_reason: str | None = None  # why the server stopped it ("cancelled", a hang, NaN)
    stop_status: str = "failed"  # outcome status to report when stop_reason is set
    stderr_tail: collections.deque = field(
        default_factory=lambda: collections.deque(maxlen=_STDERR_TAIL_LINES))
    outcome: RunOutcome | None = None
    begun: asyncio.Event = field(default_factory=asyncio.Event)  # the reporter has begun it
    finished: asyncio.Event = field(default_factory=asyncio.Event)  # its outcome is reported
    spawned: asyncio.Event = field(default_factory=asyncio.Event)  # its worker exists, or it ended

    @property
    def key(self) -> tuple[str, str]:
        return (self.request.uri, self.request.entry)

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process else None

    @property
    def snapshot_path(self) -> str:
        return os.path.join(self.work_dir, self.request.filename)

    @property
    def label(self) -> str:
        return f"{KIND_TITLES[self.request.kind]} {self.request.entry}"


@dataclass(frozen=True)
class _RunDiagnostic:
    text: str  # the document text the run saw; the diagnostic is dropped once it changes
    line: int  # 1-based
    column: int | None  # 1-based code-point column
    code: str
    message: str


class RunManager:
    """Starts, watches and stops worker processes: at most one run per (uri, entry), at most
    `max_concurrent` workers at once (later runs wait in a queue)."""

    def __init__(self, reporter: RunReporter, *, runs_root: str | None = None,
                 max_concurrent: int = RunSettings.max_concurrent):
        self.reporter = reporter
        self.runs_root = runs_root
        self.max_concurrent = max_concurrent
        self.active: dict[tuple[str, str], Run] = {}  # queued, starting or running
        self._queue: collections.deque[Run] = collections.deque()
        self._slots: set[str] = set()  # ids of the runs that hold a slot (starting or running)
        self._launching: set[asyncio.Task] = set()  # references to tasks starting queued runs
        self._made_dirs: set[str] = set()  # folders this manager created above results folders
        self._diagnostics: dict[tuple[str, str], _RunDiagnostic] = {}

    # -- starting --------------------------------------------------------------------------------
    async def start(self, request: RunRequest) -> Run:
        """Start a run and return once its worker process exists, or once it is queued; the rest
        happens in a background task (`Run.task`).

        If (uri, entry) already has a run (queued, starting or running), that run is returned
        unchanged (its ``request`` is not `request`): the check and the registration of the new
        run happen before the first ``await``, so concurrent requests cannot start two."""
        key = (request.uri, request.entry)
        existing = self.active.get(key)
        if existing is not None:
            return existing
        run = Run(request=request)
        self.active[key] = run
        if self._diagnostics.pop(key, None) is not None:
            self.reporter.diagnostics_changed(request.uri)
        queued = run.queued = len(self._slots) >= self.max_concurrent
        if queued:
            self._queue.append(run)
        else:
            self._slots.add(run.id)
        device = request.settings.device or "default device"
        try:
            await self.reporter.begin(run, f"QVR: {run.label}",
                                      QUEUED_MESSAGE if queued else f"starting worker ({device})")
        finally:
            run.begun.set()
        if run.stop_reason is not None:  # cancelled while the client set up the progress
            self._finish(run, self._conclude(run))
        elif not queued:  # (a queued run is started by `_launch` once a slot frees)
            await self._spawn(run)
        return run

    def set_max_concurrent(self, n: int) -> None:
        """Change the number of workers that may run at once; queued runs start if it grew."""
        self.max_concurrent = n
        self._promote()

    def _promote(self) -> None:
        """Start queued runs, oldest first, while slots are free."""
        while self._queue and len(self._slots) < self.max_concurrent:
            run = self._queue.popleft()
            run.queued = False
            self._slots.add(run.id)
            task = asyncio.ensure_future(self._launch(run))
            self._launching.add(task)
            task.add_done_callback(self._launching.discard)

    async def _launch(self, run: Run) -> None:
        """Start a run that was queued, once its progress has begun."""
        await run.begun.wait()
        if run.outcome is not None:
            return
        if run.stop_reason is not None:
            self._finish(run, self._conclude(run))
            return
        device = run.request.settings.device or "default device"
        self.reporter.report(run, f"starting worker ({device})", 0)
        await self._spawn(run)

    async def _spawn(self, run: Run) -> None:
        request = run.request
        try:
            run.work_dir = self._temp_dir("qvr-run-")
            run.out_dir = self._out_dir(request)
            Path(run.snapshot_path).write_text(request.text, encoding="utf-8")
            cmd = worker_command(request.settings, run.snapshot_path, request.entry, request.kind,
                                 run.out_dir)
            run.process = await asyncio.create_subprocess_exec(
                *cmd,
                stdin=asyncio.subprocess.DEVNULL,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE,
                cwd=request.cwd or None,
                limit=_STREAM_LIMIT,
                # its own process group, so stopping it also stops anything it started
                start_new_session=(os.name == "posix"),
                preexec_fn=_die_with_parent(),
            )
        except OSError as exc:
            self._finish(run, self._outcome(
                run, ok=False, status="failed",
                message=f"{run.label}: could not start the worker ({exc})"))
            return
        run.task = asyncio.ensure_future(self._watch(run))
        run.spawned.set()
        if run.stop_reason is not None:  # stopped while the process was being created
            await self._terminate(run)

    def _temp_dir(self, prefix: str) -> str:
        if self.runs_root:
            os.makedirs(self.runs_root, exist_ok=True)
        return tempfile.mkdtemp(prefix=prefix, dir=self.runs_root)

    def _out_dir(self, request: RunRequest) -> str:
        if request.out_dir:
            try:
                missing, folder = [], os.path.abspath(request.out_dir)
                while not os.path.exists(folder) and os.path.dirname(folder) != folder:
                    missing.append(folder)
                    folder = os.path.dirname(folder)
                os.makedirs(request.out_dir, exist_ok=True)
                self._made_dirs.update(missing)
                return request.out_dir
            except OSError:  # e.g. a read-only folder: results go to a temporary directory
                pass
        stem = Path(request.filename).stem
        folder = self._temp_dir(f"qvr-{stem}-{request.entry}-{request.kind}-")
        self._made_dirs.add(os.path.abspath(folder))
        return folder

    def _remove_files(self, run: Run) -> None:
        """Remove the run's snapshot, and its results folder if the worker left it empty, then
        the folders above it, while they are empty and were made by this manager."""
        if run.work_dir:
            shutil.rmtree(run.work_dir, ignore_errors=True)
        folder = os.path.abspath(run.out_dir) if run.out_dir else None
        while folder in self._made_dirs:
            try:
                os.rmdir(folder)  # only succeeds when empty
            except OSError:
                return
            self._made_dirs.discard(folder)
            folder = os.path.dirname(folder)

    # -- stopping --------------------------------------------------------------------------------
    async def cancel(self, uri: str | None = None, entry: str | None = None) -> list[Run]:
        """Cancel the active runs (queued ones included) matching uri/entry (None matches all);
        returns them once their workers are gone."""
        runs = [r for r in list(self.active.values())
                if (uri is None or r.request.uri == uri)
                and (entry is None or r.request.entry == entry)]
        await asyncio.gather(*(self.stop(r, "cancelled", status="cancelled") for r in runs))
        return runs

    async def stop(self, run: Run, reason: str, *, status: str = "failed") -> None:
        """Stop a run (terminate its worker, kill it after the grace period, reap it; or take it
        off the queue) and wait until its outcome has been reported."""
        if run.stop_reason is None:
            run.stop_reason, run.stop_status = reason, status
        if run.queued:
            if run in self._queue:
                self._queue.remove(run)
            if run.begun.is_set():
                self._finish(run, self._conclude(run))
            # otherwise `start` finishes it once the reporter has begun it
        await self._terminate(run)
        if asyncio.current_task() is not run.task:
            await run.finished.wait()

    async def _terminate(self, run: Run) -> None:
        process = run.process
        if process is None or process.returncode is not None:
            return
        self._signal(process, signal.SIGTERM)
        try:
            await asyncio.wait_for(process.wait(), run.request.settings.grace)
        except asyncio.TimeoutError:
            self._signal(process, signal.SIGKILL if os.name == "posix" else signal.SIGTERM)
            await process.wait()

    @staticmethod
    def _signal(process: asyncio.subprocess.Process, sig: int) -> None:
        try:
            if os.name == "posix":
                os.killpg(process.pid, sig)  # the group is the worker's own session
            elif sig == signal.SIGTERM:
                process.terminate()
            else:
                process.kill()
        except ProcessLookupError:
            pass

    def shutdown_now(self) -> None:
        """Kill every worker's process group at once and remove the runs' snapshots (server
        exit: no event loop to wait on)."""
        self._queue.clear()
        for run in list(self.active.values()):
            if run.process is not None and run.process.returncode is None:
                self._signal(run.process, signal.SIGKILL if os.name == "posix"
                             else signal.SIGTERM)
            self._remove_files(run)

    # -- watching --------------------------------------------------------------------------------
    async def _watch(self, run: Run) -> None:
        process = run.process
        assert process is not None and process.stdout is not None
        stderr_task = asyncio.ensure_future(self._drain_stderr(run))
        try:
            while True:
                try:
                    line = await asyncio.wait_for(process.stdout.readline(),
                                                  run.request.settings.timeout)
                except asyncio.TimeoutError:
                    seconds = run.request.settings.timeout
                    run.stop_reason = run.stop_reason or (
                        f"no output from the worker for {seconds:g} s (hung?); stopped")
                    await self._terminate(run)
                    break
                except ValueError:  # a line longer than the stream limit
                    continue
                if not line:
                    break
                event = parse_event(line)
                if event is not None and run.stop_reason is None:
                    await self._on_event(run, event)
            await process.wait()
            await asyncio.wait_for(stderr_task, 5)
        except asyncio.CancelledError:
            await self._terminate(run)
            self._remove_files(run)
            raise
        except Exception as exc:  # report, never let a bad event kill the watcher silently
            run.stop_reason = run.stop_reason or f"internal error while watching the run: {exc}"
            await self._terminate(run)
        finally:
            if not stderr_task.done():
                stderr_task.cancel()
        self._finish(run, self._conclude(run))

    async def _drain_stderr(self, run: Run) -> None:
        assert run.process is not None and run.process.stderr is not None
        while True:
            try:
                line = await run.process.stderr.readline()
            except ValueError:
                continue
            if not line:
                return
            text = line.decode("utf-8", errors="replace").rstrip()
            if text:
                run.stderr_tail.append(text)

    async def _on_event(self, run: Run, event: dict) -> None:
        kind = event["event"]
        if kind == "start":
            run.device = event.get("device") or run.device
            run.total = event.get("total") if isinstance(event.get("total"), int) else run.total
            unit = TOTAL_UNITS.get(run.request.kind, "steps")
            total = f"{run.total} {unit}" if run.total else "starting"
            self.reporter.report(run, f"{run.request.entry} on {run.device or '?'}: {total}", 0)
        elif kind == "progress":
            step, total = event.get("step"), event.get("total") or run.total
            metric = METRIC.get(run.request.kind, "loss")
            title = METRIC_TITLES[metric]
            value = _number(event.get(metric))
            if value is not None and not math.isfinite(value):
                if run.request.kind == "sample":
                    # prior draws are all kept (`qvr.run.drivers.sample`: a heavy-tailed prior
                    # overflows now and then); the result says how many were NaN
                    value = None
                else:
                    run.stop_reason = f"{title} became {value} at step {step}; stopped"
                    await self._terminate(run)
                    return
            if value is not None:
                run.values.append(value)
            percentage = None
            if isinstance(step, int) and isinstance(total, int) and total > 0:
                percentage = max(0, min(100, int(100 * step / total)))
            where = f"step {step}/{total}" if total else f"step {step}"
            chains = event.get("chains")
            if (isinstance(chains, list) and len(chains) > 1 and isinstance(total, int)
                    and all(isinstance(done, int) for done in chains)):
                # NUTS chains side by side: how far each one is
                per_chain = max(1, total // len(chains))
                where += " · chains " + " ".join(
                    f"{min(100, 100 * done // per_chain)}%" for done in chains)
            message = where if value is None else f"{where} · {title} {format_value(value)}"
            self.reporter.report(run, message, percentage)
        elif kind == "result":
            run.result = event
        elif kind == "error":
            run.error = event

    # -- concluding ------------------------------------------------------------------------------
    def _outcome(self, run: Run, *, ok: bool, status: str, message: str, **extra) -> RunOutcome:
        req = run.request
        return RunOutcome(uri=req.uri, entry=req.entry, kind=req.kind, ok=ok, status=status,
                          message=message, device=run.device or req.settings.device,
                          elapsed=round(time.monotonic() - run.started_at, 3),
                          values=list(run.values), **extra)

    def _conclude(self, run: Run) -> RunOutcome:
        label = run.label
        process = run.process
        code = process.returncode if process is not None else None
        if run.stop_reason is not None:
            return self._outcome(run, ok=False, status=run.stop_status,
                                 message=f"{label}: {run.stop_reason}")
        if run.error is not None:
            error = run.error
            what = "produced NaN" if error.get("code") == "nan" else "failed"
            line = error.get("line") if isinstance(error.get("line"), int) else None
            where = ""
            if line and self._is_snapshot(run, error.get("file")):
                where = f" (line {line})"
            elif line:
                where = f" ({os.path.basename(str(error['file']))}:{line})"
            return self._outcome(run, ok=False, status="failed", error_line=line,
                                 message=f"{label} {what}{where}: {error.get('message', '')}")
        if run.result is not None and code == 0:
            result = run.result
            metric = METRIC.get(run.request.kind, "loss")
            final = _number(result.get(f"final_{metric}"))
            if final is None and run.values:
                final = run.values[-1]
            elapsed = _number(result.get("elapsed"))
            outcome = self._outcome(
                run, ok=True, status="ok", final=final,
                posterior=result.get("posterior") if isinstance(result.get("posterior"), dict)
                else {},
                curve_path=result.get(f"{metric}_curve_path"),
                summary_path=result.get("summary_path"),
                message="")
            if elapsed is not None:
                outcome.elapsed = elapsed
            outcome.device = result.get("device") or outcome.device
            where = f" on {outcome.device}" if outcome.device else ""
            outcome.message = (f"{label} finished{where} in {outcome.elapsed:.1f} s: "
                               f"final {METRIC_TITLES[metric]} {format_value(final)}")
            nan = result.get("nan_log_joints")
            if isinstance(nan, dict) and isinstance(nan.get("draws"), int):
                line = nan.get("line") if isinstance(nan.get("line"), int) else None
                where = f" (line {line})" if line and self._is_snapshot(run, nan.get("file")) else ""
                site = (f", the first at site {nan['site']!r}{where}"
                        if isinstance(nan.get("site"), str) else "")
                outcome.message += f"; {nan['draws']} draw(s) with a NaN log joint{site}"
            return outcome
        detail = run.stderr_tail[-1] if run.stderr_tail else "no output"
        if code == 2:
            why = f"the worker rejected its arguments (exit status 2): {detail}"
        else:
            why = f"the worker crashed (exit status {code}): {detail}"
        return self._outcome(run, ok=False, status="failed", message=f"{label}: {why}")

    def _finish(self, run: Run, outcome: RunOutcome) -> None:
        if run.outcome is not None:
            return
        run.outcome = outcome
        self._remove_files(run)  # the worker is gone: drop the snapshot (and an empty out_dir)
        if self.active.get(run.key) is run:
            del self.active[run.key]
        if run in self._queue:
            self._queue.remove(run)
        self._slots.discard(run.id)
        self._promote()
        error = run.error
        if (outcome.status == "failed" and error is not None and outcome.error_line
                and self._is_snapshot(run, error.get("file"))):
            column = error.get("column") if isinstance(error.get("column"), int) else None
            code = error.get("code") if isinstance(error.get("code"), str) else None
            if not code or code == "nan":
                code = RUN_ERROR_CODE
            self._diagnostics[run.key] = _RunDiagnostic(
                text=run.request.text, line=outcome.error_line, column=column, code=code,
                message=outcome.message)
            self.reporter.diagnostics_changed(run.request.uri)
        if outcome.ok:  # wall time as the user waited for it, worker start-up included
            wall = time.monotonic() - run.started_at
            end = (f"final {METRIC_TITLES[outcome.metric]} {format_value(outcome.final)} "
                   f"in {wall:.1f} s")
        else:
            end = outcome.message
        try:
            self.reporter.end(run, end)
            self.reporter.finished(run, outcome)
        finally:
            run.spawned.set()
            run.finished.set()

    @staticmethod
    def _is_snapshot(run: Run, file: Any) -> bool:
        """Whether an error event's ``file`` is the document (absent: assume it is)."""
        if not isinstance(file, str) or not file:
            return True
        path = file if os.path.isabs(file) else os.path.join(run.request.cwd or os.getcwd(), file)
        return os.path.realpath(path) == os.path.realpath(run.snapshot_path)

    # -- diagnostics -----------------------------------------------------------------------------
    def extra_diagnostics(self, uri: str, text: str | None = None) -> list[Diagnostic]:
        """Diagnostics from failed runs of `uri`, as plain `qvr.diagnostics.Diagnostic` records
        (spans into the document text the run saw). Pass the document's current normalised
        `text` to drop those from runs of an older text, whose lines may have moved."""
        out = []
        for (run_uri, _entry), diag in sorted(self._diagnostics.items()):
            if run_uri != uri or (text is not None and text != diag.text):
                continue
            index = LineIndex(diag.text)
            line = max(0, min(diag.line - 1, index.line_count - 1))
            line_text = index.line_text(line)
            start = index.offset(line, len(line_text) - len(line_text.lstrip()))
            if diag.column is not None:
                start = index.offset(line, diag.column - 1)
            end = index.offset(line, len(line_text))
            out.append(Diagnostic(diag.code, Severity.ERROR, diag.message,
                                  Span(start, max(start, end))))
        return out

    def clear_diagnostics(self, uri: str) -> bool:
        """Forget run diagnostics of `uri` (e.g. when the document closes)."""
        keys = [k for k in self._diagnostics if k[0] == uri]
        for key in keys:
            del self._diagnostics[key]
        return bool(keys)
