"""Every family of spec §5.2: log densities equal torch.distributions on the same parameters,
argument binding (positional, keyword, alternative names), supports, kernel blocks."""
from __future__ import annotations

import pytest
import torch
import torch.distributions as D
from torch.distributions import constraints

from qvr.compile import families as FAM
from qvr.compile.kernels import FixedDistribution, Kernel
from qvr.errors import QvrError
from qvr.semantics.types import ObjType

B, W = 5, 3
g = torch.Generator().manual_seed(0)


def pos(*shape):
    return torch.rand(*shape, generator=g) + 0.5


def real(*shape):
    return torch.randn(*shape, generator=g)


# family -> (params, a value in the support, reference torch distribution)
def cases():
    loc, scale = real(B, W), pos(B, W)
    unit = torch.rand(B, W, generator=g) * 0.9 + 0.05
    posv = pos(B, W)
    yield "Normal", {"loc": loc, "scale": scale}, real(B, W), D.Normal(loc, scale)
    yield "LogitNormal", {"loc": loc, "scale": scale}, unit, D.TransformedDistribution(
        D.Normal(loc, scale), [D.SigmoidTransform()])
    yield "LogNormal", {"loc": loc, "scale": scale}, posv, D.LogNormal(loc, scale)
    yield "Laplace", {"loc": loc, "scale": scale}, real(B, W), D.Laplace(loc, scale)
    yield "Cauchy", {"loc": loc, "scale": scale}, real(B, W), D.Cauchy(loc, scale)
    df = pos(B, W) * 3
    yield "StudentT", {"df": df, "loc": loc, "scale": scale}, real(B, W), D.StudentT(df, loc, scale)
    yield "HalfNormal", {"scale": scale}, posv, D.HalfNormal(scale)
    yield "HalfCauchy", {"scale": scale}, posv, D.HalfCauchy(scale)
    yield "Exponential", {"rate": scale}, posv, D.Exponential(scale)
    yield "Gamma", {"concentration": scale, "rate": posv}, pos(B, W), D.Gamma(scale, posv)
    yield "Beta", {"concentration1": scale, "concentration0": posv}, unit, D.Beta(scale, posv)
    low = real(B, W)
    high = low + pos(B, W)
    yield "Uniform", {"low": low, "high": high}, low + 0.3 * (high - low), D.Uniform(low, high)
    conc = pos(B, W)
    simplex = torch.softmax(real(B, W), -1)
    yield "Dirichlet", {"concentration": conc}, simplex, D.Dirichlet(conc)
    tril = torch.tril(real(B, W, W) * 0.3) + torch.diag_embed(pos(B, W))
    yield "MultivariateNormal", {"loc": loc, "scale_tril": tril}, real(B, W), D.MultivariateNormal(loc, scale_tril=tril)
    probs = torch.rand(B, W, generator=g) * 0.8 + 0.1
    bits = (torch.rand(B, W, generator=g) > 0.5).float()
    yield "Bernoulli", {"probs": probs}, bits, D.Bernoulli(probs)
    cprobs = torch.softmax(real(B, 7), -1)
    yield "Categorical", {"probs": cprobs}, torch.randint(0, 7, (B,), generator=g), D.Categorical(cprobs)


@pytest.mark.parametrize("name,params,value,ref", list(cases()), ids=lambda c: c if isinstance(c, str) else "")
def test_log_density_matches_torch(name, params, value, ref):
    spec = FAM.family(name)
    dist = FAM.make_distribution(spec, params)
    got = FAM.event_log_prob(spec, dist, value)
    want = ref.log_prob(value)
    if not spec.joint:
        want = want.sum(-1)
    assert got.shape == (B,)
    torch.testing.assert_close(got, want)


def test_truncated_normal_density_and_samples():
    loc, scale = real(B, W), pos(B, W)
    low, high = loc - 1.0, loc + 0.5
    spec = FAM.family("TruncatedNormal")
    dist = FAM.make_distribution(spec, {"loc": loc, "scale": scale, "low": low, "high": high})
    x = dist.rsample()
    assert ((x >= low) & (x <= high)).all()
    n = D.Normal(loc, scale)
    z = n.cdf(high) - n.cdf(low)
    want = (n.log_prob(x) - torch.log(z)).sum(-1)
    torch.testing.assert_close(FAM.event_log_prob(spec, dist, x), want)
    # outside the bounds the density is zero
    assert torch.isinf(dist.log_prob(high + 1.0)).all()


