"""Primitive runtime modules (spec §5.2–§5.4): learned kernels, fixed distributions, inline
distributions, deterministic maps, embeddings and discretize.

Parameter names are part of the API (§6.2): `table` (all-finite domain, affine), `linear.*`
(affine), `mlp.<i>.*` (mlp), `weight` (embed). Every module works on the last axis and passes
leading axes through, so lifting over a time axis needs no special case here.
"""
from __future__ import annotations

from typing import Optional

import torch
import torch.nn.functional as F
from torch import nn

from ..errors import QvrError
from ..semantics.types import Fin, ObjType, elem_of
from . import families as FAM
from . import values as V
from .base import RuntimeModule


# ------------------------------------------------------------------- parameter sources ----
class _ParamSource(RuntimeModule):
    """Shared by kernels and deterministic maps: features -> raw parameters (…, P)."""

    def _build_source(self, dom: ObjType, P: int, options: dict) -> None:
        dom = elem_of(dom)
        self._src_dom = dom
        source = options.get("param_source", "affine")
        if "hidden_dim" in options or "n_layers" in options:
            source = "mlp"
        self._source = source
        if source == "affine" and dom.is_finite:
            self._source = "table"
            self.table = nn.Parameter(torch.empty(dom.cardinality, P))
        elif source == "affine":
            self.linear = nn.Linear(dom.feature_width, P)
        else:
            hidden = options.get("hidden_dim", 64)
            # one width per hidden layer: `hidden_dim=[64, 32]` (or `mlp(64, 32)`), else the
            # same width `n_layers` times
            widths = ([int(h) for h in hidden] if isinstance(hidden, (list, tuple))
                      else [int(hidden)] * int(options.get("n_layers", 2)))
            layers: list[nn.Module] = []
            width = dom.feature_width
            for hidden in widths:
                layers += [nn.Linear(width, hidden), nn.Tanh()]
                width = hidden
            layers.append(nn.Linear(width, P))
            self.mlp = nn.Sequential(*layers)
        self._reset_source()

    def _reset_source(self) -> None:
        if self._source == "table":
            with torch.no_grad():
                self.table.normal_(0.0, 0.1)
        elif self._source == "affine":
            self.linear.reset_parameters()
        else:
            for m in self.mlp:
                if isinstance(m, nn.Linear):
                    m.reset_parameters()

    def reset_parameters(self) -> None:
        self._reset_source()

    def raw(self, x: torch.Tensor) -> torch.Tensor:
        if self._source == "table":
            return self.table[V.joint_index(x, self._src_dom)]
        u = V.features(x, self._src_dom, dtype=x.dtype if x.dtype.is_floating_point else self.dtype)
        return self.linear(u) if self._source == "affine" else self.mlp(u)


# ---------------------------------------------------------------------------- kernels ----
class Kernel(_ParamSource):
    """A learned conditional distribution `A -> B ~ F [opts]` (spec §5.3)."""

    is_random = True

    def __init__(self, dom: ObjType, cod: ObjType, family: str, options: Optional[dict] = None):
        super().__init__(dom, cod)
        options = dict(options or {})
        self.spec = FAM.family(family)
        cod_e = elem_of(cod)
        if self.spec.name == "Categorical":
            self.d = cod_e.cardinality
        else:
            self.d = cod_e.width
        self.scale = options.get("scale")
        if self.scale is not None and self.spec.scale_param is None:
            raise QvrError(f"option `scale` does not apply to `{family}`")
        leaf = cod_e.leaves[0]
        self._low = getattr(leaf, "low", None)
        self._high = getattr(leaf, "high", None)
        self._blocks = FAM.kernel_block_widths(self.spec, self.d, fixed_scale=self.scale is not None)
        self._build_source(dom, sum(w for _, w in self._blocks), options)

    @property
    def support(self):
        return FAM.support_of(self.spec, self.d, low=self._low, high=self._high)

    def distribution(self, x: torch.Tensor):
        params = FAM.kernel_parameters(self.spec, self.raw(x), self.d, scale=self.scale,
                                       low=self._low, high=self._high, blocks=self._blocks)
        return FAM.make_distribution(self.spec, params)

    def run(self, x, rec, path, target=None):
        dist = self.distribution(x)
        return sample_or_score(self.spec, dist, self.cod, target)


