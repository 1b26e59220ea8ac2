"""The families of spec part 2 §5.9 in torch (§6.2), tested on the family layer
(`qvr.compile.families`): log-densities against torch.distributions or against the closed
forms written out here in Python floats, on grids of values and parameters with edge cases
(rate 0, probabilities near 0 and 1, heavy tails, values outside the support); samples lie in
the support; reparameterised families pass gradients; tier-2 families refuse to build; inline
draws in a program score like torch."""
from __future__ import annotations

import math

import pytest
import torch
import torch.distributions as D

import qvr
from qvr.compile import families as FAM
from qvr.errors import NotSupportedError, QvrError

INF = float("inf")


def build(name, **params):
    """Bind, clamp and build the way inline draws do; parameters are float32 tensors."""
    spec = FAM.family(name)
    bound = FAM.bind_arguments(spec, keywords={k: torch.as_tensor(v, dtype=torch.float32)
                                               for k, v in params.items()})
    return spec, FAM.make_distribution(spec, FAM.clamp_arguments(spec, bound))


def log_prob(name, value, **params):
    """Per-coordinate log-densities of a width-w value (the event sum of every element
    is the same sum of these)."""
    spec, dist = build(name, **params)
    value = torch.as_tensor(value, dtype=torch.float32)
    return dist.log_prob(value)


def close(got, want, rel=1e-4, abs_=1e-5):
    want = torch.as_tensor(want, dtype=torch.float64)
    got = got.double()
    same_inf = torch.isinf(want) & (got == want)
    ok = same_inf | ((got - want).abs() <= abs_ + rel * want.abs())
    assert bool(ok.all()), f"got {got.tolist()}, want {want.tolist()}"


# ---------------------------------------------------- closed forms, in Python floats ----
def poisson_lpmf(k, lam):
    if k < 0 or k != int(k):
        return -INF
    if lam == 0:
        return 0.0 if k == 0 else -INF
    return k * math.log(lam) - lam - math.lgamma(k + 1)


def beta_binomial_pmf(k, n, a, b):
    """C(n, k) · B(k + a, n − k + b) / B(a, b), with the beta functions from lgamma."""
    if k < 0 or k > n or k != int(k):
        return 0.0
    def log_beta(x, y):
        return math.lgamma(x) + math.lgamma(y) - math.lgamma(x + y)
    return math.comb(int(n), int(k)) * math.exp(log_beta(k + a, n - k + b) - log_beta(a, b))


def zip_pmf(k, pi, lam):
    poisson = math.exp(poisson_lpmf(k, lam)) if k >= 0 and k == int(k) else 0.0
    return pi * (k == 0) + (1 - pi) * poisson


def hurdle_pmf(k, pi, lam):
    if k == 0:
        return pi
    if k < 0 or k != int(k):
        return 0.0
    return (1 - pi) * math.exp(poisson_lpmf(k, lam)) / (1 - math.exp(-lam))


def student_t_pdf(x, df, scale):
    z = x / scale
    return math.exp(math.lgamma((df + 1) / 2) - math.lgamma(df / 2)
                    - 0.5 * math.log(df * math.pi) - math.log(scale)
                    - (df + 1) / 2 * math.log1p(z * z / df))


def logistic_lpdf(x, loc, scale):
    z = (x - loc) / scale
    return -z - math.log(scale) - 2 * math.log1p(math.exp(-z)) if z > -30 else \
        z - math.log(scale) - 2 * math.log1p(math.exp(z))


def normal_lpdf(x, loc, scale):
    return -0.5 * ((x - loc) / scale) ** 2 - math.log(scale) - 0.5 * math.log(2 * math.pi)


def log_sum_exp(terms):
    top = max(terms)
    return top + math.log(sum(math.exp(t - top) for t in terms))


# ------------------------------------------------------------------ count families ----
def test_poisson_against_the_closed_form_with_rate_zero_a_point_mass():
    ks = [0.0, 1.0, 2.0, 7.0, 30.0]
    for rate in (0.0, 1e-4, 0.5, 3.0, 50.0):
        close(log_prob("Poisson", ks, rate=rate), [poisson_lpmf(k, rate) for k in ks])
    # a negative rate is clamped to 0 (part 2 §6.2), not an error
    close(log_prob("Poisson", [0.0, 1.0], rate=-2.0), [0.0, -INF])
    _, dist = build("Poisson", rate=[0.0] * 5)
    assert torch.equal(dist.sample(), torch.zeros(5))