def test_all_seventeen_families_present():
    """P1's seventeen come first; part 2's families (tests/runtime/test_families_current.py)
    follow them."""
    assert list(FAM.FAMILIES)[:17] == [
        "Normal", "LogitNormal", "LogNormal", "Laplace", "Cauchy", "StudentT", "HalfNormal",
        "HalfCauchy", "Exponential", "Gamma", "Beta", "Uniform", "TruncatedNormal", "Dirichlet",
        "MultivariateNormal", "Bernoulli", "Categorical"]
    assert all(FAM.FAMILIES[n].kernel_params for n in list(FAM.FAMILIES)[:17])


def test_binding_positional_keyword_and_alternative_names():
    spec = FAM.family("LogitNormal")
    assert FAM.bind_arguments(spec, [1.0, 2.0]) == {"loc": 1.0, "scale": 2.0}
    assert FAM.bind_arguments(spec, [], {"mu": 1.0, "sigma": 2.0}) == {"loc": 1.0, "scale": 2.0}
    assert FAM.bind_arguments(spec, [1.0], {"sigma": 2.0}) == {"loc": 1.0, "scale": 2.0}
    with pytest.raises(QvrError, match="duplicate"):
        FAM.bind_arguments(spec, [1.0], {"mu": 2.0, "sigma": 1.0})
    with pytest.raises(QvrError, match="unknown"):
        FAM.bind_arguments(spec, [], {"rate": 1.0, "loc": 0.0})
    with pytest.raises(QvrError, match="missing"):
        FAM.bind_arguments(spec, [1.0])
    cat = FAM.family("Categorical")
    assert FAM.bind_arguments(cat, [], {"logits": 0.5}) == {"logits": 0.5}
    with pytest.raises(QvrError, match="exactly one"):
        FAM.bind_arguments(cat, [0.5], {"logits": 0.5})


def test_clamping_only_where_required():
    spec = FAM.family("Normal")
    out = FAM.clamp_arguments(spec, {"loc": torch.tensor([-5.0]), "scale": torch.tensor([0.0])})
    assert out["loc"].item() == -5.0 and out["scale"].item() == pytest.approx(1e-7)
    b = FAM.clamp_arguments(FAM.family("Bernoulli"), {"probs": torch.tensor([0.0, 1.0])})
    assert 0 < b["probs"][0] < 1e-6 and 1 - 1e-6 < b["probs"][1] < 1


@pytest.mark.parametrize("name,support", [
    ("Normal", constraints.real), ("LogitNormal", constraints.unit_interval),
    ("LogNormal", constraints.positive), ("HalfNormal", constraints.nonnegative),
    ("Exponential", constraints.nonnegative), ("Gamma", constraints.positive),
    ("Beta", constraints.unit_interval), ("Dirichlet", constraints.simplex),
    ("Bernoulli", constraints.boolean),
])
def test_supports(name, support):
    assert FAM.support_of(FAM.family(name), 3) is support


def test_categorical_support_is_index_interval():
    s = FAM.support_of(FAM.family("Categorical"), 7)
    assert s.lower_bound == 0 and s.upper_bound == 6


