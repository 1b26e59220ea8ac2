"""End-to-end tests against the real server over stdio (`python -m qvr_lsp`), once with the VS Code
client capabilities and once with Neovim's. These check the protocol wiring; what each feature
computes is tested in the feature-function tests."""
from __future__ import annotations

import asyncio
import os
import sys

import pytest
import pytest_lsp
from lsprotocol import types as lsp
from pytest_lsp import ClientServerConfig, LanguageClient, client_capabilities

from expect import expect, expect_file
from lsp_fixtures import SAMPLES, offset_of, render_protocol, render_token_data
from qvr_lsp.features.semantic_tokens import TOKEN_MODIFIERS, TOKEN_TYPES

# the client fixture lives on a module-scoped event loop; the tests must run on the same loop
pytestmark = [pytest.mark.asyncio(loop_scope="module"), pytest.mark.process]
GUARD_S = 60.0  # a hang guard: only a test that would otherwise wait forever fails on it


def recording_client() -> LanguageClient:
    """pytest-lsp's test client, plus `client.published`: every publishDiagnostics with its
    version (pytest-lsp itself keeps only the latest diagnostics per URI, without version), and
    `client.publish_seen`, set at each one."""
    from pytest_lsp.client import DEFAULT_CLIENT_FEATURES, register_lsp_features
    from pygls.protocol import default_converter

    client = LanguageClient(converter_factory=default_converter)
    client.published = []
    client.publish_seen = asyncio.Event()
    default = DEFAULT_CLIENT_FEATURES[lsp.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS]

    def publish(client: LanguageClient, params: lsp.PublishDiagnosticsParams):
        client.published.append(params)
        default(client, params)
        client.publish_seen.set()

    register_lsp_features(client, {**DEFAULT_CLIENT_FEATURES, lsp.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS: publish})
    return client


SERVER = ClientServerConfig(
    server_command=[sys.executable, "-m", "qvr_lsp"],
    server_env={**os.environ, "QVR_LSP_DEBOUNCE_MS": "5"},
    client_factory=recording_client,
)


@pytest_lsp.fixture(config=SERVER, params=["visual-studio-code", "neovim"], scope="module")
async def client(lsp_client: LanguageClient, request):
    params = lsp.InitializeParams(capabilities=client_capabilities(request.param))
    result = await lsp_client.initialize_session(params)
    # a client that can pull diagnostics is offered that and gets no pushes (Neovim's preset)
    lsp_client.pulls = result.capabilities.diagnostic_provider is not None
    yield
    await lsp_client.shutdown_session()


_counter = [0]


async def open_text(client: LanguageClient, text: str) -> str:
    """Open `text` under a fresh URI and wait for its first diagnostics."""
    _counter[0] += 1
    uri = f"file:///tmp/qvr_test_{_counter[0]}.qvr"
    client.text_document_did_open(
        lsp.DidOpenTextDocumentParams(text_document=lsp.TextDocumentItem(uri=uri, language_id="qvr", version=1, text=text))
    )
    await wait_for_diagnostics(client, uri, 1)
    return uri


async def wait_for_diagnostics(client: LanguageClient, uri: str, version: int | None, timeout: float = GUARD_S):
    """Wait until diagnostics for `uri` at `version` have been published (and return them);
    for a client that pulls them, pull them (the server answers for its latest version, and
    reads the messages before the request in order)."""
    if getattr(client, "pulls", False):
        report = await client.text_document_diagnostic_async(lsp.DocumentDiagnosticParams(text_document=td(uri)))
        return list(report.items)

    def found():
        return next((p for p in reversed(client.published) if p.uri == uri and p.version == version),
                    None)

    async def wait():
        while found() is None:
            client.publish_seen.clear()
            await client.publish_seen.wait()

    try:
        await asyncio.wait_for(wait(), timeout)
    except asyncio.TimeoutError:
        raise TimeoutError(f"no diagnostics for {uri} version {version}") from None
    return list(found().diagnostics)


async def debug_info(client: LanguageClient) -> dict:
    info = await client.protocol.send_request_async("qvr/debugInfo", {})
    return {k: getattr(info, k) for k in ("torch_loaded", "compile_loaded", "position_encoding", "documents", "version")}


def pos(text: str, offset: int) -> lsp.Position:
    line = text.count("\n", 0, offset)
    col = offset - (text.rfind("\n", 0, offset) + 1)
    return lsp.Position(line=line, character=col)  # ASCII samples: columns equal in every encoding


