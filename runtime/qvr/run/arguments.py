"""`qvr run`'s command line: `add_run_arguments` adds the options to a parser (the `qvr` CLI's
``run`` subcommand, or `qvr.run.command.main`'s own), with the defaults of `qvr.run.contract`;
`resolve_counts` settles how long a run is (``--steps`` for SVI, ``--samples`` for Sample and
NUTS draws, ``--warmup`` for NUTS) and says so when the older ``--steps`` of a Sample or NUTS
run is used.

Every option has one meaning in every kind, and ``--help`` shows every default.

The value parsers word a bad value themselves (``expected a positive integer, got '0'``)
instead of argparse's ``invalid _positive_int value``.
"""
from __future__ import annotations

import argparse
import math

from .contract import DEFAULTS, RunError, nuts_split


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
                   help=f"SVI optimisation steps (default {DEFAULTS.steps}). Deprecated with "
                        "--sample (use --samples) and --nuts (use --warmup and --samples)")
    p.add_argument("--lr", type=_positive_float, metavar="X",
                   help=f"learning rate (default: Adam {DEFAULTS.lr:g}; SGD {DEFAULTS.corpus_lr:g} with a "
                        "text corpus)")
    p.add_argument("--particles", type=_positive_int, default=DEFAULTS.particles, metavar="K",
                   help=f"ELBO particles per SVI step (default {DEFAULTS.particles})")
    p.add_argument("--samples", type=_positive_int, metavar="N",
                   help="draws: prior-predictive draws with --sample (default "
                        f"{DEFAULTS.samples['sample']}), draws per chain after warm-up with --nuts "
                        f"(default {DEFAULTS.samples['nuts']})")
    p.add_argument("--warmup", type=_non_negative_int, metavar="N",
                   help=f"NUTS warm-up iterations per chain (default {DEFAULTS.warmup})")
    p.add_argument("--chains", type=_positive_int, default=DEFAULTS.chains, metavar="N",
                   help=f"NUTS chains (default {DEFAULTS.chains})")
    p.add_argument("--chain-method", choices=("auto", "parallel", "sequential"),
                   default=DEFAULTS.chain_method,
                   help="how NUTS chains run: parallel worker processes (one core each), one "
                        "after another, or auto (parallel for several chains on the CPU; the "
                        "default). A fixed --seed gives the same draws either way")
    p.add_argument("--max-tree-depth", type=_positive_int, default=DEFAULTS.max_tree_depth, metavar="N",
                   help="NUTS tree depth limit (default 6: at most 63 gradients per draw)")
    p.add_argument("--lift", action="store_true",
                   help="NUTS over the weights too (bayesian_lift_parameters, prior N(0, 1); "
                        "default: the weights stay fixed)")
    p.add_argument("--seed", type=_integer, default=DEFAULTS.seed, metavar="S",
                   help=f"random seed (default {DEFAULTS.seed})")
    p.add_argument("--device", metavar="D", help="torch device (default: $QVR_DEVICE, cuda, cpu)")
    p.add_argument("--data", metavar="FILE",
                   help=".pt/.npz/.json with x and observed sites, or a text file (character "
                        "models) (default: data simulated from the model)")
    p.add_argument("--batch", type=_positive_int, metavar="B",
                   help=f"rows of simulated data (default {DEFAULTS.batch}), or windows per step with a "
                        f"text corpus (default {DEFAULTS.corpus_batch})")
    p.add_argument("--num-steps", type=_positive_int, default=DEFAULTS.num_steps, metavar="N",
                   help=f"characters per training window (text corpus; default {DEFAULTS.num_steps})")
    p.add_argument("--generate", metavar="PROMPT",
                   help="after training on a text corpus, continue PROMPT (default: no "
                        "generation)")
    p.add_argument("--chars", type=_non_negative_int, default=DEFAULTS.chars, metavar="N",
                   help=f"characters to generate after the prompt (default {DEFAULTS.chars})")
    p.add_argument("--seq-len", type=_positive_int, default=DEFAULTS.seq_len, metavar="T",
                   help=f"positions per simulated sequence (without --data; default "
                        f"{DEFAULTS.seq_len})")
    p.add_argument("--out", metavar="DIR",
                   help="output folder (default: runs/<entry>-<kind>-<UTC time>/ next to FILE)")
    p.add_argument("--json", action="store_true",
                   help="one JSON event per line on stdout (default: a progress bar on stderr "
                        "and a summary on stdout)")
    p.add_argument("--nproc", type=_positive_int, default=DEFAULTS.nproc, metavar="N",
                   help="--svi on N processes of this machine (torch.distributed: gloo on the "
                        "CPU, NCCL on CUDA), the data's rows shared among them; under torchrun "
                        "the processes are torchrun's (default 1)")
    p.add_argument("--batch-size", type=_positive_int, metavar="B",
                   help="--svi on B rows drawn afresh each step from the data's N rows (the "
                        "loss stays an unbiased estimate of the full one); default: all rows")
    # the command line as given (`qvr run --nproc N` starts the other processes with it);
    # `main` and `qvr.cli` fill it in after parsing
    p.set_defaults(argv=[])


def resolve_counts(args, warn) -> None:
    """Fill in ``args.steps`` (SVI), ``args.samples`` (Sample, NUTS) and ``args.warmup`` (NUTS)
    from what was given and the defaults, leaving the options of other kinds None.

    ``--steps`` used to count the draws of ``--sample`` and the iterations (warm-up and draws,
    half and half) of ``--nuts``: it still does, and `warn` is given a line naming the flags
    to use instead. An option that means nothing for the kind is a ``usage`` `RunError`."""
    kind = args.kind
    if kind == "svi":
        for flag, value, kinds in (("--samples", args.samples, "--sample and --nuts"),
                                   ("--warmup", args.warmup, "--nuts")):
            if value is not None:
                raise RunError(f"{flag} is for {kinds}; an SVI run takes --steps", "usage")
        args.steps = args.steps or DEFAULTS.steps
        return
    if kind == "sample" and args.warmup is not None:
        raise RunError("--warmup is for --nuts; a Sample run takes --samples", "usage")
    steps, args.steps = args.steps, None
    if steps is None:
        args.samples = args.samples or DEFAULTS.samples[kind]
        if kind == "nuts" and args.warmup is None:
            args.warmup = DEFAULTS.warmup
        return
    if kind == "sample":
        if args.samples is not None:
            raise RunError("--steps and --samples both count the draws of --sample: give "
                           "--samples alone", "usage")
        warn(f"--steps with --sample is deprecated: use --samples {steps}")
        args.samples = steps
        return
    warmup, samples = nuts_split(steps, args.warmup, args.samples)
    warn(f"--steps with --nuts is deprecated: use --warmup {warmup} --samples {samples} "
         "(warm-up iterations and draws per chain)")
    args.warmup, args.samples = warmup, samples


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
