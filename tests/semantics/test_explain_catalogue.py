"""The `qvr explain` catalogue (qvr.explain) against the checker itself.

* The codes explained are exactly the codes the parser and checker can emit, found by
  scanning their source for code literals the way a reader would grep for them, so a new
  code without an explanation (or an explanation of a code that is gone) fails here.
* Every example triggers its code with the stated severity and nothing else (one listed,
  harmless exception); every fix is clean.
* `internal` has no example (no valid program produces it): it is checked by making the
  checker fail on purpose.
"""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from qvr.diagnostics import Severity
from qvr.explain import CATALOGUE, ENTRIES
from qvr.semantics import analyze

RUNTIME = Path(__file__).resolve().parents[2] / "runtime" / "qvr"
# Where diagnostics are created: the parser, the checker, and the UTF-8 decoding of a file.
SOURCES = [RUNTIME / "syntax", RUNTIME / "semantics", RUNTIME / "source.py"]

# Diagnostics an example may give besides its own code, and why.
HARMLESS_EXTRAS = {
    # A module without `export` has at least one declaration nothing refers to.
    "QVR055": {"QVR080"},
    # Only a data input has data rows, and each one is reported where it is first used.
    "QVR115": {"QVR111"},
}


def emitted_codes() -> set[str]:
    """Every code literal (`"QVR0xx"`) in the source of the parser and the checker, plus the
    value of `INTERNAL_CODE` (the code that stands in for a statement the checker failed on)."""
    files = []
    for src in SOURCES:
        files += sorted(src.rglob("*.py")) if src.is_dir() else [src]
    codes: set[str] = set()
    for f in files:
        text = f.read_text(encoding="utf-8")
        codes |= set(re.findall(r"""["'](QVR\d{3})["']""", text))
        codes |= set(re.findall(r"""^INTERNAL_CODE\s*=\s*["'](\w+)["']""", text, re.MULTILINE))
    return codes


def test_the_explained_codes_are_exactly_the_emitted_codes():
    emitted = emitted_codes()
    assert "internal" in emitted and "QVR013" in emitted  # the scan itself works
    assert set(CATALOGUE) == emitted
    assert len(ENTRIES) == len(CATALOGUE) == 118  # no code explained twice


def test_entries_are_in_code_order_with_known_severities():
    codes = [e.code for e in ENTRIES]
    assert codes == sorted(c for c in codes if c.startswith("QVR")) + ["internal"]
    assert {e.severity for e in ENTRIES} <= {s.label for s in Severity}


def test_deprecations_name_their_old_form_and_rewrite():
    for e in ENTRIES:
        is_deprecation = e.code.startswith("QVR") and 90 <= int(e.code[3:]) <= 109
        assert (e.old_form is not None and e.rewrite is not None) == is_deprecation, e.code
        if is_deprecation:
            assert e.severity == "hint", e.code


def _codes(text: str) -> list[tuple[str, str]]:
    return [(d.code, d.severity.label) for d in analyze(text).diagnostics]


EXAMPLES = [e for e in ENTRIES if e.example is not None]


@pytest.mark.parametrize("entry", EXAMPLES, ids=[e.code for e in EXAMPLES])
def test_example_triggers_its_code_and_fix_is_clean(entry):
    found = _codes(entry.example)
    own = [sev for code, sev in found if code == entry.code]
    assert own and set(own) == {entry.severity}, found
    extras = {code for code, _ in found if code != entry.code}
    assert extras == HARMLESS_EXTRAS.get(entry.code, set()), found
    assert all(sev == "hint" for code, sev in found if code in extras), found
    assert _codes(entry.fix) == []


def test_only_internal_lacks_an_example():
    assert [e.code for e in ENTRIES if e.example is None or e.fix is None] == ["internal"]


def test_internal_is_what_a_failing_checker_reports(monkeypatch):
    import qvr.semantics.checker as checker
    from qvr.semantics import analyze

    def broken(ctx, d):
        raise RuntimeError("deliberate failure")

    monkeypatch.delenv("QVR_SEMANTICS_DEBUG", raising=False)
    monkeypatch.setattr(checker, "_DEBUG", False)
    monkeypatch.setattr(checker, "check_morphism", broken)
    text = "object X : Real 1\nmorphism f : X -> X ~ Normal\nexport f\n"
    found = [(d.code, d.severity.label) for d in analyze(text).diagnostics]
    assert ("internal", CATALOGUE["internal"].severity) in found
