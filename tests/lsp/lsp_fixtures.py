"""Shared helpers for the language-server tests: cursor-marker fixtures, sample files, and
`frame()` for tests that talk raw JSON-RPC to a server process.

A fixture text marks the cursor with `$0` (rust-analyzer style); `marked()` removes the marker
and returns the text and the code-point offset where it was. Several markers `$1`, `$2`, ...
can name extra positions.
"""
from __future__ import annotations

import json

import re
from pathlib import Path

from qvr_lsp.documents import DocumentStore

DATA = Path(__file__).parent / "data"
SAMPLES = {p.stem: p.read_text(encoding="utf-8") for p in sorted(DATA.glob("*.qvr"))}
MARKER = re.compile(r"\$(\d)")


def marked(text: str) -> tuple[str, dict[int, int]]:
    """Strip `$n` markers; return (text, {n: offset})."""
    out, offsets, last = [], {}, 0
    length = 0
    for m in MARKER.finditer(text):
        chunk = text[last:m.start()]
        out.append(chunk)
        length += len(chunk)
        offsets[int(m.group(1))] = length
        last = m.end()
    out.append(text[last:])
    return "".join(out), offsets


def open_doc(text: str, uri: str = "file:///tmp/test.qvr"):
    store = DocumentStore()
    return store.open(uri, text, 1)


def at_cursor(fixture: str):
    """(document, offset of `$0`) for a marker fixture."""
    text, offsets = marked(fixture)
    return open_doc(text), offsets[0]


def offset_of(text: str, needle: str, nth: int = 0, delta: int = 0) -> int:
    """Offset of the `nth` occurrence of `needle` in `text`, plus `delta`."""
    pos = -1
    for _ in range(nth + 1):
        pos = text.index(needle, pos + 1)
    return pos + delta


def frame(message: dict) -> bytes:
    """`message` as one LSP base-protocol frame (Content-Length header and JSON body)."""
    body = json.dumps(message).encode()
    return b"Content-Length: %d\r\n\r\n" % len(body) + body


# The run tests: the stand-in for `python -m qvr` (see its docstring) and the smallest program
# they start (a `# fake-worker: MODE` line in front chooses what the fake worker does).
FAKE_WORKER = Path(__file__).parent / "fixtures" / "fake_qvr_worker.py"
RUN_MODEL = """object Token : FinSet 4
morphism head : Token -> Token ~ Categorical
program lm : Token -> Token
    observe y : Token <- head
    return y
export lm
"""