def sample_or_score(spec, dist, cod, target):
    """Sample (or take `target`) and score it; handles index layouts of discrete families."""
    cod_e = elem_of(cod)
    if spec.name == "Categorical":
        if target is None:
            idx = dist.sample().long()
            y = V.unravel_index(idx, cod_e)
        else:
            y = target.long()
            idx = V.joint_index(y, cod_e)
        return y, V.reduce_to_batch(dist.log_prob(idx))
    if spec.name == "Bernoulli":
        rank = V.element_rank(cod_e)
        if target is None:
            cols = dist.sample().long()
            y = cols.squeeze(-1) if rank == 0 else cols
        else:
            y = target.long()
            cols = y.unsqueeze(-1) if rank == 0 else y
        return y, V.reduce_to_batch(FAM.event_log_prob(spec, dist, cols))
    y = FAM.draw(spec, dist) if target is None else target
    return y, V.reduce_to_batch(FAM.event_log_prob(spec, dist, y))


class FixedDistribution(RuntimeModule):
    """`f : A -> B ~ F(args)`: literal parameters, no learned weights; the input only gives
    the batch shape (spec §4.4)."""

    is_random = True

    def __init__(self, dom, cod, family: str, args: dict):
        super().__init__(dom, cod)
        self.spec = FAM.family(family)
        cod_e = elem_of(cod)
        self.d = cod_e.cardinality if self.spec.name == "Categorical" else cod_e.width
        self._names = []
        for name, value in args.items():
            t = torch.as_tensor(value, dtype=torch.float32)
            buf = f"arg_{name}"
            self.register_buffer(buf, t)
            self._names.append(name)
        leaf = cod_e.leaves[0]
        self._low = getattr(leaf, "low", None)
        self._high = getattr(leaf, "high", None)

    @property
    def support(self):
        if self.spec.name in ("Uniform", "TruncatedNormal"):
            return FAM.support_of(self.spec, self.d, low=float(self.arg_low.min()),
                                  high=float(self.arg_high.max()))
        return FAM.support_of(self.spec, self.d)

    def run(self, x, rec, path, target=None):
        lead = x.shape[: x.dim() - V.element_rank(self.dom)]
        params = {}
        for name in self._names:
            t = getattr(self, f"arg_{name}").to(self.dtype)
            if self.spec.name == "MultivariateNormal" and name == "scale_tril":
                params[name] = t.expand(*lead, self.d, self.d)
            else:
                params[name] = t.expand(*lead, self.d)
        params = FAM.clamp_arguments(self.spec, params)
        if target is not None:
            lp = FAM.direct_event_log_prob(self.spec, params, target)
            if lp is not None:
                return target, V.reduce_to_batch(lp)
        return sample_or_score(self.spec, FAM.make_distribution(self.spec, params), self.cod, target)


class InlineFamily(RuntimeModule):
    """An inline distribution in a program step (`Normal(loc=mu, scale=0.5)`): its input is a
    dict of argument tensors, broadcast to width `w` (spec §5.7 step 3)."""

    is_random = True

    def __init__(self, family: str, width: int, value_type, *, low=None, high=None):
        super().__init__(value_type, value_type)
        self.spec = FAM.family(family)
        self.w = width
        self._low, self._high = low, high  # literal bounds (Uniform/TruncatedNormal) give the support

    @property
    def support(self):
        # fixed at construction (family, width, literal bounds); read on every run's record
        support = self.__dict__.get("_qvr_support")
        if support is None:
            support = FAM.support_of(self.spec, self.w, low=self._low, high=self._high)
            self.__dict__["_qvr_support"] = support
        return support

    @property
    def scores_directly(self) -> bool:
        """Whether a given value is scored in closed form (`families.direct_event_log_prob`),
        so that the arguments may come unbroadcast (size-1 axes against the value's)."""
        return self.spec.name in FAM.DIRECT_FAMILIES and getattr(self, "size", None) is None

    def run(self, x: dict, rec, path, target=None):
        names = list(x)
        cols = V.broadcast_time([x[k] for k in names])
        if target is not None and all(c.dim() == target.dim() for c in cols):
            # elementwise: every argument broadcasts against the value, whose shape is the site's
            params = FAM.clamp_arguments(self.spec, dict(zip(names, cols)))
            lp = FAM.direct_row_log_prob(self.spec, params, target)
            if lp is not None:
                return target, lp
            lp = FAM.direct_event_log_prob(self.spec, params, target)
            if lp is not None:
                return target, V.reduce_to_batch(lp)
        lead = max(cols, key=lambda c: c.dim()).shape[:-1]   # (B,) or (B, T); literals are (1,)
        params = {k: c.expand(*lead, self.w) for k, c in zip(names, cols)}
        params = FAM.clamp_arguments(self.spec, params)
        if target is not None:
            lp = FAM.direct_event_log_prob(self.spec, params, target)
            if lp is not None:
                return target, V.reduce_to_batch(lp)
        dist = FAM.make_distribution(self.spec, params)
        return sample_or_score(self.spec, dist, self.cod, target)


