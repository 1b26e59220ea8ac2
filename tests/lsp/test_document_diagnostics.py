"""`document_diagnostics`: each diagnostic once (same code, range and message), in order."""
from __future__ import annotations

from types import SimpleNamespace

from qvr.diagnostics import Diagnostic, Severity
from qvr.syntax.span import Span
from qvr_lsp.features.diagnostics import document_diagnostics


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
