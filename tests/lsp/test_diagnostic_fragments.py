"""The JSON the server writes for diagnostics (`convert.DiagnosticMemo.prepare`, joined into
publishDiagnostics and full pulled reports without lsprotocol objects) decodes to exactly what
the lsprotocol converter makes of `convert.diagnostic(...)`, edit after edit, whether they come
as the engine's runs (`qvr.semantics.placed`: replayed blocks kept, moved by whole lines) or as
a list: on lines with characters beyond ASCII, past the end of the text, with related
locations, tags and code links."""
from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
from lsprotocol import types as lsp
from pygls.protocol import default_converter

from qvr.diagnostics import Diagnostic, Related, Severity
from qvr.syntax.span import LineIndex, Span
from qvr_lsp import convert
from qvr_lsp.documents import Change, DocumentStore
from qvr.semantics.placed import DiagnosticRuns, Run
from qvr_lsp.features.diagnostics import document_diagnostic_runs, document_diagnostics
from qvr_lsp.positions import PositionEncoder
from qvr_lsp.server import create_server

CONVERTER = default_converter()
URI = "file:///f.qvr"
LINK_BASE = "https://example.org/qvr/docs"

# a classic-dialect model of seven lines, `{i}` its number: tests/programs/classic_model.txt
CLASSIC = (Path(__file__).resolve().parents[1] / "programs" / "classic_model.txt").read_text(encoding="utf-8")


class _Doc:
    def __init__(self, text: str) -> None:
        self.uri, self.text, self.line_index = URI, text, LineIndex(text)


def reference(encoding: str, text: str, diagnostics, link_base=None) -> list:
    """What the lsprotocol converter writes for `diagnostics` on `text`, one by one."""
    doc, enc = _Doc(text), PositionEncoder(encoding)
    return [CONVERTER.unstructure(convert.diagnostic(enc, doc, d, link_base)) for d in diagnostics]


def prepared(memo: convert.DiagnosticMemo, text: str, diagnostics) -> list:
    return json.loads(memo.prepare(PositionEncoder(memo.encoding), LineIndex(text), diagnostics).json())


def _extra(text: str) -> list[Diagnostic]:
    """Diagnostics the checker rarely gives: related locations, both tags, past the end,
    a negative offset, an empty span at the very end."""
    end = len(text)
    return [
        Diagnostic("QVR999", Severity.WARNING, "with related", Span(3, 9), ("unnecessary", "deprecated"),
                   (Related(Span(0, 2), "there"), Related(Span(end - 3, end), "and \u00e9 here"))),
        Diagnostic("QVR998", Severity.ERROR, "past the end", Span(end + 5, end + 9)),
        Diagnostic("QVR997", Severity.INFORMATION, "before the start", Span(-2, 1)),
        Diagnostic("QVR013", Severity.HINT, "at the end", Span(end, end)),
    ]


EDITS = [  # (line, start column, end column, new text): keystrokes a user makes
    (0, 1, 1, "y"),  # the first line: every diagnostic after it moves by one character
    (0, 1, 2, ""),
    (7 * 10 + 2, 4, 4, " "),  # in a declaration, before a hint on the same line (its column moves)
    (7 * 10 + 2, 4, 5, ""),
    (7 * 10, 3, 3, "x"),  # a comment mid-file: nothing moves
    (7 * 10, 3, 4, ""),
    (7 * 10, 3, 3, "\n"),  # a new line: everything after moves by one line
    (7 * 10 + 1, 0, 0, "object Q\u00e9 : 256\n"),  # a line beyond ASCII, with its own diagnostics
    (7 * 10 + 1, 7, 7, "\U0001f600"),  # an astral character: two UTF-16 units, four UTF-8 bytes
    (7 * 10 + 1, 7, 9, ""),
    (7 * 10 + 1, 0, 17, ""),  # the line emptied again: ASCII once more
    (0, 0, 0, "# top\n"),  # at the top: every diagnostic moves
    (3, 4, 10, "Hid"),  # inside a declaration: its diagnostics change
]