# ---------------------------------------------------------------- deterministic maps ----
def codomain_transform(raw: torch.Tensor, cod: ObjType) -> torch.Tensor:
    """T_B (spec §5.4): map raw columns into the codomain, leaf by leaf."""
    leaves = elem_of(cod).leaves
    if len(leaves) == 1:
        return _leaf_transform(raw, leaves[0])
    pieces = torch.split(raw, [l.width for l in leaves], dim=-1)
    return torch.cat([_leaf_transform(p, l) for p, l in zip(pieces, leaves)], dim=-1)


def _leaf_transform(raw, leaf):
    if isinstance(leaf, Fin):
        raise QvrError("a deterministic map needs a continuous codomain")
    if leaf.simplex:
        return torch.softmax(raw, dim=-1)
    if leaf.low is not None and leaf.high is not None:
        return leaf.low + (leaf.high - leaf.low) * torch.sigmoid(raw)
    if leaf.low is not None:
        return leaf.low + F.softplus(raw)
    if leaf.high is not None:
        return leaf.high - F.softplus(raw)
    return raw


class Deterministic(_ParamSource):
    """`morphism f : A -> B` without a family: y = T_B(raw(u)) (spec §5.4)."""

    def __init__(self, dom, cod, options: Optional[dict] = None):
        super().__init__(dom, cod)
        self._build_source(dom, elem_of(cod).width, dict(options or {}))

    def run(self, x, rec, path, target=None):
        return codomain_transform(self.raw(x), self.cod), None


class Embed(RuntimeModule):
    """A deterministic learned lookup `y = T_B(weight[x])`, weight ~ N(0, 1) (spec §5.4)."""

    def __init__(self, dom, cod):
        super().__init__(dom, cod)
        self.weight = nn.Parameter(torch.empty(elem_of(dom).cardinality, elem_of(cod).width))
        self.reset_parameters()

    def reset_parameters(self) -> None:
        with torch.no_grad():
            self.weight.normal_(0.0, 1.0)

    def run(self, x, rec, path, target=None):
        idx = V.joint_index(x, elem_of(self.dom)) if V.element_rank(self.dom) else x.long()
        return codomain_transform(self.weight[idx], self.cod), None


class Discretize(RuntimeModule):
    """`d : S -> FinSet n`: Categorical over n evenly spaced bin centres on [low, high] with
    logits −(x − c)² / temperature (spec §5.4)."""

    is_random = True

    def __init__(self, dom, n: int, temperature: float = 0.1):
        leaf = elem_of(dom).leaves[0]
        super().__init__(dom, ObjType.fin(n))
        self.temperature = float(temperature)
        self.register_buffer("centres", torch.linspace(float(leaf.low), float(leaf.high), n))
        self.spec = FAM.FAMILIES["Categorical"]

    @property
    def support(self):
        return FAM.support_of(self.spec, self.centres.numel())

    def run(self, x, rec, path, target=None):
        logits = -(x - self.centres.to(x.dtype)) ** 2 / self.temperature
        dist = FAM.make_distribution(self.spec, {"logits": logits})
        return sample_or_score(self.spec, dist, self.cod, target)
