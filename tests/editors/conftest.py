"""Shared by the editor tests: finding the external programs they drive (nvim, node)."""
from __future__ import annotations

import os
import shutil

import pytest


@pytest.fixture(scope="session")
def require_tool():
    """`require_tool(name, install)` -> the program's path. Missing: skipped locally, but a
    failure in CI (CI=true), where the editor clients must really be exercised."""

    def find(name: str, install: str) -> str:
        path = shutil.which(name)
        if path is None:
            if os.environ.get("CI", "").lower() == "true":
                pytest.fail(f"{name} is not installed but CI=true: {install}")
            pytest.skip(f"{name} is not installed ({install})")
        return path

    return find
