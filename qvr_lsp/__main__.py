"""`qvr-lsp` / `python -m qvr_lsp`: start the QVR language server (stdio by default)."""
from __future__ import annotations

import logging
import os
import sys
from types import SimpleNamespace
from typing import NoReturn

from . import __version__


def _parser():
    import argparse

    parser = argparse.ArgumentParser(prog="qvr-lsp", description="QVR language server")
    parser.add_argument("--stdio", action="store_true", help="talk LSP over stdin/stdout (default)")
    parser.add_argument("--tcp", metavar="HOST:PORT", help="listen on a TCP socket instead of stdio")
    parser.add_argument("--version", action="store_true", help="print the version and exit")
    parser.add_argument("--log-level", default="WARNING", help="logging level for stderr (default WARNING)")
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv in ([], ["--stdio"]):
        # how editors start it: argparse (and the gettext it imports, ~9 ms) is not needed
        parser, args = None, SimpleNamespace(stdio=bool(argv), tcp=None, version=False, log_level="WARNING")
    else:
        parser = _parser()
        args = parser.parse_args(argv)
    if args.version:
        print(f"qvr-lsp {__version__}")
        return 0
    logging.basicConfig(stream=sys.stderr, level=getattr(logging, str(args.log_level).upper(), logging.WARNING))

    # No cyclic garbage collection while the modules import (the collections it ran there cost
    # 50-100 ms before the first diagnostics); `tune_gc` keeps it off and the first idle pause
    # collects everything once (see `IdleCollector`).
    import gc

    gc.disable()
    # Before lsprotocol is imported: the code attrs/cattrs generate for its classes comes
    # compiled from the last start (see code_cache; 120-180 ms of CPU at start-up).
    from . import code_cache

    cache = code_cache.install()
    from .server import create_server, tune_gc

    server = create_server()
    tune_gc()
    if cache is not None:
        import atexit

        server.idle_gc.also.append(cache.save)
        atexit.register(cache.save)
    if args.tcp:
        host, _, port = args.tcp.rpartition(":")
        try:
            port_number = int(port)
        except ValueError:
            parser.error(f"--tcp expects HOST:PORT, got {args.tcp!r}")
        server.start_tcp(host or "127.0.0.1", port_number)
    else:
        server.start_io()
    _leave(server, cache, server.exit_code)


def _leave(server, cache, code: int) -> NoReturn:
    """End the process as soon as the server stops serving. What `atexit` would run is run
    here (run workers stopped, the code cache saved, logs flushed); the interpreter's own
    teardown is skipped: it frees every object of every open document one at a time, seconds
    for a file of megabytes, while the editor waits for the process to end (a restart, a
    closed window)."""
    runs = getattr(server, "runs", None)
    for finish in (runs.shutdown if runs is not None else None,
                   cache.save if cache is not None else None):
        try:
            if finish is not None:
                finish()
        except Exception:  # the process ends all the same
            logging.getLogger("qvr_lsp").exception("at exit")
    logging.shutdown()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):  # the client closed its end
            pass
    os._exit(code)


if __name__ == "__main__":
    sys.exit(main())
