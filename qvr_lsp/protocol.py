"""The JSON-RPC and LSP rules every message must follow, and the errors the server answers.

`QvrProtocol` is pygls' `LanguageServerProtocol` with the lifecycle and message rules of LSP
enforced on every message (docs/internals.md, "Language server core"): each body the
transport (`qvr_lsp.transport`) reads is handed to `QvrProtocol.receive`, which answers
ParseError, InvalidRequest, InvalidParams or ServerNotInitialized where pygls would have
answered nothing or the wrong thing. `RequestFailed` and `ContentModified` are the errors
handlers raise on purpose; `position_params` checks the params of a custom request the way
LSP's own are checked.
"""
from __future__ import annotations

import asyncio
import contextvars
import json
import logging
import re
from typing import Any, Optional

from cattrs.errors import ClassValidationError
from lsprotocol import types as lsp
from pygls.exceptions import JsonRpcException, JsonRpcInternalError, JsonRpcInvalidParams
from pygls.protocol import LanguageServerProtocol
from pygls.protocol.json_rpc import JsonRPCNotification, JsonRPCRequestMessage, JsonRPCResponseMessage
from pygls.protocol.language_server import lsp_method

from .convert import PreparedDiagnostics
from .transport import FrameError, write_message

log = logging.getLogger("qvr_lsp")


# JSON-RPC and LSP error codes answered by the protocol layer.
PARSE_ERROR = -32700
INVALID_REQUEST = -32600
INVALID_PARAMS = -32602
SERVER_NOT_INITIALIZED = -32002

# A frame header inside a body: the body swallowed the next message.
_HEADER_INSIDE = re.compile(rb"Content-Length[ \t]*:[ \t]*\d+\r?\n", re.IGNORECASE)


def _params_problem(exc: BaseException) -> str:
    """What is wrong with a message that did not fit its LSP type, with JSON field names:
    `params.position: required field missing`."""
    if isinstance(exc, ClassValidationError):
        from cattrs import transform_error  # only a broken message needs it

        problems = []
        for text in transform_error(exc, path="$"):
            what, _, where = text.rpartition(" @ ")
            where = re.sub(r"_([a-z])", lambda m: m.group(1).upper(), where.removeprefix("$."))
            problems.append(f"{where}: {what}" if what else text)
        return "; ".join(problems)
    return str(exc) or type(exc).__name__


def prefer_utf8(params: lsp.InitializeParams) -> None:
    """Move `utf-8` to the front of the client's position encodings when it offers it.

    pygls picks the client's first supported encoding; we want UTF-16 by default but UTF-8 (the
    encoding tree-sitter and most fast clients use) whenever the client can speak it."""
    general = getattr(params.capabilities, "general", None)
    encodings = list(getattr(general, "position_encodings", None) or ())
    if general is not None and "utf-8" in encodings:
        encodings.remove("utf-8")
        general.position_encodings = ["utf-8", *encodings]


def client_pulls_diagnostics(capabilities) -> bool:
    """Whether the client can pull diagnostics (LSP 3.17 `textDocument.diagnostic`)."""
    return getattr(getattr(capabilities, "text_document", None), "diagnostic", None) is not None


