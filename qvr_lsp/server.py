"""pygls 2 wiring: capabilities, and handlers that call feature functions and convert results.

Every handler catches its own exceptions, logs them and returns an empty/neutral result, so no
input (broken syntax, huge files, binary junk) can crash the server or lose the user's text.
Diagnostics are checked in a loop callback right after a change: changes that arrive while a
check runs coalesce into one check of the latest version, and a publish for a version that is no
longer the latest is dropped. Requests always answer from the latest document version.

Diagnostics come from the incremental checker; the full Analysis that hover, navigation and the
other requests read is computed in slices of a few milliseconds between messages (`after`,
`DocumentStore.ready`), when a request needs it or when the user pauses (`schedule_warm_up`), so a
keystroke never waits for it; a request whose document changed meanwhile gets ContentModified.
"""
from __future__ import annotations

import asyncio
import contextvars
import functools
import importlib.util
import inspect
import json
import logging
import operator
import os
import re
import select
import signal
import stat
import sys
import threading
from typing import Any, Callable, Optional

from cattrs.errors import ClassValidationError
from lsprotocol import types as lsp
from pygls.exceptions import JsonRpcException, JsonRpcInternalError, JsonRpcInvalidParams
from pygls.io_ import StdoutWriter
from pygls.lsp.server import LanguageServer
from pygls.protocol import LanguageServerProtocol
from pygls.protocol.json_rpc import JsonRPCNotification, JsonRPCRequestMessage, JsonRPCResponseMessage
from pygls.protocol.language_server import lsp_method

from . import __version__, client_contract, convert, documents
from .documents import DocumentStore, changes_from_lsp
from .features import (
    code_actions as f_actions,  # registration reads MIGRATE_KIND
    diagnostics as f_diagnostics,  # the first publish needs it
    formatting as f_formatting,  # code_actions imports it anyway
    semantic_tokens as f_tokens,  # registration reads the token legend
    symbols as f_symbols,  # the server holds a WorkspaceIndex from the start
)
from .positions import PositionEncoder

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


# Feature modules used only by requests, never on the way to the first diagnostics.
f_completion = _lazy_module("qvr_lsp.features.completion")
f_hover = _lazy_module("qvr_lsp.features.hover")
f_inlay = _lazy_module("qvr_lsp.features.inlay_hints")
f_nav = _lazy_module("qvr_lsp.features.navigation")
f_rename = _lazy_module("qvr_lsp.features.rename")
f_sig = _lazy_module("qvr_lsp.features.signature_help")
f_structure = _lazy_module("qvr_lsp.features.structure")

DEBUG_INFO = client_contract.DEBUG_INFO_REQUEST
MIGRATE_COMMAND = client_contract.MIGRATE_COMMAND


def prefer_utf8(params: lsp.InitializeParams) -> None:
    """Move `utf-8` to the front of the client's position encodings when it offers it.

    pygls picks the client's first supported encoding; we want UTF-16 by default but UTF-8 (the
    encoding tree-sitter and most fast clients use) whenever the client can speak it."""
    general = getattr(params.capabilities, "general", None)
    encodings = list(getattr(general, "position_encodings", None) or ())
    if general is not None and "utf-8" in encodings:
        encodings.remove("utf-8")
        general.position_encodings = ["utf-8", *encodings]


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

    @lsp_method(lsp.EXIT)
    def lsp_exit(self, *args):
        """Exit with 0 when `shutdown` came first, as LSP asks, even when a client sends `exit`
        right behind `shutdown` without waiting for its answer (the exit then waits for that
        answer). The wait is a task of its own: pygls' `shutdown` cancels every other request
        in flight, and a wait run as one of them was cancelled, leaving the server running."""
        self._server.exit_when_answered(self._shutdown_answered)


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


# How long `exit` waits for a `shutdown` still being answered (runs get their grace period
# from the run layer's own settings; this only bounds a stuck handler).
SHUTDOWN_WAIT_S = 10.0


async def _wait_at_most(event: asyncio.Event, seconds: float) -> None:
    try:
        await asyncio.wait_for(event.wait(), seconds)
    except asyncio.TimeoutError:
        log.warning("exiting before the shutdown request was answered")


def client_pulls_diagnostics(capabilities) -> bool:
    """Whether the client can pull diagnostics (LSP 3.17 `textDocument.diagnostic`)."""
    return getattr(getattr(capabilities, "text_document", None), "diagnostic", None) is not None


def _output_closed(error: BaseException) -> bool:
    """Whether `error` says the client's end is gone (nothing can be sent to it any more)."""
    if isinstance(error, (BrokenPipeError, ConnectionError, EOFError)):
        return True
    return isinstance(error, ValueError) and "closed file" in str(error)


