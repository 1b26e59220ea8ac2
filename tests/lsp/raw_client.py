"""A raw JSON-RPC client for tests that must see exactly what the server writes: `python -m
qvr_lsp` as a subprocess, frames written by hand (`lsp_fixtures.frame`), messages read one by
one from its stdout.

Every read waits for the server's next message (or its exit); `GUARD_S` only bounds a server
that hangs, so a test never synchronises on time.
"""
from __future__ import annotations

import json
import os
import select
import subprocess
import sys
import time
from typing import Optional

from lsp_fixtures import frame

GUARD_S = 60.0  # a hang guard: no healthy exchange comes near it

INITIALIZE = {"jsonrpc": "2.0", "id": 1, "method": "initialize",
              "params": {"processId": None, "rootUri": None, "capabilities": {}}}
INITIALIZED = {"jsonrpc": "2.0", "method": "initialized", "params": {}}
SHUTDOWN = {"jsonrpc": "2.0", "id": 99, "method": "shutdown"}
EXIT = {"jsonrpc": "2.0", "method": "exit"}


class RawServer:
    """`python -m qvr_lsp` on pipes; `send`/`write` to it, `message`/`response` from it."""

    def __init__(self, env: Optional[dict] = None, args: tuple[str, ...] = (),
                 code: Optional[str] = None) -> None:
        """`code`: Python that runs the server instead of ``-m qvr_lsp`` (a test's patches first)."""
        start = ["-c", code] if code is not None else ["-m", "qvr_lsp"]
        self.process = subprocess.Popen(
            [sys.executable, *start, *args], stdin=subprocess.PIPE,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, bufsize=0,
            env={**os.environ, "QVR_CODE_CACHE": "off", **(env or {})})
        self._buffer = b""
        self.notifications: list[dict] = []

    # -- writing ---------------------------------------------------------------------------------
    def write(self, data: bytes) -> None:
        self.process.stdin.write(data)
        self.process.stdin.flush()

    def send(self, *messages: dict) -> None:
        self.write(b"".join(frame(m) for m in messages))

    def close_input(self) -> None:
        self.process.stdin.close()

    # -- reading ---------------------------------------------------------------------------------
    def _fill(self, deadline: float) -> bool:
        """Read what the server has written; False at the end of its output."""
        fd = self.process.stdout.fileno()
        ready, _, _ = select.select([fd], [], [], max(0.0, deadline - time.monotonic()))
        if not ready:
            raise TimeoutError(f"no message from the server within {GUARD_S} s")
        chunk = os.read(fd, 1 << 16)
        self._buffer += chunk
        return bool(chunk)

    def message(self) -> Optional[dict]:
        """The server's next message; None when its output ends."""
        deadline = time.monotonic() + GUARD_S
        while True:
            head, sep, rest = self._buffer.partition(b"\r\n\r\n")
            if sep:
                length = next(int(line.split(b":")[1]) for line in head.split(b"\r\n")
                              if line.lower().startswith(b"content-length:"))
                if len(rest) >= length:
                    self._buffer = rest[length:]
                    return json.loads(rest[:length])
            if not self._fill(deadline):
                return None

    def response(self, msg_id) -> dict:
        """The answer to request `msg_id` (or an answer with id null); notifications before it
        are kept in `notifications`."""
        while True:
            found = self.message()
            assert found is not None, "the server's output ended before the answer"
            if "method" in found and "id" not in found:
                self.notifications.append(found)
                continue
            if found.get("id") in (msg_id, None):
                return found
            raise AssertionError(f"unexpected message {found}")

    def initialize(self, capabilities: Optional[dict] = None) -> dict:
        init = {**INITIALIZE, "params": {**INITIALIZE["params"], "capabilities": capabilities or {}}}
        self.send(init)
        answer = self.response(1)
        self.send(INITIALIZED)
        return answer

    # -- ending ----------------------------------------------------------------------------------
    def wait(self) -> tuple[int, str]:
        """(exit status, everything it wrote on stderr) once the process ends. Its stdin stays
        as it is (open, unless the test closed it)."""
        try:
            status = self.process.wait(timeout=GUARD_S)
        except subprocess.TimeoutExpired:
            self.kill()
            raise AssertionError(f"the server was still running after {GUARD_S} s") from None
        err = self.process.stderr.read().decode("utf-8", "replace")
        self.process.stderr.close()
        self.process.stdout.close()
        if not self.process.stdin.closed:
            self.process.stdin.close()
        return status, err

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.communicate()
