"""Small hand-written models implementing the program protocol, for testing qvr.infer.

Each model is a list of ``SiteDef``s run in order: a site's distribution is built from the
input ``x`` and the values of earlier sites. ``trace``/``log_joint``/``site_specs`` follow
docs/internals.md "Runtime" exactly (log-densities ``(B,)``, MissingSiteError for a random
site without a value in ``log_joint``), so the inference code is tested against the protocol
and not against the compiler.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable

import torch
from torch import nn
from torch.distributions import Distribution

from qvr.compile.trace import LATENT, OBSERVED, Site, SiteSpec, Trace
from qvr.errors import MissingSiteError


@dataclass
class SiteDef:
    name: str
    kind: str
    event_shape: tuple
    make: Callable[[torch.Tensor, dict], Distribution]   # (x, earlier values) -> distribution
    event_dims: int = 1                                    # value dims summed into log_prob
    support: object = None                                 # else read off a distribution


class ToyModel(nn.Module):
    def __init__(self, sites: list[SiteDef]):
        super().__init__()
        self.sites = sites
        self.device = torch.device("cpu")

    @property
    def observed_names(self):
        return frozenset(s.name for s in self.sites if s.kind == OBSERVED)

    def site_specs(self):
        specs = []
        for s in self.sites:
            support = s.support if s.support is not None else s.make(torch.zeros(1, 1), _AnyValues()).support
            specs.append(SiteSpec(s.name, s.kind, tuple(s.event_shape), support))
        return specs

    def trace(self, x, *, observations=None, values=None):
        observations = observations or {}
        values = values or {}
        tr = Trace()
        env = {}
        for s in self.sites:
            dist = s.make(x, env)
            if s.name in values:
                v = values[s.name]
            elif s.kind == OBSERVED and s.name in observations:
                v = observations[s.name]
            else:
                v = dist.rsample() if dist.has_rsample else dist.sample()
            lp = dist.log_prob(v)
            lp = lp.reshape(lp.shape[0], -1).sum(-1) if lp.dim() > 1 else lp
            env[s.name] = v
            tr.sites[s.name] = Site(s.name, v, lp, s.kind, dist.support, tuple(s.event_shape))
        tr.output = env[self.sites[-1].name]
        return tr

    def log_joint(self, x, values):
        for s in self.sites:
            if s.name not in values:
                raise MissingSiteError(f"missing value for random site {s.name!r}")
        return self.trace(x, values=values).log_joint

    def rsample(self, x, *, observations=None, n_steps=None):
        return self.trace(x, observations=observations).output


class _AnyValues(dict):
    """Earlier values for building a distribution only to read its support."""

    def __missing__(self, key):
        return torch.ones(1, 1)


def _rows(x):
    return x.shape[0]


def normal_normal(prior_loc=0.5, prior_scale=2.0, noise=1.0, n_obs=5):
    """mu ~ N(m0, s0²) per row, y_j ~ N(mu, σ²) for j < n_obs (observed)."""
    def mu(x, env):
        return torch.distributions.Normal(torch.full((_rows(x), 1), prior_loc), prior_scale)

    def y(x, env):
        return torch.distributions.Normal(env["mu"].expand(-1, n_obs), noise)

    return ToyModel([SiteDef("mu", LATENT, (1,), mu), SiteDef("y", OBSERVED, (n_obs,), y)])


def normal_normal_posterior(y: torch.Tensor, prior_loc=0.5, prior_scale=2.0, noise=1.0):
    """Closed-form posterior mean and variance per row of ``y`` (B, n)."""
    precision = 1 / prior_scale**2 + y.shape[1] / noise**2
    mean = (prior_loc / prior_scale**2 + y.sum(1) / noise**2) / precision
    return mean, 1 / precision


def correlated_gaussian(mean=(1.0, -2.0), std=(1.0, 3.0), rho=0.8):
    cov = torch.tensor([[std[0] ** 2, rho * std[0] * std[1]], [rho * std[0] * std[1], std[1] ** 2]])
    loc = torch.tensor(mean)
    tril = torch.linalg.cholesky(cov)  # once: a Cholesky per density evaluation would dominate

    def z(x, env):
        return _Gaussian(loc.expand(_rows(x), 2), tril)

    return ToyModel([SiteDef("z", LATENT, (2,), z)]), loc, cov


def positive_sites(n_obs=4):
    """sigma ~ HalfCauchy(1), tau ~ Gamma(2, 1); y ~ N(0, sigma) observed. tau is prior-only."""
    def sigma(x, env):
        return torch.distributions.HalfCauchy(torch.ones(_rows(x), 1))

    def tau(x, env):
        return torch.distributions.Gamma(torch.full((_rows(x), 1), 2.0), 1.0)

    def y(x, env):
        return torch.distributions.Normal(0.0, env["sigma"].expand(-1, n_obs))

    return ToyModel([
        SiteDef("sigma", LATENT, (1,), sigma),
        SiteDef("tau", LATENT, (1,), tau),
        SiteDef("y", OBSERVED, (n_obs,), y),
    ])


class _Gaussian:
    """A lean correlated Gaussian (torch's MultivariateNormal spends milliseconds on argument
    broadcasting per construction, which would dominate NUTS tests that build it per step)."""

    support = torch.distributions.constraints.real_vector
    has_rsample = True

    def __init__(self, loc, tril):
        self.loc, self.tril = loc, tril
        self._half_log_det = tril.diagonal().log().sum()

    def rsample(self):
        return self.loc + torch.randn_like(self.loc) @ self.tril.T

    def log_prob(self, value):
        white = torch.linalg.solve_triangular(self.tril, (value - self.loc).unsqueeze(-1), upper=False)
        d = self.loc.shape[-1]
        return -0.5 * white.squeeze(-1).pow(2).sum(-1) - self._half_log_det - 0.5 * d * math.log(2 * math.pi)


def finite_latent():
    def k(x, env):
        return torch.distributions.Categorical(logits=torch.zeros(_rows(x), 3))

    return ToyModel([SiteDef("k", LATENT, (), k, event_dims=0)])


class Regression(ToyModel):
    """y ~ N(x·w + b, 0.5²) with learned w, b: a model with parameters (for SVI and lifting)."""

    def __init__(self, dim=3):
        super().__init__([
            SiteDef("y", OBSERVED, (1,), lambda x, env: torch.distributions.Normal(self.linear(x), 0.5),
                    support=torch.distributions.constraints.real),
        ])
        self.linear = nn.Linear(dim, 1)


class LatentRegression(ToyModel):
    """z ~ N(x·w, 1) latent per row, y ~ N(z, 0.3²) observed: parameters and a local latent."""

    def __init__(self, dim=2):
        super().__init__([
            SiteDef("z", LATENT, (1,), lambda x, env: torch.distributions.Normal(self.linear(x), 1.0),
                    support=torch.distributions.constraints.real),
            SiteDef("y", OBSERVED, (1,), lambda x, env: torch.distributions.Normal(env["z"], 0.3)),
        ])
        self.linear = nn.Linear(dim, 1)


def gaussian_log_density(x, mean, var):
    return -0.5 * (x - mean) ** 2 / var - 0.5 * math.log(2 * math.pi * var)
