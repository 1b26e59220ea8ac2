"""What `qvr-lsp` loads before its first diagnostics.

* Started as editors start it (no arguments, or ``--stdio``) it does not import the command-line
  parser: argparse and the gettext it pulls in cost about 9 ms of the start-up. Any other
  argument list is parsed by argparse as before.
* Initialize (with settings), open and publish run no module that only later requests need:
  the run machinery (`qvr_lsp.runs`, `qvr.run.contract`, tempfile) and the features of requests
  are loaded on first use; the settings pushed meanwhile are merged then, in order."""
from __future__ import annotations

import json
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


# What the server does before its first diagnostics, in a fresh interpreter: initialize (with
# settings, as editors send them), open a document, publish. Then which modules ran.
FIRST_DIAGNOSTICS = r'''
import asyncio, json, sys, types
from qvr_lsp.server import create_server

class Writer:
    def __init__(self): self.out = []
    def write(self, data): self.out.append(data)
    def close(self): pass

def message(method, params, id=None):
    body = {"jsonrpc": "2.0", "method": method, "params": params}
    return json.dumps(body if id is None else {**body, "id": id}).encode()

def executed(name):  # a module registered lazily is a subclass of ModuleType until it runs
    return name in sys.modules and type(sys.modules[name]) is types.ModuleType

async def main():
    server = create_server()
    writer = Writer()
    server.protocol.set_writer(writer)
    server.protocol.receive(message("initialize", {"processId": None, "capabilities": {},
        "initializationOptions": {"run": {"maxConcurrent": 3, "steps": 1.5},
                                  "runFinishedNotification": True}}, id=1))
    server.protocol.receive(message("initialized", {}))
    server.protocol.receive(message("textDocument/didOpen", {"textDocument": {
        "uri": "file:///a.qvr", "languageId": "qvr", "version": 1,
        "text": "object A : Real 4\nmorphism f : A -> B\n"}}))
    while not any(b"publishDiagnostics" in data for data in writer.out):
        await asyncio.sleep(0.001)
    ran = {name: executed(name) for name in sys.argv[1:]}
    settings = server.runs.settings  # the pushed settings, merged on this first use
    print(json.dumps({"ran": ran, "max_concurrent": settings.max_concurrent,
                      "steps": settings.steps, "runs_loaded": executed("qvr_lsp.runs"),
                      "renders_results": server.runs.client_renders_results}))

asyncio.run(main())
'''

# Modules only later requests need: the run machinery (settings, workers), the features of
# requests, and what only they import.
NOT_BEFORE_THE_FIRST_DIAGNOSTICS = (
    "qvr_lsp.runs", "qvr.run.contract", "qvr_lsp.features.code_lens", "tempfile", "shutil",
    "qvr_lsp.features.semantic_tokens", "qvr_lsp.features.families", "qvr_lsp.features.symbols",
    "qvr_lsp.features.code_actions", "qvr_lsp.features.formatting",
    "qvr_lsp.features.completion", "qvr_lsp.features.hover",
)


def test_the_first_diagnostics_load_no_run_machinery_and_no_request_features():
    out = subprocess.run([sys.executable, "-c", FIRST_DIAGNOSTICS, "qvr_lsp.documents",
                          *NOT_BEFORE_THE_FIRST_DIAGNOSTICS], capture_output=True, text=True,
                         timeout=120, env={**os.environ, "QVR_CODE_CACHE": "off"})
    assert out.returncode == 0, out.stderr[-2000:]
    found = json.loads(out.stdout.strip().splitlines()[-1])
    ran = found.pop("ran")
    assert ran.pop("qvr_lsp.documents")  # a guard: the check does see modules that ran
    assert [name for name, yes in ran.items() if yes] == []
    # initializationOptions were kept and merged when the settings were first read (the
    # ignored 1.5 steps as well: the default stays)
    assert found == {"max_concurrent": 3, "steps": None, "runs_loaded": True,
                     "renders_results": True}


def test_settings_pushed_before_first_use_merge_in_order(caplog):
    from types import SimpleNamespace

    from qvr_lsp.run_commands import RunService

    service = RunService(SimpleNamespace(client_capabilities=None))
    service.update_settings({"run": {"python": "/usr/bin/python3", "steps": 10}},
                            from_initialization=True)
    service.update_settings({"qvr": {"run": {"python": "/elsewhere/python", "steps": 20,
                                             "timeout": "9"}}})
    assert caplog.records == []  # nothing merged yet
    settings = service.settings
    # as if merged one by one: the interpreter only from initializationOptions, the later
    # steps win, a wrong value is refused with the same warning
    assert (settings.python, settings.steps, settings.timeout) == ("/usr/bin/python3", 20, 120.0)
    assert [r.getMessage() for r in caplog.records] == [
        'ignored setting: qvr.run.timeout: "9" is not a positive number; keeping 120.0',
        'ignored setting: qvr.run.python "/elsewhere/python" is ignored: the interpreter is '
        "taken only from initializationOptions or the user's global settings, never from a "
        "workspace's"]
    service.update_settings({"run": {"steps": 30}})  # after the first use: merged at once
    assert service.settings.steps == 30 and not service.has_manager
    assert service.manager.max_concurrent == settings.max_concurrent
