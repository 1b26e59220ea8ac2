"""`qvr run` and NUTS on inputs that once went wrong, one test each: a non-UTF-8 model file, NaN
loss curves, nothing to fit, an unwritable --out (refused before the run, not after), the device
printed once, NUTS warmup that keeps going past 20-25 iterations, and the default results folder
naming the kind of run.
"""
from __future__ import annotations

import json
import math
import os
from pathlib import Path

import pytest
import torch

import qvr
from qvr import runner
from qvr.infer import MCMC, NUTSKernel
from qvr.infer.adaptation import MIN_SLOW_WINDOW, MIN_TERMINAL_WINDOW, WarmupSchedule

TINY_LM = (Path(__file__).resolve().parents[1] / "programs" / "tiny_lm.qvr").read_text(encoding="utf-8")  # seed 002 in miniature
DETERMINISTIC = "object X : Real 4\nmorphism f, g : X -> X\ndefine model = f >> g\nexport model\n"
SMALL = ["--batch", "2", "--seq-len", "3"]


def run_json(capsys, *argv):
    status = runner.main([*argv, "--json"])
    out = capsys.readouterr().out
    return status, [json.loads(line) for line in out.splitlines() if line.strip()]


@pytest.fixture
def lm_file(tmp_path):
    path = tmp_path / "lm.qvr"
    path.write_text(TINY_LM, encoding="utf-8")
    return str(path)


# 1 -----------------------------------------------------------------------------------------------
def test_latin1_model_file_is_a_located_qvr001(capsys, tmp_path):
    path = tmp_path / "latin1.qvr"
    path.write_bytes("# caf\u00e9\nobject X : Real 4\n".encode("latin-1"))
    status, events = run_json(capsys, str(path), "--svi", "--out", str(tmp_path / "out"))
    assert status == runner.EXIT_RUN_ERROR
    (error,) = events
    assert error["event"] == "error" and error["code"] == "QVR001"
    assert (error["file"], error["line"], error["column"]) == (str(path), 1, 6)
    assert "0xe9" in error["message"] and "UTF-8" in error["message"]
    status = runner.main([str(path), "--svi", "--out", str(tmp_path / "out")])
    assert f"{path}:1:6: error[QVR001]" in capsys.readouterr().err


# 2 -----------------------------------------------------------------------------------------------
def test_loss_curve_tolerates_nan_inf_and_empty_series(tmp_path):
    for i, series in enumerate([[math.nan, math.nan], [], [math.inf, -math.inf, None],
                                [1.0, math.nan, 1e4], [-3.0, 5.0, math.nan]]):
        path = tmp_path / f"curve{i}.png"
        runner._plot(series, path, "t", "loss")
        assert path.stat().st_size > 0
    assert runner._wants_log_scale([1.0, math.nan, 1e4])
    assert not runner._wants_log_scale([math.nan, math.inf])
    assert not runner._wants_log_scale([-3.0, 5000.0])


def test_sampling_a_nan_model_writes_its_results(capsys, tmp_path):
    path = tmp_path / "nan.qvr"
    path.write_text(TINY_LM.replace("scale=0.1", "scale=1e-30"), encoding="utf-8")
    status, events = run_json(capsys, str(path), "--sample", "--samples", "2", *SMALL,
                              "--out", str(tmp_path / "out"))
    assert status == runner.EXIT_OK, events[-1]
    assert (tmp_path / "out" / "log_joint.png").is_file()


# 3 -----------------------------------------------------------------------------------------------
@pytest.mark.parametrize("kind", [["--svi", "--steps", "2"], ["--nuts", "--samples", "2"]],
                         ids=["svi", "nuts"])
def test_a_model_without_random_sites_has_nothing_to_fit(capsys, tmp_path, kind):
    path = tmp_path / "det.qvr"
    path.write_text(DETERMINISTIC, encoding="utf-8")
    status, events = run_json(capsys, str(path), *kind, "--out", str(tmp_path / "o"))
    assert status == runner.EXIT_RUN_ERROR
    (error,) = events  # refused before the start event
    assert error["code"] == "nothing-to-fit"
    assert error["message"].startswith("nothing to fit: `model` has no latent sites, no observed sites")


def test_lifting_the_weights_of_a_deterministic_model_is_something_to_sample(capsys, tmp_path):
    path = tmp_path / "det.qvr"
    path.write_text(DETERMINISTIC, encoding="utf-8")
    status, events = run_json(capsys, str(path), "--nuts", "--lift", "--warmup", "2", "--samples", "2",
                              "--out", str(tmp_path / "o"))
    assert status == runner.EXIT_OK, events[-1]


