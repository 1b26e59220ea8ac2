"""Server pieces that need no client: the idle garbage collector (and the absence of reference
cycles it relies on), the publish scheduling, and a change the store fails to apply."""
from __future__ import annotations

import asyncio
import gc
import json

import pytest
from lsprotocol import types as lsp

from qvr_lsp import scheduling
from qvr_lsp.server import IdleCollector, create_server

from expect import expect
from lsp_fixtures import frame, render_protocol


def test_idle_collector_collects_after_a_pause_or_too_many_changes():
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        collector = IdleCollector(idle_s=0.01, max_changes=3)
        calls = []
        collector.collect = lambda: calls.append("collect")  # observe, do not really collect

        async def scenario():
            collected = asyncio.get_running_loop().create_future()
            collector.collect = lambda: (calls.append("collect"), collected.set_result(None))
            collector.touch()
            assert calls == []  # not at once ...
            await asyncio.wait_for(collected, 30)  # (a hang guard)
            assert calls == ["collect"]  # ... but after a pause

        asyncio.run(scenario())
        collector.collect = lambda: calls.append("collect")
        calls.clear()
        collector._changes = 0
        for _ in range(3):
            collector.touch()  # outside a loop: collects at once once max_changes is reached
        assert "collect" in calls
    finally:
        if was_enabled:
            gc.enable()


