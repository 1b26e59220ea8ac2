"""What the language server answers: a table of handlers, method → what it needs → feature
function → converter.

Each `Handler` row says which LSP method it answers, what the document must have first
(``need``: the full analysis or the parse, computed in slices by `qvr_lsp.scheduling.after`),
which feature function computes the answer from the document (``feature``, in
`qvr_lsp.features`, which knows nothing of LSP), and how that answer becomes LSP types
(``convert``, through `qvr_lsp.convert` in the negotiated position encoding). `register`
turns every row into a pygls handler with the same behaviour everywhere: no document, or a
feature returning None, is the row's ``default``; an unexpected exception is logged and
answered with the default (`qvr_lsp.scheduling.guarded`); an error raised on purpose
(RequestFailed, ContentModified, InvalidParams) is the answer.

What does not fit a row is registered next to the table: the document notifications
(open/change/close), pulled diagnostics, ``qvr/debugInfo`` and ``qvr.migrateFile``. The run
commands, code lenses and settings are the run layer's (`qvr_lsp.run_commands.register`).
"""
from __future__ import annotations

import importlib.util
import inspect
import json
import logging
import sys
from dataclasses import dataclass
from typing import Any, Callable, Optional

from lsprotocol import types as lsp

from . import __version__, client_contract, convert
from .documents import apply_with_pygls, changes_from_lsp
from .features import MIGRATE_KIND, TOKEN_MODIFIERS, TOKEN_TYPES
from .protocol import ContentModified, PreparedResult, RequestFailed, position_params
from . import scheduling
from .scheduling import after, answer_in_worker, guarded

log = logging.getLogger("qvr_lsp")


def _lazy_module(name: str):
    """The module `name`, executed only when one of its attributes is first used.

    Start-up time counts up to the first diagnostics; modules that only answer later requests
    (hover, completion, ...) need not be executed before that. This is the standard library's
    recipe (`importlib.util.LazyLoader`); the module is registered in `sys.modules` and on its
    package like a normal import, so other importers get the same (lazy) module object.
    Every handler runs on the event-loop thread, so no two first uses race (Python 3.11's
    LazyLoader has no lock of its own)."""
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.find_spec(name)
    loader = importlib.util.LazyLoader(spec.loader)
    spec.loader = loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    loader.exec_module(module)
    package, _, child = name.rpartition(".")
    setattr(sys.modules[package], child, module)
    return module


# Feature modules used only by requests, never on the way to the first diagnostics (what
# registration reads of them, the token legend and the migration's kind, is in the package).
f_actions = _lazy_module("qvr_lsp.features.code_actions")
f_completion = _lazy_module("qvr_lsp.features.completion")
f_formatting = _lazy_module("qvr_lsp.features.formatting")
f_hover = _lazy_module("qvr_lsp.features.hover")
f_inlay = _lazy_module("qvr_lsp.features.inlay_hints")
f_nav = _lazy_module("qvr_lsp.features.navigation")
f_rename = _lazy_module("qvr_lsp.features.rename")
f_sig = _lazy_module("qvr_lsp.features.signature_help")
f_structure = _lazy_module("qvr_lsp.features.structure")
f_symbols = _lazy_module("qvr_lsp.features.symbols")
f_tokens = _lazy_module("qvr_lsp.features.semantic_tokens")
f_entry_at = _lazy_module("qvr_lsp.features.entry_at")

DEBUG_INFO = client_contract.DEBUG_INFO_REQUEST
MIGRATE_COMMAND = client_contract.MIGRATE_COMMAND