def test_beta_binomial_against_the_closed_form():
    n = 10.0
    ks = [0.0, 1.0, 4.0, 9.0, 10.0]
    for a, b in ((1.0, 1.0), (0.3, 5.0), (20.0, 0.7), (1e-3, 1e-3)):
        want = [math.log(beta_binomial_pmf(k, n, a, b)) for k in ks]
        close(log_prob("BetaBinomial", ks, total_count=n, concentration1=a, concentration0=b),
              want)
        total = sum(beta_binomial_pmf(k, n, a, b) for k in range(11))
        assert abs(total - 1) < 1e-9
    # outside the support: more successes than trials, negative, fractional
    got = log_prob("BetaBinomial", [11.0, -1.0, 2.5], total_count=n, concentration1=2.0,
                   concentration0=2.0)
    assert got.tolist() == [-INF, -INF, -INF]


@pytest.mark.parametrize("pi", [1e-9, 0.3, 0.999999, 1.0])
@pytest.mark.parametrize("lam", [0.0, 0.2, 4.0])
def test_zero_inflated_poisson_against_the_closed_form(pi, lam):
    ks = [0.0, 1.0, 3.0, 12.0]
    # probabilities are clamped into [1e-7, 1 − 1e-7], a float32 number
    pi_c = torch.tensor(pi).clamp(1e-7, 1 - 1e-7).item()
    want = [math.log(p) if (p := zip_pmf(k, pi_c, lam)) > 0 else -INF for k in ks]
    close(log_prob("ZeroInflatedPoisson", ks, zero_prob=pi, rate=lam), want)


@pytest.mark.parametrize("pi", [1e-9, 0.3, 0.95])
@pytest.mark.parametrize("lam", [1e-3, 0.7, 6.0])
def test_hurdle_poisson_against_the_closed_form(pi, lam):
    ks = [0.0, 1.0, 2.0, 15.0]
    pi_c = torch.tensor(pi).clamp(1e-7, 1 - 1e-7).item()
    want = [math.log(hurdle_pmf(k, pi_c, lam)) if hurdle_pmf(k, pi_c, lam) > 0 else -INF
            for k in ks]
    close(log_prob("HurdlePoisson", ks, zero_prob=pi, rate=lam), want, rel=2e-4)
    assert abs(sum(hurdle_pmf(k, pi_c, lam) for k in range(200)) - 1) < 1e-9


@pytest.mark.parametrize("name,params,ref", [
    ("NegativeBinomial", {"total_count": 3.0, "probs": 0.4},
     lambda: D.NegativeBinomial(torch.tensor(3.0), probs=torch.tensor(0.4))),
    ("NegativeBinomial", {"total_count": 3.0, "logits": -2.0},
     lambda: D.NegativeBinomial(torch.tensor(3.0), logits=torch.tensor(-2.0))),
    ("Geometric", {"probs": 0.25}, lambda: D.Geometric(probs=torch.tensor(0.25))),
    ("Geometric", {"probs": 1.0}, lambda: D.Geometric(probs=torch.tensor(1 - 1e-7))),
    ("Binomial", {"total_count": 8.0, "logits": 0.3},
     lambda: D.Binomial(torch.tensor(8.0), logits=torch.tensor(0.3))),
    ("Binomial", {"total_count": 8.0, "probs": 0.0},
     lambda: D.Binomial(torch.tensor(8.0), probs=torch.tensor(1e-7))),
])
def test_torch_count_families(name, params, ref):
    ks = torch.tensor([0.0, 1.0, 3.0, 8.0])
    close(log_prob(name, ks, **params), ref().log_prob(ks))


