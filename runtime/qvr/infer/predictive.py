"""Posterior (or prior) predictive sampling (spec §6.3).

``Predictive(model, guide=None, num_samples=100, posterior_samples=None)(x, observations=None)``
returns ``{site: (num_samples, B, ...)}`` for every site of the model's trace. Latents come
from the guide or from ``posterior_samples`` (``{site: (N, *site_shape)}``, or an
``MCMCResult`` whose chains are flattened); with neither they are drawn from the prior.
Observed sites are resampled unless given in ``observations``. The samples are vectorised:
all draws are folded into the batch axis of one ``model.trace`` call. No gradients.
"""
from __future__ import annotations

from typing import Mapping

import torch

from .sites import model_device, repeat_batch, to_device


def _flatten_posterior(posterior) -> dict[str, torch.Tensor]:
    samples = getattr(posterior, "samples", posterior)
    if not isinstance(samples, Mapping):
        raise TypeError("posterior_samples must be a dict {site: tensor} or an MCMCResult")
    if hasattr(posterior, "samples"):  # MCMCResult: (chains, draws, ...) -> (chains*draws, ...)
        return {k: v.reshape((-1,) + tuple(v.shape[2:])) for k, v in samples.items()}
    return dict(samples)


class Predictive:
    def __init__(self, model, guide=None, num_samples: int = 100, posterior_samples=None):
        self.model = model
        self.guide = guide
        self.posterior_samples = None
        if posterior_samples is not None:
            self.posterior_samples = _flatten_posterior(posterior_samples)
            sizes = {int(v.shape[0]) for v in self.posterior_samples.values()}
            if len(sizes) > 1:
                raise ValueError(f"posterior_samples disagree on the number of draws: {sorted(sizes)}")
            num_samples = sizes.pop() if sizes else num_samples
        if int(num_samples) < 1:
            raise ValueError(f"num_samples must be at least 1, got {num_samples}")
        self.num_samples = int(num_samples)

    @torch.no_grad()
    def __call__(self, x, observations=None) -> dict[str, torch.Tensor]:
        device = model_device(self.model)
        x = to_device(x, device)
        n = self.num_samples
        xn = repeat_batch(x, n)
        # named inputs (data, scalar parameters; part 2 §6.7) have no batch axis: not repeated
        named = getattr(self.model, "named_inputs", None) or {}
        obs_n = {k: (v if k in named else repeat_batch(v, n))
                 for k, v in to_device(dict(observations or {}), device).items()}
        values: dict[str, torch.Tensor] = {}
        if self.posterior_samples is not None:
            for name, draws in self.posterior_samples.items():
                draws = draws.to(device)
                # (N, B, ...) -> (N*B, ...): draw-major, matching repeat_batch.
                values[name] = draws.reshape((n * draws.shape[1],) + tuple(draws.shape[2:]))
        elif self.guide is not None:
            values.update(self.guide.rsample(xn))
        tr = self.model.trace(xn, observations=obs_n or None, values=values or None)
        out = {}
        for name, site in tr.sites.items():
            v = site.value
            out[name] = v.reshape((n, v.shape[0] // n) + tuple(v.shape[1:]))
        return out
