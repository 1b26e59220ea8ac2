"""Data-parallel SVI on torch.distributed (gloo, processes on this machine) and minibatch SVI.

* Two processes, each scoring half of the rows and summing gradients, end with the same
  parameters as one process on the whole batch (a model whose loss has no sampling noise, so
  the two must agree to float precision).
* `qvr run --nproc 2` gives the same loss curve as `--nproc 1`, reports once and leaves no
  process behind; so does a character model trained on a text corpus.
* Minibatch SVI (`batch_size`) reaches the optimum of the full objective, known in closed form
  for a conjugate model.
"""
from __future__ import annotations

import json
import multiprocessing
import subprocess
import sys
from pathlib import Path

import pytest
import torch

import qvr
from infer_models import normal_normal, normal_normal_posterior
from qvr.infer import ELBO, SVI, AutoNormalGuide

ROOT = Path(__file__).resolve().parents[2]
CLASSIFIER = Path(__file__).parent / "data" / "classifier.qvr"
CHAR_LM = ROOT / "examples" / "char_lstm_lm.qvr"

pytestmark = [pytest.mark.slow, pytest.mark.skipif(
    not torch.distributed.is_available() or "fork" not in multiprocessing.get_all_start_methods(),
    reason="needs torch.distributed and fork")]

STEPS, ROWS = 6, 24


def _data():
    gen = torch.Generator().manual_seed(11)
    x = torch.randn(ROWS, 2, generator=gen)
    y = torch.randint(0, 3, (ROWS,), generator=gen)
    return x, {"label": y}


def _fit(distributed: bool):
    torch.manual_seed(3)
    model = qvr.load(CLASSIFIER, device="cpu").morphism
    guide = AutoNormalGuide(model, observed_names={"label"})
    optim = torch.optim.Adam(list(model.parameters()) + list(guide.parameters()), lr=0.1)
    svi = SVI(model, guide, optim, ELBO(), distributed=distributed)
    x, obs = _data()
    losses = [svi.step(x, obs) for _ in range(STEPS)]
    return losses, {k: v.detach().numpy().copy() for k, v in model.state_dict().items()}


def _rank_main(rank, world, store, results):
    torch.set_num_threads(1)
    torch.distributed.init_process_group(
        "gloo", init_method=f"file://{store}", rank=rank, world_size=world)
    try:
        if rank == 1:
            torch.manual_seed(99)  # a different initialisation: the broadcast must fix it
        results.put((rank, _fit(distributed=True)))
    finally:
        torch.distributed.destroy_process_group()


def test_two_gloo_processes_end_where_one_process_on_the_whole_batch_ends(tmp_path):
    context = multiprocessing.get_context("fork")
    results = context.Queue()
    workers = [context.Process(target=_rank_main, args=(r, 2, tmp_path / "store", results))
               for r in range(2)]
    for w in workers:
        w.start()
    got = dict(results.get(timeout=300) for _ in workers)
    for w in workers:
        w.join()
    assert [w.exitcode for w in workers] == [0, 0]
    single_losses, single_params = _fit(distributed=False)
    for rank in (0, 1):
        losses, params = got[rank]
        assert losses == pytest.approx(single_losses, rel=1e-5)
        assert params.keys() == single_params.keys()
        for name in params:
            assert torch.allclose(torch.from_numpy(params[name]),
                                  torch.from_numpy(single_params[name]), atol=1e-5), name


def test_minibatch_svi_reaches_the_closed_form_optimum():
    """normal_normal: mu_i ~ N(0.5, 2²), y_ij ~ N(mu_i, 1). The guide is one Normal shared by
    every row, so the best one has the rows' posterior variance and the mean of their
    posterior means. 20 rows of 400 per step."""
    torch.manual_seed(0)
    model = normal_normal()
    rows = 400
    y = torch.randn(rows, 5) * 0.7 + torch.linspace(-1.0, 2.0, rows).unsqueeze(1)
    means, var = normal_normal_posterior(y)
    guide = AutoNormalGuide(model, observed_names={"y"})
    optim = torch.optim.Adam(guide.parameters(), lr=0.02)
    svi = SVI(model, guide, optim, ELBO(num_particles=4), batch_size=20)
    for _ in range(2500):
        svi.step(torch.zeros(rows, 1), {"y": y})
    assert float(guide.loc("mu").detach()) == pytest.approx(float(means.mean()), abs=0.04)
    assert float(guide.scale("mu").detach()) == pytest.approx(var ** 0.5, rel=0.1)


