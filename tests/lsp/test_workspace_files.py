"""The workspace index reads only regular files of a bounded size: a `.qvr` name that is a
FIFO, a device or a symlink to one (`/dev/stdin`, `/dev/zero`) is left out instead of
blocking the server or reading without end, and so is a file over the size cap."""
from __future__ import annotations

import os

from qvr_lsp.features import symbols


def _names(found) -> list:
    return sorted(s.name for s in found)


def test_devices_fifos_and_huge_files_are_left_out(tmp_path):
    (tmp_path / "good.qvr").write_text("object Faraway : FinSet 3\n", encoding="utf-8")
    (tmp_path / "stdin.qvr").symlink_to("/dev/stdin")
    (tmp_path / "zero.qvr").symlink_to("/dev/zero")
    os.mkfifo(tmp_path / "pipe.qvr")  # no writer: opening it for reading would block
    big = tmp_path / "big.qvr"
    big.write_text("object Farther : FinSet 3\n" + "# padding\n" * 200, encoding="utf-8")
    index = symbols.WorkspaceIndex(max_bytes=1000)
    assert sorted(os.path.basename(p) for p in index.files([str(tmp_path)])) == [
        "big.qvr", "good.qvr", "pipe.qvr", "stdin.qvr", "zero.qvr"]
    found = symbols.workspace_symbols("far", [], index, [str(tmp_path)])
    assert _names(found) == ["Faraway"]
    # under the cap the big file is indexed like any other
    found = symbols.workspace_symbols("far", [], symbols.WorkspaceIndex(), [str(tmp_path)])
    assert _names(found) == ["Faraway", "Farther"]