@dataclass(frozen=True)
class Handler:
    """One row of the table (see the module docstring)."""

    method: str
    name: str  # the handler's name in the log ("hover failed")
    feature: Callable[[Any, Any, Any], Any]  # (server, document, params) -> the feature's answer
    convert: Optional[Callable[[Any, Any, Any], Any]] = None  # (server, document, answer) -> LSP
    need: Optional[str] = None  # "analysis" or "parse": computed in slices first
    default: Any = None  # the answer without a document, for None, or after a failure
    options: Any = None  # the registration options pygls announces
    params: Optional[Callable[[Any, Any], Any]] = None  # reads untyped params (custom methods)
    document: bool = True  # False: the request is not about one document
    # The answer (feature, conversion and its JSON) is made in the worker thread, for requests
    # about the whole document whose answer for a file of megabytes takes seconds to build:
    # the event loop goes on answering other requests meanwhile (`scheduling.answer_in_worker`).
    threaded: bool = False


def _default(value: Any) -> Any:
    return value() if callable(value) else value


def handler_function(row: Handler) -> Callable:
    """The pygls handler for one row."""

    def finished(ls, doc, found):
        if found is None:
            return _default(row.default)
        return found if row.convert is None else row.convert(ls, doc, found)

    def made(ls, doc, params):
        return finished(ls, doc, row.feature(ls, doc, params))

    def document(ls, params):
        return ls.documents.get(params.text_document.uri) if row.document else None

    def answer(ls, params):
        doc = document(ls, params)
        if row.document and doc is None:
            return _default(row.default)
        return made(ls, doc, params)

    if inspect.iscoroutinefunction(row.feature):  # a feature that works in slices itself
        async def answer(ls, params):
            doc = document(ls, params)
            if row.document and doc is None:
                return _default(row.default)
            return finished(ls, doc, await row.feature(ls, doc, params))

    if row.threaded:
        async def answer(ls, params):
            # the document is picked here, on the loop, right after `after` made what the row
            # needs of it ready: the worker reads only that
            doc = document(ls, params)
            if doc is None:
                return _default(row.default)
            return await answer_in_worker(ls, doc, lambda: made(ls, doc, params))

    answer.__name__ = answer.__qualname__ = row.name
    handler = guarded(row.default)(answer)
    if row.need is not None:
        handler = after(row.need)(handler)
    if row.params is not None:
        inner = handler

        async def handler(ls, params):
            result = inner(ls, row.params(ls, params))
            return await result if inspect.isawaitable(result) else result

        handler.__name__ = row.name
    return handler


def register(ls, table: list[Handler]) -> None:
    """Register every row of `table` (and nothing else) with the pygls server `ls`."""
    for row in table:
        ls.feature(row.method, row.options)(handler_function(row))


# ------------------------------------------------------------------------------------------------
# features and converters


def _offset(ls, doc, params) -> int:
    return ls.offset(doc, params.position)


def hover_format(capabilities) -> lsp.MarkupKind:
    """The first of the client's `textDocument.hover.contentFormat` we can write (markdown
    when it lists none we know, or says nothing)."""
    hover = getattr(getattr(capabilities, "text_document", None), "hover", None)
    for kind in getattr(hover, "content_format", None) or ():
        if kind in (lsp.MarkupKind.Markdown, lsp.MarkupKind.PlainText):
            return lsp.MarkupKind(kind)
    return lsp.MarkupKind.Markdown


def _hover(ls, doc, result) -> lsp.Hover:
    if hover_format(getattr(ls.protocol, "client_capabilities", None)) == lsp.MarkupKind.PlainText:
        contents = lsp.MarkupContent(kind=lsp.MarkupKind.PlainText, value=result.plaintext)
    else:
        contents = lsp.MarkupContent(kind=lsp.MarkupKind.Markdown, value=result.markdown)
    return lsp.Hover(contents=contents, range=convert.range_(ls.encoder, doc.line_index, result.span))


def _location(ls, doc, span) -> lsp.Location:
    return lsp.Location(uri=doc.uri, range=convert.range_(ls.encoder, doc.line_index, span))


def _locations(ls, doc, spans) -> list[lsp.Location]:
    return [_location(ls, doc, s) for s in spans]


def _references(ls, doc, params):
    include = bool(params.context.include_declaration) if params.context else True
    return f_nav.references(doc, _offset(ls, doc, params), include)


