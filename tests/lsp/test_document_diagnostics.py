"""`document_diagnostics` and `document_diagnostic_runs`: each diagnostic once (same code,
range and message), in order."""
from __future__ import annotations

from types import SimpleNamespace

from hypothesis import given, settings
from hypothesis import strategies as st

from qvr.diagnostics import Diagnostic, Severity
from qvr.semantics.placed import DiagnosticRuns, Run
from qvr.syntax.span import Span
from qvr_lsp.features.diagnostics import document_diagnostic_runs, document_diagnostics


def hint(code, start, end, message):
    return Diagnostic(code, Severity.HINT, message, Span(start, end))


def test_repeats_are_left_out_wherever_they_lie_in_their_run_and_the_rest_kept_in_order():
    a, b = hint("QVR092", 0, 4, "first"), hint("QVR092", 0, 4, "second")
    same_range_other_code = hint("QVR093", 0, 4, "first")
    later = hint("QVR092", 5, 9, "first")
    given = (a, b, hint("QVR092", 0, 4, "first"), same_range_other_code,
             hint("QVR093", 0, 4, "first"), later, hint("QVR092", 5, 9, "first"))
    assert document_diagnostics(SimpleNamespace(diagnostics=given)) == [
        a, b, same_range_other_code, later]


@st.composite
def _runs(draw):
    """Diagnostics as runs (`qvr.semantics.placed`), with repeats inside runs and across their
    boundaries: recorded ones (with a memo, some moved) and ones made in this version."""
    runs, at = [], 0
    for _ in range(draw(st.integers(0, 6))):
        items = []
        for _ in range(draw(st.integers(1, 6))):
            at += draw(st.sampled_from([0, 0, 1, 3]))
            items.append(hint(draw(st.sampled_from(["QVR092", "QVR093"])), at, at + draw(st.integers(0, 1)),
                              draw(st.sampled_from(["first", "second"]))))
        delta = draw(st.sampled_from([0, 4]))
        base = tuple(d.shifted(-delta) for d in items)  # recorded `delta` characters earlier
        memo = {} if draw(st.booleans()) else None
        runs.append(Run(base, 0, len(base), delta, None, 0, None, memo))
    return DiagnosticRuns(runs)


@settings(max_examples=300, deadline=None)
@given(_runs())
def test_repeats_are_left_out_of_runs_as_out_of_the_list(runs):
    expected = document_diagnostics(SimpleNamespace(diagnostics=runs.flat()))
    assert document_diagnostic_runs(SimpleNamespace(diagnostic_runs=runs)).flat() == tuple(expected)
    # asked again: the memos' answers (whether a recorded run repeats itself) are the same
    assert document_diagnostic_runs(SimpleNamespace(diagnostic_runs=runs)).flat() == tuple(expected)
