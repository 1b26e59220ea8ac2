"""Settings and fixtures for the whole test run.

* Language servers the tests start keep their start-up code cache (qvr_lsp.code_cache) in a
  temporary directory, never in the user's ~/.cache.
* `generated_module(lines)`: the large valid module the latency benchmark uses.
* `--update-expect` (or `UPDATE_EXPECT=1`): expectation tests (tests/expect.py) rewrite their
  expected texts from the current output instead of failing.
"""
from __future__ import annotations

import importlib.util
import os
import shutil
import tempfile
from pathlib import Path

import pytest

import expect

ROOT = Path(__file__).resolve().parents[1]

_made: list[str] = []


def pytest_addoption(parser):
    parser.addoption("--update-expect", action="store_true", default=False,
                     help="rewrite the expected texts of expectation tests from the current output")


def pytest_configure(config):
    if config.getoption("update_expect"):
        expect.UPDATE = True
    if "QVR_CACHE_DIR" not in os.environ:
        _made.append(tempfile.mkdtemp(prefix="qvr-test-cache-"))
        os.environ["QVR_CACHE_DIR"] = _made[-1]


def pytest_sessionfinish(session):
    for path in expect.write_pending():
        print(f"\nupdated the expectations in {path}")


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
