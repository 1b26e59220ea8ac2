"""`qvr run` (qvr.runner): events, outputs, data validation, NaN and cancellation handling.

Most runs are in-process through ``qvr.runner.main`` on a tiny program (data/*.qvr) so the
file stays fast; one subprocess test checks SIGTERM, and one runs seed 002 end to end.
"""
from __future__ import annotations

import json
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from qvr import runner

DATA = Path(__file__).parent / "data"
LATENT = str(DATA / "latent_regression.qvr")
CLASSIFIER = str(DATA / "classifier.qvr")
SEED_002 = str(Path(__file__).parents[2] / "examples" / "seed_002_vanilla_rnn_lm.qvr")


def run_json(capsys, *argv):
    rc = runner.main(list(argv) + ["--json"])
    out = capsys.readouterr()
    events = [json.loads(line) for line in out.out.splitlines() if line.strip()]
    assert "Traceback" not in out.err
    return rc, events, out.err


@pytest.mark.slow
def test_svi_json_events_outputs_and_falling_loss(capsys, tmp_path):
    rc, events, _ = run_json(capsys, LATENT, "--svi", "--steps", "120", "--lr", "0.05",
                             "--batch", "32", "--out", str(tmp_path))
    assert rc == 0
    kinds = [e["event"] for e in events]
    assert kinds[0] == "start" and kinds[-1] == "result" and set(kinds[1:-1]) == {"progress"}
    start, result = events[0], events[-1]
    assert start == {"event": "start", "entry": "latent_reg", "kind": "svi", "device": "cpu", "total": 120}
    progress = events[1:-1]
    assert [e["step"] for e in progress] == list(range(1, 121))
    assert all(e["total"] == 120 and e["elapsed"] >= 0 for e in progress)
    losses = [e["loss"] for e in progress]
    assert sum(losses[-10:]) / 10 < sum(losses[:10]) / 10
    assert result["final_loss"] == losses[-1]
    assert set(result["posterior"]) == {"z"}
    assert np.array(result["posterior"]["z"]["mean"]).shape == (32, 3)
    summary = json.loads(Path(result["summary_path"]).read_text())
    assert np.array(summary["posterior"]["z"]["mean"]).shape == (32, 3)
    assert summary["losses"] == losses and summary["kind"] == "svi"
    png = Path(result["loss_curve_path"]).read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.slow
def test_nuts_and_sample_runs(capsys, tmp_path):
    rc, events, _ = run_json(capsys, LATENT, "--nuts", "--warmup", "20", "--samples", "20",
                             "--chains", "2", "--out", str(tmp_path / "n"))
    assert rc == 0
    assert events[0]["total"] == 80 and events[-2]["step"] == 80
    post = events[-1]["posterior"]
    assert np.array(post["z"]["mean"]).shape == (4, 3)
    assert len(post["_diagnostics"]["acceptance_rates"]) == 2
    rc, events, _ = run_json(capsys, LATENT, "--sample", "--samples", "30", "--out", str(tmp_path / "s"))
    assert rc == 0 and events[-1]["event"] == "result"
    assert events[0]["total"] == 30 and events[-2]["step"] == 30
    assert set(events[-1]["posterior"]) == {"z", "y"}


