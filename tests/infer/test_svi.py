"""SVI, guides and ELBO against closed-form answers on small protocol models (infer_models)."""
from __future__ import annotations

import math

import pytest
import torch

from infer_models import (
    LatentRegression, Regression, finite_latent, normal_normal, normal_normal_posterior, positive_sites,
)
from qvr.errors import NotSupportedError
from qvr.infer import ELBO, SVI, AutoDeltaGuide, AutoNormalGuide, Predictive


def _fit(model, guide, x, obs, steps, lr, particles, extra_params=()):
    optim = torch.optim.Adam(list(guide.parameters()) + list(extra_params), lr=lr)
    # Decay the learning rate for the last third so the final iterate sits near the optimum
    # instead of jittering around it (Adam's noise floor is about lr).
    sched = torch.optim.lr_scheduler.MultiStepLR(optim, [2 * steps // 3], gamma=0.1)
    svi = SVI(model, guide, optim, ELBO(num_particles=particles))
    losses = []
    for _ in range(steps):
        losses.append(svi.step(x, obs))
        sched.step()
    return losses


@pytest.mark.slow
def test_svi_recovers_conjugate_normal_posterior_per_row():
    torch.manual_seed(0)
    model = normal_normal()
    y = torch.randn(3, 5) + torch.tensor([[0.0], [2.0], [-1.0]])
    x = torch.zeros(3, 1)
    mean, var = normal_normal_posterior(y)
    guide = AutoNormalGuide(model, example_input=x)   # one q per row
    _fit(model, guide, x, {"y": y}, steps=1200, lr=0.05, particles=32)
    # Mean-field Normal is exact here, so only optimisation noise remains: posterior sd is
    # 0.44; the tolerances are ~1/10 of it for the mean and 15% for the variance.
    assert torch.allclose(guide.loc("mu").detach().squeeze(-1), mean, atol=0.05)
    assert torch.allclose(guide.scale("mu").detach().squeeze(-1) ** 2, torch.full((3,), var), rtol=0.15)


@pytest.mark.slow
def test_normal_guide_jacobian_gives_the_kl_optimal_lognormal_for_a_gamma():
    # tau ~ Gamma(2, 1) with no data. The KL-optimal LogNormal(m, s) has exp(m + s²/2) = 2 and
    # s² = 1/2; without the log-det-Jacobian the optimum would be m = -1/2, s = 1 instead.
    torch.manual_seed(1)
    model = positive_sites()
    guide = AutoNormalGuide(model, observed_names={"y", "sigma"})  # sigma is observed too
    x = torch.zeros(1, 1)
    obs = {"y": torch.randn(1, 4), "sigma": torch.ones(1, 1)}
    _fit(model, guide, x, obs, steps=1200, lr=0.05, particles=64)
    assert guide.latent_names == ["tau"]
    assert guide.loc("tau").item() == pytest.approx(math.log(2) - 0.25, abs=0.06)
    assert guide.scale("tau").item() == pytest.approx(math.sqrt(0.5), abs=0.06)


def test_positive_sites_never_get_invalid_values():
    torch.manual_seed(2)
    model = positive_sites()
    guide = AutoNormalGuide(model, init_scale=3.0)  # wide, so the unconstrained draws go negative
    draws = guide.rsample(torch.zeros(2000, 1))
    for name in ("sigma", "tau"):
        assert draws[name].shape == (2000, 1)
        assert bool((draws[name] > 0).all())
        assert bool((draws[name] < 1).any())  # the unconstrained draw was negative: mapped, not clipped


def test_guide_parameters_exist_at_construction_and_broadcast_over_batch():
    model = normal_normal()
    guide = AutoNormalGuide(model)
    shapes = {n: tuple(p.shape) for n, p in guide.named_parameters()}
    assert shapes == {"locs.mu": (1,), "log_scales.mu": (1,)}
    assert guide.rsample(torch.zeros(7, 1))["mu"].shape == (7, 1)
    full = AutoNormalGuide(model, example_input=torch.zeros(4, 1))
    assert tuple(full.locs["mu"].shape) == (4, 1)


@pytest.mark.parametrize("guide_class", [AutoNormalGuide, AutoDeltaGuide])
def test_sites_named_like_module_attributes_get_guide_parameters(guide_class):
    # `parameters`, `forward` and `to` are names of torch's module attributes, and fine
    # site names
    import qvr

    model = qvr.loads("object R : Real 1\nprogram p : R -> R\n"
                      "    sample parameters <- Normal(loc=0.0, scale=1.0)\n"
                      "    sample forward <- Normal(loc=parameters, scale=1.0)\n"
                      "    sample to <- HalfNormal(scale=1.0)\n"
                      "    observe y <- Normal(loc=forward, scale=to)\n"
                      "    return y\nexport p\n", name="p.qvr").morphism
    guide = guide_class(model)
    draws = guide.rsample(torch.zeros(3, 1))
    assert {n: tuple(v.shape) for n, v in draws.items()} == {
        "parameters": (3, 1), "forward": (3, 1), "to": (3, 1)}
    svi = SVI(model, guide, torch.optim.Adam(guide.parameters(), lr=0.01), ELBO())
    assert math.isfinite(svi.step(torch.zeros(3, 1), {"y": torch.zeros(3, 1)}))


def test_guide_log_prob_matches_the_density_of_its_own_draws():
    torch.manual_seed(3)
    model = positive_sites()
    guide = AutoNormalGuide(model, init_scale=0.7)
    with torch.no_grad():
        guide.locs["tau"].fill_(0.3)
    x = torch.zeros(5, 1)
    z, log_q = guide.rsample_with_log_prob(x)
    assert torch.allclose(guide.log_prob(x, z), log_q, atol=1e-4)
    # Independent check for one site: tau = exp(u), u ~ N(0.3, 0.7²) is LogNormal(0.3, 0.7).
    lognormal = torch.distributions.LogNormal(0.3, 0.7).log_prob(z["tau"]).sum(-1)
    halfcauchy_part = log_q - lognormal
    sigma_q = torch.distributions.LogNormal(0.0, 0.7).log_prob(z["sigma"]).sum(-1)
    assert torch.allclose(halfcauchy_part, sigma_q, atol=1e-4)


def test_finite_latent_sites_are_not_supported():
    with pytest.raises(NotSupportedError, match="'k'"):
        AutoNormalGuide(finite_latent())
    with pytest.raises(NotSupportedError):
        AutoDeltaGuide(finite_latent())


def test_elbo_particles_are_vectorised_into_one_model_call():
    model = normal_normal()
    guide = AutoNormalGuide(model)
    calls = []
    original = model.log_joint

    def counting(x, values):
        calls.append(tuple(x.shape))
        return original(x, values)

    model.log_joint = counting
    loss = ELBO(num_particles=8).loss(model, guide, torch.zeros(3, 1), {"y": torch.zeros(3, 5)})
    assert calls == [(24, 1)]
    assert loss.shape == ()


def test_more_particles_reduce_the_variance_of_the_loss():
    torch.manual_seed(4)
    model = normal_normal()
    guide = AutoNormalGuide(model, init_scale=1.0)
    x, obs = torch.zeros(1, 1), {"y": torch.ones(1, 5)}

    def spread(k):
        with torch.no_grad():
            return torch.tensor([float(ELBO(k).loss(model, guide, x, obs)) for _ in range(200)]).var()

    assert spread(16) < spread(1) / 4  # ideally /16


def test_delta_guide_finds_the_posterior_mode():
    torch.manual_seed(5)
    model = normal_normal()
    y = torch.randn(1, 5) + 1.0
    guide = AutoDeltaGuide(model)
    _fit(model, guide, torch.zeros(1, 1), {"y": y}, steps=600, lr=0.05, particles=1)
    mean, _ = normal_normal_posterior(y)
    assert guide.rsample(torch.zeros(1, 1))["mu"].item() == pytest.approx(mean.item(), abs=1e-2)


def test_svi_learns_model_parameters_towards_the_truth():
    torch.manual_seed(6)
    truth = torch.tensor([[1.5, -2.0, 0.5]])
    x = torch.randn(200, 3)
    y = x @ truth.T + 0.3 + 0.5 * torch.randn(200, 1)
    model = Regression(dim=3)
    guide = AutoNormalGuide(model)  # no latents: the ELBO is the log-likelihood
    assert guide.latent_names == []
    losses = _fit(model, guide, x, {"y": y}, steps=300, lr=0.05, particles=1,
                  extra_params=model.parameters())
    assert losses[-1] < losses[0] - 1.0
    assert torch.allclose(model.linear.weight.detach(), truth, atol=0.15)
    assert model.linear.bias.item() == pytest.approx(0.3, abs=0.15)


def test_svi_with_local_latents_and_parameters():
    torch.manual_seed(7)
    x = torch.randn(64, 2)
    z = x @ torch.tensor([[2.0], [-1.0]]) + torch.randn(64, 1)
    y = z + 0.3 * torch.randn(64, 1)
    model = LatentRegression(dim=2)
    guide = AutoNormalGuide(model, example_input=x)
    losses = _fit(model, guide, x, {"y": y}, steps=400, lr=0.05, particles=4,
                  extra_params=model.parameters())
    assert sum(losses[-20:]) / 20 < sum(losses[:20]) / 20
    assert torch.allclose(model.linear.weight.detach(), torch.tensor([[2.0, -1.0]]), atol=0.4)


def test_evaluate_loss_takes_no_step():
    model = normal_normal()
    guide = AutoNormalGuide(model)
    optim = torch.optim.Adam(guide.parameters(), lr=0.1)
    svi = SVI(model, guide, optim, ELBO())
    before = [p.detach().clone() for p in guide.parameters()]
    value = svi.evaluate_loss(torch.zeros(2, 1), {"y": torch.zeros(2, 5)})
    assert math.isfinite(value)
    assert all(torch.equal(a, b) for a, b in zip(before, guide.parameters()))


def test_predictive_shapes_and_observation_handling():
    torch.manual_seed(8)
    model = normal_normal()
    guide = AutoNormalGuide(model)
    with torch.no_grad():
        guide.locs["mu"].fill_(10.0)
    x = torch.zeros(3, 1)
    out = Predictive(model, guide=guide, num_samples=50)(x)
    assert out["mu"].shape == (50, 3, 1) and out["y"].shape == (50, 3, 5)
    assert out["mu"].mean().item() == pytest.approx(10.0, abs=0.1)
    assert out["y"].mean().item() == pytest.approx(10.0, abs=0.3)   # resampled around mu
    given = torch.zeros(3, 5)
    fixed = Predictive(model, guide=guide, num_samples=4)(x, {"y": given})
    assert torch.equal(fixed["y"], given.expand(4, 3, 5))
    posterior = {"mu": torch.arange(6.0).reshape(6, 1, 1).expand(6, 3, 1)}
    from_draws = Predictive(model, posterior_samples=posterior)(x)
    assert from_draws["mu"].shape == (6, 3, 1)
    assert torch.equal(from_draws["mu"][:, 0, 0], torch.arange(6.0))
