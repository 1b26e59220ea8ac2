"""`qvr run`: fit or sample a QVR program from the command line (and for the language server).

    qvr run FILE [--entry NAME] (--sample | --svi | --nuts) [--steps N] [--lr X] [--particles K]
             [--samples N] [--warmup N] [--chains N] [--seed S] [--device D] [--data FILE]
             [--out DIR] [--json] [--batch B] [--seq-len T] [--max-tree-depth N] [--lift]

`runtime/qvr/cli.py` calls `add_run_arguments(subparser)` and `run_command(args)`;
``python -m qvr.run ...`` (and the older ``python -m qvr.runner ...``) runs the same thing
without the CLI.

What a run does:

1. load FILE (`qvr.load`); the entry is the export, or `--entry NAME` (a program or define)
   (`program`);
2. data (`data`): `--data` (`.pt`, `.npz` or `.json` mapping `x` and observed-site names to
   arrays), validated site by site; without it, a data set is simulated as seed 002 does:
   random inputs of the entry's domain (`--batch` rows, `--seq-len` positions for sequences),
   the observed sites forward-sampled from the model initialised with `--seed`, and a freshly
   initialised model (seed + 1) is fitted to them;
3. the kind's driver inside the one fit loop (`drivers.fit`): `--svi`: `--steps` Adam steps
   (`--lr`) of SVI with an AutoNormalGuide and `--particles` particles; `--nuts`: NUTS over the
   latent sites with the weights fixed (or, with `--lift`, over weights and latents via
   `bayesian_lift_parameters`), `--warmup` iterations and `--samples` draws per chain; the
   progress reports the log joint of the current draw; `--sample`: `--samples`
   prior-predictive draws, reported with their log joint (`--steps` with `--sample` or
   `--nuts` is the older spelling, accepted with a warning); a text file as `--data`
   trains a character model instead (`qvr.charlm`: SGD with clipping, `--num-steps` windows,
   perplexities, `--generate PROMPT --chars N`);
4. writes `summary.json` and `loss.png` (SVI) or `log_joint.png` (Sample, NUTS) (matplotlib,
   Agg) to `--out`, by default
   `runs/<entry>-<kind>-<UTC time>/` next to FILE (`contract.results_dir`, the rule the
   language server uses too); the folder is created and checked for writing before anything
   is fitted (`output`).

Output (`reporting`): a progress bar on stderr (a carriage-return line on a TTY, a line every
10% otherwise) and a final summary on stdout; with `--json`, one event per line on stdout
exactly as docs/internals.md "qvr run --json events" describes (`contract`), flushed per line.
Every failure is an `error` event (JSON) or one `qvr run: ...` line on stderr, never a
traceback: load errors carry the first diagnostic's code and position; bad data names the site
(`"code": "data"`); a non-finite loss stops the run (`"code": "nan"`) naming the step and, when
one site's log-density is to blame, that site's source line. SIGTERM/SIGINT end the run with
an error event (`"code": "cancelled"`). Exit status: 0 ok, 1 run error, 2 usage error.

Modules: `contract` (torch-free: events, error codes, defaults, the results folder; the
language server imports it), `arguments`, `reporting`, `program`, `data`, `drivers`,
`output`, `command`. Importing the package loads none of them: the names below are loaded on
first use, so the language server's `import qvr.run.contract` stays light.
"""
from __future__ import annotations

_EXPORTS = {
    "main": "command", "run_command": "command", "add_run_arguments": "arguments",
    "RunError": "contract", "EXIT_OK": "contract", "EXIT_RUN_ERROR": "contract",
    "EXIT_USAGE": "contract", "DEFAULT_STEPS": "contract",
}


def __getattr__(name: str):
    # Lazy: the language server imports qvr.run.contract and must not pay for argparse,
    # the reporters or anything that leads to torch.
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'qvr.run' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(f"qvr.run.{module}"), name)
    globals()[name] = value
    return value