@pytest.mark.parametrize("kind", ["--sample", "--nuts"])
def test_sample_and_nuts_report_the_log_joint_not_a_loss(capsys, tmp_path, kind):
    """A draw's log joint is reported as itself (`log_joint`, higher is more probable), in
    the events, summary.json and a curve titled "log joint"; nothing of it is called a loss."""
    counts = ["--samples", "6"] if kind == "--sample" else ["--warmup", "3", "--samples", "3"]
    rc, events, _ = run_json(capsys, LATENT, kind, *counts, "--out", str(tmp_path))
    assert rc == 0
    progress = [e for e in events if e["event"] == "progress"]
    assert progress and all(set(e) == {"event", "step", "total", "log_joint", "elapsed"}
                            for e in progress)
    result = events[-1]
    assert set(result) == {"event", "entry", "kind", "final_log_joint", "elapsed", "device",
                           "summary_path", "log_joint_curve_path", "posterior"}
    assert result["final_log_joint"] == progress[-1]["log_joint"]
    assert result["log_joint_curve_path"] == str((tmp_path / "log_joint.png").resolve())
    assert sorted(p.name for p in tmp_path.iterdir()) == ["log_joint.png", "summary.json"]
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert "losses" not in summary and "final_loss" not in summary
    assert summary["final_log_joint"] == summary["log_joints"][-1] == result["final_log_joint"]
    assert len(summary["log_joints"]) == 6


def test_sample_log_joint_is_the_models_log_density_of_each_draw(capsys, tmp_path):
    """The reported value is log p(draw), not its negative: every site of the model is a
    Normal of scale 0.5 or 0.3, whose log density at a draw of its own is -log(2πσ²)/2 - 1/2 on
    average (below 0 for both scales), so the log joint averages below 0."""
    rc, events, _ = run_json(capsys, LATENT, "--sample", "--samples", "40", "--out", str(tmp_path))
    assert rc == 0
    values = json.loads((tmp_path / "summary.json").read_text())["log_joints"]
    assert len(values) == 40 and sum(values) / len(values) < 0


@pytest.mark.slow
def test_parallel_and_sequential_nuts_chains_give_the_same_run(capsys, tmp_path):
    """`--chain-method parallel` (worker processes) and `sequential` give the same summary for
    a fixed seed: posterior, R-hat and ESS across chains, and the log-joint curve."""
    runs = {}
    for method in ("parallel", "sequential"):
        rc, events, _ = run_json(capsys, LATENT, "--nuts", "--warmup", "15", "--samples", "15",
                                 "--chains", "3", "--chain-method", method, "--seed", "4",
                                 "--out", str(tmp_path / method))
        assert rc == 0
        progress = [e for e in events if e["event"] == "progress"]
        # per-chain progress: every event says how far each chain is; the step is their sum
        assert all(len(e["chains"]) == 3 and e["step"] == sum(e["chains"]) for e in progress)
        assert progress[-1]["chains"] == [30, 30, 30] and progress[-1]["step"] == 90
        runs[method] = json.loads(Path(events[-1]["summary_path"]).read_text())
    parallel, sequential = runs["parallel"], runs["sequential"]
    assert parallel["posterior"]["_diagnostics"].pop("chain_method") == "parallel"
    assert sequential["posterior"]["_diagnostics"].pop("chain_method") == "sequential"
    assert parallel["posterior"] == sequential["posterior"]
    assert set(parallel["posterior"]["z"]) == {"mean", "std", "r_hat", "ess"}
    assert parallel["log_joints"] == sequential["log_joints"] and len(parallel["log_joints"]) == 90


def test_large_posterior_arrays_are_averaged_in_the_event_but_kept_in_the_summary():
    big = torch.arange(4 * 7 * 128, dtype=torch.float64).reshape(4, 7, 128)
    small = [[1.0, 2.0], [3.0, 4.0]]
    out = runner.compact_posterior({"h/scan": {"mean": big.tolist(), "std": big.tolist()},
                                    "z": {"mean": small}, "_diagnostics": {"x": [1]}})
    assert out["h/scan"]["shape"] == [4, 7, 128] and out["h/scan"]["averaged_over_leading_axes"]
    assert out["h/scan"]["mean"] == big.reshape(-1, 128).mean(0).tolist()
    assert out["z"] == {"mean": small} and out["_diagnostics"] == {"x": [1]}


