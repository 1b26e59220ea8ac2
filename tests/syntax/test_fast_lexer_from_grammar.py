"""The fast lexer is made from qvr.lark's terminals, and the parse programs it feeds are
replayed exactly.

The lexer (`qvr.syntax.parser._fast_lexer`) takes every pattern and every operator from the
grammar's terminals; only the order in which lark tries the regular-expression terminals
(their priorities, which the tables do not keep) is written by hand, in `_REGEX_ORDER`. These
tests fail when that order and lark's disagree, when the grammar has a terminal the list
does not know, or when a pattern is not the grammar's own.
"""
from __future__ import annotations

import pytest

import qvr.syntax as syntax
from qvr.syntax import lalr_tables, parse_module, parser
from qvr.syntax.parser import _FAST_RE, _REGEX_ORDER, error_parser, fast_tokens, fixed_strings

TERMINALS = lalr_tables.load().terminals
SHIFTED = {s for symbols, _ in lalr_tables.load().states for s in symbols}


def _regex_terminals() -> dict[str, str]:
    """The named regular-expression terminals that are not a fixed set of strings."""
    return {name: value for name, kind, value in TERMINALS
            if kind == "re" and not name.startswith("__") and fixed_strings(value) is None}


def test_the_order_is_lark_s():
    lark_order = [t.name for t in error_parser().parser.lexer.terminals]
    assert [name for name in lark_order if name in _REGEX_ORDER] == list(_REGEX_ORDER)


def test_every_regex_terminal_of_the_grammar_has_its_place():
    assert set(_regex_terminals()) == set(_REGEX_ORDER)


def test_the_patterns_are_the_grammar_s():
    pattern = _FAST_RE.pattern
    for name, value in _regex_terminals().items():
        if name in SHIFTED:  # a token, in a group named after it
            assert f"(?P<{name}>{value})" in pattern, name
        else:  # ignored text (comments)
            assert f"(?:{value})" in pattern, name
    ignored = [value for name, kind, value in TERMINALS
               if name.startswith("__IGNORE") and name not in SHIFTED]
    assert ignored and all(f"(?:{value})" in pattern for value in ignored)


def _lexed(text):
    tokens = fast_tokens(text)
    return None if tokens is None else [(t.type, t.value, t.start_pos) for t in tokens]


def test_patterns_with_groups_lex_as_the_named_terminal():
    # FLOAT and BLOCK_COMMENT have capturing groups of their own in qvr.lark
    assert _lexed("1.5e3 #{ (a) }# 2.5E+4 .5e-1 3") == [
        ("FLOAT", "1.5e3", 0), ("FLOAT", "2.5E+4", 16), ("FLOAT", ".5e-1", 23), ("INT", "3", 29)]
    assert _lexed("#{ a }#") == []  # ignored text alone: no token
    assert _lexed("#{ a }# $") is None  # then a character no token starts with
    assert _lexed("#{ a }#\n") == []


NUMBER = "1" + "0" * 4400  # more digits than an int may have


def test_a_rejected_shape_still_reports_its_bad_literal_every_time():
    """A parse program is memoised by token types, rejected ones too; the reductions before
    the failing token still run, so a bad number literal in them is reported (QVR002 on the
    literal, then the syntax error) for each chunk of that shape, not only the first."""
    parser._PROGRAMS.clear()
    for name in ("p", "q", "r"):
        text = (f"program {name}(x) : X -> X\n    let y = x * {NUMBER} +\n    return y\n")
        start = text.index(NUMBER)
        found = [(d.code, d.span.start, d.span.end)
                 for d in parse_module(text).diagnostics]
        assert found[0] == ("QVR002", start, start + len(NUMBER)), name
        assert [code for code, _, _ in found] == ["QVR002", "QVR002"], name


@pytest.mark.parametrize("text", [
    "object A : Real 2\nobject B : Real 3\nmorphism f : A -> B ~ Normal\n",
    "object A : FinSet 2\nprogram p(x) : A -> A\n    sample y <- f(x)\n    return y\n",
])
def test_a_replayed_program_builds_what_a_fresh_one_builds(text):
    other = text.replace("A", "C").replace("B", "D")  # the same shapes, other names
    syntax._memo.clear()
    parser._PROGRAMS.clear()
    recorded = parse_module(text)  # every shape is new: the table-driven parse records it
    syntax._memo.clear()
    parser._PROGRAMS.clear()
    parse_module(other)
    replayed = parse_module(text)  # every shape is known: replayed
    assert parser._PROGRAMS and replayed.module.statements == recorded.module.statements
    assert replayed.diagnostics == recorded.diagnostics == ()


def test_a_long_chunk_is_parsed_without_being_kept():
    """Only chunks of up to `_PROGRAM_TOKENS` tokens keep their program (a long one is
    seldom repeated, and its key and program would cost memory); a long one parses the same."""
    text = "object X : Real 2\nmorphism f : X -> X\nobject P : " + " * ".join(["X"] * 400) + "\n"
    syntax._memo.clear()
    parser._PROGRAMS.clear()
    result = parse_module(text)
    assert result.diagnostics == () and len(result.module.statements) == 3
    kept = sorted(len(key) for key in parser._PROGRAMS)
    assert kept == [5, 6]  # `object X : Real 2`, `morphism f : X -> X`; not the 802 of `P`
    syntax._memo.clear()
    assert parse_module(text).module == result.module