def apply_ascii_edits(text: str, edits) -> str:
    """Apply LSP TextEdits to ASCII text (columns are the same in every encoding)."""
    lines = text.split("\n")

    def offset(p):
        return sum(len(line) + 1 for line in lines[: p.line]) + p.character

    for e in sorted(edits, key=lambda e: (e.range.start.line, e.range.start.character), reverse=True):
        text = text[: offset(e.range.start)] + e.new_text + text[offset(e.range.end):]
    return text


def td(uri: str) -> lsp.TextDocumentIdentifier:
    return lsp.TextDocumentIdentifier(uri=uri)


async def test_server_never_imports_torch(client: LanguageClient):
    uri = await open_text(client, SAMPLES["lstm_current"])
    await client.protocol.send_request_async(lsp.TEXT_DOCUMENT_HOVER, lsp.HoverParams(text_document=td(uri), position=lsp.Position(line=1, character=8)))
    info = await debug_info(client)
    assert info["torch_loaded"] is False
    assert info["compile_loaded"] is False


async def test_negotiated_position_encoding_is_reported(client: LanguageClient):
    info = await debug_info(client)
    offered = list(client.capabilities.general.position_encodings or ()) if client.capabilities.general else []
    supported = [e for e in offered if e in ("utf-8", "utf-16", "utf-32")]
    expected = "utf-8" if "utf-8" in supported else (supported[0] if supported else "utf-16")
    assert info["position_encoding"] == expected


async def test_syntax_error_is_published_once_with_version_and_cleared_on_close(client: LanguageClient):
    text = "object A : FinSet 2\nobject B : : FinSet 3\n"
    uri = await open_text(client, text)
    diags = await wait_for_diagnostics(client, uri, 1)
    expect("""
        {"code": "QVR055", "message": "no `export`; `qvr.load` cannot run this module", "range": "1:1-1:1", "severity": 3, "source": "qvr"}
        {"code": "QVR080", "message": "`A` is declared but never used", "range": "1:8-1:9", "severity": 4, "source": "qvr", "tags": [1]}
        {"code": "QVR002", "message": "syntax error: expected a type in object `B`, found `:`", "range": "2:12-2:13", "severity": 1, "source": "qvr"}
    """).assert_eq(render_protocol(diags, unordered=True))
    client.text_document_did_change(
        lsp.DidChangeTextDocumentParams(
            text_document=lsp.VersionedTextDocumentIdentifier(uri=uri, version=2),
            content_changes=[lsp.TextDocumentContentChangePartial(
                range=lsp.Range(start=lsp.Position(line=1, character=11), end=lsp.Position(line=1, character=13)), text=""
            )],
        )
    )
    diags = await wait_for_diagnostics(client, uri, 2)
    expect("""
        {"code": "QVR055", "message": "no `export`; `qvr.load` cannot run this module", "range": "1:1-1:1", "severity": 3, "source": "qvr"}
        {"code": "QVR080", "message": "`A` is declared but never used", "range": "1:8-1:9", "severity": 4, "source": "qvr", "tags": [1]}
        {"code": "QVR080", "message": "`B` is declared but never used", "range": "2:8-2:9", "severity": 4, "source": "qvr", "tags": [1]}
    """).assert_eq(render_protocol(diags, unordered=True))
    client.text_document_did_close(lsp.DidCloseTextDocumentParams(text_document=td(uri)))
    assert await wait_for_diagnostics(client, uri, None) == []  # cleared (pushed), or none to pull


async def test_semantic_diagnostics_carry_code_tags_and_related_information(client: LanguageClient):
    text = "object A : FinSet 2\nobject A : FinSet 3\ntype B = FinSet 4\nmorphism f : A -> B ~ Categorical\nexport f\n"
    uri = await open_text(client, text)
    diags = await wait_for_diagnostics(client, uri, 1)
    by_code = {d.code: d for d in diags}
    dup = by_code["QVR015"]
    assert dup.severity == lsp.DiagnosticSeverity.Error and dup.range.start.line == 1
    assert dup.related_information and dup.related_information[0].location.range.start.line == 0
    deprecated = by_code["QVR091"]
    assert deprecated.severity == lsp.DiagnosticSeverity.Hint
    assert lsp.DiagnosticTag.Deprecated in deprecated.tags and deprecated.source == "qvr"


