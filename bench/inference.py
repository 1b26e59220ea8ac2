"""Inference speed, side by side with Pyro (a bench-only dependency) in one script.

    python bench/inference.py [--svi-steps N] [--nuts-warmup N] [--nuts-samples N] [--repeats R]

1. SVI steps/s on the seed 002 vanilla RNN LM (batch 4, T = 8, AutoNormal guide over the hidden
   states, 1 particle, Adam) against the same model written in Pyro with pyro's AutoNormal,
   under ``Trace_ELBO`` and ``JitTrace_ELBO``. Target: ours >= 2x Trace_ELBO.
2. NUTS draws/s (warmup included in the time) on a Bayesian logistic regression (200 rows, 5
   features, N(0, 1) priors): ours = the QVR program lifted with ``bayesian_lift_parameters``,
   against Pyro's NUTS on the same data. Target: ours >= Pyro.

Ratios are ours / Pyro (higher is better for us). Each figure is the best of ``--repeats``
timed runs after one untimed warm-up run. If Pyro is not importable the script says so and
prints our numbers only. Install it without touching torch:
``pip install --no-deps pyro-ppl pyro-api opt_einsum tqdm``.

On a small, busy CPU box run it as ``OMP_NUM_THREADS=1 python bench/inference.py``: these
models are far too small for intra-op threads, and oversubscribed OpenMP threads make tiny
matrix products (and so both sides' timings) 10x slower and noisy.
"""
from __future__ import annotations

import argparse
import time
import warnings
from pathlib import Path

import torch

import qvr

from qvr.infer import ELBO, MCMC, SVI, AutoNormalGuide, NUTSKernel, bayesian_lift_parameters

# Pyro's JIT tracing warns once per traced call about Python booleans; the numbers are what matter.
warnings.filterwarnings("ignore", category=torch.jit.TracerWarning)

ROOT = Path(__file__).resolve().parents[1]
SEED_002 = ROOT / "examples" / "seed_002_vanilla_rnn_lm.qvr"
def logreg_program(features: int = 5) -> str:
    """A logistic regression over `features` inputs (its weights are lifted to latent sites)."""
    return f"""
object X : Real {features}
object Label : FinSet 2
morphism clf : X -> Label ~ Bernoulli
program logreg : X -> Label
    observe y : Label <- clf
    return y
export logreg
"""


LOGREG = logreg_program()


def best_of(repeats, fn):
    fn()  # warm-up: allocator, lazy imports, JIT tracing
    return min(fn() for _ in range(repeats))


# ------------------------------------------------------------------------------------------------
# SVI on seed 002


def seed002_data(batch=4, seq_len=8):
    torch.manual_seed(0)
    truth = qvr.load(SEED_002, device="cpu").morphism
    prompts = torch.randint(0, 256, (batch, seq_len))
    with torch.no_grad():
        targets = truth.rsample(prompts)
    return prompts, targets


def ours_svi(prompts, targets, steps):
    torch.manual_seed(1)
    model = qvr.load(SEED_002, device="cpu").morphism
    guide = AutoNormalGuide(model, observed_names={"next_token"})
    optim = torch.optim.Adam(list(model.parameters()) + list(guide.parameters()), lr=0.01)
    svi = SVI(model, guide, optim, ELBO(num_particles=1))
    obs = {"next_token": targets}
    svi.step(prompts, obs)
    start = time.perf_counter()
    for _ in range(steps):
        svi.step(prompts, obs)
    return steps / (time.perf_counter() - start)


def pyro_svi(prompts, targets, steps, jit):
    import pyro
    import pyro.distributions as dist
    from pyro.infer import SVI as PSVI, JitTrace_ELBO, Trace_ELBO
    from pyro.infer.autoguide import AutoNormal
    from torch import nn

    pyro.clear_param_store()
    torch.manual_seed(1)
    embed, cell, head = nn.Embedding(256, 64), nn.Linear(64 + 128, 128), nn.Linear(128, 256)

    def model(prompts, targets):
        pyro.module("embed", embed)
        pyro.module("cell", cell)
        pyro.module("head", head)
        b, t = prompts.shape
        e = embed(prompts)
        h = torch.zeros(b, 128)
        with pyro.plate("batch", b):
            for i in range(t):
                loc = cell(torch.cat([e[:, i], h], -1))
                h = pyro.sample(f"h_{i}", dist.Normal(loc, 0.1).to_event(1))
            pyro.sample("next_token", dist.Categorical(logits=head(h)), obs=targets)

    guide = AutoNormal(model)
    loss = JitTrace_ELBO() if jit else Trace_ELBO()
    svi = PSVI(model, guide, pyro.optim.Adam({"lr": 0.01}), loss)
    svi.step(prompts, targets)
    start = time.perf_counter()
    for _ in range(steps):
        svi.step(prompts, targets)
    return steps / (time.perf_counter() - start)


