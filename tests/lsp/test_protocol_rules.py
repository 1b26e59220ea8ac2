"""The base protocol and LSP's lifecycle rules, spoken raw to `python -m qvr_lsp`.

Each test writes JSON-RPC frames by hand (including broken ones) and compares every answer
as a whole JSON object, and the exit status and stderr of the process: every request gets an
answer (a client must never wait forever), broken framing ends the server with status 1 and
one line on stderr instead of leaving it alive but deaf, `exit` ends it promptly, and refusals
log no tracebacks. Reads wait for the server's next message; the only timeouts are hang guards
(`raw_client.GUARD_S`).
"""
from __future__ import annotations

import json

import pytest
from raw_client import EXIT, INITIALIZE, SHUTDOWN, RawServer

pytestmark = pytest.mark.process  # every test starts a language server

HOVER = {"jsonrpc": "2.0", "id": 5, "method": "textDocument/hover",
         "params": {"textDocument": {"uri": "file:///nowhere.qvr"},
                    "position": {"line": 0, "character": 0}}}


@pytest.fixture
def server():
    raw = RawServer()
    yield raw
    raw.kill()


def error(msg_id, code: int, message: str) -> dict:
    return {"jsonrpc": "2.0", "id": msg_id, "error": {"code": code, "message": message}}


def end_cleanly(server: RawServer) -> tuple[int, str]:
    server.send(SHUTDOWN)
    assert server.response(99) == {"jsonrpc": "2.0", "id": 99, "result": None}
    server.send(EXIT)
    return server.wait()


# ------------------------------------------------------------------------------ params ----
def test_invalid_params_are_answered_with_invalid_params_and_no_traceback(server):
    server.initialize()
    server.send({**HOVER, "id": 2, "params": {"textDocument": {"uri": "file:///a.qvr"}}},
                {**HOVER, "id": 3, "params": {"textDocument": {"uri": "file:///a.qvr"},
                                              "position": {"line": "one", "character": 0}}},
                {**HOVER, "id": 4, "params": None})
    assert server.response(2) == error(2, -32602, "invalid params for textDocument/hover: "
                                                  "params.position: required field missing")
    assert server.response(3) == error(3, -32602, "invalid params for textDocument/hover: "
                                                  "params.position.line: invalid value for type, "
                                                  "expected int")
    assert server.response(4) == error(4, -32602, "invalid params for textDocument/hover: "
                                                  "params: invalid value for type, expected "
                                                  "HoverParams")
    server.send(HOVER)  # and the server carries on
    assert server.response(5) == {"jsonrpc": "2.0", "id": 5, "result": None}
    assert server.notifications == []  # no window/showMessage instead of the answer
    status, stderr = end_cleanly(server)
    assert status == 0
    assert "Traceback" not in stderr, stderr
    assert stderr.splitlines() == [
        "WARNING:qvr_lsp:answered InvalidParams: invalid params for textDocument/hover: "
        "params.position: required field missing",
        "WARNING:qvr_lsp:answered InvalidParams: invalid params for textDocument/hover: "
        "params.position.line: invalid value for type, expected int",
        "WARNING:qvr_lsp:answered InvalidParams: invalid params for textDocument/hover: "
        "params: invalid value for type, expected HoverParams"]


# --------------------------------------------------------------------------- lifecycle ----
def test_requests_before_initialize_and_a_second_initialize_are_refused(server):
    server.send(HOVER)
    assert server.response(5) == error(5, -32002, "textDocument/hover: the server is not "
                                                  "initialized yet (send initialize first)")
    assert "capabilities" in server.initialize()["result"]
    server.send({**INITIALIZE, "id": 7})
    assert server.response(7) == error(7, -32600, "initialize was already received: a server "
                                                  "is initialized once")
    server.send(HOVER)
    assert server.response(5) == {"jsonrpc": "2.0", "id": 5, "result": None}
    status, stderr = end_cleanly(server)
    assert (status, stderr.splitlines()) == (0, [
        "WARNING:qvr_lsp:answered InvalidRequest: initialize was already received: a server is "
        "initialized once"])


def test_requests_after_shutdown_are_refused(server):
    server.initialize()
    server.send(SHUTDOWN)
    assert server.response(99) == {"jsonrpc": "2.0", "id": 99, "result": None}
    server.send(HOVER)
    assert server.response(5) == error(5, -32600, "textDocument/hover: the server is shutting "
                                                  "down; only exit is accepted")
    server.send(EXIT)
    assert server.wait()[0] == 0


# ----------------------------------------------------------------------------- framing ----
def test_a_correctly_framed_body_that_is_not_json_gets_parse_error_and_the_server_goes_on(server):
    server.initialize()
    server.write(b"Content-Length: 9\r\n\r\n{not json")
    assert server.response(None) == error(None, -32700, "Parse error: the message body is not JSON")
    server.write(b"Content-Length: 2\r\n\r\n\xff\xfe")
    assert server.response(None) == error(None, -32700, "Parse error: the message body is not UTF-8")
    server.send([HOVER])  # JSON, but a batch: LSP has none
    assert server.response(None) == error(None, -32600, "a JSON-RPC message must be an object "
                                                        "(LSP has no batches)")
    server.send(HOVER)
    assert server.response(5) == {"jsonrpc": "2.0", "id": 5, "result": None}
    status, stderr = end_cleanly(server)
    assert status == 0 and "Traceback" not in stderr


def broken(server: RawServer) -> list[str]:
    """stderr of a server that must exit with status 1 by itself (its stdin still open)."""
    status, stderr = server.wait()
    assert status == 1, stderr
    return stderr.splitlines()


