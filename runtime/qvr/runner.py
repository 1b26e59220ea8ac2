"""`qvr run`: fit or sample a QVR program from the command line (and for the language server).

    qvr run FILE [--entry NAME] (--sample | --svi | --nuts) [--steps N] [--lr X] [--particles K]
             [--warmup N] [--samples N] [--chains N] [--seed S] [--device D] [--data FILE]
             [--out DIR] [--json] [--batch B] [--seq-len T] [--max-tree-depth N] [--lift]

`runtime/qvr/cli.py` calls `add_run_arguments(subparser)` and `run_command(args)`;
`python -m qvr.runner ...` runs the same thing without the CLI.

What a run does:

1. load FILE (`qvr.load`); the entry is the export, or `--entry NAME` (a program or define);
2. data: `--data` (`.pt`, `.npz` or `.json` mapping `x` and observed-site names to arrays),
   validated site by site; without it, a data set is simulated as seed 002 does: random
   inputs of the entry's domain (`--batch` rows, `--seq-len` positions for sequences), the
   observed sites forward-sampled from the model initialised with `--seed`, and a freshly
   initialised model (seed + 1) is fitted to them;
3. `--svi`: `--steps` Adam steps (`--lr`) of SVI with an AutoNormalGuide and `--particles`
   particles; `--nuts`: NUTS over the latent sites with the weights fixed (or, with `--lift`,
   over weights and latents via `bayesian_lift_parameters`); `--warmup`/`--samples` default to
   half of `--steps` each; the "loss" is the negative log joint of the current draw;
   `--sample`: `--steps` prior-predictive draws, the loss is their negative log joint;
   a text file as `--data` trains a character model instead (`qvr.charlm`: SGD with clipping,
   `--num-steps` windows, perplexities, `--generate PROMPT --chars N`; see `_run_corpus`);
4. writes `summary.json` and `loss.png` (matplotlib, Agg) to `--out`, by default
   `runs/<entry>-<kind>-<UTC time>/` next to FILE (the language server uses the same name);
   the folder is created and checked for writing before anything is fitted.

Output: a progress bar on stderr (a carriage-return line on a TTY, a line every 10% otherwise)
and a final summary on stdout; with `--json`, one event per line on stdout exactly as
docs/internals.md "qvr run --json events" describes, flushed per line. Every failure is an
`error` event (JSON) or one `qvr run: ...` line on stderr, never a traceback: load errors carry
the first diagnostic's code and position; bad data names the site (`"code": "data"`); a
non-finite loss stops the run (`"code": "nan"`) naming the step and, when one site's
log-density is to blame, that site's source line. SIGTERM/SIGINT end the run with an error
event (`"code": "cancelled"`). Exit status: 0 ok, 1 run error, 2 usage error.
"""
from __future__ import annotations

import argparse
import json
import math
import os
import signal
import sys
import time
from pathlib import Path

EXIT_OK, EXIT_RUN_ERROR, EXIT_USAGE = 0, 1, 2
DEFAULT_STEPS = {"svi": 200, "sample": 100, "nuts": 200}


class RunError(Exception):
    """A run failure reported as one `error` event: message, code and optional location."""

    def __init__(self, message: str, code: str, file=None, line=None, column=None):
        super().__init__(message)
        self.code, self.file, self.line, self.column = code, file, line, column

    def event(self) -> dict:
        ev = {"event": "error", "message": str(self), "code": self.code}
        if self.file is not None:
            ev["file"] = self.file
        if self.line is not None:
            ev.update(line=self.line, column=self.column)
        return ev


class _Cancelled(BaseException):
    """Raised from the SIGTERM/SIGINT handler so the run unwinds and reports cleanly."""


# ------------------------------------------------------------------------------------------------
# arguments


