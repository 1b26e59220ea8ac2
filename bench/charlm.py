"""Benchmark: the QVR character LSTM language model against torch `nn.LSTM` on The Time Machine.

Both models are trained in this script with d2l's recipe ("Long Short-Term Memory", concise
implementation): 28-symbol vocabulary, 32 hidden units, windows of 32 steps, batch 1024, SGD
with lr 4 and gradient-norm clipping at 1, 50 epochs over the first 10,000 windows, validation
perplexity on the next 5,000. Both see the same minibatches in the same order. The reference
figures for this recipe are nn.LSTM ≈ 6.9, a from-scratch LSTM ≈ 7.4, a bigram model 9.6; the
target is the QVR model within 5% of nn.LSTM.

It also times one training step (loss, backward, clip, SGD) of each on the same batch and prints
the ratio QVR / nn.LSTM (target ≤ 1.3 on CPU). With the fused-kernel lowering available, the
QVR model is timed both fused and on the general path (`QVR_FUSED=0`).

    python bench/charlm.py [--epochs 50] [--threads 1] [--timing-steps 10] [--skip-train]

The corpus comes from `$QVR_TIMEMACHINE`, else `../shared/data/timemachine.txt` next to the
repository, else `--corpus PATH`; its SHA-1 is checked.
"""
from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import time
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

import qvr
from qvr import charlm as C

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "char_lstm_lm.qvr"


def corpus_path(explicit=None) -> Path:
    if explicit:
        return Path(explicit)
    env = os.environ.get("QVR_TIMEMACHINE")
    if env:
        return Path(env)
    return ROOT.parent / "shared" / "data" / "timemachine.txt"


class TorchLM(nn.Module):
    """d2l's concise RNNLM: one-hot characters -> nn.LSTM -> linear head."""

    def __init__(self, vocab_size: int, hidden: int):
        super().__init__()
        self.vocab_size = vocab_size
        self.rnn = nn.LSTM(vocab_size, hidden, batch_first=True)
        self.head = nn.Linear(hidden, vocab_size)

    def loss(self, X, Y):
        out, _ = self.rnn(F.one_hot(X, self.vocab_size).float())
        logits = self.head(out)
        return F.cross_entropy(logits.reshape(-1, self.vocab_size), Y.reshape(-1))


def qvr_model(seed: int):
    torch.manual_seed(seed)
    return C.char_model(qvr.load(EXAMPLE, device="cpu").morphism, 28)


# ------------------------------------------------------------------------------- timing --

def time_steps(step, n: int) -> float:
    step()  # warm-up
    times = []
    for _ in range(n):
        t = time.perf_counter()
        step()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def sgd_step(loss_fn, params, lr=4.0, clip=1.0):
    opt = torch.optim.SGD(params, lr=lr)

    def step():
        opt.zero_grad(set_to_none=True)
        loss = loss_fn()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, clip)
        opt.step()
    return step


def timing(train, batch: int, n: int) -> dict:
    X, Y = train[0][:batch], train[1][:batch]
    ref = TorchLM(28, 32)
    ref_step = sgd_step(lambda: ref.loss(X, Y), list(ref.parameters()))
    cm = qvr_model(0)
    q_step = sgd_step(lambda: C.token_loss(cm, X, Y), list(cm.model.parameters()))
    out = {}
    t_ref = time_steps(ref_step, n)
    t_q = time_steps(q_step, n)
    out["nn_lstm_step_s"], out["qvr_step_s"] = t_ref, t_q
    out["ratio"] = t_q / t_ref
    fused_env = os.environ.get("QVR_FUSED")
    os.environ["QVR_FUSED"] = "0"
    try:
        cm_general = qvr_model(0)
        g_step = sgd_step(lambda: C.token_loss(cm_general, X, Y), list(cm_general.model.parameters()))
        out["qvr_general_step_s"] = time_steps(g_step, n)
    finally:
        if fused_env is None:
            os.environ.pop("QVR_FUSED", None)
        else:
            os.environ["QVR_FUSED"] = fused_env
    out["general_ratio"] = out["qvr_general_step_s"] / t_ref
    return out


# ----------------------------------------------------------------------------- training --