async def test_rapid_changes_end_with_diagnostics_for_the_last_version(client: LanguageClient):
    text = "object A : FinSet 2\n"
    uri = await open_text(client, text)
    for v in range(2, 22):
        client.text_document_did_change(
            lsp.DidChangeTextDocumentParams(
                text_document=lsp.VersionedTextDocumentIdentifier(uri=uri, version=v),
                content_changes=[lsp.TextDocumentContentChangePartial(
                    range=lsp.Range(start=lsp.Position(line=v - 1, character=0), end=lsp.Position(line=v - 1, character=0)),
                    text=f"object N{v} : FinSet {v}\n",
                )],
            )
        )
    await wait_for_diagnostics(client, uri, 21)
    info = await debug_info(client)
    assert [uri, 21] in [list(d)[:2] for d in info["documents"]]


async def test_a_keystroke_does_not_wait_for_a_request_computing_the_analysis(client: LanguageClient, generated_module):
    """Inlay hints need the full analysis (~100 ms on 3,000 lines here); the server computes it
    in slices between messages, so a change sent right behind the request is applied and
    checked meanwhile, and the request answers ContentModified (the text it was about is gone).
    Computed in one go, the analysis would finish first and the hints would be answered.
    (The opened version is published from its full analysis; the edited one is not.)"""
    uri = await open_text(client, generated_module(3000))
    at = lsp.Position(line=1500, character=0)

    def type_a_space(version: int) -> None:
        client.text_document_did_change(lsp.DidChangeTextDocumentParams(
            text_document=lsp.VersionedTextDocumentIdentifier(uri=uri, version=version),
            content_changes=[lsp.TextDocumentContentChangePartial(range=lsp.Range(start=at, end=at), text=" ")]))

    type_a_space(2)
    await wait_for_diagnostics(client, uri, 2)
    hints = asyncio.wrap_future(client.protocol.send_request(  # written now, before the change
        lsp.TEXT_DOCUMENT_INLAY_HINT, lsp.InlayHintParams(
            text_document=lsp.TextDocumentIdentifier(uri=uri),
            range=lsp.Range(start=lsp.Position(line=0, character=0), end=lsp.Position(line=3001, character=0)))))
    # the server reads its messages in order and starts a request's handler before it waits for
    # more input: once this later request is answered, it has begun on the hints
    await debug_info(client)
    type_a_space(3)
    with pytest.raises(Exception) as refused:
        await hints
    assert getattr(refused.value, "code", None) == -32801, refused.value  # ContentModified
    await wait_for_diagnostics(client, uri, 3)
    # asked again for the new version, the request is answered
    result = await client.text_document_inlay_hint_async(lsp.InlayHintParams(
        text_document=lsp.TextDocumentIdentifier(uri=uri),
        range=lsp.Range(start=lsp.Position(line=0, character=0), end=lsp.Position(line=40, character=0))))
    assert result


async def test_junk_input_does_not_crash_the_server(client: LanguageClient):
    junk = "\x00\x01program (((( ~~ <- \ufffd 𝔸 #{ unterminated\n" * 50
    uri = await open_text(client, junk)
    for line in (0, 3, 49):
        p = lsp.Position(line=line, character=5)
        await client.text_document_hover_async(lsp.HoverParams(text_document=td(uri), position=p))
        await client.text_document_completion_async(lsp.CompletionParams(text_document=td(uri), position=p))
        await client.text_document_definition_async(lsp.DefinitionParams(text_document=td(uri), position=p))
    await client.text_document_semantic_tokens_full_async(lsp.SemanticTokensParams(text_document=td(uri)))
    await client.text_document_folding_range_async(lsp.FoldingRangeParams(text_document=td(uri)))
    await client.text_document_document_symbol_async(lsp.DocumentSymbolParams(text_document=td(uri)))
    edits = await client.text_document_formatting_async(
        lsp.DocumentFormattingParams(text_document=td(uri), options=lsp.FormattingOptions(tab_size=4, insert_spaces=True))
    )
    assert not edits  # refuses to format text with syntax errors
    info = await client.protocol.send_request_async("qvr/debugInfo", {})
    assert info is not None


async def test_requests_on_unknown_documents_return_empty_results(client: LanguageClient):
    uri = "file:///never/opened.qvr"
    p = lsp.Position(line=0, character=0)
    assert await client.text_document_hover_async(lsp.HoverParams(text_document=td(uri), position=p)) is None
    refs = await client.text_document_references_async(
        lsp.ReferenceParams(text_document=td(uri), position=p, context=lsp.ReferenceContext(include_declaration=True))
    )
    assert not refs