class QvrLanguageServer(LanguageServer):
    def __init__(self) -> None:
        super().__init__("qvr-lsp", __version__, protocol_cls=QvrProtocol)
        self.documents = DocumentStore(first_from_analysis=True)
        self.workspace_index = f_symbols.WorkspaceIndex()
        fixed = os.environ.get("QVR_LSP_DEBOUNCE_MS")
        self.fixed_debounce_s = float(fixed) / 1000.0 if fixed else None
        self._pending: dict[str, asyncio.TimerHandle] = {}
        self._warm: dict[str, asyncio.TimerHandle] = {}
        self._warming: set = set()
        self.idle_gc = IdleCollector()
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

    # -- stdio --------------------------------------------------------------------------------
    def start_io(self, stdin=None, stdout=None):
        """Serve LSP on stdin/stdout with our own reader (`serve`). A pipe or socket (what an
        editor gives its language server) is read by the event loop itself: pygls read stdin
        in a worker thread, a thread hop per header line and body, each needing the GIL, so
        while the full analysis ran in slices (`DocumentStore.ready`) a keystroke waited for
        the GIL before it was even read, or each slice had to pause for it
        (`documents.SLICE_PAUSE_S`). Anything else (a file, a terminal, Windows) is read by a
        daemon thread that feeds the same reader, so it never keeps the process alive."""
        stdin = stdin if stdin is not None else sys.stdin.buffer
        self.protocol.set_writer(StdoutWriter(stdout if stdout is not None else sys.stdout.buffer))
        self._run_loop(self._serve_stdin(stdin, pipe=_is_pipe(stdin)))

    def start_tcp(self, host: str, port: int) -> None:
        """Serve one client on a TCP socket with the same reader as stdio."""

        async def main() -> None:
            done = asyncio.get_running_loop().create_future()

            async def connection(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
                self.protocol.set_writer(writer)
                try:
                    await self.serve(reader)
                finally:
                    if not done.done():
                        done.set_result(None)

            server = await asyncio.start_server(connection, host, port, limit=_READ_LIMIT)
            async with server:
                await done

        self._run_loop(main())

    def _run_loop(self, main) -> None:
        self._stop_event = threading.Event()
        try:
            asyncio.run(main)
        except BrokenPipeError:
            log.error("the connection to the client was lost; shutting down")
        except (KeyboardInterrupt, SystemExit):
            pass
        finally:
            self.shutdown()

    async def _serve_stdin(self, stdin, *, pipe: bool) -> None:
        loop = asyncio.get_running_loop()
        reader = asyncio.StreamReader(limit=_READ_LIMIT)
        if pipe:
            await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), stdin)
            self.documents.slice_pause_s = 0.0  # messages are read between slices without waiting
            self.documents.input_waiting = _readable(stdin)  # and a slice ends when one comes in
        else:
            _feed_from_thread(stdin, reader, loop)
        await self.serve(reader)

    async def serve(self, stream: asyncio.StreamReader) -> None:
        """Read and handle messages until `exit`, the end of the input, a termination signal,
        or input that cannot be split into messages any more (`FrameError`: the server exits
        with status 1 after one line on stderr, rather than read on without knowing where the
        next message starts)."""
        loop = asyncio.get_running_loop()
        self._exit_requested = loop.create_future()
        handled = self._handle_signals(loop)
        reading = asyncio.ensure_future(self._read_messages(_FrameReader(stream)))
        try:
            await asyncio.wait({reading, self._exit_requested}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for sig in handled:
                loop.remove_signal_handler(sig)
            if not reading.done():
                reading.cancel()
            elif reading.exception() is not None:
                raise reading.exception()

    async def _read_messages(self, reader: "_FrameReader") -> None:
        while True:
            try:
                body = await reader.next_body()
                if body is None:
                    return  # the client closed its end between messages
                self.protocol.receive(body)
            except FrameError as exc:
                log.error("broken message framing, exiting: %s", exc)
                self.exit_code = 1
                return

    def exit_when_answered(self, pending: Optional[asyncio.Event]) -> None:
        """`exit`: stop serving once a `shutdown` still being answered has its answer out;
        the exit status is 0 if `shutdown` came first, else 1."""

        async def finish() -> None:
            if pending is not None and not pending.is_set():
                await _wait_at_most(pending, SHUTDOWN_WAIT_S)
            self.stop_serving(0 if self.protocol._shutdown else 1)

        self._exiting = asyncio.ensure_future(finish())  # a reference until the loop ends

    def stop_serving(self, code: int) -> None:
        """End `serve` with exit status `code` (the process exits once the loop is done)."""
        self.exit_code = code
        future = getattr(self, "_exit_requested", None)
        if future is None:  # not serving (handlers driven by hand): exit as pygls did
            raise SystemExit(code)
        if not future.done():
            future.set_result(code)

    def _handle_signals(self, loop) -> list:
        """SIGTERM and SIGHUP (an editor that stops its server, a closed terminal): stop every
        run's worker at once, then leave the loop, exiting with 128 + the signal number as the
        default action would. Python's default action ended the process on the spot and left
        the workers running (each in its own process group)."""
        handled = []
        for sig in (getattr(signal, "SIGTERM", None), getattr(signal, "SIGHUP", None)):
            if sig is None:
                continue
            try:
                loop.add_signal_handler(sig, self._terminated, sig)
            except (NotImplementedError, RuntimeError, ValueError):  # Windows, not the main thread
                continue
            handled.append(sig)
        return handled

    def _terminated(self, sig: int) -> None:
        log.warning("terminated by %s", signal.Signals(sig).name)
        runs = getattr(self, "runs", None)
        if runs is not None:
            try:
                runs.shutdown()
            except Exception:
                log.exception("stopping the runs failed")
        self.stop_serving(128 + int(sig))

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

    # -- diagnostics ------------------------------------------------------------------------
    def debounce_for(self, uri: str) -> float:
        """How long to wait after a change before checking (QVR_LSP_DEBOUNCE_MS; default 0).

        No delay is needed to coalesce bursts: the check runs in a loop callback, and changes
        that arrive while one check runs are all read before the next callback, each cancelling
        the previous pending publish, so a burst costs one check for its last version. A delay
        would only add latency; requests never wait for it anyway (they compute the analysis of
        the latest version on demand)."""
        return self.fixed_debounce_s if self.fixed_debounce_s is not None else 0.0

    # -- the full analysis, computed while the user pauses -----------------------------------
    def schedule_warm_up(self, doc) -> None:
        """Once the user pauses (`WARM_UP_DELAY_S` without a change), compute the analysis in
        slices, so hover, navigation, inlay hints and code lenses then answer at once; and
        bring the incremental checker up to the document if it is behind (a first version)."""
        previous = self._warm.pop(doc.uri, None)
        if previous is not None:
            previous.cancel()
        if doc.has_analysis and doc.checker_ready:
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return  # no loop (tests driving the server by hand): requests compute it on demand
        # A just-opened document was published from its full analysis: its incremental checker
        # catches up at once, so that typing soon after opening is fast (see
        # `DocumentStore.first_from_analysis`).
        delay = 0.0 if doc.has_analysis else WARM_UP_DELAY_S
        self._warm[doc.uri] = loop.call_later(delay, self._warm_up, doc)

    def _warm_up(self, doc) -> None:
        self._warm.pop(doc.uri, None)
        if self.documents.is_current(doc):
            task = asyncio.ensure_future(self._warm_steps(doc))
            self._warming.add(task)  # a reference until it is done (the loop keeps weak ones)
            task.add_done_callback(self._warming.discard)

    async def _warm_steps(self, doc) -> None:
        if await self.documents.ready(doc, "analysis"):
            await self.documents.ready(doc, "checker")

    def lsp_diagnostics(self, doc) -> list[lsp.Diagnostic]:
        """The document's diagnostics plus run failures, as LSP diagnostics: converted through
        the document's `convert.DiagnosticMemo`, so those that did not change are the objects
        of the last call."""
        found = list(f_diagnostics.document_diagnostics(doc))
        found += self._run_diagnostics(doc.uri)
        encoder = self.encoder
        memo = self._diagnostic_memos.get(doc.uri)
        if memo is None or memo.encoding != encoder.encoding:
            memo = self._diagnostic_memos[doc.uri] = convert.DiagnosticMemo(doc.uri, encoder.encoding)
        return memo.convert(encoder, doc.line_index, found)

    def diagnostic_result(self, doc) -> tuple[str, list[lsp.Diagnostic]]:
        """(result id, LSP diagnostics) of `doc` now. The result id changes only when the
        diagnostics do (as the client sees them: the same ranges in the negotiated encoding),
        so a pull after a keystroke that changed none can be answered `unchanged`."""
        items = self.lsp_diagnostics(doc)
        previous = self._diagnostic_results.get(doc.uri)
        if previous is not None and len(previous[1]) == len(items) and all(map(operator.is_, previous[1], items)):
            result_id = previous[0]  # the memo gave the very same objects: nothing changed
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
        """pygls' notification, written from the JSON text each diagnostic got the first time
        it was sent (`DiagnosticMemo.json_texts`) when `params` holds the latest converted list
        of its document: serialising thousands of hints again cost more than the rest of a
        keystroke. Anything else goes through pygls."""
        memo = self._diagnostic_memos.get(params.uri)
        protocol = self.protocol
        texts = None
        if memo is not None and protocol.writer is not None:
            try:
                texts = memo.json_texts(params.diagnostics, protocol._converter)
            except Exception:
                log.exception("serialising diagnostics failed; sending them through pygls")
        if texts is None:
            return super().text_document_publish_diagnostics(params)
        version = "" if params.version is None else f'"version": {json.dumps(params.version)}, '
        body = (f'{{"jsonrpc": "2.0", "method": "{lsp.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS}", "params": '
                f'{{"uri": {json.dumps(params.uri)}, {version}"diagnostics": [{", ".join(texts)}]}}}}')
        write_message(protocol, body)

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

    def schedule_publish(self, doc) -> None:
        self.idle_gc.touch()
        previous = self._pending.pop(doc.uri, None)
        if previous is not None:
            previous.cancel()
        warm = self._warm.pop(doc.uri, None)
        if warm is not None:
            warm.cancel()
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            self.publish(doc)
            return
        delay = self.debounce_for(doc.uri)
        if delay <= 0:
            self._pending[doc.uri] = loop.call_soon(self._run_publish, doc)
        else:
            self._pending[doc.uri] = loop.call_later(delay, self._run_publish, doc)

    def _run_publish(self, doc) -> None:
        """Publish `doc`'s diagnostics, computed in slices (`DocumentStore.ready`): the first
        version of a file of megabytes takes seconds to analyse, and other documents' messages
        are answered in between. What takes a single slice is published right here."""
        self._pending.pop(doc.uri, None)
        try:
            if not doc.advance_diagnostics(documents.ANALYSIS_SLICE_S, self.documents.input_waiting):
                task = asyncio.ensure_future(self._publish_when_ready(doc))
                self._checking.add(task)  # a reference until it is done (the loop keeps weak ones)
                task.add_done_callback(self._checking.discard)
                return
            self.publish(doc)
            self.schedule_warm_up(doc)
        except Exception:
            log.exception("publishing diagnostics failed")

    async def _publish_when_ready(self, doc) -> None:
        try:
            if await self.documents.ready(doc, "diagnostics"):
                self.publish(doc)
                self.schedule_warm_up(doc)
        except Exception:
            log.exception("publishing diagnostics failed")

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


def write_message(protocol: LanguageServerProtocol, body: str) -> None:
    """Send a JSON-RPC message whose JSON text `body` (ASCII, as `json.dumps` writes it) is
    already made, framed as pygls frames its own (`JsonRPCProtocol._send_data`)."""
    if protocol._include_headers:
        body = (f"Content-Length: {len(body)}\r\n"
                f"Content-Type: {protocol.CONTENT_TYPE}; charset={protocol.CHARSET}\r\n\r\n") + body
    try:
        result = protocol.writer.write(body.encode(protocol.CHARSET))
        if inspect.isawaitable(result):
            asyncio.ensure_future(result)
    except BrokenPipeError:
        log.exception("Error sending data. BrokenPipeError")
        raise
    except Exception as error:
        log.exception("Error sending data")
        protocol._server._report_server_error(error, JsonRpcException)


class RequestFailed(JsonRpcException):
    """LSP's RequestFailed (-32803): the request was valid but we refuse it, with a reason."""

    CODE = -32803
    MESSAGE = "request failed"


class FrameError(Exception):
    """The input can no longer be split into messages (a header that is not one, a length that
    lies, input that ends inside a message)."""


# Header lines are short; a "line" longer than this is not a header (binary junk, a body that
# lost its header). The reader's buffer limit is what bounds it.
_READ_LIMIT = 1 << 20
_MAX_HEADER_LINES = 32
_MAX_BODY = 1 << 30  # bytes; a larger Content-Length is a broken header, not a message
_HEADER_LINE = re.compile(rb"([!#$%&'*+.^_`|~0-9A-Za-z-]+):[ \t]*(.*?)[ \t]*")


class _FrameReader:
    """LSP base-protocol frames (header lines, a blank line, `Content-Length` bytes of body)
    from an `asyncio.StreamReader`.

    What can be resynchronised and what cannot: blank lines between messages are skipped, and
    unknown headers (Content-Type) are ignored; lines may end in CRLF or LF. A header line
    that is not `Name: value`, a block without a readable `Content-Length` (or with two
    different ones), and input that ends inside a message are `FrameError`s, and so is a body
    that turns out to hold the next message's header (`QvrProtocol.receive`): after any of
    these there is no telling where the next message starts, and guessing could hand a
    fragment of one message to a handler or swallow a request the client then waits for
    forever. Exiting is what lets the editor notice and restart the server. A body that is
    merely not JSON is framed correctly: it gets ParseError and reading goes on. A frame that
    stops arriving in the middle is waited for, as a slow client is (a client suspended in
    mid-write, Ctrl-Z in a terminal editor, is not broken).

    Before each message the loop runs once: messages already buffered would otherwise be
    handled back to back, before the callbacks of the earlier ones ran (a client that sends
    `shutdown` and `exit` together would exit before the answer to `shutdown` was written).
    Once per message, not per line: each turn of the loop may also run a slice of an analysis
    (`DocumentStore.ready`)."""

    def __init__(self, stream: asyncio.StreamReader) -> None:
        self._stream = stream
        self._message_done = False

    async def next_body(self) -> Optional[bytes]:
        """The next message's body; None when the input ends between messages."""
        if self._message_done:
            self._message_done = False
            await asyncio.sleep(0)
        length: Optional[int] = None
        lines = 0
        while True:
            line = await self._line(inside=lines > 0)
            if line is None:
                return None
            if not line:
                if lines == 0:
                    continue  # a blank line between messages
                if length is None:
                    raise FrameError("a message header without Content-Length")
                break
            lines += 1
            match = _HEADER_LINE.fullmatch(line)
            if match is None or lines > _MAX_HEADER_LINES:
                raise FrameError(f"not a message header: {_shown(line)}")
            if match.group(1).lower() == b"content-length":
                value = match.group(2)
                if not value.isdigit() or int(value) > _MAX_BODY:
                    raise FrameError(f"not a usable Content-Length: {_shown(value)}")
                if length is not None and int(value) != length:
                    raise FrameError("a message header with two different Content-Lengths")
                length = int(value)
        try:
            body = await self._stream.readexactly(length)
        except asyncio.IncompleteReadError as exc:
            raise FrameError(f"the input ended {len(exc.partial)} bytes into a message of "
                             f"{length} bytes") from None
        self._message_done = True
        return body

    async def _line(self, *, inside: bool) -> Optional[bytes]:
        try:
            line = await self._stream.readuntil(b"\n")
        except asyncio.IncompleteReadError as exc:
            if exc.partial or inside:
                raise FrameError("the input ended inside a message header") from None
            return None
        except asyncio.LimitOverrunError:
            raise FrameError(f"a header line longer than {_READ_LIMIT} bytes") from None
        return line[:-2] if line.endswith(b"\r\n") else line[:-1]


def _shown(data: bytes) -> str:
    """A short, printable rendering of raw input for an error message."""
    text = repr(data[:60])
    return text + ("..." if len(data) > 60 else "")


def _feed_from_thread(stdin, reader: asyncio.StreamReader, loop) -> None:
    """Feed `reader` from a stream the event loop cannot watch (a file, a terminal), in a
    daemon thread: an `exit` then ends the process without waiting for more input."""
    read = getattr(stdin, "read1", None) or stdin.read

    def pump() -> None:
        while True:
            try:
                data = read(1 << 16)
            except (OSError, ValueError):
                data = b""
            try:
                if data:
                    loop.call_soon_threadsafe(reader.feed_data, data)
                else:
                    loop.call_soon_threadsafe(reader.feed_eof)
                    return
            except RuntimeError:  # the loop is closed: the server is exiting
                return

    threading.Thread(target=pump, name="qvr-lsp-stdin", daemon=True).start()


def _readable(stream) -> Optional[Callable[[], bool]]:
    """A check (a few microseconds) of whether `stream` has input waiting; None where poll is
    not available."""
    try:
        poller = select.poll()
        poller.register(stream.fileno(), select.POLLIN)
    except (AttributeError, OSError, ValueError):
        return None
    return lambda: bool(poller.poll(0))


def _is_pipe(stream) -> bool:
    """Whether `stream` is a pipe or socket the event loop can read (not on Windows, whose
    loop cannot read an anonymous pipe)."""
    if sys.platform == "win32":
        return False
    try:
        mode = os.fstat(stream.fileno()).st_mode
    except (AttributeError, OSError, ValueError):
        return False
    return stat.S_ISFIFO(mode) or stat.S_ISSOCK(mode)


def guarded(default: Any = None) -> Callable:
    """Run a handler; on any exception log it and return `default` (JSON-RPC errors we raise on
    purpose, e.g. a refused rename, pass through)."""

    def wrap(fn):
        @functools.wraps(fn)
        def inner(ls, params):
            try:
                return fn(ls, params)
            except JsonRpcException:
                raise
            except Exception:
                log.exception("%s failed", fn.__name__)
                return default() if callable(default) else default

        return inner

    return wrap


class ContentModified(JsonRpcException):
    """LSP's ContentModified (-32801): the document changed while the request waited for its
    analysis; the client asks again for the new version if it still wants the answer."""

    CODE = -32801
    MESSAGE = "content modified"


# How long the user must pause before the server computes the full analysis unasked.
WARM_UP_DELAY_S = 0.25


def after(need: str) -> Callable:
    """For a handler that reads the document's full analysis (``need="analysis"``) or parse
    (``"parse"``): have it computed in slices first (`DocumentStore.ready`), then run the
    handler (a function or a coroutine function); ContentModified if the document changed
    meanwhile."""

    def wrap(fn):
        @functools.wraps(fn)
        async def handler(ls, params):
            doc = _doc(ls, params)
            if doc is not None and not await ls.documents.ready(doc, need):
                raise ContentModified()
            result = fn(ls, params)
            return await result if inspect.isawaitable(result) else result

        return handler

    return wrap


def tune_gc() -> None:
    """Keep the cyclic garbage collector off the keystroke path (see `IdleCollector`).

    Each analysis allocates hundreds of thousands of small objects (AST nodes, spans, symbols);
    automatic collections then keep scanning everything alive, which in the profile cost about a
    quarter of parse + analyze of a 5,000-line file and most of the time spent converting
    diagnostics. The start-up heap is frozen and automatic collection is switched off; the
    server collects when the user pauses (`IdleCollector`). Memory without cycles is still freed
    immediately by reference counting.

    Nothing is collected here: a full collection scans the whole start-up heap (40-80 ms before
    the first diagnostics). `qvr-lsp` also imports its modules with the collector off, so their
    import-time cycles are still there; the first collection, at the first idle pause, frees
    them and then freezes what is left, so later collections skip the start-up heap.
    """
    import gc

    gc.disable()


class IdleCollector:
    """Runs `gc.collect()` once the editor has been quiet for `idle_s` seconds, and at the latest
    every `max_changes` changes (so a client that never pauses cannot grow memory forever).
    Then runs the callables in `also` (other work that should not delay a keystroke)."""

    def __init__(self, idle_s: float = 1.5, max_changes: int = 200) -> None:
        self.idle_s = idle_s
        self.max_changes = max_changes
        self._frozen = False
        self._changes = 0
        self._handle: Optional[asyncio.TimerHandle] = None
        self.also: list = []

    def touch(self) -> None:
        import gc

        if gc.isenabled():
            return  # tune_gc() was not called (tests, embedding): the normal collector runs
        self._changes += 1
        if self._handle is not None:
            self._handle.cancel()
        if self._changes >= self.max_changes:
            self.collect()
            return
        try:
            self._handle = asyncio.get_running_loop().call_later(self.idle_s, self.collect)
        except RuntimeError:
            self.collect()

    def collect(self) -> None:
        import gc

        self._handle = None
        self._changes = 0
        gc.collect()
        if not self._frozen:  # the first one: what survives it is the long-lived heap
            gc.freeze()
            self._frozen = True
        for task in self.also:
            try:
                task()
            except Exception:
                log.exception("idle task %r failed", task)


def hover_format(capabilities) -> lsp.MarkupKind:
    """The first of the client's `textDocument.hover.contentFormat` we can write (markdown
    when it lists none we know, or says nothing)."""
    hover = getattr(getattr(capabilities, "text_document", None), "hover", None)
    for kind in getattr(hover, "content_format", None) or ():
        if kind in (lsp.MarkupKind.Markdown, lsp.MarkupKind.PlainText):
            return lsp.MarkupKind(kind)
    return lsp.MarkupKind.Markdown


def _doc(ls: QvrLanguageServer, params):
    return ls.documents.get(params.text_document.uri)


def _plain(value: Any) -> Any:
    """pygls' objects for the params of a method without an LSP type, back to JSON values."""
    if hasattr(value, "_asdict"):
        return {k: _plain(v) for k, v in value._asdict().items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def position_params(ls: QvrLanguageServer, method: str, params: Any) -> lsp.TextDocumentPositionParams:
    """The ``{textDocument, position}`` params of a custom request, checked as LSP's own
    requests are (InvalidParams naming the field)."""
    try:
        return ls.protocol._converter.structure(_plain(params), lsp.TextDocumentPositionParams)
    except Exception as exc:
        fields = re.sub(r"(^|; )(?=\w)", r"\1params.", _params_problem(exc))  # as for LSP's own
        problem = f"invalid params for {method}: {fields}"
        log.warning("answered InvalidParams: %s", problem)
        raise JsonRpcInvalidParams(problem) from None


def create_server() -> QvrLanguageServer:
    ls = QvrLanguageServer()

    # -- synchronisation --------------------------------------------------------------------
    @ls.feature(lsp.TEXT_DOCUMENT_DID_OPEN)
    @guarded()
    def did_open(ls: QvrLanguageServer, params: lsp.DidOpenTextDocumentParams):
        td = params.text_document
        doc = ls.documents.open(td.uri, td.text, td.version)
        ls.schedule_publish(doc)

    @ls.feature(lsp.TEXT_DOCUMENT_DID_CHANGE)
    @guarded()
    def did_change(ls: QvrLanguageServer, params: lsp.DidChangeTextDocumentParams):
        td = params.text_document
        try:
            doc = ls.documents.change(td.uri, td.version, changes_from_lsp(params.content_changes), ls.encoder)
        except Exception:
            # never lose the user's text: fall back to pygls' own copy of the document
            log.exception("applying a change failed; resynchronising from the workspace copy")
            doc = ls.documents.open(td.uri, ls.workspace.get_text_document(td.uri).source, td.version)
        ls.schedule_publish(doc)

    @ls.feature(lsp.TEXT_DOCUMENT_DID_CLOSE)
    @guarded()
    def did_close(ls: QvrLanguageServer, params: lsp.DidCloseTextDocumentParams):
        ls.documents.close(params.text_document.uri)
        ls.clear(params.text_document.uri)

    # -- pull diagnostics (LSP 3.17; offered only to clients that pull) ----------------------
    @ls.feature(
        lsp.TEXT_DOCUMENT_DIAGNOSTIC,
        lsp.DiagnosticOptions(identifier="qvr", inter_file_dependencies=False, workspace_diagnostics=False),
    )
    async def document_diagnostic(ls: QvrLanguageServer, params: lsp.DocumentDiagnosticParams):
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

    # -- navigation -------------------------------------------------------------------------
    @ls.feature(lsp.TEXT_DOCUMENT_HOVER)
    @after("analysis")
    @guarded()
    def hover(ls: QvrLanguageServer, params: lsp.HoverParams):
        doc = _doc(ls, params)
        if doc is None:
            return None
        result = f_hover.hover(doc, ls.offset(doc, params.position))
        if result is None:
            return None
        if hover_format(getattr(ls.protocol, "client_capabilities", None)) == lsp.MarkupKind.PlainText:
            contents = lsp.MarkupContent(kind=lsp.MarkupKind.PlainText, value=result.plaintext)
        else:
            contents = lsp.MarkupContent(kind=lsp.MarkupKind.Markdown, value=result.markdown)
        return lsp.Hover(contents=contents, range=convert.range_(ls.encoder, doc.line_index, result.span))

    @ls.feature(lsp.TEXT_DOCUMENT_DEFINITION)
    @after("analysis")
    @guarded()
    def definition(ls: QvrLanguageServer, params: lsp.DefinitionParams):
        doc = _doc(ls, params)
        if doc is None:
            return None
        span = f_nav.definition(doc, ls.offset(doc, params.position))
        if span is None:
            return None
        return lsp.Location(uri=doc.uri, range=convert.range_(ls.encoder, doc.line_index, span))

    @ls.feature(lsp.TEXT_DOCUMENT_REFERENCES)
    @after("analysis")
    @guarded(list)
    def references(ls: QvrLanguageServer, params: lsp.ReferenceParams):
        doc = _doc(ls, params)
        if doc is None:
            return []
        include = bool(params.context.include_declaration) if params.context else True
        spans = f_nav.references(doc, ls.offset(doc, params.position), include)
        return [lsp.Location(uri=doc.uri, range=convert.range_(ls.encoder, doc.line_index, s)) for s in spans]

    @ls.feature(lsp.TEXT_DOCUMENT_DOCUMENT_HIGHLIGHT)
    @after("analysis")
    @guarded(list)
    def highlight(ls: QvrLanguageServer, params: lsp.DocumentHighlightParams):
        doc = _doc(ls, params)
        if doc is None:
            return []
        return [
            lsp.DocumentHighlight(
                range=convert.range_(ls.encoder, doc.line_index, h.span),
                kind=lsp.DocumentHighlightKind.Write if h.is_write else lsp.DocumentHighlightKind.Read,
            )
            for h in f_nav.highlights(doc, ls.offset(doc, params.position))
        ]

    @ls.feature(lsp.TEXT_DOCUMENT_PREPARE_RENAME)
    @after("analysis")
    @guarded()
    def prepare_rename(ls: QvrLanguageServer, params: lsp.PrepareRenameParams):
        doc = _doc(ls, params)
        if doc is None:
            return None
        target = f_rename.prepare_rename(doc, ls.offset(doc, params.position))
        if target is None:
            return None
        return lsp.PrepareRenamePlaceholder(
            range=convert.range_(ls.encoder, doc.line_index, target.span), placeholder=target.placeholder
        )

    @ls.feature(lsp.TEXT_DOCUMENT_RENAME, lsp.RenameOptions(prepare_provider=True))
    @after("analysis")
    @guarded()
    def rename(ls: QvrLanguageServer, params: lsp.RenameParams):
        doc = _doc(ls, params)
        if doc is None:
            return None
        try:
            edits = f_rename.rename(doc, ls.offset(doc, params.position), params.new_name)
        except f_rename.RenameError as exc:
            raise RequestFailed(str(exc)) from None
        return lsp.WorkspaceEdit(changes={doc.uri: convert.text_edits(ls.encoder, doc.line_index, edits)})

    # -- symbols ----------------------------------------------------------------------------
    @ls.feature(lsp.TEXT_DOCUMENT_DOCUMENT_SYMBOL)
    @after("parse")
    @guarded(list)
    def document_symbol(ls: QvrLanguageServer, params: lsp.DocumentSymbolParams):
        doc = _doc(ls, params)
        if doc is None or doc.parsed is None:
            return []
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

        return [to_lsp(n) for n in f_symbols.document_symbols(doc.parsed.module, doc.text)]

    @ls.feature(lsp.WORKSPACE_SYMBOL)
    @guarded(list)
    def workspace_symbol(ls: QvrLanguageServer, params: lsp.WorkspaceSymbolParams):
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

        indexes: dict[int, Any] = {}
        for sym in f_symbols.workspace_symbols(params.query or "", ls.documents.all(), ls.workspace_index, list(dict.fromkeys(roots))):
            index = indexes.setdefault(id(sym.text), LineIndex(sym.text))
            out.append(
                lsp.WorkspaceSymbol(
                    name=sym.name,
                    kind=convert.SYMBOL_KINDS.get(sym.kind, lsp.SymbolKind.Variable),
                    location=lsp.Location(uri=sym.uri, range=convert.range_(ls.encoder, index, sym.span)),
                )
            )
        return out

    # -- editing help -----------------------------------------------------------------------
    @ls.feature(lsp.TEXT_DOCUMENT_COMPLETION, lsp.CompletionOptions(trigger_characters=["~", "-", ">", ":", "(", "[", ",", " "]))
    @guarded(lambda: lsp.CompletionList(is_incomplete=False, items=[]))
    def completion(ls: QvrLanguageServer, params: lsp.CompletionParams):
        doc = _doc(ls, params)
        if doc is None:
            return lsp.CompletionList(is_incomplete=False, items=[])
        offset = ls.offset(doc, params.position)
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

    @ls.feature(lsp.TEXT_DOCUMENT_SIGNATURE_HELP, lsp.SignatureHelpOptions(trigger_characters=["(", ","]))
    @after("analysis")
    @guarded()
    def signature_help(ls: QvrLanguageServer, params: lsp.SignatureHelpParams):
        doc = _doc(ls, params)
        if doc is None:
            return None
        sig = f_sig.signature_help(doc, ls.offset(doc, params.position))
        if sig is None:
            return None
        info = lsp.SignatureInformation(
            label=sig.label,
            documentation=sig.documentation or None,
            parameters=[lsp.ParameterInformation(label=p) for p in sig.parameters],
        )
        return lsp.SignatureHelp(signatures=[info], active_signature=0, active_parameter=sig.active_parameter)

    @ls.feature(lsp.TEXT_DOCUMENT_INLAY_HINT)
    @after("analysis")
    @guarded(list)
    def inlay_hint(ls: QvrLanguageServer, params: lsp.InlayHintParams):
        doc = _doc(ls, params)
        if doc is None:
            return []
        return [
            lsp.InlayHint(position=convert.position(ls.encoder, doc.line_index, h.offset), label=h.label, kind=lsp.InlayHintKind.Type, padding_left=False)
            for h in f_inlay.inlay_hints(doc, ls.span(doc, params.range))
        ]

    legend = lsp.SemanticTokensLegend(token_types=list(f_tokens.TOKEN_TYPES), token_modifiers=list(f_tokens.TOKEN_MODIFIERS))

    def full_tokens(ls: QvrLanguageServer, doc) -> list[int]:
        key = ("semantic_tokens_data", ls.encoder.encoding)
        data = doc.cache.get(key)
        if data is None:
            # stitched from the incremental checker's blocks when it has them (no full analysis)
            data = doc.cache[key] = f_tokens.encoded(doc, ls.encoder)
        return data

    def remember_tokens(ls: QvrLanguageServer, doc, data: list[int]) -> str:
        """Keep the last full result per document so the next request can be a delta."""
        result_id = f"{doc.version}:{id(data)}"
        ls.token_results[doc.uri] = (result_id, data)
        return result_id

    @ls.feature(lsp.TEXT_DOCUMENT_SEMANTIC_TOKENS_FULL, legend)
    @guarded(lambda: lsp.SemanticTokens(data=[]))
    def semantic_tokens_full(ls: QvrLanguageServer, params: lsp.SemanticTokensParams):
        doc = _doc(ls, params)
        if doc is None:
            return lsp.SemanticTokens(data=[])
        data = full_tokens(ls, doc)
        return lsp.SemanticTokens(data=data, result_id=remember_tokens(ls, doc, data))

    @ls.feature(lsp.TEXT_DOCUMENT_SEMANTIC_TOKENS_FULL_DELTA)
    @guarded(lambda: lsp.SemanticTokens(data=[]))
    def semantic_tokens_delta(ls: QvrLanguageServer, params: lsp.SemanticTokensDeltaParams):
        doc = _doc(ls, params)
        if doc is None:
            return lsp.SemanticTokens(data=[])
        data = full_tokens(ls, doc)
        previous = ls.token_results.get(doc.uri)
        result_id = remember_tokens(ls, doc, data)
        if previous is None or previous[0] != params.previous_result_id:
            return lsp.SemanticTokens(data=data, result_id=result_id)
        start, delete, insert = f_tokens.delta(previous[1], data)
        edits = [] if delete == 0 and not insert else [lsp.SemanticTokensEdit(start=start, delete_count=delete, data=insert)]
        return lsp.SemanticTokensDelta(edits=edits, result_id=result_id)

    @ls.feature(lsp.TEXT_DOCUMENT_SEMANTIC_TOKENS_RANGE, legend)
    @after("analysis")
    @guarded(lambda: lsp.SemanticTokens(data=[]))
    def semantic_tokens_range(ls: QvrLanguageServer, params: lsp.SemanticTokensRangeParams):
        doc = _doc(ls, params)
        if doc is None:
            return lsp.SemanticTokens(data=[])
        tokens = f_tokens.semantic_tokens(doc, ls.span(doc, params.range))
        return lsp.SemanticTokens(data=f_tokens.encode(doc, tokens, ls.encoder))

    @ls.feature(lsp.TEXT_DOCUMENT_FOLDING_RANGE)
    @after("parse")
    @guarded(list)
    def folding_range(ls: QvrLanguageServer, params: lsp.FoldingRangeParams):
        doc = _doc(ls, params)
        if doc is None:
            return []
        return [
            lsp.FoldingRange(start_line=f.start_line, end_line=f.end_line, kind=lsp.FoldingRangeKind.Comment if f.kind == "comment" else None)
            for f in f_structure.folding_ranges(doc)
        ]

    @ls.feature(lsp.TEXT_DOCUMENT_SELECTION_RANGE)
    @after("parse")
    @guarded(list)
    def selection_range(ls: QvrLanguageServer, params: lsp.SelectionRangeParams):
        doc = _doc(ls, params)
        if doc is None:
            return []
        out = []
        for pos in params.positions:
            parent = None
            for span in reversed(f_structure.selection_chain(doc, ls.offset(doc, pos))):
                parent = lsp.SelectionRange(range=convert.range_(ls.encoder, doc.line_index, span), parent=parent)
            out.append(parent)
        return out

    @ls.feature(lsp.TEXT_DOCUMENT_FORMATTING)
    @after("analysis")
    @guarded(list)
    def formatting(ls: QvrLanguageServer, params: lsp.DocumentFormattingParams):
        doc = _doc(ls, params)
        if doc is None:
            return []
        result = f_formatting.format_document(doc)
        if result.message:
            ls.window_show_message(lsp.ShowMessageParams(type=lsp.MessageType.Warning, message=result.message))
        return convert.text_edits(ls.encoder, doc.line_index, result.edits)

    @ls.feature(
        lsp.TEXT_DOCUMENT_CODE_ACTION,
        lsp.CodeActionOptions(code_action_kinds=[lsp.CodeActionKind.QuickFix, f_actions.MIGRATE_KIND]),
    )
    @after("analysis")
    @guarded(list)
    def code_action(ls: QvrLanguageServer, params: lsp.CodeActionParams):
        doc = _doc(ls, params)
        if doc is None:
            return []
        only = list(params.context.only) if params.context and params.context.only else None
        out = []
        for action in f_actions.code_actions(doc, ls.span(doc, params.range), only):
            out.append(
                lsp.CodeAction(
                    title=action.title,
                    kind=action.kind,
                    diagnostics=[convert.diagnostic(ls.encoder, doc, action.diagnostic)] if action.diagnostic else None,
                    edit=lsp.WorkspaceEdit(changes={doc.uri: convert.text_edits(ls.encoder, doc.line_index, action.edits)}),
                    is_preferred=action.preferred or None,
                )
            )
        return out

    # -- custom requests --------------------------------------------------------------------
    @ls.feature(client_contract.ENTRY_AT_REQUEST)
    async def entry_at(ls: QvrLanguageServer, params):
        """The entry a run command should run for the cursor (`features.entry_at`): ``{name,
        kind, range, selectionRange, reason, commands}`` or null."""
        return await entry_at_answer(ls, position_params(ls, client_contract.ENTRY_AT_REQUEST, params))

    @after("analysis")
    @guarded()
    def entry_at_answer(ls: QvrLanguageServer, params: lsp.TextDocumentPositionParams):
        doc = _doc(ls, params)
        if doc is None:
            return None
        from .features.entry_at import entry_at as find_entry

        found = find_entry(doc.analysis, ls.offset(doc, params.position))
        if found is None:
            return None
        return {"name": found.name, "kind": found.kind,
                "range": ls.protocol._converter.unstructure(
                    convert.range_(ls.encoder, doc.line_index, found.span)),
                "selectionRange": ls.protocol._converter.unstructure(
                    convert.range_(ls.encoder, doc.line_index, found.name_span)),
                "reason": found.reason, "commands": list(found.commands)}

    @ls.feature(DEBUG_INFO)
    def debug_info(ls: QvrLanguageServer, params):
        """Facts tests rely on: whether torch got imported, the negotiated encoding, versions."""
        import hashlib  # only this debugging request needs it

        return {
            "torch_loaded": "torch" in sys.modules,
            "compile_loaded": any(m.startswith(("qvr.compile", "qvr.infer")) for m in sys.modules),
            "position_encoding": ls.encoder.encoding,
            "documents": [[d.uri, d.version, hashlib.sha1(d.text.encode("utf-8", "surrogatepass")).hexdigest()] for d in ls.documents.all()],
            "version": __version__,
        }

    _register_run_commands(ls)
    if MIGRATE_COMMAND not in ls.protocol.fm.commands:

        @ls.command(MIGRATE_COMMAND)
        def migrate_file(ls: QvrLanguageServer, *args):
            try:
                arg = args[0] if args else {}
                if isinstance(arg, (list, tuple)):
                    arg = arg[0] if arg else {}
                uri = arg.get("uri") if isinstance(arg, dict) else getattr(arg, "uri", None)
                doc = ls.documents.get(uri) if uri else None
                if doc is None:
                    return {"applied": False, "message": "document is not open"}
                action = f_actions.migrate_action(doc)
                if action is None:
                    return {"applied": False, "message": "nothing to migrate"}
                edit = lsp.WorkspaceEdit(changes={doc.uri: convert.text_edits(ls.encoder, doc.line_index, action.edits)})
                ls.workspace_apply_edit(lsp.ApplyWorkspaceEditParams(edit=edit, label="Migrate to current QVR syntax"))
                return {"applied": True}
            except Exception as exc:
                log.exception("migrateFile failed")
                return {"applied": False, "message": str(exc)}

    return ls


def _register_run_commands(ls: QvrLanguageServer) -> None:
    """Hook for the editor-runs feature: `qvr_lsp.run_commands.register(server)` if it exists."""
    if importlib.util.find_spec("qvr_lsp.run_commands") is None:
        return
    try:
        from . import run_commands
    except ImportError as exc:
        if exc.name == "qvr_lsp.run_commands":
            return
        raise
    run_commands.register(ls)
