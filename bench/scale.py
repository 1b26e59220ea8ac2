"""Scaling beyond one core: NUTS chains in worker processes against the same chains one
after another, side by side in one script.

    OMP_NUM_THREADS=1 python bench/scale.py [--chains 4] [--warmup N] [--samples N] [--repeats R]

The model is a Bayesian logistic regression (2,000 rows, 8 features, N(0, 1) priors: a QVR
program whose weights `bayesian_lift_parameters` turns into latent sites), the same for both
methods and seeded the same way. Prints draws/s (all chains' draws, warmup included in the
time) of `chain_method="sequential"` and `"parallel"`, their ratio, and whether the two gave the
same draws (they must: each chain seeds its own stream). Target: 4 chains on 2 cores >= 1.7x
the sequential throughput. Each figure is the best of ``--repeats`` runs, alternating methods.

Run it on a quiet machine: parallel chains need the cores that other processes would take.
"""
from __future__ import annotations

import argparse
import os
import time

import torch

import qvr
from qvr.infer import MCMC, NUTSKernel, bayesian_lift_parameters

LOGREG = """
object X : Real 8
object Label : FinSet 2
morphism clf : X -> Label ~ Bernoulli
program logreg : X -> Label
    observe y : Label <- clf
    return y
export logreg
"""


def data(n=2000, d=8):
    torch.manual_seed(2)
    X = torch.randn(n, d)
    w = torch.randn(d)
    y = torch.bernoulli(torch.sigmoid(X @ w + 0.5)).long()
    return X, y


def run(method, chains, warmup, samples, X, y):
    model = qvr.loads(LOGREG, device="cpu").morphism
    lifted, lx, lobs = bayesian_lift_parameters(model, X, {"y": y}, prior_scale=1.0)
    mcmc = MCMC(NUTSKernel(), num_warmup=warmup, num_samples=samples, num_chains=chains,
                seed=0, init_strategy="prior", chain_method=method)
    start = time.perf_counter()
    result = mcmc.run(lifted, lx, lobs)
    elapsed = time.perf_counter() - start
    return chains * (warmup + samples) / elapsed, result


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--chains", type=int, default=4)
    ap.add_argument("--warmup", type=int, default=100)
    ap.add_argument("--samples", type=int, default=100)
    ap.add_argument("--repeats", type=int, default=2)
    args = ap.parse_args()
    torch.set_num_threads(1)  # the sequential run gets one core, as each parallel worker does
    X, y = data()
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    print(f"NUTS, {args.chains} chains x ({args.warmup} warmup + {args.samples} draws), "
          f"logistic regression 2000 x 8, {cores} cores")
    best = {"sequential": 0.0, "parallel": 0.0}
    draws = {}
    for _ in range(args.repeats):
        for method in ("sequential", "parallel"):
            rate, result = run(method, args.chains, args.warmup, args.samples, X, y)
            best[method] = max(best[method], rate)
            draws[method] = result.samples
    same = all(torch.equal(draws["sequential"][k], draws["parallel"][k]) for k in draws["sequential"])
    for method, rate in best.items():
        print(f"  {method:10s} {rate:8.1f} iterations/s")
    print(f"  parallel / sequential: {best['parallel'] / best['sequential']:.2f}x "
          f"(target >= 1.7x with 4 chains on 2 cores); same draws: {same}")


if __name__ == "__main__":
    main()
