"""Benchmark: forward + backward of `log_joint` for the seed models, against a hand-written
torch implementation of the same model in this script (same parameters, same values).

Prints, per model, the time per step of both and their ratio (target ≤ 1.3). The hand-written
versions also check that the runtime computes the same density.

    python bench/runtime_step.py [--batch 32] [--seq 32] [--repeats 20] [--device cpu]
"""
from __future__ import annotations

import argparse
import time
from pathlib import Path

import torch
import torch.distributions as D
import torch.nn.functional as F

import qvr

PROGRAMS = Path(__file__).resolve().parents[1] / "tests" / "runtime" / "programs"


def sp(r):
    return F.softplus(r) + 1e-5


def logit_normal_lp(value, loc, scale):
    """log density of LogitNormal(loc, scale) at value in (0, 1), summed over coordinates."""
    z = torch.logit(value)
    return (D.Normal(loc, scale).log_prob(z) - torch.log(value) - torch.log1p(-value)).sum(-1)


# ---------------------------------------------------------------- hand-written models ----
def hand_seed002(model, x, values):
    emb = model._step_h.parts[0].weight
    cell = model._step_h.parts[1].cell.linear
    head = model._step_next_token.linear
    h_all = torch.cat([values["h/scan"], values["h"].unsqueeze(1)], 1)
    e = emb[x]
    prev = torch.zeros_like(values["h"])
    total = 0.0
    for t in range(x.shape[1]):
        loc = F.linear(torch.cat([e[:, t], prev], -1), cell.weight, cell.bias)
        total = total + D.Normal(loc, 0.1).log_prob(h_all[:, t]).sum(-1)
        prev = h_all[:, t]
    logits = F.linear(values["h"], head.weight, head.bias)
    return total + D.Categorical(logits=logits).log_prob(values["next_token"])


def hand_seed000(model, x, values):
    emb = model.parts[0].weight
    cell = model.parts[1].cell
    gi, gf, go, gc = (getattr(cell, f"_step_{v}").linear for v in ("i_gate", "f_gate", "o_gate", "g_cand"))
    out = model.parts[2].linear
    p = "output/scan/scan/"
    i_v, f_v, o_v, g_v = (values[p + v] for v in ("i_gate", "f_gate", "o_gate", "g_cand"))
    e = emb[x]
    B, T = x.shape
    state = torch.zeros(B, 128)
    total = 0.0
    for t in range(T):
        u = torch.cat([e[:, t], state], -1)
        for lin, v in ((gi, i_v), (gf, f_v), (go, o_v)):
            raw = F.linear(u, lin.weight, lin.bias)
            total = total + logit_normal_lp(v[:, t], raw[:, :64], sp(raw[:, 64:]))
        total = total + D.Normal(F.linear(u, gc.weight, gc.bias), 0.5).log_prob(g_v[:, t]).sum(-1)
        c_new = f_v[:, t] * g_v[:, t] + i_v[:, t] * g_v[:, t]
        h_new = o_v[:, t] * (2.0 * torch.sigmoid(2.0 * c_new) - 1.0)
        state = torch.cat([c_new, h_new], -1)
    loc = F.linear(state, out.weight, out.bias)
    return total + D.Normal(loc, 0.1).log_prob(values["output"]).sum(-1)


def hand_seed001(model, x, values):
    emb = model.parts[0].weight
    cell = model.parts[1].cell
    gz, gr = cell._step_z.linear, cell._step_r.linear
    out = model.parts[2].linear
    p = "output/scan/scan/"
    z_v, r_v, hc_v = values[p + "z"], values[p + "r"], values[p + "h_cand"]
    e = emb[x]
    B, T = x.shape
    h = torch.zeros(B, 128)
    total = 0.0
    for t in range(T):
        u = torch.cat([e[:, t], h], -1)
        for lin, v in ((gz, z_v), (gr, r_v)):
            raw = F.linear(u, lin.weight, lin.bias)
            total = total + logit_normal_lp(v[:, t], raw[:, :128], sp(raw[:, 128:]))
        reset = r_v[:, t] * h
        total = total + D.Normal(reset, 0.5).log_prob(hc_v[:, t]).sum(-1)
        h = (1.0 - z_v[:, t]) * h + z_v[:, t] * hc_v[:, t]
    loc = F.linear(h, out.weight, out.bias)
    return total + D.Normal(loc, 0.1).log_prob(values["output"]).sum(-1)


MODELS = {
    "seed000_lstm": hand_seed000,
    "seed001_gru": hand_seed001,
    "seed002_vanilla_rnn_lm": hand_seed002,
}


def timed_pair(fa, fb, params, repeats):
    """Median seconds per forward+backward of `fa` and `fb`, measured interleaved (a, b, a, b…)
    so that load changes on a shared machine hit both alike."""
    def once(fn):
        for p in params:
            p.grad = None
        t0 = time.perf_counter()
        fn().sum().backward()
        return time.perf_counter() - t0

    for _ in range(3):  # warm-up
        once(fa), once(fb)
    ta, tb = [], []
    for _ in range(repeats):
        ta.append(once(fa))
        tb.append(once(fb))
    ta.sort(), tb.sort()
    return ta[len(ta) // 2], tb[len(tb) // 2]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--seq", type=int, default=32)
    ap.add_argument("--repeats", type=int, default=20)
    ap.add_argument("--device", default="cpu")
    args = ap.parse_args()
    # the reference skips argument validation, as the runtime does, so only the work is compared
    D.Distribution.set_default_validate_args(False)
    torch.manual_seed(0)
    print(f"log_joint forward+backward, B={args.batch}, T={args.seq}, device={args.device}")
    print(f"{'model':26s} {'qvr ms':>9s} {'hand ms':>9s} {'ratio':>7s}")
    for name, hand in MODELS.items():
        model = qvr.load(PROGRAMS / f"{name}.qvr", device=args.device).morphism
        x = torch.randint(0, 256, (args.batch, args.seq), device=args.device)
        with torch.no_grad():
            values = {k: s.value for k, s in model.trace(x).sites.items()}
        params = list(model.parameters())
        with torch.no_grad():
            a, b = model.log_joint(x, values), hand(model, x, values)
        assert torch.allclose(a, b, rtol=1e-4, atol=1e-2), (name, a, b)
        t_qvr, t_hand = timed_pair(lambda: model.log_joint(x, values), lambda: hand(model, x, values),
                                   params, args.repeats)
        print(f"{name:26s} {t_qvr * 1e3:9.2f} {t_hand * 1e3:9.2f} {t_qvr / t_hand:7.2f}")


if __name__ == "__main__":
    main()
