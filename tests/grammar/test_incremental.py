"""Incremental parsing gives the same tree as parsing from scratch.

The grammar's scanner emits zero-width tokens that depend on the next word
(`missing_return`, the hidden statement-end marker), so reuse of old subtrees after an edit
must never leave a stale tree.  Random keystrokes (insertions and deletions, including ones
that break and repair the text) are applied one after another to a real file."""
from __future__ import annotations

import random

import pytest
import tree_sitter

from conftest import LANGUAGE, REPO

ALPHABET = ["x", " ", "\n", "(", ")", ",", "=", "#", "r", "e", "t", "u", "n", "o", "b", "j", "1", ">", "\t"]


def shape(node) -> list:
    """Every node's kind and byte range, in document order (str() omits the ranges)."""
    out, stack = [], [node]
    while stack:
        n = stack.pop()
        out.append((n.type, n.start_byte, n.end_byte, n.is_missing))
        stack.extend(reversed(n.children))
    return out


def point(text: bytes, byte: int) -> tuple[int, int]:
    return text.count(b"\n", 0, byte), byte - (text.rfind(b"\n", 0, byte) + 1)


# Opaque blocks end where a later line starts at column 0, and a `composition` line is a block
# only if an indented line follows: their tokens depend on text after them.
BLOCKS = """\
object Term : FinSet 4
deduction D : Term -> Term [semiring=LogProb]
    atoms a, b
    rule r : x, y |- z #[learnable]

    lexicon
        "a" : x = a
)
composition real [level=algebra]
composition Trop [level=semiring]
    plus = min
program p(K : FinSet) : K -> K
    marginalize c : K <- Categorical(probs=w)
        score s = -0.5 * c
    let t = factor v : K in { 0 -> 1.0, 1 -> 2.0 }
    return t
define f(x : Real) : Real = x
export p
"""


@pytest.mark.parametrize("example", ["seed_000_bayesian_lstm.qvr", "lstm.qvr", "where_clause.qvr", "blocks"])
def test_keystrokes_reparse_like_a_fresh_parse(example):
    rng = random.Random(example)
    parser = tree_sitter.Parser(LANGUAGE)
    text = BLOCKS.encode() if example == "blocks" else (REPO / "examples" / example).read_bytes()
    tree = parser.parse(text)
    for _ in range(150):
        at = rng.randrange(len(text) + 1)
        if rng.random() < 0.6 or at == len(text):
            inserted = rng.choice(ALPHABET).encode()
            new_text = text[:at] + inserted + text[at:]
            old_end, new_end = at, at + len(inserted)
        else:
            new_text = text[:at] + text[at + 1:]
            old_end, new_end = at + 1, at
        tree.edit(
            start_byte=at, old_end_byte=old_end, new_end_byte=new_end,
            start_point=point(text, at), old_end_point=point(text, old_end),
            new_end_point=point(new_text, new_end),
        )
        tree = parser.parse(new_text, tree)
        fresh = parser.parse(new_text)
        assert shape(tree.root_node) == shape(fresh.root_node), new_text.decode(errors="replace")
        text = new_text
