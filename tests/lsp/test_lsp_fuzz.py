"""Fuzzing the document store: thousands of random LSP edits (multi-byte and astral text, NUL
bytes, half-typed keywords) applied incrementally must give exactly what a fresh parse of the
same text gives, and no feature function may raise on the result. The keystroke path is
checked on every version: the chunk list kept up to date edit by edit, the engine's incremental
diagnostics and the semantic tokens stitched from its blocks equal the whole-module results.

About 2,400 edits per run: 120 hypothesis examples of 20 edits each (some batched into one
didChange with several content changes).
"""
from __future__ import annotations

import random

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from qvr import semantics, syntax
from qvr.syntax.span import LineIndex, Span
from qvr_lsp.documents import Change, DocumentStore, fresh_parse, tree_sexp
from qvr_lsp.features import (
    code_actions, completion, diagnostics, hover, inlay_hints, navigation, rename, semantic_tokens,
    signature_help, structure, symbols,
)
from qvr_lsp.positions import PositionEncoder, UTF8, UTF16

from lsp_fixtures import SAMPLES

pytestmark = pytest.mark.slow

FRAGMENTS = [
    "object", "morphism", "program", "sample", "observe", "let", "define", "export", "return", "draw",
    " ", "  ", "\n", "\n    ", ":", "->", "<-", "~", ">>", "@", "*", "(", ")", "[", "]", "{", "}", ",", "=",
    "#", "#!", "#{", "}#", "x", "h", "Hidden", "FinSet", "Real", "64", "0.5", "Normal", "scan(", "é", "𝔸", "\x00",
    "\t", "$", ";",
]
EDITS_PER_EXAMPLE = 20


def _features_do_not_raise(doc, rng: random.Random) -> None:
    n = len(doc.text)
    for _ in range(3):
        off = rng.randint(0, n)
        hover.hover(doc, off)
        navigation.definition(doc, off)
        navigation.references(doc, off)
        navigation.highlights(doc, off)
        completion.complete(doc, off)
        signature_help.signature_help(doc, off)
        structure.selection_chain(doc, off)
        rename.prepare_rename(doc, off)
        try:
            rename.rename(doc, off, "renamed_x")
        except rename.RenameError:
            pass
    diagnostics.document_diagnostics(doc)
    semantic_tokens.semantic_tokens(doc)
    structure.folding_ranges(doc)
    inlay_hints.inlay_hints(doc, Span(0, n))
    code_actions.quick_fixes(doc, Span(0, n))
    if doc.parsed is not None:
        symbols.document_symbols(doc.parsed.module, doc.text)


@settings(max_examples=120, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    sample=st.sampled_from(sorted(SAMPLES)),
    seed=st.integers(0, 2**32 - 1),
    encoding=st.sampled_from([UTF16, UTF8]),
)
def test_random_edits_match_a_fresh_parse(sample, seed, encoding):
    rng = random.Random(seed)
    enc = PositionEncoder(encoding)
    store = DocumentStore()
    uri = "file:///fuzz.qvr"
    text = SAMPLES[sample]
    store.open(uri, text, 0)
    version = 0
    edits_done = 0
    while edits_done < EDITS_PER_EXAMPLE:
        batch = []
        for _ in range(rng.choice((1, 1, 1, 2, 3))):
            index = LineIndex(text)
            a = rng.randint(0, len(text))
            b = min(len(text), a + rng.choice((0, 0, 1, 2, 5, 12)))
            new = "".join(rng.choice(FRAGMENTS) for _ in range(rng.choice((0, 1, 1, 2, 3))))
            batch.append(Change((enc.to_lsp(index, a), enc.to_lsp(index, b)), new))
            text = text[:a] + new + text[b:]
            edits_done += 1
        version += 1
        doc = store.change(uri, version, batch, enc)
        assert doc.text == text
        # look at the tree only now and then: lazy re-parses must chain edits correctly
        if rng.random() < 0.5 and doc.tree is not None:
            assert tree_sexp(doc.tree) == tree_sexp(store._parse_tree(text))
        fresh = fresh_parse(text)
        if fresh is not None:
            assert doc.parsed.module == fresh.module
            assert doc.parsed.diagnostics == fresh.diagnostics
        # the keystroke path first (before anything computes the full analysis): chunks kept
        # up to date edit by edit, and the engine's incremental diagnostics
        assert doc.line_index.line_starts == LineIndex(text).line_starts
        assert doc.chunks == syntax.split_declarations(text)
        expected = semantics.analyze(text).diagnostics
        assert doc.diagnostics == expected
        assert doc.layout is not None  # from the engine's incremental run, not its fallback
        stitched = semantic_tokens.encoded(doc, enc)
        if doc.analysis is not None:
            assert doc.analysis.diagnostics == expected
            assert stitched == semantic_tokens.encode(doc, semantic_tokens.semantic_tokens(doc), enc)
        _features_do_not_raise(doc, rng)