@pytest.mark.parametrize("encoding", ["utf-16", "utf-8", "utf-32"])
def test_prepared_json_is_the_converters_edit_after_edit(encoding):
    store, enc = DocumentStore(), PositionEncoder(encoding)
    doc = store.open(URI, "".join(CLASSIC.format(i=i) for i in range(20)), 1)
    # the rare ones before the checker's (whose ends then move with the edits) and after them
    # as lists and as the engine's runs (what the server converts)
    memos = [convert.DiagnosticMemo(URI, encoding, LINK_BASE) for _ in range(4)]
    for version, edit in enumerate([None, *EDITS], start=1):
        if edit is not None:
            line, a, b, new = edit
            doc = store.change(URI, version, [Change(((line, a), (line, b)), new)], enc)
        runs, extra = document_diagnostic_runs(doc).runs, _extra(doc.text)
        assert any(r.origin is not None for r in runs)  # replayed blocks among them
        for memo, given, found in (
                (memos[0], None, extra + list(document_diagnostics(doc))),
                (memos[1], None, list(document_diagnostics(doc)) + extra),
                (memos[2], DiagnosticRuns([Run.of(extra), *runs]), extra + list(document_diagnostics(doc))),
                (memos[3], DiagnosticRuns([*runs, Run.of(extra)]), list(document_diagnostics(doc)) + extra)):
            expected = reference(encoding, doc.text, found, LINK_BASE)
            assert len(expected) > 60  # a size guard: the comparison is of the whole list
            assert prepared(memo, doc.text, found if given is None else given) == expected


def test_the_very_same_diagnostics_on_an_edited_text_get_their_new_positions():
    """The checker may hand back the same objects after an edit that kept the length (here
    `b\\n` became `\\nb`): their offsets are right, their lines and columns changed."""
    before, after = "ab\ncd\nef\n", "a\nbcd\nef\n"
    found = [Diagnostic("QVR001", Severity.ERROR, "d", Span(4, 5)),
             Diagnostic("QVR001", Severity.ERROR, "a", Span(0, 1)),
             Diagnostic("QVR001", Severity.ERROR, "f", Span(7, 8))]
    memo = convert.DiagnosticMemo(URI, "utf-16")
    assert prepared(memo, before, found) == reference("utf-16", before, found)
    assert prepared(memo, after, found) == reference("utf-16", after, found)
    assert [d["range"]["start"] for d in prepared(memo, after, found)] == [
        {"line": 1, "character": 2}, {"line": 0, "character": 0}, {"line": 2, "character": 1}]


def test_a_diagnostic_moved_by_an_edit_on_its_first_line_gets_its_new_column():
    """After a one-character insertion the checker's new object has the same content and
    offsets moved by one: only its first line's column changed (it ends on a later line)."""
    before, after = "ab cd\nef\n", "axb cd\nef\n"
    old = [Diagnostic("QVR001", Severity.ERROR, "cd", Span(3, 7))]
    new = [Diagnostic("QVR001", Severity.ERROR, "cd", Span(4, 8))]
    memo = convert.DiagnosticMemo(URI, "utf-16")
    assert prepared(memo, before, old) == reference("utf-16", before, old)
    assert prepared(memo, after, new) == reference("utf-16", after, new)
    assert prepared(memo, after, new)[0]["range"]["start"] == {"line": 0, "character": 4}


def test_a_keystroke_reuses_the_text_of_every_diagnostic_it_did_not_move():
    store, enc = DocumentStore(), PositionEncoder("utf-16")
    doc = store.open(URI, "".join(CLASSIC.format(i=i) for i in range(40)), 1)
    memo = convert.DiagnosticMemo(URI, "utf-16")
    before = memo.prepare(enc, doc.line_index, document_diagnostics(doc)).texts
    doc = store.change(URI, 2, [Change(((7 * 20, 3), (7 * 20, 3)), "x")], enc)
    after = memo.prepare(enc, doc.line_index, document_diagnostics(doc)).texts
    assert len(after) == len(before) > 100
    assert all(a is b for a, b in zip(after, before))  # not written again: the same strings


def test_a_keystroke_reuses_the_texts_of_every_replayed_block_even_moved_by_lines(monkeypatch):
    store, enc = DocumentStore(), PositionEncoder("utf-16")
    doc = store.open(URI, "".join(CLASSIC.format(i=i) for i in range(40)), 1)
    memo = convert.DiagnosticMemo(URI, "utf-16")
    runs = document_diagnostic_runs(doc)
    before = memo.prepare(enc, doc.line_index, runs).texts
    measured = []  # how many diagnostics get their positions computed
    keys = convert.DiagnosticMemo._keys
    monkeypatch.setattr(convert.DiagnosticMemo, "_keys", lambda self, enc, index, found, positional: (
        measured.append(len(found)), keys(self, enc, index, found, positional))[1])

    def made_in_this_version(runs, previous):
        """The whole-module pass' diagnostics and those of blocks checked again."""
        seen = {id(r.base) for r in previous.runs}
        new = {id(r.base): len(r.base) for r in runs.runs if r.origin is not None and id(r.base) not in seen}
        return sum(len(r) for r in runs.runs if r.origin is None) + sum(new.values())

    # a character in a comment; a new line before it
    for version, at, new_text in ((2, (7 * 20, 3), "x"), (3, (7 * 20, 0), "\n")):
        doc = store.change(URI, version, [Change((at, at), new_text)], enc)
        runs, previous = document_diagnostic_runs(doc), runs
        measured.clear()
        prepared = memo.prepare(enc, doc.line_index, runs)
        after = prepared.texts
        assert len(after) == len(before) > 100
        # the notification's array, joined a block at a time from texts joined once per block
        assert prepared.json() == prepared.json() == f"[{','.join(after)}]"
        assert 0 < sum(measured) == made_in_this_version(runs, previous) < len(after) / 4
        assert [json.loads(t) for t in after] == reference("utf-16", doc.text, document_diagnostics(doc))
    assert sum(a is b for a, b in zip(after, before)) > len(before) / 3  # those above: the same strings


