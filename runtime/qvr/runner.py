"""The older name of `qvr.run`: ``python -m qvr.runner ...`` and ``from qvr import runner`` keep
working for scripts written against it. New code imports `qvr.run` (see its docstring for
what a run does and which module does what).
"""
from __future__ import annotations

import sys

from .run.arguments import add_run_arguments
from .run.command import _lead, main, run_command
from .run.contract import DEFAULT_STEPS, EXIT_OK, EXIT_RUN_ERROR, EXIT_USAGE, RunError
from .run.data import load_data, random_input, simulate
from .run.drivers import PROGRESS_INTERVAL_S
from .run.output import EVENT_ARRAY_LIMIT, compact_posterior, default_out_dir
from .run.output import plot as _plot
from .run.output import prepare_out_dir as _out_dir
from .run.output import wants_log_scale as _wants_log_scale
from .run.program import Locator as _Locator
from .run.reporting import HumanReporter, JsonReporter
from .run.reporting import SilentReporter as _SilentReporter

__all__ = [
    "DEFAULT_STEPS", "EVENT_ARRAY_LIMIT", "EXIT_OK", "EXIT_RUN_ERROR", "EXIT_USAGE",
    "HumanReporter", "JsonReporter", "PROGRESS_INTERVAL_S", "RunError", "add_run_arguments",
    "compact_posterior", "default_out_dir", "load_data", "main", "random_input", "run_command",
    "simulate", "_Locator", "_SilentReporter", "_lead", "_out_dir", "_plot", "_wants_log_scale",
]

if __name__ == "__main__":
    sys.exit(main())
