"""Shared fixtures for the runtime tests: the spec §7 programs live in `programs/`."""
from __future__ import annotations

from pathlib import Path

import pytest

PROGRAMS = Path(__file__).parent / "programs"


@pytest.fixture(autouse=True)
def _cpu_device(monkeypatch):
    # The device rule reads QVR_DEVICE; pin the tests to CPU unless a test sets it.
    monkeypatch.setenv("QVR_DEVICE", "cpu")


@pytest.fixture(autouse=True, scope="session")
def _one_thread():
    # Small tensors: intra-op threads only add contention on a shared 2-core CI machine.
    import torch
    torch.set_num_threads(1)
