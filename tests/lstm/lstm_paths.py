"""Paths shared by the LSTM-family tests (a unique module name: several test folders have a
conftest.py, so tests import these from here, never `from conftest import ...`).

The Time Machine is never copied into the repository: its path comes from `$QVR_TIMEMACHINE`,
else `../shared/data/timemachine.txt` next to the repository root, else where `qvr data fetch
timemachine` puts it.
"""
from __future__ import annotations

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"
TIME_MACHINE_SHA1 = "090b5e7e70c295757f55df93cb0a180b9691891a"


def time_machine_path() -> Path:
    """`$QVR_TIMEMACHINE`, else the copy beside the repository, else the one `qvr data fetch
    timemachine` downloads."""
    env = os.environ.get("QVR_TIMEMACHINE")
    if env:
        return Path(env)
    beside = ROOT.parent / "shared" / "data" / "timemachine.txt"
    if beside.is_file():
        return beside
    from qvr.datasets import local_path

    return local_path("timemachine")