def test_human_mode_prints_a_progress_bar(capsys, tmp_path):
    rc = runner.main([LATENT, "--svi", "--steps", "20", "--out", str(tmp_path)])
    out = capsys.readouterr()
    assert rc == 0
    bars = [line for line in out.err.splitlines() if line.startswith("[")]
    assert bars and bars[-1].startswith("[" + "#" * 30 + "] 20/20  loss ")
    assert "final loss" in out.out and str(tmp_path) in out.out


def test_human_mode_of_a_sample_run_names_draws_and_the_log_joint(capsys, tmp_path):
    rc = runner.main([LATENT, "--sample", "--samples", "20", "--out", str(tmp_path)])
    out = capsys.readouterr()
    assert rc == 0
    lines = out.err.splitlines()
    assert lines[0] == "qvr run: sample on latent_reg (cpu), 20 draws"
    assert lines[-1].startswith("[" + "#" * 30 + "] 20/20  log joint -")
    assert "loss" not in out.err + out.out
    final, summary, curve = out.out.splitlines()
    assert final.startswith("sample latent_reg: final log joint -")
    assert summary == f"summary: {(tmp_path / 'summary.json').resolve()}"
    assert curve == f"log joint curve: {(tmp_path / 'log_joint.png').resolve()}"


def test_default_output_folder_is_next_to_the_file(capsys, tmp_path):
    src = tmp_path / "model.qvr"
    src.write_text(Path(LATENT).read_text())
    rc, events, _ = run_json(capsys, str(src), "--svi", "--steps", "2")
    assert rc == 0
    summary = Path(events[-1]["summary_path"])
    assert summary.parent.parent == tmp_path / "runs"
    assert summary.parent.name.startswith("latent_reg-svi-")


@pytest.mark.parametrize("fmt", ["pt", "npz", "json"])
def test_data_files_are_loaded(capsys, tmp_path, fmt):
    x = torch.randn(6, 2)
    label = torch.tensor([0, 1, 2, 0, 1, 2])
    path = tmp_path / f"d.{fmt}"
    if fmt == "pt":
        torch.save({"x": x, "label": label}, path)
    elif fmt == "npz":
        np.savez(path, x=x.numpy(), label=label.numpy())
    else:
        path.write_text(json.dumps({"x": x.tolist(), "label": label.tolist()}))
    rc, events, _ = run_json(capsys, CLASSIFIER, "--svi", "--steps", "3", "--data", str(path),
                             "--out", str(tmp_path / "o"))
    assert rc == 0, events


@pytest.mark.parametrize("content, message", [
    ({"x": [[0.0, 1.0]]}, "no values for observed site 'label'"),
    ({"x": [[0.0, 1.0]], "label": [0, 1]}, "site 'label' expects shape (1,)"),
    ({"x": [[0.0, 1.0]], "label": [0.5]}, "site 'label' is finite and needs integer values"),
    ({"x": [[0.0, 1.0]], "label": [7]}, "site 'label' has values outside its support"),
    ({"x": [[0.0, 1.0]], "label": [1], "lable": [1]}, "'lable' is not an observed site"),
    ({"label": [1]}, "no 'x'"),
    ({"x": [[0.0, 1.0, 2.0]], "label": [1]}, "'x' does not fit the model"),
])
def test_bad_data_is_a_clear_error_naming_the_site(capsys, tmp_path, content, message):
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(content))
    rc, events, _ = run_json(capsys, CLASSIFIER, "--svi", "--steps", "2", "--data", str(path))
    assert rc == 1
    (error,) = [e for e in events if e["event"] == "error"]
    assert error["code"] == "data" and message in error["message"]
    # Human mode: one located line on stderr, no traceback.
    rc = runner.main([CLASSIFIER, "--svi", "--steps", "2", "--data", str(path)])
    err = capsys.readouterr().err
    assert rc == 1 and "error[data]" in err and message in err and "Traceback" not in err


