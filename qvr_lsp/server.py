"""The QVR language server: the server object and `create_server`, which wires the layers.

The layers, each in its own module:

* `qvr_lsp.transport`: frames in, messages out, serving stdio or TCP until ``exit``;
* `qvr_lsp.protocol`: the JSON-RPC and LSP rules every message must follow;
* `qvr_lsp.scheduling`: slices, pauses, and requests that wait for the analysis (ContentModified
  when the document changed meanwhile);
* `qvr_lsp.handlers`: the table of requests (method → what it needs → feature function →
  converter) and the document notifications;
* `qvr_lsp.run_commands`: the run layer (run commands, code lenses, settings, shutdown),
  registered by `create_server` like the rest;
* `qvr_lsp.documents` and `qvr_lsp.features`: the documents and what is computed from them,
  knowing nothing of LSP.

This module holds `QvrLanguageServer` (documents, positions in the negotiated encoding, and
diagnostics publishing: pushed from the engine's incremental run, or pulled) and `create_server`.

Every handler catches its own exceptions, logs them and returns an empty/neutral result, so no
input (broken syntax, huge files, binary junk) can crash the server or lose the user's text.
Diagnostics are checked in a loop callback right after a change: changes that arrive while a
check runs coalesce into one check of the latest version, and a publish for a version that is no
longer the latest is dropped. Requests always answer from the latest document version.
"""
from __future__ import annotations

import asyncio
import json
import logging
import os

from lsprotocol import types as lsp
from qvr.semantics.placed import DiagnosticRuns, Run
from pygls.lsp.server import LanguageServer

from . import __version__, convert, handlers, run_commands
from .documents import DocumentStore
from .features import diagnostics as f_diagnostics  # the first publish needs it
from .positions import PositionEncoder
from .protocol import QvrProtocol
from .scheduling import IdleCollector, Scheduling
from .transport import Serving, _output_closed, write_message

# what callers of the single-module server imported from here (`__main__`, tests, bench/)
from .protocol import ContentModified  # noqa: E402,F401
from .scheduling import tune_gc  # noqa: E402,F401
from .transport import _is_pipe, _readable  # noqa: E402,F401

log = logging.getLogger("qvr_lsp")