@pytest.mark.parametrize("name,expected", [
    ("Normal", 2 * W), ("LogitNormal", 2 * W), ("StudentT", 3 * W), ("HalfCauchy", W),
    ("Gamma", 2 * W), ("Uniform", 2 * W), ("TruncatedNormal", 2 * W), ("Dirichlet", W),
    ("MultivariateNormal", W + W * (W + 1) // 2),
])
def test_kernel_block_widths(name, expected):
    blocks = FAM.kernel_block_widths(FAM.family(name), W, fixed_scale=False)
    assert sum(w for _, w in blocks) == expected


def test_fixed_scale_removes_scale_block():
    blocks = FAM.kernel_block_widths(FAM.family("Normal"), W, fixed_scale=True)
    assert blocks == [("loc", W)]
    raw = torch.randn(B, W)
    params = FAM.kernel_parameters(FAM.family("Normal"), raw, W, scale=0.5)
    assert torch.equal(params["loc"], raw) and (params["scale"] == 0.5).all()


def test_kernel_transforms_softplus_and_uniform_high():
    raw = torch.randn(B, 2 * W)
    p = FAM.kernel_parameters(FAM.family("Normal"), raw, W, scale=None)
    torch.testing.assert_close(p["scale"], torch.nn.functional.softplus(raw[:, W:]) + 1e-5)
    u = FAM.kernel_parameters(FAM.family("Uniform"), raw, W, scale=None)
    assert (u["high"] > u["low"]).all()
    m = FAM.kernel_parameters(FAM.family("MultivariateNormal"), torch.randn(B, W + 6), W, scale=None)
    tril = m["scale_tril"]
    assert torch.equal(tril, torch.tril(tril)) and (torch.diagonal(tril, dim1=-2, dim2=-1) > 0).all()


@pytest.mark.parametrize("family", sorted({n for n, s in FAM.FAMILIES.items() if s.learned}
                                          - {"Categorical", "Bernoulli", "Dirichlet", "TruncatedNormal"}))
def test_learned_kernel_samples_and_scores_every_continuous_family(family):
    x = ObjType.real(4)
    cod = ObjType.real(W)
    k = Kernel(x, cod, family)
    inp = torch.randn(B, 4)
    y, lp = k.run(inp, None, "y")
    assert y.shape == (B, W) and lp.shape == (B,) and torch.isfinite(lp).all()
    # the kernel's density is the torch distribution of its parameters
    lp2 = FAM.event_log_prob(k.spec, k.distribution(inp), y)
    torch.testing.assert_close(lp, lp2)


def test_dirichlet_and_truncated_kernels():
    k = Kernel(ObjType.real(4), ObjType((__import__("qvr.semantics.types", fromlist=["Cont"]).Cont(3, simplex=True),)), "Dirichlet")
    y, lp = k.run(torch.randn(B, 4), None, "y")
    torch.testing.assert_close(y.sum(-1), torch.ones(B))
    t = Kernel(ObjType.real(4), ObjType.real(2, low=-1.0, high=2.0), "TruncatedNormal")
    y, lp = t.run(torch.randn(B, 4), None, "y")
    assert ((y >= -1) & (y <= 2)).all() and torch.isfinite(lp).all()
    assert sum(p.numel() for p in t.parameters()) == 4 * 4 + 4  # loc and scale blocks only


def test_categorical_kernel_over_finite_product_returns_one_column_per_leaf():
    cod = ObjType.product([ObjType.fin(3), ObjType.fin(4)])
    k = Kernel(ObjType.real(2), cod, "Categorical")
    assert k.linear.out_features == 12
    y, lp = k.run(torch.randn(B, 2), None, "y")
    assert y.shape == (B, 2) and y.dtype == torch.int64
    assert (y[:, 0] < 3).all() and (y[:, 1] < 4).all()
    # scoring the sampled columns gives the joint-index density
    logits = torch.log_softmax(k.raw(torch.zeros(B, 2)), -1)
    _, lp0 = k.run(torch.zeros(B, 2), None, "y", y)
    torch.testing.assert_close(lp0, logits.gather(-1, (y[:, 0] * 4 + y[:, 1]).unsqueeze(-1)).squeeze(-1))


def test_bernoulli_kernel_value_is_index():
    k = Kernel(ObjType.real(2), ObjType.fin(2), "Bernoulli")
    y, lp = k.run(torch.randn(B, 2), None, "y")
    assert y.shape == (B,) and y.dtype == torch.int64 and lp.shape == (B,)


def test_fixed_distribution_ignores_input_except_batch():
    f = FixedDistribution(ObjType.real(3), ObjType.real(2), "Normal", {"loc": [0.0, 1.0], "scale": 2.0})
    assert list(f.parameters()) == []
    y, lp = f.run(torch.randn(B, 3), None, "y")
    assert y.shape == (B, 2)
    want = D.Normal(torch.tensor([0.0, 1.0]), 2.0).log_prob(y).sum(-1)
    torch.testing.assert_close(lp, want)
    # lifted: a (B, T, 3) input gives (B, T, 2) values and (B,) densities
    y2, lp2 = f.run(torch.randn(B, 6, 3), None, "y")
    assert y2.shape == (B, 6, 2) and lp2.shape == (B,)
