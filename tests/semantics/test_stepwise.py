"""`parse_module_steps` / `analyze_steps`: the generator forms give exactly what `parse_module`
and `analyze` give, and do yield along the way (so a caller can interleave other work)."""
from __future__ import annotations

from pathlib import Path

import pytest

from qvr import semantics, stepwise, syntax

ROOT = Path(__file__).resolve().parents[2]
PROGRAMS = sorted((ROOT / "examples").glob("*.qvr")) + sorted((ROOT / "tests" / "programs").glob("*.qvr"))


def _count(steps):
    """(number of yields, result) of a generator."""
    n = 0
    while True:
        try:
            next(steps)
            n += 1
        except StopIteration as stop:
            return n, stop.value


@pytest.mark.parametrize("path", PROGRAMS, ids=lambda p: p.name)
def test_steps_give_what_the_one_shot_functions_give(path):
    text = path.read_text(encoding="utf-8")
    parsed = syntax.parse_module(text)
    _, stepped = _count(syntax.parse_module_steps(text))
    assert stepped.module == parsed.module and stepped.diagnostics == parsed.diagnostics
    whole = semantics.analyze(text, parsed=parsed)
    _, analysis = _count(semantics.analyze_steps(text, parsed))
    assert analysis.diagnostics == whole.diagnostics
    assert [(r.span, r.symbol.name if r.symbol else None, r.is_definition) for r in analysis.references] == \
        [(r.span, r.symbol.name if r.symbol else None, r.is_definition) for r in whole.references]
    assert analysis.top_level.keys() == whole.top_level.keys()
    assert analysis.export_type == whole.export_type


def test_a_large_module_is_analysed_in_many_small_steps(generated_module):
    text = generated_module(2000)
    parse_yields, parsed = _count(syntax.parse_module_steps(text, every=64))
    chunks = len(syntax.split_declarations(text))
    assert parse_yields >= chunks // 64
    yields, analysis = _count(semantics.analyze_steps(text, parsed))
    statements = len(parsed.module.statements)
    assert yields >= statements // 32  # checking yields every 32 statements (declaring every 128)
    assert analysis.diagnostics == semantics.analyze(text).diagnostics


def test_finish_and_a_module_with_syntax_errors():
    text = "object A : : FinSet 4\nobject B : Real 3\nmorphism f : A -> B [role=embed]\n"
    analysis = stepwise.finish(semantics.analyze_steps(text, None))  # parses by itself
    assert analysis.diagnostics == semantics.analyze(text).diagnostics
    assert any(d.code.startswith("QVR00") for d in analysis.diagnostics)


@pytest.mark.parametrize("path", PROGRAMS, ids=lambda p: p.name)
def test_the_checkers_steps_give_the_checkers_diagnostics(path):
    from qvr.semantics.engine import Engine

    text = path.read_text(encoding="utf-8")
    _, stepped = _count(Engine().diagnostics_steps(text))
    assert stepped == Engine().diagnostics(text) == semantics.analyze(text).diagnostics


def test_the_checker_yields_while_parsing_and_checking_a_large_module(generated_module):
    from qvr.semantics import engine as incremental
    from qvr.semantics.engine import Engine

    text = generated_module(2000)
    checker = Engine()
    yields, diagnostics = _count(checker.diagnostics_steps(text))
    chunks = len(syntax.split_declarations(text))
    assert yields >= chunks // incremental.STEP_CHUNKS + 10  # and some while checking blocks
    assert diagnostics == semantics.analyze(text).diagnostics


def test_a_dropped_checker_run_is_finished_before_the_next_one(generated_module):
    """Runs of one checker build on each other: a run dropped halfway (its version went stale)
    is finished by the next run (`settle`), never left half done; the dropped one then says
    it was superseded instead of giving a result."""
    from qvr.semantics.engine import Engine, SupersededRun

    text = generated_module(1500)
    edited = text.replace("[scale=0.1]", "[scale=0.2]", 1)
    checker = Engine()
    first = checker.diagnostics_steps(text)
    for _ in range(5):
        next(first)  # part of the parse
    assert not checker.cold
    assert checker.diagnostics(edited) == semantics.analyze(edited).diagnostics
    assert checker.checked < 100  # it reused the finished first run: one block re-checked
    with pytest.raises(SupersededRun):
        next(first)
    # a run dropped and never followed by another is finished by `settle`
    again = checker.diagnostics_steps(text)
    next(again)
    checker.settle()
    assert checker.diagnostics(text) == semantics.analyze(text).diagnostics
    assert checker.checked == 0  # everything replayed from the settled run