def test_svi_distributed_without_a_process_group_is_refused():
    model = normal_normal()
    guide = AutoNormalGuide(model, observed_names={"y"})
    with pytest.raises(ValueError, match="process group"):
        SVI(model, guide, torch.optim.Adam(guide.parameters()), distributed=True)


def _qvr_run(*argv):
    done = subprocess.run([sys.executable, "-m", "qvr", "run", *argv, "--json"],
                          capture_output=True, text=True, timeout=600)
    events = [json.loads(line) for line in done.stdout.splitlines() if line.strip()]
    return done, events


def _processes_naming(path) -> list:
    """Processes whose command line names `path` (a test's own output folder)."""
    out = subprocess.run(["pgrep", "-f", str(path)], capture_output=True, text=True)
    return out.stdout.split()


def test_qvr_run_nproc_2_matches_one_process_and_reports_once(tmp_path):
    runs = {}
    for nproc in ("1", "2"):
        done, events = _qvr_run(str(CLASSIFIER), "--svi", "--steps", "8", "--batch", "32",
                                "--nproc", nproc, "--out", str(tmp_path / nproc))
        assert done.returncode == 0, done.stderr
        assert [e["event"] for e in events].count("result") == 1
        assert [e["event"] for e in events].count("start") == 1
        runs[nproc] = json.loads((tmp_path / nproc / "summary.json").read_text())
    assert runs["2"]["losses"] == pytest.approx(runs["1"]["losses"], rel=1e-5)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["1", "2"]
    assert _processes_naming(tmp_path) == []  # the other process died with process 0


def test_a_character_model_trains_the_same_on_two_processes(tmp_path):
    corpus = tmp_path / "pangrams.txt"
    corpus.write_text("the quick brown fox jumps over the lazy dog\n"
                      "pack my box with five dozen liquor jugs\n" * 30)
    runs = {}
    for nproc in ("1", "2"):
        done, events = _qvr_run(str(CHAR_LM), "--svi", "--data", str(corpus), "--steps", "4",
                                "--batch", "16", "--num-steps", "8", "--nproc", nproc,
                                "--out", str(tmp_path / nproc))
        assert done.returncode == 0, done.stderr
        runs[nproc] = events[-1]
    assert runs["2"]["val_perplexity"] == pytest.approx(runs["1"]["val_perplexity"], rel=1e-4)
    assert runs["2"]["final_loss"] == pytest.approx(runs["1"]["final_loss"], rel=1e-5)


def test_nproc_is_only_for_svi(tmp_path):
    done, events = _qvr_run(str(CLASSIFIER), "--sample", "--nproc", "2",
                            "--out", str(tmp_path / "s"))
    assert done.returncode == 1
    assert events[-1]["event"] == "error" and events[-1]["code"] == "usage"
    assert events[-1]["message"] == "--sample runs in one process; --nproc is for --svi"


def test_under_torchrun_each_process_joins_its_group(tmp_path):
    """The multi-machine recipe's path on one machine: torchrun sets the rendezvous variables,
    `--nproc` is not needed, and process 0 alone writes the results."""
    single, _ = _qvr_run(str(CLASSIFIER), "--svi", "--steps", "8", "--batch", "32",
                         "--out", str(tmp_path / "one"))
    assert single.returncode == 0, single.stderr
    done = subprocess.run(
        [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node", "2",
         "-m", "qvr", "run", str(CLASSIFIER), "--svi", "--steps", "8", "--batch", "32",
         "--json", "--out", str(tmp_path / "two")],
        capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    events = [json.loads(line) for line in done.stdout.splitlines() if line.strip()]
    assert [e["event"] for e in events].count("result") == 1
    two = json.loads((tmp_path / "two" / "summary.json").read_text())["losses"]
    one = json.loads((tmp_path / "one" / "summary.json").read_text())["losses"]
    assert two == pytest.approx(one, rel=1e-5)