def train_torch(train, val, *, epochs, batch, lr, clip, seed, log):
    torch.manual_seed(seed)
    model = TorchLM(28, 32)
    params = list(model.parameters())
    opt = torch.optim.SGD(params, lr=lr)
    gen = torch.Generator().manual_seed(seed)
    X, Y = train
    val_ppl = []
    for epoch in range(epochs):
        order = torch.randperm(X.shape[0], generator=gen)
        for b in range(C.steps_per_epoch(X.shape[0], batch)):
            idx = order[b * batch:(b + 1) * batch]
            opt.zero_grad(set_to_none=True)
            loss = model.loss(X[idx], Y[idx])
            loss.backward()
            torch.nn.utils.clip_grad_norm_(params, clip)
            opt.step()
        with torch.no_grad():
            nll = sum(float(model.loss(val[0][s:s + batch], val[1][s:s + batch])) * val[0][s:s + batch].numel()
                      for s in range(0, val[0].shape[0], batch)) / val[0].numel()
        val_ppl.append(math.exp(nll))
        log(f"  nn.LSTM epoch {epoch + 1}: validation perplexity {val_ppl[-1]:.3f}")
    return val_ppl


def train_qvr(train, val, *, epochs, batch, lr, clip, seed, log):
    cm = qvr_model(seed)
    hist = C.fit(cm, train, val, epochs=epochs, batch_size=batch, lr=lr, clip=clip, seed=seed)
    for e, (tp, vp) in enumerate(zip(hist.train_ppl, hist.val_ppl)):
        log(f"  QVR epoch {e + 1}: training perplexity {tp:.3f}, validation perplexity {vp:.3f}")
    return hist, cm


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--corpus", help="text file (default: $QVR_TIMEMACHINE or ../shared/data/timemachine.txt)")
    p.add_argument("--epochs", type=int, default=50)
    p.add_argument("--num-train", type=int, default=10_000)
    p.add_argument("--num-val", type=int, default=5_000)
    p.add_argument("--batch", type=int, default=1024)
    p.add_argument("--lr", type=float, default=4.0)
    p.add_argument("--clip", type=float, default=1.0)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=1,
                   help="torch threads (1 avoids oversubscription on a shared 2-core machine)")
    p.add_argument("--timing-steps", type=int, default=10)
    p.add_argument("--skip-train", action="store_true", help="only time the training step")
    p.add_argument("--json-out", help="write the figures to this JSON file")
    args = p.parse_args(argv)
    torch.set_num_threads(args.threads)

    def log(msg):
        print(msg, flush=True)

    path = corpus_path(args.corpus)
    corpus = C.read_corpus(path, sha1=C.TIME_MACHINE_SHA1)
    X, Y = C.windows(corpus.indices, 32)
    train, val = C.split_windows(X, Y, args.num_train, args.num_val)
    log(f"corpus {path}: {len(corpus.text)} characters, vocabulary {len(corpus.vocab)}, "
        f"{train[0].shape[0]} training / {val[0].shape[0]} validation windows of 32; "
        f"torch {torch.__version__}, {args.threads} thread(s)")

    figures = {"threads": args.threads, "epochs": args.epochs, "batch": args.batch}
    t = timing(train, args.batch, args.timing_steps)
    figures["timing"] = t
    log(f"training step (batch {args.batch}, median of {args.timing_steps}): nn.LSTM {t['nn_lstm_step_s'] * 1e3:.0f} ms, "
        f"QVR {t['qvr_step_s'] * 1e3:.0f} ms (ratio {t['ratio']:.2f}); QVR general path "
        f"{t['qvr_general_step_s'] * 1e3:.0f} ms (ratio {t['general_ratio']:.2f})")

    if not args.skip_train:
        kw = dict(epochs=args.epochs, batch=args.batch, lr=args.lr, clip=args.clip, seed=args.seed, log=log)
        started = time.perf_counter()
        ref = train_torch(train, val, **kw)
        t_ref = time.perf_counter() - started
        started = time.perf_counter()
        hist, cm = train_qvr(train, val, **kw)
        t_q = time.perf_counter() - started
        gap = hist.val_ppl[-1] / ref[-1] - 1
        figures.update(nn_lstm_val_ppl=ref, qvr_val_ppl=hist.val_ppl, qvr_train_ppl=hist.train_ppl,
                       nn_lstm_seconds=t_ref, qvr_seconds=t_q, gap=gap,
                       sample=C.generate(cm, corpus.vocab, "time traveller", 30))
        log(f"after {args.epochs} epochs: validation perplexity nn.LSTM {ref[-1]:.3f} ({t_ref:.0f} s), "
            f"QVR {hist.val_ppl[-1]:.3f} ({t_q:.0f} s); QVR / nn.LSTM - 1 = {gap * 100:+.1f}% "
            f"(target within 5%)")
        log(f"QVR sample: {figures['sample']!r}")
    if args.json_out:
        Path(args.json_out).write_text(json.dumps(figures, indent=1))


if __name__ == "__main__":
    main()
