"""The current-form examples (examples/current/) check with exactly the diagnostics listed
here: every diagnostic of each file, by code, severity, line and column, compared whole.

Each example exercises tier-1 constructs of the current form (plates, data names, gathers,
row plates, templates, `marginalize`, count families, comprehensions, matrices, the algebra
selector, tier-3 blocks); a construct the checker gets wrong shows up here as an extra or a
missing diagnostic.
"""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from qvr.semantics import analyze
from qvr.syntax.span import LineIndex

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "current"


def at(text: str, line: int, word: str) -> tuple[int, int]:
    """(line, column), 1-based, of the first `word` on `line`."""
    col = re.search(rf"\b{re.escape(word)}\b", text.splitlines()[line - 1]).start()
    return line, col + 1


# file -> [(code, severity, line, word at the diagnostic's start)]
EXPECTED = {
    "e01_schools.qvr": [("QVR111", "hint", 11, "sd")],
    "e02_radon.qvr": [("QVR111", "hint", 12, "county"), ("QVR111", "hint", 12, "basement")],
    "e03_char_gru_rows.qvr": [("QVR117", "hint", 28, "Ctx")],
    "e04_crossed_templates.qvr": [("QVR111", "hint", 21, "subj"), ("QVR111", "hint", 21, "item")],
    "e05_mixtures.qvr": [],
    "e06_user_classes.qvr": [("QVR111", "hint", 14, "click_user"),
                             ("QVR111", "hint", 15, "visit_user")],
    "e07_counts.qvr": [],
    "e08_tables.qvr": [("QVR111", "hint", 13, "color_of"), ("QVR111", "hint", 13, "size_of")],
    "e09_correlations.qvr": [],
    "e10_algebra.qvr": [("QVR135", "hint", 10, "route")],
    "ar1_series.qvr": [("QVR111", "hint", 11, "y_prev")],
    "poisson_by_region.qvr": [("QVR111", "hint", 13, "region"), ("QVR111", "hint", 13, "exposure")],
    "schools_noncentred.qvr": [("QVR111", "hint", 12, "se")],
    "two_component_mixture.qvr": [],
    "rows_lstm_lm.qvr": [("QVR117", "hint", 27, "Batch")],
    "tier3_beside_prior.qvr": [("QVR110", "information", 7, "deduction")],
}


def test_every_example_is_listed():
    assert sorted(p.name for p in EXAMPLES.glob("*.qvr")) == sorted(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_example_diagnostics(name):
    text = (EXAMPLES / name).read_text(encoding="utf-8")
    index = LineIndex(text)
    got = []
    for d in analyze(text).diagnostics:
        line, col = index.position(d.span.start)
        got.append((d.code, d.severity.label, line + 1, col + 1))
    want = [(code, sev, *at(text, line, word)) for code, sev, line, word in EXPECTED[name]]
    assert sorted(got) == sorted(want)