def _highlights(ls, doc, found) -> list[lsp.DocumentHighlight]:
    return [
        lsp.DocumentHighlight(
            range=convert.range_(ls.encoder, doc.line_index, h.span),
            kind=lsp.DocumentHighlightKind.Write if h.is_write else lsp.DocumentHighlightKind.Read,
        )
        for h in found
    ]


def _prepare_rename(ls, doc, target) -> lsp.PrepareRenamePlaceholder:
    return lsp.PrepareRenamePlaceholder(
        range=convert.range_(ls.encoder, doc.line_index, target.span), placeholder=target.placeholder
    )


def _rename(ls, doc, params):
    try:
        return f_rename.rename(doc, _offset(ls, doc, params), params.new_name)
    except f_rename.RenameError as exc:
        raise RequestFailed(str(exc)) from None


def _workspace_edit(ls, doc, edits) -> lsp.WorkspaceEdit:
    return lsp.WorkspaceEdit(changes={doc.uri: convert.text_edits(ls.encoder, doc.line_index, edits)})


def _document_symbols(ls, doc, params):
    if doc.parsed is None:
        return None
    return f_symbols.document_symbols(doc.parsed.module, doc.text)


def _lsp_symbols(ls, doc, nodes) -> list[lsp.DocumentSymbol]:
    index, enc = doc.line_index, ls.encoder

    def to_lsp(node):
        return lsp.DocumentSymbol(
            name=node.name,
            kind=convert.SYMBOL_KINDS.get(node.kind, lsp.SymbolKind.Variable),
            range=convert.range_(enc, index, node.span),
            selection_range=convert.range_(enc, index, node.name_span),
            detail=node.detail or None,
            children=[to_lsp(c) for c in node.children] or None,
        )

    return [to_lsp(n) for n in nodes]


def _workspace_symbols(ls, doc, params) -> list[lsp.WorkspaceSymbol]:
    roots = []
    try:
        if ls.workspace.root_path:
            roots.append(ls.workspace.root_path)
        from pygls.uris import to_fs_path

        roots += [to_fs_path(f.uri) for f in (ls.workspace.folders or {}).values()]
    except Exception:
        pass
    out = []
    from qvr.syntax.span import LineIndex

    open_docs = ls.documents.all()
    indexes: dict[int, Any] = {id(d.text): d.line_index for d in open_docs}  # (kept up to date)
    for sym in f_symbols.workspace_symbols(params.query or "", open_docs, ls.workspace_index, list(dict.fromkeys(roots))):
        index = indexes.get(id(sym.text))
        if index is None:  # a file on disk: one index per file
            index = indexes[id(sym.text)] = LineIndex(sym.text)
        out.append(
            lsp.WorkspaceSymbol(
                name=sym.name,
                kind=convert.SYMBOL_KINDS.get(sym.kind, lsp.SymbolKind.Variable),
                location=lsp.Location(uri=sym.uri, range=convert.range_(ls.encoder, index, sym.span)),
            )
        )
    return out


def _empty_completions() -> lsp.CompletionList:
    return lsp.CompletionList(is_incomplete=False, items=[])


def _completion(ls, doc, params) -> lsp.CompletionList:
    offset = _offset(ls, doc, params)
    found, cut = f_completion.prefix_filter(f_completion.complete(doc, offset), f_completion.typed_prefix(doc, offset))
    items = []
    for it in found:
        items.append(
            lsp.CompletionItem(
                label=it.label,
                kind=convert.COMPLETION_KINDS.get(it.kind, lsp.CompletionItemKind.Text),
                detail=it.detail or None,
                insert_text=it.insert_text,
                insert_text_format=lsp.InsertTextFormat.Snippet if it.is_snippet else None,
                sort_text=f"{it.sort_group}{it.label}",
            )
        )
    return lsp.CompletionList(is_incomplete=cut, items=items)


