"""Diagnostics as runs (`qvr.semantics.placed`): the merge of sorted segments is the stable sort
of their concatenation, and the engine's incremental runs hand the recorded tuples of replayed
blocks on unmoved (what lets the language server reuse their converted texts)."""
from __future__ import annotations

from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from qvr.diagnostics import Diagnostic, Related, Severity
from qvr.semantics import analyze
from qvr.semantics.engine import Engine
from qvr.semantics.placed import DiagnosticRuns, Run, diagnostic_order, merged
from qvr.syntax.span import Span


def _diagnostic(start: int, length: int, code: int, message: str) -> Diagnostic:
    # few codes and small offsets: many equal keys, so the order among them (stability) counts
    return Diagnostic(f"QVR0{code}", Severity.HINT, message, Span(start, start + length),
                      related=(Related(Span(start, start + 1), "here"),) if code == 9 else ())


@st.composite
def segments(draw):
    """Segments in input order, each a sorted `Run`, some moved by a delta (a replayed
    block's), each diagnostic's message saying where it came from."""
    out = []
    for s in range(draw(st.integers(0, 8))):
        items = draw(st.lists(st.tuples(st.integers(0, 8), st.integers(0, 1), st.sampled_from([1, 2, 9])),
                              max_size=12))
        delta = draw(st.sampled_from([0, 0, 0, 2, -1]))
        base = tuple(sorted((_diagnostic(a, n, c, f"segment {s} item {i}")
                             for i, (a, n, c) in enumerate(items)), key=diagnostic_order))
        lo = draw(st.integers(0, len(base)))
        hi = draw(st.integers(lo, len(base)))
        out.append(Run(base, lo, hi, delta, None, 0, None, None))
    return out


@settings(max_examples=300, deadline=None)
@given(segments())
def test_merged_runs_are_the_stable_sort_of_the_segments(segs):
    concatenated = [d for s in segs for d in s.items()]
    runs = DiagnosticRuns(merged(segs))
    assert runs.flat() == tuple(sorted(concatenated, key=diagnostic_order))
    assert len(runs) == len(concatenated)
    for run in runs.runs:  # slices of the segments' own tuples, never copies
        assert any(run.base is s.base for s in segs)


def test_runs_read_as_the_diagnostics_they_hold():
    base = (_diagnostic(0, 2, 1, "a"), _diagnostic(4, 1, 2, "b"), _diagnostic(7, 0, 1, "c"))
    runs = DiagnosticRuns([Run(base, 1, 3, 10), Run.of([_diagnostic(30, 1, 3, "d")])])
    expected = (base[1].shifted(10), base[2].shifted(10), _diagnostic(30, 1, 3, "d"))
    assert runs == expected and runs == list(expected) and tuple(runs) == expected
    assert len(runs) == 3 and runs[0] == expected[0] and runs[-1] == expected[-1]
    assert DiagnosticRuns([]).flat() == () and not DiagnosticRuns([Run(base, 2, 2)])


# a classic-dialect model of seven lines, `{i}` its number: tests/programs/classic_model.txt
CLASSIC = (Path(__file__).resolve().parents[1] / "programs" / "classic_model.txt").read_text(encoding="utf-8")


def test_an_edit_in_code_hands_on_the_replayed_blocks_recorded_diagnostics_unmoved():
    text = "".join(CLASSIC.format(i=i) for i in range(60))
    engine = Engine()
    first = engine.placed_diagnostics(text)
    assert first == analyze(text).diagnostics
    at = text.index("type Hidden30 = Euclidean 4") + len("type Hidden30 = Euclidean ")
    edited = text[:at] + "4" + text[at:]  # (`Euclidean 44`: its hint quotes it)
    second = engine.placed_diagnostics(edited)
    assert second == analyze(edited).diagnostics
    kept = {id(r.base) for r in first.runs if r.origin is not None}
    placed = [r for r in second.runs if r.origin is not None]
    # all but the "no export" note at the start of the file are in replayed blocks' runs: the
    # whole-module pass' "never used" hints too, each in the run of the block it lies in, so
    # the runs are one per block (not cut in two at every hint)
    assert {d.code for r in second.runs if r.origin is None for d in r.items()} == {"QVR055"}
    assert sum(len(r) for r in placed) == len(second) - 1
    assert len(placed) == len({r.origin for r in placed}) and len(second.runs) <= len(placed) + 2
    # the edited block was checked again; every other one's are the same tuples, not copies
    new = [r for r in placed if id(r.base) not in kept]
    assert new and all(r.origin <= at < r.origin + r.length for r in new)
    assert len({id(r.base) for r in new}) == 1
    moved = [r for r in placed if r.origin > at]
    assert moved and all(r.delta == 1 for r in moved)


def test_an_edit_in_a_comment_hands_on_the_last_versions_runs_and_checks_nothing():
    text = "".join(CLASSIC.format(i=i) for i in range(60))
    engine = Engine()
    first = engine.placed_diagnostics(text)
    at = text.index("# model 30") + 3  # a comment line, the last of the chunk before it
    versions = [text[:at] + "x" + text[at:], text, text[:at] + "xy" + text[at + 1:]]
    previous = first
    for edited in versions:
        runs = engine.placed_diagnostics(edited)
        assert runs == analyze(edited).diagnostics
        assert engine.checked == 0  # no declaration changed: no pass ran again
        # every run is one of the last version's (the same tuple), moved past the edit
        assert {id(r.base) for r in runs.runs} <= {id(r.base) for r in previous.runs}
        for r in runs.runs:
            assert r.origin is None or r.origin + r.length <= at or r.origin > at
        previous = runs
    # a quiet edit further on, then an edit of code: the passes run on what the quiet runs
    # left, and the block edited first is checked again (its record was made before the edit)
    last = versions[-1]
    at_later = last.index("# model 50") + 2
    later = last[:at_later] + "zz" + last[at_later:]
    assert engine.placed_diagnostics(later) == analyze(later).diagnostics and engine.checked == 0
    code = later.index("Euclidean 4", at_later)
    edited = later[:code] + "Euclidean 44" + later[code + len("Euclidean 4"):]
    assert engine.placed_diagnostics(edited) == analyze(edited).diagnostics
    assert engine.checked > 0
    # an edit that adds a line is not quiet (a message may name a line): the passes run
    edited = last[:at] + "\n#" + last[at:]
    assert engine.placed_diagnostics(edited) == analyze(edited).diagnostics
    assert engine.checked > 0
