"""Spec §6.5's acceptance script, as a user would paste it (the path pointed at
examples/seed_002_vanilla_rnn_lm.qvr), with the budgets cut for CI: 3 SVI steps instead of 31
and 3 + 3 NUTS iterations instead of 10 + 10. The full-budget script and the seed 002 snippets
("Generating synthetic data", "SVI fit", "NUTS posterior") were run by hand; see the QA report.
"""
from __future__ import annotations

import math
import os

import pytest

torch = pytest.importorskip("torch")
pytestmark = pytest.mark.slow  # a whole SVI + NUTS session

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SEED_002 = os.path.join(ROOT, "examples", "seed_002_vanilla_rnn_lm.qvr")

SCRIPT = '''
import torch, qvr
from qvr.infer import AutoNormalGuide, ELBO, SVI, MCMC, NUTSKernel, bayesian_lift_parameters

def fresh(seed):
    torch.manual_seed(seed)
    model = qvr.load("vanilla_rnn_lm.qvr").morphism
    for _, p in model.named_parameters():
        p.data.copy_(torch.randn_like(p) * 0.3)        # ground-truth weights
    return model

# 1. synthetic data
model = fresh(0)
batch, seq_len, vocab = 4, 8, 256
prompts = torch.randint(0, vocab, (batch, seq_len))
targets = model.rsample(prompts)                       # (4,) int64, values in [0, 256)
observations = {"next_token": targets}
assert [s.name for s in model.site_specs()] == ["h", "h/scan", "next_token"]

# 2. SVI
torch.manual_seed(1)
for _, p in model.named_parameters():
    p.data.copy_(torch.randn_like(p) * 0.3)
guide = AutoNormalGuide(model, observed_names={"next_token"})   # latents: h, h/scan
optim = torch.optim.Adam(list(model.parameters()) + list(guide.parameters()), lr=5e-2)
svi = SVI(model, guide, optim, ELBO(num_particles=1))
losses = [svi.step(prompts, observations) for _ in range(31)]  # finite floats

# 3. NUTS over weights and hidden states
model = fresh(0)
prompts = torch.randint(0, vocab, (batch, seq_len))
targets = model.rsample(prompts)
observations = {"next_token": targets}
h_shape = tuple(model._step_h.rsample(prompts).shape)          # (4, 128)
lifted, lx, lobs = bayesian_lift_parameters(
    model, prompts, observations, prior_scale=1.0, additional_latents={"h": h_shape})
kernel = NUTSKernel(step_size=0.005, max_tree_depth=3, target_accept=0.8)
result = MCMC(kernel, num_warmup=10, num_samples=10, num_chains=1).run(lifted, lx, lobs)
print(f"acceptance: {float(result.acceptance_rates.mean()):.2f}")   # in [0, 1]
print(f"divergences: {int(result.divergence_counts.sum())}")         # integer >= 0
'''


def cut(script: str) -> str:
    """The script with the CI budgets and the example's path; each edit must apply once."""
    edits = [('qvr.load("vanilla_rnn_lm.qvr")', f"qvr.load({SEED_002!r})"),
             ("for _ in range(31)", "for _ in range(3)"),
             ("num_warmup=10, num_samples=10", "num_warmup=3, num_samples=3")]
    for old, new in edits:
        assert script.count(old) == 1, old
        script = script.replace(old, new)
    return script


def test_spec_6_5_script_runs_and_gives_sensible_results(capsys, monkeypatch):
    monkeypatch.setenv("QVR_DEVICE", "cpu")
    scope: dict = {}
    exec(compile(cut(SCRIPT), "spec_6_5.py", "exec"), scope)

    targets = scope["targets"]
    assert targets.shape == (4,) and targets.dtype == torch.int64
    assert int(targets.min()) >= 0 and int(targets.max()) < 256
    assert len(scope["losses"]) == 3 and all(math.isfinite(x) for x in scope["losses"])
    assert scope["h_shape"] == (4, 128)

    result = scope["result"]
    assert result.samples["h"].shape == (1, 3, 1, 4, 128)
    assert "h/scan" in result.samples  # lifted automatically
    out = capsys.readouterr().out.splitlines()
    acceptance = float(out[-2].removeprefix("acceptance: "))
    divergences = int(out[-1].removeprefix("divergences: "))
    assert 0.0 <= acceptance <= 1.0 and divergences >= 0