# 4 -----------------------------------------------------------------------------------------------
@pytest.mark.skipif(hasattr(os, "geteuid") and os.geteuid() == 0,
                    reason="root writes into read-only folders")
def test_read_only_out_fails_before_the_run_starts(capsys, tmp_path, lm_file):
    out = tmp_path / "ro"
    out.mkdir()
    out.chmod(0o500)
    try:
        status, events = run_json(capsys, lm_file, "--svi", "--steps", "2", *SMALL, "--out", str(out))
    finally:
        out.chmod(0o700)
    assert status == runner.EXIT_RUN_ERROR
    assert [e["event"] for e in events] == ["error"] and events[0]["code"] == "io"


def test_out_under_a_file_fails_before_the_run_starts(capsys, tmp_path, lm_file):
    blocker = tmp_path / "a_file"
    blocker.write_text("not a folder")
    status, events = run_json(capsys, lm_file, "--svi", "--steps", "2", *SMALL,
                              "--out", str(blocker / "runs"))
    assert status == runner.EXIT_RUN_ERROR
    assert [e["event"] for e in events] == ["error"]  # no start, no progress
    assert events[0]["code"] == "io" and str(blocker) in events[0]["message"]


def test_out_probe_leaves_nothing_behind(tmp_path):
    out = runner._out_dir(str(tmp_path / "fresh"), Path("m.qvr"), "e", "svi")
    assert out.is_dir() and list(out.iterdir()) == []


# 5 -----------------------------------------------------------------------------------------------
@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has CUDA")
def test_missing_cuda_is_said_once(capsys, lm_file):
    status = runner.main([lm_file, "--svi", "--device", "cuda"])
    err = capsys.readouterr().err
    assert status == runner.EXIT_RUN_ERROR
    assert err.count("'cuda'") == 1 and err.count("device") == 2  # "error[device]" + "on device"
    assert "cannot place the model on device 'cuda': CUDA is not available" in err


# 6 -----------------------------------------------------------------------------------------------
@pytest.mark.parametrize("num_warmup", range(20, 60))
def test_short_warmups_keep_a_terminal_step_size_interval(num_warmup):
    schedule = WarmupSchedule(num_warmup, adapt_mass_matrix=True)
    if not schedule.window_ends:
        return  # step size only: nothing restarts the dual averaging
    last_end = max(schedule.window_ends)
    assert num_warmup - 1 - last_end >= MIN_TERMINAL_WINDOW
    for end, start in schedule.starts.items():
        assert end - start + 1 >= MIN_SLOW_WINDOW


def test_long_warmups_keep_stans_windows():
    schedule = WarmupSchedule(1000, adapt_mass_matrix=True)
    assert sorted(schedule.window_ends) == [99, 149, 249, 449, 949]


@pytest.mark.slow
@pytest.mark.parametrize("num_warmup,seed", [(20, 1), (25, 0)])  # both froze before the fix
def test_nuts_does_not_freeze_after_a_short_warmup(num_warmup, seed):
    torch.manual_seed(0)
    model = qvr.loads(TINY_LM, device="cpu").morphism
    x = torch.randint(0, 16, (4, 8))
    observations = {"next_token": model.rsample(x)}
    result = MCMC(NUTSKernel(max_tree_depth=4), num_warmup=num_warmup, num_samples=10,
                  seed=seed).run(model, x, observations)
    draws = result.log_densities[0].tolist()
    assert float(result.acceptance_rates[0]) > 0.3
    assert len(set(draws)) > 1


# 7 -----------------------------------------------------------------------------------------------
def test_default_results_folder_names_entry_kind_and_time(capsys, tmp_path, lm_file):
    status, events = run_json(capsys, lm_file, "--sample", "--samples", "2", *SMALL)
    assert status == runner.EXIT_OK, events[-1]
    folder = Path(events[-1]["summary_path"]).parent
    assert folder.parent == tmp_path / "runs"
    assert folder.name.startswith("rnn-sample-") and folder.name[len("rnn-sample-"):][:8].isdigit()
    # A second run in the same second gets its own folder.
    status, events2 = run_json(capsys, lm_file, "--sample", "--samples", "2", *SMALL)
    assert Path(events2[-1]["summary_path"]).parent != folder