def test_load_errors_carry_the_diagnostic_code_and_position(capsys, tmp_path):
    src = tmp_path / "broken.qvr"
    src.write_text("object X : Real 2\nprogram p : X -> X\n    sample z <- nowhere\n    return z\nexport p\n")
    rc, events, _ = run_json(capsys, str(src), "--svi", "--steps", "2")
    assert rc == 1
    error = events[-1]
    assert error["event"] == "error" and error["code"].startswith("QVR")
    assert error["file"] == str(src) and error["line"] == 3


def test_unknown_entry_and_usage_errors(capsys):
    rc, events, _ = run_json(capsys, LATENT, "--svi", "--entry", "nope")
    assert rc == 1 and events[-1]["code"] == "entry" and "latent_reg" in events[-1]["message"]
    assert runner.main([LATENT]) == 2            # no --svi/--nuts/--sample
    assert runner.main([LATENT, "--svi", "--steps", "0"]) == 2
    capsys.readouterr()


def test_a_non_finite_loss_stops_the_run_with_a_nan_event(capsys, tmp_path, monkeypatch):
    from qvr.infer import SVI

    calls = []

    def step(self, x, observations=None):
        calls.append(1)
        return 1.0 if len(calls) < 3 else float("nan")

    monkeypatch.setattr(SVI, "step", step)
    rc, events, _ = run_json(capsys, LATENT, "--svi", "--steps", "10", "--out", str(tmp_path))
    assert rc == 1
    assert events[-1]["event"] == "error" and events[-1]["code"] == "nan"
    assert "step 3" in events[-1]["message"]
    assert [e["step"] for e in events if e["event"] == "progress"] == [1, 2]


def test_failing_sites_map_to_their_program_step(tmp_path):
    import qvr

    program = qvr.load(LATENT)
    locate = runner._Locator(program, "latent_reg", Path(LATENT).read_text(), LATENT)
    assert locate.position_of("z") == (8, 5)
    assert locate.position_of("y") == (9, 5)


# Two programs composed by defines: `first`'s steps lie below its label in a run of `chain`
# (`output/first/a`), the last component's below the output (`output/b`), through `alias`.
COMPOSED = ("object X : Real 1\n"
            "program first(x) : X -> X\n"
            "    sample a : X <- Normal(loc=x, scale=1.0)\n"
            "    return a\n"
            "program second(x) : X -> X\n"
            "    sample b : X <- Normal(loc=x, scale=1.0)\n"
            "    observe c : X <- Normal(loc=b, scale=1.0)\n"
            "    return c\n"
            "define chain = second << first\n"
            "define alias = chain\n"
            "export alias\n")


def test_sites_of_a_define_entry_map_to_the_steps_of_its_programs(tmp_path):
    import qvr

    src = tmp_path / "composed.qvr"
    src.write_text(COMPOSED)
    program = qvr.load(str(src))
    for entry in ("alias", "chain", None):
        locate = runner._Locator(program, entry, COMPOSED, str(src))
        located = {site: locate.position_of(site) for site in (
            "output/first/a", "output/b", "output/c", "output", "output/nothing", "first")}
        assert located == {"output/first/a": (3, 5), "output/b": (6, 5), "output/c": (7, 5),
                           "output": (None, None), "output/nothing": (None, None),
                           "first": (None, None)}


@pytest.mark.parametrize("broken, line", [("first", 3), ("second", 6)])
def test_a_failure_in_a_program_of_a_define_entry_is_located_at_its_step(capsys, tmp_path, broken, line):
    src = tmp_path / "composed.qvr"
    step = "    sample a : X <- Normal(loc=x, scale=1.0)\n" if broken == "first" else \
        "    sample b : X <- Normal(loc=x, scale=1.0)\n"
    src.write_text(COMPOSED.replace(step, step.replace("Normal(loc=x, scale=1.0)",
                                                       "Uniform(low=0.0, high=0.0)")))
    rc, events, _ = run_json(capsys, str(src), "--svi", "--steps", "3", "--out", str(tmp_path / "out"))
    assert rc == 1
    site = "output/first/a" if broken == "first" else "output/b"
    assert events[-1] == {"event": "error", "code": "runtime", "file": str(src), "line": line, "column": 5,
                          "message": f"while computing site '{site}': ValueError: math domain error"}