@pytest.mark.parametrize("name,params,upper", [
    ("Poisson", {"rate": 3.0}, None),
    ("NegativeBinomial", {"total_count": 2.0, "probs": 0.5}, None),
    ("Geometric", {"logits": 0.0}, None),
    ("Binomial", {"total_count": 6.0, "probs": 0.5}, 6),
    ("BetaBinomial", {"total_count": 6.0, "concentration1": 0.5, "concentration0": 0.5}, 6),
    ("ZeroInflatedPoisson", {"zero_prob": 0.4, "rate": 2.0}, None),
    ("HurdlePoisson", {"zero_prob": 0.4, "rate": 0.05}, None),
    ("HurdlePoisson", {"zero_prob": 0.4, "rate": 30.0}, None),
])
def test_count_samples_are_counts(name, params, upper):
    spec, dist = build(name, **{k: [v] * 2000 for k, v in params.items()})
    x = FAM.draw(spec, dist)
    assert x.dtype == torch.float32 and x.shape == (2000,)
    assert bool((x >= 0).all()) and bool((x == x.floor()).all())
    if upper is not None:
        assert bool((x <= upper).all())
    assert FAM.support_of(spec, 1).check(x).all()


@pytest.mark.parametrize("name, extra", [
    ("Poisson", {}), ("ZeroInflatedPoisson", {"zero_prob": 0.0}), ("HurdlePoisson", {"zero_prob": 0.0}),
])
def test_poisson_draws_stay_counts_beyond_the_int64_range(name, extra):
    # torch.poisson's int64 counts overflow near 9.2e18 (to -2**63); from 1e18 on the draw is
    # N(rate, rate) rounded, and an infinite rate gives an infinite count
    torch.manual_seed(0)
    rates = [3.0, 1e17, 1e19, 1e30, math.inf]
    spec, dist = build(name, rate=[r for r in rates for _ in range(500)],
                       **{k: [v] * 500 * len(rates) for k, v in extra.items()})
    x = FAM.draw(spec, dist).reshape(len(rates), 500).double()
    assert bool((x >= 0).all()) and bool((x == x.floor()).all())
    assert abs(x[0].mean().item() - 3.0) < 0.3  # small rates: torch's exact sampler, as before
    for row, rate in zip(x[1:4], rates[1:4]):
        assert bool(((row - rate).abs() <= 1e-6 * rate).all())
    assert bool(torch.isinf(x[4]).all())


def test_hurdle_and_zero_inflated_samples_have_their_zero_mass():
    torch.manual_seed(0)
    n = 20000
    _, zip_ = build("ZeroInflatedPoisson", zero_prob=[0.3] * n, rate=[2.0] * n)
    zeros = (zip_.sample() == 0).float().mean().item()
    assert abs(zeros - zip_pmf(0, 0.3, 2.0)) < 0.02
    spec, hurdle = build("HurdlePoisson", zero_prob=[0.3] * n, rate=[0.05] * n)
    x = hurdle.sample()
    assert abs((x == 0).float().mean().item() - 0.3) < 0.02
    # the non-zero part is zero-truncated Poisson(0.05): almost all ones
    ones = (x == 1).float().sum() / (x > 0).float().sum()
    assert abs(ones.item() - hurdle_pmf(1, 0.3, 0.05) / 0.7) < 0.02


# ------------------------------------------------------------- continuous families ----
def test_half_student_t_against_the_closed_form_and_heavy_tails():
    xs = [0.0, 0.5, 3.0, 1e3, 1e6]
    for df, scale in ((0.5, 1.0), (3.0, 2.0), (30.0, 0.1)):
        want = [math.log(2 * student_t_pdf(x, df, scale)) if student_t_pdf(x, df, scale) > 0
                else -INF for x in xs]
        close(log_prob("HalfStudentT", xs, df=df, scale=scale), want, rel=2e-4)
    assert log_prob("HalfStudentT", [-1e-3], df=3.0, scale=1.0).tolist() == [-INF]


def test_logistic_against_the_closed_form_in_the_tails():
    xs = [-200.0, -20.0, 0.0, 1.5, 25.0, 200.0]
    for loc, scale in ((0.0, 1.0), (3.0, 0.2), (-1.0, 10.0)):
        close(log_prob("Logistic", xs, loc=loc, scale=scale),
              [logistic_lpdf(x, loc, scale) for x in xs])


