"""The evidence lower bound and stochastic variational inference (spec §6.3).

``ELBO(num_particles=K)`` estimates ``E_q[log p(x, z, obs) - log q(z)]`` with K particles. The
particles are vectorised, not looped: the input and observations are repeated K times along
the batch axis (copy-major), the guide draws one latent per row of that folded batch, and one
``model.log_joint`` call scores them all. The loss is minus the mean over particles and rows.
"""
from __future__ import annotations


import torch

from .sites import model_device, repeat_batch, to_device


class ELBO:
    """Negative ELBO loss; ``loss(model, guide, x, observations)`` (also callable)."""

    def __init__(self, num_particles: int = 1):
        if int(num_particles) < 1:
            raise ValueError(f"num_particles must be at least 1, got {num_particles}")
        self.num_particles = int(num_particles)

    def loss(self, model, guide, x, observations=None) -> torch.Tensor:
        device = model_device(model)
        x = to_device(x, device)
        # Observations are data: a value that still carries a graph (e.g. straight from
        # model.rsample) must not make backward() walk through its history.
        observations = {k: v.detach() if isinstance(v, torch.Tensor) else v
                        for k, v in to_device(dict(observations or {}), device).items()}
        k = self.num_particles
        xk = repeat_batch(x, k)
        obs_k = repeat_batch(observations, k)
        if hasattr(guide, "rsample_with_log_prob"):
            z, log_q = guide.rsample_with_log_prob(xk)
        else:  # any guide honouring the documented protocol
            z = guide.rsample(xk)
            log_q = guide.log_prob(xk, z)
        log_p = model.log_joint(xk, {**z, **obs_k})
        return -(log_p - log_q).mean()

    __call__ = loss


class SVI:
    """Stochastic variational inference: one optimiser step per ``step`` call."""

    def __init__(self, model, guide, optim, loss=None):
        self.model = model
        self.guide = guide
        self.optim = optim
        self.loss = loss if loss is not None else ELBO()

    def _loss(self, x, observations) -> torch.Tensor:
        fn = self.loss.loss if hasattr(self.loss, "loss") else self.loss
        return fn(self.model, self.guide, x, observations)

    def step(self, x, observations=None) -> float:
        """zero_grad, loss, backward, ``optim.step()``; returns the loss as a float."""
        self.optim.zero_grad(set_to_none=True)
        loss = self._loss(x, observations)
        loss.backward()
        self.optim.step()
        # One host sync per step is the price of the documented float return value.
        return float(loss.detach())

    def evaluate_loss(self, x, observations=None) -> float:
        with torch.no_grad():
            return float(self._loss(x, observations))
