"""The document store: applying LSP changes in every encoding, incremental tree-sitter trees
and parses that agree with a fresh parse, and snapshots that never change under a request."""
from __future__ import annotations

import pytest

from qvr.syntax.span import LineIndex
from qvr_lsp.documents import Change, DocumentStore, changes_from_lsp, fresh_parse, tree_sexp
from qvr_lsp.positions import PositionEncoder, UTF8, UTF16, UTF32

from lsp_fixtures import SAMPLES

URI = "file:///tmp/doc.qvr"


def lsp_range(text: str, start: int, end: int, encoder: PositionEncoder):
    index = LineIndex(text)
    return encoder.to_lsp(index, start), encoder.to_lsp(index, end)


@pytest.mark.parametrize("encoding", [UTF16, UTF8, UTF32])
def test_change_with_astral_characters_in_each_encoding(encoding):
    enc = PositionEncoder(encoding)
    store = DocumentStore()
    text = "object 𝔸é : FinSet 2\nobject B : Real 1\n"
    store.open(URI, text, 1)
    # replace "FinSet 2" (after two non-ASCII characters, one astral) by "FinSet 3"
    start = text.index("2\n")
    doc = store.change(URI, 2, [Change(lsp_range(text, start, start + 1, enc), "3")], enc)
    assert doc.text == text.replace("FinSet 2", "FinSet 3")
    assert doc.version == 2


def test_positions_differ_between_encodings_after_astral_character():
    index = LineIndex("a𝔸b")
    offset = 2  # before "b"
    assert PositionEncoder(UTF16).to_lsp(index, offset) == (0, 3)
    assert PositionEncoder(UTF8).to_lsp(index, offset) == (0, 5)
    assert PositionEncoder(UTF32).to_lsp(index, offset) == (0, 2)
    for enc in (UTF8, UTF16, UTF32):
        e = PositionEncoder(enc)
        assert e.from_lsp(index, *e.to_lsp(index, offset)) == offset


def test_crlf_and_bom_are_normalised_on_open_and_change():
    store = DocumentStore()
    doc = store.open(URI, "\ufeffobject A : FinSet 2\r\nobject B : FinSet 3\r\n", 1)
    assert doc.text == "object A : FinSet 2\nobject B : FinSet 3\n"
    doc = store.change(URI, 2, [Change(((1, 0), (1, 0)), "object C : FinSet 4\r\n")], PositionEncoder())
    assert doc.text.splitlines()[1] == "object C : FinSet 4"
    assert "\r" not in doc.text


@pytest.mark.parametrize("encoding", [UTF16, UTF8])
def test_a_lone_surrogate_from_the_client_is_kept_as_a_replacement_character(encoding):
    # JSON can carry half of a surrogate pair ("\ud83d"); the store keeps U+FFFD there, one
    # UTF-16 code unit as well, so the client's later positions still point where they did
    enc = PositionEncoder(encoding)
    store = DocumentStore()
    doc = store.open(URI, "object A\ud83d : FinSet 2\nobject B : Real 1\n", 1)
    assert doc.text == "object A\ufffd : FinSet 2\nobject B : Real 1\n"
    doc.tree  # parsed before the edits below, so that they edit it
    start = doc.text.index("2\n")
    doc = store.change(URI, 2, [Change(lsp_range(doc.text, start, start + 1, enc), "3\udc00")], enc)
    assert doc.text == "object A\ufffd : FinSet 3\ufffd\nobject B : Real 1\n"
    start = doc.text.index("Real 1")
    doc = store.change(URI, 3, [Change(lsp_range(doc.text, start, start + 6, enc), "Real 4")], enc)
    assert doc.text == "object A\ufffd : FinSet 3\ufffd\nobject B : Real 4\n"
    assert tree_sexp(doc.tree) == tree_sexp(store._parse_tree(doc.text))
    assert doc.line_index.byte_offset(len(doc.text)) == len(doc.text.encode("utf-8"))


