"""``qvr/entryAt``: which entry a run command runs for a cursor, one rule for every client.

The feature function (`qvr_lsp.features.entry_at`) on documents with several programs,
defines with where-bindings and exports; then the request spoken raw to `python -m qvr_lsp`,
answers compared whole: an entry with its ranges and run commands, null where there is no
single answer, InvalidParams for params that are not ``{textDocument, position}``.
"""
from __future__ import annotations

import pytest
from lsp_fixtures import marked, offset_of, open_doc
from raw_client import RawServer

from qvr.syntax.span import Span
from qvr_lsp.features.entry_at import Entry, entry_at

HEADER = """object X : Real 2
object Z : Real 3
object Y : Real 1
morphism enc : X -> Z [scale=0.5] ~ Normal
morphism dec : Z -> Y [scale=0.3] ~ Normal
"""

TWO_PROGRAMS = HEADER + """program first : X -> Y
    sample z <- enc
    observe y : Y <- dec(z)
    return y
program second : X -> Y
    sample z <- enc
    observe y : Y <- dec(z)
    return y
define model = inner
    where
        define inner = second
"""

RUNS = ("qvr.run.svi", "qvr.run.sample", "qvr.run.nuts")


def span_of(text: str, start: str, end: str) -> Span:
    """From the first `start` to the end of the first `end` after it."""
    a = text.index(start)
    return Span(a, text.index(end, a) + len(end))


def name_span(text: str, decl: str, name: str) -> Span:
    a = text.index(decl) + decl.index(name)
    return Span(a, a + len(name))


def at(text: str, needle: str, delta: int = 0):
    doc = open_doc(text)
    return entry_at(doc.analysis, offset_of(text, needle, delta=delta))


def test_the_program_or_define_around_the_cursor():
    text = TWO_PROGRAMS
    first = Entry("first", "program", span_of(text, "program first", "return y"),
                  name_span(text, "program first", "first"), "cursor", RUNS)
    assert at(text, "program first") == first
    assert at(text, "sample z") == first
    assert at(text, "return y", 8) == first  # the end of the return pattern is still in it
    assert at(text, "program second", 3).name == "second"
    model = at(text, "define model")
    assert (model.name, model.kind, model.reason) == ("model", "define", "cursor")
    # a where-binding runs its owner
    assert at(text, "define inner", 8) == model


def test_outside_every_entry_the_export_else_the_only_program_else_nothing():
    assert at(TWO_PROGRAMS, "object Z") is None  # two programs, no export: no single answer
    exported = TWO_PROGRAMS + "export second\n"
    found = at(exported, "object Z")
    assert (found.name, found.kind, found.reason, found.span) == (
        "second", "program", "export", span_of(exported, "program second", "return y"))
    only = HEADER + "program lone : X -> Y\n    sample z <- enc\n    return z\n"
    found = at(only, "object X")
    assert (found.name, found.kind, found.reason) == ("lone", "program", "only program")


def test_a_composite_export_is_no_entry():
    text = HEADER + "morphism more : Y -> Y\n" + TWO_PROGRAMS[len(HEADER):] + \
        "export first >> more\n"
    assert at(text, "object X") is None


def test_no_analysis_no_entry():
    assert entry_at(None, 0) is None


# ------------------------------------------------------------------------- protocol ----
@pytest.fixture
def server():
    raw = RawServer()
    yield raw
    raw.kill()


def position(text: str, offset: int) -> dict:
    line = text.count("\n", 0, offset)
    return {"line": line, "character": offset - (text.rfind("\n", 0, offset) + 1)}


def lsp_range(text: str, span: Span) -> dict:
    return {"start": position(text, span.start), "end": position(text, span.end)}


@pytest.mark.process
def test_entry_at_over_the_protocol(server):
    fixture = TWO_PROGRAMS.replace("observe y : Y <- dec(z)\n    return y\nprogram second",
                                   "observe y : Y <- d$0ec(z)\n    return y\nprogram second")
    text, offsets = marked(fixture + "# $1 a comment after everything\n")
    uri = "file:///tmp/entry_at.qvr"
    server.initialize()
    server.send({"jsonrpc": "2.0", "method": "textDocument/didOpen",
                 "params": {"textDocument": {"uri": uri, "languageId": "qvr", "version": 1,
                                             "text": text}}})

    def ask(msg_id, params):
        server.send({"jsonrpc": "2.0", "id": msg_id, "method": "qvr/entryAt", "params": params})
        return server.response(msg_id)

    answer = ask(2, {"textDocument": {"uri": uri}, "position": position(text, offsets[0])})
    assert answer == {"jsonrpc": "2.0", "id": 2, "result": {
        "name": "first", "kind": "program",
        "range": lsp_range(text, span_of(text, "program first", "return y")),
        "selectionRange": lsp_range(text, name_span(text, "program first", "first")),
        "reason": "cursor", "commands": list(RUNS)}}
    # after everything, in a file with two programs and no export: no single answer
    assert ask(3, {"textDocument": {"uri": uri}, "position": position(text, offsets[1])}) == {
        "jsonrpc": "2.0", "id": 3, "result": None}
    # a document the server does not have
    assert ask(4, {"textDocument": {"uri": "file:///nowhere.qvr"},
                   "position": {"line": 0, "character": 0}}) == {
        "jsonrpc": "2.0", "id": 4, "result": None}
    assert ask(5, {"textDocument": {"uri": uri}}) == {"jsonrpc": "2.0", "id": 5, "error": {
        "code": -32602,
        "message": "invalid params for qvr/entryAt: params.position: required field missing"}}
