"""Latent-site bookkeeping shared by guides, ELBO, Predictive and MCMC.

Inference works on any model implementing the program protocol (docs/internals.md "Runtime").
This module answers the questions every algorithm asks of such a model:

* which sites are latent (random and not observed), and which are finite (not supported);
* what shape each latent value has for a given input ``x`` (one trace under ``no_grad``,
  memoised by the input's shape, because sequence sites such as ``h/scan`` depend on T);
* how to move a value between the site's support and unconstrained space
  (``torch.distributions.biject_to(support)``: a true bijection, so stick-breaking rather than
  softmax for the simplex; its log-det-Jacobian is used by guides
  and by the MCMC potential).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterable, Mapping

import torch
from torch.distributions import biject_to, constraints

from ..compile.trace import DETERMINISTIC, FACTOR, Site, SiteSpec
from ..errors import NotSupportedError


def model_device(model) -> torch.device:
    """The model's device: its ``device`` attribute, else its first parameter's, else CPU."""
    device = getattr(model, "device", None)
    if device is not None:
        return torch.device(device)
    for _, p in model.named_parameters():
        return p.device
    return torch.device("cpu")


def to_device(value, device: torch.device):
    """Move a tensor (or a dict/tuple of tensors) to ``device``; other values pass through."""
    if isinstance(value, torch.Tensor):
        return value.to(device)
    if isinstance(value, Mapping):
        return {k: to_device(v, device) for k, v in value.items()}
    if isinstance(value, tuple):
        return tuple(to_device(v, device) for v in value)
    if isinstance(value, list):
        return [to_device(v, device) for v in value]
    return value


def is_real_support(support) -> bool:
    """``real`` or ``independent(real, k)``: the support bijection is the identity."""
    while isinstance(support, constraints.independent):
        support = support.base_constraint
    return support is constraints.real


def is_finite_support(support) -> bool:
    return bool(getattr(support, "is_discrete", False))


def observed_set(model, observed_names: Iterable[str] | None) -> frozenset[str]:
    if observed_names is not None:
        return frozenset(observed_names)
    return frozenset(getattr(model, "observed_names", ()) or ())


def latent_specs(model, observed_names: Iterable[str] | None = None) -> list[SiteSpec]:
    """The model's latent site specs in trace order: random sites that are not observed."""
    observed = observed_set(model, observed_names)
    # An observe site left out of an explicit ``observed_names`` becomes latent, as in Pyro.
    return [
        spec
        for spec in model.site_specs()
        if spec.kind not in (DETERMINISTIC, FACTOR) and spec.name not in observed
    ]


def require_continuous(specs: Iterable[SiteSpec], what: str) -> None:
    for spec in specs:
        if is_finite_support(spec.support):
            raise NotSupportedError(
                f"latent site {spec.name!r} is finite ({spec.support}); {what} handles "
                "continuous latent sites only: observe it, or sum it out with `marginalize`"
            )


@dataclass(frozen=True)
class LatentShape:
    """A latent site's full value shape at some input, and its support."""

    name: str
    shape: tuple[int, ...]
    support: Any

    @property
    def transform(self):
        return biject_to(self.support)

    @property
    def unconstrained_shape(self) -> tuple[int, ...]:
        # Only the simplex (stick-breaking / softmax) changes the trailing size; torch's
        # Transform knows its own shape rule.
        return tuple(self.transform.inverse_shape(torch.Size(self.shape)))


class ShapeOracle:
    """Latent site shapes per input shape, from one ``no_grad`` trace memoised by ``x.shape``."""

    def __init__(self, model, names: list[str]):
        self.model = model
        self.names = list(names)
        self._cache: dict[tuple, dict[str, LatentShape]] = {}

    def shapes(self, x, observations=None) -> dict[str, LatentShape]:
        key = _shape_key(x)
        found = self._cache.get(key)
        if found is None:
            with torch.no_grad():
                tr = self.model.trace(x, observations=observations)
            found = {}
            for name in self.names:
                site = tr.sites.get(name)
                if site is None:
                    raise NotSupportedError(
                        f"latent site {name!r} listed by site_specs() did not appear in a trace"
                    )
                found[name] = LatentShape(name, tuple(site.value.shape), site.support)
            self._cache[key] = found
        return found


def _shape_key(x) -> tuple:
    if isinstance(x, torch.Tensor):
        return (tuple(x.shape), x.dtype)
    if isinstance(x, (tuple, list)):
        return tuple(_shape_key(v) for v in x)
    return (type(x).__name__,)


def batch_size(x) -> int:
    if isinstance(x, torch.Tensor):
        return int(x.shape[0])
    if isinstance(x, (tuple, list)) and x:
        return batch_size(x[0])
    raise TypeError(f"cannot tell the batch size of an input of type {type(x).__name__}")


def first_non_finite_site(model, x, observations=None, values=None):
    """The first site, in the model's order, of a trace of `model` on `x` with these
    observations and values whose log-density or value is not finite: what `qvr run` points at
    when a loss or log joint turns NaN or infinite. None when there is none or the trace itself
    fails (finding it is best effort)."""
    try:
        with torch.no_grad():
            tr = model.trace(x, observations=observations or None, values=values)
        for name, s in tr.sites.items():
            if not bool(torch.isfinite(s.log_prob).all()) or (
                    s.value.is_floating_point() and not bool(torch.isfinite(s.value).all())):
                return name
    except Exception:
        return None
    return None


def repeat_batch(value, times: int):
    """Fold ``times`` copies into the batch axis: ``(B, ...) -> (times*B, ...)``, copy-major."""
    if times == 1:
        return value
    if isinstance(value, torch.Tensor):
        return value.repeat((times,) + (1,) * (value.dim() - 1))
    if isinstance(value, Mapping):
        return {k: repeat_batch(v, times) for k, v in value.items()}
    if isinstance(value, (tuple, list)):
        return type(value)(repeat_batch(v, times) for v in value)
    return value


def unconstrain(site: Site | LatentShape, value: torch.Tensor) -> torch.Tensor:
    return biject_to(site.support).inv(value)


def sum_to_rows(t: torch.Tensor, rows: int) -> torch.Tensor:
    """Sum every axis but the first of a per-element quantity: ``(rows, ...) -> (rows,)``."""
    if t.dim() == 0:
        return t.expand(rows)
    return t.reshape(t.shape[0], -1).sum(-1) if t.dim() > 1 else t

