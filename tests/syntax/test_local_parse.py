"""`parse_chunk_local` (chunk-relative spans, for the engine's incremental runs) taking a chunk the
whole-module parse already has and moving it to offset 0: the same result as parsing afresh,
and still distinct nodes for each copy of a repeated declaration."""
from __future__ import annotations

from pathlib import Path

import pytest

from qvr import syntax

ROOT = Path(__file__).resolve().parents[2]
TEXTS = [p.read_text(encoding="utf-8") for p in sorted((ROOT / "examples").glob("*.qvr"))] + [
    # doc comments, an unclosed block comment at the end, a syntax error, a repeated statement
    "#! Tokens.\nobject A : FinSet 2\nobject B : : FinSet 3\n#! Tokens.\nobject A : FinSet 2\n"
    "morphism f : A -> A ~ Normal\n#{ never closed\n",
]


def _local(text: str) -> list:
    chunks = syntax.split_declarations(text)
    seen: dict = {}
    out = []
    for c in chunks:
        key = (text[c.start:c.end], c.end >= len(text))
        line_start = c.start == 0 or text[c.start - 1] == "\n"
        out.append(syntax.parse_chunk_local(*key, seen.get(key, 0), line_start))
        seen[key] = seen.get(key, 0) + 1
    return out


@pytest.mark.parametrize("text", TEXTS, ids=range(len(TEXTS)))
def test_a_chunk_from_the_module_parse_equals_a_fresh_local_parse(text, monkeypatch):
    monkeypatch.setattr(syntax, "_memo", type(syntax._memo)())
    monkeypatch.setattr(syntax, "_local_memo", type(syntax._local_memo)())
    fresh = _local(text)
    syntax._local_memo.clear()
    syntax.parse_module(text)  # fills the module parse's memo
    calls = []
    real = syntax._parse_chunk_uncached
    monkeypatch.setattr(syntax, "_parse_chunk_uncached", lambda *a: calls.append(a) or real(*a))
    moved = _local(text)
    assert moved == fresh
    # parsed again: only the chunk at offset 0 (a shift by 0 would hand out the module
    # parse's own nodes); every other one, a repeated declaration's copies too, was moved
    assert len(calls) <= 1


def test_copies_of_a_repeated_declaration_stay_distinct_nodes(monkeypatch):
    monkeypatch.setattr(syntax, "_memo", type(syntax._memo)())
    monkeypatch.setattr(syntax, "_local_memo", type(syntax._local_memo)())
    text = "object Z : FinSet 1\nobject A : FinSet 2\nobject A : FinSet 2\n"
    syntax.parse_module(text)
    first, second = _local(text)[1:]
    assert first == second and first[0][0] is not second[0][0]
