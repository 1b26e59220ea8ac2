"""Every example checks without errors (also with indentation removed, for the seeds) and shows
the expected non-error diagnostics of spec §1.2."""
from __future__ import annotations

import glob
import os

import pytest

from qvr.semantics import analyze

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
EXAMPLES = sorted(glob.glob(os.path.join(ROOT, "examples", "*.qvr")))
DEPRECATED = {f"QVR{n:03d}" for n in range(90, 110)}


def _notable(a):
    return sorted((d.code, a.text[d.span.start:d.span.end]) for d in a.diagnostics
                  if d.code not in DEPRECATED)


def test_all_expected_examples_exist():
    names = {os.path.basename(p) for p in EXAMPLES}
    assert {"seed_000_bayesian_lstm.qvr", "seed_001_bayesian_gru.qvr",
            "seed_002_vanilla_rnn_lm.qvr", "lstm.qvr", "gru.qvr", "lstm_classifier.qvr",
            "lstm_tagger.qvr", "stacked_lstm.qvr", "bilstm.qvr", "char_lstm_lm.qvr"} <= names


@pytest.mark.parametrize("path", EXAMPLES, ids=[os.path.basename(p) for p in EXAMPLES])
def test_example_checks_clean(path):
    text = open(path, encoding="utf-8").read()
    assert text.startswith("#"), "every example starts with a header comment"
    a = analyze(text)
    assert not a.errors, [(d.code, d.message) for d in a.errors]
    expected = [("QVR080", "candidate")] if "seed_001" in path else []
    assert _notable(a) == expected


@pytest.mark.parametrize("path", [p for p in EXAMPLES if "seed_" in os.path.basename(p)])
def test_seed_checks_identically_without_indentation(path):
    text = open(path, encoding="utf-8").read()
    flat = "\n".join(line.lstrip() for line in text.splitlines()) + "\n"
    a, b = analyze(text), analyze(flat)
    assert not b.errors
    assert [d.code for d in a.diagnostics] == [d.code for d in b.diagnostics]
    assert str(a.export_type) == str(b.export_type)


def test_classic_example_reports_its_deprecations_with_fixes():
    a = analyze(open(os.path.join(ROOT, "examples", "seed_000_bayesian_lstm.qvr")).read())
    codes = {d.code for d in a.diagnostics}
    assert {"QVR090", "QVR091", "QVR092", "QVR093", "QVR094", "QVR099", "QVR100", "QVR101"} <= codes
    assert all(d.fixes for d in a.diagnostics if d.code in DEPRECATED)