# an empty support has no bijection for the guide: torch raises while drawing `mu` (line 3)
EMPTY_UNIFORM = ("object X : Real 1\nprogram p(x) : X -> X\n"
                 "    sample mu : X <- Uniform(low=0.0, high=0.0)\n"
                 "    observe y : X <- Normal(loc=mu, scale=1.0)\n    return y\nexport p\n")


def test_a_failure_while_a_step_computes_its_site_is_located_at_that_step(capsys, tmp_path):
    src = tmp_path / "empty.qvr"
    src.write_text(EMPTY_UNIFORM)
    rc, events, _ = run_json(capsys, str(src), "--svi", "--steps", "3", "--out", str(tmp_path / "out"))
    assert rc == 1
    assert events[-1] == {"event": "error", "code": "runtime", "file": str(src), "line": 3, "column": 5,
                          "message": "while computing site 'mu': ValueError: math domain error"}


# `share` is a data input; mixture weights must not be negative
BLEND = ("object Part : FinSet 2\nobject Row : FinSet 5\nobject Level : Real 1\n"
         "program blend : Row -> Level\n"
         "    sample centre : Part <- Normal(loc=0.0, scale=3.0)\n"
         "    sample spread : Part <- HalfNormal(scale=1.0)\n"
         "    observe level : Row <- MixtureNormal(weights=share, loc=centre, scale=spread)\n"
         "    return level\nexport blend\n")
NEGATIVE_WEIGHTS = ("while computing site 'level': RuntimeError: probability tensor contains either "
                    "`inf`, `nan` or element < 0")


@pytest.mark.parametrize("through_let", [False, True])
def test_a_site_failure_on_made_up_data_names_that_data(capsys, tmp_path, through_let):
    """Without --data the run draws `share` from N(0, 1) (with this seed, some of it negative):
    the failure says which made-up input the failing step reads (itself or through a `let`),
    and how to give real ones."""
    text = BLEND
    if through_let:
        text = text.replace("    observe level : Row <- MixtureNormal(weights=share",
                            "    let mix = 2.0 * share\n"
                            "    observe level : Row <- MixtureNormal(weights=mix")
    src = tmp_path / "blend.qvr"
    src.write_text(text)
    rc, events, _ = run_json(capsys, str(src), "--sample", "--samples", "2", "--seed", "1",
                             "--out", str(tmp_path / "out"))
    assert rc == 1
    assert events[-1] == {"event": "error", "code": "runtime", "file": str(src),
                          "line": 8 if through_let else 7, "column": 5,
                          "message": NEGATIVE_WEIGHTS + " (this run made up `share` as N(0, 1) data, "
                          "which may be out of range there: supply real values with --data FILE)"}


def test_a_site_failure_on_supplied_data_has_no_such_note(capsys, tmp_path):
    src = tmp_path / "blend.qvr"
    src.write_text(BLEND)
    data = tmp_path / "blend.json"
    data.write_text(json.dumps({"share": [-0.5, 1.5, 1.0, 1.0, 1.0], "level": [0.1, 0.2, 0.3, 0.4, 0.5]}))
    rc, events, _ = run_json(capsys, str(src), "--sample", "--samples", "2", "--data", str(data),
                             "--out", str(tmp_path / "out"))
    assert rc == 1
    assert events[-1] == {"event": "error", "code": "runtime", "file": str(src), "line": 7, "column": 5,
                          "message": NEGATIVE_WEIGHTS}


