"""bayesian_lift_parameters (exact lifted density, shapes, errors) and seed 002 end to end."""
from __future__ import annotations

import math
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from infer_models import LatentRegression, Regression
from qvr.infer import MCMC, NUTSKernel, Predictive, bayesian_lift_parameters

ROOT = Path(__file__).parents[2]
SEED_002 = ROOT / "examples" / "seed_002_vanilla_rnn_lm.qvr"


def _normal_lp(t, s):
    return (-0.5 * (t / s) ** 2 - math.log(s) - 0.5 * math.log(2 * math.pi)).sum()


def test_lifted_density_is_prior_plus_model_joint_with_substituted_weights():
    torch.manual_seed(0)
    model = LatentRegression(dim=2)
    x = torch.randn(5, 2)
    obs = {"y": torch.randn(5, 1)}
    lifted, lx, lobs = bayesian_lift_parameters(model, x, obs, prior_scale=2.0)
    assert lx.shape == (1, 1) and lobs == {}
    names = [s.name for s in lifted.site_specs()]
    assert names == ["theta/linear.weight", "theta/linear.bias", "z"]   # z lifted automatically
    theta_w, theta_b, z = torch.randn(1, 1, 2), torch.randn(1, 1), torch.randn(1, 5, 1)
    got = lifted.log_joint(lx, {"theta/linear.weight": theta_w, "theta/linear.bias": theta_b, "z": z})
    assert got.shape == (1,)
    with torch.no_grad():
        original = (model.linear.weight.clone(), model.linear.bias.clone())
        model.linear.weight.copy_(theta_w[0])
        model.linear.bias.copy_(theta_b[0])
        inner = model.log_joint(x, {**obs, "z": z[0]}).sum()
        model.linear.weight.copy_(original[0])
        model.linear.bias.copy_(original[1])
    expected = _normal_lp(theta_w, 2.0) + _normal_lp(theta_b, 2.0) + inner
    assert float(got) == pytest.approx(float(expected), rel=1e-5)
    # The model's own weights are untouched and not parameters of the lifted model.
    assert torch.equal(model.linear.weight, original[0]) and list(lifted.named_parameters()) == []
    trace = lifted.trace(lx, values={"theta/linear.weight": theta_w, "theta/linear.bias": theta_b, "z": z})
    assert float(trace.log_joint) == pytest.approx(float(expected), rel=1e-5)


def test_unknown_additional_latents_raise_value_error():
    model = LatentRegression()
    with pytest.raises(ValueError, match="'y'"):
        bayesian_lift_parameters(model, torch.randn(3, 2), {"y": torch.zeros(3, 1)},
                                 additional_latents={"y": (3, 1)})
    with pytest.raises(ValueError, match="nope"):
        bayesian_lift_parameters(model, torch.randn(3, 2), {"y": torch.zeros(3, 1)},
                                 additional_latents={"nope": (3, 1)})


@pytest.mark.slow
def test_nuts_on_lifted_linear_regression_matches_the_closed_form_posterior():
    # y = X w + b + N(0, 0.5²), prior N(0, 1) on (w, b): a Gaussian posterior in closed form.
    torch.manual_seed(1)
    X = torch.randn(40, 2)
    y = X @ torch.tensor([[1.0], [-0.5]]) + 0.2 + 0.5 * torch.randn(40, 1)
    model = Regression(dim=2)
    lifted, lx, lobs = bayesian_lift_parameters(model, X, {"y": y})
    result = MCMC(NUTSKernel(), num_warmup=100, num_samples=200, seed=1).run(lifted, lx, lobs)
    A = torch.cat([X, torch.ones(40, 1)], 1).double()
    precision = A.T @ A / 0.25 + torch.eye(3, dtype=torch.float64)
    cov = torch.linalg.inv(precision)
    mean = cov @ A.T @ y.double() / 0.25
    draws = torch.cat([result.samples["theta/linear.weight"].reshape(-1, 2),
                       result.samples["theta/linear.bias"].reshape(-1, 1)], 1).double()
    sd = cov.diagonal().sqrt()
    # ESS >= ~100 per coordinate: se <= sd/10; allow 4 se.
    assert bool(((draws.mean(0) - mean.squeeze(1)).abs() < 0.4 * sd).all())
    assert torch.allclose(draws.std(0), sd, rtol=0.35)