class QvrProtocol(LanguageServerProtocol):
    """The standard protocol, with UTF-8 preferred at initialisation (see `prefer_utf8`), the
    lifecycle rules of LSP enforced on every message, and an `exit` that waits for the answer to
    a `shutdown` still in progress.

    Messages come in through `receive` (one frame's body), never through pygls' own reader:
    pygls answered a request whose params did not fit nothing at all (the client waited
    forever), answered requests before `initialize` with `null` and accepted a second
    `initialize`. Here every request gets an answer:

    * a body that is not JSON: ParseError (-32700) with id null;
    * not a JSON-RPC 2.0 message (an array, no `jsonrpc: "2.0"`, a `method` that is not a
      string, an `id` that is neither integer nor string): InvalidRequest (-32600);
    * params that do not fit the method's LSP type: InvalidParams (-32602), naming the field;
    * a request before `initialize`: ServerNotInitialized (-32002); a second `initialize`, or
      any request after `shutdown`: InvalidRequest. Notifications before `initialize` and after
      `shutdown` are dropped, except `exit`, as LSP asks.

    An error the handler raised on purpose (a refused rename, ContentModified, a run command
    that cannot run) is the answer: it is logged as one line, not as a traceback."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._shutdown_answered: Optional[asyncio.Event] = None  # set while shutdown runs
        self._initialize_received = False
        self._shutdown_received = False

    # -- incoming messages ---------------------------------------------------------------------
    def receive(self, body: bytes) -> None:
        """Handle one message, the body of one frame. Raises `FrameError` when the body shows
        that the framing itself is broken (it holds the next message's header)."""
        try:
            data = json.loads(body.decode("utf-8"))
        except (UnicodeDecodeError, ValueError) as exc:
            if _HEADER_INSIDE.search(body):
                # The announced length swallowed (part of) the next message: its Content-Length
                # was too large. What follows cannot be framed with any confidence.
                raise FrameError(f"a message of {len(body)} bytes (its Content-Length) runs into "
                                 "the next message's header; the Content-Length was wrong") from None
            why = "not UTF-8" if isinstance(exc, UnicodeDecodeError) else "not JSON"
            log.warning("a message of %d bytes is %s; answered ParseError", len(body), why)
            self.send_error(None, PARSE_ERROR, f"Parse error: the message body is {why}")
            return
        if not isinstance(data, dict):
            self._invalid_request(None, "a JSON-RPC message must be an object (LSP has no batches)")
            return
        msg_id = data.get("id")
        id_ok = isinstance(msg_id, (int, str)) and not isinstance(msg_id, bool)
        method = data.get("method")
        if "method" not in data and "id" in data and ("result" in data or "error" in data):
            self._receive_response(data, msg_id)
            return
        if "method" in data and "id" not in data:
            self._receive_notification(method, data)
            return
        if data.get("jsonrpc") != "2.0":
            self._invalid_request(msg_id if id_ok else None, 'a JSON-RPC 2.0 message needs "jsonrpc": "2.0"')
        elif "method" not in data:
            self._invalid_request(msg_id if id_ok else None,
                                  "neither a request, a notification nor a response")
        elif not id_ok:
            self._invalid_request(None, 'a request "id" must be an integer or a string')
        elif not isinstance(method, str):
            self._invalid_request(msg_id, 'a request "method" must be a string')
        else:
            self._receive_request(msg_id, method, data)

    def _receive_request(self, msg_id, method: str, data: dict) -> None:
        if method == lsp.INITIALIZE:
            if self._initialize_received:
                self._invalid_request(msg_id, "initialize was already received: a server is initialized once")
                return
        elif not self._initialize_received:
            self.send_error(msg_id, SERVER_NOT_INITIALIZED,
                            f"{method}: the server is not initialized yet (send initialize first)")
            return
        elif self._shutdown_received:
            self._invalid_request(msg_id, f"{method}: the server is shutting down; only exit is accepted")
            return
        try:
            message = self._converter.structure(data, self.get_message_type(method) or JsonRPCRequestMessage)
        except Exception as exc:
            problem = f"invalid params for {method}: {_params_problem(exc)}"
            log.warning("answered InvalidParams: %s", problem)
            self.send_error(msg_id, INVALID_PARAMS, problem)
            return
        if method == lsp.INITIALIZE:
            self._initialize_received = True
        elif method == lsp.SHUTDOWN:
            self._shutdown_received = True
        contextvars.copy_context().run(self._handle_request, message.id, method, message.params)

    def _receive_notification(self, method, data: dict) -> None:
        if not isinstance(method, str) or data.get("jsonrpc") != "2.0":
            log.warning("ignored a notification that is not JSON-RPC 2.0")
            return
        if method != lsp.EXIT and (not self._initialize_received or self._shutdown_received):
            log.info("ignored %s %s initialize", method,
                     "after shutdown" if self._shutdown_received else "before")
            return
        try:
            message = self._converter.structure(data, self.get_message_type(method) or JsonRPCNotification)
        except Exception as exc:
            log.warning("ignored %s: invalid params: %s", method, _params_problem(exc))
            return
        contextvars.copy_context().run(self._handle_notification, method, message.params)

    def _receive_response(self, data: dict, msg_id) -> None:
        """The client's answer to a request of ours. One that does not fit its type fails the
        request (whoever waits for it sees an error) instead of leaving it pending forever; one
        nobody waits for any more (the wait timed out) is dropped."""
        key_ok = isinstance(msg_id, (int, str)) and not isinstance(msg_id, bool)
        result_type = self._result_types.pop(msg_id, None) if key_ok else None
        future = self._request_futures.get(msg_id) if key_ok else None
        if future is None or future.done():
            if future is not None:
                self._request_futures.pop(msg_id, None)
            log.info("dropped an answer to request %r, which nobody waits for", msg_id)
            return
        try:
            if "error" in data:
                message = self._converter.structure(data, lsp.ResponseErrorMessage)
            else:
                message = self._converter.structure(data, result_type or JsonRPCResponseMessage)
        except Exception as exc:
            problem = _params_problem(exc)
            log.warning("the client's answer to request %r does not fit: %s", msg_id, problem)
            self._request_futures.pop(msg_id, None)
            future.set_exception(JsonRpcException(code=INVALID_PARAMS, message=problem))
            return
        if "error" in data:
            contextvars.copy_context().run(self._handle_response, message.id, None, message.error)
        else:
            contextvars.copy_context().run(self._handle_response, message.id, message.result)

    def _invalid_request(self, msg_id, message: str) -> None:
        log.warning("answered InvalidRequest: %s", message)
        self.send_error(msg_id, INVALID_REQUEST, message)

    def send_error(self, msg_id, code: int, message: str) -> None:
        """Answer request `msg_id` (None: one whose id could not be read) with an error."""
        write_message(self, json.dumps({"jsonrpc": "2.0", "id": msg_id,
                                        "error": {"code": code, "message": message}}))

    def _send_response(self, msg_id, result=None, error=None):
        """pygls' answer, except that a result already written as JSON (`PreparedResult`) is
        sent as it is, and a full pulled-diagnostics report whose items come
        prepared (`qvr_lsp.convert.PreparedDiagnostics`) is written from their JSON texts, as
        pushed diagnostics are (`QvrLanguageServer.text_document_publish_diagnostics`)."""
        if error is None and isinstance(result, PreparedResult) and self.writer is not None:
            self._result_types.pop(msg_id, None)
            write_message(self, f'{{"jsonrpc":"2.0","id":{json.dumps(msg_id)},"result":{result.json}}}')
            return
        if (error is None and isinstance(result, lsp.RelatedFullDocumentDiagnosticReport)
                and isinstance(result.items, PreparedDiagnostics) and not result.related_documents
                and self.writer is not None):
            self._result_types.pop(msg_id, None)
            result_id = "" if result.result_id is None else f'"resultId":{json.dumps(result.result_id)},'
            write_message(self, f'{{"jsonrpc":"2.0","id":{json.dumps(msg_id)},"result":'
                                f'{{"kind":"full",{result_id}"items":{result.items.json()}}}}}')
            return
        super()._send_response(msg_id, result, error)

    def _send_handler_result(self, future, *, msg_id):
        """pygls' answer to a request, except that an error a handler raised on purpose (a
        JsonRpcException other than an internal error) is sent without a traceback in the log
        and without a second report: the client shows the answer."""
        if not future.cancelled():
            error = future.exception()
            if isinstance(error, JsonRpcException) and not isinstance(error, JsonRpcInternalError):
                self._request_futures.pop(msg_id, None)
                log.info("request %r refused (%s): %s", msg_id, error.code, error.message)
                self._send_response(msg_id, error=error.to_response_error())
                return
        super()._send_handler_result(future, msg_id=msg_id)

    # -- lifecycle -----------------------------------------------------------------------------
    @lsp_method(lsp.INITIALIZE)
    def lsp_initialize(self, params: lsp.InitializeParams):
        try:
            prefer_utf8(params)
        except Exception:
            log.exception("could not reorder position encodings")
        result = yield from super().lsp_initialize(params)
        # Pull diagnostics (textDocument/diagnostic) only for clients that can pull; the others
        # get them pushed. Never both: editors keep pulled and pushed diagnostics apart (VS
        # Code in two collections, Neovim in two namespaces) and would show each one twice.
        pull = client_pulls_diagnostics(params.capabilities)
        self._server.pull_diagnostics = pull
        if not pull and result is not None and result.capabilities is not None:
            result.capabilities.diagnostic_provider = None
        return result

    @lsp_method(lsp.SHUTDOWN)
    def lsp_shutdown(self, *args):
        # The user handler (the run layer's: it stops running workers politely) is a
        # coroutine, so the answer takes a few turns of the loop; `lsp_exit` waits for it.
        self._shutdown_answered = answered = asyncio.Event()
        try:
            return (yield from super().lsp_shutdown(*args))
        finally:
            answered.set()  # the answer is sent before the waiter resumes

    # -- open documents ------------------------------------------------------------------------
    # The server's own store (`qvr_lsp.documents.DocumentStore`) is the one copy of an open
    # document that features read. pygls' built-in handlers keep a second one in `workspace` and
    # rebuild its whole text for every change, every line written again, before the server's
    # handler runs: 0.5 ms per keystroke on 5,000 lines, about 50 ms on a 10 MB file. Here the
    # notifications go straight to the server's handlers; pygls' text-document code is used only
    # when applying a change to the store fails (`apply_with_pygls`).
    @lsp_method(lsp.TEXT_DOCUMENT_DID_OPEN)
    def lsp_text_document__did_open(self, params: lsp.DidOpenTextDocumentParams):
        return (yield from self._document_handler(lsp.TEXT_DOCUMENT_DID_OPEN, params))

    @lsp_method(lsp.TEXT_DOCUMENT_DID_CHANGE)
    def lsp_text_document__did_change(self, params: lsp.DidChangeTextDocumentParams):
        return (yield from self._document_handler(lsp.TEXT_DOCUMENT_DID_CHANGE, params))

    @lsp_method(lsp.TEXT_DOCUMENT_DID_CLOSE)
    def lsp_text_document__did_close(self, params: lsp.DidCloseTextDocumentParams):
        return (yield from self._document_handler(lsp.TEXT_DOCUMENT_DID_CLOSE, params))

    def _document_handler(self, method: str, params):
        handler = self.fm.features.get(method)
        if handler is not None:
            yield handler, (params,), None

    @lsp_method(lsp.EXIT)
    def lsp_exit(self, *args):
        """Exit with 0 when `shutdown` came first, as LSP asks, even when a client sends `exit`
        right behind `shutdown` without waiting for its answer (the exit then waits for that
        answer). The wait is a task of its own: pygls' `shutdown` cancels every other request
        in flight, and a wait run as one of them was cancelled, leaving the server running."""
        self._server.exit_when_answered(self._shutdown_answered)


class PreparedResult:
    """A request's result as JSON text, made off the event loop (`qvr_lsp.handlers`: a
    handler whose answer for a big document takes seconds to build and to serialise)."""

    __slots__ = ("json",)

    def __init__(self, json_text: str) -> None:
        self.json = json_text


class RequestFailed(JsonRpcException):
    """LSP's RequestFailed (-32803): the request was valid but we refuse it, with a reason."""

    CODE = -32803
    MESSAGE = "request failed"


class ContentModified(JsonRpcException):
    """LSP's ContentModified (-32801): the document changed while the request waited for its
    analysis; the client asks again for the new version if it still wants the answer."""

    CODE = -32801
    MESSAGE = "content modified"


def _plain(value: Any) -> Any:
    """pygls' objects for the params of a method without an LSP type, back to JSON values."""
    if hasattr(value, "_asdict"):
        return {k: _plain(v) for k, v in value._asdict().items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def position_params(ls, method: str, params: Any) -> lsp.TextDocumentPositionParams:
    """The ``{textDocument, position}`` params of a custom request, checked as LSP's own
    requests are (InvalidParams naming the field)."""
    try:
        return ls.protocol._converter.structure(_plain(params), lsp.TextDocumentPositionParams)
    except Exception as exc:
        fields = re.sub(r"(^|; )(?=\w)", r"\1params.", _params_problem(exc))  # as for LSP's own
        problem = f"invalid params for {method}: {fields}"
        log.warning("answered InvalidParams: %s", problem)
        raise JsonRpcInvalidParams(problem) from None