def test_full_replacement_and_lists_as_tuples():
    store = DocumentStore()
    store.open(URI, "object A : FinSet 2\n", 1)
    changes = changes_from_lsp(({"text": "object Z : FinSet 9\n"},))
    doc = store.change(URI, 2, changes, PositionEncoder())
    assert doc.text == "object Z : FinSet 9\n"
    ranged = changes_from_lsp(({"range": {"start": {"line": 0, "character": 7}, "end": {"line": 0, "character": 8}}, "text": "Y"},))
    assert store.change(URI, 3, ranged, PositionEncoder()).text == "object Y : FinSet 9\n"


def test_old_snapshot_is_unchanged_by_a_later_edit():
    store = DocumentStore()
    old = store.open(URI, SAMPLES["lstm_current"], 1)
    old_sexp = tree_sexp(old.tree)
    new = store.change(URI, 2, [Change(((1, 0), (1, 0)), "object Extra : FinSet 3\n")], PositionEncoder())
    assert old.text == SAMPLES["lstm_current"]
    assert tree_sexp(old.tree) == old_sexp
    assert not store.is_current(old) and store.is_current(new)


def test_tree_is_reparsed_lazily_across_several_unobserved_versions():
    store = DocumentStore()
    text = SAMPLES["rnn_011"]
    store.open(URI, text, 1).tree  # parsed once
    enc = PositionEncoder()
    for version, (old, new) in enumerate([("FinSet 256", "FinSet 300"), ("Real 64", "Real 65"), ("sample h", "sample hh")], start=2):
        start = text.index(old)
        rng = lsp_range(text, start, start + len(old), enc)
        text = text[:start] + new + text[start + len(old):]
        doc = store.change(URI, version, [Change(rng, new)], enc)  # tree not looked at
    assert tree_sexp(doc.tree) == tree_sexp(store._parse_tree(text))
    assert doc.tree.root_node.end_byte == len(text.encode())


def test_incremental_tree_matches_fresh_parse_after_edits():
    store = DocumentStore()
    text = SAMPLES["lstm_classic"]
    store.open(URI, text, 1)
    enc = PositionEncoder()
    edits = [("draw i_gate", "sample i_gate"), ("type State", "object State"), ("0.5]", "0.25]"), ("output lstm", "export lstm")]
    for version, (old, new) in enumerate(edits, start=2):
        start = text.index(old)
        rng = lsp_range(text, start, start + len(old), enc)
        text = text[:start] + new + text[start + len(old):]
        doc = store.change(URI, version, [Change(rng, new)], enc)
        assert doc.text == text
        assert tree_sexp(doc.tree) == tree_sexp(store._parse_tree(text))


def test_an_edit_reparses_only_the_declaration_it_touched():
    store = DocumentStore(track_reparse=True)
    text = SAMPLES["lstm_current"]
    doc = store.open(URI, text, 1)
    assert doc.parsed is not None
    start = text.index("Real 32")
    doc = store.change(URI, 2, [Change(lsp_range(text, start + 5, start + 7, PositionEncoder()), "48")], PositionEncoder())
    parsed = doc.parsed
    assert doc._parser.reparsed == 1
    fresh = fresh_parse(doc.text)
    assert parsed.module == fresh.module
    assert parsed.diagnostics == fresh.diagnostics


def test_binary_junk_and_nul_bytes_are_kept_verbatim():
    store = DocumentStore()
    junk = "object A : FinSet 2\n\x00\x01\xff\ufffd program $$$ ((( \n" * 20
    doc = store.open(URI, junk, 1)
    assert doc.text == junk
    _ = doc.parsed
    _ = doc.analysis
    doc = store.change(URI, 2, [Change(((3, 5), (3, 9)), "\x00")], PositionEncoder())
    assert "\x00" in doc.text and len(doc.text) == len(junk) - 3


