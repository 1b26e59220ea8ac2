"""The base class of every runtime module and the public calls they share (spec §6.2).

Subclasses implement `run(x, rec, path, target)` (see `record.py`) and `nested_specs(path)`
(the static sites recorded below `path/`). This class turns those into the documented API:
`rsample`, `log_prob`, `trace`, `log_joint`, `site_specs`, with inputs moved and cast to the
module's device and dtype (§6.4) and checked against the declared domain (ShapeError).

A non-program module traced on its own records its output as the observed site `output`
(its nested choices below `output/`); programs record their steps at the top level.
"""
from __future__ import annotations

from typing import Optional

import torch
from torch import nn

from ..errors import NotSupportedError, ShapeError
from ..semantics.types import SeqType, elem_of
from . import values as V
from . import validate
from .record import Recorder
from .trace import DETERMINISTIC, OBSERVED, SiteSpec, Trace

ROOT_SITE = "output"


class RuntimeModule(nn.Module):
    """An nn.Module with a QVR type `dom -> cod` and the site-recording run protocol."""

    is_random = False      # the output is a random choice with a density
    is_program = False
    label = "expr"         # its label inside a composite when it is not a reference

    def __init__(self, dom, cod):
        super().__init__()
        self.dom = dom
        self.cod = cod

    # -- what subclasses provide -----------------------------------------------------------
    def run(self, x, rec: Recorder, path: str, target=None):
        raise NotImplementedError

    def nested_specs(self, path: str, seq: bool = False) -> list[SiteSpec]:
        return []

    @property
    def support(self):
        return _support_of_type(self.cod)

    @property
    def event_shape(self) -> tuple[int, ...]:
        return V.event_shape(self.cod)

    def output_kind_widths(self) -> tuple[list[int], list[int]]:
        """How a tuple pattern splits this module's value: widths and element ranks of the
        codomain's top-level factors (programs override: one per returned variable)."""
        facts = elem_of(self.cod).factor_types
        return [f.width for f in facts], [V.element_rank(f) for f in facts]

    def reset_parameters(self) -> None:
        """Fresh initialisation (used by `stack`); children reset themselves."""
        for child in self.children():
            _reset(child)

    # -- device and inputs -----------------------------------------------------------------
    # Device and dtype are cached (the loader sets them; they are read on the hot path) and
    # re-derived from the parameters after `module.to(...)` (see `_apply`).
    @property
    def device(self) -> torch.device:
        dev = self.__dict__.get("_qvr_device")
        if dev is None:
            first = next(self.parameters(), None)
            if first is None:
                first = next(self.buffers(), None)
            dev = first.device if first is not None else torch.device("cpu")
            self.__dict__["_qvr_device"] = dev
        return dev

    @property
    def dtype(self) -> torch.dtype:
        dt = self.__dict__.get("_qvr_dtype")
        if dt is None:
            dt = next((t.dtype for t in self.parameters() if t.dtype.is_floating_point), torch.float32)
            self.__dict__["_qvr_dtype"] = dt
        return dt

    def _apply(self, fn, recurse=True):
        out = super()._apply(fn, recurse)
        self.__dict__.pop("_qvr_device", None)
        self.__dict__.pop("_qvr_dtype", None)
        return out

    def _tensor(self, v, *, index: Optional[bool] = None) -> torch.Tensor:
        """Move a user tensor to this module's device; floats take the module dtype."""
        if not isinstance(v, torch.Tensor):
            try:
                v = torch.as_tensor(v)
            except (RuntimeError, TypeError, ValueError):  # None, a string, ragged lists
                raise ShapeError(f"expected a tensor (or nested numeric lists), got {type(v).__name__}") from None
        if v.dtype.is_floating_point and index is not True:
            return v.to(device=self.device, dtype=self.dtype)
        if index is False:
            return v.to(device=self.device, dtype=self.dtype)
        return v.to(device=self.device)

    def _prepare_input(self, x) -> torch.Tensor:
        facts = elem_of(self.dom).factor_types
        # a tuple is always product components (§5.1); a list only when the domain is a
        # product — otherwise it is nested numbers, e.g. [[1, 2], [3, 4]] token indices
        if isinstance(x, tuple) or (isinstance(x, list) and len(facts) > 1):
            parts = [self._tensor(p) for p in x]
            if len(parts) != len(facts):
                raise ShapeError(f"expected {len(facts)} components for {self.dom.display()}, got {len(parts)}")
            x = V.concat_values(parts, facts, dtype=self.dtype)
        else:
            x = self._tensor(x)
        where = f"input `x` of {self._describe_self()}"
        V.check_input(x, self.dom, where=where)
        if isinstance(self.dom, SeqType) and x.dim() < 2 + V.element_rank(self.dom):
            raise ShapeError(f"input of {self._describe_self()}: expected a sequence "
                             f"{V.describe_shape(self.dom)}, got {tuple(x.shape)}")
        validate.check_leading_axes(x, self.dom, where=where)
        return validate.check_index_dtype(x, self.dom, where=where)

    def _check_ranges(self, x, *site_values, y=None) -> None:
        """Finite indices of one call (input, output value, supplied site values) are inside
        their ranges; one host sync for all of them (validate.RangeCheck)."""
        check = validate.RangeCheck()
        check.add_value(x, self.dom, where=f"input `x` of {self._describe_self()}")
        if y is not None:
            check.add_value(y, self.cod, where=f"value `y` of {self._describe_self()}")
        supports = None
        for values in site_values:
            for name, v in values.items():
                if supports is None:
                    supports = self._index_site_supports()
                support = supports.get(name)
                if support is not None:
                    check.add_site(v, support, where=f"value of site `{name}`", site=name)
        check.run()

    def _index_site_supports(self) -> dict:
        """{site name: integer support} of the finite sites (cached: the structure is fixed)."""
        cached = self.__dict__.get("_qvr_index_supports")
        if cached is None:
            cached = {s.name: s.support for s in self.site_specs()
                      if isinstance(s.support, validate.constraints.integer_interval)
                      or s.support is validate.constraints.nonnegative_integer}
            self.__dict__["_qvr_index_supports"] = cached
        return cached

    def _prepare_values(self, values) -> dict:
        return self._relabel(self._convert_values(values))

    def _convert_values(self, values) -> dict:
        if values is not None and not hasattr(values, "items"):
            raise TypeError(f"site values must be a mapping from site names to tensors, got {type(values).__name__}")
        return {k: self._tensor(v) for k, v in (values or {}).items()}

    def _relabel(self, values: dict) -> dict:
        """Site values under the names the run looks them up by (programs: return labels)."""
        return values

    def _describe_self(self) -> str:
        name = getattr(self, "qvr_name", None) or type(self).__name__
        return f"`{name}` ({self.dom.display()} -> {self.cod.display()})"

    # -- public API -------------------------------------------------------------------------
    def rsample(self, x, *, observations=None, n_steps=None, as_dict=False):
        x = self._prepare_input(x)
        observations = self._prepare_values(observations)
        self._check_ranges(x, observations)
        rec = Recorder(observations=observations, n_steps=n_steps)
        y, _ = self.run(x, rec, self._root_path(), None)
        if as_dict and self.is_program:
            return self.as_dict(y)
        return y

    def log_prob(self, x, y) -> torch.Tensor:
        if not self.is_random or any(s.kind != DETERMINISTIC for s in self.nested_specs(ROOT_SITE)):
            raise NotSupportedError(
                f"{self._describe_self()} has random choices besides its output; use log_joint")
        x = self._prepare_input(x)
        y = self._fit_target(self._tensor(y))
        self._check_ranges(x, y=y)
        _, lp = self.run(x, Recorder(), ROOT_SITE, y)
        return lp

    def trace(self, x, *, observations=None, values=None) -> Trace:
        x = self._prepare_input(x)
        values, observations = self._prepare_values(values), self._prepare_values(observations)
        self._check_ranges(x, values, observations)
        rec = Recorder(values=values, observations=observations)
        return self._trace(x, rec)

    def log_joint(self, x, values) -> torch.Tensor:
        x = self._prepare_input(x)
        values = self._prepare_values(values)
        self._check_ranges(x, values)
        rec = Recorder(values=values, strict=True)
        return self._trace(x, rec).log_joint

    def joint_scorer(self, x, fixed=None):
        """A function ``score(values) -> log_joint(x, {**fixed, **values})``, for scoring many
        values at one input with the same fixed site values (inference: the data stay, the
        latents move). The input and the fixed values are moved, cast and checked here, once;
        each call converts and range-checks only the values it is given."""
        x = self._prepare_input(x)
        fixed = self._convert_values(fixed)
        self._check_ranges(x, self._relabel(dict(fixed)))

        def score(values) -> torch.Tensor:
            given = self._convert_values(values)
            merged = self._relabel({**fixed, **given})
            supports = self._index_site_supports()
            check = {k: v for k, v in merged.items() if k in supports and v is not fixed.get(k)}
            if check:
                self._check_ranges(x, check)
            return self._trace(x, Recorder(values=merged, strict=True)).log_joint

        return score

    def site_specs(self) -> list[SiteSpec]:
        if self.is_program:
            return self.nested_specs("")
        own = SiteSpec(ROOT_SITE, OBSERVED if self.is_random else DETERMINISTIC, self.event_shape,
                       self.support, isinstance(self.cod, SeqType))
        return [own] + self.nested_specs(ROOT_SITE)

    @property
    def observed_names(self) -> set[str]:
        return {s.name for s in self.site_specs() if s.kind == OBSERVED}

    # -- helpers ----------------------------------------------------------------------------
    def _root_path(self) -> str:
        return "" if self.is_program else ROOT_SITE

    def _trace(self, x, rec: Recorder) -> Trace:
        if self.is_program:
            y, _ = self.run(x, rec, "", None)
            return Trace(rec.finished_sites(), y)
        target = None
        if self.is_random:
            rec.reserve(ROOT_SITE)
            target = rec.clamp(ROOT_SITE, observed=True)
            if target is not None:
                target = self._fit_target(target)
        y, lp = self.run(x, rec, ROOT_SITE, target)
        rec.record(ROOT_SITE, y, lp, OBSERVED if self.is_random else DETERMINISTIC, self.support,
                   self.event_shape, isinstance(self.cod, SeqType) or y.dim() > 1 + len(self.event_shape))
        return Trace(rec.finished_sites(), y)

    def _fit_target(self, v: torch.Tensor) -> torch.Tensor:
        """A supplied value of width 1 may omit its trailing axis; indices stay int64."""
        return fit_value(v, self.cod, self.dtype, name=ROOT_SITE)


