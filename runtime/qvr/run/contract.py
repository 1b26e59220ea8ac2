"""What a run promises its callers: events, error codes, defaults and where results go.

`qvr run` (the `qvr.run` package) and the language server's run layer (`qvr_lsp.runs`,
`qvr_lsp.run_commands`) both program against this module, so that the worker and the server
cannot drift apart on an event's fields, a default or a folder name. It imports neither torch
nor anything from the runtime: the language server imports it.

* Events: one JSON object per line on stdout under ``--json`` (docs/internals.md, "qvr run
  --json events"): `StartEvent`, `ProgressEvent`, `ResultEvent`, `ErrorEvent`, each with
  ``to_json()`` giving the object as written; `parse_event` reads a line back.
* `RunError`: a run failure that is reported as one ``error`` event, with one of `ERROR_CODES`
  (or a ``QVR…`` diagnostic code).
* Defaults: `DEFAULT_STEPS` (SVI), `DEFAULT_SAMPLES` (per kind), `DEFAULT_WARMUP` (NUTS) and
  `RunDefaults` (`DEFAULTS`); `nuts_split` is the rule by which the deprecated ``--steps`` of a
  NUTS run is divided into warmup and draws.
* Metrics: `METRIC` names what a kind's progress reports (SVI: the ``loss``, the negative
  ELBO; Sample and NUTS: the ``log_joint`` of the current draw), `METRIC_TITLES` how people
  read it.
* `results_dir`: ``runs/<entry>-<kind>-<UTC time>`` beside the program, the folder both `qvr
  run` and the editor write results to.
"""
from __future__ import annotations

import json
import math
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

# ------------------------------------------------------------------------------------------------
# exit status and kinds

EXIT_OK, EXIT_RUN_ERROR, EXIT_USAGE = 0, 1, 2

#: The kinds of run, as the ``--svi``/``--sample``/``--nuts`` flags and the editor commands
#: (``qvr.run.<kind>``) name them.
RUN_KINDS = ("svi", "sample", "nuts")

# ------------------------------------------------------------------------------------------------
# defaults

#: ``--steps`` when not given: SVI optimisation steps (the only kind that has steps).
DEFAULT_STEPS = 200
#: ``--samples`` when not given: prior-predictive draws (Sample), draws per chain after warmup
#: (NUTS).
DEFAULT_SAMPLES = {"sample": 100, "nuts": 100}
#: ``--warmup`` when not given: NUTS warm-up iterations per chain.
DEFAULT_WARMUP = 100

#: What each kind's progress and result report: SVI its ``loss`` (the negative ELBO, which it
#: minimises); Sample and NUTS the ``log_joint`` of the current draw (the log density of
#: the draw and the data together, higher is more probable). The name is the field of the
#: events (``loss``/``log_joint``, ``final_loss``/``final_log_joint``).
METRIC = {"svi": "loss", "sample": "log_joint", "nuts": "log_joint"}
#: How messages, the progress bar and the plot name each metric.
METRIC_TITLES = {"loss": "loss", "log_joint": "log joint"}
#: What the ``total`` of a kind's ``start`` event counts (NUTS: warm-up and draws of every
#: chain), as messages say it.
TOTAL_UNITS = {"svi": "steps", "sample": "draws", "nuts": "iterations"}
#: The key of ``summary.json`` that lists the metric at every step or draw.
METRIC_SERIES = {"loss": "losses", "log_joint": "log_joints"}


@dataclass(frozen=True)
class RunDefaults:
    """The values `qvr run` uses for options that are not given (``--help`` shows them)."""

    steps: int = DEFAULT_STEPS
    samples: dict = field(default_factory=lambda: dict(DEFAULT_SAMPLES))
    warmup: int = DEFAULT_WARMUP
    lr: float = 0.05  # Adam, simulated or tabular data
    corpus_lr: float = 4.0  # SGD, a text corpus
    particles: int = 1
    chains: int = 1
    chain_method: str = "auto"
    max_tree_depth: int = 6
    seed: int = 0
    batch: int = 4  # rows of simulated data
    corpus_batch: int = 1024  # windows per step of a text corpus
    seq_len: int = 8
    num_steps: int = 32
    chars: int = 20
    nproc: int = 1


DEFAULTS = RunDefaults()


