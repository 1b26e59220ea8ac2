"""What `qvr check` and `qvr fmt` accept as FILE: directories, standard input, and only
regular files (a FIFO or a device is refused, never read); `qvr fmt` replaces a file
atomically, keeping its permissions and any symlink to it; `qvr --version`."""
from __future__ import annotations

import os
import subprocess
import sys

import pytest

from qvr import __version__
from qvr.cli import main

CLEAN = "object A : FinSet 3\nmorphism f : A -> A ~ Categorical\nexport f\n"
BROKEN = "object A : FinSet 3\nmorphism f : A -> B ~ Categorical\nexport f\n"
MESSY = "object   A : FinSet 3\nmorphism f : A -> A ~ Categorical\nexport f\n"


def run(capsys, *argv):
    status = main(list(argv))
    out, err = capsys.readouterr()
    return status, out, err


def test_version(capsys):
    assert run(capsys, "--version") == (0, f"qvr {__version__}\n", "")


def test_check_a_directory_checks_its_qvr_files_in_order(tmp_path, capsys):
    (tmp_path / "b.qvr").write_text(BROKEN)
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "a.qvr").write_text(CLEAN)
    (tmp_path / "notes.txt").write_text("not QVR")
    (tmp_path / ".hidden").mkdir()
    (tmp_path / ".hidden" / "c.qvr").write_text(BROKEN)
    status, out, err = run(capsys, "check", str(tmp_path))
    assert status == 1 and err == ""
    b, a = tmp_path / "b.qvr", tmp_path / "sub" / "a.qvr"
    assert out == f"{b}:2:19: error[QVR010]: undefined type `B`\n{a}: OK\n"


def test_check_an_empty_directory_is_a_usage_error(tmp_path, capsys):
    assert run(capsys, "check", str(tmp_path)) == (2, "", f"qvr: no .qvr files under {tmp_path}\n")


def _cli(*argv, stdin=None):
    return subprocess.run([sys.executable, "-m", "qvr", *argv], input=stdin, capture_output=True,
                          text=True, timeout=120)


def test_check_and_fmt_read_standard_input():
    checked = _cli("check", "-", stdin=BROKEN)
    assert (checked.returncode, checked.stdout) == (1, "<stdin>:2:19: error[QVR010]: undefined type `B`\n")
    formatted = _cli("fmt", "-", stdin=MESSY)
    assert (formatted.returncode, formatted.stdout, formatted.stderr) == (0, CLEAN, "")
    unchanged = _cli("fmt", "-", stdin=CLEAN)
    assert (unchanged.returncode, unchanged.stdout) == (0, CLEAN)
    would = _cli("fmt", "--check", "-", stdin=MESSY)
    assert (would.returncode, would.stdout) == (1, "<stdin>: would reformat\n")


@pytest.mark.parametrize("command", ["check", "fmt"])
def test_a_fifo_is_refused_not_read(tmp_path, command):
    """Nobody writes to the FIFO: reading it would block for ever (the subprocess timeout is
    only a guard)."""
    fifo = tmp_path / "pipe.qvr"
    os.mkfifo(fifo)
    done = _cli(command, str(fifo))
    assert (done.returncode, done.stdout, done.stderr) == (
        2, "", f"qvr: cannot read {fifo}: not a regular file\n")


@pytest.mark.parametrize("command", ["check", "fmt"])
def test_a_device_is_refused_not_read(tmp_path, capsys, command):
    link = tmp_path / "zero.qvr"
    link.symlink_to("/dev/zero")
    assert run(capsys, command, str(link)) == (2, "", f"qvr: cannot read {link}: not a regular file\n")


def test_fmt_keeps_permissions_and_symlinks(tmp_path, capsys):
    target = tmp_path / "model.qvr"
    target.write_text(MESSY)
    target.chmod(0o640)
    link = tmp_path / "link.qvr"
    link.symlink_to(target)
    status, out, err = run(capsys, "fmt", str(link))
    assert (status, out, err) == (0, f"{link}: formatted\n", "")
    assert link.is_symlink() and os.readlink(link) == str(target)
    assert target.read_text() == CLEAN
    assert (target.stat().st_mode & 0o777) == 0o640
    assert sorted(p.name for p in tmp_path.iterdir()) == ["link.qvr", "model.qvr"]


def test_fmt_interrupted_while_writing_leaves_the_original(tmp_path, capsys, monkeypatch):
    """Ctrl-C between writing the temporary file and renaming it: the original is intact and
    the temporary file is removed."""
    path = tmp_path / "model.qvr"
    path.write_text(MESSY)

    def interrupted(fd):
        raise KeyboardInterrupt

    monkeypatch.setattr(os, "fsync", interrupted)
    assert main(["fmt", str(path)]) == 130
    assert path.read_text() == MESSY
    assert [p.name for p in tmp_path.iterdir()] == ["model.qvr"]
