"""Settings for the whole test run: language servers the tests start keep their start-up code
cache (qvr_lsp.code_cache) in a temporary directory, never in the user's ~/.cache."""
from __future__ import annotations

import os
import shutil
import tempfile

_made: list[str] = []


def pytest_configure(config):
    if "QVR_CACHE_DIR" not in os.environ:
        _made.append(tempfile.mkdtemp(prefix="qvr-test-cache-"))
        os.environ["QVR_CACHE_DIR"] = _made[-1]


def pytest_unconfigure(config):
    for path in _made:
        shutil.rmtree(path, ignore_errors=True)
        os.environ.pop("QVR_CACHE_DIR", None)
