"""Site recording during a run: the runtime side of trace semantics (spec §5.8).

Every runtime module runs as ``module.run(x, rec, path, target) -> (value, log_prob | None)``:

* ``path`` is the site name of the module's output; nested choices are recorded below
  ``path/`` through ``rec``;
* ``target`` is a value to clamp the output to (log-density evaluated there instead of
  sampling), or None to sample;
* the returned log-density is ``(B,)`` for a random output and None for a deterministic one.

The caller records the output site itself (it knows whether it is observed). A `Recorder`
holds the clamped values (`values`, `observations`) and the ordered sites; `strict=True`
(log_joint) turns a missing random value into MissingSiteError. `StepRecorder` serves one
time step of a scan: it slices clamped values at ``[:, t]`` and collects the step's sites so
the scan can stack them on axis 1.
"""
from __future__ import annotations

from collections import OrderedDict
from typing import Optional

import torch

from ..errors import MissingSiteError
from .trace import DETERMINISTIC, Site


def join(path: str, label: str) -> str:
    return label if not path else f"{path}/{label}"


class Recorder:
    def __init__(self, values=None, observations=None, *, strict: bool = False, n_steps=None):
        self.values = dict(values or {})
        self.observations = dict(observations or {})
        self.strict = strict
        self.n_steps = n_steps
        self.sites: "OrderedDict[str, Optional[Site]]" = OrderedDict()
        self.batch: Optional[int] = None  # batch size of the outermost program run
        # site name -> indices of its value's top-level factors that no later step reads; set
        # by a program around a deterministic tuple draw under log_joint (see `DrawPlan.unread`)
        self.unread: dict = {}

    # -- clamping ----------------------------------------------------------------------------
    def lookup(self, name: str) -> Optional[torch.Tensor]:
        if name in self.observations:
            return self.observations[name]
        return self.values.get(name)

    def clamp(self, name: str, *, observed: bool = False) -> Optional[torch.Tensor]:
        """The value a random site is clamped to; observations only apply to observe sites
        (and nested names given explicitly)."""
        value = self.lookup(name) if (observed or self.strict) else self.values.get(name)
        if value is None and observed:
            value = self.observations.get(name)
        if value is None and self.strict:
            raise MissingSiteError(f"log_joint needs a value for the random site `{name}`")
        return value

    # -- recording ---------------------------------------------------------------------------
    def reserve(self, name: str) -> None:
        """Keep `name`'s position (the step's own site precedes its nested sites)."""
        self.sites[name] = None

    def record(self, name: str, value: torch.Tensor, log_prob: Optional[torch.Tensor], kind: str,
               support, event_shape, is_sequence: bool = False) -> None:
        if self.strict and (log_prob is None or kind == DETERMINISTIC):
            # log_joint only sums random sites: skip deterministic bookkeeping on the hot path
            self.sites.pop(name, None)
            return
        if log_prob is None or kind == DETERMINISTIC:
            log_prob = torch.zeros(value.shape[0], device=value.device)
            kind = DETERMINISTIC
        self.sites[name] = Site(name, value, log_prob, kind, support, tuple(event_shape), is_sequence)

    def finished_sites(self) -> "OrderedDict[str, Site]":
        return OrderedDict((k, s) for k, s in self.sites.items() if s is not None)


class StepRecorder(Recorder):
    """One scan step: clamps come from the parent sliced at time index `t`."""

    def __init__(self, parent: Recorder, t: int):
        super().__init__(strict=parent.strict, n_steps=parent.n_steps)
        self.parent = parent
        self.t = t

    def lookup(self, name):
        v = self.parent.lookup(name)
        return None if v is None else v[:, self.t]

    def clamp(self, name, *, observed=False):
        try:
            v = self.parent.clamp(name, observed=observed)
        except MissingSiteError:
            raise
        return None if v is None else v[:, self.t]
