"""The `qvr-lsp` entry point: --version, stdio by default, --tcp HOST:PORT, and a start-up that
never imports torch."""
from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time

import pytest

from qvr_lsp import __version__

from lsp_fixtures import frame


def test_version_flag_prints_version():
    out = subprocess.run([sys.executable, "-m", "qvr_lsp", "--version"], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0 and out.stdout.strip() == f"qvr-lsp {__version__}"


@pytest.mark.process
def test_bad_tcp_argument_is_a_usage_error():
    out = subprocess.run([sys.executable, "-m", "qvr_lsp", "--tcp", "localhost:notaport"], capture_output=True, text=True, timeout=60)
    assert out.returncode == 2 and "HOST:PORT" in out.stderr


@pytest.mark.process
def test_importing_the_server_does_not_import_torch():
    code = "import sys, qvr_lsp.server, qvr_lsp.__main__; s = qvr_lsp.server.create_server(); print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.stdout.strip() == "False", out.stderr


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _read_message(sock: socket.socket) -> dict:
    data = b""
    while b"\r\n\r\n" not in data:
        data += sock.recv(4096)
    header, rest = data.split(b"\r\n\r\n", 1)
    length = int(next(h for h in header.split(b"\r\n") if h.lower().startswith(b"content-length")).split(b":")[1])
    while len(rest) < length:
        rest += sock.recv(4096)
    return json.loads(rest[:length])


@pytest.mark.process
def test_tcp_mode_answers_initialize():
    caps = _initialize_over_tcp({})
    assert caps["hoverProvider"] is True and caps["positionEncoding"] == "utf-16"
    assert caps["textDocumentSync"]["change"] == 2  # incremental


def _initialize_over_tcp(capabilities: dict) -> dict:
    port = _free_port()
    proc = subprocess.Popen([sys.executable, "-m", "qvr_lsp", "--tcp", f"127.0.0.1:{port}"], stderr=subprocess.PIPE)
    try:
        deadline = time.time() + 60
        while True:
            try:
                sock = socket.create_connection(("127.0.0.1", port), timeout=30)
                break
            except OSError:
                if time.time() > deadline or proc.poll() is not None:
                    raise
                time.sleep(0.1)
        with sock:
            sock.sendall(frame({"jsonrpc": "2.0", "id": 1, "method": "initialize",
                                   "params": {"processId": os.getpid(), "rootUri": None, "capabilities": capabilities}}))
            reply = _read_message(sock)
            assert reply["id"] == 1
            return reply["result"]["capabilities"]
    finally:
        proc.kill()
        proc.wait(timeout=30)


@pytest.mark.process
def test_utf8_is_negotiated_whenever_the_client_offers_it():
    caps = _initialize_over_tcp({"general": {"positionEncodings": ["utf-16", "utf-8"]}})
    assert caps["positionEncoding"] == "utf-8"
    caps = _initialize_over_tcp({"general": {"positionEncodings": ["utf-16"]}})
    assert caps["positionEncoding"] == "utf-16"