def test_a_content_length_too_large_that_runs_into_the_next_message_ends_the_server(server):
    server.initialize()
    body = json.dumps(HOVER).encode()
    # 400 bytes announced, the hover is shorter: the next request's frame fills the rest
    server.write(b"Content-Length: 400\r\n\r\n" + body)
    server.send(*({**HOVER, "id": n} for n in range(10, 15)))
    assert server.message() is None  # not a word more: no guess at where a message starts
    assert broken(server) == [
        "ERROR:qvr_lsp:broken message framing, exiting: a message of 400 bytes (its "
        "Content-Length) runs into the next message's header; the Content-Length was wrong"]


def test_input_that_ends_inside_a_message_ends_the_server_with_status_1(server):
    server.initialize()
    body = json.dumps(HOVER).encode()
    server.write(b"Content-Length: 400\r\n\r\n" + body)
    server.close_input()
    assert broken(server) == [
        f"ERROR:qvr_lsp:broken message framing, exiting: the input ended {len(body)} bytes "
        "into a message of 400 bytes"]


@pytest.mark.parametrize("garbage, why", [
    (b"GET / HTTP/1.1\r\n\r\n", "not a message header: b'GET / HTTP/1.1'"),
    (b"Content-Type: application/vscode-jsonrpc\r\n\r\n{}",
     "a message header without Content-Length"),
    (b"Content-Length: -4\r\n\r\n{}", "not a usable Content-Length: b'-4'"),
    (b"Content-Length: 2\r\nContent-Length: 3\r\n\r\n{}",
     "a message header with two different Content-Lengths"),
])
def test_a_header_block_that_is_garbage_ends_the_server_with_one_line(server, garbage, why):
    server.initialize()
    server.write(garbage)
    server.send(HOVER)
    assert server.message() is None
    assert broken(server) == [f"ERROR:qvr_lsp:broken message framing, exiting: {why}"]


def test_a_content_length_too_small_is_a_parse_error_then_the_end(server):
    server.initialize()
    body = json.dumps(HOVER).encode()
    server.write(b"Content-Length: 20\r\n\r\n" + body)
    server.send({**HOVER, "id": 6})
    assert server.response(None) == error(None, -32700, "Parse error: the message body is not JSON")
    assert server.message() is None
    rest = body[20:80]
    assert broken(server) == [
        "WARNING:qvr_lsp:a message of 20 bytes is not JSON; answered ParseError",
        f"ERROR:qvr_lsp:broken message framing, exiting: not a message header: {rest!r}..."]


# -------------------------------------------------------------------------------- exit ----
def test_exit_right_behind_shutdown_with_stdin_open_exits_at_once_with_0(server):
    server.initialize()
    server.send(SHUTDOWN, EXIT)  # one write, and stdin stays open
    assert server.response(99) == {"jsonrpc": "2.0", "id": 99, "result": None}
    assert server.wait() == (0, "")


def test_exit_without_shutdown_with_stdin_open_exits_with_1(server):
    server.initialize()
    server.send(EXIT)
    assert server.wait() == (1, "")


# The outline of every document is made in the worker thread, where it never ends; the
# worker says so in a log message first (sent from the event loop).
HELD_OUTLINE = """
import asyncio, threading
from lsprotocol import types
from qvr_lsp import scheduling

never = threading.Event()

async def answer_in_worker(ls, doc, make):
    loop = asyncio.get_running_loop()

    def held():
        loop.call_soon_threadsafe(ls.window_log_message, types.LogMessageParams(
            type=types.MessageType.Info, message="outline held"))
        never.wait()

    return await scheduling.in_worker(held)

scheduling.answer_in_worker = answer_in_worker  # before the handlers import it
from qvr_lsp.__main__ import main
main([])
"""


def test_exit_does_not_wait_for_an_answer_being_made_in_the_worker():
    server = RawServer(code=HELD_OUTLINE)
    try:
        server.initialize()
        uri = "file:///outline.qvr"
        server.send({"jsonrpc": "2.0", "method": "textDocument/didOpen", "params": {"textDocument": {
            "uri": uri, "languageId": "qvr", "version": 1, "text": "object Token : FinSet 4\n"}}})
        server.send({"jsonrpc": "2.0", "id": 2, "method": "textDocument/documentSymbol",
                     "params": {"textDocument": {"uri": uri}}})
        while (message := server.message()).get("method") != "window/logMessage":
            assert message["method"] == "textDocument/publishDiagnostics", message
        assert message["params"] == {"type": 3, "message": "outline held"}
        server.send(SHUTDOWN, EXIT)
        answers = sorted((server.message(), server.message()), key=lambda m: m["id"])
        assert answers == [error(2, -32800, 'Request with id "2" is canceled'),  # by shutdown
                           {"jsonrpc": "2.0", "id": 99, "result": None}]
        assert server.wait() == (0, "")
    finally:
        server.kill()


# ------------------------------------------------------------------------------ refusals ----
def test_a_refused_rename_is_an_error_answer_without_a_traceback(server):
    server.initialize()
    uri = "file:///rename.qvr"
    server.send({"jsonrpc": "2.0", "method": "textDocument/didOpen", "params": {"textDocument": {
        "uri": uri, "languageId": "qvr", "version": 1, "text": "object Token : FinSet 4\n"}}})
    server.send({"jsonrpc": "2.0", "id": 8, "method": "textDocument/rename", "params": {
        "textDocument": {"uri": uri}, "position": {"line": 0, "character": 8},
        "newName": "program"}})
    assert server.response(8) == error(8, -32803, "`program` is a reserved word and cannot be "
                                                  "used as a name")
    assert [n["method"] for n in server.notifications] == ["textDocument/publishDiagnostics"]
    assert end_cleanly(server) == (0, "")
