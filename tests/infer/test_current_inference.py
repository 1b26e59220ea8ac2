"""Inference over plated programs (spec part 2 §6.8): AutoNormal with one parameter pair per
plate element, SVI and NUTS against conjugate posteriors, named inputs as data, the eight
schools, a row-plate language model fitted with SVI, and discrete latents refused."""
from pathlib import Path

import math

import pytest
import torch

import qvr
from qvr.errors import NotSupportedError
from qvr.infer import ELBO, MCMC, SVI, AutoNormalGuide, NUTSKernel

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "current"

NORMAL_MEAN = """
object Obs : FinSet 20
object V : Real 1

program mean_model : Obs -> V
    sample mu <- Normal(loc=0.0, scale=2.0)
    observe y : Obs <- Normal(loc=mu, scale=1.0)
    return mu

export mean_model
"""

BETA_BERNOULLI = """
object Arm : FinSet 3
object Trial : FinSet 60
object P : Real 1

program ab : Trial -> P
    sample p : Arm <- Beta(concentration1=1.0, concentration0=1.0)
    observe hit : Trial <- Bernoulli(probs=p[arm])
    let first = p[0]
    return first

export ab
"""

GAMMA_POISSON = """
object Region : FinSet 2
object Count : FinSet 40
object R : Real 1

program rates : Count -> R
    sample lam : Region <- Gamma(concentration=2.0, rate=1.0)
    observe n : Count <- Poisson(rate=lam[region])
    let first = lam[0]
    return first

export rates
"""


def _nuts(model, data, *, warmup, samples, chains=1, seed=0):
    kernel = NUTSKernel(max_tree_depth=5)
    return MCMC(kernel, num_warmup=warmup, num_samples=samples, num_chains=chains, seed=seed,
                chain_method="sequential").run(model, None, data)


def _close(draws, mean, sd, *, extra=0.0):
    """The posterior mean of the draws is within 5 Monte Carlo standard errors (ESS taken
    as a quarter of the draws, conservatively) of the exact one."""
    n = draws.numel()
    tol = 5 * sd / math.sqrt(max(n / 4, 1)) + extra
    assert abs(float(draws.mean()) - mean) < tol, (float(draws.mean()), mean, tol)


@pytest.fixture(scope="module")
def normal_data():
    torch.manual_seed(3)
    y = 1.5 + torch.randn(20)
    post_prec = 1 / 4 + 20
    return y, float(y.sum()) / post_prec, 1 / math.sqrt(post_prec)


def test_autonormal_has_one_parameter_pair_per_plate_element():
    model = qvr.load(EXAMPLES / "e01_schools.qvr").morphism
    guide = AutoNormalGuide(model)
    assert {n: tuple(guide.loc(n).shape) for n in guide.latent_names} == {
        "mu": (1,), "tau": (1,), "z": (8, 1)}
    z = guide.rsample(None)
    assert {n: tuple(v.shape) for n, v in z.items()} == {"mu": (1, 1), "tau": (1, 1), "z": (1, 8, 1)}
    assert bool((z["tau"] > 0).all())


@pytest.mark.slow
def test_svi_fits_a_normal_mean_over_a_plate(normal_data):
    y, mean, sd = normal_data
    torch.manual_seed(0)
    model = qvr.loads(NORMAL_MEAN).morphism
    guide = AutoNormalGuide(model)
    svi = SVI(model, guide, torch.optim.Adam(guide.parameters(), lr=0.02), ELBO())
    for _ in range(800):
        svi.step(None, {"y": y})
    assert abs(float(guide.loc("mu").detach()) - mean) < 0.06
    assert abs(float(guide.scale("mu").detach()) - sd) < 0.06


@pytest.mark.slow
def test_nuts_fits_a_normal_mean_over_a_plate(normal_data):
    y, mean, sd = normal_data
    model = qvr.loads(NORMAL_MEAN).morphism
    result = _nuts(model, {"y": y}, warmup=100, samples=300)
    draws = result.samples["mu"]
    assert tuple(draws.shape) == (1, 300, 1, 1)
    _close(draws, mean, sd)
    assert abs(float(draws.std()) - sd) < 0.35 * sd


