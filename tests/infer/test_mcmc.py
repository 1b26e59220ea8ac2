"""HMC/NUTS against known posteriors and moments; diagnostics; determinism.

Budgets are small (CI runs on 2 cores); every tolerance is several Monte Carlo standard errors
wide (se = sd / sqrt(ESS)) yet far tighter than the error a wrong gradient sign, a missing
log-det-Jacobian or a wrong acceptance rule produces.
"""
from __future__ import annotations

import torch
import pytest

from infer_models import correlated_gaussian, finite_latent, normal_normal, normal_normal_posterior, positive_sites
from qvr.errors import NotSupportedError
from qvr.infer import MCMC, HMCKernel, NUTSKernel, bulk_ess, split_rhat

pytestmark = pytest.mark.slow


def test_nuts_matches_the_conjugate_normal_posterior():
    torch.manual_seed(0)
    model = normal_normal()
    y = torch.randn(3, 5) + torch.tensor([[0.0], [2.0], [-1.0]])
    mean, var = normal_normal_posterior(y)
    result = MCMC(NUTSKernel(), num_warmup=100, num_samples=300, seed=0).run(
        model, torch.zeros(3, 1), {"y": y})
    draws = result.samples["mu"]
    assert draws.shape == (1, 300, 3, 1)
    # posterior sd 0.44; ESS >= 150 gives se <= 0.036 for the mean, ~12% for the variance.
    assert torch.allclose(draws.mean((0, 1)).squeeze(-1), mean, atol=0.15)
    assert torch.allclose(draws.var((0, 1)).squeeze(-1), torch.full((3,), var), rtol=0.4)
    assert 0.5 < float(result.acceptance_rates[0]) <= 1.0
    assert int(result.divergence_counts.sum()) == 0
    assert result.log_densities.shape == (1, 300)


def test_nuts_on_a_correlated_gaussian_with_four_chains():
    model, loc, cov = correlated_gaussian(std=(1.0, 3.0), rho=0.8)
    result = MCMC(NUTSKernel(), num_warmup=100, num_samples=150, num_chains=4, seed=1).run(
        model, torch.zeros(1, 1))
    z = result.samples["z"].reshape(-1, 2)
    assert result.samples["z"].shape == (4, 150, 1, 2)
    assert float(result.r_hat["z"].max()) < 1.05
    ess = result.ess["z"]
    assert float(ess.min()) > 100
    se = cov.diagonal().sqrt() / ess.reshape(2).float().sqrt()
    assert bool(((z.mean(0) - loc).abs() < 4 * se).all())
    emp = torch.cov(z.T)
    assert emp[0, 0] == pytest.approx(1.0, rel=0.3) and emp[1, 1] == pytest.approx(9.0, rel=0.3)
    assert emp[0, 1] / (emp[0, 0] * emp[1, 1]).sqrt() == pytest.approx(0.8, abs=0.1)
    # The mass matrix adapted towards the posterior variances (1 and 9).
    inv_mass = torch.stack(result.inverse_mass).mean(0)
    assert inv_mass[1] / inv_mass[0] > 3


def test_hmc_on_the_correlated_gaussian():
    model, loc, cov = correlated_gaussian(std=(1.0, 2.0), rho=0.5)
    result = MCMC(HMCKernel(num_steps=5), num_warmup=150, num_samples=600, seed=2).run(model, torch.zeros(1, 1))
    z = result.samples["z"].reshape(-1, 2)
    assert torch.allclose(z.mean(0), loc, atol=0.35)
    assert torch.allclose(z.var(0), cov.diagonal(), rtol=0.35)
    assert 0.3 < float(result.acceptance_rates[0]) <= 1.0


@pytest.mark.parametrize("kernel", [NUTSKernel(), HMCKernel(num_steps=6)], ids=["nuts", "hmc"])
def test_positive_sites_stay_positive_and_jacobian_is_included(kernel):
    # tau ~ Gamma(2, 1) has no data: its draws must have mean 2 and variance 2. Without the
    # log-det-Jacobian the chain would sample Gamma(1, 1) (mean 1).
    torch.manual_seed(3)
    model = positive_sites()
    result = MCMC(kernel, num_warmup=80, num_samples=250, seed=3).run(
        model, torch.zeros(1, 1), {"y": torch.randn(1, 4)})
    for name in ("sigma", "tau"):
        assert bool((result.samples[name] > 0).all())
    tau = result.samples["tau"].reshape(-1)
    assert float(tau.mean()) == pytest.approx(2.0, abs=0.45)


def test_a_step_size_far_too_large_diverges():
    model, _, _ = correlated_gaussian()
    kernel = NUTSKernel(step_size=50.0, adapt_step_size=False, adapt_mass_matrix=False)
    result = MCMC(kernel, num_warmup=0, num_samples=20, seed=4).run(model, torch.zeros(1, 1))
    assert int(result.divergence_counts[0]) > 10
    assert float(result.acceptance_rates[0]) < 0.2


def test_same_seed_same_draws():
    model, _, _ = correlated_gaussian()
    a = MCMC(NUTSKernel(), num_warmup=20, num_samples=20, seed=5).run(model, torch.zeros(1, 1))
    b = MCMC(NUTSKernel(), num_warmup=20, num_samples=20, seed=5).run(model, torch.zeros(1, 1))
    assert torch.equal(a.samples["z"], b.samples["z"])


def test_one_chain_gives_nan_diagnostics_and_finite_latents_are_refused():
    model, _, _ = correlated_gaussian()
    result = MCMC(NUTSKernel(max_tree_depth=3), num_warmup=5, num_samples=10).run(model, torch.zeros(1, 1))
    assert bool(torch.isnan(result.r_hat["z"]).all()) and bool(torch.isnan(result.ess["z"]).all())
    with pytest.raises(NotSupportedError):
        MCMC(NUTSKernel(), 5, 5).run(finite_latent(), torch.zeros(1, 1))
    with pytest.raises(ValueError, match="y"):
        MCMC(NUTSKernel(), 5, 5).run(normal_normal(), torch.zeros(1, 1))


def test_rhat_and_ess_on_known_chains():
    torch.manual_seed(6)
    iid = torch.randn(4, 500, 3)
    assert float(split_rhat(iid).max()) < 1.01
    assert float(bulk_ess(iid).min()) == pytest.approx(2000, rel=0.15)
    shifted = iid + torch.tensor([0.0, 0.0, 0.0, 2.0]).reshape(4, 1, 1)   # one chain elsewhere
    assert float(split_rhat(shifted).min()) > 1.1
    # AR(1) with coefficient 0.9 has ESS/N = (1 - 0.9)/(1 + 0.9) ≈ 0.053.
    ar = torch.zeros(4, 2000)
    noise = torch.randn(4, 2000)
    for t in range(1, 2000):
        ar[:, t] = 0.9 * ar[:, t - 1] + noise[:, t]
    assert float(bulk_ess(ar)) == pytest.approx(8000 * 0.053, rel=0.35)
    trend = torch.linspace(0, 5, 400).expand(4, 400)          # a drifting chain: split R-hat
    assert float(split_rhat(trend + 0.1 * torch.randn(4, 400))) > 1.5