async def test_semantic_tokens_and_folding_and_symbols(client: LanguageClient, request):
    text = SAMPLES["lstm_current"]
    uri = await open_text(client, text)
    tokens = await client.text_document_semantic_tokens_full_async(lsp.SemanticTokensParams(text_document=td(uri)))
    # One file per client preset: the header comment's length is counted in the negotiated
    # encoding (UTF-16 code units for VS Code, bytes for Neovim).
    preset = request.node.callspec.id
    expect_file(f"fixtures/expect/protocol/semantic_tokens_lstm_current.{preset}.txt").assert_eq(
        render_token_data(tokens.data, TOKEN_TYPES, TOKEN_MODIFIERS))
    ranged = await client.text_document_semantic_tokens_range_async(
        lsp.SemanticTokensRangeParams(text_document=td(uri), range=lsp.Range(start=lsp.Position(line=1, character=0), end=lsp.Position(line=2, character=0)))
    )
    expect("""
        2:1 6 keyword
        2:8 5 type.declaration
        2:16 6 type.defaultLibrary
        2:23 3 number
        3:1 6 keyword
    """).assert_eq(render_token_data(ranged.data, TOKEN_TYPES, TOKEN_MODIFIERS))
    client.text_document_did_change(lsp.DidChangeTextDocumentParams(
        text_document=lsp.VersionedTextDocumentIdentifier(uri=uri, version=2),
        content_changes=[lsp.TextDocumentContentChangePartial(
            range=lsp.Range(start=lsp.Position(line=1, character=0), end=lsp.Position(line=1, character=0)), text="# new\n")]))
    delta = await client.text_document_semantic_tokens_full_delta_async(
        lsp.SemanticTokensDeltaParams(text_document=td(uri), previous_result_id=tokens.result_id))
    assert isinstance(delta, lsp.SemanticTokensDelta) and len(delta.edits) == 1
    edit = delta.edits[0]
    patched = list(tokens.data[: edit.start]) + list(edit.data or ()) + list(tokens.data[edit.start + edit.delete_count:])
    full = await client.text_document_semantic_tokens_full_async(lsp.SemanticTokensParams(text_document=td(uri)))
    assert patched == list(full.data)
    folds = await client.text_document_folding_range_async(lsp.FoldingRangeParams(text_document=td(uri)))
    expect("""
        {"endLine": 2, "kind": "comment", "startLine": 1}
        {"endLine": 19, "startLine": 12}
        {"endLine": 23, "startLine": 22}
    """).assert_eq(render_protocol(folds))
    syms = await client.text_document_document_symbol_async(lsp.DocumentSymbolParams(text_document=td(uri)))
    expect_file("fixtures/expect/protocol/document_symbols_lstm_current.json").assert_eq(
        render_protocol(syms, pretty=True))
    ws = await client.workspace_symbol_async(lsp.WorkspaceSymbolParams(query="lstmcell"))
    # The server's index holds every document this module's server opened so far, so how many
    # copies of the sample match depends on which tests ran first: the distinct names and
    # kinds are the answer.
    expect("""
        lstm_cell Method
    """).assert_eq("".join(f"{name} {kind}\n" for name, kind in sorted({(s.name, s.kind.name) for s in ws})))


async def test_selection_range_grows_outwards(client: LanguageClient):
    text = SAMPLES["lstm_current"]
    uri = await open_text(client, text)
    off = offset_of(text, "gate_i(x, h)", delta=2)
    result = await client.text_document_selection_range_async(
        lsp.SelectionRangeParams(text_document=td(uri), positions=[pos(text, off)])
    )
    chain, node = [], result[0]
    while node is not None:
        chain.append(node.range)
        node = node.parent
    expect("""
        "12:17-12:23"
        "12:17-12:29"
        "12:5-12:29"
        "11:1-18:26"
        "1:1-28:1"
    """).assert_eq(render_protocol(chain))  # the word first, the document last