def test_prepared_diagnostics_read_as_the_converted_objects():
    text = "".join(CLASSIC.format(i=i) for i in range(3)) + "object \u00c9 : 3\n"
    found = list(DocumentStore().open(URI, text, 1).diagnostics) + _extra(text)
    items = convert.DiagnosticMemo(URI, "utf-16", LINK_BASE).prepare(PositionEncoder("utf-16"), LineIndex(text), found)
    assert list(items) == [convert.diagnostic(PositionEncoder("utf-16"), _Doc(text), d, LINK_BASE) for d in found]
    assert len(items) == len(found)


class _Writer:
    def __init__(self) -> None:
        self.bodies: list[bytes] = []

    def write(self, data: bytes) -> None:
        header, body = data.split(b"\r\n\r\n", 1)
        assert header.startswith(b"Content-Length: %d\r\n" % len(body))
        self.bodies.append(body)

    def close(self) -> None:
        pass


def test_the_published_notification_is_what_pygls_writes_for_the_converted_list():
    ls = create_server()
    writer = _Writer()
    ls.protocol.set_writer(writer)
    text = "".join(CLASSIC.format(i=i) for i in range(8))
    doc = ls.documents.open(URI, text, 3)
    ls.publish(doc)
    expected = []
    # then a keystroke that leaves every diagnostic where it was (in a comment: the same
    # result, sent again with its version) and one that moves those after it by a line
    for version, at, new_text in ((None, None, None), (4, (7 * 4, 2), "x"), (5, (7 * 4, 0), "\n")):
        if version is not None:
            doc = ls.documents.change(URI, version, [Change((at, at), new_text)], ls.encoder)
            ls.publish(doc)
        items = [convert.diagnostic(ls.encoder, doc, d) for d in document_diagnostics(doc)]
        assert len(items) > 30  # a size guard: the comparison is of the whole message
        expected.append({"jsonrpc": "2.0", "method": "textDocument/publishDiagnostics",
                         "params": CONVERTER.unstructure(lsp.PublishDiagnosticsParams(
                             uri=URI, diagnostics=items, version=doc.version))})
    assert [json.loads(b) for b in writer.bodies] == expected
    assert expected[0]["params"]["diagnostics"] == expected[1]["params"]["diagnostics"] \
        != expected[2]["params"]["diagnostics"]


def test_a_full_pulled_report_is_what_pygls_writes_for_the_converted_list():
    ls = create_server()
    ls.pull_diagnostics = True
    writer = _Writer()
    ls.protocol.set_writer(writer)
    text = "".join(CLASSIC.format(i=i) for i in range(8))
    doc = ls.documents.open(URI, text, 1)
    handler = ls.protocol.fm.features[lsp.TEXT_DOCUMENT_DIAGNOSTIC]
    params = lsp.DocumentDiagnosticParams(text_document=lsp.TextDocumentIdentifier(uri=URI))
    report = asyncio.run(handler(params))
    ls.protocol._result_types[7] = lsp.DocumentDiagnosticResponse
    ls.protocol._send_response(7, report)
    items = [convert.diagnostic(ls.encoder, doc, d) for d in document_diagnostics(doc)]
    assert len(items) > 30
    expected = CONVERTER.unstructure(lsp.DocumentDiagnosticResponse(
        id=7, result=lsp.RelatedFullDocumentDiagnosticReport(items=items, result_id=report.result_id)))
    assert [json.loads(b) for b in writer.bodies] == [expected]
    assert 7 not in ls.protocol._result_types
    # asked again with that result id: unchanged, written by pygls as before
    again = asyncio.run(handler(lsp.DocumentDiagnosticParams(
        text_document=lsp.TextDocumentIdentifier(uri=URI), previous_result_id=report.result_id)))
    assert again == lsp.RelatedUnchangedDocumentDiagnosticReport(result_id=report.result_id)
