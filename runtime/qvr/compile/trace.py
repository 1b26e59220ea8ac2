"""Sites and traces: the records a program run leaves behind (spec §5.8, §6.2).

This is the contract between the compiler (which records sites while a program runs) and
inference (guides, ELBO, MCMC), so both sides import these types from here.

* ``Site.kind`` is ``"latent"``, ``"observed"``, ``"deterministic"`` or ``"factor"`` (a
  `score` step: a log-density term that is not a random variable, part 2 §6.6).
* ``Site.support`` is a ``torch.distributions.constraints.Constraint`` (``real``,
  ``positive``, ``interval(a, b)``, ``simplex``, ``integer_interval(0, n-1)``, ``boolean`` ...);
  ``torch.distributions.transform_to(site.support)`` is the bijection guides and MCMC use.
* ``Site.log_prob`` has shape ``(B,)``; deterministic sites carry zeros.
* ``Site.event_shape`` is the per-element shape of the value (``()`` for a finite index,
  ``(d,)`` for a continuous value); the value itself is ``(B, *event_shape)`` or, for a
  sequence site, ``(B, T, *event_shape)``.
"""
from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any

import torch

LATENT = "latent"
OBSERVED = "observed"
DETERMINISTIC = "deterministic"
FACTOR = "factor"


@dataclass
class Site:
    name: str
    value: torch.Tensor
    log_prob: torch.Tensor
    kind: str
    support: Any
    event_shape: tuple[int, ...]
    is_sequence: bool = False

    @property
    def is_random(self) -> bool:
        return self.kind != DETERMINISTIC


@dataclass(frozen=True)
class SiteSpec:
    """Static description of a site, known without running the model."""

    name: str
    kind: str
    event_shape: tuple[int, ...]
    support: Any
    is_sequence: bool = False
    # part 2 §6.6: `(object name, size)` per axis plate (size None for an open plate, sized by
    # the data) and the row plate's name; `event_shape` is per plate element
    plates: tuple = ()
    row_plate: Any = None


@dataclass
class Trace:
    sites: "OrderedDict[str, Site]" = field(default_factory=OrderedDict)
    output: torch.Tensor | None = None

    @property
    def log_joint(self) -> torch.Tensor:
        """Sum of the random sites' log-densities, shape ``(B,)``."""
        total = None
        for site in self.sites.values():
            if site.is_random:
                total = site.log_prob if total is None else total + site.log_prob
        if total is None:
            if self.output is None:
                return torch.zeros(0)
            return torch.zeros(self.output.shape[0], device=self.output.device)
        return total

    def latent_sites(self) -> "OrderedDict[str, Site]":
        return OrderedDict((k, s) for k, s in self.sites.items() if s.kind == LATENT)