async def test_hover_definition_references_rename(client: LanguageClient):
    text = SAMPLES["lstm_current"]
    uri = await open_text(client, text)
    use = offset_of(text, "gate_i(x, h)", delta=1)
    hover = await client.text_document_hover_async(lsp.HoverParams(text_document=td(uri), position=pos(text, use)))
    expect("""
        {"contents": {"kind": "markdown", "value": "```qvr\\ngate_i : Embedded(64) * Hidden(64) -> Hidden(64) ~ LogitNormal\\n```\\n\\nFamily `LogitNormal(loc, scale)`, support unit interval (0, 1) → Real w {low=0.0, high=1.0}\\n\\nOptions: `param_source=affine`, `replicate=1`"}, "range": "12:17-12:23"}
    """).assert_eq(render_protocol(hover))
    loc = await client.text_document_definition_async(lsp.DefinitionParams(text_document=td(uri), position=pos(text, use)))
    expect("""
        {"range": "7:10-7:16", "uri": "URI"}
    """).assert_eq(render_protocol(loc).replace(uri, "URI"))
    refs = await client.text_document_references_async(
        lsp.ReferenceParams(text_document=td(uri), position=pos(text, use), context=lsp.ReferenceContext(include_declaration=False))
    )
    expect("""
        {"range": "12:17-12:23", "uri": "URI"}
    """).assert_eq(render_protocol(refs, unordered=True).replace(uri, "URI"))
    edit = await client.text_document_rename_async(lsp.RenameParams(text_document=td(uri), position=pos(text, use), new_name="input_gate"))
    expect("""
        {"changes": {"URI": [{"newText": "input_gate", "range": "7:10-7:16"}, {"newText": "input_gate", "range": "12:17-12:23"}]}}
    """).assert_eq(render_protocol(edit).replace(uri, "URI"))
    with pytest.raises(Exception) as refused:
        await client.text_document_rename_async(lsp.RenameParams(text_document=td(uri), position=pos(text, use), new_name="scan"))
    expect('`scan` is a reserved word and cannot be used as a name').assert_eq(str(refused.value))


async def test_completion_signature_help_inlay_hints_code_actions(client: LanguageClient):
    text = SAMPLES["lstm_classic"]
    uri = await open_text(client, text)
    after_tilde = offset_of(text, "~ LogitNormal", delta=2)
    items = await client.text_document_completion_async(lsp.CompletionParams(text_document=td(uri), position=pos(text, after_tilde)))
    expect_file("fixtures/expect/protocol/completion_after_tilde.txt").assert_eq(render_protocol(items, pretty=True))
    call = offset_of(text, "gate_i(x_t", delta=len("gate_i(x_t, "))
    sig = await client.text_document_signature_help_async(lsp.SignatureHelpParams(text_document=td(uri), position=pos(text, call)))
    expect("""
        {"activeParameter": 1, "activeSignature": 0, "signatures": [{"activeParameter": null, "label": "gate_i(Embedded(64), State(128)) -> Hidden(64)", "parameters": [{"label": "Embedded(64)"}, {"label": "State(128)"}]}]}
    """).assert_eq(render_protocol(sig))
    end = text.count("\n")
    hints = await client.text_document_inlay_hint_async(
        lsp.InlayHintParams(text_document=td(uri), range=lsp.Range(start=lsp.Position(line=0, character=0), end=lsp.Position(line=end, character=0)))
    )
    expect("""
        {"kind": 1, "label": ": Hidden(64)", "paddingLeft": false, "position": "12:16"}
        {"kind": 1, "label": ": Hidden(64)", "paddingLeft": false, "position": "13:16"}
        {"kind": 1, "label": ": Hidden(64)", "paddingLeft": false, "position": "14:16"}
        {"kind": 1, "label": ": Hidden(64)", "paddingLeft": false, "position": "15:16"}
        {"kind": 1, "label": ": Real 64", "paddingLeft": false, "position": "16:14"}
        {"kind": 1, "label": ": Real 64", "paddingLeft": false, "position": "17:14"}
        {"kind": 1, "label": ": Real 64", "paddingLeft": false, "position": "18:15"}
        {"kind": 1, "label": ": Real 64", "paddingLeft": false, "position": "19:15"}
        {"kind": 1, "label": ": Real 64", "paddingLeft": false, "position": "20:14"}
        {"kind": 1, "label": ": Seq[Token(256)] -> Output(32)", "paddingLeft": false, "position": "23:9"}
    """).assert_eq(render_protocol(hints))
    # (the quick fixes: the migration comes with a command, which lsprotocol's client reads
    # as a bare `Command`; tests/lsp/test_lsp_features.py checks what the server sends for it)
    actions = await client.text_document_code_action_async(
        lsp.CodeActionParams(
            text_document=td(uri),
            range=lsp.Range(start=lsp.Position(line=0, character=0), end=lsp.Position(line=0, character=14)),
            context=lsp.CodeActionContext(diagnostics=[], only=[lsp.CodeActionKind.QuickFix]),
        )
    )
    expect_file("fixtures/expect/protocol/code_actions_lstm_classic.txt").assert_eq(
        render_protocol(actions, pretty=True).replace(uri, "URI"))


