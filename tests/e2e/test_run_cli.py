"""`qvr run` as a new user drives it: each mode on a tiny model, and every kind of bad input
(unknown entry, data files that are missing / foreign / incomplete / mis-shaped / of the wrong
dtype / NaN, an unknown device, an output folder that cannot be created, a model that goes NaN)
ends with one clear message and exit status 1 (2 for usage errors), never a traceback.

In-process through `qvr.cli.main` (torch is imported once); the process boundary (`python -m
qvr`, Ctrl-C) is in test_process.py.
"""
from __future__ import annotations

import json
import math

from pathlib import Path

import pytest

torch = pytest.importorskip("torch")

from qvr.cli import main  # noqa: E402

TINY = (Path(__file__).resolve().parents[1] / "programs" / "tiny_lm.qvr").read_text(encoding="utf-8")  # seed 002 in miniature


@pytest.fixture
def model_file(tmp_path):
    path = tmp_path / "tiny.qvr"
    path.write_text(TINY, encoding="utf-8")
    return str(path)


def run(capsys, tmp_path, *argv):
    status = main(["run", *argv, "--out", str(tmp_path / "out"), "--batch", "2", "--seq-len", "3"])
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    return status, out, err


def run_json(capsys, tmp_path, *argv):
    status, out, err = run(capsys, tmp_path, *argv, "--json")
    return status, [json.loads(line) for line in out.splitlines() if line.strip()]


@pytest.mark.parametrize("mode,metric", [
    (["--sample", "--samples", "2"], "log_joint"), (["--svi", "--steps", "3"], "loss"),
    (["--nuts", "--warmup", "2", "--samples", "2", "--max-tree-depth", "2"], "log_joint")],
    ids=["sample", "svi", "nuts"])
def test_each_mode_runs_and_writes_a_summary(capsys, tmp_path, model_file, mode, metric):
    status, events = run_json(capsys, tmp_path, model_file, *mode)
    assert status == 0, events
    assert events[0]["event"] == "start" and events[0]["entry"] == "rnn"
    result = events[-1]
    assert result["event"] == "result" and math.isfinite(result[f"final_{metric}"])
    summary = json.loads(open(result["summary_path"], encoding="utf-8").read())
    series = {"loss": "losses", "log_joint": "log_joints"}[metric]
    assert summary["entry"] == "rnn" and len(summary[series]) >= 2


def _counts(events):
    """(start total, steps of the progress events) of a run's events."""
    return events[0]["total"], [e["step"] for e in events if e["event"] == "progress"]


def test_samples_counts_the_draws_of_a_sample_run(capsys, tmp_path, model_file):
    status, out, err = run(capsys, tmp_path, model_file, "--sample", "--samples", "3", "--json")
    assert status == 0 and err == ""
    events = [json.loads(line) for line in out.splitlines()]
    assert _counts(events) == (3, [1, 2, 3])
    assert json.loads(open(events[-1]["summary_path"]).read())["settings"]["samples"] == 3


def test_steps_of_a_sample_run_still_counts_draws_with_a_deprecation(capsys, tmp_path, model_file):
    status, out, err = run(capsys, tmp_path, model_file, "--sample", "--steps", "3", "--json")
    assert status == 0
    assert err == "qvr run: warning: --steps with --sample is deprecated: use --samples 3\n"
    assert _counts([json.loads(line) for line in out.splitlines()]) == (3, [1, 2, 3])


def test_steps_of_a_nuts_run_is_split_with_a_deprecation(capsys, tmp_path, model_file):
    status, out, err = run(capsys, tmp_path, model_file, "--nuts", "--steps", "5",
                           "--max-tree-depth", "2", "--json")
    assert status == 0
    assert err == ("qvr run: warning: --steps with --nuts is deprecated: use --warmup 2 "
                   "--samples 3 (warm-up iterations and draws per chain)\n")
    events = [json.loads(line) for line in out.splitlines()]
    settings = json.loads(open(events[-1]["summary_path"]).read())["settings"]
    assert (settings["steps"], settings["warmup"], settings["samples"]) == (None, 2, 3)
    assert events[0]["total"] == 5


def test_nuts_defaults_are_100_warmup_and_100_draws(capsys, tmp_path, model_file, monkeypatch):
    from qvr.run import drivers

    seen = {}

    def fake_nuts(model, x, observations, warmup, samples, *rest):
        seen.update(warmup=warmup, samples=samples)
        return drivers.Fitted([-1.0], {})

    monkeypatch.setattr(drivers, "nuts", fake_nuts)
    status, events = run_json(capsys, tmp_path, model_file, "--nuts")
    assert status == 0 and seen == {"warmup": 100, "samples": 100}
    assert events[0]["total"] == 200


@pytest.mark.parametrize("argv,message", [
    (["--svi", "--samples", "3"], "--samples is for --sample and --nuts; an SVI run takes --steps"),
    (["--svi", "--warmup", "3"], "--warmup is for --nuts; an SVI run takes --steps"),
    (["--sample", "--warmup", "3"], "--warmup is for --nuts; a Sample run takes --samples"),
    (["--sample", "--steps", "3", "--samples", "4"],
     "--steps and --samples both count the draws of --sample: give --samples alone"),
], ids=["svi-samples", "svi-warmup", "sample-warmup", "sample-both"])
def test_an_option_of_another_kind_is_a_usage_error(capsys, tmp_path, model_file, argv, message):
    status, _, err = run(capsys, tmp_path, model_file, *argv)
    assert status == 1 and err == f"qvr run: error[usage]: {message}\n"


