"""Shared fixtures for the LSTM-family tests (issue 9).

The Time Machine is never copied into the repository: its path comes from `$QVR_TIMEMACHINE`,
else `../shared/data/timemachine.txt` next to the repository root.
"""
from __future__ import annotations

import os
from pathlib import Path

import pytest
import torch

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"
TIME_MACHINE_SHA1 = "090b5e7e70c295757f55df93cb0a180b9691891a"


def time_machine_path() -> Path:
    env = os.environ.get("QVR_TIMEMACHINE")
    return Path(env) if env else ROOT.parent / "shared" / "data" / "timemachine.txt"


@pytest.fixture(scope="session")
def time_machine() -> Path:
    path = time_machine_path()
    if not path.is_file():
        pytest.skip(f"The Time Machine not found at {path} (set QVR_TIMEMACHINE)")
    return path


@pytest.fixture(autouse=True)
def one_thread():
    """These models are small; one torch thread avoids oversubscribing a shared 2-core machine
    (measured: a step 10x slower with 2 threads under load)."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