async def test_protocol_fuzz_random_edits_keep_text_and_diagnostics_in_sync(client: LanguageClient):
    """A smaller fuzz than test_lsp_fuzz.py, through the real protocol: random batches of edits
    (astral and multi-byte characters included) in the negotiated encoding; afterwards the
    server's text is byte-identical to ours and its diagnostics equal a fresh analysis."""
    import hashlib
    import random

    from qvr.semantics import analyze
    from qvr.syntax.span import LineIndex
    from qvr_lsp.positions import PositionEncoder

    rng = random.Random(1234)
    enc = PositionEncoder((await debug_info(client))["position_encoding"])
    text = SAMPLES["gru_classic"]
    uri = await open_text(client, text)
    fragments = ["x", " ", "\n", "é", "𝔸", "sample ", "<-", "(", ")", "#", "Real 3", "\x00", ",", "~"]
    version = 1
    for _ in range(60):
        changes = []
        for _ in range(rng.choice((1, 1, 2))):
            index = LineIndex(text)
            a = rng.randint(0, len(text))
            b = min(len(text), a + rng.choice((0, 1, 3)))
            new = rng.choice(fragments)
            (l1, c1), (l2, c2) = enc.to_lsp(index, a), enc.to_lsp(index, b)
            changes.append(lsp.TextDocumentContentChangePartial(
                range=lsp.Range(start=lsp.Position(line=l1, character=c1), end=lsp.Position(line=l2, character=c2)), text=new))
            text = text[:a] + new + text[b:]
        version += 1
        client.text_document_did_change(lsp.DidChangeTextDocumentParams(
            text_document=lsp.VersionedTextDocumentIdentifier(uri=uri, version=version), content_changes=changes))
    diags = await wait_for_diagnostics(client, uri, version)
    info = await debug_info(client)
    digest = hashlib.sha1(text.encode("utf-8", "surrogatepass")).hexdigest()
    assert [uri, version, digest] in [list(d) for d in info["documents"]]
    expected = analyze(text).diagnostics
    index = LineIndex(text)
    assert [(d.code, d.range.start.line, d.range.start.character) for d in diags] == [
        (d.code, *enc.to_lsp(index, d.span.start)) for d in expected
    ]


async def test_requests_in_flight_during_edits_are_answered_or_refused_cleanly(client: LanguageClient, generated_module):
    """Random edits of a 1,500-line file with requests that need the analysis (or the parse)
    sent between them, never awaited before the next edit: every request gets a result or
    ContentModified, never another error; afterwards the server's text and diagnostics are those
    of the last version."""
    import hashlib
    import random

    from qvr.semantics import analyze

    rng = random.Random(99)
    text = generated_module(1500)
    uri = await open_text(client, text)
    fragments = ["x", " ", "\n", "(", "sample q <- ", "#", "~ Normal", ""]
    version, pending = 1, []
    for _ in range(40):
        at = rng.randint(0, len(text))
        end = min(len(text), at + rng.choice((0, 1, 4)))
        new = rng.choice(fragments)
        version += 1
        client.text_document_did_change(lsp.DidChangeTextDocumentParams(
            text_document=lsp.VersionedTextDocumentIdentifier(uri=uri, version=version),
            content_changes=[lsp.TextDocumentContentChangePartial(range=lsp.Range(start=pos(text, at), end=pos(text, end)), text=new)]))
        text = text[:at] + new + text[end:]
        where = pos(text, rng.randint(0, len(text)))
        method, params = rng.choice([
            (lsp.TEXT_DOCUMENT_HOVER, lsp.HoverParams(text_document=td(uri), position=where)),
            (lsp.TEXT_DOCUMENT_DEFINITION, lsp.DefinitionParams(text_document=td(uri), position=where)),
            (lsp.TEXT_DOCUMENT_INLAY_HINT, lsp.InlayHintParams(text_document=td(uri), range=lsp.Range(start=lsp.Position(line=0, character=0), end=where))),
            (lsp.TEXT_DOCUMENT_DOCUMENT_SYMBOL, lsp.DocumentSymbolParams(text_document=td(uri))),
            (lsp.TEXT_DOCUMENT_CODE_LENS, lsp.CodeLensParams(text_document=td(uri))),
        ])
        pending.append(asyncio.ensure_future(client.protocol.send_request_async(method, params)))
        await asyncio.sleep(rng.choice((0, 0.002, 0.02)))
    outcomes = await asyncio.gather(*pending, return_exceptions=True)
    errors = [o for o in outcomes if isinstance(o, Exception)]
    assert all(getattr(e, "code", None) == -32801 for e in errors), errors  # only ContentModified
    diags = await wait_for_diagnostics(client, uri, version)
    info = await debug_info(client)
    assert [uri, version, hashlib.sha1(text.encode()).hexdigest()] in [list(d) for d in info["documents"]]
    assert [d.code for d in diags] == [d.code for d in analyze(text).diagnostics]