# ------------------------------------------------------------------------------------------------
# NUTS on logistic regression


def logreg_data(n=200, d=5):
    torch.manual_seed(2)
    X = torch.randn(n, d)
    w = torch.randn(d)
    y = torch.bernoulli(torch.sigmoid(X @ w + 0.5)).long()
    return X, y


def ours_nuts(X, y, warmup, samples):
    model = qvr.loads(LOGREG, device="cpu").morphism
    lifted, lx, lobs = bayesian_lift_parameters(model, X, {"y": y}, prior_scale=1.0)
    mcmc = MCMC(NUTSKernel(), num_warmup=warmup, num_samples=samples, seed=0, init_strategy="prior")
    start = time.perf_counter()
    result = mcmc.run(lifted, lx, lobs)
    elapsed = time.perf_counter() - start
    w = result.samples["theta/_step_y.linear.weight"].reshape(samples, -1).mean(0)
    return samples / elapsed, w, int(result.num_leapfrog.sum())


def pyro_nuts(X, y, warmup, samples, jit=False):
    import pyro
    import pyro.distributions as dist
    from pyro.infer import MCMC as PMCMC, NUTS

    def model(X, y):
        w = pyro.sample("w", dist.Normal(torch.zeros(X.shape[1]), 1.0).to_event(1))
        b = pyro.sample("b", dist.Normal(0.0, 1.0))
        with pyro.plate("rows", X.shape[0]):
            pyro.sample("y", dist.Bernoulli(logits=X @ w + b), obs=y.float())

    pyro.set_rng_seed(0)
    mcmc = PMCMC(NUTS(model, jit_compile=jit, ignore_jit_warnings=True), num_samples=samples,
                 warmup_steps=warmup, disable_progbar=True)
    start = time.perf_counter()
    mcmc.run(X, y)
    elapsed = time.perf_counter() - start
    return samples / elapsed, mcmc.get_samples()["w"].mean(0)


# ------------------------------------------------------------------------------------------------


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--svi-steps", type=int, default=100)
    ap.add_argument("--nuts-warmup", type=int, default=200)
    ap.add_argument("--nuts-samples", type=int, default=200)
    ap.add_argument("--repeats", type=int, default=2)
    args = ap.parse_args()
    try:
        import pyro  # noqa: F401
        have_pyro = True
    except ImportError as exc:
        have_pyro = False
        print(f"Pyro is not importable ({exc}); printing qvr numbers only. "
              "Install: pip install --no-deps pyro-ppl pyro-api opt_einsum tqdm")
    print(f"torch {torch.__version__}, threads {torch.get_num_threads()}")

    prompts, targets = seed002_data()
    ours = best_of(args.repeats, lambda: ours_svi(prompts, targets, args.svi_steps))
    print(f"SVI seed 002   qvr                 {ours:8.1f} steps/s")
    if have_pyro:
        for name, jit in (("Trace_ELBO", False), ("JitTrace_ELBO", True)):
            try:
                theirs = best_of(args.repeats, lambda: pyro_svi(prompts, targets, args.svi_steps, jit))
            except Exception as exc:  # a JIT failure is a result too: report it
                print(f"SVI seed 002   pyro {name:<14} failed: {type(exc).__name__}: {str(exc)[:120]}")
                continue
            print(f"SVI seed 002   pyro {name:<14} {theirs:8.1f} steps/s   ratio qvr/pyro {ours / theirs:5.2f}x")

    X, y = logreg_data()
    rate, w, leapfrogs = ours_nuts(X, y, args.nuts_warmup, args.nuts_samples)
    print(f"NUTS logreg    qvr                 {rate:8.1f} draws/s   ({leapfrogs} gradients)")
    if have_pyro:
        theirs, pw = pyro_nuts(X, y, args.nuts_warmup, args.nuts_samples)
        print(f"NUTS logreg    pyro NUTS           {theirs:8.1f} draws/s   ratio qvr/pyro {rate / theirs:5.2f}x")
        print(f"posterior mean of w: qvr {[round(v, 2) for v in w.tolist()]}, "
              f"pyro {[round(v, 2) for v in pw.tolist()]}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
