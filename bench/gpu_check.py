"""Checks and speed ratios on a CUDA machine, each against a reference in the same script.

    python bench/gpu_check.py [--quick]

1. The device rule: `qvr.load` puts a model on CUDA by default, `$QVR_DEVICE=cpu` and
   `device="cpu"` keep it on the CPU.
2. SVI on seed 002 (batch 64, T = 32): steps/s on CUDA and on the CPU, and their ratio.
3. NUTS on a Bayesian logistic regression (2,000 rows, 8 features): iterations/s on CUDA and
   on the CPU (same seed), and their ratio.
4. One training step (loss, backward, clipping, SGD) of the QVR character LSTM against a torch
   `nn.LSTM` (cuDNN) of the same size on the same batch (1024 windows of 32 characters), both on
   CUDA. Target: QVR / cuDNN <= 1.5.
5. With two or more GPUs: `qvr run --svi --nproc 2` (NCCL) against `--nproc 1` on seed 002
   (batch 256, T = 32): the ratio of their steps/s and both final losses (they differ by the
   guide's sampling noise; tests/infer/test_cuda.py checks equality on a noise-free model).

Times are medians of synchronised steps after a warm-up. Without CUDA the script says so and
exits 0: there is nothing to check.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import torch

import qvr
from qvr import charlm as C
from qvr.infer import ELBO, MCMC, SVI, AutoNormalGuide, NUTSKernel, bayesian_lift_parameters

ROOT = Path(__file__).resolve().parents[1]
SEED_002 = ROOT / "examples" / "seed_002_vanilla_rnn_lm.qvr"
CHAR_LM = ROOT / "examples" / "char_lstm_lm.qvr"
sys.path.insert(0, str(Path(__file__).resolve().parent))
from charlm import TorchLM  # noqa: E402  (the nn.LSTM reference of bench/charlm.py)
from scale import LOGREG, data as logreg_data  # noqa: E402


def timed(step, device, n: int) -> float:
    """Median seconds of `step()` over n calls after one warm-up, synchronising CUDA."""
    step()
    times = []
    for _ in range(n):
        if device.type == "cuda":
            torch.cuda.synchronize(device)
        t = time.perf_counter()
        step()
        if device.type == "cuda":
            torch.cuda.synchronize(device)
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def check_device_rule() -> None:
    default = qvr.load(SEED_002).morphism.device
    os.environ["QVR_DEVICE"] = "cpu"
    try:
        by_env = qvr.load(SEED_002).morphism.device
    finally:
        del os.environ["QVR_DEVICE"]
    explicit = qvr.load(SEED_002, device="cpu").morphism.device
    ok = torch.device(default).type == "cuda" and str(by_env) == "cpu" and str(explicit) == "cpu"
    print(f"1. device rule: default {default}, QVR_DEVICE=cpu -> {by_env}, device='cpu' -> "
          f"{explicit}: {'ok' if ok else 'WRONG'}")


def svi_rate(device, steps: int) -> float:
    torch.manual_seed(0)
    model = qvr.load(SEED_002, device=device).morphism
    x = torch.randint(0, 256, (64, 32), device=device)
    with torch.no_grad():
        y = model.rsample(x)
    guide = AutoNormalGuide(model, observed_names={"next_token"})
    optim = torch.optim.Adam(list(model.parameters()) + list(guide.parameters()), lr=0.01)
    svi = SVI(model, guide, optim, ELBO())
    return 1.0 / timed(lambda: svi.step(x, {"next_token": y}), torch.device(device), steps)


def nuts_rate(device, warmup: int, samples: int) -> float:
    X, y = logreg_data()
    model = qvr.loads(LOGREG, device=device).morphism
    lifted, lx, lobs = bayesian_lift_parameters(model, X.to(device), {"y": y.to(device)})
    mcmc = MCMC(NUTSKernel(), num_warmup=warmup, num_samples=samples, seed=0,
                init_strategy="prior")
    start = time.perf_counter()
    mcmc.run(lifted, lx, lobs)
    return (warmup + samples) / (time.perf_counter() - start)


def lstm_ratio(device, steps: int) -> tuple[float, float]:
    torch.manual_seed(0)
    X = torch.randint(0, 28, (1024, 32), device=device)
    Y = torch.randint(0, 28, (1024, 32), device=device)
    ref = TorchLM(28, 32).to(device)
    cm = C.char_model(qvr.load(CHAR_LM, device=device).morphism, 28)

    def sgd(loss_fn, params):
        opt = torch.optim.SGD(params, lr=4.0)

        def step():
            opt.zero_grad(set_to_none=True)
            loss_fn().backward()
            torch.nn.utils.clip_grad_norm_(params, 1.0)
            opt.step()
        return step

    t_ref = timed(sgd(lambda: ref.loss(X, Y), list(ref.parameters())), torch.device(device), steps)
    t_qvr = timed(sgd(lambda: C.token_loss(cm, X, Y), list(cm.model.parameters())),
                  torch.device(device), steps)
    return t_qvr, t_ref


def nccl_run(nproc: int, steps: int, out: Path) -> tuple[float, list]:
    done = subprocess.run(
        [sys.executable, "-m", "qvr", "run", str(SEED_002), "--svi", "--steps", str(steps),
         "--batch", "256", "--seq-len", "32", "--nproc", str(nproc), "--device", "cuda",
         "--json", "--out", str(out)], capture_output=True, text=True, check=True)
    events = [json.loads(line) for line in done.stdout.splitlines() if line.strip()]
    progress = [e for e in events if e["event"] == "progress"]
    rate = (progress[-1]["step"] - progress[0]["step"]) / (
        progress[-1]["elapsed"] - progress[0]["elapsed"])
    return rate, json.loads((out / "summary.json").read_text())["losses"]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="fewer steps (a smoke test)")
    args = ap.parse_args()
    if not torch.cuda.is_available():
        print("no CUDA device: nothing to check")
        return 0
    n = 5 if args.quick else 30
    gpu = torch.device("cuda")
    print(f"{torch.cuda.get_device_name(0)}, {torch.cuda.device_count()} GPU(s), "
          f"torch {torch.__version__}")
    check_device_rule()
    cuda_svi, cpu_svi = svi_rate("cuda", n), svi_rate("cpu", n)
    print(f"2. SVI seed 002 (64 x 32): cuda {cuda_svi:.1f} steps/s, cpu {cpu_svi:.1f} steps/s, "
          f"cuda/cpu {cuda_svi / cpu_svi:.2f}x")
    warmup, samples = (20, 20) if args.quick else (100, 100)
    cuda_nuts, cpu_nuts = nuts_rate("cuda", warmup, samples), nuts_rate("cpu", warmup, samples)
    print(f"3. NUTS logistic regression: cuda {cuda_nuts:.1f} it/s, cpu {cpu_nuts:.1f} it/s, "
          f"cuda/cpu {cuda_nuts / cpu_nuts:.2f}x")
    t_qvr, t_ref = lstm_ratio(gpu, n)
    print(f"4. char-LSTM step (1024 x 32): QVR {1e3 * t_qvr:.2f} ms, cuDNN nn.LSTM "
          f"{1e3 * t_ref:.2f} ms, QVR/cuDNN {t_qvr / t_ref:.2f} (target <= 1.5)")
    if torch.cuda.device_count() >= 2:
        with tempfile.TemporaryDirectory() as tmp:
            r1, l1 = nccl_run(1, 4 * n, Path(tmp) / "1")
            r2, l2 = nccl_run(2, 4 * n, Path(tmp) / "2")
        print(f"5. NCCL SVI seed 002: 2 GPUs {r2:.1f} steps/s, 1 GPU {r1:.1f} steps/s, "
              f"{r2 / r1:.2f}x; final loss {l2[-1]:.4g} (2 GPUs), {l1[-1]:.4g} (1 GPU)")
    else:
        print("5. NCCL SVI: one GPU only, skipped")
    return 0


if __name__ == "__main__":
    sys.exit(main())
