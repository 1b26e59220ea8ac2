"""On a large module every whole-module pass of the analysis engine, fresh (`analyze_steps`)
and incremental (`Engine.diagnostics_steps`), gives way now and then (`qvr.stepwise`): splitting, grouping `where` bindings,
declaring, cutting blocks, the "never used" pass and the final sorts all yield, so the language
server can answer requests on other documents between slices of a file of megabytes."""
from __future__ import annotations

import gc
import sys

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


def test_every_pass_of_a_keystroke_run_yields_within_itself(monkeypatch):
    """The runs for later versions too (their passes go over every declaration as well: keeping
    the chunks before and after the edit, declaring into copies of the last tables, replaying
    blocks, the "never used" pass), and stepping through them in small pieces gives the fresh
    analysis' diagnostics."""
    from qvr.semantics import engine

    # small pieces, so that each piecewise loop goes over several pieces of this module
    monkeypatch.setattr(engine, "PASS_STEP", 64)
    monkeypatch.setattr(engine, "STEP_BLOCKS", 2)
    monkeypatch.setattr(engine, "STEP_CHUNKS", 4)
    monkeypatch.setattr(analysis, "PASS_STEP", 64)
    text = big_module()
    middle = text.index("define lm", len(text) // 2)
    line_end = text.index("\n", middle)
    versions = [
        # a declaration more, naming a morphism that does not exist ("did you mean")
        text[:middle] + "define lm_x = haed0 >> head0\n" + text[middle:],
        # the same declarations: only that one is declared again
        text[:middle] + "define lm_x = haed1 >> head0\n" + text[middle:],
        text[:middle] + "define lm_x = head1 >> head0\n" + text[middle:],
        # an edit inside a declaration, and one at the top of the file
        text[:middle] + "define lm_x = head1 >> head0\n" + text[middle:line_end] + " >> head0" + text[line_end:],
        "# a comment\n" + text,
    ]
    checker = Engine()
    checker.diagnostics(text)
    seen_in_all = set()
    for version in versions:
        seen, diagnostics = functions_that_yielded(checker.diagnostics_steps(version),
                                                   lambda: checker._running)
        seen_in_all |= seen
        assert diagnostics == analyze(version).diagnostics
    assert {"_kept_steps", "_parse_steps", "group_where_steps", "_declare_changed_steps",
            "_declare_all_steps", "_names_key_steps", "_blocks_check_steps",
            "finish_steps"} <= seen_in_all


def largest_step_share(steps):
    """Step the generator to its end: the most memory blocks one step made or freed, as a
    share of the most the whole run held at once (`sys.getallocatedblocks`, the collector
    off: counts, not times, so the figure does not depend on the machine), and the result."""
    gc.disable()
    try:
        base = previous = sys.getallocatedblocks()
        largest = held = 0
        result = done = None
        while not done:
            try:
                next(steps)
            except StopIteration as stop:
                result, done = stop.value, True  # (kept: the caller lets it go)
            now = sys.getallocatedblocks()
            largest = max(largest, abs(now - previous))
            held = max(held, now - base)
            previous = now
        return largest / held, result
    finally:
        gc.enable()


def test_no_step_makes_or_frees_a_large_share_of_a_run(monkeypatch):
    """Freeing is work too: what a run made goes a piece at a time as well (a fresh analysis'
    list of units, a diagnostics run's name occurrences, symbols and node types, which only an
    `Analysis` reads, with each unit), not all at once when the run ends (for a file of
    megabytes, that one step would take a quarter of a second with every other request
    waiting)."""
    from qvr.semantics import engine

    monkeypatch.setattr(engine, "PASS_STEP", 64)
    monkeypatch.setattr(engine, "STEP_BLOCKS", 2)
    monkeypatch.setattr(engine, "STEP_CHUNKS", 4)
    monkeypatch.setattr(analysis, "PASS_STEP", 64)
    text = big_module()
    share, analysis_ = largest_step_share(analyze_steps(text, None))
    assert share < 0.08
    fresh = analyze(text)
    assert analysis_.diagnostics == fresh.diagnostics
    occurrences = lambda a: [(r.span, r.symbol.name, r.is_definition) for r in a.references]
    assert occurrences(analysis_) == occurrences(fresh)
    checker = Engine()  # (held: what it keeps for the next version is not the run's)
    share, diagnostics = largest_step_share(checker.diagnostics_steps(text))
    assert share < 0.08
    assert diagnostics == fresh.diagnostics