def nuts_split(steps: int, warmup: int | None = None, samples: int | None = None) -> tuple[int, int]:
    """(warmup, draws) per chain of a NUTS run given the deprecated ``--steps`` (iterations,
    warmup and draws together): half and half unless given (a given warmup of 0 is kept; at
    least one draw)."""
    return (warmup if warmup is not None else steps // 2,
            samples if samples is not None else max(1, steps - steps // 2))


# ------------------------------------------------------------------------------------------------
# error codes

#: The codes of ``error`` events other than a ``QVR…`` diagnostic code, and what each means.
ERROR_CODES = {
    "nan": "the loss or log joint became non-finite",
    "data": "--data cannot be read or does not fit the model",
    "entry": "the entry is not a program (or not there)",
    "io": "a file or folder cannot be read or written",
    "device": "the model cannot be placed on the device",
    "unsupported": "the model uses something this kind of run cannot do",
    "nothing-to-fit": "the objective cannot depend on anything",
    "usage": "the options do not fit together",
    "cancelled": "SIGTERM or SIGINT ended the run",
    "runtime": "the runtime refused the model while running it",
    "dependency": "torch or another runtime package is missing",
    "load": "the program did not load and gave no diagnostic",
    "internal": "a bug: an unexpected exception",
}


class RunError(Exception):
    """A run failure reported as one `error` event: message, code and optional location."""

    def __init__(self, message: str, code: str, file=None, line=None, column=None):
        super().__init__(message)
        self.code, self.file, self.line, self.column = code, file, line, column

    def to_event(self) -> "ErrorEvent":
        return ErrorEvent(message=str(self), code=self.code, file=self.file, line=self.line,
                          column=self.column)

    def event(self) -> dict:
        return self.to_event().to_json()

    @classmethod
    def unsupported(cls, exc: Exception) -> "RunError":
        """The `unsupported` error of a NotSupportedError, located when the program builder
        made it (`qvr.compile.build.Builder.unsupported`: a tier-2/3 refusal, spec part 2
        §6.9), else as it is."""
        what = getattr(exc, "what", None)
        if what is None:
            return cls(str(exc), "unsupported")
        return cls(what, "unsupported", file=exc.file, line=exc.line, column=exc.column)


# ------------------------------------------------------------------------------------------------
# events

START, PROGRESS, RESULT, ERROR = "start", "progress", "result", "error"


def json_float(x) -> float | None:
    return None if x is None else float(x)


@dataclass(frozen=True)
class StartEvent:
    """The run is about to fit or draw: what, where, and how many steps (``total``)."""

    entry: str
    kind: str
    device: str
    total: int

    def to_json(self) -> dict:
        return {"event": START, "entry": self.entry, "kind": self.kind, "device": self.device,
                "total": self.total}


@dataclass(frozen=True)
class ProgressEvent:
    """Steps done of ``total``, the latest value of the kind's metric (`METRIC`: ``loss`` for
    SVI, ``log_joint`` for Sample and NUTS; the field is named after it) and seconds since the
    start; ``chains`` lists the iterations done per NUTS chain when several run."""

    step: int
    total: int
    value: float | None
    elapsed: float
    chains: tuple | None = None
    metric: str = "loss"

    def to_json(self) -> dict:
        event = {"event": PROGRESS, "step": self.step, "total": self.total,
                 self.metric: json_float(self.value), "elapsed": round(self.elapsed, 4)}
        if self.chains is not None:
            event["chains"] = list(self.chains)
        return event


@dataclass(frozen=True)
class ResultEvent:
    """The run finished and wrote its results: the last value of the kind's metric (`METRIC`)
    as ``final_loss`` or ``final_log_joint`` and its curve as ``loss_curve_path`` or
    ``log_joint_curve_path``; ``extra`` holds what a kind of data adds (a text corpus:
    ``train_perplexity``, ``val_perplexity``, ``generated``), written after the rest."""

    entry: str
    kind: str
    final: float | None
    elapsed: float
    device: str
    summary_path: str
    curve_path: str
    posterior: dict
    extra: dict = field(default_factory=dict)
    metric: str = "loss"

    def to_json(self) -> dict:
        event = {"event": RESULT, "entry": self.entry, "kind": self.kind,
                 f"final_{self.metric}": self.final, "elapsed": round(self.elapsed, 4),
                 "device": self.device, "summary_path": self.summary_path,
                 f"{self.metric}_curve_path": self.curve_path, "posterior": self.posterior}
        event.update(self.extra)
        return event


@dataclass(frozen=True)
class ErrorEvent:
    """The run failed: a message, a code (`ERROR_CODES` or ``QVR…``) and, when known, where in
    which file (1-based line and column)."""

    message: str
    code: str
    file: str | None = None
    line: int | None = None
    column: int | None = None

    def to_json(self) -> dict:
        event: dict[str, Any] = {"event": ERROR, "message": self.message, "code": self.code}
        if self.file is not None:
            event["file"] = self.file
        if self.line is not None:
            event.update(line=self.line, column=self.column)
        return event


def dumps_event(event: dict) -> str:
    """One event as the line written for it (NaN allowed: `parse_event` reads it back)."""
    return json.dumps(event, allow_nan=True)


def parse_event(line: str | bytes) -> dict | None:
    """One worker output line as an event dict, or None for anything that is not one (a stray
    print from user code or a library must not break the run)."""
    if isinstance(line, bytes):
        line = line.decode("utf-8", errors="replace")
    line = line.strip()
    if not line.startswith("{"):
        return None
    try:
        event = json.loads(line)  # accepts NaN/Infinity as Python's json.dumps writes them
    except ValueError:
        return None
    if not isinstance(event, dict) or not isinstance(event.get("event"), str):
        return None
    return event


def finite_or_none(x: float | None) -> float | None:
    """JSON for LSP has no NaN/Infinity: a non-finite number becomes null."""
    return x if x is None or math.isfinite(x) else None


# ------------------------------------------------------------------------------------------------
# the results folder


def results_dir(folder: str | Path, entry: str, kind: str) -> Path:
    """``<folder>/runs/<entry>-<kind>-<UTC time>``, with ``-2``, ``-3``... for a folder that
    exists already (runs started in the same second). Nothing is created."""
    stamp = time.strftime("%Y%m%d-%H%M%S", time.gmtime())
    base = Path(folder) / "runs" / f"{entry}-{kind}-{stamp}"
    d, n = base, 1
    while d.exists():
        n += 1
        d = base.with_name(f"{base.name}-{n}")
    return d
