"""`closest` (the "did you mean" of undefined names) skips far candidates cheaply; the answer
must be exactly what comparing with every candidate gives."""
from __future__ import annotations

import random

import pytest

from qvr.semantics.context import closest, edit_distance


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
