"""Settings and fixtures for the whole test run.

* Language servers the tests start keep their start-up code cache (qvr_lsp.code_cache) in a
  temporary directory, never in the user's ~/.cache.
* `generated_module(lines)`: the large valid module the latency benchmark uses.
"""
from __future__ import annotations

import importlib.util
import os
import shutil
import tempfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

_made: list[str] = []


def pytest_configure(config):
    if "QVR_CACHE_DIR" not in os.environ:
        _made.append(tempfile.mkdtemp(prefix="qvr-test-cache-"))
        os.environ["QVR_CACHE_DIR"] = _made[-1]


def pytest_unconfigure(config):
    for path in _made:
        shutil.rmtree(path, ignore_errors=True)
        os.environ.pop("QVR_CACHE_DIR", None)


@pytest.fixture(scope="session")
def generated_module():
    """`generate(lines)` of bench/lsp_latency.py: a valid module of about `lines` lines of
    recurrent models, every model with its own names."""
    spec = importlib.util.spec_from_file_location("lsp_latency", ROOT / "bench" / "lsp_latency.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.generate
