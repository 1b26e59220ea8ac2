"""Every diagnostic code of the catalogue (spec §4.8) is produced at the right place with the
right severity and tags, and a minimal edit of the program removes it."""
from __future__ import annotations

import os
import sys

import pytest

from qvr.semantics import analyze  # first: qvr.diagnostics alone hits an import cycle
from qvr.diagnostics import Severity

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))  # the cases module beside us
from sem_catalogue_cases import CASES  # noqa: E402

MARK = "‸"

SEVERITY = {
    "QVR019": Severity.WARNING, "QVR030": Severity.WARNING, "QVR046": Severity.WARNING,
    "QVR067": Severity.WARNING, "QVR075": Severity.WARNING, "QVR081": Severity.WARNING,
    "QVR055": Severity.INFORMATION,
    "QVR080": Severity.HINT, "QVR082": Severity.HINT, "QVR083": Severity.HINT,
}
for _n in range(90, 110):
    SEVERITY[f"QVR{_n:03d}"] = Severity.HINT
UNNECESSARY = {"QVR080", "QVR081", "QVR082", "QVR083"}


def _severity(code: str) -> Severity:
    return SEVERITY.get(code, Severity.ERROR)


@pytest.mark.parametrize("code,source,clean", CASES, ids=[c[0] for c in CASES])
def test_code_is_reported_at_the_marked_position(code, source, clean):
    offset = source.index(MARK)
    text = source.replace(MARK, "")
    analysis = analyze(text)
    hits = [d for d in analysis.diagnostics if d.code == code]
    assert hits, f"{code} not reported; got {[d.code for d in analysis.diagnostics]}"
    at = [d for d in hits if d.span.start == offset]
    line, col = analysis.line_index.position(offset)
    assert at, (f"{code} expected at {line + 1}:{col + 1}, got "
                f"{[d.format('t', analysis.line_index) for d in hits]}")
    d = at[0]
    assert d.severity == _severity(code)
    if code in UNNECESSARY:
        assert "unnecessary" in d.tags
    if 90 <= int(code[3:]) <= 109:
        assert "deprecated" in d.tags
        assert d.message.endswith("`") and "is deprecated; write" in d.message
        assert d.fixes and d.fixes[0].edits, "deprecations carry a fix"


@pytest.mark.parametrize("code,source,clean", CASES, ids=[c[0] for c in CASES])
def test_clean_counterpart_removes_the_code(code, source, clean):
    before = sum(d.code == code for d in analyze(source.replace(MARK, "")).diagnostics)
    after = sum(d.code == code for d in analyze(clean).diagnostics)
    assert after < before


def test_every_catalogue_code_has_a_case():
    catalogue = (
        [f"QVR00{n}" for n in (1, 3, 4, 5, 6)]
        + [f"QVR0{n}" for n in range(10, 51) if n != 51]
        + ["QVR052", "QVR053", "QVR054", "QVR055"]
        + [f"QVR0{n}" for n in range(60, 76)]
        + ["QVR080", "QVR081", "QVR082", "QVR083"]
        + [f"QVR{n:03d}" for n in range(90, 110)]
    )
    covered = {c[0] for c in CASES}
    assert set(catalogue) <= covered, sorted(set(catalogue) - covered)


def test_semantic_analysis_never_reports_an_error_for_the_clean_counterparts_of_names():
    # Errors in clean programs would hide regressions behind expected noise.
    for code, _source, clean in CASES:
        if code in ("QVR001", "QVR003", "QVR004", "QVR005"):
            continue
        errors = [d for d in analyze(clean).diagnostics if d.is_error]
        assert not errors, (code, [(d.code, d.message) for d in errors])
