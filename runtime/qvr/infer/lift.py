"""Weight posteriors: lift a model's parameters to latent sites (spec §6.3).

``bayesian_lift_parameters(model, x, observations, *, prior_scale=1.0, additional_latents=None)``
returns ``(lifted, lx, lobs)``. ``lifted`` implements the program protocol with

* one latent site ``theta/<parameter name>`` per parameter, prior N(0, prior_scale²);
* every latent site of ``model`` under its own name, with the full value shape (batch
  included) from ``additional_latents`` or, for sites it omits, from one trace at ``x``.

Every lifted site carries a leading axis of length 1 (one "row": the whole data set), so
``lx = zeros(1, 1)`` and ``lobs = {}``; the data ``x`` and ``observations`` live inside
``lifted``. Its density is exactly

    log_joint = Σ log N(θ; 0, s²) + model.log_joint(x, {**observations, **latents})

with θ substituted into the model by ``torch.func.functional_call``, so MCMC over the lifted
model samples the joint posterior of weights and hidden states.
"""
from __future__ import annotations

import math

import torch
from torch import nn

from ..compile.trace import LATENT, OBSERVED, Site, SiteSpec, Trace
from ..errors import MissingSiteError, ShapeError
from .sites import latent_specs, model_device, to_device

THETA = "theta/"


class _Call(nn.Module):
    """Wraps a model so functional_call can run one of its methods with substituted weights."""

    def __init__(self, model):
        super().__init__()
        self.model = model

    def forward(self, method: str, *args, **kwargs):
        return getattr(self.model, method)(*args, **kwargs)