class QvrLanguageServer(Serving, Scheduling, LanguageServer):
    """The server: pygls' `LanguageServer` with our transport (`Serving`), protocol rules
    (`QvrProtocol`) and scheduling (`Scheduling`), the open documents (`documents`) and how
    their diagnostics reach the client (pushed, or pulled by clients that can)."""

    def __init__(self) -> None:
        super().__init__("qvr-lsp", __version__, protocol_cls=QvrProtocol)
        self.documents = DocumentStore(first_from_analysis=True, release_in_slices=True)
        self._workspace_index = None
        fixed = os.environ.get("QVR_LSP_DEBOUNCE_MS")
        self.fixed_debounce_s = float(fixed) / 1000.0 if fixed else None
        self._pending: dict[str, asyncio.TimerHandle] = {}
        self._warm: dict[str, asyncio.TimerHandle] = {}
        self._warming: set = set()
        self._releasing = None  # the task freeing replaced documents' results, while it runs
        self.idle_gc = IdleCollector()
        self.idle_gc.open_characters = lambda: sum(len(doc.text) for doc in self.documents.all())
        self.token_results: dict[str, tuple[str, list[int]]] = {}  # uri -> last semantic tokens
        # Diagnostics: pushed (publishDiagnostics), or pulled by clients that can (decided at
        # initialize, see `QvrProtocol.lsp_initialize`)
        self.pull_diagnostics = False
        self._diagnostic_memos: dict[str, convert.DiagnosticMemo] = {}  # uri -> converted ones
        self._diagnostic_results: dict[str, tuple[str, list]] = {}  # uri -> (result id, items)
        self._result_count = 0
        self._checking: set = set()  # tasks computing diagnostics in slices (references)
        self._reporting_error = False
        self.exit_code = 0  # what `exit` asked for: 1 when no shutdown came first (LSP)

    def report_server_error(self, error: Exception, source) -> None:
        """pygls shows an error that answers no request to the user (window/showMessage). Not
        when the error is that the output is closed, and never from inside such a report:
        each failed send is reported by sending again, which recursed until Python's limit
        (190,000 lines of tracebacks on stderr for one answer that came after the client left)."""
        if self._reporting_error or _output_closed(error):
            log.debug("not reported to the client: %r", error)
            return
        self._reporting_error = True
        try:
            super().report_server_error(error, source)
        finally:
            self._reporting_error = False

    @property
    def workspace_index(self):
        """The index of the workspace's files for workspace/symbol (`features.symbols`), made
        at the first such request: the first diagnostics do not need the module."""
        if self._workspace_index is None:
            from .features.symbols import WorkspaceIndex

            self._workspace_index = WorkspaceIndex()
        return self._workspace_index

    @property
    def encoder(self) -> PositionEncoder:
        try:
            return PositionEncoder(self.workspace.position_encoding)
        except Exception:  # before initialize
            return PositionEncoder()

    def offset(self, doc, pos: lsp.Position) -> int:
        return self.encoder.from_lsp(doc.line_index, pos.line, pos.character)

    def span(self, doc, rng: lsp.Range):
        return self.encoder.span_from_lsp(doc.line_index, (rng.start.line, rng.start.character), (rng.end.line, rng.end.character))

    def prepared_diagnostics(self, doc) -> convert.PreparedDiagnostics:
        """The document's diagnostics plus run failures in their LSP form, made through the
        document's `convert.DiagnosticMemo` (those that did not change cost a look-up)."""
        found = f_diagnostics.document_diagnostic_runs(doc)
        extra = self._run_diagnostics(doc.uri)
        if extra:
            found = DiagnosticRuns([*found.runs, Run.of(extra)])
        encoder = self.encoder
        # qvr.diagnostics.codeDescriptionBaseUrl, kept by the run layer with the other settings
        base = getattr(getattr(self, "runs", None), "code_description_base", None)
        memo = self._diagnostic_memos.get(doc.uri)
        if memo is None or memo.encoding != encoder.encoding or memo.link_base != base:
            memo = self._diagnostic_memos[doc.uri] = convert.DiagnosticMemo(
                doc.uri, encoder.encoding, base)
        return memo.prepare(encoder, doc.line_index, found)

    def lsp_diagnostics(self, doc) -> list[lsp.Diagnostic]:
        """The document's diagnostics plus run failures, as lsprotocol objects."""
        return self.prepared_diagnostics(doc).objects()

    def diagnostic_result(self, doc) -> tuple[str, convert.PreparedDiagnostics]:
        """(result id, LSP diagnostics) of `doc` now. The result id changes only when the
        diagnostics do (as the client sees them: the same JSON, so the same ranges in the
        negotiated encoding), so a pull after a keystroke that changed none can be answered
        `unchanged`."""
        items = self.prepared_diagnostics(doc)
        previous = self._diagnostic_results.get(doc.uri)
        if previous is not None and previous[1].texts == items.texts:
            # (a C loop: unchanged fragments are the very same strings) the same diagnostics
            # as the client has: the same result, whose JSON is already made
            result_id, items = previous
        else:
            self._result_count += 1
            result_id = f"{self._result_count}"
        self._diagnostic_results[doc.uri] = (result_id, items)
        return result_id, items

    def publish(self, doc) -> None:
        """Push the diagnostics of `doc`, if it is still the latest version (and the client
        does not pull them)."""
        if not self.documents.is_current(doc) or self.pull_diagnostics:
            return  # a newer version arrived (its own publish is scheduled), or the client pulls
        try:
            diags = self.diagnostic_result(doc)[1]
        except Exception:
            log.exception("diagnostics failed for %s", doc.uri)
            diags = []
        if not self.documents.is_current(doc):
            return
        self.text_document_publish_diagnostics(
            lsp.PublishDiagnosticsParams(uri=doc.uri, diagnostics=diags, version=doc.version)
        )

    def text_document_publish_diagnostics(self, params: lsp.PublishDiagnosticsParams) -> None:
        """pygls' notification, written directly from the JSON texts of the diagnostics when
        they come prepared (`convert.PreparedDiagnostics`, what `publish` sends): serialising
        thousands of hints through cattrs cost more than the rest of a keystroke. Anything else
        goes through pygls."""
        items = params.diagnostics
        if not isinstance(items, convert.PreparedDiagnostics) or self.protocol.writer is None:
            return super().text_document_publish_diagnostics(params)
        version = "" if params.version is None else f'"version":{json.dumps(params.version)},'
        write_message(self.protocol, (
            f'{{"jsonrpc":"2.0","method":"{lsp.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS}","params":'
            f'{{"uri":{json.dumps(params.uri)},{version}"diagnostics":{items.json()}}}}}'))

    def _run_diagnostics(self, uri: str) -> list:
        """Failures of editor runs on this exact text (`qvr_lsp.run_commands`), if any."""
        runs = getattr(self, "runs", None)
        if runs is None or not hasattr(runs, "extra_diagnostics"):
            return []
        try:
            return list(runs.extra_diagnostics(uri) or ())
        except Exception:
            log.exception("run diagnostics failed for %s", uri)
            return []

    def publish_diagnostics_for(self, uri: str) -> None:
        """Re-publish a document's diagnostics now (the run layer calls this after a run); a
        client that pulls them is asked to pull again, if it can be."""
        doc = self.documents.get(uri)
        if doc is None:
            return
        if not self.pull_diagnostics:
            self.publish(doc)
            return
        workspace = getattr(self.client_capabilities, "workspace", None)
        if getattr(getattr(workspace, "diagnostics", None), "refresh_support", None):
            try:
                self.workspace_diagnostic_refresh(None)
            except Exception:
                log.exception("workspace/diagnostic/refresh failed")
        # otherwise the client's next pull (on its next edit or focus) has them

    def clear(self, uri: str) -> None:
        self.token_results.pop(uri, None)
        self._diagnostic_memos.pop(uri, None)
        self._diagnostic_results.pop(uri, None)
        for handles in (self._pending, self._warm):
            pending = handles.pop(uri, None)
            if pending is not None:
                pending.cancel()
        if not self.pull_diagnostics:  # a pulling client drops a closed document's itself
            self.text_document_publish_diagnostics(lsp.PublishDiagnosticsParams(uri=uri, diagnostics=[]))


def create_server() -> QvrLanguageServer:
    """A server with every handler: the documents' notifications, the request table, the
    server's own requests, and the run layer."""
    ls = QvrLanguageServer()
    handlers.register_documents(ls)
    handlers.register(ls, handlers.TABLE)
    handlers.register_server_requests(ls)
    run_commands.register(ls)  # run commands, code lenses, settings, shutdown
    return ls