def test_qvr_debug_prints_the_traceback_of_a_located_site_failure(capsys, tmp_path, monkeypatch):
    src = tmp_path / "empty.qvr"
    src.write_text(EMPTY_UNIFORM)
    monkeypatch.setenv("QVR_DEBUG", "1")
    rc = runner.main([str(src), "--svi", "--steps", "3", "--out", str(tmp_path / "out")])
    err = capsys.readouterr().err.splitlines()
    assert rc == 1
    assert err[0] == "qvr run: svi on p (cpu), 3 steps"
    assert err[1] == "Traceback (most recent call last):" and err[-2] == "ValueError: math domain error"
    assert err[-1] == f"qvr run: {src}:3:5: error[runtime]: while computing site 'mu': ValueError: math domain error"


def test_a_literal_beyond_float32_is_infinite_in_the_model_not_an_internal_error(capsys, tmp_path):
    src = tmp_path / "huge.qvr"
    src.write_text("object X : Real 2\nprogram p(x) : X -> X\n    sample z <- Normal(loc=x, scale=1.0)\n"
                   "    let w = 1e308 - z\n    observe y : X <- Normal(loc=w, scale=1.0)\n"
                   "    return y\nexport p\n")
    rc, events, _ = run_json(capsys, str(src), "--svi", "--steps", "3", "--out", str(tmp_path / "out"))
    assert rc == 1
    error = events[-1]
    assert (error["event"], error["code"], error["file"], error["line"]) == ("error", "nan", str(src), 3)
    assert error["message"].startswith("the loss became non-finite at step 1: site 'z'")


# the log of a negative number: `m` is NaN in every draw, and so is everything drawn from it
NAN_LET = ("object X : Real 1\nprogram p(x) : X -> X\n    let m = log(x * 0.0 - 1.0)\n"
           "    sample z : X <- Normal(loc=m, scale=1.0)\n    return z\nexport p\n")
NAN_SITE = "site 'm' has a non-finite log-density or value"


@pytest.mark.parametrize("kind, args, code, message", [
    ("svi", ("--steps", "3"), "nan", f"the loss became non-finite at step 1: {NAN_SITE} (lower --lr?)"),
    ("nuts", ("--warmup", "2", "--samples", "2"), "runtime",
     f"QvrError: MCMC could not find an initial point with a finite log density in 100 tries: {NAN_SITE}"),
])
def test_a_non_finite_loss_or_nuts_log_joint_stops_the_run_at_its_step(capsys, tmp_path, kind, args, code,
                                                                       message):
    src = tmp_path / "nan.qvr"
    src.write_text(NAN_LET)
    rc, events, _ = run_json(capsys, str(src), f"--{kind}", *args, "--out", str(tmp_path / "out"))
    assert rc == 1
    assert events[-1] == {"event": "error", "code": code, "file": str(src), "line": 3, "column": 5,
                          "message": message}
    assert not list((tmp_path / "out").rglob("summary.json"))  # no results for a run that failed


def test_prior_draws_of_counts_at_rates_beyond_int64_run(capsys, tmp_path):
    # a wide prior on a log rate: some draws have rates near e^60, past torch.poisson's int64
    # counts; every draw must still be a count that the log joint's count check accepts
    src = tmp_path / "huge.qvr"
    src.write_text("object X : Real 1\nprogram counts(x) : X -> X\n"
                   "    sample log_rate : X <- Normal(loc=45.0, scale=5.0)\n"
                   "    observe y <- Poisson(rate=exp(log_rate))\n    return log_rate\nexport counts\n")
    rc, events, _ = run_json(capsys, str(src), "--sample", "--samples", "40", "--seed", "1",
                             "--out", str(tmp_path / "out"))
    assert rc == 0 and events[-1]["event"] == "result"


