"""The fused-kernel lowering of standard LSTM scan cells (qvr.compile.fused) gives the same
log-densities and gradients as the general path (QVR_FUSED=0), and only matches real LSTMs."""
from __future__ import annotations

import pytest
import torch

import qvr
from qvr.compile.fused import match_lstm_cell

from lstm_paths import EXAMPLES

VARIANT = """
object In : Real 5
object Hidden : Real 8
object Out : FinSet 3
morphism wi, wf, wo, wg : In * Hidden -> Hidden
morphism head : Hidden * Hidden -> Out ~ Categorical
#! The LSTM written differently: state (h, c), steps reordered, products commuted.
program cell(x, h, c) : In * Hidden * Hidden -> Hidden * Hidden
    let keep = c * sigmoid(wf(x, h))
    let c_new = tanh(wg(x, h)) * sigmoid(wi(x, h)) + keep
    let h_new = tanh(c_new) * sigmoid(wo(x, h))
    return (h_new, c_new)
define enc = scan(cell{opts})
program model : In -> Out
    sample (h, c) <- enc
    observe y : Out <- head(h, c)
    return y
export model
"""

SCAN_OPTIONS = ["", ", states=all", ", init=learned, direction=backward",
                ", states=all, direction=backward"]


def joint_and_grads(model, x, obs, fused: bool, monkeypatch):
    monkeypatch.setenv("QVR_FUSED", "1" if fused else "0")
    model.zero_grad()
    lj = model.log_joint(x, obs)
    lj.sum().backward()
    return lj.detach(), {n: p.grad.clone() for n, p in model.named_parameters()}


def assert_same(model, x, obs, monkeypatch):
    lj_f, g_f = joint_and_grads(model, x, obs, True, monkeypatch)
    lj_g, g_g = joint_and_grads(model, x, obs, False, monkeypatch)
    torch.testing.assert_close(lj_f, lj_g, rtol=1e-10, atol=1e-10)
    assert g_f.keys() == g_g.keys()
    for name in g_f:
        torch.testing.assert_close(g_f[name], g_g[name], rtol=1e-9, atol=1e-10, msg=name)
        assert g_f[name].abs().sum() > 0 or "init_state" in name, name


def test_char_lm_cell_is_lowered_and_equals_the_general_path(monkeypatch):
    torch.manual_seed(0)
    program = qvr.load(EXAMPLES / "char_lstm_lm.qvr", device="cpu", dtype=torch.float64)
    model = program.morphism
    assert model._step__c.fused is not None
    x = torch.randint(0, 28, (4, 9))
    assert_same(model, x, {"next_char": torch.randint(0, 28, (4, 9))}, monkeypatch)


@pytest.mark.parametrize("opts", SCAN_OPTIONS)
def test_lstm_variants_are_lowered_and_equal_the_general_path(opts, monkeypatch):
    torch.manual_seed(1)
    program = qvr.loads(VARIANT.replace("{opts}", opts), device="cpu", dtype=torch.float64)
    model = program.morphism
    assert model._step_h.fused is not None
    if "init=learned" in opts:
        with torch.no_grad():
            model._step_h.init_state.normal_()
    x = torch.randn(3, 6, 5, dtype=torch.float64)
    y = torch.randint(0, 3, (3, 6) if "states=all" in opts else (3,))
    assert_same(model, x, {"y": y}, monkeypatch)


def test_float32_fused_matches_closely(monkeypatch):
    torch.manual_seed(0)
    model = qvr.load(EXAMPLES / "char_lstm_lm.qvr", device="cpu").morphism
    x, y = torch.randint(0, 28, (64, 32)), torch.randint(0, 28, (64, 32))
    lj_f, g_f = joint_and_grads(model, x, {"next_char": y}, True, monkeypatch)
    lj_g, g_g = joint_and_grads(model, x, {"next_char": y}, False, monkeypatch)
    torch.testing.assert_close(lj_f, lj_g, rtol=1e-5, atol=1e-4)
    for name in g_f:
        torch.testing.assert_close(g_f[name], g_g[name], rtol=1e-4, atol=1e-5, msg=name)


def test_traces_keep_the_general_path_and_record_the_cell_sites(monkeypatch):
    monkeypatch.setenv("QVR_FUSED", "1")
    model = qvr.load(EXAMPLES / "char_lstm_lm.qvr", device="cpu").morphism
    sites = model.trace(torch.randint(0, 28, (2, 5))).sites
    assert sites["_c/scan/f"].value.shape == (2, 5, 32)


# (line of examples/char_lstm_lm.qvr, its replacement, an extra declaration)
NOT_LSTM = {
    "no tanh on the cell state": ("let h_new = o * tanh(c_new)", "let h_new = o * c_new", ""),
    "forget gate on the candidate": ("let c_new = f * c + i * g", "let c_new = f * g + i * g", ""),
    "gate reads (h, x)": ("let i = sigmoid(in_gate(x, h))", "let i = sigmoid(in_gate2(h, x))",
                          "morphism in_gate2 : Hidden * Char -> Hidden"),
    "gate over an MLP": ("morphism char_head", "morphism mlp_gate : Char * Hidden -> Hidden [hidden_dim=8]\nmorphism char_head", ""),
}


@pytest.mark.parametrize("change", sorted(NOT_LSTM))
def test_other_cells_are_not_lowered_and_still_run(change):
    old, new, extra = NOT_LSTM[change]
    text = (EXAMPLES / "char_lstm_lm.qvr").read_text(encoding="utf-8")
    assert old in text
    text = text.replace(old, new)
    if "mlp_gate" in new:
        text = text.replace("sigmoid(out_gate(x, h))", "sigmoid(mlp_gate(x, h))")
    if extra:
        text = text.replace("morphism char_head", extra + "\nmorphism char_head")
    program = qvr.loads(text, device="cpu")
    assert match_lstm_cell(program.analysis, "cell") is None
    model = program.morphism
    assert model._step__c.fused is None
    x = torch.randint(0, 28, (2, 4))
    assert model.log_joint(x, {"next_char": x}).shape == (2,)


def test_stochastic_and_gru_cells_are_not_lowered():
    for name, cell in (("lstm.qvr", "lstm_cell"), ("gru.qvr", "gru_cell"),
                       ("char_lstm_lm_bayesian.qvr", "cell")):
        program = qvr.load(EXAMPLES / name, device="cpu")
        assert match_lstm_cell(program.analysis, cell) is None, name


def test_unread_cell_states_are_marked_and_skipped(monkeypatch):
    """The char LM never reads `_c`: the draw marks it unread, and under log_joint the fused
    scan leaves it uncomputed without changing the density or the gradients."""
    torch.manual_seed(0)
    model = qvr.load(EXAMPLES / "char_lstm_lm.qvr", device="cpu", dtype=torch.float64).morphism
    draw = next(p for p in model.plan if getattr(p, "vars", None) == ["_c", "h"])
    assert draw.unread == (0,)
    program = qvr.loads(VARIANT.replace("{opts}", ", states=all"), device="cpu")
    assert next(p for p in program.morphism.plan if getattr(p, "vars", None) == ["h", "c"]).unread == ()
    x, y = torch.randint(0, 28, (3, 7)), torch.randint(0, 28, (3, 7))
    assert_same(model, x, {"next_char": y}, monkeypatch)
