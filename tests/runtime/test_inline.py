"""Inline distributions in program steps (spec §5.7 step 3): every family that may be used
inline, with literal and variable arguments, scores like torch.distributions."""
from __future__ import annotations

import pytest
import torch
import torch.distributions as D

import qvr

# family call, torch reference built from the program input `a` (B, 2) in (0.5, 1.5)
CASES = [
    ("Normal(loc=a, scale=0.5)", lambda a: D.Normal(a, 0.5)),
    ("Normal(a, 0.5)", lambda a: D.Normal(a, 0.5)),
    ("LogitNormal(mu=a, sigma=0.3)", lambda a: D.TransformedDistribution(D.Normal(a, 0.3), [D.SigmoidTransform()])),
    ("LogNormal(a, a)", lambda a: D.LogNormal(a, a)),
    ("Laplace(loc=a, scale=2.0)", lambda a: D.Laplace(a, 2.0)),
    ("Cauchy(a, 1.0)", lambda a: D.Cauchy(a, 1.0)),
    ("StudentT(df=3.0, loc=a, scale=a)", lambda a: D.StudentT(3.0, a, a)),
    ("HalfNormal(scale=a)", lambda a: D.HalfNormal(a)),
    ("HalfCauchy(a)", lambda a: D.HalfCauchy(a)),
    ("Exponential(rate=a)", lambda a: D.Exponential(a)),
    ("Gamma(concentration=a, rate=2.0)", lambda a: D.Gamma(a, 2.0)),
    ("Beta(a, a)", lambda a: D.Beta(a, a)),
    ("Uniform(low=0.0, high=a * 3.0)", lambda a: D.Uniform(torch.zeros_like(a), a * 3.0)),
    ("TruncatedNormal(loc=a, scale=1.0, low=0.0, high=4.0)", None),
    ("Dirichlet(concentration=a)", lambda a: D.Dirichlet(a)),
    ("Bernoulli(probs=sigmoid(a))", lambda a: D.Bernoulli(torch.sigmoid(a))),
    ("Bernoulli(logits=a)", lambda a: D.Bernoulli(logits=a)),
    ("Categorical(probs=softmax(a))", lambda a: D.Categorical(torch.softmax(a, -1))),
    ("Categorical(logits=[0.1, 0.2, 0.7])", lambda a: D.Categorical(logits=torch.tensor([0.1, 0.2, 0.7]).expand(a.shape[0], 3))),
]

SRC = """
object A : Real 2
program p(a) : A -> A
    sample v <- {call}
    return a
export p
"""


@pytest.mark.parametrize("call,ref", CASES, ids=[c for c, _ in CASES])
def test_inline_family_density(call, ref):
    torch.manual_seed(0)
    model = qvr.loads(SRC.replace("{call}", call), name="i.qvr").morphism
    a = torch.rand(6, 2) + 0.5
    tr = model.trace(a)
    site = tr.sites["v"]
    assert site.log_prob.shape == (6,) and torch.isfinite(site.log_prob).all()
    if ref is None:
        assert ((site.value >= 0) & (site.value <= 4)).all()
        return
    dist = ref(a)
    want = dist.log_prob(site.value.to(dist.mean.dtype) if site.value.dtype == torch.int64 and call.startswith("Bern") else site.value)
    if want.dim() == 2:
        want = want.sum(-1)
    torch.testing.assert_close(site.log_prob, want)
    if call.startswith("Categorical"):
        assert site.value.dtype == torch.int64 and site.value.shape == (6,)
    elif call.startswith("Bernoulli"):
        assert site.value.dtype == torch.int64 and site.value.shape == (6, 2)
    else:
        assert site.value.shape == (6, 2)
    # clamped: log_joint at the traced value is the same density
    torch.testing.assert_close(model.log_joint(a, {"v": site.value}), site.log_prob)


def test_inline_literal_scalar_width_is_one_and_rsample_has_gradients():
    src = """
object A : Real 2
object One : Real 1
program p(a) : A -> One
    sample v <- Normal(0.0, 1.0)
    sample w <- Normal(loc=v * 2.0, scale=exp(a))
    return v
export p
"""
    model = qvr.loads(src, name="i.qvr").morphism
    a = torch.zeros(4, 2, requires_grad=True)
    tr = model.trace(a)
    assert tr.sites["v"].value.shape == (4, 1) and tr.sites["w"].value.shape == (4, 2)
    tr.sites["w"].value.sum().backward()   # reparameterised: gradients flow to the scale
    assert a.grad is not None and a.grad.abs().sum() > 0