def test_mixture_normal_against_the_closed_form():
    weights, loc, scale = [1.0, 3.0, 0.0], [-2.0, 1.0, 5.0], [0.5, 1.0, 2.0]
    spec, dist = build("MixtureNormal", weights=[weights], loc=[loc], scale=[scale])
    xs = torch.tensor([[-2.0], [0.0], [1.0], [40.0]])
    total = sum(weights)
    want = [log_sum_exp([math.log(w / total) + normal_lpdf(x, m, s)
                         for w, m, s in zip(weights, loc, scale) if w > 0])
            for x in xs[:, 0].tolist()]
    close(FAM.event_log_prob(spec, dist.expand((4,)), xs), want, rel=1e-3)
    x = FAM.draw(spec, dist)
    assert x.shape == (1, 1)  # one value from three components



MIXED = """object Component : FinSet 3
object Resp : FinSet 5
object Weights : Real 3
program p : Resp -> Weights
    sample probs <- Dirichlet(concentration=1.0) [over=Component]
    sample mu : Component <- Normal(loc=0.0, scale=5.0)
    sample sigma : Component <- HalfNormal(scale=1.0)
    observe r : Resp <- MixtureNormal(weights=1.0, loc=mu, scale=sigma)
    return probs
export p
"""


def test_mixture_weights_of_width_one_broadcast_over_the_components():
    # `weights=1.0` is one weight for every component: the mixture has the three components
    # `loc` and `scale` take from `Component`, equally weighted
    program = qvr.loads(MIXED, name="mixed.qvr")
    assert [d.code for d in program.diagnostics] == []
    model = program.morphism
    torch.manual_seed(3)
    trace = model.trace(None)
    mu = trace.sites["mu"].value.reshape(3).tolist()
    sigma = trace.sites["sigma"].value.reshape(3).tolist()
    r = trace.sites["r"].value
    assert r.shape == (1, 5, 1)
    want = sum(log_sum_exp([math.log(1 / 3) + normal_lpdf(x, m, s) for m, s in zip(mu, sigma)])
               for x in r.reshape(5).tolist())
    close(trace.sites["r"].log_prob, [want], rel=1e-4)


@pytest.mark.parametrize("name,params,values,ref", [
    ("Gumbel", {"loc": 1.0, "scale": 2.0}, [-30.0, 0.0, 1.0, 40.0],
     lambda: D.Gumbel(torch.tensor(1.0), torch.tensor(2.0))),
    ("Chi2", {"df": 3.0}, [1e-4, 1.0, 80.0], lambda: D.Chi2(torch.tensor(3.0))),
    ("InverseGamma", {"concentration": 2.0, "rate": 0.5}, [1e-2, 1.0, 1e4],
     lambda: D.InverseGamma(torch.tensor(2.0), torch.tensor(0.5))),
    ("Weibull", {"scale": 2.0, "concentration": 0.5}, [1e-3, 1.0, 50.0],
     lambda: D.Weibull(torch.tensor(2.0), torch.tensor(0.5))),
    ("Pareto", {"scale": 1.5, "alpha": 0.8}, [1.5, 3.0, 1e5],
     lambda: D.Pareto(torch.tensor(1.5), torch.tensor(0.8))),
    ("Kumaraswamy", {"concentration1": 0.5, "concentration0": 3.0}, [0.01, 0.5, 0.99],
     lambda: D.Kumaraswamy(torch.tensor(0.5), torch.tensor(3.0))),
    ("ContinuousBernoulli", {"probs": 1.0}, [0.0, 0.5, 1.0],
     lambda: D.ContinuousBernoulli(probs=torch.tensor(1 - 1e-7))),
    ("ContinuousBernoulli", {"logits": -3.0}, [0.1, 0.9],
     lambda: D.ContinuousBernoulli(logits=torch.tensor(-3.0))),
    ("RelaxedBernoulli", {"temperature": 0.3, "probs": 0.2}, [0.05, 0.5, 0.95],
     lambda: D.RelaxedBernoulli(torch.tensor(0.3), probs=torch.tensor(0.2))),
    ("FisherSnedecor", {"df1": 2.0, "df2": 1.0}, [1e-3, 1.0, 1e4],
     lambda: D.FisherSnedecor(torch.tensor(2.0), torch.tensor(1.0))),
    ("VonMises", {"loc": 0.5, "concentration": 4.0}, [-3.0, 0.5, 3.0],
     lambda: D.VonMises(torch.tensor(0.5), torch.tensor(4.0))),
])
def test_torch_continuous_families(name, params, values, ref):
    xs = torch.tensor(values)
    close(log_prob(name, xs, **params), ref().log_prob(xs))


