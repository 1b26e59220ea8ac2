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


@pytest.mark.parametrize("rounds", [4, 5])
def test_the_node_client_reads_the_diagnostics_of_each_version(tmp_path, rounds):
    text = "".join(CLASSIC.format(i=i) for i in range(6))
    path = tmp_path / "bench_node.qvr"
    path.write_text(text, encoding="utf-8")
    # the `type` line of the fourth model: with the `x` in it (`typxe`), a syntax error
    line = 3 * CLASSIC.count("\n") + 2
    done = subprocess.run(["node", str(CLIENT), sys.executable, str(path), str(line), str(rounds), "--last"],
                          check=True, capture_output=True, text=True, cwd=ROOT)
    report = json.loads(done.stdout)
    assert len(report["keystrokes"]) == rounds and min(report["keystrokes"]) > 0
    lines = text.split("\n")
    if rounds % 2:  # an `x` typed at column 3 and not deleted again
        lines[line] = lines[line][:3] + "x" + lines[line][3:]
    last = expected("\n".join(lines))
    assert report["last"] == last and report["diagnostics"] == len(last) > 12
    assert any(d["severity"] == 1 for d in last) == bool(rounds % 2)


def test_the_canned_server_answers_every_keystroke_with_the_files_diagnostics(tmp_path):
    """`--canned` (bench/canned_server.py) stands in for the server with the same message and no
    work: each keystroke, even one that would break the text, gets the file's own diagnostics."""
    text = "".join(CLASSIC.format(i=i) for i in range(6))
    path = tmp_path / "bench_node.qvr"
    path.write_text(text, encoding="utf-8")
    line = 3 * CLASSIC.count("\n") + 2
    done = subprocess.run(["node", str(CLIENT), sys.executable, str(path), str(line), "3", "--last",
                           "--canned"], check=True, capture_output=True, text=True, cwd=ROOT)
    report = json.loads(done.stdout)
    assert len(report["keystrokes"]) == 3
    assert report["last"] == expected(text) and not any(d["severity"] == 1 for d in report["last"])


@pytest.mark.parametrize("rounds", [2, 3])
def test_the_node_client_pulling_reads_the_diagnostics_of_each_version(tmp_path, rounds):
    """`--pull`: the client asks textDocument/diagnostic after each didChange, as VS Code's does;
    every keystroke here changes the diagnostics, so every answer is a full report of that text."""
    text = "".join(CLASSIC.format(i=i) for i in range(6))
    path = tmp_path / "bench_node.qvr"
    path.write_text(text, encoding="utf-8")
    line = 3 * CLASSIC.count("\n") + 2
    done = subprocess.run(["node", str(CLIENT), sys.executable, str(path), str(line), str(rounds), "--last",
                           "--pull"], check=True, capture_output=True, text=True, cwd=ROOT)
    report = json.loads(done.stdout)
    assert len(report["keystrokes"]) == rounds and report["kinds"] == ["full"]
    lines = text.split("\n")
    if rounds % 2:
        lines[line] = lines[line][:3] + "x" + lines[line][3:]
    assert report["last"] == expected("\n".join(lines))
