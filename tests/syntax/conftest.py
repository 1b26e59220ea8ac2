"""Fixtures for the syntax tests: the spec's worked examples (§3.3, §7) and a kitchen sink."""
from __future__ import annotations

import pytest

from syntax_helpers import EXAMPLES


@pytest.fixture(params=EXAMPLES, ids=[p.stem for p in EXAMPLES])
def example(request) -> str:
    return request.param.read_text(encoding="utf-8")
