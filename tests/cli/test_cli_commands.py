"""The `qvr` command: `check` output formats and exit codes, `fmt`, and the `run` wiring.
Run in-process through `main(argv)` and once through a subprocess (`python -m qvr`)."""
from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from qvr.cli import main

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SEED_002 = os.path.join(ROOT, "examples", "seed_002_vanilla_rnn_lm.qvr")
SEED_001 = os.path.join(ROOT, "examples", "seed_001_bayesian_gru.qvr")

BROKEN = "object R : Real 2\nmorphism f : R -> Rr ~ Normal\nexport f\n"


@pytest.fixture
def broken(tmp_path):
    p = tmp_path / "broken.qvr"
    p.write_text(BROKEN, encoding="utf-8")
    return str(p)


def test_clean_file_prints_only_ok_and_exits_0(capsys):
    # Hints (here the classic `let`'s deprecation) are counted, not printed, by default.
    assert main(["check", SEED_002]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out == [f"{SEED_002}: OK (1 hint; --hints shows them)"]


def test_hints_print_on_request_for_an_ok_file(capsys):
    assert main(["check", "--hints", SEED_001]) == 0
    out = capsys.readouterr().out
    assert f"{SEED_001}:12:12: hint[QVR080]: `candidate` is declared but never used" in out
    assert out.rstrip().endswith(f"{SEED_001}: OK")
    assert main(["check", "--hints", SEED_002]) == 0
    out = capsys.readouterr().out.splitlines()
    assert f"{SEED_002}:10:1: hint[QVR099]: `let backbone = …` is deprecated; write `define backbone = …`" in out


def test_json_keeps_every_severity(capsys):
    assert main(["check", "--json", SEED_001]) == 0
    codes = {d["code"] for d in json.loads(capsys.readouterr().out)["diagnostics"]}
    assert "QVR080" in codes and "QVR094" in codes


def test_error_file_exits_1_with_located_message(capsys, broken):
    assert main(["check", broken]) == 1
    out = capsys.readouterr().out
    assert f"{broken}:2:19: error[QVR010]: undefined type `Rr`" in out
    assert f"{broken}: OK" not in out


def test_several_files_errors_win(capsys, broken):
    assert main(["check", SEED_002, broken]) == 1
    out = capsys.readouterr().out
    assert f"{SEED_002}: OK" in out and f"{broken}: OK" not in out


def test_missing_file_is_a_clear_message_and_exit_2(capsys, tmp_path):
    missing = str(tmp_path / "nope.qvr")
    assert main(["check", missing]) == 2
    err = capsys.readouterr().err
    assert "cannot read" in err and "nope.qvr" in err and "Traceback" not in err


def test_usage_errors_exit_2(capsys):
    assert main([]) == 2
    assert main(["check"]) == 2
    assert main(["frobnicate"]) == 2


def test_json_output_shape(capsys, broken):
    assert main(["check", "--json", SEED_002, broken]) == 1
    data = json.loads(capsys.readouterr().out)
    assert set(data) == {"files", "diagnostics", "ok"}
    assert data["files"] == [SEED_002, broken] and data["ok"] is False
    err = next(d for d in data["diagnostics"] if d["code"] == "QVR010")
    assert err == {"file": broken, "line": 2, "column": 19, "end_line": 2, "end_column": 21,
                   "severity": "error", "code": "QVR010", "message": "undefined type `Rr`"}
    assert {d["severity"] for d in data["diagnostics"]} <= {"error", "warning", "information", "hint"}


def test_json_ok_for_clean_files(capsys):
    assert main(["check", "--json", SEED_002]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["ok"] is True and all(d["severity"] != "error" for d in data["diagnostics"])


def test_syntax_errors_are_located_not_tracebacks(capsys, tmp_path):
    p = tmp_path / "syntax.qvr"
    p.write_text("object X : Real 2\nobject Y : $\n", encoding="utf-8")
    assert main(["check", str(p)]) == 1
    out = capsys.readouterr().out
    assert f"{p}:2:12: error[QVR001]" in out


def test_fmt_check_reports_without_writing(capsys, tmp_path):
    pytest.importorskip("qvr.semantics.formatter")
    p = tmp_path / "ugly.qvr"
    ugly = "object   R :   Real 2\nmorphism f : R -> R ~ Normal\nexport    f\n"
    p.write_text(ugly, encoding="utf-8")
    rc = main(["fmt", "--check", str(p)])
    assert p.read_text(encoding="utf-8") == ugly
    if rc == 1:
        assert "would reformat" in capsys.readouterr().out
        assert main(["fmt", str(p)]) == 0
        assert main(["fmt", "--check", str(p)]) == 0
    else:
        assert rc == 0


def test_run_subcommand_is_wired_to_the_runner(capsys):
    # `qvr run --help` is answered by qvr.runner's argument parser (or a clear error if the
    # runner is missing); either way no traceback.
    try:
        rc = main(["run", "--help"])
    except SystemExit as exc:  # argparse help exits 0
        rc = exc.code
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err
    assert rc in (0, 2)


def test_subprocess_python_m_qvr(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "qvr", "check", SEED_002], capture_output=True,
                          text=True, cwd=str(tmp_path))
    assert proc.returncode == 0
    assert proc.stdout.splitlines() == [f"{SEED_002}: OK (1 hint; --hints shows them)"]
    code = ("import sys; from qvr.cli import main; main(['check', sys.argv[1]]); "
            "print('torch' in sys.modules)")
    proc = subprocess.run([sys.executable, "-c", code, SEED_002], capture_output=True, text=True)
    assert proc.stdout.splitlines()[-1] == "False", "qvr check must not import torch"


def test_run_without_torch_names_the_missing_dependency():
    code = ("import sys; sys.modules['torch'] = None\n"  # `import torch` now fails
            "from qvr.cli import main\n"
            f"sys.exit(main(['run', {SEED_002!r}, '--svi', '--json']))\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert json.loads(done.stdout) == {
        "event": "error", "code": "dependency",
        "message": "`qvr run` needs PyTorch, which is not installed: pip install torch "
                   "(the README says how to choose the CPU or a CUDA build)"}


def test_run_help_gives_every_default_and_number_errors_are_worded(capsys):
    from qvr.runner import main as run_main

    assert run_main(["--help"]) == 0
    help_text = " ".join(capsys.readouterr().out.split())
    for default in ("ELBO particles per SVI step (default 1)", "NUTS chains (default 1)",
                    "random seed (default 0)", "SVI optimisation steps (default 200)",
                    "prior-predictive draws with --sample (default 100), draws per chain after "
                    "warm-up with --nuts (default 100)",
                    "NUTS warm-up iterations per chain (default 100)",
                    "or auto (parallel for several chains on the CPU; the default)"):
        assert default in help_text
    assert run_main([SEED_002, "--svi", "--steps", "abc"]) == 2
    assert capsys.readouterr().err.splitlines()[-1] == \
        "qvr run: error: argument --steps: expected a positive integer, got 'abc'"


def test_run_help_shows_a_default_for_every_option():
    """Every option of `qvr run --help` says what happens when it is not given."""
    import argparse

    from qvr.run.arguments import add_run_arguments

    parser = argparse.ArgumentParser()
    add_run_arguments(parser)
    modes = {"--sample", "--svi", "--nuts", "-h"}
    missing = [a.option_strings[0] for a in parser._actions
               if a.option_strings and a.option_strings[0] not in modes
               and "default" not in (a.help or "")]
    assert missing == []


@pytest.mark.slow
def test_runtime_subpackages_are_attributes_of_qvr():
    code = ("import sys, qvr\n"
            "before = 'torch' in sys.modules\n"
            "print(before, qvr.infer.SVI.__name__, qvr.semantics.analyze.__name__)\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.stdout.split() == ["False", "SVI", "analyze"]
