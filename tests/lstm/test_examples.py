"""Every LSTM-family example loads, says what it models, samples with the documented shapes and
takes an SVI step that changes its parameters."""
from __future__ import annotations

import math

import pytest
import torch

import qvr
from qvr.infer import ELBO, SVI, AutoNormalGuide

from lstm_paths import EXAMPLES

B, T = 3, 5

# example -> (vocabulary of its input, shape of rsample's output on (B, T) tokens)
EXPECTED = {
    "lstm.qvr": (256, (B, 32)),
    "gru.qvr": (256, (B, 64)),
    "lstm_classifier.qvr": (256, (B,)),
    "lstm_tagger.qvr": (256, (B, T)),
    "stacked_lstm.qvr": (256, (B,)),
    "bilstm.qvr": (256, (B,)),
    "char_lstm_lm.qvr": (28, (B, T)),
    "char_lstm_lm_bayesian.qvr": (28, (B, T)),
}


def load(name, **kw):
    return qvr.load(EXAMPLES / name, device="cpu", **kw).morphism


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_example_has_header_and_checks_clean(name):
    text = (EXAMPLES / name).read_text(encoding="utf-8")
    assert text.startswith("# "), f"{name} needs a comment header saying what it models"
    errors = [d for d in qvr.check(text) if d.is_error]
    assert errors == []


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_example_samples_and_takes_an_svi_step(name):
    vocab, shape = EXPECTED[name]
    torch.manual_seed(0)
    model = load(name)
    x = torch.randint(0, vocab, (B, T))
    y = model.rsample(x)
    assert tuple(y.shape) == shape
    if not y.is_floating_point():
        assert int(y.min()) >= 0 and int(y.max()) < (vocab if "char" in name else 256)
    observed = sorted(model.observed_names)
    assert observed, "every example has an observed site"
    with torch.no_grad():
        tr = model.trace(x)
    observations = {n: tr.sites[n].value for n in observed}
    guide = AutoNormalGuide(model, observed_names=set(observed))
    params = list(model.parameters()) + list(guide.parameters())
    before = [p.detach().clone() for p in model.parameters()]
    svi = SVI(model, guide, torch.optim.Adam(params, lr=1e-2), ELBO())
    loss = svi.step(x, observations)
    assert math.isfinite(loss)
    changed = sum(int(not torch.equal(a, p.detach())) for a, p in zip(before, model.parameters()))
    assert changed > 0


def test_char_lm_has_d2l_parameter_count_and_deterministic_gates():
    model = load("char_lstm_lm.qvr")
    assert sum(p.numel() for p in model.parameters()) == 8732   # d2l's LSTM LM, spec §6.2
    kinds = {s.name: s.kind for s in model.site_specs()}
    assert [n for n, k in kinds.items() if k == "latent"] == []   # maximum likelihood
    assert kinds["next_char"] == "observed"


def test_bayesian_char_lm_has_stochastic_gates():
    model = load("char_lstm_lm_bayesian.qvr")
    latent = sorted(s.name for s in model.site_specs() if s.kind == "latent")
    assert latent == ["_c/scan/a", "_c/scan/f", "_c/scan/i", "_c/scan/o"]
    x = torch.randint(0, 28, (2, 6))
    torch.manual_seed(1)
    a = model.trace(x).sites["_c/scan/i"].value
    torch.manual_seed(2)
    b = model.trace(x).sites["_c/scan/i"].value
    assert a.shape == (2, 6, 32) and not torch.equal(a, b)


def test_lstm_cell_keeps_cell_and_hidden_state_apart():
    """The state is (c, h): c_new = f*c + i*tanh(g), h_new = o*tanh(c_new) — checked against the
    cell's own recorded gate values."""
    model = load("lstm.qvr", dtype=torch.float64)
    x = torch.randint(0, 256, (2, 4))
    tr = model.trace(x)
    p = "output/scan/scan/"
    i, f, o, g = (tr.sites[p + v].value for v in "ifog")
    c_new, h_new = tr.sites[p + "c_new"].value, tr.sites[p + "h_new"].value
    c_prev = torch.cat([torch.zeros_like(c_new[:, :1]), c_new[:, :-1]], 1)
    torch.testing.assert_close(c_new, f * c_prev + i * torch.tanh(g))
    torch.testing.assert_close(h_new, o * torch.tanh(c_new))
    assert not torch.allclose(c_new, h_new)