@pytest.mark.slow
def test_nuts_beta_bernoulli_per_arm_matches_the_conjugate_posterior():
    torch.manual_seed(1)
    arm = torch.arange(60) % 3
    hit = (torch.rand(60) < torch.tensor([0.2, 0.5, 0.8])[arm]).long()
    model = qvr.loads(BETA_BERNOULLI).morphism
    result = _nuts(model, {"arm": arm, "hit": hit}, warmup=200, samples=600)
    draws = result.samples["p"]
    assert tuple(draws.shape) == (1, 600, 1, 3, 1)
    for a in range(3):
        s, n = int(hit[arm == a].sum()), int((arm == a).sum())
        post = torch.distributions.Beta(1.0 + s, 1.0 + n - s)
        _close(draws[..., a, 0], float(post.mean), float(post.stddev))


@pytest.mark.slow
def test_nuts_gamma_poisson_per_region_matches_the_conjugate_posterior():
    torch.manual_seed(2)
    region = torch.arange(40) % 2
    n = torch.poisson(torch.tensor([2.0, 7.0])[region])
    model = qvr.loads(GAMMA_POISSON).morphism
    result = _nuts(model, {"region": region, "n": n}, warmup=200, samples=600)
    draws = result.samples["lam"]
    for r in range(2):
        post = torch.distributions.Gamma(2.0 + float(n[region == r].sum()), 1.0 + float((region == r).sum()))
        _close(draws[..., r, 0], float(post.mean), float(post.stddev))


@pytest.mark.slow
def test_nuts_eight_schools_non_centred_posterior_means():
    model = qvr.load(EXAMPLES / "schools_noncentred.qvr").morphism
    data = {"se": torch.tensor([15.0, 10, 16, 11, 9, 11, 10, 18]),
            "estimate": torch.tensor([28.0, 8, -3, 7, -1, 1, 18, 12])}
    result = _nuts(model, data, warmup=300, samples=500, chains=2, seed=1)
    summary = result.summary()
    # reference posterior means (long runs of the same model): mu 4.4, tau 3.6; the tolerance
    # is 4 Monte Carlo standard errors from the run's own ESS plus the reference's rounding
    for name, ref in (("mu", 4.4), ("tau", 3.6)):
        s = summary[name]
        mcse = float(s["std"]) / math.sqrt(float(s["ess"]))
        assert abs(float(s["mean"]) - ref) < 4 * mcse + 0.1, (name, float(s["mean"]), mcse)


@pytest.mark.slow
def test_row_plate_lstm_lm_fits_with_svi():
    torch.manual_seed(0)
    model = qvr.load(EXAMPLES / "rows_lstm_lm.qvr").morphism
    x = torch.randint(0, 64, (16, 8))
    with torch.no_grad():
        target = model.trace(x).sites["next_token"].value
    guide = AutoNormalGuide(model)
    params = list(model.parameters()) + list(guide.parameters())
    svi = SVI(model, guide, torch.optim.Adam(params, lr=0.02))
    losses = [svi.step(x, {"next_token": target}) for _ in range(60)]
    assert sum(losses[-10:]) / 10 < sum(losses[:10]) / 10 - 1.0


DISCRETE = """
object Obs : FinSet 10
object K : FinSet 3
object V : Real 1

program m : Obs -> V
    sample c : Obs <- Categorical(probs=[0.2, 0.3, 0.5])
    observe y : Obs <- Normal(loc=c, scale=1.0)
    return y
"""


def test_a_discrete_latent_under_autonormal_suggests_marginalize():
    program = qvr.loads(DISCRETE + "\nexport m\n")
    with pytest.raises(NotSupportedError, match=r"latent site 'c' is finite.*`marginalize`"):
        AutoNormalGuide(program.morphism)