def test_pareto_below_its_scale_has_no_density():
    assert log_prob("Pareto", [0.5], scale=1.0, alpha=2.0).tolist() == [-INF]
    spec = FAM.family("Pareto")
    support = FAM.support_of(spec, 1, low=torch.tensor(1.0))
    assert support.check(torch.tensor([1.5])).all() and not support.check(torch.tensor([0.5])).any()


def test_relaxed_one_hot_categorical_per_row_temperature():
    probs = torch.tensor([[0.2, 0.3, 0.5], [0.7, 0.2, 0.1]])
    temperature = torch.tensor([[0.5], [2.0]])
    spec, dist = build("RelaxedOneHotCategorical", temperature=temperature, probs=probs)
    y = torch.tensor([[0.1, 0.1, 0.8], [0.3, 0.3, 0.4]])
    want = [D.RelaxedOneHotCategorical(temperature[i, 0], probs=probs[i]).log_prob(y[i])
            for i in range(2)]
    close(FAM.event_log_prob(spec, dist, y), torch.stack(want))
    x = FAM.draw(spec, dist)
    assert x.shape == (2, 3) and torch.allclose(x.sum(-1), torch.ones(2))


def test_lkj_cholesky_takes_its_side():
    spec = FAM.family("LKJCholesky")
    with pytest.raises(QvrError, match="side"):
        FAM.make_distribution(spec, {"concentration": torch.tensor([[2.0]])})
    dist = FAM.make_distribution(spec, {"concentration": torch.tensor([[2.0], [0.5]])}, size=3)
    L = FAM.draw(spec, dist)
    assert L.shape == (2, 3, 3)
    assert FAM.support_of(spec, 3).check(L).all()
    close(FAM.event_log_prob(spec, dist, L),
          D.LKJCholesky(3, torch.tensor([2.0, 0.5])).log_prob(L))


def test_inline_multivariate_normal_takes_any_matrix_argument():
    cov = torch.tensor([[2.0, 0.3], [0.3, 1.0]])
    x = torch.tensor([0.5, -1.0])
    ref = D.MultivariateNormal(torch.zeros(2), covariance_matrix=cov).log_prob(x)
    for key, matrix in (("covariance_matrix", cov), ("precision_matrix", torch.inverse(cov)),
                        ("scale_tril", torch.linalg.cholesky(cov))):
        spec, dist = build("MultivariateNormal", loc=[0.0, 0.0], **{key: matrix})
        close(FAM.event_log_prob(spec, dist, x), ref)


# ----------------------------------------------------------------------- sampling ----
SAMPLED = [
    ("Gumbel", {"loc": 0.0, "scale": 1.0}),
    ("Logistic", {"loc": 0.0, "scale": 1.0}),
    ("HalfStudentT", {"df": 1.0, "scale": 1.0}),
    ("Chi2", {"df": 2.0}),
    ("InverseGamma", {"concentration": 3.0, "rate": 1.0}),
    ("Weibull", {"scale": 1.0, "concentration": 2.0}),
    ("Pareto", {"scale": 2.0, "alpha": 3.0}),
    ("Kumaraswamy", {"concentration1": 2.0, "concentration0": 2.0}),
    ("ContinuousBernoulli", {"probs": 0.3}),
    ("RelaxedBernoulli", {"temperature": 0.5, "logits": 1.0}),
    ("FisherSnedecor", {"df1": 3.0, "df2": 4.0}),
    ("VonMises", {"loc": 0.0, "concentration": 2.0}),
]


@pytest.mark.parametrize("name,params", SAMPLED, ids=[s[0] for s in SAMPLED])
def test_samples_lie_in_the_support_and_reparameterise_when_the_family_does(name, params):
    leaves = {k: torch.full((500,), v, requires_grad=True) for k, v in params.items()}
    spec = FAM.family(name)
    dist = FAM.make_distribution(spec, FAM.clamp_arguments(spec, dict(leaves)))
    x = FAM.draw(spec, dist)
    low = leaves["scale"].detach() if name == "Pareto" else None
    assert FAM.support_of(spec, 1, low=low).check(x.detach()).all()
    assert bool(torch.isfinite(dist.log_prob(x.detach())).all())
    assert x.requires_grad == spec.reparameterised == (name != "VonMises")
    if spec.reparameterised:
        x.sum().backward()
        assert any(leaf.grad is not None and bool(leaf.grad.abs().sum() > 0)
                   for leaf in leaves.values())


