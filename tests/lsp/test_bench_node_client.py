"""The Node client of `bench/lsp_latency.py` (`bench/node_keystrokes.mjs`): it drives the real
server through vscode-jsonrpc, as VS Code's client does, and what it reads after its keystrokes
is what the server computes for that text."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from qvr_lsp import convert
from qvr_lsp.documents import DocumentStore
from qvr_lsp.features import diagnostics
from qvr_lsp.positions import PositionEncoder

ROOT = Path(__file__).resolve().parents[2]
CLIENT = ROOT / "bench" / "node_keystrokes.mjs"
JSONRPC = ROOT / "vscode-extension" / "node_modules" / "vscode-jsonrpc"


@pytest.fixture(autouse=True)
def node_client():
    """Node and the extension's node_modules: skipped without them locally, a failure under
    CI=true (where `.ci/run` installs both)."""
    if shutil.which("node") is None or not JSONRPC.is_dir():
        why = "needs node and `npm ci` in vscode-extension/"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"{why} (CI=true)")
        pytest.skip(why)


CLASSIC = (ROOT / "tests" / "programs" / "classic_model.txt").read_text(encoding="utf-8")


def expected(text: str) -> list:
    """The diagnostics the server publishes for `text`, as JSON (UTF-16 columns)."""
    doc = DocumentStore().open("file:///expected.qvr", text, 1)
    memo = convert.DiagnosticMemo("file:///expected.qvr", "utf-16")
    return json.loads(memo.prepare(PositionEncoder(), doc.line_index,
                                   diagnostics.document_diagnostic_runs(doc)).json())


# six classic models; the `type` line of the fourth: with an `x` at column 3 (`typxe`), a syntax error
TEXT = "".join(CLASSIC.format(i=i) for i in range(6))
LINE = 3 * CLASSIC.count("\n") + 2


def run_client(tmp_path, rounds: int, *flags: str) -> dict:
    """The Node client's report on `rounds` keystrokes at `LINE` of `TEXT`, with its diagnostics."""
    path = tmp_path / "bench_node.qvr"
    path.write_text(TEXT, encoding="utf-8")
    done = subprocess.run(["node", str(CLIENT), sys.executable, str(path), str(LINE), str(rounds), "--last",
                           *flags], check=True, capture_output=True, text=True, cwd=ROOT)
    return json.loads(done.stdout)


def typed(rounds: int) -> str:
    """`TEXT` after `rounds` keystrokes: an `x` typed at column 3 of `LINE` and deleted again."""
    lines = TEXT.split("\n")
    if rounds % 2:  # the last `x` typed is not deleted again
        lines[LINE] = lines[LINE][:3] + "x" + lines[LINE][3:]
    return "\n".join(lines)


@pytest.mark.parametrize("rounds", [4, 5])
def test_the_node_client_reads_the_diagnostics_of_each_version(tmp_path, rounds):
    report = run_client(tmp_path, rounds)
    assert len(report["keystrokes"]) == rounds and min(report["keystrokes"]) > 0
    last = expected(typed(rounds))
    assert report["last"] == last and report["diagnostics"] == len(last) > 12
    assert any(d["severity"] == 1 for d in last) == bool(rounds % 2)


def test_the_canned_server_answers_every_keystroke_with_the_files_diagnostics(tmp_path):
    """`--canned` (bench/canned_server.py) stands in for the server with the same message and no
    work: each keystroke, even one that would break the text, gets the file's own diagnostics."""
    report = run_client(tmp_path, 3, "--canned")
    assert len(report["keystrokes"]) == 3
    assert report["last"] == expected(TEXT) and not any(d["severity"] == 1 for d in report["last"])


@pytest.mark.parametrize("rounds", [2, 3])
def test_the_node_client_pulling_reads_the_diagnostics_of_each_version(tmp_path, rounds):
    """`--pull`: the client asks textDocument/diagnostic after each didChange, as VS Code's does;
    every keystroke here changes the diagnostics, so every answer is a full report of that text."""
    report = run_client(tmp_path, rounds, "--pull")
    assert len(report["keystrokes"]) == rounds and report["kinds"] == ["full"]
    assert report["last"] == expected(typed(rounds))
