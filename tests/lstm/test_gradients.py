"""Gradients of LSTM examples against central finite differences in float64: backpropagation
through time in the deterministic char LM, and the clamped joint of the stochastic LSTM."""
from __future__ import annotations

import torch

import qvr

from lstm_paths import EXAMPLES


def check_against_finite_differences(fn, params, picks=4, eps=1e-6, seed=0):
    """Compare autograd with central differences at `picks` random entries of every parameter."""
    g = torch.Generator().manual_seed(seed)
    value = fn()
    grads = torch.autograd.grad(value, params)
    checked = 0
    for p, grad in zip(params, grads):
        flat, gflat = p.data.view(-1), grad.reshape(-1)
        for j in torch.randint(0, flat.numel(), (picks,), generator=g).tolist():
            old = float(flat[j])
            with torch.no_grad():
                flat[j] = old + eps
                up = float(fn())
                flat[j] = old - eps
                down = float(fn())
                flat[j] = old
            numeric = (up - down) / (2 * eps)
            assert abs(numeric - float(gflat[j])) <= 1e-6 + 1e-5 * abs(numeric), \
                (p.shape, j, numeric, float(gflat[j]))
            checked += 1
    return checked


def test_char_lm_bptt_matches_finite_differences():
    torch.manual_seed(0)
    model = qvr.load(EXAMPLES / "char_lstm_lm.qvr", device="cpu", dtype=torch.float64).morphism
    x = torch.randint(0, 28, (3, 7))
    y = torch.randint(0, 28, (3, 7))
    params = [p for _, p in model.named_parameters()]
    assert all(p.dtype == torch.float64 for p in params)

    def nll():
        return -model.log_joint(x, {"next_char": y}).sum()

    assert check_against_finite_differences(nll, params) == 4 * len(params)


def test_char_lm_gradient_reaches_back_in_time():
    """The loss at the last position depends on the first character only through the
    recurrence: its gradient with respect to the first one-hot input column is not zero."""
    torch.manual_seed(0)
    model = qvr.load(EXAMPLES / "char_lstm_lm.qvr", device="cpu", dtype=torch.float64).morphism
    x = torch.randint(0, 28, (1, 6))
    base = model.trace(x).sites["h"].value[0, -1]
    x2 = x.clone()
    x2[0, 0] = (x[0, 0] + 1) % 28
    moved = model.trace(x2).sites["h"].value[0, -1]
    assert not torch.allclose(base, moved)


def test_stochastic_lstm_joint_matches_finite_differences():
    torch.manual_seed(0)
    model = qvr.load(EXAMPLES / "lstm.qvr", device="cpu", dtype=torch.float64).morphism
    x = torch.randint(0, 256, (2, 4))
    with torch.no_grad():
        values = {n: s.value for n, s in model.trace(x).sites.items() if s.kind != "deterministic"}
    params = [p for _, p in model.named_parameters()]

    def neg_joint():
        return -model.log_joint(x, values).sum()

    assert check_against_finite_differences(neg_joint, params, picks=2) == 2 * len(params)
