"""Diagnostics of large files: converted once and reused (`convert.DiagnosticMemo`), computed in
slices so that other documents are answered meanwhile, pulled with run failures included, and
code lenses that place each diagnostic once instead of testing it against every program."""
from __future__ import annotations

import asyncio
import json

import pytest
from lsprotocol import types as lsp

from qvr.diagnostics import Diagnostic, Related, Severity
from qvr.semantics import analyze
from qvr.syntax.span import LineIndex, Span
from qvr_lsp import convert
from qvr_lsp.documents import Change, DocumentStore
from qvr_lsp.features import code_lens
from qvr_lsp.positions import PositionEncoder
from qvr_lsp.server import create_server

CLASSIC = """object Token{i} : 256
type Hidden{i} = Euclidean 4
continuous f{i} : Token{i} -> Hidden{i} ~ Normal
program p{i}(x) : Token{i} -> Hidden{i}
    draw z ~ f{i}(x)
    return z
"""


def classic(models: int) -> str:
    return "".join("# model\n" + CLASSIC.format(i=i) for i in range(models))


class _Doc:
    def __init__(self, uri, text, diagnostics):
        self.uri, self.text, self.line_index, self.diagnostics = uri, text, LineIndex(text), diagnostics


def test_the_memo_converts_as_convert_diagnostic_does_in_every_encoding():
    text = "object Ünïcode : 256\n# 😀 x\nobject B : 3\n"
    diags = list(analyze(text).diagnostics) + [
        Diagnostic("QVR999", Severity.WARNING, "with related", Span(30, 34), ("unnecessary",),
                   (Related(Span(0, 6), "there"),)),
        Diagnostic("QVR998", Severity.ERROR, "past the end", Span(len(text) + 5, len(text) + 9)),
    ]
    doc = _Doc("file:///u.qvr", text, diags)
    for encoding in ("utf-16", "utf-8", "utf-32"):
        enc = PositionEncoder(encoding)
        memo = convert.DiagnosticMemo(doc.uri, encoding)
        assert memo.convert(enc, doc.line_index, diags) == [convert.diagnostic(enc, doc, d) for d in diags]


def test_a_keystroke_reuses_every_converted_diagnostic_it_did_not_move():
    store, enc = DocumentStore(), PositionEncoder("utf-16")
    doc = store.open("file:///c.qvr", classic(40), 1)
    memo = convert.DiagnosticMemo(doc.uri, enc.encoding)
    before = memo.convert(enc, doc.line_index, doc.diagnostics)
    assert len(before) > 100  # a size guard: the comparisons below are of the whole lists
    line = 7 * 20  # the comment line of model 20: a character there moves no diagnostic
    doc = store.change(doc.uri, 2, [Change(((line, 3), (line, 3)), "x")], enc)
    after = memo.convert(enc, doc.line_index, doc.diagnostics)
    assert [id(d) for d in after] == [id(d) for d in before]  # every one the same object
    doc = store.change(doc.uri, 3, [Change(((line, 3), (line, 3)), "\n")], enc)  # a new line
    moved = memo.convert(enc, doc.line_index, doc.diagnostics)
    assert moved == [convert.diagnostic(enc, doc, d) for d in doc.diagnostics]
    kept = sum(a is b for a, b in zip(moved, before))
    assert 0 < kept < len(before)  # those above the new line kept, those below converted anew


@pytest.mark.slow
def test_pushed_json_is_what_pygls_would_send():
    ls = create_server()
    written = []

    class Writer:
        def write(self, data):
            header, body = data.decode().split("\r\n\r\n", 1)
            assert header.startswith(f"Content-Length: {len(body.encode())}\r\n")
            written.append(body)

        def close(self):
            pass

    ls.protocol.set_writer(Writer())
    doc = ls.documents.open("file:///c.qvr", classic(10), 1)
    ls.publish(doc)
    ls.publish(doc)  # the second time from the texts of the first
    mine = [json.loads(w) for w in written]
    ls._diagnostic_memos.clear()  # not the memo's list any more: pygls serialises it
    params = lsp.PublishDiagnosticsParams(uri=doc.uri, diagnostics=ls.lsp_diagnostics(doc), version=1)
    ls._diagnostic_memos.clear()
    ls.text_document_publish_diagnostics(params)
    reference = json.loads(written[-1])
    assert len(reference["params"]["diagnostics"]) > 30  # a size guard; the next line compares all
    assert mine == [reference, reference]


def _recording_server():
    ls = create_server()
    events = []
    ls.text_document_publish_diagnostics = lambda params: events.append(("published", params.uri, params.version))
    return ls, events