# ------------------------------------------------------- binding, clamping, tiers ----
def test_binding_takes_exactly_one_alternative():
    spec = FAM.family("NegativeBinomial")
    assert set(FAM.bind_arguments(spec, (1.0, 0.5))) == {"total_count", "probs"}
    assert set(FAM.bind_arguments(spec, keywords={"total_count": 1.0, "logits": 0.0})) == \
        {"total_count", "logits"}
    with pytest.raises(QvrError, match="exactly one of `probs`/`logits`"):
        FAM.bind_arguments(spec, keywords={"total_count": 1.0})
    with pytest.raises(QvrError, match="exactly one of `probs`/`logits`"):
        FAM.bind_arguments(spec, keywords={"total_count": 1.0, "probs": 0.5, "logits": 0.0})
    with pytest.raises(QvrError, match="cannot be a learned kernel"):
        FAM.kernel_block_widths(spec, 2, fixed_scale=False)
    ordered = FAM.family("OrderedLogistic")
    assert set(FAM.bind_arguments(ordered, keywords={"eta": 0.0, "cutpoints": 1.0})) == \
        {"predictor", "cutpoints"}


def test_clamping():
    clamp = FAM.clamp_arguments
    t = torch.tensor
    assert clamp(FAM.family("Poisson"), {"rate": t([-1.0, 0.0])})["rate"].tolist() == [0.0, 0.0]
    got = clamp(FAM.family("ZeroInflatedPoisson"), {"zero_prob": t([0.0, 1.0]), "rate": t([-1.0])})
    close(got["zero_prob"], [1e-7, 1 - 1e-7], rel=0, abs_=1e-7)
    assert got["rate"].tolist() == [0.0]
    got = clamp(FAM.family("BetaBinomial"), {"total_count": t([-2.0]), "concentration1": t([0.0]),
                                             "concentration0": t([-1.0])})
    assert got["total_count"].tolist() == [0.0]
    close(got["concentration1"], [1e-7], rel=1e-3)
    got = clamp(FAM.family("MixtureNormal"), {"weights": t([0.0, 2.0]), "loc": t([-5.0]),
                                              "scale": t([0.0])})
    assert got["weights"].tolist() == [0.0, 2.0] and got["loc"].tolist() == [-5.0]
    close(got["scale"], [1e-7], rel=1e-3)


def test_tier2_families_bind_but_do_not_build():
    for name in ("OneHotCategorical", "OrderedLogistic", "Wishart", "GP", "Mixture",
                 "Truncated", "Independent"):
        spec = FAM.family(name)
        assert spec.tier == 2
        with pytest.raises(NotSupportedError, match=f"`{name}` is checked but not run"):
            FAM.make_distribution(spec, {})
        with pytest.raises(NotSupportedError):
            FAM.support_of(spec, 1)


def test_every_tier1_family_builds_and_scores_its_own_draw():
    """One width-2 (or vector) draw of every tier-1 family, scored to shape (B,)."""
    B = 3
    full = lambda v, w=2: torch.full((B, w), float(v))  # noqa: E731
    params = {
        "Poisson": {"rate": full(2)}, "NegativeBinomial": {"total_count": full(3), "probs": full(.5)},
        "Geometric": {"probs": full(.5)}, "Binomial": {"total_count": full(4), "probs": full(.5)},
        "BetaBinomial": {"total_count": full(4), "concentration1": full(1), "concentration0": full(2)},
        "ZeroInflatedPoisson": {"zero_prob": full(.2), "rate": full(1)},
        "HurdlePoisson": {"zero_prob": full(.2), "rate": full(1)},
        "RelaxedOneHotCategorical": {"temperature": full(.5, 1), "logits": full(0, 4)},
        "MixtureNormal": {"weights": full(1, 3), "loc": full(0, 3), "scale": full(1, 3)},
        "LKJCholesky": {"concentration": full(1, 1)},
        **{name: dict(p) for name, p in SAMPLED},
    }
    tier1 = [n for n, s in FAM.FAMILIES.items() if s.tier == 1 and n not in (
        "Normal", "LogitNormal", "LogNormal", "Laplace", "Cauchy", "StudentT", "HalfNormal",
        "HalfCauchy", "Exponential", "Gamma", "Beta", "Uniform", "TruncatedNormal",
        "Dirichlet", "MultivariateNormal", "Bernoulli", "Categorical")]
    assert set(tier1) == set(params)
    for name in tier1:
        spec = FAM.family(name)
        p = {k: (v if torch.is_tensor(v) else full(v)) for k, v in params[name].items()}
        dist = FAM.make_distribution(spec, FAM.clamp_arguments(spec, p), size=2)
        x = FAM.draw(spec, dist)
        lp = FAM.event_log_prob(spec, dist, x)
        assert lp.shape == (B,) and bool(torch.isfinite(lp).all()), name