def test_prior_draws_with_a_nan_log_joint_are_kept_and_located_in_the_summary(capsys, tmp_path):
    src = tmp_path / "nan.qvr"
    src.write_text(NAN_LET)
    out = tmp_path / "out"
    rc, events, _ = run_json(capsys, str(src), "--sample", "--samples", "3", "--out", str(out))
    assert rc == 0
    nan = {"draws": 3, "first_draw": 1, "site": "m", "file": str(src), "line": 3, "column": 5}
    assert events[-1]["event"] == "result" and events[-1]["nan_log_joints"] == nan
    assert json.loads((out / "summary.json").read_text())["nan_log_joints"] == nan
    rc = runner.main([str(src), "--sample", "--samples", "3", "--out", str(out)])
    err = capsys.readouterr().err.splitlines()
    assert rc == 0
    assert err[-1] == (f"qvr run: {src}:3:5: note: 3 draw(s) have a NaN log joint, the first draw 1: "
                       f"{NAN_SITE}")


@pytest.mark.slow
def test_sigterm_ends_the_run_with_a_cancelled_event(tmp_path):
    proc = subprocess.Popen(
        [sys.executable, "-m", "qvr.runner", LATENT, "--svi", "--steps", "1000000", "--json",
         "--out", str(tmp_path)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        first = json.loads(proc.stdout.readline())
        assert first["event"] == "start"
        json.loads(proc.stdout.readline())  # a progress event: the loop is running
        proc.send_signal(signal.SIGTERM)
        rest, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    last = json.loads(rest.strip().splitlines()[-1])
    assert last == {"event": "error", "message": "run cancelled by SIGTERM", "code": "cancelled"}
    assert proc.returncode == 1 and "Traceback" not in err


@pytest.mark.slow
def test_seed_002_svi_run_shows_the_loss_falling(capsys, tmp_path):
    rc, events, _ = run_json(capsys, SEED_002, "--svi", "--steps", "30", "--batch", "2",
                             "--seq-len", "4", "--out", str(tmp_path))
    assert rc == 0
    losses = [e["loss"] for e in events if e["event"] == "progress"]
    assert len(losses) == 30 and sum(losses[-5:]) < sum(losses[:5])


def svi_of(capsys, tmp_path, text):
    """A three-step `--svi` run of the program `text` (written to a file): rc, events, stderr."""
    path = tmp_path / "program.qvr"
    path.write_text(text, encoding="utf-8")
    return run_json(capsys, str(path), "--svi", "--steps", "3", "--out", str(tmp_path / "o"))


SEQUENCE_WITH_DATA = """object Token : FinSet 5
object Hidden : Real 4
object Resp : FinSet 3
morphism tok_embed : Token -> Hidden [role=embed]
morphism cell : Hidden * Hidden -> Hidden [scale=0.1] ~ Normal
morphism head : Hidden -> Token ~ Categorical
define backbone = tok_embed >> scan(cell)
program lm : Token -> Token
    sample path <- backbone
    observe next_token : Resp <- head(context)
    return next_token
export lm
"""


def test_svi_of_a_sequence_model_that_reads_a_data_input(capsys, tmp_path):
    # the guide learns the shapes of the latent sequence from a trace of the model, which
    # reads `context` by name: the trace gets the (simulated) data as the fit does
    rc, events, err = svi_of(capsys, tmp_path, SEQUENCE_WITH_DATA)
    assert (rc, err) == (0, "")
    assert [e["event"] for e in events] == ["start", "progress", "progress", "progress", "result"]
    assert set(events[-1]["posterior"]) == {"path", "path/scan"}


OPEN_ROWS = """object Feature : Real 1
object Target : Real 1
morphism f : Feature -> Target ~ Normal
program p : Target -> Target
    sample y <- f(x)
    return y
export p
"""


def test_svi_of_a_latent_over_the_rows_of_a_data_input(capsys, tmp_path):
    # `y` has one value per row of `x` (an open plate, 10 rows when simulated): the guide
    # takes the plate's length from the data, one parameter per row
    rc, events, err = svi_of(capsys, tmp_path, OPEN_ROWS)
    assert (rc, err) == (0, "")
    assert np.array(events[-1]["posterior"]["y"]["mean"]).shape == (1, 10, 1)