def _signature_help(ls, doc, sig) -> lsp.SignatureHelp:
    info = lsp.SignatureInformation(
        label=sig.label,
        documentation=sig.documentation or None,
        parameters=[lsp.ParameterInformation(label=p) for p in sig.parameters],
    )
    return lsp.SignatureHelp(signatures=[info], active_signature=0, active_parameter=sig.active_parameter)


def _inlay_hints(ls, doc, hints) -> list[lsp.InlayHint]:
    return [
        lsp.InlayHint(position=convert.position(ls.encoder, doc.line_index, h.offset), label=h.label, kind=lsp.InlayHintKind.Type, padding_left=False)
        for h in hints
    ]


def _no_tokens() -> lsp.SemanticTokens:
    return lsp.SemanticTokens(data=[])


async def full_tokens_in_slices(ls, doc) -> list[int]:
    """The whole document's token data (`semantic_tokens.encoded`: stitched from the engine's
    blocks when it has them), made a slice at a time between other messages (a file of
    megabytes takes seconds), kept per version; ContentModified when the document changed
    meanwhile."""
    key = ("semantic_tokens_data", ls.encoder.encoding)
    data = doc.cache.get(key)
    if data is None:
        done, data = await ls.documents.finish_in_slices(f_tokens.encoded_steps(doc, ls.encoder), doc)
        if not done:
            raise ContentModified()
        doc.cache[key] = data
    return data


# Token integers written as JSON per step of `_tokens_json` (5 per token).
JSON_PIECE = 25_000


def _tokens_json(data: list[int], result_id: str):
    """The ``SemanticTokens`` answer for `data` as JSON text (`PreparedResult`), as a
    generator: written a piece at a time (a 10 MB file has millions of integers)."""
    pieces = []
    for at in range(0, len(data), JSON_PIECE):
        pieces.append(",".join(map(str, data[at:at + JSON_PIECE])))
        yield
    return PreparedResult(f'{{"resultId":{json.dumps(result_id)},"data":[{",".join(pieces)}]}}')


async def _tokens_answer(ls, doc, data: list[int], result_id: str):
    done, answer = await ls.documents.finish_in_slices(_tokens_json(data, result_id), doc)
    if not done:
        raise ContentModified()
    return answer


def remember_tokens(ls, doc, data: list[int]) -> str:
    """Keep the last full result per document so the next request can be a delta."""
    result_id = f"{doc.version}:{id(data)}"
    ls.token_results[doc.uri] = (result_id, data)
    return result_id


async def _tokens_full(ls, doc, params):
    data = await full_tokens_in_slices(ls, doc)
    return await _tokens_answer(ls, doc, data, remember_tokens(ls, doc, data))


async def _tokens_delta(ls, doc, params):
    data = await full_tokens_in_slices(ls, doc)
    previous = ls.token_results.get(doc.uri)
    result_id = remember_tokens(ls, doc, data)
    if previous is None or previous[0] != params.previous_result_id:
        return await _tokens_answer(ls, doc, data, result_id)
    start, delete, insert = f_tokens.delta(previous[1], data)
    edits = [] if delete == 0 and not insert else [lsp.SemanticTokensEdit(start=start, delete_count=delete, data=insert)]
    return lsp.SemanticTokensDelta(edits=edits, result_id=result_id)


def _tokens_range(ls, doc, params) -> lsp.SemanticTokens:
    tokens = f_tokens.semantic_tokens(doc, ls.span(doc, params.range))
    return lsp.SemanticTokens(data=f_tokens.encode(doc, tokens, ls.encoder))


def _folding_ranges(ls, doc, found) -> list[lsp.FoldingRange]:
    return [
        lsp.FoldingRange(start_line=f.start_line, end_line=f.end_line, kind=lsp.FoldingRangeKind.Comment if f.kind == "comment" else None)
        for f in found
    ]


def _selection_ranges(ls, doc, params) -> list:
    out = []
    for pos in params.positions:
        parent = None
        for span in reversed(f_structure.selection_chain(doc, ls.offset(doc, pos))):
            parent = lsp.SelectionRange(range=convert.range_(ls.encoder, doc.line_index, span), parent=parent)
        out.append(parent)
    return out


