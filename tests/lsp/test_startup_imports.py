"""`qvr-lsp` started as editors start it (no arguments, or ``--stdio``) does not import the
command-line parser: argparse and the gettext it pulls in cost about 9 ms of the start-up. Any
other argument list is parsed by argparse as before."""
from __future__ import annotations

import os
import subprocess
import sys

import pytest


def _imported(*args: str) -> set[str]:
    """The modules `python -m qvr_lsp ARGS` imports until its input (empty) ends."""
    out = subprocess.run([sys.executable, "-X", "importtime", "-m", "qvr_lsp", *args],
                         stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=120,
                         env={**os.environ, "QVR_CODE_CACHE": "off"})
    assert out.returncode == 0, out.stderr[-2000:]
    return {line.rpartition("|")[2].strip() for line in out.stderr.splitlines()
            if line.startswith("import time:")}


@pytest.mark.parametrize("args", [(), ("--stdio",)])
def test_the_editors_command_line_imports_no_parser(args):
    imported = _imported(*args)
    assert "qvr_lsp.server" in imported  # a guard: the server did start
    assert not {"argparse", "gettext"} & imported


def test_other_arguments_are_parsed_by_argparse():
    imported = _imported("--stdio", "--log-level", "ERROR")
    assert "argparse" in imported and "qvr_lsp.server" in imported
    out = subprocess.run([sys.executable, "-m", "qvr_lsp", "--no-such-option"], capture_output=True,
                         text=True, timeout=60)
    assert out.returncode == 2 and "unrecognized arguments: --no-such-option" in out.stderr