# what typing in a comment line inserts
COMMENT_TYPING = ["x", " ", "#", "!", "{", "}", "#{", "}#", "é", "𝔸", "define y = 1", ""]


def _with_comment_lines(text: str, rng: random.Random) -> str:
    """`text` with a comment line (or a blank one) after some of its declarations."""
    out, at = [], 0
    for chunk in syntax.split_declarations(text):
        out.append(text[at:chunk.end])
        at = chunk.end
        if rng.random() < 0.5:
            out.append(("" if out[-1].endswith("\n") else "\n")
                       + rng.choice(["# note\n", "#! doc\n", "\n", "   # indented\n"]))
    out.append(text[at:])
    return "".join(out)


@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
@given(sample=st.sampled_from(sorted(SAMPLES)), seed=st.integers(0, 2**32 - 1))
def test_typing_in_comment_lines_keeps_diagnostics_and_tokens(sample, seed):
    """Typing in the comment lines between declarations (the engine hands on the last
    version's results for an edit that leaves every declaration as it parsed), now and then an
    edit anywhere: each version's diagnostics equal a fresh `analyze`, and the semantic tokens
    stitched from the engine's blocks equal those of the full analysis."""
    rng = random.Random(seed)
    enc = PositionEncoder(UTF16)
    store = DocumentStore()
    uri = "file:///comments.qvr"
    text = _with_comment_lines(SAMPLES[sample], rng)
    doc = store.open(uri, text, 0)
    for version in range(1, 25):
        index = LineIndex(text)
        lines = text.split("\n")
        spots = [k for k, line in enumerate(lines) if not line.strip() or line.lstrip().startswith("#")]
        if spots and rng.random() < 0.85:
            k = rng.choice(spots)
            col = rng.randint(0, len(lines[k]))
            a = index.offset(k, col)
            b = min(a + rng.choice((0, 0, 1)), a + len(lines[k]) - col)
        else:
            a = rng.randint(0, len(text))
            b = min(len(text), a + rng.choice((0, 1, 3)))
        new = "\n" if rng.random() < 0.05 else rng.choice(COMMENT_TYPING)
        text = text[:a] + new + text[b:]
        doc = store.change(uri, version, [Change((enc.to_lsp(index, a), enc.to_lsp(index, b)), new)], enc)
        assert doc.diagnostics == semantics.analyze(text).diagnostics
        stitched = semantic_tokens.encoded(doc, enc)
        assert doc.layout is not None and doc.analysis is not None
        assert stitched == semantic_tokens.encode(doc, semantic_tokens.semantic_tokens(doc), enc)


@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
@given(sample=st.sampled_from(sorted(SAMPLES)), seed=st.integers(0, 2**32 - 1))
def test_random_edits_while_the_checker_catches_up(sample, seed):
    """As the server runs it: the opened version is published from its full analysis, and
    the engine's incremental run catches up in slices that an edit may interrupt at any step (the
    edit then finishes the dropped run first). Every version's diagnostics still equal a fresh
    `analyze`, and a version whose catch-up was overtaken keeps what it published."""
    rng = random.Random(seed)
    enc = PositionEncoder(UTF16)
    store = DocumentStore(first_from_analysis=True)
    uri = "file:///fuzz.qvr"
    text = SAMPLES[sample]
    doc = store.open(uri, text, 0)
    for version in range(1, 11):
        published = doc.diagnostics
        assert published == semantics.analyze(doc.text).diagnostics
        for _ in range(rng.choice((0, 0, 1, 3, 50))):  # some slices of a catch-up, if any
            if doc.advance_checker(0.0):
                break
        old = doc
        index = LineIndex(text)
        a = rng.randint(0, len(text))
        b = min(len(text), a + rng.choice((0, 1, 2, 5)))
        new = "".join(rng.choice(FRAGMENTS) for _ in range(rng.choice((1, 2, 3))))
        text = text[:a] + new + text[b:]
        doc = store.change(uri, version, [Change((enc.to_lsp(index, a), enc.to_lsp(index, b)), new)], enc)
        assert doc.diagnostics == semantics.analyze(text).diagnostics
        if text == old.text:  # an edit that changed nothing: the version's results carry over
            assert doc.diagnostic_runs is old.diagnostic_runs and doc.layout is old.layout
        else:
            assert doc.layout is not None  # later versions come from the checker
        old.advance_checker(0.0)  # a stale catch-up step is harmless
        assert old.diagnostics == published