@pytest.mark.slow
def test_a_small_file_is_answered_while_a_big_one_is_first_analysed(generated_module):
    """Opening a big file: its analysis runs in slices, and a hover on another document sent
    right after the open is answered before the big file's first diagnostics are published."""
    ls, events = _recording_server()
    small = ls.documents.open("file:///small.qvr", "object A : FinSet 2\n", 1)
    ls.publish(small)
    hover = ls.protocol.fm.features[lsp.TEXT_DOCUMENT_HOVER]
    params = lsp.HoverParams(text_document=lsp.TextDocumentIdentifier(uri=small.uri),
                             position=lsp.Position(line=0, character=8))

    async def scenario():
        big = ls.documents.open("file:///big.qvr", generated_module(3000), 1)
        ls.schedule_publish(big)  # as did_open does
        await asyncio.sleep(0)  # the publish callback has run (its first slice)
        answer = await hover(params)
        events.append(("hover answered", answer is not None))
        while ("published", big.uri, 1) not in events:
            await asyncio.sleep(0)

    asyncio.run(scenario())
    assert events == [("published", "file:///small.qvr", 1), ("hover answered", True),
                      ("published", "file:///big.qvr", 1)]


@pytest.mark.slow
def test_a_dropped_checker_run_is_finished_in_slices_by_the_next_version(generated_module):
    store, enc = DocumentStore(first_from_analysis=True), PositionEncoder("utf-16")
    opened = store.open("file:///big.qvr", generated_module(2000), 1)
    assert opened.advance_diagnostics(None)  # published from the full analysis
    assert not opened.advance_checker(0.0)  # the checker's catch-up: one step, then dropped
    new = store.change(opened.uri, 2, [Change(((3, 0), (3, 0)), " ")], enc)
    slices = 1
    while not new.advance_diagnostics(0.0):  # one step at a time: the old run's, then its own
        slices += 1
    assert slices > 20  # not finished in one go
    assert opened.checker_ready  # the old run was driven to its end, not started again
    assert new.diagnostics == analyze(new.text).diagnostics


def test_run_failures_are_in_pulled_diagnostics_and_a_refresh_is_asked_for():
    ls = create_server()
    ls.pull_diagnostics = True
    sent = []
    ls.text_document_publish_diagnostics = lambda params: sent.append("pushed")
    ls.workspace_diagnostic_refresh = lambda params: sent.append("refresh")
    ls.protocol.client_capabilities = lsp.ClientCapabilities(workspace=lsp.WorkspaceClientCapabilities(
        diagnostics=lsp.DiagnosticWorkspaceClientCapabilities(refresh_support=True)))
    text = "object A : FinSet 2\n"
    doc = ls.documents.open("file:///m.qvr", text, 1)
    failure = Diagnostic("QVR-run", Severity.ERROR, "Run SVI m failed (line 1): boom", Span(0, 19))
    ls.runs.extra_diagnostics = lambda uri: [failure] if uri == doc.uri else []
    ls.publish_diagnostics_for(doc.uri)
    handler = ls.protocol.fm.features[lsp.TEXT_DOCUMENT_DIAGNOSTIC]
    report = asyncio.run(handler(lsp.DocumentDiagnosticParams(text_document=lsp.TextDocumentIdentifier(uri=doc.uri))))
    enc = PositionEncoder("utf-16")
    found = list(analyze(text).diagnostics) + [failure]
    assert report == lsp.RelatedFullDocumentDiagnosticReport(
        items=[convert.diagnostic(enc, doc, d) for d in found], result_id=report.result_id)
    assert sent == ["refresh"]  # asked to pull again, nothing pushed


def test_code_lenses_place_each_diagnostic_without_testing_every_program(monkeypatch):
    """Each diagnostic is placed among the programs by binary search: `overlaps` (the pairwise
    test) is never called, and every program gets what the pairwise test gives it."""
    text = classic(60) + "program bad(x) : Token0 -> Hidden0\n    return nope\nexport p3\n"
    analysis = analyze(text)
    found = code_lens.targets(analysis)
    diagnostics = list(analysis.diagnostics) + [
        Diagnostic("QVR-run", Severity.ERROR, "whole file", Span(0, len(text))),
        Diagnostic("QVR-run", Severity.ERROR, "at a program's start", Span(found[5].scope.start, found[5].scope.start)),
    ]
    pairwise = [diagnostics if t.scope is None else [d for d in diagnostics if code_lens.overlaps(d.span, t.scope)]
                for t in found]
    calls = []
    real = code_lens.overlaps
    monkeypatch.setattr(code_lens, "overlaps", lambda span, scope: calls.append(1) or real(span, scope))
    assert code_lens.diagnostics_by_target(found, diagnostics) == pairwise
    lenses = code_lens.code_lenses(analysis, "file:///m.qvr", diagnostics=diagnostics)
    assert calls == []
    assert len(lenses) == 4 * len(found) and len(found) == 62