class LiftedModel:
    """The program-protocol model returned by ``bayesian_lift_parameters``."""

    def __init__(self, model, x, observations, prior_scale, latent_shapes, latent_supports):
        self._call = _Call(model)
        self.model = model
        self.x = x
        self.observations = observations
        self.prior_scale = float(prior_scale)
        self.device = model_device(model)
        self.param_names = [n for n, _ in model.named_parameters()]
        self._param_shapes = {n: tuple(p.shape) for n, p in model.named_parameters()}
        self.latent_shapes = dict(latent_shapes)      # inner latent name -> full shape
        self._latent_supports = dict(latent_supports)
        self.observed_names: frozenset[str] = frozenset()

    # -- protocol ----------------------------------------------------------------------------
    def named_parameters(self):
        return iter(())  # the weights are latents here, not parameters

    def parameters(self):
        return iter(())

    def site_specs(self) -> list[SiteSpec]:
        specs = [SiteSpec(THETA + n, LATENT, self._param_shapes[n], torch.distributions.constraints.real)
                 for n in self.param_names]
        specs += [SiteSpec(n, LATENT, tuple(s), self._latent_supports[n])
                  for n, s in self.latent_shapes.items()]
        return specs

    def _rows(self, x) -> int:
        return int(x.shape[0]) if isinstance(x, torch.Tensor) and x.dim() > 0 else 1

    def _prior_log_prob(self, theta: torch.Tensor) -> torch.Tensor:
        s = self.prior_scale
        return (-0.5 * (theta / s) ** 2 - math.log(s) - 0.5 * math.log(2 * math.pi)).sum()

    def _inner(self, method: str, theta: dict, *args, **kwargs):
        params = {"model." + n: v for n, v in theta.items()}
        return torch.func.functional_call(self._call, params, (method,) + args, kwargs)

    def log_joint(self, x, values) -> torch.Tensor:
        """``(R,)`` for R rows (R = 1 for ``lx``): prior of θ plus the inner joint, per row."""
        values = to_device(dict(values), self.device)
        rows = []
        for r in range(self._rows(x)):
            theta = {n: self._value(values, THETA + n, r) for n in self.param_names}
            latents = {n: self._value(values, n, r) for n in self.latent_shapes}
            prior = sum((self._prior_log_prob(t) for t in theta.values()), torch.zeros((), device=self.device))
            inner = self._inner("log_joint", theta, self.x, {**self.observations, **latents})
            rows.append(prior + inner.sum())
        return torch.stack(rows)

    def trace(self, x, *, observations=None, values=None) -> Trace:
        """θ from ``values`` or drawn from the prior; inner latents from ``values`` or sampled."""
        values = to_device(dict(values or {}), self.device)
        tr = Trace()
        per_row_sites: list[dict[str, Site]] = []
        for r in range(self._rows(x)):
            row: dict[str, Site] = {}
            theta = {}
            for n in self.param_names:
                key = THETA + n
                t = self._value(values, key, r) if key in values else (
                    torch.randn(self._param_shapes[n], device=self.device) * self.prior_scale)
                theta[n] = t
                row[key] = Site(key, t, self._prior_log_prob(t).reshape(1), LATENT,
                                torch.distributions.constraints.real, self._param_shapes[n])
            given = {n: self._value(values, n, r) for n in self.latent_shapes if n in values}
            inner = self._inner("trace", theta, self.x, observations=self.observations,
                                values={**given} or None)
            for n in self.latent_shapes:
                s = inner.sites[n]
                row[n] = Site(n, s.value, s.log_prob.sum().reshape(1), LATENT, s.support,
                              tuple(s.value.shape))
            # The data are part of the lifted model: record their (fixed) sites too, so that
            # trace.log_joint equals log_joint. They are not in site_specs/observed_names.
            for n in self.observations:
                if n in inner.sites:
                    s = inner.sites[n]
                    row[n] = Site(n, s.value, s.log_prob.sum().reshape(1), OBSERVED, s.support,
                                  tuple(s.value.shape))
            per_row_sites.append(row)
        for key in per_row_sites[0]:
            first = per_row_sites[0][key]
            tr.sites[key] = Site(
                key,
                torch.stack([row[key].value for row in per_row_sites]),
                torch.cat([row[key].log_prob for row in per_row_sites]),
                first.kind, first.support, first.event_shape,
            )
        tr.output = torch.zeros(len(per_row_sites), 1, device=self.device)
        return tr

    def rsample(self, x, *, observations=None, n_steps=None):
        return self.trace(x, observations=observations).output

    def initial_values(self, x, observations=None) -> dict[str, torch.Tensor]:
        """A natural MCMC start: the model's current weights, inner latents from one trace."""
        rows = self._rows(x)
        with torch.no_grad():
            theta = {n: p.detach() for n, p in self.model.named_parameters()}
            inner = self._inner("trace", theta, self.x, observations=self.observations)
        out = {THETA + n: t.unsqueeze(0).expand((rows,) + t.shape) for n, t in theta.items()}
        for n in self.latent_shapes:
            v = inner.sites[n].value
            out[n] = v.unsqueeze(0).expand((rows,) + tuple(v.shape))
        return out

    # -- helpers -----------------------------------------------------------------------------
    def _value(self, values, name, row):
        if name not in values:
            raise MissingSiteError(f"no value for lifted site {name!r}")
        v = values[name]
        expected = self._param_shapes.get(name[len(THETA):]) if name.startswith(THETA) else self.latent_shapes[name]
        if tuple(v.shape[1:]) != tuple(expected):
            raise ShapeError(f"lifted site {name!r} expects shape (R, {', '.join(map(str, expected))}), "
                             f"got {tuple(v.shape)}")
        return v[row]


def bayesian_lift_parameters(model, x, observations, *, prior_scale: float = 1.0,
                             additional_latents=None):
    if not prior_scale > 0:
        raise ValueError(f"prior_scale must be positive, got {prior_scale}")
    device = model_device(model)
    x = to_device(x, device)
    observations = to_device(dict(observations or {}), device)
    observed = set(getattr(model, "observed_names", ()) or ()) | set(observations)
    latent_names = [s.name for s in latent_specs(model, observed)]
    additional = dict(additional_latents or {})
    unknown = sorted(set(additional) - set(latent_names))
    if unknown:
        raise ValueError(
            f"additional_latents names {', '.join(map(repr, unknown))}, which "
            f"{'is not a latent site' if len(unknown) == 1 else 'are not latent sites'} of the model "
            f"(latent sites: {', '.join(latent_names) or 'none'})"
        )
    with torch.no_grad():
        tr = model.trace(x, observations=observations or None)
    shapes, supports = {}, {}
    for name in latent_names:
        traced = tuple(tr.sites[name].value.shape)
        given = tuple(int(s) for s in additional.get(name, traced))
        if given != traced:
            raise ValueError(f"additional_latents[{name!r}] = {given} but the model gives {traced} at this input")
        shapes[name] = given
        supports[name] = tr.sites[name].support
    lifted = LiftedModel(model, x, observations, prior_scale, shapes, supports)
    return lifted, torch.zeros(1, 1, device=device), {}