def test_unknown_entry_names_the_available_ones(capsys, tmp_path, model_file):
    status, _, err = run(capsys, tmp_path, model_file, "--svi", "--steps", "1", "--entry", "nope")
    assert status == 1
    assert "no program or define named 'nope'" in err and "backbone, rnn" in err


def test_source_errors_are_located(capsys, tmp_path):
    path = tmp_path / "broken.qvr"
    path.write_text(TINY.replace("-> Hidden [role", "-> Hiden [role"), encoding="utf-8")
    status, _, err = run(capsys, tmp_path, str(path), "--svi", "--steps", "1")
    assert status == 1 and f"{path}:5:" in err and "QVR010" in err


@pytest.mark.parametrize("name", ["missing.qvr", "."], ids=["missing", "directory"])
def test_unreadable_model_file_is_an_io_error(capsys, tmp_path, name):
    status, _, err = run(capsys, tmp_path, str(tmp_path / name), "--svi", "--steps", "1")
    assert status == 1 and "error[io]: cannot read" in err


def test_non_utf8_model_file_is_a_located_error(capsys, tmp_path):
    path = tmp_path / "latin1.qvr"
    path.write_bytes(b"# caf\xe9\n" + TINY.encode())
    status, _, err = run(capsys, tmp_path, str(path), "--svi", "--steps", "1")
    assert status == 1 and f"{path}:1:6: error[QVR001]" in err


def _data(tmp_path, name, payload):
    path = tmp_path / name
    if isinstance(payload, (bytes, str)):
        path.write_bytes(payload if isinstance(payload, bytes) else payload.encode())
    else:
        path.write_text(json.dumps(payload), encoding="utf-8")
    return str(path)


X = [[1, 2, 3], [4, 5, 6]]


@pytest.mark.parametrize("name,payload,expected", [
    ("none.json", None, "no such file"),
    ("data.csv", "1,2,3", "expected a .pt, .npz or .json file"),
    ("bad.json", "{not json", "cannot read it"),
    ("list.json", [1, 2, 3], "expected a mapping"),
    ("nox.json", {"next_token": [1, 2]}, "no 'x'"),
    ("nosite.json", {"x": X}, "no values for observed site 'next_token'"),
    ("extra.json", {"x": X, "next_token": [1, 2], "bogus": [1]}, "'bogus' is not an observed site"),
    ("shape.json", {"x": X, "next_token": [1, 2, 3]}, "site 'next_token' expects shape (2,)"),
    ("strings.json", {"x": X, "next_token": ["a", "b"]}, "'next_token' is not a numeric array"),
    ("floats.json", {"x": X, "next_token": [0.5, 1.5]}, "needs integer values"),
    ("range.json", {"x": X, "next_token": [1, 99]}, "outside its support"),
    ("nan.json", {"x": [[1.0, float("nan"), 3.0], [4.0, 5.0, 6.0]], "next_token": [1, 2]},
     "'x' does not fit the model"),
])
def test_bad_data_files_name_the_file_and_the_problem(capsys, tmp_path, model_file, name, payload, expected):
    data = str(tmp_path / name) if payload is None else _data(tmp_path, name, payload)
    status, events = run_json(capsys, tmp_path, model_file, "--svi", "--steps", "1", "--data", data)
    assert status == 1
    (error,) = [e for e in events if e["event"] == "error"]
    assert error["code"] == "data" and name in error["message"] and expected in error["message"]


def test_good_data_file_is_used(capsys, tmp_path, model_file):
    data = _data(tmp_path, "good.json", {"x": X, "next_token": [1, 2]})
    status, events = run_json(capsys, tmp_path, model_file, "--svi", "--steps", "2", "--data", data)
    assert status == 0 and events[-1]["event"] == "result"


@pytest.mark.parametrize("device,expected", [("nonsense", "unknown device 'nonsense'"),
                                             ("cuda", "CUDA is not available")])
def test_bad_device_is_a_device_error(capsys, tmp_path, model_file, device, expected):
    if device == "cuda" and torch.cuda.is_available():
        pytest.skip("this machine has CUDA")
    status, _, err = run(capsys, tmp_path, model_file, "--svi", "--steps", "1", "--device", device)
    assert status == 1 and "error[device]" in err and expected in err


def test_output_folder_that_cannot_be_created_is_an_io_error(capsys, tmp_path, model_file):
    blocker = tmp_path / "a_file"
    blocker.write_text("not a folder")
    status = main(["run", model_file, "--svi", "--steps", "1", "--batch", "2", "--seq-len", "3",
                   "--out", str(blocker / "runs")])
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    assert status == 1 and "error[io]" in err and str(blocker) in err


def test_model_that_goes_nan_is_located_at_its_step(capsys, tmp_path):
    path = tmp_path / "nan.qvr"
    path.write_text(TINY.replace("scale=0.1", "scale=1e-30"), encoding="utf-8")
    status, _, err = run(capsys, tmp_path, str(path), "--svi", "--steps", "3")
    assert status == 1
    assert f"{path}:9:5: error[nan]:" in err and "'h'" in err


@pytest.mark.parametrize("argv", [["--svi", "--steps", "0"], [], ["--svi", "--sample"]],
                         ids=["zero-steps", "no-mode", "two-modes"])
def test_usage_errors_exit_2(capsys, tmp_path, model_file, argv):
    status, _, err = run(capsys, tmp_path, model_file, *argv)
    assert status == 2 and "qvr: error:" in err
