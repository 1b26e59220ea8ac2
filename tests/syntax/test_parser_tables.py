"""The fast parser's plain-data LALR tables (`qvr.syntax.lalr_tables`): they are what lark
builds from qvr.lark, parsing valid text never imports lark, and stale tables are rebuilt."""
from __future__ import annotations

import json
import subprocess
import sys
import textwrap

from lark import Lark
from lark.parse_tree_builder import ChildFilterLALR
from lark.parsers.lalr_analysis import Shift

from qvr.syntax import lalr_build, lalr_tables, parse_module, parser
from qvr.syntax.lalr_tables import grammar_sha256, grammar_text

from syntax_helpers import EXAMPLES

# The committed generated module says how to refresh it; the assertion message repeats it.
STALE = "lalr_generated.py is stale: run `python -m qvr.syntax.lalr_build` and commit it"


def test_generated_module_is_up_to_date():
    text = grammar_text()
    assert lalr_build.render(lalr_build.build(text)) == \
        lalr_build.GENERATED_PATH.read_text(encoding="utf-8"), STALE
    stored = lalr_tables.generated()
    assert stored is not None and stored.grammar_sha256 == grammar_sha256(text), STALE
    assert lalr_build.main(["--check"]) == 0


def test_stored_table_is_isomorphic_to_a_fresh_lark_table():
    """Walk the stored table and a freshly built lark table side by side (lark numbers its
    states differently in every process): same symbols in corresponding states, shifts to
    corresponding states, reductions by the same rule, and every state paired exactly once."""
    stored = lalr_tables.load()
    lark = Lark(grammar_text(), **lalr_build.LARK_OPTIONS)
    frontend = lark.parser.parser.parser
    table = frontend.parse_table
    pairs = {stored.start: table.start_states["start"]}
    todo = [stored.start]
    while todo:
        ours = todo.pop()
        theirs = pairs[ours]
        symbols, actions = stored.states[ours]
        assert set(symbols) == set(table.states[theirs]), ours
        for symbol, action in zip(symbols, actions):
            kind, arg = table.states[theirs][symbol]
            if action >= 0:
                assert kind is Shift, (ours, symbol)
                if action in pairs:
                    assert pairs[action] == arg, (ours, symbol)
                else:
                    pairs[action] = arg
                    todo.append(action)
            else:
                assert kind is not Shift, (ours, symbol)
                rule = stored.rules[~action]
                assert (rule.origin, rule.size) == (arg.origin.name, len(arg.expansion))
                assert rule.callback == (arg.alias or arg.origin.name)
                assert rule.expand_single == bool(arg.options.expand1 and not arg.alias)
    assert len(pairs) == len(stored.states) == len(table.states)
    assert len(set(pairs.values())) == len(pairs)
    assert pairs[stored.end] == table.end_states["start"]
    assert {(r.origin, r.size, r.callback) for r in stored.rules} == {
        (r.origin.name, len(r.expansion), r.alias or r.origin.name) for r in frontend.callbacks}
    assert stored.terminals == tuple((t.name, t.pattern.type, t.pattern.value)
                                     for t in lark.terminals)


class _Repetition:
    """What an internal repetition rule's reduction hands its parent (it has `.children`)."""

    def __init__(self, children):
        self.children = children


def _children(entries) -> list:
    """Distinct children for a rule with child filter `entries` (fresh lists each time: a
    filter may extend a spliced child's list in place)."""
    spliced = {i for i, expand, _ in entries if expand}
    size = max(i for i, _, _ in entries) + 1
    return [_Repetition([f"r{i}a", f"r{i}b"]) if i in spliced else f"c{i}"
            for i in range(size)]


def test_child_filters_applied_by_the_recorder_do_what_lark_filters_do():
    """`parser._filtered` applies a child filter once per parse program, to the values'
    numbers (an internal repetition rule's value is the list of its children's numbers)."""
    tables = lalr_tables.load()
    shapes = {r.child_filter for r in tables.rules if lalr_tables.filters_children(r)}
    assert len(shapes) > 20
    for entries, tail in shapes:
        lark = ChildFilterLALR(list(entries), tail, list)(_children(entries))
        ours = parser._filtered([x.children if x.__class__ is _Repetition else x
                                 for x in _children(entries)], (entries, tail), None)
        assert ours == lark, (entries, tail)


def test_tables_of_a_changed_grammar_are_rebuilt_from_it():
    text = grammar_text()
    committed = lalr_tables.load(text)
    # A comment changes the key but not the automaton.
    commented = text + "\n// a comment\n"
    rebuilt = lalr_tables.load(commented)
    assert rebuilt.grammar_sha256 == grammar_sha256(commented) != committed.grammar_sha256
    assert rebuilt._replace(grammar_sha256="") == committed._replace(grammar_sha256="")
    # A real change reaches the tables.
    renamed = text.replace('"object"', '"objekt"')
    assert renamed != text
    changed = lalr_tables.load(renamed)
    assert ("OBJEKT", "str", "objekt") in changed.terminals
    assert ("OBJECT", "str", "object") not in changed.terminals
    assert "OBJEKT" in changed.states[changed.start][0]


# Parses every example and a syntax error in a fresh interpreter; prints what it saw.
PROBE = textwrap.dedent(
    """
    import json, sys
    PREPARE
    import qvr.syntax as syntax
    imported = "lark" in sys.modules
    paths = json.loads(sys.argv[1])
    results = [repr(syntax.parse_module(open(p, encoding="utf-8").read())) for p in paths]
    after_valid = "lark" in sys.modules
    error = syntax.parse_module("object A : : FinSet 4\\n").diagnostics
    print(json.dumps({"lark_after_import": imported, "lark_after_valid": after_valid,
                      "lark_after_error": "lark" in sys.modules, "results": results,
                      "error": [[d.code, d.message, d.span.start, d.span.end] for d in error]}))
    """
)

STALE_MODULE = (
    "import types\n"
    "fake = types.ModuleType('qvr.syntax.lalr_generated')\n"
    "fake.GRAMMAR_SHA256 = 'made from another grammar'\n"
    "sys.modules['qvr.syntax.lalr_generated'] = fake\n"
)


def _probe(prepare: str = "") -> dict:
    code = PROBE.replace("PREPARE", prepare)
    paths = json.dumps([str(p) for p in EXAMPLES])
    out = subprocess.run([sys.executable, "-c", code, paths], capture_output=True,
                         text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout.strip().splitlines()[-1])


def _expected_results() -> list[str]:
    return [repr(parse_module(p.read_text(encoding="utf-8"))) for p in EXAMPLES]


def test_valid_text_parses_without_importing_lark():
    report = _probe()
    assert report["lark_after_import"] is False
    assert report["lark_after_valid"] is False
    assert report["results"] == _expected_results()
    assert all("diagnostics=()" in r for r in report["results"])  # the examples are valid
    # wording a syntax error is the one thing that needs lark
    assert report["lark_after_error"] is True
    assert report["error"] == [["QVR002", "syntax error: expected a type in object `A`, "
                                          "found `:`", 11, 12]]


def test_stale_generated_tables_are_rebuilt_transparently():
    report = _probe(STALE_MODULE)
    assert report["lark_after_import"] is True  # the tables were built from lark
    assert report["results"] == _expected_results()
    assert report["error"][0][0] == "QVR002"


def test_missing_generated_tables_are_rebuilt_transparently():
    report = _probe("sys.modules['qvr.syntax.lalr_generated'] = None\n")
    assert report["lark_after_import"] is True
    assert report["results"] == _expected_results()
