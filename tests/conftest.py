"""Settings and fixtures for the whole test run.

* Language servers the tests start keep their start-up code cache (qvr_lsp.code_cache) in a
  temporary directory, never in the user's ~/.cache.
* `generated_module(lines)`: the large valid module the latency benchmark uses.
* `--update-expect` (or `UPDATE_EXPECT=1`): expectation tests (tests/expect.py) rewrite their
  expected texts from the current output instead of failing.
* Two tiers: a test marked `process` (it starts a language server or another process that
  costs about half a second or more) is marked `slow` too, so the everyday loop `-m "not slow"`
  is the unit tier and the full run has everything; `-m process` picks the process
  tests alone.
* The cyclic garbage collector skips what the imports and the collection built, and walks the
  whole heap a tenth as often.
"""
from __future__ import annotations

import gc
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


@pytest.hookimpl(tryfirst=True)  # before `-m` deselects by marker
def pytest_collection_modifyitems(config, items):
    for item in items:
        if item.get_closest_marker("process") is not None:
            item.add_marker(pytest.mark.slow)


def pytest_collection_finish(session):
    # What the imports and the collection built (torch, lsprotocol, the test modules: about
    # 350,000 objects) lives for the whole run; frozen, full collections no longer walk it.
    gc.freeze()
    # The tests build large parse trees and analyses; a full collection (the oldest generation)
    # walks everything they keep, so it runs a tenth as often as by default. The language
    # server itself runs with automatic collection off (qvr_lsp.scheduling.tune_gc).
    young, middle, _ = gc.get_threshold()
    gc.set_threshold(young, middle, 100)


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