def test_predictive_from_mcmc_posterior_samples():
    torch.manual_seed(2)
    model = LatentRegression()
    x = torch.randn(3, 2)
    result = MCMC(NUTSKernel(max_tree_depth=4), num_warmup=10, num_samples=15, num_chains=2, seed=2).run(
        model, x, {"y": torch.zeros(3, 1)})
    out = Predictive(model, posterior_samples=result)(x)
    assert out["z"].shape == (30, 3, 1) and out["y"].shape == (30, 3, 1)
    assert torch.equal(out["z"], result.samples["z"].reshape(30, 3, 1))


@pytest.fixture(scope="module")
def seed002():
    import qvr

    torch.manual_seed(0)
    model = qvr.load(SEED_002).morphism
    for _, p in model.named_parameters():
        p.data.copy_(torch.randn_like(p) * 0.3)
    prompts = torch.randint(0, 256, (3, 5))
    return model, prompts, {"next_token": model.rsample(prompts)}


def test_seed002_lifting_shapes(seed002):
    model, prompts, obs = seed002
    h_shape = tuple(model._step_h.rsample(prompts).shape)
    lifted, lx, lobs = bayesian_lift_parameters(model, prompts, obs, additional_latents={"h": h_shape})
    specs = {s.name: s for s in lifted.site_specs()}
    assert specs["h"].event_shape == (3, 128) and specs["h/scan"].event_shape == (3, 4, 128)
    n_theta = sum(p.numel() for n, p in model.named_parameters())
    assert n_theta == 74_112
    assert sum(math.prod(s.event_shape) for n, s in specs.items() if n.startswith("theta/")) == n_theta
    values = lifted.initial_values(lx)
    with torch.no_grad():
        got = float(lifted.log_joint(lx, values)[0])
        expected = (sum(_normal_lp(p, 1.0) for _, p in model.named_parameters())
                    + model.log_joint(prompts, {**obs, "h": values["h"][0], "h/scan": values["h/scan"][0]}).sum())
    assert got == pytest.approx(float(expected), rel=1e-4)


@pytest.mark.slow
def test_seed002_svi_moves_parameters_towards_the_truth(seed002):
    """SVI on data simulated from known weights (seed 002, as in §6.5) lowers the training loss
    and the loss on *fresh* data from the same truth: the fitted model moved towards it."""
    import qvr
    from qvr.infer import ELBO, SVI, AutoNormalGuide

    truth, _, _ = seed002
    torch.manual_seed(3)
    prompts, fresh_prompts = torch.randint(0, 256, (32, 4)), torch.randint(0, 256, (32, 4))
    with torch.no_grad():
        targets, fresh_targets = truth.rsample(prompts), truth.rsample(fresh_prompts)
    torch.manual_seed(4)
    model = qvr.load(SEED_002).morphism
    with torch.no_grad():
        for _, p in model.named_parameters():
            p.copy_(torch.randn_like(p) * 0.3)
    guide = AutoNormalGuide(model, observed_names={"next_token"})
    optim = torch.optim.Adam(list(model.parameters()) + list(guide.parameters()), lr=0.05)
    svi = SVI(model, guide, optim, ELBO(num_particles=4))

    def held_out():
        torch.manual_seed(5)  # same guide noise before and after: compare like with like
        return svi.evaluate_loss(fresh_prompts, {"next_token": fresh_targets})

    before = held_out()
    losses = [svi.step(prompts, {"next_token": targets}) for _ in range(30)]
    assert all(math.isfinite(v) for v in losses)
    assert sum(losses[-5:]) < sum(losses[:5])
    assert held_out() < before


@pytest.mark.slow
def test_walkthrough_example_runs_small():
    env = dict(os.environ, QVR_WALKTHROUGH_BATCH="2", QVR_WALKTHROUGH_SEQ_LEN="3")
    proc = subprocess.run([sys.executable, str(ROOT / "examples" / "vanilla_rnn_lm_walkthrough.py"), "4", "2", "2"],
                          capture_output=True, text=True, env=env, timeout=600)
    assert proc.returncode == 0, proc.stderr[-2000:]
    out = proc.stdout
    assert "sites: ['h', 'h/scan', 'next_token']" in out
    acceptance = float(out.split("acceptance: ")[1].split()[0])
    assert 0.0 <= acceptance <= 1.0
    assert int(out.split("divergences: ")[1].split()[0]) >= 0
    assert "h draws: (1, 2, 1, 2, 128)" in out
