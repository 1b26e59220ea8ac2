"""The per-step shortcuts of inference give the answers of the plain path.

Scoring a clamped site of an elementwise family skips building the torch distribution; SVI and
MCMC check their data once and reuse the checked tensors while the same, unmodified tensors come
back. These tests hold the shortcuts to the plain computation: the same numbers, and data
changed in place between steps is seen.
"""
from __future__ import annotations

import math

import pytest
import torch
import torch.distributions as D

import qvr
from qvr.compile import families as FAM
from qvr.infer import ELBO, SVI, AutoNormalGuide
from qvr.infer.potential import Potential
from qvr.infer.sites import ShapeOracle, latent_specs

TORCH_FAMILIES = {
    "Normal": lambda p: D.Normal(p["loc"], p["scale"], validate_args=False),
    "HalfNormal": lambda p: D.HalfNormal(p["scale"], validate_args=False),
    "Cauchy": lambda p: D.Cauchy(p["loc"], p["scale"], validate_args=False),
    "HalfCauchy": lambda p: D.HalfCauchy(p["scale"], validate_args=False),
    "Laplace": lambda p: D.Laplace(p["loc"], p["scale"], validate_args=False),
    "Exponential": lambda p: D.Exponential(p["rate"], validate_args=False),
}


@pytest.mark.parametrize("name", sorted(TORCH_FAMILIES))
def test_direct_scores_equal_torch_log_prob_bit_for_bit_with_gradients(name):
    torch.manual_seed(0)
    spec = FAM.family(name)
    params = {}
    for key in ("loc", "scale", "rate"):
        if key in spec.params:
            raw = torch.randn(4, 3)
            params[key] = (raw.exp() if key != "loc" else raw).requires_grad_(True)
    # negative values too: the half families give -inf there, like torch
    value = torch.randn(4, 3).requires_grad_(True)
    direct = FAM.direct_event_log_prob(spec, params, value)
    reference = FAM.event_log_prob(spec, TORCH_FAMILIES[name](params), value)
    assert torch.equal(direct, reference)
    finite = torch.isfinite(reference).all(-1)
    inputs = list(params.values()) + [value]
    got = torch.autograd.grad(direct[finite].sum(), inputs)
    want = torch.autograd.grad(reference[finite].sum(), inputs)
    for g, w in zip(got, want):
        assert torch.equal(g, w)


@pytest.mark.parametrize("scale_shape", [(1, 1, 1), (3, 1, 1)])
def test_a_row_scale_normal_summed_to_rows_equals_the_elementwise_sum(scale_shape):
    torch.manual_seed(3)
    spec = FAM.family("Normal")
    loc = torch.randn(3, 50, 1, requires_grad=True)
    scale = (torch.rand(scale_shape) + 0.5).requires_grad_(True)
    value = torch.randn(3, 50, 1)
    rows = FAM.direct_row_log_prob(spec, {"loc": loc, "scale": scale}, value)
    reference = D.Normal(loc, scale.expand(3, 50, 1)).log_prob(value).reshape(3, -1).sum(-1)
    assert rows.shape == (3,)
    assert torch.allclose(rows, reference, rtol=1e-6)
    got = torch.autograd.grad(rows.sum(), [loc, scale])
    want = torch.autograd.grad(reference.sum(), [loc, scale])
    for g, w in zip(got, want):
        assert torch.allclose(g, w, rtol=1e-5)
    # a scale that varies inside a row is not this case
    assert FAM.direct_row_log_prob(spec, {"loc": loc, "scale": scale.expand(3, 50, 1)}, value) is None


def test_direct_scores_decline_mixed_dtypes_and_other_families():
    value = torch.zeros(2, 1)
    assert FAM.direct_event_log_prob(FAM.family("Normal"), {"loc": torch.zeros(2, 1, dtype=torch.float64),
                                                            "scale": torch.ones(2, 1)}, value) is None
    assert FAM.direct_event_log_prob(FAM.family("Gamma"), {"concentration": torch.ones(2, 1),
                                                           "rate": torch.ones(2, 1)}, value) is None


