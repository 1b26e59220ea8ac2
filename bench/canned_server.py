"""A stand-in language server that does no work: the client's share of a keystroke.

Run: ``python bench/canned_server.py TEXT_FILE`` (`node_keystrokes.mjs --canned` starts it in
place of ``python -m qvr_lsp``). It computes, once at start, the JSON text of the diagnostics
the QVR server publishes for TEXT_FILE (the server's own conversion, `diagnostic_result`),
then speaks just enough LSP over stdio for the keystroke benchmark: it answers `initialize`,
`shutdown` and the semantic-token requests (with no tokens), and answers every `didOpen` and
`didChange` at once with a publishDiagnostics of those diagnostics for that version. The time
from a didChange to that message being parsed is then what the client, the pipe and the
operating system take for a message of that size; against the real server's figure, in the
same run, the difference is the server's work.
"""
from __future__ import annotations

import json
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "runtime"))


def published_diagnostics(text: str) -> bytes:
    """The JSON array of diagnostics the QVR server publishes for `text` (UTF-16 columns)."""
    from qvr_lsp.server import create_server

    server = create_server()
    doc = server.documents.open("file:///canned.qvr", text, 1)
    return server.diagnostic_result(doc)[1].json().encode("ascii")


def read_message(stream) -> dict | None:
    length = None
    while True:
        line = stream.readline()
        if not line:
            return None
        if line in (b"\r\n", b"\n"):
            break
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
    return json.loads(stream.read(length))


def write(stream, body: bytes) -> None:
    stream.write(b"Content-Length: %d\r\n\r\n" % len(body) + body)
    stream.flush()


def answer(mid, result) -> bytes:
    return json.dumps({"jsonrpc": "2.0", "id": mid, "result": result}).encode()


def serve(diagnostics: bytes) -> None:
    stdin, stdout = sys.stdin.buffer, sys.stdout.buffer
    while (message := read_message(stdin)) is not None:
        method, mid = message.get("method"), message.get("id")
        if method == "initialize":
            write(stdout, answer(mid, {"capabilities": {"textDocumentSync": 2}}))
        elif method in ("textDocument/didOpen", "textDocument/didChange"):
            document = message["params"]["textDocument"]
            write(stdout, b'{"jsonrpc":"2.0","method":"textDocument/publishDiagnostics","params":{"uri":'
                  + json.dumps(document["uri"]).encode() + b',"version":%d,"diagnostics":'
                  % document["version"] + diagnostics + b"}}")
        elif method == "textDocument/semanticTokens/full":
            write(stdout, answer(mid, {"resultId": "0", "data": []}))
        elif method == "textDocument/semanticTokens/full/delta":
            write(stdout, answer(mid, {"resultId": "0", "edits": []}))
        elif mid is not None:
            write(stdout, answer(mid, None))
        if method == "exit":
            return


if __name__ == "__main__":
    with open(sys.argv[1], encoding="utf-8") as f:
        serve(published_diagnostics(f.read()))
