"""Diagnostics pulled (LSP 3.17 textDocument/diagnostic) or pushed, over stdio against the real
server: a client that can pull is offered the request and gets no pushes; one that cannot
gets publishDiagnostics and no offer. Pulled results carry a result id and are `unchanged` while
the diagnostics are those the client has; run failures are in them too."""
from __future__ import annotations

import asyncio
import os
import sys

import pytest
import pytest_lsp
from lsprotocol import types as lsp
from pytest_lsp import ClientServerConfig, LanguageClient

from qvr.semantics import analyze
from qvr.syntax.span import LineIndex
from qvr_lsp import convert
from qvr_lsp.features.diagnostics import document_diagnostics
from qvr_lsp.positions import PositionEncoder

pytestmark = [pytest.mark.asyncio(loop_scope="module"), pytest.mark.process]

# a deprecation hint on several lines, and an unknown name (an error) in a program
TEXT = """object Token : 256
type Hidden = Euclidean 4
continuous f : Token -> Hidden ~ Normal
program p(x) : Token -> Hidden
    draw z ~ f(x)
    return zz
"""
PULL = lsp.ClientCapabilities(
    text_document=lsp.TextDocumentClientCapabilities(diagnostic=lsp.DiagnosticClientCapabilities()),
    general=lsp.GeneralClientCapabilities(position_encodings=["utf-16"]),
)
PUSH = lsp.ClientCapabilities(general=lsp.GeneralClientCapabilities(position_encodings=["utf-16"]))


def recording_client() -> LanguageClient:
    """pytest-lsp's client, with `client.published` (every publishDiagnostics, in order) and
    `client.changed` (an event set at each)."""
    from pygls.protocol import default_converter
    from pytest_lsp.client import DEFAULT_CLIENT_FEATURES, register_lsp_features

    client = LanguageClient(converter_factory=default_converter)
    client.published, client.changed = [], asyncio.Event()
    default = DEFAULT_CLIENT_FEATURES[lsp.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS]

    def publish(client: LanguageClient, params: lsp.PublishDiagnosticsParams):
        client.published.append(params)
        client.changed.set()
        default(client, params)

    register_lsp_features(client, {**DEFAULT_CLIENT_FEATURES, lsp.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS: publish})
    return client


SERVER = ClientServerConfig(server_command=[sys.executable, "-m", "qvr_lsp"], server_env=dict(os.environ),
                            client_factory=recording_client)


@pytest_lsp.fixture(config=SERVER, params=["pull", "push"], scope="module")
async def client(lsp_client: LanguageClient, request):
    result = await lsp_client.initialize_session(lsp.InitializeParams(capabilities=PULL if request.param == "pull" else PUSH))
    lsp_client.mode = request.param
    lsp_client.offered = result.capabilities.diagnostic_provider
    yield
    await lsp_client.shutdown_session()


def expected(text: str, uri: str) -> list[lsp.Diagnostic]:
    """The whole output the server must give for `text`: the checker's diagnostics converted
    one by one, in UTF-16."""

    class Doc:
        pass

    doc = Doc()
    doc.uri, doc.text, doc.line_index, doc.diagnostics = uri, text, LineIndex(text), analyze(text).diagnostics
    return [convert.diagnostic(PositionEncoder("utf-16"), doc, d) for d in document_diagnostics(doc)]


def plain(value):
    """`value` as the JSON it travels as (lists and tuples alike), for whole-output comparisons."""
    import json

    from pygls.protocol import default_converter

    return json.loads(json.dumps(default_converter().unstructure(value)))


async def published(client: LanguageClient, uri: str, version: int) -> list[lsp.Diagnostic]:
    while True:
        for params in client.published:
            if params.uri == uri and params.version == version:
                return list(params.diagnostics)
        client.changed.clear()
        await client.changed.wait()


def open_doc(client: LanguageClient, uri: str, text: str) -> None:
    client.text_document_did_open(lsp.DidOpenTextDocumentParams(
        text_document=lsp.TextDocumentItem(uri=uri, language_id="qvr", version=1, text=text)))


def edit(client: LanguageClient, uri: str, version: int, line: int, col: int, end: int, new: str) -> None:
    client.text_document_did_change(lsp.DidChangeTextDocumentParams(
        text_document=lsp.VersionedTextDocumentIdentifier(uri=uri, version=version),
        content_changes=[lsp.TextDocumentContentChangePartial(
            range=lsp.Range(start=lsp.Position(line=line, character=col), end=lsp.Position(line=line, character=end)), text=new)]))


async def pull(client: LanguageClient, uri: str, previous: str | None = None):
    return await client.text_document_diagnostic_async(lsp.DocumentDiagnosticParams(
        text_document=lsp.TextDocumentIdentifier(uri=uri), previous_result_id=previous))


async def test_the_offer_follows_the_client_capabilities(client: LanguageClient):
    if client.mode == "pull":
        assert client.offered == lsp.DiagnosticOptions(identifier="qvr", inter_file_dependencies=False,
                                                      workspace_diagnostics=False)
    else:
        assert client.offered is None


async def test_diagnostics_are_pulled_or_pushed_never_both(client: LanguageClient):
    uri = f"file:///tmp/pull_{client.mode}.qvr"
    open_doc(client, uri, TEXT)
    if client.mode == "push":
        assert plain(await published(client, uri, 1)) == plain(expected(TEXT, uri))
        edit(client, uri, 2, 5, 11, 12, "")  # `zz` -> `z`: the error goes, the hints stay
        fixed = TEXT.replace("zz", "z")
        assert plain(await published(client, uri, 2)) == plain(expected(fixed, uri))
        return
    first = await pull(client, uri)
    assert first.kind == "full" and first.result_id
    assert plain(first.items) == plain(expected(TEXT, uri))
    # a keystroke that changes no diagnostic (a space at the end of the error's line moves
    # nothing the client sees): unchanged, same result id
    edit(client, uri, 2, 5, 13, 13, " ")
    again = await pull(client, uri, first.result_id)
    assert again == lsp.RelatedUnchangedDocumentDiagnosticReport(result_id=first.result_id)
    edit(client, uri, 3, 5, 11, 12, "")
    fixed = TEXT.replace("zz", "z").replace("return z\n", "return z \n")
    changed = await pull(client, uri, first.result_id)
    assert changed.kind == "full" and changed.result_id != first.result_id
    assert plain(changed.items) == plain(expected(fixed, uri))
    # a client without the last result id gets the full report
    assert (await pull(client, uri)).items == changed.items
    assert client.published == []  # nothing was pushed to a client that pulls