# ------------------------------------------------------- inline draws in a program ----
INLINE = [
    ("Poisson(rate=a)", lambda a: D.Poisson(a)),
    ("NegativeBinomial(total_count=3.0, logits=a)",
     lambda a: D.NegativeBinomial(torch.tensor(3.0), logits=a)),
    ("Gumbel(loc=a, scale=1.0)", lambda a: D.Gumbel(a, torch.tensor(1.0))),
    ("Weibull(a, 2.0)", lambda a: D.Weibull(a, torch.tensor(2.0))),
    ("Kumaraswamy(concentration1=a, concentration0=a)", lambda a: D.Kumaraswamy(a, a)),
    ("VonMises(loc=a, concentration=2.0)", lambda a: D.VonMises(a, torch.tensor(2.0))),
]
PROGRAM = """
object A : Real 2
program p(a) : A -> A
    sample v <- {call}
    return a
export p
"""


@pytest.mark.parametrize("call,ref", INLINE, ids=[c for c, _ in INLINE])
def test_inline_draw_in_a_program_scores_like_torch(call, ref):
    torch.manual_seed(0)
    model = qvr.loads(PROGRAM.replace("{call}", call), name="i.qvr").morphism
    a = torch.rand(6, 2) * 0.8 + 0.6
    site = model.trace(a).sites["v"]
    assert site.value.shape == (6, 2)
    close(site.log_prob, ref(a).log_prob(site.value).sum(-1))


@pytest.mark.parametrize("name", ["Binomial", "BetaBinomial", "NegativeBinomial"])
def test_a_total_count_is_clamped_to_a_whole_number(name):
    # an inline total_count computed in arithmetic or simulated as real data (N(0, 1)) may be
    # negative or fractional; the families take the nearest whole count, at least 0
    other = {"Binomial": {"probs": 0.3}, "BetaBinomial": {"concentration1": 2.0,
                                                           "concentration0": 3.0},
             "NegativeBinomial": {"probs": 0.4}}[name]
    spec = FAM.family(name)
    bound = FAM.bind_arguments(spec, keywords={
        "total_count": torch.tensor([-0.7, 2.4, 3.6]),
        **{k: torch.tensor(v) for k, v in other.items()}})
    clamped = FAM.clamp_arguments(spec, bound)
    assert clamped["total_count"].tolist() == [0.0, 2.0, 4.0]
    draws = FAM.make_distribution(spec, clamped).sample((50,))
    assert bool((draws >= 0).all()) and bool((draws == draws.round()).all())


@pytest.mark.parametrize("name, params", [
    ("StudentT", {"df": [math.nan, 3.0], "loc": [0.0, 0.0], "scale": [1.0, 1.0]}),
    ("HalfStudentT", {"df": [math.nan, 3.0], "scale": [1.0, 1.0]}),
    ("FisherSnedecor", {"df1": [math.nan, 3.0], "df2": [1.0, 1.0]}),
])
def test_a_nan_degree_of_freedom_gives_a_nan_draw_not_an_exception(name, params):
    # as for every other family (a diverging model's draws are counted, not fatal); torch
    # makes these families' inner Chi2/Gamma validating by default
    dist = FAM.make_distribution(FAM.family(name), {k: torch.tensor(v) for k, v in params.items()})
    x = FAM.draw(FAM.family(name), dist)
    assert math.isnan(float(x.reshape(-1)[0])) and math.isfinite(float(x.reshape(-1)[1]))
    assert torch.distributions.Distribution._validate_args  # torch's default is left as it was