@pytest.mark.slow
async def test_huge_file_is_handled_without_losing_text(client: LanguageClient, request):
    """50,000 lines: the server answers, keeps every character and keeps up with an edit."""
    import hashlib

    if "neovim" in request.node.callspec.id:
        pytest.skip("one client preset is enough for the size test (it is about the server)")
    lines = []
    for i in range(12_500):
        lines += [f"object T{i} : FinSet 2", f"# comment {i}", f"morphism f{i} : T{i} -> T{i} ~ Categorical", ""]
    text = "\n".join(lines)
    uri = f"file:///tmp/huge_{len(lines)}.qvr"
    client.text_document_did_open(lsp.DidOpenTextDocumentParams(
        text_document=lsp.TextDocumentItem(uri=uri, language_id="qvr", version=1, text=text)))
    await wait_for_diagnostics(client, uri, 1, timeout=180)
    mid = 25_000
    client.text_document_did_change(lsp.DidChangeTextDocumentParams(
        text_document=lsp.VersionedTextDocumentIdentifier(uri=uri, version=2),
        content_changes=[lsp.TextDocumentContentChangePartial(
            range=lsp.Range(start=lsp.Position(line=mid, character=0), end=lsp.Position(line=mid, character=0)), text="# edited\n")]))
    hover = await client.text_document_hover_async(lsp.HoverParams(text_document=td(uri), position=lsp.Position(line=mid + 3, character=9)))
    expect("""
        {"contents": {"kind": "markdown", "value": "```qvr\\nf6250 : T6250(2) -> T6250(2) ~ Categorical\\n```\\n\\nFamily `Categorical(probs)`, support finite set → FinSet K\\n\\nOptions: `param_source=affine`, `replicate=1`"}, "range": "25004:10-25004:15"}
    """).assert_eq(render_protocol(hover))
    lines.insert(mid, "# edited")
    info = await debug_info(client)
    digest = hashlib.sha1("\n".join(lines).encode()).hexdigest()
    assert [uri, 2, digest] in [list(d) for d in info["documents"]]
    client.text_document_did_close(lsp.DidCloseTextDocumentParams(text_document=td(uri)))


async def test_out_of_range_edits_are_clamped_not_lost(client: LanguageClient):
    import hashlib

    text = "object A : FinSet 2\n"
    uri = await open_text(client, text)
    client.text_document_did_change(lsp.DidChangeTextDocumentParams(
        text_document=lsp.VersionedTextDocumentIdentifier(uri=uri, version=2),
        content_changes=[lsp.TextDocumentContentChangePartial(
            range=lsp.Range(start=lsp.Position(line=50, character=0), end=lsp.Position(line=60, character=9)),
            text="object B : FinSet 3\n")]))
    client.text_document_did_change(lsp.DidChangeTextDocumentParams(
        text_document=lsp.VersionedTextDocumentIdentifier(uri=uri, version=3),
        content_changes=[lsp.TextDocumentContentChangePartial(
            range=lsp.Range(start=lsp.Position(line=0, character=400), end=lsp.Position(line=0, character=500)),
            text=" # end")]))
    await wait_for_diagnostics(client, uri, 3)
    expected = "object A : FinSet 2 # end\nobject B : FinSet 3\n"
    info = await debug_info(client)
    assert [uri, 3, hashlib.sha1(expected.encode()).hexdigest()] in [list(d) for d in info["documents"]]


