"""The full analysis computed a slice at a time, between messages (`Document.advance_analysis`,
`DocumentStore.ready`, the `after(...)` handlers and the warm-up after a pause).

What must hold: a keystroke that arrives while a request waits for the analysis of a large
file is checked and published before that analysis is done (and the request then answers
ContentModified); the sliced analysis is the same as the one computed in one go; a pause
computes it unasked, so the next hover does not wait.
"""
from __future__ import annotations

import asyncio

import pytest
from lsprotocol import types as lsp

from qvr import semantics
from qvr_lsp import documents as documents_module
from qvr_lsp import scheduling
from qvr_lsp.documents import Change, Document, DocumentStore
from qvr_lsp.positions import PositionEncoder
from qvr_lsp.server import ContentModified, create_server

from expect import expect
from lsp_fixtures import render_protocol

URI = "file:///large.qvr"
GUARD_S = 60.0  # a hang guard: only a test that would otherwise wait forever fails on it


async def until(predicate) -> None:
    """Let the event loop turn until `predicate()` holds."""
    async def wait():
        while not predicate():
            await asyncio.sleep(0)

    await asyncio.wait_for(wait(), GUARD_S)


def count_slices(monkeypatch) -> list:
    """The URIs of the analysis slices run from now on, in order (`Document.advance_analysis`)."""
    slices = []
    real = Document.advance_analysis

    def counted(self, *args, **kwargs):
        slices.append(self.uri)
        return real(self, *args, **kwargs)

    monkeypatch.setattr(Document, "advance_analysis", counted)
    return slices


def test_advance_in_slices_gives_the_one_go_analysis(generated_module):
    store = DocumentStore()
    text = generated_module(1500)
    doc = store.open(URI, text, 1)
    slices = 1
    while not doc.advance_analysis(0.0):  # the smallest slice: one step each
        slices += 1
    assert slices > 20
    whole = semantics.analyze(text)
    assert doc.analysis.diagnostics == whole.diagnostics
    assert doc.parsed.module is doc.analysis.module  # one parse, shared by both
    assert len(doc.analysis.references) == len(whole.references)


def test_parse_only_stops_before_the_analysis(generated_module):
    store = DocumentStore()
    doc = store.open(URI, generated_module(600), 1)
    while not doc.advance_analysis(0.0, parse_only=True):
        pass
    assert doc._parsed is not None and not doc.has_analysis
    assert doc.parsed.module.statements  # and the property gives that same parse
    assert doc.analysis.module is doc.parsed.module


def test_a_failing_analysis_is_logged_not_raised(monkeypatch, caplog):
    store = DocumentStore()
    doc = store.open(URI, "object A : FinSet 2\n", 1)

    def broken(text, parsed):
        raise RuntimeError("checker bug")
        yield  # a generator, like the real one

    monkeypatch.setattr(semantics, "analyze_steps", broken)
    assert doc.advance_analysis(0.001) is True
    assert doc.analysis is None
    assert "checker bug" in caplog.text


def _server_with(text: str):
    """A server with `text` open and edited once: the edited version (2) has no analysis yet.
    (The opened version is published from its full analysis, see `test_an_opened_version...`.)"""
    ls = create_server()
    published = []
    ls.text_document_publish_diagnostics = lambda params: published.append(params.version)
    opened = ls.documents.open(URI, text, 1)
    ls.publish(opened)
    opened.advance_checker(None)
    doc = _keystroke(ls, opened, 2)
    published.clear()
    return ls, published, doc


def _keystroke(ls, doc, version):
    line = doc.text.count("\n") // 2
    return ls.documents.change(URI, version, [Change(((line, 0), (line, 0)), " ")], PositionEncoder("utf-16"))


