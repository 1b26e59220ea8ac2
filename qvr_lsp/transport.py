"""The language server's transport: LSP base-protocol frames in, JSON-RPC messages out.

* `FrameReader` splits the input into message bodies (header lines, a blank line,
  ``Content-Length`` bytes); input whose framing cannot be trusted any more is a `FrameError`,
  which ends the server (docs/internals.md explains why guessing is worse).
* `Serving`, mixed into the server class, reads stdio (a pipe or socket through the event loop,
  anything else through a daemon thread) or one TCP connection, hands each body to the
  protocol (`qvr_lsp.protocol.QvrProtocol.receive`), and ends on ``exit``, the end of the input,
  SIGTERM/SIGHUP or broken framing, with the exit status LSP asks for.
* `write_message` sends a JSON text that is already made, framed as pygls frames its own.

The JSON-RPC rules for what a message may be are the protocol's (`qvr_lsp.protocol`), not
this module's.
"""
from __future__ import annotations

import asyncio
import inspect
import logging
import os
import re
import select
import signal
import stat
import sys
import threading
from typing import Callable, Optional

from pygls.exceptions import JsonRpcException
from pygls.io_ import StdoutWriter
from pygls.protocol import LanguageServerProtocol

log = logging.getLogger("qvr_lsp")


class FrameError(Exception):
    """The input can no longer be split into messages (a header that is not one, a length that
    lies, input that ends inside a message)."""


# Header lines are short; a "line" longer than this is not a header (binary junk, a body that
# lost its header). The reader's buffer limit is what bounds it.
_READ_LIMIT = 1 << 20
_MAX_HEADER_LINES = 32
_MAX_BODY = 1 << 30  # bytes; a larger Content-Length is a broken header, not a message
_HEADER_LINE = re.compile(rb"([!#$%&'*+.^_`|~0-9A-Za-z-]+):[ \t]*(.*?)[ \t]*")


class FrameReader:
    """LSP base-protocol frames (header lines, a blank line, `Content-Length` bytes of body)
    from an `asyncio.StreamReader`.

    What can be resynchronised and what cannot: blank lines between messages are skipped, and
    unknown headers (Content-Type) are ignored; lines may end in CRLF or LF. A header line
    that is not `Name: value`, a block without a readable `Content-Length` (or with two
    different ones), and input that ends inside a message are `FrameError`s, and so is a body
    that turns out to hold the next message's header (`qvr_lsp.protocol.QvrProtocol.receive`): after any of
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


def _output_closed(error: BaseException) -> bool:
    """Whether `error` says the client's end is gone (nothing can be sent to it any more)."""
    if isinstance(error, (BrokenPipeError, ConnectionError, EOFError)):
        return True
    return isinstance(error, ValueError) and "closed file" in str(error)


# How long `exit` waits for a `shutdown` still being answered (runs get their grace period
# from the run layer's own settings; this only bounds a stuck handler).
SHUTDOWN_WAIT_S = 10.0


async def _wait_at_most(event: asyncio.Event, seconds: float) -> None:
    try:
        await asyncio.wait_for(event.wait(), seconds)
    except asyncio.TimeoutError:
        log.warning("exiting before the shutdown request was answered")


class Serving:
    """Reading and serving messages, for `qvr_lsp.server.QvrLanguageServer` (a pygls
    `LanguageServer` whose protocol is `qvr_lsp.protocol.QvrProtocol`)."""

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
        reading = asyncio.ensure_future(self._read_messages(FrameReader(stream)))
        try:
            await asyncio.wait({reading, self._exit_requested}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for sig in handled:
                loop.remove_signal_handler(sig)
            if not reading.done():
                reading.cancel()
            elif reading.exception() is not None:
                raise reading.exception()

    async def _read_messages(self, reader: "FrameReader") -> None:
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