def test_tree_sitter_fallback_reports_located_syntax_errors():
    """Used only when the checker cannot be imported: one located QVR002 per broken spot."""
    from qvr_lsp.features.diagnostics import tree_sitter_syntax_errors

    store = DocumentStore()
    text = "object A : FinSet 2\nmorphism f : A -> ~ Normal\nobject B : FinSet 3\n"
    doc = store.open(URI, text, 1)
    errors = tree_sitter_syntax_errors(doc)
    assert errors and all(e.code == "QVR002" for e in errors)
    line = doc.line_index.line_of(errors[0].span.start)
    assert line == 1
    assert tree_sitter_syntax_errors(store.open(URI, "object A : FinSet 2\n", 2)) == []


def test_unchanged_text_keeps_its_analysis():
    store = DocumentStore()
    doc = store.open(URI, SAMPLES["rnn_011"], 1)
    analysis = doc.analysis
    same = store.change(URI, 2, [Change(((0, 0), (0, 0)), "x"), Change(((0, 0), (0, 1)), "")], PositionEncoder())
    assert same.version == 2 and same.text == doc.text
    assert same.analysis is analysis


def _release_in_steps(store: DocumentStore) -> int:
    """Run `store`'s release one step per slice (the smallest budget); the number of slices."""
    slices = 1
    while not store._release_slice(0.0):
        slices += 1
    return slices


def test_a_replaced_documents_analysis_is_freed_by_the_release_a_piece_at_a_time(generated_module):
    """What a replaced version computed (its full analysis and parse) is freed by
    `DocumentStore.release`, in many small steps, not where the version is replaced."""
    import sys
    import weakref

    store = DocumentStore(release_in_slices=True)
    enc = PositionEncoder()
    text = generated_module(1500)
    doc = store.open(URI, text, 1)
    analysis = weakref.ref(doc.analysis)
    statements = doc.parsed.module.statements  # of its parse, held here too
    doc = store.change(URI, 2, [Change(((0, 0), (0, 0)), "# edited\n")], enc)
    assert analysis() is not None and sys.getrefcount(statements) > 2  # kept for the release
    assert _release_in_steps(store) > 20
    assert analysis() is None
    assert sys.getrefcount(statements) == 2  # (this name and the call's argument): the parse went
    assert not store.leftovers


def test_what_is_still_held_elsewhere_is_left_as_it_is(generated_module):
    """A replaced document that a request still holds is let go as it is (freed when the
    request lets go), and the release takes nothing away from an analysis in use."""
    from qvr import semantics

    store = DocumentStore(release_in_slices=True)
    enc = PositionEncoder()
    text = generated_module(300)
    first = store.open(URI, text, 1)
    held = first.analysis
    store.change(URI, 2, [Change(((0, 0), (0, 0)), "# edited\n")], enc)
    store.release_now()
    assert first.analysis is held
    fresh = semantics.analyze(text)
    assert (held.diagnostics, len(held.references), len(held.symbols), len(held.module.statements)) \
        == (fresh.diagnostics, len(fresh.references), len(fresh.symbols), len(fresh.module.statements))
    del first
    analysis_only = store.get(URI).analysis
    store.change(URI, 3, [Change(((0, 0), (0, 0)), "# again\n")], enc)
    store.release_now()  # the document goes; its analysis, held here, stays whole
    again = semantics.analyze("# edited\n" + text)
    assert (analysis_only.diagnostics, len(analysis_only.references)) \
        == (again.diagnostics, len(again.references))
    assert not store.leftovers


def test_a_store_that_does_not_release_in_slices_keeps_nothing(generated_module):
    """Only the language server drives `release`; any other store lets a replaced version's
    results go where it is replaced, as reference counting does."""
    import weakref

    store = DocumentStore()
    doc = store.open(URI, generated_module(300), 1)
    analysis = weakref.ref(doc.analysis)
    store.change(URI, 2, [Change(((0, 0), (0, 0)), "# edited\n")], PositionEncoder())
    del doc
    assert analysis() is None and not store.leftovers