def add_run_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("file", metavar="FILE", help="QVR source file")
    p.add_argument("--entry", metavar="NAME", help="program or define to run (default: the export)")
    mode = p.add_mutually_exclusive_group(required=True)
    mode.add_argument("--sample", dest="kind", action="store_const", const="sample",
                      help="draw prior-predictive samples")
    mode.add_argument("--svi", dest="kind", action="store_const", const="svi",
                      help="fit with SVI (AutoNormal guide, Adam)")
    mode.add_argument("--nuts", dest="kind", action="store_const", const="nuts",
                      help="sample the latent sites with NUTS")
    p.add_argument("--steps", type=_positive_int, metavar="N",
                   help="SVI steps / samples to draw / NUTS iterations (default 200, 100, 200)")
    p.add_argument("--lr", type=_positive_float, metavar="X",
                   help="learning rate (default: Adam 0.05; SGD 4 with a text corpus)")
    p.add_argument("--particles", type=_positive_int, default=1, metavar="K",
                   help="ELBO particles per SVI step (default 1)")
    p.add_argument("--warmup", type=_non_negative_int, metavar="N",
                   help="NUTS warmup iterations per chain (default: half of --steps, 100)")
    p.add_argument("--samples", type=_positive_int, metavar="N",
                   help="NUTS draws per chain after warmup (default: the rest of --steps, 100)")
    p.add_argument("--chains", type=_positive_int, default=1, metavar="N",
                   help="NUTS chains (default 1)")
    p.add_argument("--chain-method", choices=("auto", "parallel", "sequential"), default="auto",
                   help="how NUTS chains run: parallel worker processes (one core each), one "
                        "after another, or auto (parallel for several chains on the CPU; the "
                        "default). A fixed --seed gives the same draws either way")
    p.add_argument("--max-tree-depth", type=_positive_int, default=6, metavar="N",
                   help="NUTS tree depth limit (default 6: at most 63 gradients per draw)")
    p.add_argument("--lift", action="store_true",
                   help="NUTS over the weights too (bayesian_lift_parameters, prior N(0, 1))")
    p.add_argument("--seed", type=_integer, default=0, metavar="S", help="random seed (default 0)")
    p.add_argument("--device", metavar="D", help="torch device (default: $QVR_DEVICE, cuda, cpu)")
    p.add_argument("--data", metavar="FILE",
                   help=".pt/.npz/.json with x and observed sites, or a text file (character models)")
    p.add_argument("--batch", type=_positive_int, metavar="B",
                   help="rows of simulated data (default 4), or windows per step with a text corpus "
                        "(default 1024)")
    p.add_argument("--num-steps", type=_positive_int, default=32, metavar="N",
                   help="characters per training window (text corpus; default 32)")
    p.add_argument("--generate", metavar="PROMPT",
                   help="after training on a text corpus, continue PROMPT")
    p.add_argument("--chars", type=_non_negative_int, default=20, metavar="N",
                   help="characters to generate after the prompt (default 20)")
    p.add_argument("--seq-len", type=_positive_int, default=8, metavar="T",
                   help="positions per simulated sequence (without --data)")
    p.add_argument("--out", metavar="DIR",
                   help="output folder (default: runs/<entry>-<kind>-<UTC time>/ next to FILE)")
    p.add_argument("--json", action="store_true", help="one JSON event per line on stdout")
    p.add_argument("--nproc", type=_positive_int, default=1, metavar="N",
                   help="--svi on N processes of this machine (torch.distributed: gloo on the "
                        "CPU, NCCL on CUDA), the data's rows shared among them; under torchrun "
                        "the processes are torchrun's (default 1)")
    p.add_argument("--batch-size", type=_positive_int, metavar="B",
                   help="--svi on B rows drawn afresh each step from the data's N rows (the "
                        "loss stays an unbiased estimate of the full one); default: all rows")
    # the command line as given (`qvr run --nproc N` starts the other processes with it);
    # `main` and `qvr.cli` fill it in after parsing
    p.set_defaults(argv=[])


def _integer(text, what="an integer", low=None):
    # argparse words a ValueError from `type` after the function's name ("invalid
    # _positive_int value"); an ArgumentTypeError is shown as written.
    try:
        v = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected {what}, got {text!r}") from None
    if low is not None and v < low:
        raise argparse.ArgumentTypeError(f"expected {what}, got {text}")
    return v


def _positive_int(text):
    return _integer(text, "a positive integer", 1)


def _non_negative_int(text):
    return _integer(text, "a non-negative integer", 0)


def _positive_float(text):
    try:
        v = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive number, got {text!r}") from None
    if not v > 0 or not math.isfinite(v):
        raise argparse.ArgumentTypeError(f"expected a positive number, got {text}")
    return v


# ------------------------------------------------------------------------------------------------
# reporting


class JsonReporter:
    def __init__(self, stream=None):
        self.stream = stream or sys.stdout

    def emit(self, event: dict) -> None:
        # The language server reads these live: one object per line, flushed at once.
        self.stream.write(json.dumps(event, allow_nan=True) + "\n")
        self.stream.flush()

    def progress(self, step, total, loss, elapsed, chains=None):
        event = {"event": "progress", "step": step, "total": total,
                 "loss": _json_float(loss), "elapsed": round(elapsed, 4)}
        if chains is not None:  # iterations done per NUTS chain
            event["chains"] = list(chains)
        self.emit(event)

    def start(self, event):
        self.emit(event)

    def result(self, event):
        self.emit(event)

    def error(self, err: RunError):
        self.emit(err.event())


class HumanReporter:
    """A progress bar on stderr; the final summary on stdout."""

    def __init__(self, out=None, err=None):
        self.out = out or sys.stdout
        self.err = err or sys.stderr
        self.tty = hasattr(self.err, "isatty") and self.err.isatty()
        self._last_tenth = -1

    def start(self, event):
        self.err.write(f"qvr run: {event['kind']} on {event['entry']} ({event['device']}), "
                       f"{event['total']} steps\n")
        self.err.flush()

    def progress(self, step, total, loss, elapsed, chains=None):
        width = 30
        filled = int(width * step / total) if total else width
        bar = "#" * filled + "-" * (width - filled)
        line = f"[{bar}] {step}/{total}  loss {_fmt(loss)}  {elapsed:.1f}s"
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

    def result(self, event):
        if "val_perplexity" in event:  # a text corpus (qvr.charlm)
            self.out.write(f"training perplexity {_fmt(event['train_perplexity'])}, "
                           f"validation perplexity {_fmt(event['val_perplexity'])}\n")
            if event.get("generated") is not None:
                self.out.write(f"generated: {json.dumps(event['generated'])}\n")
        self.out.write(
            f"{event['kind']} {event['entry']}: final loss {_fmt(event['final_loss'])} "
            f"in {event['elapsed']:.1f}s on {event['device']}\n"
            f"summary: {event['summary_path']}\nloss curve: {event['loss_curve_path']}\n")
        self.out.flush()

    def error(self, err: RunError):
        if self.tty:
            self.err.write("\n")
        where = ""
        if err.file is not None and err.line is not None:
            where = f"{err.file}:{err.line}:{err.column}: "
        self.err.write(f"qvr run: {where}error[{err.code}]: {err}\n")
        self.err.flush()