async def test_highlight_prepare_rename_formatting_and_migrate_command(client: LanguageClient):
    text = "object   A : FinSet 2   # keep\nmorphism f : A -> A ~ Categorical\noutput f\n"
    uri = await open_text(client, text)
    on_a = pos(text, text.index("A -> A"))
    marks = await client.text_document_document_highlight_async(lsp.DocumentHighlightParams(text_document=td(uri), position=on_a))
    expect("""
        {"kind": 3, "range": "1:10-1:11"}
        {"kind": 2, "range": "2:14-2:15"}
        {"kind": 2, "range": "2:19-2:20"}
    """).assert_eq(render_protocol(marks))
    prepared = await client.text_document_prepare_rename_async(lsp.PrepareRenameParams(text_document=td(uri), position=on_a))
    expect("""
        {"placeholder": "A", "range": "2:14-2:15"}
    """).assert_eq(render_protocol(prepared))
    nothing = await client.text_document_prepare_rename_async(lsp.PrepareRenameParams(text_document=td(uri), position=pos(text, text.index("keep"))))
    assert nothing is None
    edits = await client.text_document_formatting_async(
        lsp.DocumentFormattingParams(text_document=td(uri), options=lsp.FormattingOptions(tab_size=4, insert_spaces=True)))
    expect("""
        object A : FinSet 2  # keep
        morphism f : A -> A ~ Categorical
        output f
    """).assert_eq(apply_ascii_edits(text, edits))
    applied = []
    edit_seen = asyncio.get_running_loop().create_future()

    @client.feature(lsp.WORKSPACE_APPLY_EDIT)
    def apply_edit(params: lsp.ApplyWorkspaceEditParams):
        applied.append(params)
        if not edit_seen.done():
            edit_seen.set_result(None)
        return lsp.ApplyWorkspaceEditResult(applied=True)

    result = await client.workspace_execute_command_async(lsp.ExecuteCommandParams(command="qvr.migrateFile", arguments=[{"uri": uri}]))
    assert (result.get("applied") if isinstance(result, dict) else getattr(result, "applied", None)) is True
    await asyncio.wait_for(edit_seen, GUARD_S)  # the server's workspace/applyEdit request
    expect("""
        object   A : FinSet 2   # keep
        morphism f : A -> A ~ Categorical
        export f
    """).assert_eq(apply_ascii_edits(text, applied[0].edit.changes[uri]))


async def test_answers_about_a_whole_big_file_do_not_hold_up_other_requests(client: LanguageClient):
    """Document symbols, folding ranges, code lenses, semantic tokens, formatting and the first
    selection ranges of a file of megabytes take seconds to make and to write as JSON: they are
    made in the server's worker thread or in slices between messages, so a hover on another
    file, asked after one of them, is answered first."""
    big = "".join(f"object T{i} : FinSet 4\nmorphism h{i} : T{i} -> T{i} ~ Categorical\n"
                  f"program p{i}(x) : T{i} -> T{i}\n    sample y <- h{i}(x)\n    return y\n"
                  for i in range(3000)) + "export p0\n"
    small = "object A : FinSet 2\nmorphism f : A -> A ~ Categorical\nexport f\n"
    big_uri, small_uri = await open_text(client, big), await open_text(client, small)
    whole_file = {
        "documentSymbol": lambda: client.text_document_document_symbol_async(
            lsp.DocumentSymbolParams(text_document=td(big_uri))),
        "foldingRange": lambda: client.text_document_folding_range_async(
            lsp.FoldingRangeParams(text_document=td(big_uri))),
        "codeLens": lambda: client.text_document_code_lens_async(
            lsp.CodeLensParams(text_document=td(big_uri))),
        # (made in slices on the loop, not in the worker: see `semantic_tokens.encoded_steps`)
        "semanticTokens/full": lambda: client.text_document_semantic_tokens_full_async(
            lsp.SemanticTokensParams(text_document=td(big_uri))),
        # (formatted in the worker, the message about it sent from the loop)
        "formatting": lambda: client.text_document_formatting_async(lsp.DocumentFormattingParams(
            text_document=td(big_uri), options=lsp.FormattingOptions(tab_size=4, insert_spaces=True))),
        # (the first one parses the whole text with tree-sitter)
        "selectionRange": lambda: client.text_document_selection_range_async(
            lsp.SelectionRangeParams(text_document=td(big_uri), positions=[pos(big, big.index("h2999(x)"))])),
    }
    for method, ask in whole_file.items():
        answered = []
        slow = asyncio.ensure_future(ask())
        slow.add_done_callback(lambda _, method=method: answered.append(method))
        hover = await asyncio.wait_for(client.text_document_hover_async(lsp.HoverParams(
            text_document=td(small_uri), position=pos(small, small.index("f :")))), GUARD_S)
        answered.append("hover")
        found = await asyncio.wait_for(slow, GUARD_S)
        assert answered == ["hover", method]
        assert hover is not None
        if method == "formatting":
            assert list(found) == []  # (the file is formatted already)
            continue
        if method == "selectionRange":  # the name, the call, the step, ..., the whole text
            chain = [found[0]]
            while chain[-1].parent is not None:
                chain.append(chain[-1].parent)
            assert len(chain) >= 4 and chain[-1].range.end == pos(big, len(big))
            continue
        parts = found.data if method == "semanticTokens/full" else found
        assert len(parts) >= 3000  # (one per program at least)