REGRESSION = """
object Row : FinSet 6
object Value : Real 1

program regression : Row -> Value
    sample a <- Normal(loc=0.0, scale=10.0)
    sample s <- HalfNormal(scale=5.0)
    observe y : Row <- Normal(loc=a * x, scale=s)
    return y

export regression
"""


def _svi(data):
    torch.manual_seed(1)
    model = qvr.loads(REGRESSION, device="cpu").morphism
    guide = AutoNormalGuide(model, observed_names=set(data))
    optim = torch.optim.Adam(guide.parameters(), lr=0.05)
    return model, SVI(model, guide, optim, ELBO(num_particles=1))


def test_svi_sees_named_data_and_observations_changed_in_place_between_steps():
    # float64 data for a float32 model: the checked copies are conversions, not views, so only
    # noticing the change can bring the new values in
    x = torch.linspace(-1, 1, 6, dtype=torch.float64).reshape(-1, 1)
    y = torch.linspace(0, 2, 6, dtype=torch.float64).reshape(1, 6, 1)
    inp = torch.zeros(1, dtype=torch.long)   # one row (the program never reads it)
    _, reused = _svi({"x": x, "y": y})
    data = {"x": x.clone(), "y": y.clone()}
    for _ in range(3):
        reused.step(inp, data)
    assert reused.loss._scorer is not None   # the checked data are being reused
    data["x"].mul_(3.0)   # same tensors, new contents
    data["y"].add_(1.0)
    # a fresh SVI that only ever saw the new values, from the same state and random stream
    _, fresh = _svi({"x": x, "y": y})
    fresh.guide.load_state_dict(reused.guide.state_dict())
    fresh.optim.load_state_dict(reused.optim.state_dict())
    state = torch.get_rng_state()
    a = reused.step(inp, data)
    torch.set_rng_state(state)
    b = fresh.step(inp, {"x": x * 3.0, "y": y + 1.0})
    assert a == b


def test_log_joint_after_data_changed_in_place_matches_a_fresh_model():
    model = qvr.loads(REGRESSION, device="cpu").morphism
    x = torch.linspace(-1, 1, 6, dtype=torch.float64).reshape(-1, 1)   # converted, not viewed
    values = {"a": torch.tensor([[0.5]]), "s": torch.tensor([[1.5]]), "y": torch.ones(1, 6, 1)}
    first = model.log_joint(None, {"x": x, **values})
    x.mul_(2.0)
    second = model.log_joint(None, {"x": x, **values})
    fresh = qvr.loads(REGRESSION, device="cpu").morphism.log_joint(None, {"x": x.clone(), **values})
    assert not torch.equal(first, second)
    assert torch.equal(second, fresh)


def test_potential_scores_like_log_joint_and_flags_a_non_finite_energy():
    model = qvr.loads(REGRESSION, device="cpu").morphism
    obs = {"x": torch.linspace(-1, 1, 6).reshape(-1, 1), "y": torch.ones(1, 6, 1)}
    specs = latent_specs(model, set(model.observed_names) | set(obs))
    shapes = ShapeOracle(model, [s.name for s in specs]).shapes(None, obs)
    potential = Potential(model, None, obs, shapes)
    q = torch.tensor([0.3, -0.2])   # a, log s
    u, grad, lj = potential(q)
    s = math.exp(-0.2)
    expected = model.log_joint(None, {**obs, "a": torch.tensor([[0.3]]), "s": torch.tensor([[s]])}).sum()
    assert float(lj) == pytest.approx(float(expected), rel=1e-6)
    assert float(u) == pytest.approx(-(float(expected) - 0.2), rel=1e-6)   # log|ds/dq| = q
    assert torch.isfinite(grad).all()
    u, grad, _ = potential(torch.tensor([0.3, 1e4]))   # s overflows to inf
    assert u == math.inf and torch.equal(grad, torch.zeros(2))
    # which site made it so: `s`, whose log|ds/dq| = q overflowed (its value too); none at q
    assert potential.non_finite_slot(torch.tensor([0.3, 1e4])) == "s"
    assert potential.non_finite_slot(torch.tensor([math.inf, 0.0])) == "a"
    assert potential.non_finite_slot(q) is None