def _fmt(x):
    return "n/a" if x is None else f"{x:.4g}"


def _json_float(x):
    return None if x is None else float(x)


# ------------------------------------------------------------------------------------------------
# the command


class _SilentReporter:
    """What the processes other than rank 0 of a data-parallel run report: nothing."""

    def start(self, event):
        pass

    def progress(self, *args, **kwargs):
        pass

    def result(self, event):
        pass

    def error(self, err):
        print(f"qvr run: error[{err.code}]: {err}", file=sys.stderr)


def _lead() -> bool:
    """Whether this process reports and writes results: rank 0, or the only process."""
    from .infer.distributed import rank

    return rank() == 0


def _device_request(args) -> str:
    import torch

    return args.device or os.environ.get("QVR_DEVICE") or ("cuda" if torch.cuda.is_available()
                                                           else "cpu")


def run_command(args) -> int:
    from .launch import data_parallel, world_from_env

    world = world_from_env()
    reporter = JsonReporter() if args.json else HumanReporter()
    if world is not None and world[0] != 0:
        reporter = _SilentReporter()
    previous = _install_signal_handlers()
    try:
        nproc = args.nproc
        if (nproc > 1 or world is not None) and args.kind != "svi":
            raise RunError(f"--{args.kind} runs in one process; --nproc is for --svi", "usage")
        if world is not None and _device_request(args).startswith("cuda") \
                and ":" not in _device_request(args):
            args.device = f"cuda:{world[2]}"  # one GPU per process
        with data_parallel(args.argv, nproc,
                           device_of=lambda: _device_request(args)):
            _run(args, reporter)
        return EXIT_OK
    except RunError as err:
        reporter.error(err)
        return EXIT_RUN_ERROR
    except _Cancelled as c:
        reporter.error(RunError(f"run cancelled by {c.args[0] if c.args else 'signal'}", "cancelled"))
        return EXIT_RUN_ERROR
    except ModuleNotFoundError as exc:  # torch (or another runtime dependency) is not installed
        reporter.error(RunError(_missing_dependency(exc.name or str(exc)), "dependency"))
        return EXIT_RUN_ERROR
    except Exception as exc:  # never a traceback for the user; the type says what went wrong
        from .errors import QvrError

        code = "runtime" if isinstance(exc, QvrError) else "internal"
        reporter.error(RunError(f"{type(exc).__name__}: {exc}", code))
        if os.environ.get("QVR_DEBUG"):
            import traceback

            traceback.print_exc()
        return EXIT_RUN_ERROR
    finally:
        _restore_signal_handlers(previous)


def _missing_dependency(name: str) -> str:
    if name.split(".")[0] == "torch":
        return ("`qvr run` needs PyTorch, which is not installed: pip install torch "
                "(the README says how to choose the CPU or a CUDA build)")
    return f"`qvr run` needs the Python package `{name}`, which is not installed"


def _install_signal_handlers():
    def handler(signum, _frame):
        raise _Cancelled(signal.Signals(signum).name)

    previous = {}
    for sig in (signal.SIGTERM, signal.SIGINT):
        try:
            previous[sig] = signal.signal(sig, handler)
        except ValueError:  # not the main thread (e.g. run from a test helper thread)
            pass
    return previous


def _restore_signal_handlers(previous):
    for sig, old in previous.items():
        signal.signal(sig, old)


