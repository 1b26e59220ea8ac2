"""Scaling beyond one core, side by side in one script:

1. NUTS chains in worker processes against the same chains one after another;
2. SVI of the character LSTM on The Time Machine with `qvr run --nproc 2` against `--nproc 1`
   on the same global batch (steps/s over the training steps, and the final validation
   perplexity, which must agree within 2%); the single process is measured with one torch
   thread and with one per core, and the ratio is against the faster of the two.

    OMP_NUM_THREADS=1 python bench/scale.py [--chains 4] [--warmup N] [--samples N] [--repeats R]
                                            [--svi-steps N] [--svi-batch B] [--corpus FILE]

The corpus is `$QVR_TIMEMACHINE`, else `../shared/data/timemachine.txt` beside the repository
(part 2 is skipped, with a note, when it is missing). Targets on 2 cores: 4 chains >= 1.7x the
sequential throughput; 2 SVI processes >= 1.6x the steps/s of one.

The NUTS model is a Bayesian logistic regression (2,000 rows, 8 features, N(0, 1) priors: a QVR
program whose weights `bayesian_lift_parameters` turns into latent sites), the same for both
methods and seeded the same way. Prints draws/s (all chains' draws, warmup included in the
time) of `chain_method="sequential"` and `"parallel"`, their ratio, and whether the two gave the
same draws (they must: each chain seeds its own stream). Target: 4 chains on 2 cores >= 1.7x
the sequential throughput. Each figure is the best of ``--repeats`` runs, alternating methods.

Run it on a quiet machine: parallel chains need the cores that other processes would take.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import torch

import qvr
from qvr.infer import MCMC, NUTSKernel, bayesian_lift_parameters

sys.path.insert(0, str(Path(__file__).resolve().parent))
from inference import logreg_data, logreg_program  # noqa: E402  (the same model, wider)

LOGREG = logreg_program(8)


def data():
    return logreg_data(2000, 8)


def run(method, chains, warmup, samples, X, y):
    model = qvr.loads(LOGREG, device="cpu").morphism
    lifted, lx, lobs = bayesian_lift_parameters(model, X, {"y": y}, prior_scale=1.0)
    mcmc = MCMC(NUTSKernel(), num_warmup=warmup, num_samples=samples, num_chains=chains,
                seed=0, init_strategy="prior", chain_method=method)
    start = time.perf_counter()
    result = mcmc.run(lifted, lx, lobs)
    elapsed = time.perf_counter() - start
    return chains * (warmup + samples) / elapsed, result


ROOT = Path(__file__).resolve().parents[1]
CHAR_LM = ROOT / "examples" / "char_lstm_lm.qvr"


def corpus_path(given):
    if given:
        return Path(given)
    env = os.environ.get("QVR_TIMEMACHINE")
    return Path(env) if env else ROOT.parent / "shared" / "data" / "timemachine.txt"


def svi_run(nproc, steps, batch, corpus, out, threads=1):
    """One `qvr run --svi` on the corpus: (training steps/s, final validation perplexity).
    Steps/s is measured between the first and the last progress event, so start-up, loading
    and the end-of-epoch validation are left out. `threads`: torch threads per process."""
    env = dict(os.environ, OMP_NUM_THREADS=str(threads))
    done = subprocess.run(
        [sys.executable, "-m", "qvr", "run", str(CHAR_LM), "--svi", "--data", str(corpus),
         "--steps", str(steps), "--batch", str(batch), "--nproc", str(nproc), "--json",
         "--out", str(out)], capture_output=True, text=True, env=env, check=True)
    events = [json.loads(line) for line in done.stdout.splitlines() if line.strip()]
    progress = [e for e in events if e["event"] == "progress"]
    first, last = progress[0], progress[-1]
    rate = (last["step"] - first["step"]) / (last["elapsed"] - first["elapsed"])
    return rate, events[-1]["val_perplexity"]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--chains", type=int, default=4)
    ap.add_argument("--warmup", type=int, default=100)
    ap.add_argument("--samples", type=int, default=100)
    ap.add_argument("--repeats", type=int, default=2)
    ap.add_argument("--svi-steps", type=int, default=60)
    ap.add_argument("--svi-batch", type=int, default=1024)
    ap.add_argument("--corpus")
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

    corpus = corpus_path(args.corpus)
    if not corpus.is_file():
        print(f"SVI: no corpus at {corpus} (run `qvr data fetch timemachine` and set "
              "QVR_TIMEMACHINE to the path it prints); skipped")
        return
    import tempfile

    print(f"SVI, char LSTM on {corpus.name}, {args.svi_steps} steps of {args.svi_batch} windows")
    # (processes, torch threads each): one process on one core, one process on every core
    # (torch's own intra-op threads), and two processes of one thread each
    variants = ((1, 1), (1, cores), (2, 1))
    rates = {v: 0.0 for v in variants}
    ppl = {}
    with tempfile.TemporaryDirectory() as tmp:
        for r in range(args.repeats):
            for nproc, threads in variants:
                rate, ppl[nproc, threads] = svi_run(nproc, args.svi_steps, args.svi_batch,
                                                    corpus, Path(tmp) / f"{nproc}-{threads}-{r}",
                                                    threads)
                rates[nproc, threads] = max(rates[nproc, threads], rate)
    for nproc, threads in variants:
        print(f"  --nproc {nproc}, {threads} thread(s) each  {rates[nproc, threads]:8.2f} steps/s  "
              f"validation perplexity {ppl[nproc, threads]:.4f}")
    best_single = max(rates[1, 1], rates[1, cores])
    print(f"  2 processes / best single process: {rates[2, 1] / best_single:.2f}x (target >= 1.6x); "
          f"perplexity difference {abs(ppl[2, 1] - ppl[1, 1]) / ppl[1, 1]:.2%} (target <= 2%)")


if __name__ == "__main__":
    main()
