"""The potential energy MCMC moves on: a model's latent sites flattened into one vector.

``Potential(model, x, observations, shapes)`` lays every latent site out in one flat
unconstrained vector ``q`` (site order = trace order). ``U(q) = -(log_joint(x, {obs, z(q)}) +
log|dz/dq|)`` summed over rows, with ``z`` the support bijection of each site. ``__call__``
returns ``(U, grad U, log_joint)`` as tensors (no host sync off the CPU); a non-finite value
comes back as ``U = +inf`` with a zero gradient, which the kernels treat as a divergence. The
input and the observations are checked once per run, not per gradient
(``RuntimeModule.joint_scorer``).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch.distributions import biject_to

from ..compile.base import RuntimeModule
from ..errors import QvrError
from .sites import LatentShape, is_real_support


@dataclass(frozen=True)
class _Slot:
    name: str
    start: int
    stop: int
    unconstrained_shape: tuple[int, ...]
    shape: tuple[int, ...]
    support: object


class Potential:
    def __init__(self, model, x, observations: dict, shapes: dict[str, LatentShape]):
        self.model = model
        self.x = x
        self.observations = dict(observations)
        self.slots: list[_Slot] = []
        start = 0
        for name, site in shapes.items():
            ushape = site.unconstrained_shape
            size = 1
            for s in ushape:
                size *= int(s)
            self.slots.append(_Slot(name, start, start + size, ushape, site.shape, site.support))
            start += size
        self.dim = start
        self.last_error: str | None = None
        self._bijections = [biject_to(s.support) for s in self.slots]
        self._identity = {s.name for s in self.slots if is_real_support(s.support)}
        self._score = None  # built on first use (see `log_joint`)
        self._sizes = [s.stop - s.start for s in self.slots]

    # -- packing ---------------------------------------------------------------------------
    def unpack(self, q: torch.Tensor) -> tuple[dict[str, torch.Tensor], torch.Tensor]:
        """Constrained site values from ``q`` (D,) and the summed log|Jacobian| (scalar)."""
        values, ladj = self._unpack(q)
        return values, (q.new_zeros(()) if ladj is None else ladj)

    def _unpack(self, q: torch.Tensor):
        """`unpack` with None for a Jacobian term no site has. One split for all the sites
        (not a slice each): on a small model every autograd node is a noticeable cost."""
        values, ladj = {}, None
        parts = q.split(self._sizes) if self.slots else ()
        for slot, bij, part in zip(self.slots, self._bijections, parts):
            u = part.reshape(slot.unconstrained_shape)
            if slot.name in self._identity:
                values[slot.name] = u  # identity: no transform, no Jacobian (the common case)
                continue
            z = bij(u)
            values[slot.name] = z
            term = bij.log_abs_det_jacobian(u, z).sum()
            ladj = term if ladj is None else ladj + term
        return values, ladj

    def pack(self, values: dict[str, torch.Tensor]) -> torch.Tensor:
        """Flatten constrained site values into the unconstrained vector ``q``."""
        parts = []
        for slot, bij in zip(self.slots, self._bijections):
            parts.append(bij.inv(values[slot.name].detach()).reshape(-1))
        return torch.cat(parts) if parts else torch.zeros(0)

    def constrain_draws(self, qs: torch.Tensor) -> dict[str, torch.Tensor]:
        """Many vectors at once: ``(N, D) -> {site: (N, *site_shape)}`` (no gradients)."""
        out = {}
        with torch.no_grad():
            for slot, bij in zip(self.slots, self._bijections):
                u = qs[:, slot.start:slot.stop].reshape((qs.shape[0],) + tuple(slot.unconstrained_shape))
                out[slot.name] = bij(u)
        return out

    def non_finite_slot(self, q: torch.Tensor) -> str | None:
        """The first latent site (in `q`'s order) whose share of U(q) is not finite: its
        unconstrained value, its log|dz/dq| or its part of the gradient. For a log joint
        whose sites' own densities and values are all finite (`first_non_finite_site`), this
        is what names the culprit: a value pushed onto the edge of its support, say."""
        q = q.detach().requires_grad_(True)
        with torch.enable_grad():
            values, ladj = self._unpack(q)
            try:
                u = -self.log_joint(values) - (0.0 if ladj is None else ladj)
                (grad,) = torch.autograd.grad(u, q, allow_unused=True)
            except (ValueError, RuntimeError):
                grad = None
        parts = q.detach().split(self._sizes) if self.slots else ()
        grads = grad.split(self._sizes) if grad is not None else [None] * len(self.slots)
        for slot, bij, part, g in zip(self.slots, self._bijections, parts, grads):
            u = part.reshape(slot.unconstrained_shape)
            term = bij.log_abs_det_jacobian(u, bij(u)) if slot.name not in self._identity else u
            if not (bool(torch.isfinite(u).all()) and bool(torch.isfinite(term).all())
                    and (g is None or bool(torch.isfinite(g).all()))):
                return slot.name
        return None

    # -- energy ------------------------------------------------------------------------------
    def log_joint(self, values: dict[str, torch.Tensor]) -> torch.Tensor:
        if self._score is None:
            # A compiled model checks the input and the observations once for the whole run
            # (`joint_scorer`); any other model (one that defines its own log_joint) is asked
            # each time.
            if type(self.model).log_joint is RuntimeModule.log_joint:
                self._score = self.model.joint_scorer(self.x, self.observations)
            else:
                self._score = lambda v: self.model.log_joint(self.x, {**self.observations, **v})
        return self._score(values).sum()

    def __call__(self, q: torch.Tensor):
        q = q.detach().requires_grad_(True)
        with torch.enable_grad():
            values, ladj = self._unpack(q)
            try:
                lj = self.log_joint(values)
            except ValueError as exc:
                # torch.distributions argument validation: at extreme positions (a scale that
                # underflowed to 0) the density is undefined, i.e. the move is a divergence.
                # Our own errors (ShapeError is a ValueError too) are real bugs: re-raise.
                if isinstance(exc, QvrError):
                    raise
                self.last_error = str(exc)
                inf = torch.full((), float("inf"), device=q.device, dtype=q.dtype)
                return inf, torch.zeros_like(q), -inf
            u = -lj if ladj is None else -(lj + ladj)
            (grad,) = torch.autograd.grad(u, q)
        u = u.detach()
        if q.device.type == "cpu":
            # On the CPU a host read costs nothing: test finiteness directly, mask only if needed.
            if math.isfinite(float(u)) and bool(torch.isfinite(grad).all()):
                return u, grad, lj.detach()
            return torch.full_like(u, float("inf")), torch.zeros_like(grad), lj.detach()
        # Keep the kernels sync-free: a non-finite energy becomes +inf (a divergence) by masking.
        bad = ~(torch.isfinite(u) & torch.isfinite(grad).all())
        u = torch.where(bad, torch.full_like(u, float("inf")), u)
        grad = torch.where(bad, torch.zeros_like(grad), grad)
        return u, grad, lj.detach()