def test_an_opened_version_is_published_from_its_analysis_and_the_checker_catches_up(generated_module):
    """The first version's diagnostics come from the full analysis (faster than the checker's
    first run); the checker then runs in slices right after the publish, so the first
    keystroke re-checks only what it touched."""
    ls = create_server()
    published = []
    ls.text_document_publish_diagnostics = lambda params: published.append(params.version)
    text = generated_module(2000)
    doc = ls.documents.open(URI, text, 1)
    checker = ls.documents._checkers[URI]

    async def scenario():
        ls.schedule_publish(doc)
        while not published:
            await asyncio.sleep(0)
        assert doc.has_analysis and not doc.checker_ready and checker.cold
        await until(lambda: not checker.cold)  # its first slice has run ...
        assert not doc.checker_ready  # ... and it is under way, a slice at a time
        await until(lambda: doc.checker_ready)

    asyncio.run(scenario())
    assert published == [1]
    units = checker.checked
    assert units > 1000  # the first run checked everything
    new = _keystroke(ls, doc, 2)
    assert new.diagnostics == semantics.analyze(new.text).diagnostics
    assert checker.checked < units // 20 and checker.replayed > units // 2


def test_a_keystroke_before_the_checker_caught_up_finishes_its_run_first(generated_module):
    ls = create_server()
    text = generated_module(2000)
    opened = ls.documents.open(URI, text, 1)
    assert opened.diagnostics == semantics.analyze(text).diagnostics  # from the analysis
    assert not opened.advance_checker(0.0)  # one step of the checker's run, and no more
    checker = ls.documents._checkers[URI]
    new = _keystroke(ls, opened, 2)
    assert new.diagnostics == semantics.analyze(new.text).diagnostics
    assert checker.checked < 200  # the dropped run was finished, not started again
    assert opened.advance_checker(0.0) is True and not opened.checker_ready  # nothing kept of it
    assert opened.diagnostics == semantics.analyze(text).diagnostics


def test_a_keystroke_is_published_while_a_request_waits_for_the_analysis(monkeypatch, generated_module):
    ls, published, doc = _server_with(generated_module(3000))
    slices = count_slices(monkeypatch)
    ls.publish(doc)
    events = []
    hover = ls.protocol.fm.features[lsp.TEXT_DOCUMENT_HOVER]
    params = lsp.HoverParams(text_document=lsp.TextDocumentIdentifier(uri=URI),
                             position=lsp.Position(line=8, character=17))

    async def scenario():
        request = asyncio.ensure_future(hover(params))
        await until(lambda: slices.count(URI) >= 3)  # a few slices of the analysis have run
        assert not request.done() and not doc.has_analysis
        new = _keystroke(ls, doc, 3)
        ls.schedule_publish(new)  # as did_change does
        request.add_done_callback(lambda _: events.append("request done"))
        while 3 not in published:
            await asyncio.sleep(0)
        events.append("keystroke published")
        with pytest.raises(ContentModified):
            await request
        assert not doc.has_analysis  # the old version's analysis was dropped, not finished

    asyncio.run(scenario())
    assert published == [2, 3]
    # the request gave up at its next slice; the keystroke's check runs in slices of its own
    assert sorted(events) == ["keystroke published", "request done"]


def test_a_request_answers_from_the_sliced_analysis(generated_module):
    ls, _, doc = _server_with(generated_module(1000))
    hover = ls.protocol.fm.features[lsp.TEXT_DOCUMENT_HOVER]
    params = lsp.HoverParams(text_document=lsp.TextDocumentIdentifier(uri=URI),
                             position=lsp.Position(line=8, character=17))
    result = asyncio.run(hover(params))
    assert doc.has_analysis
    expect("""
        {"contents": {"kind": "markdown", "value": "```qvr\\ngate0 : Emb0(16) * Hid0(16) -> Hid0(16) ~ LogitNormal\\n```\\n\\nFamily `LogitNormal(loc, scale)`, support unit interval (0, 1) → Real w {low=0.0, high=1.0}\\n\\nOptions: `param_source=affine`, `replicate=1`"}, "range": "9:17-9:22"}
    """).assert_eq(render_protocol(result))  # `gate0` called in program cell0


def test_a_pause_computes_the_analysis_unasked(monkeypatch, generated_module):
    monkeypatch.setattr(scheduling, "WARM_UP_DELAY_S", 0.02)
    ls, published, doc = _server_with(generated_module(1000))

    async def scenario():
        ls.schedule_publish(doc)
        await until(lambda: published)
        assert published == [2] and not doc.has_analysis  # published first, analysis later
        await until(lambda: doc.has_analysis)  # then the pause computed it
        # a change before the pause is over: no warm-up for the old version
        new = _keystroke(ls, doc, 3)
        ls.schedule_publish(new)
        newer = _keystroke(ls, new, 4)
        ls.schedule_publish(newer)
        await until(lambda: newer.has_analysis)  # the pause after the last change is over
        assert not new.has_analysis

    asyncio.run(scenario())


