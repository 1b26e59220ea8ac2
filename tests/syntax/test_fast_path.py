"""The fast path (own lexer + lark's LALR tables) agrees with lark's own lexer and parser."""
from __future__ import annotations

import random

import pytest
from hypothesis import given, settings, strategies as st
from lark.exceptions import UnexpectedCharacters

from qvr.syntax import lalr_tables, parse_module
from qvr.syntax.parser import _FIXED, error_parser, fast_tokens, fixed_strings

from syntax_helpers import ALL_FILES, ROOT

PIECES = ["object", "T", "x_t", "é1", "2", "0.5", ".5", "2.", "1e-3", "2.5E+4", "->", "<-", ">>",
          "<<", ">=>", "=>", "|-", "⊢", "~", "@", "*", "+", "-", "/", "\\", "=", ":", ".", ",",
          "(", ")", "[", "]", "{", "}", "# c\n", "#! d\n", "#{ b }#", "scan", "let", "return",
          "program", " ", "\n", "\t", "2.x", "3..4", "a.b"]


def lark_tokens(text):
    """lark's basic lexer on `text`, or None where it finds no token."""
    try:
        return [(t.type, t.value, t.start_pos, t.end_pos) for t in error_parser().lex(text)]
    except UnexpectedCharacters:
        return None


def ours(text):
    tokens = fast_tokens(text)
    return None if tokens is None else [(t.type, t.value, t.start_pos, t.end_pos)
                                        for t in tokens]


@pytest.mark.parametrize("path", ALL_FILES, ids=[str(p.relative_to(ROOT)) for p in ALL_FILES])
def test_lexers_agree_on_examples(path):
    text = path.read_text(encoding="utf-8")
    assert ours(text) == lark_tokens(text)


def test_operator_texts_come_from_the_grammar():
    """Every fixed text of every terminal of qvr.lark (string terminals, and the alternatives
    of regex terminals such as COMPOSE and RULE_ARROW) lexes as that terminal, and nothing else
    is a fixed text."""
    expected = {}
    for name, kind, value in lalr_tables.load().terminals:
        strings = [value] if kind == "str" else fixed_strings(value)
        if strings is not None and name in _USED:
            expected.update((s, name) for s in strings)
    assert {"=>": "RULE_ARROW", "|-": "RULE_ARROW", "\u22a2": "RULE_ARROW", ">>": "COMPOSE",
            "<<": "COMPOSE", ">=>": "COMPOSE"}.items() <= expected.items()
    assert _FIXED == expected


def test_fixed_strings():
    assert fixed_strings(r"(?:=>|\|\-|\u22a2)") == ["=>", "|-", "\u22a2"]
    assert fixed_strings(r"(?:>=>|>>|<<)") == [">=>", ">>", "<<"]
    assert fixed_strings(r"a(?:b|c)[de]") == ["abd", "abe", "acd", "ace"]
    for not_fixed in (r"[0-9]+", r"(?!\d)\w+", r"a?", r"[a-c]", r"(?i)ab", r"(a|b)", r"[^a]", "("):
        assert fixed_strings(not_fixed) is None, not_fixed


_USED = {s for symbols, _ in lalr_tables.load().states for s in symbols}
# Fixed texts of the grammar plus everything the lexer may confuse them with: prefixes and
# neighbours of the operators, comment and number fragments, characters it has no token for.
_OPERATOR_PIECES = sorted(set(_FIXED) - {k for k in _FIXED if k.isidentifier()}) + [
    ">", "<", "|", "=", "!", "#", "#!", "#{", "}#", "1", ".", "e", "x", "\u22a3", " ", "\n",
    "\t", "\r", "\ufeff", "$", "?", ";"]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(_OPERATOR_PIECES), max_size=24))
def test_lexers_agree_on_operator_soup(pieces):
    text = "".join(pieces)
    assert ours(text) == lark_tokens(text), text


def test_lexers_agree_on_token_soup():
    rng = random.Random(7)
    rejected = 0
    for _ in range(300):
        text = "".join(rng.choice(PIECES) + rng.choice(["", " "]) for _ in range(12))
        expected = lark_tokens(text)
        assert ours(text) == expected, text
        rejected += expected is None
    assert 0 < rejected < 300  # the soup exercises both outcomes


def test_parsers_agree_on_accept_and_reject():
    """A statement soup: the fast path accepts exactly what lark accepts."""
    rng = random.Random(11)
    words = ["object T : 3", "morphism f : A -> B", "[scale=0.1]", "~ Normal", "define d = f",
             ">> g", "program p : A -> B", "sample x <- f(a)", "return x", "let y = 1.0",
             "(", ")", ",", "export d", "where"]
    for _ in range(300):
        text = " ".join(rng.choice(words) for _ in range(rng.randint(1, 6)))
        try:
            error_parser().parse(text)
            lark_ok = True
        except Exception:
            lark_ok = False
        result = parse_module(text)
        assert (not result.diagnostics) == lark_ok, text
