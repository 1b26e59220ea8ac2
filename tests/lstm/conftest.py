"""Fixtures for the LSTM-family tests; paths live in lstm_paths.py."""
from __future__ import annotations

import pytest
import torch

from lstm_paths import time_machine_path


@pytest.fixture(scope="session")
def time_machine():
    path = time_machine_path()
    if not path.is_file():
        pytest.skip(f"needs The Time Machine, not found at {path}: run `qvr data fetch "
                    "timemachine` (or set QVR_TIMEMACHINE to a copy)")
    return path


@pytest.fixture(autouse=True)
def one_thread():
    """These models are small; one torch thread avoids oversubscribing a shared 2-core machine
    (measured: a training step 10x slower with 2 threads under load)."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
