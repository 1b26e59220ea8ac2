"""`qvr run FILE (--svi | --sample | --nuts) ...`: the command around the drivers.

`run_command(args)` (the `qvr` CLI's ``run`` subcommand, `main` and ``python -m qvr.run``)
picks the reporter, handles SIGTERM/SIGINT, ``--nproc`` and every failure (one ``error``
event or one ``qvr run: ...`` line, never a traceback), and `_run` loads the program, picks
the data, checks that there is something to fit and hands the kind's driver to
`qvr.run.drivers.fit`. Exit status: 0 ok, 1 run error, 2 usage error.
"""
from __future__ import annotations

import argparse
import os
import signal
import sys
from pathlib import Path

from .arguments import add_run_arguments, resolve_counts
from .contract import DEFAULTS, EXIT_OK, EXIT_RUN_ERROR, EXIT_USAGE, METRIC, METRIC_TITLES, RunError
from .reporting import HumanReporter, JsonReporter, SilentReporter


class _Cancelled(BaseException):
    """Raised from the SIGTERM/SIGINT handler so the run unwinds and reports cleanly."""


def _lead() -> bool:
    """Whether this process reports and writes results: rank 0, or the only process."""
    from ..infer.distributed import rank

    return rank() == 0


def _device_request(args) -> str:
    import torch

    return args.device or os.environ.get("QVR_DEVICE") or ("cuda" if torch.cuda.is_available()
                                                           else "cpu")


def run_command(args) -> int:
    from ..launch import world_from_env

    world = world_from_env()
    status = _run_command(args, world)
    if world is not None and world[0] != 0:
        _end_follower(status)
    return status


def _end_follower(status: int) -> None:
    """End a follower of a data-parallel run (rank > 0: it reports and writes nothing, and has
    left its process group) without the interpreter's teardown: torch's C++ objects for
    gloo destroyed then can call std::terminate and abort the process (exit -6) after its
    work is done, which rank 0 would report as that process failing."""
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):
            pass
    os._exit(status)


def _run_command(args, world) -> int:
    from ..launch import data_parallel

    reporter = JsonReporter() if args.json else HumanReporter()
    if world is not None and world[0] != 0:
        reporter = SilentReporter()
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
        from ..errors import NotSupportedError, QvrError

        if isinstance(exc, NotSupportedError):  # a tier-2/3 stub built or run (part 2 §6.9)
            reporter.error(RunError.unsupported(exc))
            return EXIT_RUN_ERROR
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
    import torch  # noqa: F401  (without torch the run is a `dependency` error before anything else)

    from ..charlm import is_text_corpus
    from ..infer.sites import model_device
    from . import drivers
    from .data import entry_batch, load_data, normal_data_names, simulate
    from .output import prepare_out_dir
    from .program import Locator, check_something_to_fit, load_program, pick_entry

    path = Path(args.file)
    kind = args.kind
    resolve_counts(args, lambda line: print(f"qvr run: warning: {line}", file=sys.stderr,
                                            flush=True))
    steps = args.steps if kind == "svi" else args.samples
    text_corpus = bool(args.data) and is_text_corpus(args.data)
    explicit_batch = args.batch is not None
    if args.batch is None:
        args.batch = DEFAULTS.corpus_batch if text_corpus else DEFAULTS.batch
    if args.lr is None:
        args.lr = DEFAULTS.corpus_lr if text_corpus else DEFAULTS.lr
    if args.generate is not None and not text_corpus:
        raise RunError("--generate needs a text corpus to train on (--data FILE.txt)", "usage")
    program, text = load_program(path, args.device, seed=args.seed)
    entry_name, model, domain = pick_entry(program, args.entry, path)
    device = model_device(model)
    # (the fit's copy of the program below has the same text: the same positions)
    locate = Locator(program, entry_name, text, str(path))
    with locate.failures():
        if text_corpus:
            return _run_corpus(args, reporter, path, entry_name, model, device)

        if args.data:
            x, observations = load_data(args.data, model, device)
            fit_model = model
        else:
            batch = entry_batch(model, args.batch, explicit_batch)
            locate.simulated = normal_data_names(model)
            x, observations = simulate(model, domain, batch, args.seq_len, device)
            # Fit a freshly initialised copy (seed + 1), as in the seed 002 walkthrough.
            program, _ = load_program(path, args.device, seed=args.seed + 1)
            _, fit_model, _ = pick_entry(program, args.entry, path)

        if kind == "nuts":
            warmup, samples = args.warmup, args.samples
            total = args.chains * (warmup + samples)
        else:
            total = steps
        check_something_to_fit(fit_model, entry_name, kind, args.lift)
        # An unwritable --out must fail now, not after a long fit (rank 0 alone writes results).
        out_dir = prepare_out_dir(args.out, path, entry_name, kind) if _lead() else None
        plan = drivers.FitPlan(
            entry=entry_name, kind=kind, device=str(device), file=path, total=total, seed=args.seed,
            out_dir=out_dir, data=args.data or "simulated",
            settings={k: getattr(args, k) for k in
                      ("steps", "lr", "particles", "warmup", "samples", "chains", "max_tree_depth",
                       "lift", "batch", "seq_len")},
            title=f"{entry_name} ({kind})" + ("" if kind == "svi" else
                                              f": {METRIC_TITLES[METRIC[kind]]}"),
            ylabel="log joint" if kind != "svi" else "loss (negative ELBO)", metric=METRIC[kind])

        def drive(started: float) -> drivers.Fitted:
            if kind == "svi":
                return drivers.svi(fit_model, x, observations, steps, args, reporter, started, locate)
            if kind == "sample":
                return drivers.sample(fit_model, x, observations, steps, reporter, started, locate)
            return drivers.nuts(fit_model, x, observations, warmup, samples, args, reporter, started,
                                locate)

        drivers.fit(plan, reporter, drive)


def _run_corpus(args, reporter, path: Path, entry_name: str, model, device) -> None:
    """`--data` is a text file: train the character model on its windows (SGD, clipping), report
    training/validation perplexity and optionally continue `--generate` by `--chars`."""
    from . import drivers
    from .output import prepare_out_dir

    if args.kind != "svi":
        raise RunError(f"a text corpus (--data {args.data}) trains a character model: use --svi",
                       "usage")
    if args.batch_size is not None:
        raise RunError("--batch-size is for data with rows; a text corpus is trained on --batch "
                       "windows per step", "usage")
    steps = args.steps
    run = drivers.open_corpus(model, args)
    # fail before training, not after (rank 0 alone writes results)
    out_dir = prepare_out_dir(args.out, path, entry_name, "svi") if _lead() else None
    plan = drivers.FitPlan(
        entry=entry_name, kind="svi", device=str(device), file=path, total=steps,
        seed=args.seed, out_dir=out_dir, data=args.data,
        settings={"steps": steps, "lr": args.lr, "batch": args.batch,
                  "num_steps": args.num_steps, "clip": 1.0, "optimizer": "sgd"},
        title=f"{entry_name} (svi on {Path(args.data).name})",
        ylabel="loss (negative ELBO per token)")
    drivers.fit(plan, reporter,
                lambda started: drivers.train_corpus(run, steps, args, reporter, started))


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
