"""The fast path (own lexer + lark's LALR tables) agrees with lark's own lexer and parser."""
from __future__ import annotations

import random

import pytest
from lark.exceptions import UnexpectedCharacters

from qvr.syntax import parse_module
from qvr.syntax.parser import error_parser, fast_tokens

from syntax_helpers import EXAMPLES

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


@pytest.mark.parametrize("path", EXAMPLES, ids=[p.stem for p in EXAMPLES])
def test_lexers_agree_on_examples(path):
    text = path.read_text(encoding="utf-8")
    assert ours(text) == lark_tokens(text)


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
