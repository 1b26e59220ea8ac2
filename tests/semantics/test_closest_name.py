"""`closest` (the "did you mean" of undefined names) skips far candidates cheaply; the answer
must be exactly what comparing with every candidate gives."""
from __future__ import annotations

import random

import pytest

from qvr.semantics.suggestions import closest, edit_distance


def _reference(word: str, candidates) -> str | None:
    limit = max(1, min(3, len(word) // 3))
    best, best_d = None, limit + 1
    for c in candidates:
        if c == word:
            continue
        d = edit_distance(word, c, limit)
        if d < best_d or (d == best_d and best is not None and c < best):
            best, best_d = c, d
    return best


@pytest.mark.slow  # 3,000 random cases
def test_closest_equals_comparing_with_every_candidate():
    rng = random.Random(5)
    alphabet = "abcdeghx_1"
    for _ in range(3000):
        names = ["".join(rng.choice(alphabet) for _ in range(rng.randint(1, 10))) for _ in range(40)]
        word = rng.choice(names)
        if rng.random() < 0.7:  # a typo of one of them
            chars = list(word)
            for _ in range(rng.randint(1, 3)):
                at = rng.randrange(len(chars) + 1)
                op = rng.random()
                if op < 0.4:
                    chars.insert(at, rng.choice(alphabet))
                elif chars and op < 0.7:
                    del chars[min(at, len(chars) - 1)]
                elif chars:
                    chars[min(at, len(chars) - 1)] = rng.choice(alphabet)
            word = "".join(chars) or "a"
        assert closest(word, names) == _reference(word, names), (word, names)


def test_closest_finds_the_typo_among_many_names():
    names = [f"gate{i}" for i in range(3000)] + [f"Emb{i}" for i in range(3000)]
    assert closest("gat178", names) == "gate178"
    assert closest("Emb17x", names) == "Emb17"


# --- the index of declared names (`suggestions.NameIndex`, `Names`, `Context.shadow`) -------

from hypothesis import given, settings, strategies as st  # noqa: E402

from qvr.semantics import suggestions  # noqa: E402
from qvr.semantics.context import Context  # noqa: E402
from qvr.semantics.model import Symbol  # noqa: E402
from qvr.syntax.span import LineIndex, Span  # noqa: E402

NAME = st.text(alphabet="abcdeg_1x", min_size=1, max_size=9)


@settings(max_examples=400, deadline=None)
@given(st.lists(NAME, max_size=60), NAME, st.lists(NAME, max_size=3), st.sets(NAME, max_size=3))
def test_a_small_index_answers_as_comparing_with_every_name(names, word, extra, hidden):
    index = suggestions.NameIndex(names)
    pool = [n for n in names if n not in hidden] + extra
    assert index.nearest(word, extra, hidden) == closest(word, pool)


def test_a_large_index_finds_a_typo_that_keeps_a_prefix_or_a_suffix():
    names = [f"state_gate_{i:05}" for i in range(5000)] + [f"cell_{i:05}_hidden" for i in range(5000)]
    index = suggestions.NameIndex(names)
    assert len(index.by_length[16]) > suggestions.EXACT_WINDOW  # the bounded path
    assert index.nearest("state_gate_0123") == "state_gate_00123"  # a dropped digit (prefix kept)
    assert index.nearest("xtate_gate_04711") == "state_gate_04711"  # first letter (suffix kept)
    assert index.nearest("cell_00042_hiden") == "cell_00042_hidden"
    assert index.nearest("zzzzzzzzzzzzzzzz") is None


def _context() -> Context:
    return Context("", LineIndex(""))


def _symbol(name: str, kind: str) -> Symbol:
    return Symbol(name, kind, Span(0, 1), Span(0, 1))


def test_the_top_level_table_drops_its_indexes_when_it_changes():
    ctx = _context()
    ctx.top["state"] = _symbol("state", "object")
    assert ctx._nearest_declared("stat", ("object",)) == "state"
    first = ctx.top.index(("object",), ctx.shadowed)
    assert ctx.top.index(("object",), ctx.shadowed) is first  # kept while nothing changes
    ctx.top["stats"] = _symbol("stats", "morphism")
    ctx.top["stae"] = _symbol("stae", "object")
    assert ctx.top.index(("object",), ctx.shadowed) is not first
    assert ctx._nearest_declared("stat", ("object",)) == "stae"  # a tie: the first in order
    ctx.top.pop("stae")
    assert ctx._nearest_declared("stat", ("object",)) == "state"
    assert ctx._nearest_declared("stat", ("morphism",)) == "stats"


def test_a_template_parameter_is_seen_while_it_shadows_and_the_index_is_kept():
    ctx = _context()
    ctx.top["hidden"] = _symbol("hidden", "object")
    index = ctx.top.index(("object",), ctx.shadowed)
    ctx.shadow("hidden", _symbol("hidden", "define"))  # a Mor[A, B] parameter named like it
    ctx.shadow("hiddn2", _symbol("hiddn2", "object"))
    assert ctx._nearest_declared("hiddn", ("object",)) == "hiddn2"  # `hidden` is a define now
    assert ctx._nearest_declared("hiddn", ("define",)) == "hidden"
    ctx.unshadow("hiddn2", None)
    ctx.unshadow("hidden", ctx.top["hidden"].__class__("hidden", "object", Span(0, 1), Span(0, 1)))
    assert ctx.shadowed == {} and "hiddn2" not in ctx.top
    assert ctx.top.index(("object",), ctx.shadowed) is index  # shadowing changed no declaration
    assert ctx._nearest_declared("hiddn", ("object",)) == "hidden"


def _near_miss_by_reading_all(word: str, names) -> str | None:
    """`ProgramChecker._closest_local`'s rule, over every name."""
    bare = word.replace("_", "")
    found = [y for y in names if y.replace("_", "") == bare
             or (min(len(word), len(y)) >= 3 and edit_distance(word, y, 1) <= 1)]
    return min(found, default=None)


@settings(max_examples=500, deadline=None)
@given(st.lists(NAME, max_size=40), NAME)
def test_the_one_edit_index_offers_every_near_miss(names, word):
    index = suggestions.OneEditIndex()
    for name in names:
        index.add(name)
    offered = index.candidates(word)
    assert set(offered) <= set(names)
    assert _near_miss_by_reading_all(word, offered) == _near_miss_by_reading_all(word, names)