@pytest.mark.parametrize("characters, calls", [
    (200_000, ["collect", "freeze"]),
    (scheduling.MAX_SCAN_CHARACTERS + 1, ["freeze"]),
], ids=["a file of 5,000 lines open", "a file of megabytes open"])
def test_a_collection_freezes_what_survives_and_skips_the_scan_while_big_files_are_open(
        monkeypatch, characters, calls):
    """Each idle collection freezes what survives it, so the next one scans only what was made
    since; while the open documents hold more than `MAX_SCAN_CHARACTERS`, there is no scan
    (seconds with the server frozen), only the freeze."""
    made = []
    monkeypatch.setattr(gc, "collect", lambda *args: made.append("collect") or 0)
    monkeypatch.setattr(gc, "freeze", lambda: made.append("freeze"))
    server = create_server()
    server.documents.open("file:///a.qvr", "#" * (characters // 2), 1)
    server.documents.open("file:///b.qvr", "#" * (characters - characters // 2), 1)
    server.idle_gc.collect()
    assert made == calls


def test_stale_publish_is_dropped():
    server = create_server()
    sent = []
    server.text_document_publish_diagnostics = lambda params: sent.append(params)
    old = server.documents.open("file:///a.qvr", "object A : FinSet 2\n", 1)
    new = server.documents.open("file:///a.qvr", "object A : FinSet 3\n", 2)
    server.publish(old)
    assert sent == []
    server.publish(new)
    assert [p.version for p in sent] == [2]


def test_debounce_is_zero_unless_configured(monkeypatch):
    monkeypatch.delenv("QVR_LSP_DEBOUNCE_MS", raising=False)
    assert create_server().debounce_for("file:///a.qvr") == 0.0
    monkeypatch.setenv("QVR_LSP_DEBOUNCE_MS", "7")
    assert create_server().debounce_for("file:///a.qvr") == 0.007


@pytest.mark.process
def test_stdin_is_read_on_the_loop_only_when_it_is_a_pipe(tmp_path):
    import os
    import subprocess
    import sys

    from qvr_lsp.server import _is_pipe

    read, write = os.pipe()
    with os.fdopen(read, "rb") as pipe, open(tmp_path / "f", "wb+") as regular:
        assert _is_pipe(pipe) is True
        assert _is_pipe(regular) is False
    os.close(write)
    import socket

    one, other = socket.socketpair()  # what node and libuv connect a child's stdio with
    with one, other:
        assert _is_pipe(one) is True
    assert _is_pipe(object()) is False  # no file descriptor at all
    # a regular file on stdin goes to pygls' own reader, and the server still answers
    body = b'{"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {"processId": null, "capabilities": {}}}'
    exit_ = b'{"jsonrpc": "2.0", "method": "exit"}'
    (tmp_path / "in").write_bytes(b"".join(b"Content-Length: %d\r\n\r\n%s" % (len(m), m) for m in (body, exit_)))
    with open(tmp_path / "in", "rb") as stdin:
        out = subprocess.run([sys.executable, "-m", "qvr_lsp"], stdin=stdin, capture_output=True, timeout=120)
    assert b'"capabilities"' in out.stdout, out.stderr.decode()


@pytest.mark.process
def test_the_server_talks_over_a_socketpair_as_node_and_libuv_give_one():
    """VS Code (node) and Neovim (libuv) connect a server's stdio with a socketpair, not a FIFO:
    that too is read on the event loop."""
    import json
    import socket
    import subprocess
    import sys

    ours, theirs = socket.socketpair()
    server = subprocess.Popen([sys.executable, "-m", "qvr_lsp"], stdin=theirs.fileno(),
                              stdout=theirs.fileno(), stderr=subprocess.PIPE)
    theirs.close()
    stream = ours.makefile("rwb")

    def send(message: dict) -> None:
        body = json.dumps(message).encode()
        stream.write(b"Content-Length: %d\r\n\r\n%s" % (len(body), body))
        stream.flush()

    def receive() -> dict:
        length = 0
        while (line := stream.readline().strip()):
            if line.lower().startswith(b"content-length:"):
                length = int(line.split(b":")[1])
        return json.loads(stream.read(length))

    try:
        send({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {"processId": None, "capabilities": {}}})
        assert "capabilities" in receive()["result"]
        send({"jsonrpc": "2.0", "method": "initialized", "params": {}})
        send({"jsonrpc": "2.0", "method": "textDocument/didOpen", "params": {"textDocument": {
            "uri": "file:///s.qvr", "languageId": "qvr", "version": 1, "text": "object A : : FinSet 2\n"}}})
        published = receive()
        assert published["method"] == "textDocument/publishDiagnostics"
        expect("""
            {"code": "QVR055", "message": "no `export`; `qvr.load` cannot run this module", "range": "1:1-1:1", "severity": 3, "source": "qvr"}
            {"code": "QVR002", "message": "syntax error: expected a type in object `A`, found `:`", "range": "1:12-1:13", "severity": 1, "source": "qvr"}
        """).assert_eq(render_protocol(published["params"]["diagnostics"], unordered=True))
        send({"jsonrpc": "2.0", "id": 2, "method": "shutdown"})
        assert receive()["id"] == 2
        send({"jsonrpc": "2.0", "method": "exit"})
        assert server.wait(timeout=60) == 0
    finally:
        if server.poll() is None:
            server.kill()
        stream.close()
        ours.close()


def _answers(stdout: bytes) -> list[dict]:
    import json

    found = []
    while stdout:
        header, _, rest = stdout.partition(b"\r\n\r\n")
        length = int(header.lower().split(b"content-length:")[1].split(b"\r\n")[0])
        found.append(json.loads(rest[:length]))
        stdout = rest[length:]
    return found


def _talk(*messages: dict) -> tuple[int, list[dict], str]:
    """Send `messages` to `python -m qvr_lsp` in one write, close its stdin; (exit code,
    everything it sent, its stderr)."""
    import subprocess
    import sys

    init = [{"jsonrpc": "2.0", "id": 1, "method": "initialize",
             "params": {"processId": None, "capabilities": {}}},
            {"jsonrpc": "2.0", "method": "initialized", "params": {}}]
    server = subprocess.Popen([sys.executable, "-m", "qvr_lsp"], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    out, err = server.communicate(b"".join(frame(m) for m in init + list(messages)), timeout=60)
    return server.returncode, _answers(out), err.decode(errors="replace")


@pytest.mark.process
def test_exit_right_behind_shutdown_still_gets_the_answer_and_code_0():
    # Not every client waits for the answer to `shutdown` before sending `exit`. The answer
    # used to be written after the exit, to a closed output, and each failed write was
    # reported by writing again: 190,000 lines of tracebacks, and exit code 1.
    code, answers, err = _talk({"jsonrpc": "2.0", "id": 2, "method": "shutdown"},
                               {"jsonrpc": "2.0", "method": "exit"})
    assert [a for a in answers if a.get("id") == 2] == [{"jsonrpc": "2.0", "id": 2, "result": None}]
    assert code == 0
    assert "Traceback" not in err, err[:2000]


@pytest.mark.process
def test_exit_without_shutdown_exits_with_code_1():
    code, _, err = _talk({"jsonrpc": "2.0", "method": "exit"})  # LSP: 1 without a shutdown
    assert code == 1
    assert "Traceback" not in err, err[:2000]


def test_a_closed_output_is_not_reported_by_writing_to_it_again():
    from lsprotocol import types as lsp

    server = create_server()
    writes = []

    class ClosedWriter:
        def write(self, data):
            writes.append(data)
            raise ValueError("I/O operation on closed file.")

        def close(self):
            pass

    server.protocol.set_writer(ClosedWriter())
    server.window_log_message(lsp.LogMessageParams(type=lsp.MessageType.Info, message="hello"))
    assert len(writes) == 1  # the message itself, not a window/showMessage about the failure

    class BrokenWriter(ClosedWriter):
        def write(self, data):
            writes.append(data)
            raise RuntimeError("the transport broke")

    writes.clear()
    server.protocol.set_writer(BrokenWriter())
    server.window_log_message(lsp.LogMessageParams(type=lsp.MessageType.Info, message="hello"))
    # another failure is shown to the user once, and that report's own failure is not reported
    assert len(writes) == 2 and b"window/showMessage" in writes[1]


class InProcess:
    """A server driven in this process: each message goes in through `receive` (in order, no
    transport), and what the server writes is kept (`answered`: response ids; `published`:
    the versions of publishDiagnostics, in order)."""

    def __init__(self) -> None:
        self.server = create_server()
        self.server.protocol.writer = self
        self.answered: set = set()
        self.published: list = []

    def write(self, data: bytes) -> None:
        message = json.loads(data)
        if "id" in message:
            self.answered.add(message["id"])
        elif message.get("method") == "textDocument/publishDiagnostics":
            self.published.append(message["params"]["version"])

    def close(self) -> None:
        pass

    def send(self, method: str, params: dict, msg_id=None) -> None:
        message = {"jsonrpc": "2.0", "method": method, "params": params}
        if msg_id is not None:
            message["id"] = msg_id
        self.server.protocol.receive(json.dumps(message).encode())

    def initialize(self) -> None:
        self.send("initialize", {"processId": None, "rootUri": None, "capabilities": {}}, 1)
        self.send("initialized", {})

    def change(self, uri: str, version: int, start: tuple, end: tuple, text: str) -> None:
        self.send("textDocument/didChange", {
            "textDocument": {"uri": uri, "version": version},
            "contentChanges": [{"range": {"start": {"line": start[0], "character": start[1]},
                                          "end": {"line": end[0], "character": end[1]}},
                                "text": text}]})


def test_a_change_the_store_fails_to_apply_is_applied_by_pygls_and_the_text_survives(monkeypatch):
    """When `DocumentStore.change` raises, the changes are applied to the last version's text by
    pygls' own code and the document starts afresh from that text; later changes apply as
    usual."""
    client = InProcess()
    server, uri = client.server, "file:///broken_change.qvr"
    client.initialize()
    client.send("textDocument/didOpen", {"textDocument": {
        "uri": uri, "languageId": "qvr", "version": 1,
        "text": "#! 𝛼 model\nobject A : FinSet 2\nobject B : FinSet 3\n"}})
    real_change = server.documents.change

    def failing(*args, **kwargs):
        raise RuntimeError("a fault in applying changes")

    monkeypatch.setattr(server.documents, "change", failing)
    client.change(uri, 2, (0, 6), (0, 11), "lstm")  # UTF-16 columns: the 𝛼 counts two
    doc = server.documents.get(uri)
    assert (doc.version, doc.text) == (
        2, "#! 𝛼 lstm\nobject A : FinSet 2\nobject B : FinSet 3\n")
    monkeypatch.setattr(server.documents, "change", real_change)
    client.change(uri, 3, (2, 18), (2, 19), "4")
    doc = server.documents.get(uri)
    assert (doc.version, doc.text) == (
        3, "#! 𝛼 lstm\nobject A : FinSet 2\nobject B : FinSet 4\n")
    assert client.published == [1, 2, 3]


def test_typing_and_requests_make_no_reference_cycles(generated_module):
    """What the idle collector relies on when it freezes the heap of a big file unscanned:
    keystrokes, their diagnostics, hovers and semantic tokens leave no garbage that only the
    cyclic collector could free."""
    text = generated_module(300)
    lines = text.split("\n")
    comment = next(i for i, s in enumerate(lines) if s.startswith("#!"))
    morphism = next(i for i, s in enumerate(lines) if s.startswith("morphism "))
    hover = {"line": morphism, "character": 10}
    uri = "file:///cycles.qvr"

    async def until(seen, what) -> None:
        for _ in range(1_000_000):  # (a hang guard, not a time limit)
            if what in seen:
                return
            await asyncio.sleep(0)
        raise AssertionError(f"no answer for {what}")

    async def scenario() -> int:
        client = InProcess()
        client.initialize()
        client.send("textDocument/didOpen", {"textDocument": {"uri": uri, "languageId": "qvr",
                                                              "version": 1, "text": text}})
        await until(client.published, 1)
        client.send("textDocument/hover", {"textDocument": {"uri": uri}, "position": hover}, 2)
        await until(client.answered, 2)
        gc.collect()
        gc.freeze()
        for version in range(2, 22):
            typed = version % 2 == 0
            client.change(uri, version, (comment, 3), (comment, 3 if typed else 4),
                          "x" if typed else "")
            await until(client.published, version)
            client.send("textDocument/hover", {"textDocument": {"uri": uri}, "position": hover},
                        100 + version)
            await until(client.answered, 100 + version)
            client.send("textDocument/semanticTokens/full", {"textDocument": {"uri": uri}},
                        200 + version)
            await until(client.answered, 200 + version)
        return gc.collect()

    was_enabled = gc.isenabled()
    gc.disable()
    try:
        assert asyncio.run(scenario()) == 0
    finally:
        gc.unfreeze()
        if was_enabled:
            gc.enable()


def _held_worker(monkeypatch):
    """Keep the worker thread busy until `release()` is awaited; `queued` is set once the next
    job has been handed to it (and waits behind the busy one). Call inside the event loop."""
    import threading

    real_in_worker = scheduling.in_worker
    hold = threading.Event()
    queued = asyncio.Event()

    def in_worker(fn):
        queued.set()
        return real_in_worker(fn)

    monkeypatch.setattr(scheduling, "in_worker", in_worker)
    busy = asyncio.ensure_future(real_in_worker(lambda: hold.wait(60)))

    async def release():
        hold.set()
        await busy

    return queued, release


@pytest.mark.parametrize("method", ["textDocument/documentSymbol", "textDocument/codeLens",
                                    "textDocument/formatting"])
def test_a_whole_document_answer_queued_in_the_worker_is_dropped_once_the_document_changed(
        monkeypatch, method):
    """Document symbols, code lenses, formatting and the like are made in one worker thread,
    one at a time.
    A request that waited there behind another while its document changed is answered
    ContentModified (the editor asks again for the new version), not made for a text nobody
    shows."""
    from qvr_lsp.protocol import ContentModified

    async def scenario():
        queued, release = _held_worker(monkeypatch)
        server, uri = create_server(), "file:///queued.qvr"
        server.documents.open(uri, "object A : FinSet 2\nprogram p : A -> A\n    return x\n", 1)
        answer = server.protocol.fm.features[method]  # (as registered, with the server bound)
        document = lsp.TextDocumentIdentifier(uri=uri)
        params = {"textDocument/documentSymbol": lsp.DocumentSymbolParams(text_document=document),
                  "textDocument/codeLens": lsp.CodeLensParams(text_document=document),
                  "textDocument/formatting": lsp.DocumentFormattingParams(
                      text_document=document, options=lsp.FormattingOptions(tab_size=4, insert_spaces=True)),
                  }[method]
        asked = asyncio.ensure_future(answer(params))
        await asyncio.wait_for(queued.wait(), 60)  # the request waits behind the busy job
        server.documents.open(uri, "object   B : FinSet 2\nprogram q : B -> B\n    return y\n", 2)
        await release()
        with pytest.raises(ContentModified):
            await asked
        fresh = await answer(params)  # the new version's, made as usual
        if method == "textDocument/formatting":  # (no JSON made in the worker: a few edits)
            assert [(e.range.start.character, e.range.end.character, e.new_text) for e in fresh] == [
                (7, 9, "")]  # `object   B` made `object B`
            return
        assert ('"B"' if method == "textDocument/documentSymbol" else '"q"') in fresh.json
        assert '"p"' not in fresh.json

    asyncio.run(scenario())


def test_a_migration_made_while_its_document_changed_is_not_applied(monkeypatch):
    """The migration command makes its edit in the worker thread (an analysis per round);
    an edit made for a text the client no longer has is not sent."""
    from qvr_lsp.handlers import MIGRATE_COMMAND

    classic = "object Token : 4\nexport Token\n"

    async def scenario():
        queued, release = _held_worker(monkeypatch)
        server, uri = create_server(), "file:///classic.qvr"
        sent = []
        monkeypatch.setattr(server, "workspace_apply_edit", sent.append)
        server.documents.open(uri, classic, 1)
        migrate = server.protocol.fm.commands[MIGRATE_COMMAND]
        asked = asyncio.ensure_future(migrate([{"uri": uri}]))
        await asyncio.wait_for(queued.wait(), 60)  # the migration waits behind the busy job
        server.documents.open(uri, classic.replace("Token", "Word"), 2)
        await release()
        assert await asked == {"applied": False,
                               "message": "the document changed meanwhile; migrate it again"}
        assert sent == []
        assert await migrate([{"uri": uri}]) == {"applied": True}  # the new version's
        edits = sent[0].edit.changes[uri]  # (the minimal edit: `: 4` becomes `: FinSet 4`)
        assert [(e.range.start.character, e.range.end.character, e.new_text) for e in edits] == [
            (14, 14, "FinSet ")]

    asyncio.run(scenario())
