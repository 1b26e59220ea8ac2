"""What only a CUDA machine can check (skipped without one; `bench/gpu_check.py` has the speed
side): the device rule, SVI and NUTS on the GPU, and data-parallel SVI over NCCL with two GPUs."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import torch

import qvr
from qvr.infer import ELBO, MCMC, SVI, AutoNormalGuide, NUTSKernel

ROOT = Path(__file__).resolve().parents[2]
SEED_002 = ROOT / "examples" / "seed_002_vanilla_rnn_lm.qvr"
LATENT = Path(__file__).parent / "data" / "latent_regression.qvr"
CLASSIFIER = Path(__file__).parent / "data" / "classifier.qvr"

pytestmark = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")


def test_models_load_on_cuda_by_default_and_svi_steps_there():
    model = qvr.load(SEED_002).morphism
    assert model.device.type == "cuda"
    x = torch.randint(0, 256, (4, 8), device=model.device)
    with torch.no_grad():
        y = model.rsample(x)
    guide = AutoNormalGuide(model, observed_names={"next_token"})
    optim = torch.optim.Adam(list(model.parameters()) + list(guide.parameters()), lr=0.01)
    losses = [SVI(model, guide, optim, ELBO()).step(x, {"next_token": y}) for _ in range(3)]
    assert all(torch.isfinite(torch.tensor(losses)))


def test_nuts_on_cuda_runs_its_chains_in_this_process():
    model = qvr.load(LATENT).morphism
    mcmc = MCMC(NUTSKernel(), num_warmup=5, num_samples=5, num_chains=2, seed=0)
    assert mcmc.resolved_chain_method(model.device) == "sequential"
    result = mcmc.run(model, torch.zeros(2, 2, device=model.device),
                      {"y": torch.zeros(2, 1, device=model.device)})
    assert result.samples["z"].shape == (2, 5, 2, 3)


@pytest.mark.skipif(torch.cuda.device_count() < 2, reason="needs two GPUs")
def test_nccl_svi_on_two_gpus_matches_one(tmp_path):
    """A model whose loss has no sampling noise: the two runs must give the same curve."""
    losses = {}
    for nproc in ("1", "2"):
        done = subprocess.run(
            [sys.executable, "-m", "qvr", "run", str(CLASSIFIER), "--svi", "--steps", "6",
             "--batch", "32", "--nproc", nproc, "--device", "cuda", "--json",
             "--out", str(tmp_path / nproc)], capture_output=True, text=True, timeout=600)
        assert done.returncode == 0, done.stderr
        losses[nproc] = json.loads((tmp_path / nproc / "summary.json").read_text())["losses"]
    assert losses["2"] == pytest.approx(losses["1"], rel=1e-4)