def test_a_cancelled_request_pauses_the_analysis_and_a_later_one_resumes_it(monkeypatch, generated_module):
    """`$/cancelRequest` cancels the handler's task (pygls); the slices stop there, and the
    work done so far is kept for the next request on the same version."""
    ls, _, doc = _server_with(generated_module(2000))
    # slices paced by turns of the loop only (as when the server reads a pipe on its loop), so
    # that a number of turns stands for a number of slices
    ls.documents.slice_pause_s = 0.0
    slices = count_slices(monkeypatch)
    hover = ls.protocol.fm.features[lsp.TEXT_DOCUMENT_HOVER]
    params = lsp.HoverParams(text_document=lsp.TextDocumentIdentifier(uri=URI),
                             position=lsp.Position(line=8, character=17))

    async def scenario():
        request = asyncio.ensure_future(hover(params))
        await until(lambda: len(slices) >= 3)  # under way
        request.cancel()
        with pytest.raises(asyncio.CancelledError):
            await request
        steps = doc._analysis_steps
        assert steps is not None and not doc.has_analysis  # paused half way, not finished
        done = len(slices)
        for _ in range(10 * documents_module.TURNS_BETWEEN_SLICES):  # ~10 slices' worth of turns
            await asyncio.sleep(0)
        assert len(slices) == done  # nothing runs meanwhile
        assert doc._analysis_steps is steps and not doc.has_analysis
        return await hover(params)

    result = asyncio.run(scenario())
    assert doc.has_analysis and result is not None


def test_a_slice_ends_as_soon_as_input_is_waiting(generated_module):
    store = DocumentStore()
    doc = store.open(URI, generated_module(1500), 1)
    slices = 1
    while not doc.advance_analysis(10.0, interrupt=lambda: True):  # input waits: one step each
        slices += 1
    assert slices > 20
    other = store.open(URI, generated_module(1500) + "\n", 2)
    assert other.advance_analysis(10.0, interrupt=lambda: False)  # nothing waits: in one go


def test_readable_tells_whether_a_pipe_has_input():
    import os

    from qvr_lsp.server import _readable

    read, write = os.pipe()
    with os.fdopen(read, "rb", buffering=0) as stream:
        waiting = _readable(stream)
        assert waiting is not None and not waiting()
        os.write(write, b"Content-Length: 2\r\n\r\n{}")
        assert waiting()
        stream.read(23)
        assert not waiting()
    os.close(write)


def test_a_message_is_answered_before_the_next_slice(monkeypatch, generated_module):
    """Reading, handling and answering a message takes a few turns of the event loop; the
    sliced analysis lets that many turns pass between its slices, so a request that comes in
    during a long analysis is answered before another slice runs (with one turn between
    slices it waited for several slices)."""
    import json

    ls, _, doc = _server_with(generated_module(3000))
    ls.documents.slice_pause_s = 0.0  # as when the server reads a pipe on its loop
    small = ls.documents.open("file:///small.qvr", "object A : FinSet 2\n", 1)
    assert small.analysis is not None
    slices = count_slices(monkeypatch)
    written = []

    class Writer:
        def write(self, data):
            written.append(len(slices))

        def close(self):
            pass

    ls.protocol.set_writer(Writer())
    hover = {"jsonrpc": "2.0", "id": 7, "method": "textDocument/hover", "params": {
        "textDocument": {"uri": "file:///small.qvr"}, "position": {"line": 0, "character": 8}}}

    async def scenario():
        warm = asyncio.ensure_future(ls.documents.ready(doc))
        while len(slices) < 3:
            await asyncio.sleep(0)
        before = len(slices)
        ls.protocol.handle_message(json.loads(json.dumps(hover), object_hook=ls.protocol.structure_message))
        while not written:
            await asyncio.sleep(0)
        assert not warm.done()
        warm.cancel()
        return before

    before = asyncio.run(scenario())
    assert URI not in slices[before:written[0]]  # the answer was written before another slice