def _run(args, reporter) -> None:
    import torch

    from .charlm import is_text_corpus
    from .infer.sites import model_device

    path = Path(args.file)
    kind = args.kind
    steps = args.steps or DEFAULT_STEPS[kind]
    text_corpus = bool(args.data) and is_text_corpus(args.data)
    if args.batch is None:
        args.batch = 1024 if text_corpus else 4
    if args.lr is None:
        args.lr = 4.0 if text_corpus else 0.05
    if args.generate is not None and not text_corpus:
        raise RunError("--generate needs a text corpus to train on (--data FILE.txt)", "usage")
    program, text = _load(path, args.device, seed=args.seed)
    entry_name, model, domain = _entry(program, args.entry, path)
    device = model_device(model)
    if text_corpus:
        return _run_corpus(args, reporter, path, entry_name, model, device)

    if args.data:
        x, observations = load_data(args.data, model, device)
        fit_model = model
    else:
        x, observations = simulate(model, domain, args.batch, args.seq_len, device)
        # Fit a freshly initialised copy (seed + 1), as in the seed 002 walkthrough.
        program, _ = _load(path, args.device, seed=args.seed + 1)
        _, fit_model, _ = _entry(program, args.entry, path)

    if kind == "nuts":
        warmup = args.warmup if args.warmup is not None else steps // 2
        samples = args.samples if args.samples is not None else max(1, steps - steps // 2)
        total = args.chains * (warmup + samples)
    else:
        total = steps
    _check_something_to_fit(fit_model, entry_name, kind, args.lift)
    # An unwritable --out must fail now, not after a long fit (rank 0 alone writes results).
    out_dir = _out_dir(args.out, path, entry_name, kind) if _lead() else None
    reporter.start({"event": "start", "entry": entry_name, "kind": kind, "device": str(device),
                    "total": total})
    started = time.perf_counter()
    torch.manual_seed(args.seed + 2)
    locate = _Locator(program, entry_name, text, str(path))
    if kind == "svi":
        losses, posterior = _svi(fit_model, x, observations, steps, args, reporter, started, locate)
    elif kind == "sample":
        losses, posterior = _sample(fit_model, x, observations, steps, reporter, started)
    else:
        losses, posterior = _nuts(fit_model, x, observations, warmup, samples, args, reporter,
                                  started, locate)
    elapsed = time.perf_counter() - started
    if out_dir is None:
        return
    summary_path = out_dir / "summary.json"
    curve_path = out_dir / "loss.png"
    final = losses[-1] if losses else None
    summary = {
        "entry": entry_name, "kind": kind, "device": str(device), "file": str(path),
        "final_loss": final, "elapsed": elapsed, "losses": losses, "posterior": posterior,
        "data": args.data or "simulated", "seed": args.seed,
        "settings": {k: getattr(args, k) for k in
                     ("steps", "lr", "particles", "warmup", "samples", "chains", "max_tree_depth", "lift", "batch",
                      "seq_len")},
    }
    try:
        summary_path.write_text(json.dumps(summary, indent=1, allow_nan=True), encoding="utf-8")
        _plot(losses, curve_path, f"{entry_name} ({kind})",
              "negative log joint" if kind != "svi" else "loss (negative ELBO)")
    except OSError as exc:  # e.g. the folder was removed or filled up during the run
        raise RunError(f"cannot write results to {out_dir}: {exc.strerror or exc}", "io") from None
    reporter.result({"event": "result", "entry": entry_name, "kind": kind, "final_loss": final,
                     "elapsed": round(elapsed, 4), "device": str(device),
                     "summary_path": str(summary_path.resolve()),
                     "loss_curve_path": str(curve_path.resolve()),
                     "posterior": compact_posterior(posterior)})


EVENT_ARRAY_LIMIT = 256


def compact_posterior(posterior: dict) -> dict:
    """The posterior for the `result` event: arrays over EVENT_ARRAY_LIMIT elements are
    averaged over their leading (batch/time) axes, keeping the last axis, with the full shape
    recorded; summary.json keeps everything. Keeps events small enough to read live."""
    import torch

    out = {}
    for site, stats in posterior.items():
        if not isinstance(stats, dict) or site.startswith("_"):
            out[site] = stats
            continue
        entry = {}
        for key, value in stats.items():
            t = torch.as_tensor(value, dtype=torch.float64)
            if t.numel() > EVENT_ARRAY_LIMIT and t.dim() > 1:
                entry.setdefault("shape", list(t.shape))
                entry["averaged_over_leading_axes"] = True
                t = t.reshape(-1, t.shape[-1]).nanmean(0)
            entry[key] = t.tolist()
        out[site] = entry
    return out


# ------------------------------------------------------------------------------------------------
# text corpora: character models (qvr.charlm)


def _run_corpus(args, reporter, path: Path, entry_name: str, model, device) -> None:
    """`--data` is a text file: train the character model on its windows (SGD, clipping), report
    training/validation perplexity and optionally continue `--generate` by `--chars`."""
    import torch

    from .charlm import CorpusError, CorpusRun

    if args.kind != "svi":
        raise RunError(f"a text corpus (--data {args.data}) trains a character model: use --svi",
                       "usage")
    if args.batch_size is not None:
        raise RunError("--batch-size is for data with rows; a text corpus is trained on --batch "
                       "windows per step", "usage")
    steps = args.steps or DEFAULT_STEPS["svi"]
    try:
        run = CorpusRun(model, args.data, num_steps=args.num_steps, batch_size=args.batch)
    except CorpusError as exc:
        raise RunError(f"--data {args.data}: {exc}", "data", file=args.data) from None
    # fail before training, not after (rank 0 alone writes results)
    out_dir = _out_dir(args.out, path, entry_name, "svi") if _lead() else None
    reporter.start({"event": "start", "entry": entry_name, "kind": "svi", "device": str(device),
                    "total": steps})
    started = time.perf_counter()
    torch.manual_seed(args.seed + 2)
    try:
        history = run.train(steps, lr=args.lr, clip=1.0, seed=args.seed,
                            progress=lambda step, total, loss, _e: reporter.progress(
                                step, total, loss, time.perf_counter() - started))
        generated = run.generate(args.generate, args.chars) if args.generate is not None else None
    except CorpusError as exc:
        code = "nan" if "non-finite" in str(exc) else "data"
        raise RunError(str(exc), code) from None
    elapsed = time.perf_counter() - started
    if out_dir is None:
        return
    summary_path, curve_path = out_dir / "summary.json", out_dir / "loss.png"
    corpus = run.summary()
    final = history.losses[-1] if history.losses else None
    summary = {
        "entry": entry_name, "kind": "svi", "device": str(device), "file": str(path),
        "final_loss": final, "elapsed": elapsed, "losses": history.losses, "posterior": {},
        "data": args.data, "seed": args.seed, "corpus": corpus, "generated": generated,
        "settings": {"steps": steps, "lr": args.lr, "batch": args.batch, "num_steps": args.num_steps,
                     "clip": 1.0, "optimizer": "sgd"},
    }
    summary_path.write_text(json.dumps(summary, indent=1, allow_nan=True), encoding="utf-8")
    _plot(history.losses, curve_path, f"{entry_name} (svi on {Path(args.data).name})",
          "loss (negative ELBO per token)")
    reporter.result({"event": "result", "entry": entry_name, "kind": "svi", "final_loss": final,
                     "elapsed": round(elapsed, 4), "device": str(device),
                     "summary_path": str(summary_path.resolve()),
                     "loss_curve_path": str(curve_path.resolve()), "posterior": {},
                     "train_perplexity": corpus["train_perplexity"],
                     "val_perplexity": corpus["val_perplexity"], "generated": generated})


# ------------------------------------------------------------------------------------------------
# loading


def _load(path: Path, device, *, seed: int):
    import torch

    import qvr
    from .errors import QvrCheckError, QvrSyntaxError
    from .syntax.span import LineIndex, normalize

    from .source import invalid_utf8_diagnostic

    try:
        data = path.read_bytes()
    except OSError as exc:
        raise RunError(f"cannot read {path}: {exc.strerror or exc}", "io", file=str(path)) from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:  # spec §2.1: a located QVR001, like `qvr check` gives
        diagnostic, index = invalid_utf8_diagnostic(data, exc)
        line, col = index.position(diagnostic.span.start)
        raise RunError(diagnostic.message, diagnostic.code, file=str(path),
                       line=line + 1, column=col + 1) from None
    torch.manual_seed(seed)  # parameter initialisation is part of the run's seed
    try:
        return qvr.loads(text, device=device, name=str(path)), text
    except (QvrSyntaxError, QvrCheckError) as exc:
        first = exc.diagnostics[0] if exc.diagnostics else None
        if first is None:
            raise RunError(str(exc), "load", file=str(path)) from None
        line, col = LineIndex(normalize(text)).position(first.span.start)
        raise RunError(f"{first.message} ({len(exc.diagnostics)} error(s); run `qvr check`)",
                       first.code, file=str(path), line=line + 1, column=col + 1) from None
    except RuntimeError as exc:  # e.g. an unknown --device
        from .compile.loader import DeviceError

        if isinstance(exc, DeviceError):  # its message already names the device
            raise RunError(f"cannot place the model on {exc}", "device") from None
        raise RunError(f"cannot place the model on device {device!r}: {exc}", "device") from None


def _entry(program, name, path):
    analysis = program.analysis
    if name is None:
        export = analysis.export
        label = getattr(getattr(export, "expr", None), "name", None) or path.stem
        label = getattr(label, "text", label)
        return str(label), program.morphism, program.domain
    info = analysis.programs.get(name) or analysis.defines.get(name) or analysis.morphisms.get(name)
    if info is None:
        names = sorted(set(analysis.programs) | set(analysis.defines))
        raise RunError(f"no program or define named {name!r} in {path} (available: "
                       f"{', '.join(names) or 'none'})", "entry", file=str(path))
    module = program.env[name]
    mtype = getattr(info, "effective", None) or getattr(info, "type", None)
    return name, module, mtype.dom


def default_out_dir(path: Path, entry: str, kind: str) -> Path:
    """``runs/<entry>-<kind>-<UTC time>`` next to FILE, with ``-2``, ``-3``... for runs started
    in the same second (the language server's ``_results_dir`` names folders the same way)."""
    stamp = time.strftime("%Y%m%d-%H%M%S", time.gmtime())
    base = path.resolve().parent / "runs" / f"{entry}-{kind}-{stamp}"
    d, n = base, 1
    while d.exists():
        n += 1
        d = base.with_name(f"{base.name}-{n}")
    return d


def _out_dir(out, path: Path, entry: str, kind: str) -> Path:
    """Create the output folder and prove it writable (a probe file) before the run starts."""
    import tempfile

    d = Path(out) if out else default_out_dir(path, entry, kind)
    try:
        d.mkdir(parents=True, exist_ok=True)
        # mkdir succeeds on an existing read-only folder; only a write tells.
        with tempfile.TemporaryFile(dir=d):
            pass
    except OSError as exc:
        raise RunError(f"cannot write to output folder {d}: {exc.strerror or exc}", "io") from None
    return d



# ------------------------------------------------------------------------------------------------
# data: simulated or loaded


def random_input(domain, batch: int, seq_len: int, device):
    """Random values of a domain type: uniform indices for finite leaves, N(0, 1) (mapped into
    bounds / the simplex) for continuous ones; sequences get ``seq_len`` positions."""
    import torch

    from .semantics.types import SeqType

    lead = (batch, seq_len) if isinstance(domain, SeqType) else (batch,)
    elem = domain.elem if isinstance(domain, SeqType) else domain
    leaves = list(elem.leaves)
    if len(leaves) == 1 and hasattr(leaves[0], "n"):
        return torch.randint(0, leaves[0].n, lead, device=device)
    cols = []
    all_finite = all(hasattr(leaf, "n") for leaf in leaves)
    for leaf in leaves:
        if hasattr(leaf, "n"):
            cols.append(torch.randint(0, leaf.n, lead + (1,), device=device))
            continue
        v = torch.randn(lead + (leaf.d,), device=device)
        if getattr(leaf, "simplex", False):
            v = v.softmax(-1)
        elif leaf.low is not None and leaf.high is not None:
            v = leaf.low + (leaf.high - leaf.low) * torch.sigmoid(v)
        elif leaf.low is not None:
            v = leaf.low + v.exp()
        elif leaf.high is not None:
            v = leaf.high - v.exp()
        cols.append(v)
    if all_finite:
        return torch.cat(cols, -1)
    return torch.cat([c.to(torch.float32) for c in cols], -1)


def simulate(model, domain, batch: int, seq_len: int, device):
    """Random inputs of the domain and observed sites forward-sampled from ``model``."""
    import torch

    _check_protocol(model, "the entry")
    x = random_input(domain, batch, seq_len, device)
    with torch.no_grad():
        tr = model.trace(x)
    observed = set(getattr(model, "observed_names", ()) or ())
    return x, {n: s.value.detach() for n, s in tr.sites.items() if n in observed}


def _read_data_file(path: str) -> dict:
    import torch

    suffix = Path(path).suffix.lower()
    try:
        if suffix == ".pt":
            raw = torch.load(path, map_location="cpu", weights_only=True)
        elif suffix == ".npz":
            import numpy as np

            with np.load(path, allow_pickle=False) as f:
                raw = {k: f[k] for k in f.files}
        elif suffix == ".json":
            with open(path, encoding="utf-8") as f:
                raw = json.load(f)
        else:
            raise RunError(f"--data {path}: expected a .pt, .npz or .json file, or a .txt text corpus",
                           "data", file=path)
    except RunError:
        raise
    except FileNotFoundError:
        raise RunError(f"--data {path}: no such file", "data", file=path) from None
    except Exception as exc:  # a corrupt or foreign file: say so, no traceback
        raise RunError(f"--data {path}: cannot read it ({type(exc).__name__}: {exc})", "data",
                       file=path) from None
    if not isinstance(raw, dict):
        raise RunError(f"--data {path}: expected a mapping from names (x and observed sites) to "
                       f"arrays, got {type(raw).__name__}", "data", file=path)
    return raw


def _as_tensor(name, value, path):
    import torch

    try:
        t = torch.as_tensor(value)
    except Exception:
        raise RunError(f"--data {path}: {name!r} is not a numeric array", "data", file=path) from None
    if t.dtype == torch.bool:
        t = t.to(torch.int64)
    elif not t.is_floating_point() and t.dtype != torch.int64:
        if t.is_complex():
            raise RunError(f"--data {path}: {name!r} is complex", "data", file=path)
        t = t.to(torch.int64)
    elif t.dtype == torch.float64:
        t = t.to(torch.float32)
    return t


def load_data(path: str, model, device):
    """``x`` and observations from a file, checked site by site against one model trace."""
    import torch

    from .errors import QvrError

    _check_protocol(model, "the entry")
    raw = _read_data_file(path)
    observed = sorted(getattr(model, "observed_names", ()) or ())
    if "x" not in raw:
        raise RunError(f"--data {path}: no 'x' (the model inputs); keys: {', '.join(map(str, raw))}",
                       "data", file=path)
    unknown = sorted(set(map(str, raw)) - {"x"} - set(observed))
    if unknown:
        raise RunError(f"--data {path}: {', '.join(map(repr, unknown))} "
                       f"{'is not an observed site' if len(unknown) == 1 else 'are not observed sites'} "
                       f"(observed sites: {', '.join(observed) or 'none'})", "data", file=path)
    missing = [n for n in observed if n not in raw]
    if missing:
        raise RunError(f"--data {path}: no values for observed site {missing[0]!r}", "data", file=path)
    x = _as_tensor("x", raw["x"], path).to(device)
    try:
        with torch.no_grad():
            tr = model.trace(x)
    except QvrError as exc:
        raise RunError(f"--data {path}: 'x' does not fit the model: {exc}", "data", file=path) from None
    observations = {}
    for name in observed:
        value = _as_tensor(name, raw[name], path).to(device)
        site = tr.sites[name]
        expected = tuple(site.value.shape)
        shape = tuple(value.shape)
        if shape != expected and not (len(expected) >= 1 and expected[-1] == 1 and shape == expected[:-1]):
            raise RunError(f"--data {path}: site {name!r} expects shape {expected} for this x, "
                           f"got {shape}", "data", file=path)
        discrete = bool(getattr(site.support, "is_discrete", False))
        if discrete and value.is_floating_point():
            raise RunError(f"--data {path}: site {name!r} is finite and needs integer values, "
                           f"got {value.dtype}", "data", file=path)
        if not discrete:
            value = value.to(site.value.dtype)
        check_value = value.reshape(expected)
        if not bool(site.support.check(check_value).all()):
            raise RunError(f"--data {path}: site {name!r} has values outside its support "
                           f"{site.support}", "data", file=path)
        observations[name] = value
    return x, observations


# ------------------------------------------------------------------------------------------------
# the three kinds of run


def _check_protocol(model, entry_what: str):
    if not all(hasattr(model, a) for a in ("trace", "log_joint", "site_specs")):
        raise RunError(f"{entry_what} is not a program: `qvr run` needs a program (or a define "
                       "whose value is one) with sample/observe steps", "entry")


def _check_something_to_fit(model, entry: str, kind: str, lift: bool) -> None:
    """Refuse (code ``nothing-to-fit``) an SVI/NUTS run whose objective cannot depend on
    anything: SVI needs latent sites (the guide learns them) or observed sites with parameters
    to learn; NUTS needs latent sites, or with --lift, parameters to lift."""
    if kind == "sample":
        return
    _check_protocol(model, "the entry")
    from .compile.trace import LATENT, OBSERVED

    kinds = {spec.kind for spec in model.site_specs()}
    has_params = any(p.requires_grad for p in model.parameters())
    latent, observed = LATENT in kinds, OBSERVED in kinds
    if kind == "svi" and (latent or (observed and has_params)):
        return
    if kind == "nuts" and (latent or (lift and has_params)):
        return
    what = []
    if not has_params:
        what.append("no parameters")
    if not latent:
        what.append("no latent sites")
    if not observed:
        what.append("no observed sites")
    need = ("latent sites, or observed sites and parameters" if kind == "svi" else
            "latent sites (sample steps)" + ("" if lift else ", or parameters with --lift"))
    raise RunError(f"nothing to fit: `{entry}` has {', '.join(what)}; --{kind} needs {need}",
                   "nothing-to-fit")


#: Longest pause (seconds of wall time) between two progress events of an SVI run.
PROGRESS_INTERVAL_S = 0.5


def _svi(model, x, observations, steps, args, reporter, started, locate):
    import torch

    from .infer import ELBO, SVI, AutoNormalGuide
    from .errors import NotSupportedError

    _check_protocol(model, "the entry")
    try:
        guide = AutoNormalGuide(model, observed_names=set(observations))
    except NotSupportedError as exc:
        raise RunError(str(exc), "unsupported") from None
    params = list(model.parameters()) + list(guide.parameters())
    if not params:
        raise RunError("nothing to fit: the entry has no parameters and no latent sites", "unsupported")
    optim = torch.optim.Adam(params, lr=args.lr)
    from .infer.distributed import is_distributed

    try:
        svi = SVI(model, guide, optim, ELBO(num_particles=args.particles),
                  batch_size=args.batch_size, distributed=is_distributed())
    except ValueError as exc:
        raise RunError(str(exc), "usage") from None
    # A progress event every 1/500 of the steps, and whenever PROGRESS_INTERVAL_S has passed
    # since the last one: the language server counts a worker silent for `qvr.run.timeout`
    # seconds as hung, so slow steps must not make a healthy run silent.
    every = max(1, steps // 500)
    losses = []
    last_report = time.perf_counter()
    for step in range(1, steps + 1):
        loss = svi.step(x, observations)
        if not math.isfinite(loss):
            raise locate.nan_error(step, model, guide, x, observations)
        losses.append(loss)
        now = time.perf_counter()
        if step % every == 0 or step == steps or now - last_report >= PROGRESS_INTERVAL_S:
            reporter.progress(step, steps, loss, now - started)
            last_report = now
    return losses, _guide_posterior(guide, x)


def _guide_posterior(guide, x, draws: int = 100) -> dict:
    import torch

    with torch.no_grad():
        from .infer.sites import repeat_batch

        rows = x.shape[0]
        z = guide.rsample(repeat_batch(x, draws))
    out = {}
    for name, v in z.items():
        v = v.reshape((draws, rows) + tuple(v.shape[1:]))
        out[name] = {"mean": v.mean(0).tolist(), "std": v.std(0).tolist()}
    return out


def _sample(model, x, observations, steps, reporter, started):
    import torch

    from .infer import Predictive

    _check_protocol(model, "the entry")
    losses, chunks = [], []
    # Draws are vectorised by chunk, and the chunk boundaries decide which random numbers go
    # where, so they depend on `steps` alone (a seed gives the same draws on any machine, which
    # time-sized chunks would not). A progress event follows every chunk: 1% of the draws, so
    # a run is silent for at most 1% of its time (PROGRESS_INTERVAL_S while the whole run
    # takes under 50 s).
    chunk = max(1, steps // 100)
    done = 0
    with torch.no_grad():
        while done < steps:
            n = min(chunk, steps - done)
            draws = Predictive(model, num_samples=n)(x)
            values = {k: v.reshape((-1,) + tuple(v.shape[2:])) for k, v in draws.items()}
            from .infer.sites import repeat_batch

            lj = model.log_joint(repeat_batch(x, n), values).reshape(n, -1).sum(1)
            for v in lj.tolist():
                losses.append(-v)
            chunks.append(draws)
            done += n
            reporter.progress(done, steps, losses[-1], time.perf_counter() - started)
    posterior = {}
    for name in chunks[0]:
        allv = torch.cat([c[name] for c in chunks]).to(torch.float64)
        posterior[name] = {"mean": allv.mean(0).tolist(), "std": allv.std(0).tolist()}
    return losses, posterior


def _nuts(model, x, observations, warmup, samples, args, reporter, started, locate):
    import torch

    from .infer import MCMC, NUTSKernel, bayesian_lift_parameters
    from .errors import NotSupportedError

    _check_protocol(model, "the entry")
    target, tx, tobs = model, x, observations
    if args.lift:
        target, tx, tobs = bayesian_lift_parameters(model, x, observations)
    per_chain = warmup + samples
    done = [0] * args.chains  # iterations done per chain (chains may run side by side)

    def progress(chain, it, total, accept, log_joint):
        done[chain] = it
        loss = -float(log_joint)
        if not math.isfinite(loss):
            raise RunError(f"the log joint became non-finite at NUTS iteration {it} of chain "
                           f"{chain}", "nan")
        reporter.progress(sum(done), args.chains * per_chain, loss, time.perf_counter() - started,
                          chains=done if args.chains > 1 else None)

    mcmc = MCMC(NUTSKernel(max_tree_depth=args.max_tree_depth), num_warmup=warmup,
                num_samples=samples, num_chains=args.chains, seed=args.seed, progress=progress,
                chain_method=args.chain_method)
    try:
        result = mcmc.run(target, tx, tobs)
    except NotSupportedError as exc:
        raise RunError(str(exc), "unsupported") from None
    posterior = {}
    for name, s in result.summary().items():
        posterior[name] = {k: v.tolist() for k, v in s.items()}
    posterior["_diagnostics"] = {
        "acceptance_rates": result.acceptance_rates.tolist(),
        "divergence_counts": result.divergence_counts.tolist(),
        "step_sizes": result.step_sizes.tolist(),
        "chain_method": result.chain_method,
    }
    # the negative log joint at every iteration, chain after chain (whatever ran them)
    losses = (-result.trace_log_joint.to(torch.float64)).reshape(-1).tolist()
    return losses, posterior


class _Locator:
    """Maps a failing site back to the program step that draws it (file/line/column)."""

    def __init__(self, program, entry, text, file):
        self.program, self.entry, self.text, self.file = program, entry, text, file

    def nan_error(self, step, model, guide, x, observations) -> RunError:
        import torch

        site = None
        try:
            with torch.no_grad():
                z = guide.rsample(x)
                tr = model.trace(x, observations=observations, values=z)
            for name, s in tr.sites.items():
                if not bool(torch.isfinite(s.log_prob).all()) or (
                        s.value.is_floating_point() and not bool(torch.isfinite(s.value).all())):
                    site = name
                    break
        except Exception:  # locating is best effort; the NaN report itself must go out
            site = None
        message = f"the loss became non-finite at step {step}"
        if site is None:
            return RunError(message + " (lower --lr?)", "nan")
        line, col = self.position_of(site)
        return RunError(f"{message}: site {site!r} has a non-finite log-density or value "
                        "(lower --lr?)", "nan", file=self.file if line else None, line=line, column=col)

    def position_of(self, site: str):
        from .syntax.span import LineIndex, normalize

        var = site.split("/")[0]
        analysis = self.program.analysis
        info = analysis.programs.get(self.entry)
        if info is None and analysis.export is not None:
            ref = getattr(analysis.export.expr, "name", None)
            info = analysis.programs.get(getattr(ref, "text", ref))
        node = getattr(info.variables.get(var), "node", None) if info is not None else None
        span = getattr(node, "span", None)
        if span is None:
            return None, None
        line, col = LineIndex(normalize(self.text)).position(span.start)
        return line + 1, col + 1


# ------------------------------------------------------------------------------------------------
# output


def _plot(losses, path: Path, title: str, ylabel: str) -> None:
    import matplotlib

    matplotlib.use("Agg")  # no display; lazily imported so `qvr check` never pays for it
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 3.5), dpi=100)
    # Non-finite values (a NaN model, an infinite draw) are gaps in the line, not errors.
    series = [float(v) if v is not None and math.isfinite(v) else float("nan") for v in losses]
    ax.plot(range(1, len(series) + 1), series, lw=1.2)
    ax.set_xlabel("step")
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    if _wants_log_scale(series):
        ax.set_yscale("log")
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def _wants_log_scale(series) -> bool:
    """A log axis only for positive finite values spanning more than two decades."""
    finite = [v for v in series if math.isfinite(v)]
    if not finite or min(finite) <= 0:
        return False
    return max(finite) / min(finite) > 100


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="qvr run", description="run a QVR model")
    add_run_arguments(parser)
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:
        return int(exc.code) if isinstance(exc.code, int) else EXIT_USAGE
    args.argv = argv  # what the other processes of `--nproc N` run
    return run_command(args)


if __name__ == "__main__":
    sys.exit(main())
