"""Long operator chains are checked, not dropped (reported bug: a 400-deep `>>` chain made
`analyze` swallow a RecursionError, so `qvr check` said OK with a wrong "never used" hint),
and a statement the checker fails on is a located error, never silence."""
from __future__ import annotations

import pytest

import qvr.semantics.checker as analysis_module
from qvr.diagnostics import Severity
from qvr.semantics import analyze
from qvr.syntax import parse_module

DEPTH = 3000  # several times what recursion allowed (about 330)

HEADER = "object X : Real 2\nobject Y : Real 3\nmorphism f : X -> X\nmorphism g : X -> Y\n"


def chain(op: str, parts: list[str]) -> str:
    return HEADER + "define a = " + f" {op} ".join(parts) + "\nexport a\n"


def codes(analysis):
    return [d.code for d in analysis.diagnostics]


@pytest.mark.parametrize("op", [">>", "<<", "@"])
def test_a_long_chain_is_typed_and_every_use_counts(op):
    text = chain(op, ["f"] * DEPTH)
    a = analyze(text)
    assert codes(a) == ["QVR080"]  # only `g`, which the chain does not use
    assert "`g`" in a.diagnostics[0].message
    t = a.defines["a"].type
    if op == "@":
        assert t.dom.width == 2 * DEPTH and t.display().count("X") == 2 * DEPTH
    else:
        assert t.display() == "X -> X"


def test_a_mismatch_deep_in_a_long_chain_is_reported_at_its_operator():
    parts = ["f"] * DEPTH
    parts[DEPTH // 2] = "g"  # g : X -> Y, then f expects X
    text = chain(">>", parts)
    a = analyze(text)
    assert codes(a) == ["QVR040"]
    op_at = text.index("g >> f") + 2
    assert (a.diagnostics[0].span.start, a.diagnostics[0].span.end) == (op_at, op_at + 2)


def test_a_long_chain_after_an_edit_above_it_gets_shifted_spans():
    """The memoised chunk is moved to its new offset (re-parsed where the tree is too deep
    to shift recursively)."""
    text = chain(">>", ["f"] * DEPTH)
    parse_module(text)
    moved = parse_module("# a new first line\n" + text).module.statements[-2]
    fresh = parse_module(text).module.statements[-2]
    delta = len("# a new first line\n")
    assert (moved.span.start, moved.span.end) == (fresh.span.start + delta, fresh.span.end + delta)
    assert moved.expr.right.span.start == fresh.expr.right.span.start + delta
    assert codes(analyze("# a new first line\n" + text)) == ["QVR080"]


@pytest.mark.parametrize("op", ["+", "*", "-"])
def test_long_arithmetic_in_a_program_is_checked(op):
    body = f" {op} ".join(["x"] * DEPTH)
    text = ("object X : Real 2\nprogram p(x) : X -> X\n    let y = " + body
            + "\n    return y\nexport p\n")
    assert codes(analyze(text)) == []
    bad = text.replace(f"x {op} x\n", f"x {op} [1.0, 2.0, 3.0]\n")
    assert codes(analyze(bad)) == ["QVR069"]


def test_a_long_left_compose_chain_ending_in_a_kernel_can_be_observed():
    text = ("object X : Real 2\nmorphism k : X -> X ~ Normal\nmorphism f : X -> X\n"
            "define d = " + " << ".join(["k"] + ["f"] * DEPTH) + "\n"
            "program p(x) : X -> X\n    observe z <- d(x)\n    return z\nexport p\n")
    assert codes(analyze(text)) == []


STATEMENT = "define a = f"
SMALL = "object X : Real 2\nmorphism f : X -> X\n" + STATEMENT + "\nexport a\n"


@pytest.mark.parametrize("exc, words", [
    (RecursionError("maximum recursion depth exceeded"), "nested too deeply"),
    (KeyError("boom"), "internal error"),
])
def test_a_statement_the_checker_fails_on_is_a_located_error(monkeypatch, exc, words):
    real = analysis_module.Checker.check_define

    def failing(self, d, table):
        raise exc

    monkeypatch.setattr(analysis_module.Checker, "check_define", failing)
    a = analyze(SMALL)
    errors = [d for d in a.diagnostics if d.severity == Severity.ERROR]
    assert [d.code for d in errors] == ["internal"]
    start = SMALL.index(STATEMENT)
    assert (errors[0].span.start, errors[0].span.end) == (start, start + len(STATEMENT))
    assert words in errors[0].message
    # the failed statement's uses are unknown: no "declared but never used" guesses
    assert "QVR080" not in codes(a)
    monkeypatch.setattr(analysis_module.Checker, "check_define", real)
    assert codes(analyze(SMALL)) == []


def test_a_failure_outside_any_statement_is_an_error_on_the_first_line(monkeypatch):
    def failing(self, top):  # the whole-module pass after the statements, as steps
        raise ValueError("boom")
        yield

    monkeypatch.setattr(analysis_module.Checker, "finish_steps", failing)
    a = analyze(SMALL)
    assert codes(a) == ["internal"]
    assert (a.diagnostics[0].span.start, a.diagnostics[0].span.end) == (0, SMALL.index("\n"))


@pytest.mark.parametrize("op", ["/", "*", "\\"])
def test_a_long_category_pattern_resolves_every_name(op):
    names = ["x"] * DEPTH
    names[-1] = "Q"  # undefined, at the far end of the spine
    text = "category S\nrule r(x, y) : " + f" {op} ".join(names) + ", y |- S\n"
    a = analyze(text)
    undefined = [d for d in a.diagnostics if d.code == "QVR010"]
    assert [text[d.span.start:d.span.end] for d in undefined] == ["Q"]
    x_refs = [r for r in a.references if r.symbol.name == "x" and not r.is_definition]
    assert len(x_refs) == DEPTH - 1