async def _formatting(ls, doc, params) -> list:
    # (made in the worker: formatting 2 MB takes seconds. The analysis (`need`) and the
    # parse, made on the loop, are read there; the message is sent from the loop.)
    parsed = doc.parsed
    result = await scheduling.in_worker_for(ls, doc, lambda: f_formatting.format_document(doc, parsed))
    if result.message:
        ls.window_show_message(lsp.ShowMessageParams(type=lsp.MessageType.Warning, message=result.message))
    return convert.text_edits(ls.encoder, doc.line_index, result.edits)


def _code_actions(ls, doc, params):
    only = list(params.context.only) if params.context and params.context.only else None
    return f_actions.code_actions(doc, ls.span(doc, params.range), only)


def _lsp_code_actions(ls, doc, actions) -> list[lsp.CodeAction]:
    # a deferred action (the migration) runs the server's command when picked, which makes
    # the edit then and applies it (`workspace/applyEdit`)
    return [
        lsp.CodeAction(
            title=action.title,
            kind=action.kind,
            diagnostics=[convert.diagnostic(ls.encoder, doc, action.diagnostic)] if action.diagnostic else None,
            edit=None if action.deferred else _workspace_edit(ls, doc, action.edits),
            command=(lsp.Command(title=action.title, command=MIGRATE_COMMAND, arguments=[{"uri": doc.uri}])
                     if action.deferred else None),
            is_preferred=action.preferred or None,
        )
        for action in actions
    ]


def _entry(ls, doc, entry) -> dict:
    """A `features.entry_at.Entry` as the ``qvr/entryAt`` answer (docs/internals.md)."""
    unstructure = ls.protocol._converter.unstructure
    return {"name": entry.name, "kind": entry.kind,
            "range": unstructure(convert.range_(ls.encoder, doc.line_index, entry.span)),
            "selectionRange": unstructure(convert.range_(ls.encoder, doc.line_index, entry.name_span)),
            "reason": entry.reason, "commands": list(entry.commands)}


def _entry_params(ls, params) -> lsp.TextDocumentPositionParams:
    return position_params(ls, client_contract.ENTRY_AT_REQUEST, params)


_LEGEND = lsp.SemanticTokensLegend(token_types=list(TOKEN_TYPES), token_modifiers=list(TOKEN_MODIFIERS))