def fit_value(v: torch.Tensor, t, dtype, *, name: str = None) -> torch.Tensor:
    """A supplied site value in the layout of type `t`: indices int64, floats in `dtype`, a
    width-1 value may omit its trailing axis. ShapeError (naming the site) otherwise."""
    ev = V.event_shape(t)
    if V.is_index_type(t):
        v = v.long()
    else:
        v = v.to(dtype)
    if ev == (1,) and (v.dim() == 1 or v.shape[-1] != 1):
        v = v.unsqueeze(-1)
    if v.dim() < 1 + len(ev) or tuple(v.shape[v.dim() - len(ev):]) != ev:
        where = f"value of site `{name}`" if name else "value"
        raise ShapeError(f"{where}: expected shape {V.describe_shape(t)} (or with a time axis), "
                         f"got {tuple(v.shape)}")
    return v


def _reset(module: nn.Module) -> None:
    if isinstance(module, RuntimeModule):
        module.reset_parameters()
    elif hasattr(module, "reset_parameters"):
        module.reset_parameters()
    else:
        for child in module.children():
            _reset(child)


def _support_of_type(t):
    from torch.distributions import constraints
    e = elem_of(t)
    leaves = e.leaves
    if len(leaves) == 1:
        leaf = leaves[0]
        if e.is_finite:
            return constraints.integer_interval(0, leaf.n - 1)
        if getattr(leaf, "simplex", False):
            return constraints.simplex
        if hasattr(leaf, "m"):  # `Matrix n m` (part 2 §5.1): unconstrained entries
            return constraints.real
        if leaf.low is not None and leaf.high is not None:
            return constraints.interval(leaf.low, leaf.high)
        if leaf.low is not None:
            return constraints.greater_than(leaf.low)
        if leaf.high is not None:
            return constraints.less_than(leaf.high)
        return constraints.real
    if e.is_finite:
        return constraints.nonnegative_integer
    return constraints.real
