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