#: Every request about a document's content, in one place.
TABLE: list[Handler] = [
    # navigation
    Handler(lsp.TEXT_DOCUMENT_HOVER, "hover", need="analysis",
            feature=lambda ls, doc, p: f_hover.hover(doc, _offset(ls, doc, p)), convert=_hover),
    Handler(lsp.TEXT_DOCUMENT_DEFINITION, "definition", need="analysis",
            feature=lambda ls, doc, p: f_nav.definition(doc, _offset(ls, doc, p)), convert=_location),
    Handler(lsp.TEXT_DOCUMENT_REFERENCES, "references", need="analysis", default=list,
            feature=_references, convert=_locations),
    Handler(lsp.TEXT_DOCUMENT_DOCUMENT_HIGHLIGHT, "highlight", need="analysis", default=list,
            feature=lambda ls, doc, p: f_nav.highlights(doc, _offset(ls, doc, p)), convert=_highlights),
    Handler(lsp.TEXT_DOCUMENT_PREPARE_RENAME, "prepare_rename", need="analysis",
            feature=lambda ls, doc, p: f_rename.prepare_rename(doc, _offset(ls, doc, p)),
            convert=_prepare_rename),
    Handler(lsp.TEXT_DOCUMENT_RENAME, "rename", need="analysis",
            options=lsp.RenameOptions(prepare_provider=True), feature=_rename, convert=_workspace_edit),
    # symbols
    Handler(lsp.TEXT_DOCUMENT_DOCUMENT_SYMBOL, "document_symbol", need="parse", default=list,
            feature=_document_symbols, convert=_lsp_symbols, threaded=True),
    Handler(lsp.WORKSPACE_SYMBOL, "workspace_symbol", default=list, document=False,
            feature=_workspace_symbols),
    # editing help
    Handler(lsp.TEXT_DOCUMENT_COMPLETION, "completion", default=_empty_completions,
            options=lsp.CompletionOptions(trigger_characters=["~", "-", ">", ":", "(", "[", ",", " ", "="]),
            feature=_completion),
    # (no full analysis: while typing, the top-level names come from the engine's run)
    Handler(lsp.TEXT_DOCUMENT_SIGNATURE_HELP, "signature_help",
            options=lsp.SignatureHelpOptions(trigger_characters=["(", ","]),
            feature=lambda ls, doc, p: f_sig.signature_help(doc, _offset(ls, doc, p)),
            convert=_signature_help),
    Handler(lsp.TEXT_DOCUMENT_INLAY_HINT, "inlay_hint", need="analysis", default=list,
            feature=lambda ls, doc, p: f_inlay.inlay_hints(doc, ls.span(doc, p.range)),
            convert=_inlay_hints),
    Handler(lsp.TEXT_DOCUMENT_SEMANTIC_TOKENS_FULL, "semantic_tokens_full", default=_no_tokens,
            options=_LEGEND, feature=_tokens_full),
    Handler(lsp.TEXT_DOCUMENT_SEMANTIC_TOKENS_FULL_DELTA, "semantic_tokens_delta",
            default=_no_tokens, feature=_tokens_delta),
    Handler(lsp.TEXT_DOCUMENT_SEMANTIC_TOKENS_RANGE, "semantic_tokens_range", need="analysis",
            default=_no_tokens, options=_LEGEND, feature=_tokens_range),
    Handler(lsp.TEXT_DOCUMENT_FOLDING_RANGE, "folding_range", need="parse", default=list,
            feature=lambda ls, doc, p: f_structure.folding_ranges(doc), convert=_folding_ranges,
            threaded=True),
    # (threaded: the first request parses the whole text with tree-sitter, which lets the
    # event loop run meanwhile)
    Handler(lsp.TEXT_DOCUMENT_SELECTION_RANGE, "selection_range", need="parse", default=list,
            feature=_selection_ranges, threaded=True),
    Handler(lsp.TEXT_DOCUMENT_FORMATTING, "formatting", need="analysis", default=list,
            feature=_formatting),
    # (the diagnostics and the chunks, no full analysis: asked on every move of the cursor)
    Handler(lsp.TEXT_DOCUMENT_CODE_ACTION, "code_action", default=list,
            options=lsp.CodeActionOptions(code_action_kinds=[lsp.CodeActionKind.QuickFix, MIGRATE_KIND]),
            feature=_code_actions, convert=_lsp_code_actions),
    # custom requests
    Handler(client_contract.ENTRY_AT_REQUEST, "entry_at", need="analysis", params=_entry_params,
            feature=lambda ls, doc, p: f_entry_at.entry_at(doc.analysis, _offset(ls, doc, p)),
            convert=_entry),
]


# ------------------------------------------------------------------------------------------------
# what is not a row


