"""The `qvr` process boundary: `python -m qvr` behaves like `qvr`, exit statuses reach the shell,
odd input never prints a traceback, Ctrl-C (SIGINT) ends a run with a message, and a reader
that leaves early (`| head`) is not an error. Few subprocesses: each one pays Python's start-up.
"""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SEED_002 = os.path.join(ROOT, "examples", "seed_002_vanilla_rnn_lm.qvr")
ENV = {**os.environ, "QVR_DEVICE": "cpu", "OMP_NUM_THREADS": "1"}


def qvr(*argv, **kwargs):
    return subprocess.run([sys.executable, "-m", "qvr", *argv], capture_output=True, text=True,
                          timeout=120, env=ENV, **kwargs)


def test_python_m_qvr_check_on_good_bad_and_junk_files(tmp_path):
    junk = tmp_path / "junk.qvr"
    junk.write_bytes(bytes(range(256)) * 4)
    nul = tmp_path / "nul.qvr"
    nul.write_bytes(b"object A : FinSet 3\x00\n")
    p = qvr("check", "--json", SEED_002, str(junk), str(nul))
    assert "Traceback" not in p.stderr and p.stderr == ""
    assert p.returncode == 1
    report = json.loads(p.stdout)
    assert report["files"] == [SEED_002, str(junk), str(nul)] and report["ok"] is False
    codes = {(d["file"], d["code"]) for d in report["diagnostics"] if d["severity"] == "error"}
    assert codes == {(str(junk), "QVR001"), (str(nul), "QVR001")}


def test_python_m_qvr_usage_errors_exit_2():
    p = qvr("frobnicate")
    assert p.returncode == 2 and "qvr: error:" in p.stderr and "Traceback" not in p.stderr
    p = qvr()
    assert p.returncode == 2 and "Traceback" not in p.stderr


@pytest.mark.process
def test_reader_leaving_early_is_not_a_traceback(tmp_path):
    many = tmp_path / "many.qvr"
    many.write_text("".join(f"morphism f{i} : A -> A\n" for i in range(3000)), encoding="utf-8")
    p = subprocess.Popen([sys.executable, "-m", "qvr", "check", str(many)], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, env=ENV)
    p.stdout.readline()
    p.stdout.close()  # the reader leaves, as `| head -1` does
    err = p.stderr.read().decode()
    p.wait(timeout=120)
    assert "Traceback" not in err and "BrokenPipeError" not in err


@pytest.mark.slow
@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
def test_ctrl_c_ends_a_run_with_a_cancelled_event(tmp_path):
    p = subprocess.Popen([sys.executable, "-m", "qvr", "run", SEED_002, "--svi", "--steps", "100000",
                          "--json", "--out", str(tmp_path / "out")],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=ENV)
    try:
        start = json.loads(p.stdout.readline())
        assert start["event"] == "start"
        p.send_signal(signal.SIGINT)
        out, err = p.communicate(timeout=60)
    finally:
        if p.poll() is None:
            p.kill()
    assert p.returncode == 1
    assert "Traceback" not in err and "KeyboardInterrupt" not in err
    last = json.loads(out.strip().splitlines()[-1])
    assert last == {"event": "error", "message": "run cancelled by SIGINT", "code": "cancelled"}
