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
    # P1's ten builtins first, then part 2 §5.8's; every name once
    assert V.BUILTINS[:10] == ("sigmoid", "tanh", "exp", "log", "abs", "softplus", "relu",
                               "sqrt", "logit", "softmax")
    assert len(V.BUILTINS) == len(set(V.BUILTINS)) == 57
    assert set(V.BUILTINS) == (set(V.ELEMENTWISE_BUILTINS) | set(V.LAST_AXIS_BUILTINS)
                               | set(V.REDUCTION_BUILTINS) | set(V.BINARY_BUILTINS))
    assert V.FAMILIES["Normal"] == ("loc", "scale")
    assert V.FAMILIES["StudentT"] == ("df", "loc", "scale")
    # P1's 17 families first, then part 2 §5.9's 22 new tier-1 and 21 tier-2 families
    assert list(V.FAMILIES)[:17][-2:] == ["Bernoulli", "Categorical"]
    assert len(V.FAMILIES) == 60
    assert set(V.SCALE_FAMILIES) <= set(V.FAMILIES)
    assert set(V.ROLE_WORDS) <= set(V.RESERVED) and set(V.ROLE_WORDS) <= set(V.ROLES)
    assert not set(V.TYPE_CONSTRUCTORS) & set(V.RESERVED)
    assert set(V.STATEMENT_KEYWORDS) <= set(V.RESERVED)
