"""The language server's incremental path gives exactly the fresh results.

An editor session parses each new version with `parse_module` while the per-chunk memo is
warm (unchanged declarations come from the memo, shifted into place) and then calls
`analyze(text, parsed=...)`. These tests apply random edits one after another, like keystrokes,
and compare that path with a cold parse + analysis of the same text: the parse result, the
diagnostics, the symbols, the references and the per-node types must all be identical.
"""
from __future__ import annotations

import glob
import os
import sys

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import qvr.syntax as syntax
from qvr.semantics import analyze

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "bench"))
import parse_check  # noqa: E402  (the benchmark's generated module: three syntax generations)

pytestmark = pytest.mark.slow

SOURCES = [open(p, encoding="utf-8").read()
           for p in sorted(glob.glob(os.path.join(ROOT, "examples", "*.qvr")))]
SOURCES.append(parse_check.generate(120))
SNIPPETS = ["x", "1", "0.5", " ", "\n", "\n    ", "(", ")", ",", "*", "+", "->", "<-", ">>",
            "~", "=", ":", "#", "#! doc\n", "let", "sample", "Normal", "scan(", "h_new",
            "object Extra : Real 4\n", "morphism g : Extra -> Extra ~ Normal\n", "export g\n"]


def cold(text: str):
    """Parse + analyse `text` with an empty memo, leaving the warm memo as it was."""
    saved = syntax._memo.copy()
    syntax._memo.clear()
    try:
        parsed = syntax.parse_module(text)
        return parsed, analyze(text, parsed=parsed)
    finally:
        syntax._memo.clear()
        syntax._memo.update(saved)


def _symbol(s) -> tuple:
    return (s.name, s.kind, s.name_span, s.span, repr(s.type), s.doc, s.detail, s.scope, s.decl)


def _by_node(table: dict) -> list:
    """An id(node)-keyed side table as (node, value) pairs: nodes compare by value and span."""
    return sorted(((node, repr(value)) for node, value in table.values()),
                  key=lambda nv: (nv[0].span.start, nv[0].span.end, type(nv[0]).__name__,
                                  nv[1]))


def summary(a) -> dict:
    """Everything an `Analysis` publishes, in a form that compares by value."""
    return {
        "diagnostics": a.diagnostics,
        "symbols": [_symbol(s) for s in a.symbols],
        "top_level": {k: _symbol(s) for k, s in a.top_level.items()},
        "references": [(r.span, _symbol(r.symbol), r.is_definition) for r in a.references],
        "objects": a.objects,
        "morphisms": {k: repr(v) for k, v in a.morphisms.items()},
        "programs": {k: repr(v) for k, v in a.programs.items()},
        "defines": {k: repr(v) for k, v in a.defines.items()},
        "export": a.export,
        "export_type": a.export_type,
        "types": _by_node(a._types),
        "scans": _by_node(a._scans),
        "inlines": _by_node(a._inlines),
        "intermediates": _by_node(a._intermediates),
    }


edit = st.tuples(st.integers(0, 10**6), st.integers(0, 12), st.sampled_from(SNIPPETS + [""]))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(0, len(SOURCES) - 1), st.lists(edit, min_size=1, max_size=4))
def test_keystrokes_incremental_equals_fresh(which, edits):
    text = SOURCES[which]
    syntax.parse_module(text)  # the editor opened the file: the memo is warm
    for pos, cut, insert in edits:
        pos %= len(text) + 1
        text = text[:pos] + insert + text[pos + cut:]
        parsed = syntax.parse_module(text)
        incremental = analyze(text, parsed=parsed)
        fresh_parsed, fresh = cold(text)
        assert parsed == fresh_parsed
        assert summary(incremental) == summary(fresh)


def test_summary_sees_a_changed_type():
    """The comparison is not vacuous: a different width is a different summary."""
    text = SOURCES[-1]
    changed = text.replace("Real 32", "Real 33", 1)
    assert summary(cold(text)[1]) != summary(cold(changed)[1])
