"""On a large module every whole-module pass of the analysis engine, fresh (`analyze_steps`)
and incremental (`Engine.diagnostics_steps`), gives way now and then (`qvr.stepwise`): splitting, grouping `where` bindings,
declaring, cutting blocks, the "never used" pass and the final sorts all yield, so the language
server can answer requests on other documents between slices of a file of megabytes."""
from __future__ import annotations

import pytest

from qvr.semantics import checker as analysis
from qvr.semantics.engine import analyze, analyze_steps
from qvr.semantics.engine import Engine
from qvr.stepwise import SORT_PIECE

pytestmark = pytest.mark.slow

MODEL = """object T{i} : FinSet 4
morphism head{i} : T{i} -> T{i} ~ Categorical
define lm{i} = head{i} >> head{i}
"""


def big_module() -> str:
    # enough statements for every pass to yield within itself, and enough references for the
    # sorts to go in pieces
    count = max(3 * analysis.PASS_STEP, SORT_PIECE) // 3 + 10
    return "".join(MODEL.format(i=i) for i in range(count)) + "export lm0\n"


def functions_that_yielded(steps, inner=lambda: None) -> set[str]:
    """The names of the functions the generator (and the ones it delegates to) were in at each
    yield, until it returns; and its result."""
    seen = set()
    while True:
        try:
            next(steps)
        except StopIteration as stop:
            return seen, stop.value
        for gen in (steps, inner()):
            while gen is not None and gen.gi_frame is not None:
                seen.add(gen.gi_frame.f_code.co_name)
                gen = gen.gi_yieldfrom


def test_every_pass_of_analyze_yields_within_itself():
    text = big_module()
    seen, result = functions_that_yielded(analyze_steps(text, None))
    assert {"split_declarations_steps", "parse_module_steps", "_group_steps", "group_where_steps",
            "finish_steps", "sorted_steps", "analysis_steps"} <= seen
    assert result.diagnostics == analyze(text).diagnostics


def test_every_pass_of_the_engines_first_incremental_run_yields_within_itself():
    text = big_module()
    checker = Engine()
    seen, diagnostics = functions_that_yielded(checker.diagnostics_steps(text),
                                               lambda: checker._running)
    assert {"split_declarations_steps", "_parse_steps", "group_where_steps",
            "_declare_all_steps", "_blocks_steps", "finish_steps"} <= seen
    assert diagnostics == analyze(text).diagnostics