def register_documents(ls) -> None:
    """The document notifications and pulled diagnostics."""

    @ls.feature(lsp.TEXT_DOCUMENT_DID_OPEN)
    @guarded()
    def did_open(ls, params: lsp.DidOpenTextDocumentParams):
        td = params.text_document
        doc = ls.documents.open(td.uri, td.text, td.version)
        ls.schedule_publish(doc)

    @ls.feature(lsp.TEXT_DOCUMENT_DID_CHANGE)
    @guarded()
    def did_change(ls, params: lsp.DidChangeTextDocumentParams):
        td = params.text_document
        try:
            doc = ls.documents.change(td.uri, td.version, changes_from_lsp(params.content_changes), ls.encoder)
        except Exception:
            # never lose the user's text: apply the changes to the last version's text with
            # pygls' own code instead, and start the document afresh from the result
            log.exception("applying a change failed; applied again with pygls' text document")
            last = ls.documents.get(td.uri)
            text = apply_with_pygls(td.uri, last.text if last is not None else "",
                                    params.content_changes, ls.workspace.position_codec)
            doc = ls.documents.open(td.uri, text, td.version)
        ls.schedule_publish(doc)

    @ls.feature(lsp.TEXT_DOCUMENT_DID_CLOSE)
    @guarded()
    def did_close(ls, params: lsp.DidCloseTextDocumentParams):
        ls.documents.close(params.text_document.uri)
        ls.clear(params.text_document.uri)
        ls.schedule_release()

    # pull diagnostics (LSP 3.17; offered only to clients that pull)
    @ls.feature(
        lsp.TEXT_DOCUMENT_DIAGNOSTIC,
        lsp.DiagnosticOptions(identifier="qvr", inter_file_dependencies=False, workspace_diagnostics=False),
    )
    async def document_diagnostic(ls, params: lsp.DocumentDiagnosticParams):
        """The diagnostics of the latest version (computed in slices if need be; when the
        document changes meanwhile, those of the newer one), run failures included; `unchanged`
        when they are those the client has (`previousResultId`)."""
        uri = params.text_document.uri
        try:
            doc = ls.documents.get(uri)
            while doc is not None and not await ls.documents.ready(doc, "diagnostics"):
                doc = ls.documents.get(uri)  # a newer version arrived: answer for it
            if doc is None:
                return lsp.RelatedFullDocumentDiagnosticReport(items=[])
            result_id, items = ls.diagnostic_result(doc)
            ls.schedule_warm_up(doc)
        except Exception:
            log.exception("document_diagnostic failed")
            return lsp.RelatedFullDocumentDiagnosticReport(items=[])
        if params.previous_result_id is not None and params.previous_result_id == result_id:
            return lsp.RelatedUnchangedDocumentDiagnosticReport(result_id=result_id)
        return lsp.RelatedFullDocumentDiagnosticReport(items=items, result_id=result_id)


def register_server_requests(ls) -> None:
    """``qvr/debugInfo`` and the ``qvr.migrateFile`` command."""

    @ls.feature(DEBUG_INFO)
    def debug_info(ls, params):
        """Facts tests rely on: whether torch got imported, the negotiated encoding, versions."""
        import hashlib  # only this debugging request needs it

        return {
            "torch_loaded": "torch" in sys.modules,
            "compile_loaded": any(m.startswith(("qvr.compile", "qvr.infer")) for m in sys.modules),
            "position_encoding": ls.encoder.encoding,
            "documents": [[d.uri, d.version, hashlib.sha1(d.text.encode("utf-8", "surrogatepass")).hexdigest()] for d in ls.documents.all()],
            "version": __version__,
        }

    @ls.command(MIGRATE_COMMAND)
    async def migrate_file(ls, *args):
        try:
            arg = args[0] if args else {}
            if isinstance(arg, (list, tuple)):
                arg = arg[0] if arg else {}
            uri = arg.get("uri") if isinstance(arg, dict) else getattr(arg, "uri", None)
            doc = ls.documents.get(uri) if uri else None
            if doc is None:
                return {"applied": False, "message": "document is not open"}
            try:  # made in the worker (an analysis per round: seconds on a big classic file)
                action = await scheduling.in_worker_for(ls, doc, lambda: f_actions.migrate_action(doc))
            except ContentModified:
                return {"applied": False, "message": "the document changed meanwhile; migrate it again"}
            if action is None:
                return {"applied": False, "message": "nothing to migrate"}
            edit = _workspace_edit(ls, doc, action.edits)
            ls.workspace_apply_edit(lsp.ApplyWorkspaceEditParams(edit=edit, label="Migrate to current QVR syntax"))
            return {"applied": True}
        except Exception as exc:
            log.exception("migrateFile failed")
            return {"applied": False, "message": str(exc)}
