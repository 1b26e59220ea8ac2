"""Seed 002 walkthrough: synthetic data, an SVI fit, and a NUTS posterior over the
weights and hidden states of the vanilla RNN language model.

    python examples/vanilla_rnn_lm_walkthrough.py [SVI_STEPS [NUTS_WARMUP [NUTS_SAMPLES]]]

Budgets also come from the environment (argv wins): QVR_WALKTHROUGH_SVI_STEPS (default 31),
QVR_WALKTHROUGH_WARMUP (10), QVR_WALKTHROUGH_SAMPLES (10), QVR_WALKTHROUGH_BATCH (4),
QVR_WALKTHROUGH_SEQ_LEN (8). The defaults are the spec's; tests run it smaller. As the
seed's text says, these budgets demonstrate the API: a real fit needs 10-100x more.
"""
from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import torch

import qvr
from qvr.infer import ELBO, MCMC, SVI, AutoNormalGuide, NUTSKernel, bayesian_lift_parameters

SOURCE = Path(__file__).with_name("seed_002_vanilla_rnn_lm.qvr")


def budget(position: int, env: str, default: int) -> int:
    if len(sys.argv) > position:
        return int(sys.argv[position])
    return int(os.environ.get(env, default))


def fresh(seed: int):
    """The model with N(0, 0.3²) weights drawn under ``seed`` (the 'ground truth' for seed 0)."""
    torch.manual_seed(seed)
    model = qvr.load(SOURCE).morphism
    for _, p in model.named_parameters():
        p.data.copy_(torch.randn_like(p) * 0.3)
    return model


def main() -> int:
    svi_steps = budget(1, "QVR_WALKTHROUGH_SVI_STEPS", 31)
    warmup = budget(2, "QVR_WALKTHROUGH_WARMUP", 10)
    samples = budget(3, "QVR_WALKTHROUGH_SAMPLES", 10)
    batch = int(os.environ.get("QVR_WALKTHROUGH_BATCH", 4))
    seq_len = int(os.environ.get("QVR_WALKTHROUGH_SEQ_LEN", 8))
    vocab = 256

    # 1. Synthetic data: random prompts, next tokens sampled from the ground-truth model.
    model = fresh(0)
    prompts = torch.randint(0, vocab, (batch, seq_len))
    targets = model.rsample(prompts)
    observations = {"next_token": targets}
    print("prompts:", tuple(prompts.shape), prompts.dtype, "targets:", tuple(targets.shape), targets.dtype)
    print("sites:", [s.name for s in model.site_specs()])

    # 2. SVI: fresh weights, a mean-field guide over the hidden states h and h/scan.
    torch.manual_seed(1)
    for _, p in model.named_parameters():
        p.data.copy_(torch.randn_like(p) * 0.3)
    guide = AutoNormalGuide(model, observed_names={"next_token"})
    optim = torch.optim.Adam(list(model.parameters()) + list(guide.parameters()), lr=5e-2)
    svi = SVI(model, guide, optim, ELBO(num_particles=1))
    started = time.perf_counter()
    losses = [svi.step(prompts, observations) for _ in range(svi_steps)]
    print(f"SVI: {svi_steps} steps in {time.perf_counter() - started:.1f}s; "
          f"initial loss {losses[0]:.2f}, final loss {losses[-1]:.2f}")

    # 3. NUTS over the weights (prior N(0, 1)) and the hidden states of the ground-truth data.
    model = fresh(0)
    prompts = torch.randint(0, vocab, (batch, seq_len))
    targets = model.rsample(prompts)
    observations = {"next_token": targets}
    h_shape = tuple(model._step_h.rsample(prompts).shape)
    lifted, lx, lobs = bayesian_lift_parameters(
        model, prompts, observations, prior_scale=1.0, additional_latents={"h": h_shape})
    kernel = NUTSKernel(step_size=0.005, max_tree_depth=3, target_accept=0.8)
    result = MCMC(kernel, num_warmup=warmup, num_samples=samples, num_chains=1).run(lifted, lx, lobs)
    print(f"NUTS: {warmup} warmup + {samples} draws in {result.elapsed:.1f}s")
    print(f"acceptance: {float(result.acceptance_rates.mean()):.2f}")
    print(f"divergences: {int(result.divergence_counts.sum())}")
    print("h draws:", tuple(result.samples["h"].shape), "h/scan draws:", tuple(result.samples["h/scan"].shape))
    return 0


if __name__ == "__main__":
    sys.exit(main())
