"""The vocabulary tuples agree with the spec and with the grammar's keywords."""
from __future__ import annotations

from qvr.syntax import vocabulary as V
from qvr.syntax.parser import LARK


def test_reserved_words_are_exactly_the_grammar_keywords():
    assert len(V.RESERVED) == 33 and len(set(V.RESERVED)) == 33
    keywords = {t.pattern.value for t in LARK.terminals
                if t.pattern.type == "str" and t.pattern.value.isidentifier()}
    assert keywords == set(V.RESERVED)


def test_builtins_and_families():
    assert len(V.BUILTINS) == 10 and "tanh" in V.BUILTINS and "softmax" in V.BUILTINS
    assert V.FAMILIES["Normal"] == ("loc", "scale")
    assert V.FAMILIES["StudentT"] == ("df", "loc", "scale")
    assert len(V.FAMILIES) == 17
    assert set(V.SCALE_FAMILIES) <= set(V.FAMILIES)
    assert set(V.ROLE_WORDS) <= set(V.RESERVED) and set(V.ROLE_WORDS) <= set(V.ROLES)
    assert not set(V.TYPE_CONSTRUCTORS) & set(V.RESERVED)
    assert set(V.STATEMENT_KEYWORDS) <= set(V.RESERVED)