def test_autonormal_over_a_cholesky_factor_uses_its_unconstrained_shape():
    model = qvr.load(EXAMPLES / "e09_correlations.qvr").morphism
    guide = AutoNormalGuide(model)
    assert {n: tuple(guide.loc(n).shape) for n in guide.latent_names} == {
        "L": (3,), "sigma": (1,), "mu": (3,)}
    L = guide.rsample(None)["L"]
    assert tuple(L.shape) == (1, 3, 3)
    torch.testing.assert_close((L[0] @ L[0].T).diagonal(), torch.ones(3))


DRAWN_PER_ELEMENT = """
object Trial : FinSet 4
object R : Real 1

program inner(s) : R -> R
    sample a <- Normal(loc=s, scale=1.0)
    return a

program outer : Trial -> R
    sample b : Trial <- inner(0.0)
    observe y : Trial <- Normal(loc=b, scale=1.0)
    return b

export outer
"""


def test_autonormal_gives_a_program_drawn_over_a_plate_one_parameter_pair_per_element():
    # `b/a` is drawn once per element of Trial (with a plated argument `m` as well as with a
    # literal): its guide parameters and draws carry the step's plate
    plated = DRAWN_PER_ELEMENT.replace(
        "    sample b : Trial <- inner(0.0)\n",
        "    sample m : Trial <- Normal(loc=0.0, scale=1.0)\n    sample b : Trial <- inner(m)\n")
    for text in (DRAWN_PER_ELEMENT, plated):
        model = qvr.loads(text).morphism
        guide = AutoNormalGuide(model)
        assert tuple(guide.loc("b/a").shape) == (4, 1)
        z = guide.rsample(None)
        assert tuple(z["b/a"].shape) == (1, 4, 1)
        loss = ELBO()(model, guide, None, {"y": torch.zeros(4)})
        assert torch.isfinite(loss)


@pytest.mark.slow
def test_svi_fits_each_copy_of_a_program_drawn_over_a_plate():
    # a_j ~ N(0, 1), y_j ~ N(a_j, 1): the posterior of a_j is N(y_j / 2, 1/2), element by element
    torch.manual_seed(0)
    y = torch.tensor([2.0, -1.0, 0.5, 3.0])
    model = qvr.loads(DRAWN_PER_ELEMENT).morphism
    guide = AutoNormalGuide(model)
    optimizer = torch.optim.Adam(guide.parameters(), lr=0.05)
    svi = SVI(model, guide, optimizer, ELBO())
    for step in range(1500):
        if step == 1000:  # (smaller steps at the end: the estimate, not the noise)
            optimizer.param_groups[0]["lr"] = 0.005
        svi.step(None, {"y": y})
    torch.testing.assert_close(guide.loc("b/a").detach().reshape(4), y / 2, atol=0.1, rtol=0)
    torch.testing.assert_close(guide.scale("b/a").detach().reshape(4), torch.full((4,), 0.5 ** 0.5),
                               atol=0.1, rtol=0)


@pytest.mark.parametrize("form", ["(P,)", "(1, P, 1)", "(P, 1)"])
def test_particles_of_a_program_that_never_reads_its_input(form):
    # x is None (one row); four particles need four rows: the loss is the one of the same
    # particles on an explicit one-row input, whichever form of the observation (§6.7) is given
    model = qvr.loads(NORMAL_MEAN).morphism
    guide = AutoNormalGuide(model)
    y = torch.linspace(-1.0, 2.0, 20)
    given = {"(P,)": y, "(1, P, 1)": y.reshape(1, 20, 1), "(P, 1)": y.reshape(20, 1)}[form]
    ELBO(num_particles=4)(model, guide, model.placeholder_input(1, "cpu"), {"y": y.reshape(1, 20, 1)})
    torch.manual_seed(5)
    loss = ELBO(num_particles=4)(model, guide, None, {"y": given})
    torch.manual_seed(5)
    expected = ELBO(num_particles=4)(model, guide, model.placeholder_input(1, "cpu"),
                                     {"y": y.reshape(1, 20, 1)})
    torch.testing.assert_close(loss, expected)
