"""The 17 distribution families of spec §5.2, as one table the rest of the runtime reads.

A `FamilySpec` says everything the runtime needs about a family: its parameters in positional
order, alternative keyword names, the kernel's raw-parameter blocks and their transforms, which
parameter the `scale` option fixes, and whether its value is an index (Bernoulli, Categorical).

`make_distribution(spec, params)` builds a `torch.distributions` object whose batch shape is
the value's leading axes plus, for elementwise families, the coordinate axis;
`event_log_prob(spec, dist, value)` evaluates it and sums over the event coordinates, so the
result has the value's leading shape (``(B,)`` or ``(B, T)``). Families torch lacks
(LogitNormal, TruncatedNormal) are built here from torch parts.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Optional

import torch
import torch.nn.functional as F
from torch.distributions import constraints
import torch.distributions as D

from ..errors import QvrError
from ..semantics.families import FAMILIES as _SCHEMAS

EPS = 1e-5        # added to softplus outputs: sp(r) = softplus(r) + 1e-5
CLAMP_MIN = 1e-7  # inline/fixed arguments: scales and rates at least this; probabilities inside (ε, 1-ε)


def sp(r: torch.Tensor) -> torch.Tensor:
    return F.softplus(r) + EPS


@dataclass(frozen=True)
class FamilySpec:
    name: str
    params: tuple[str, ...]                  # positional order (= kernel column order)
    alt: dict = field(default_factory=dict)  # alternative keyword -> canonical parameter
    positive: frozenset = frozenset()        # parameters clamped to >= CLAMP_MIN when given inline
    scale_param: Optional[str] = None        # parameter fixed by the `scale` option
    discrete: bool = False                   # value is an int64 index
    joint: bool = False                      # log-density is joint over the event (not per coordinate)
    kernel_params: tuple[str, ...] = ()      # parameters a learned kernel produces (in column order)

    def canonical(self, key: str) -> Optional[str]:
        if key in self.params:
            return key
        return self.alt.get(key)


def _spec(name, *, positive=(), scale=None, discrete=False, joint=False, kernel=None):
    """Runtime facts for family `name`; its parameters and keyword names come from the checker's
    schema (`qvr.semantics.families`), so what checks is what runs."""
    schema = _SCHEMAS[name]
    alt = dict(schema.aliases)
    alt.update({k: k for k in schema.one_of if k not in schema.params})  # probs | logits
    return FamilySpec(name, schema.params, alt, frozenset(positive), scale, discrete, joint,
                      tuple(kernel if kernel is not None else schema.params))


FAMILIES: dict[str, FamilySpec] = {s.name: s for s in [
    _spec("Normal", positive=["scale"], scale="scale"),
    _spec("LogitNormal", positive=["scale"], scale="scale"),
    _spec("LogNormal", positive=["scale"], scale="scale"),
    _spec("Laplace", positive=["scale"], scale="scale"),
    _spec("Cauchy", positive=["scale"], scale="scale"),
    _spec("StudentT", positive=["df", "scale"], scale="scale"),
    _spec("HalfNormal", positive=["scale"], scale="scale"),
    _spec("HalfCauchy", positive=["scale"], scale="scale"),
    _spec("Exponential", positive=["rate"]),
    _spec("Gamma", positive=["concentration", "rate"]),
    _spec("Beta", positive=["concentration1", "concentration0"]),
    _spec("Uniform"),
    _spec("TruncatedNormal", positive=["scale"], scale="scale", kernel=["loc", "scale"]),
    _spec("Dirichlet", positive=["concentration"], joint=True),
    _spec("MultivariateNormal", scale="scale_tril", joint=True),
    _spec("Bernoulli", discrete=True, kernel=["logits"]),
    _spec("Categorical", discrete=True, joint=True, kernel=["logits"]),
]}


def family(name: str) -> FamilySpec:
    try:
        return FAMILIES[name]
    except KeyError:
        raise QvrError(f"unknown distribution family `{name}`") from None


# ------------------------------------------------------------------------ argument binding ----
def bind_arguments(spec: FamilySpec, positional=(), keywords=None) -> dict:
    """Bind positional (table order) and keyword (canonical or alternative names) arguments.

    Returns {canonical name: value}; Bernoulli/Categorical keep `logits` under that key. Raises
    QvrError for unknown, duplicate or missing arguments (the checker reports these statically
    as QVR063; this guards direct use of the runtime API).
    """
    keywords = dict(keywords or {})
    if len(positional) > len(spec.params):
        raise QvrError(f"`{spec.name}` takes at most {len(spec.params)} positional arguments")
    bound = dict(zip(spec.params, positional))
    for key, value in keywords.items():
        name = spec.canonical(key)
        if name is None:
            raise QvrError(f"`{spec.name}`: unknown argument `{key}`; expected ({', '.join(spec.params)})")
        if name in bound:
            raise QvrError(f"`{spec.name}`: duplicate argument `{key}`")
        bound[name] = value
    if spec.discrete:
        if ("probs" in bound) == ("logits" in bound):
            raise QvrError(f"`{spec.name}` takes exactly one of `probs`/`logits`")
    else:
        missing = [p for p in spec.params if p not in bound]
        if missing:
            raise QvrError(f"`{spec.name}`: missing argument `{missing[0]}`; expected ({', '.join(spec.params)})")
    return bound


def clamp_arguments(spec: FamilySpec, params: dict) -> dict:
    """Clamp inline/fixed arguments only where the distribution requires it (spec §5.2)."""
    out = {}
    for key, value in params.items():
        if key in spec.positive:
            value = value.clamp_min(CLAMP_MIN)
        elif key == "probs":
            value = value.clamp(CLAMP_MIN, 1 - CLAMP_MIN)
        out[key] = value
    return out


# ------------------------------------------------------------------- torch distributions ----
class TruncatedNormal(D.Distribution):
    """Normal(loc, scale) restricted to [low, high]; reparameterised through the inverse CDF."""

    arg_constraints = {"loc": constraints.real, "scale": constraints.positive}
    has_rsample = True

    def __init__(self, loc, scale, low, high, validate_args=False):
        self.loc, self.scale, self.low, self.high = torch.broadcast_tensors(loc, scale, low, high)
        super().__init__(self.loc.shape, validate_args=validate_args)
        self._alpha = (self.low - self.loc) / self.scale
        self._beta = (self.high - self.loc) / self.scale
        self._cdf_a = torch.special.ndtr(self._alpha)
        self._cdf_b = torch.special.ndtr(self._beta)
        self._log_z = torch.log((self._cdf_b - self._cdf_a).clamp_min(1e-30))

    @property
    def support(self):
        return constraints.interval(self.low, self.high)

    def rsample(self, sample_shape=torch.Size()):
        shape = self._extended_shape(sample_shape)
        u = torch.rand(shape, dtype=self.loc.dtype, device=self.loc.device)
        p = self._cdf_a + u * (self._cdf_b - self._cdf_a)
        p = p.clamp(1e-7, 1 - 1e-7)
        x = self.loc + self.scale * torch.special.ndtri(p)
        return torch.minimum(torch.maximum(x, self.low), self.high)

    def log_prob(self, value):
        z = (value - self.loc) / self.scale
        lp = -0.5 * z * z - math.log(math.sqrt(2 * math.pi)) - torch.log(self.scale) - self._log_z
        inside = (value >= self.low) & (value <= self.high)
        return torch.where(inside, lp, torch.full_like(lp, -math.inf))


class LogitNormal(D.Distribution):
    """sigmoid(Normal(loc, scale)); closed-form density (cheaper than a TransformedDistribution):
    log p(v) = log N(logit v; loc, scale) − log v − log(1 − v)."""

    arg_constraints = {"loc": constraints.real, "scale": constraints.positive}
    support = constraints.unit_interval
    has_rsample = True

    def __init__(self, loc, scale, validate_args=False):
        self.loc, self.scale = torch.broadcast_tensors(loc, scale)
        super().__init__(self.loc.shape, validate_args=validate_args)

    def rsample(self, sample_shape=torch.Size()):
        eps = torch.randn(self._extended_shape(sample_shape), dtype=self.loc.dtype, device=self.loc.device)
        finfo = torch.finfo(self.loc.dtype)  # keep samples strictly inside (0, 1), as torch does
        return torch.sigmoid(self.loc + self.scale * eps).clamp(finfo.tiny, 1.0 - finfo.eps)

    def log_prob(self, value):
        z = (torch.logit(value) - self.loc) / self.scale
        return (-0.5 * z * z - _HALF_LOG_2PI - torch.log(self.scale)
                - torch.log(value) - torch.log1p(-value))


_HALF_LOG_2PI = 0.5 * math.log(2 * math.pi)


def logit_normal(loc, scale) -> D.Distribution:
    return LogitNormal(loc, scale)


def make_distribution(spec: FamilySpec, params: dict) -> D.Distribution:
    """A torch distribution for `params` (tensors already at the value's shape)."""
    p = params
    n = spec.name
    v = False  # values outside the support get -inf / nan instead of an exception
    if n == "Normal":
        return D.Normal(p["loc"], p["scale"], validate_args=v)
    if n == "LogitNormal":
        return logit_normal(p["loc"], p["scale"])
    if n == "LogNormal":
        return D.LogNormal(p["loc"], p["scale"], validate_args=v)
    if n == "Laplace":
        return D.Laplace(p["loc"], p["scale"], validate_args=v)
    if n == "Cauchy":
        return D.Cauchy(p["loc"], p["scale"], validate_args=v)
    if n == "StudentT":
        return D.StudentT(p["df"], p["loc"], p["scale"], validate_args=v)
    if n == "HalfNormal":
        return D.HalfNormal(p["scale"], validate_args=v)
    if n == "HalfCauchy":
        return D.HalfCauchy(p["scale"], validate_args=v)
    if n == "Exponential":
        return D.Exponential(p["rate"], validate_args=v)
    if n == "Gamma":
        return D.Gamma(p["concentration"], p["rate"], validate_args=v)
    if n == "Beta":
        return D.Beta(p["concentration1"], p["concentration0"], validate_args=v)
    if n == "Uniform":
        return D.Uniform(p["low"], p["high"], validate_args=v)
    if n == "TruncatedNormal":
        return TruncatedNormal(p["loc"], p["scale"], p["low"], p["high"])
    if n == "Dirichlet":
        return D.Dirichlet(p["concentration"], validate_args=v)
    if n == "MultivariateNormal":
        return D.MultivariateNormal(p["loc"], scale_tril=p["scale_tril"], validate_args=v)
    if n == "Bernoulli":
        if "logits" in p:
            return D.Bernoulli(logits=p["logits"], validate_args=v)
        return D.Bernoulli(probs=p["probs"], validate_args=v)
    if n == "Categorical":
        if "logits" in p:
            return D.Categorical(logits=p["logits"], validate_args=v)
        return D.Categorical(probs=p["probs"], validate_args=v)
    raise QvrError(f"unknown distribution family `{n}`")


def draw(spec: FamilySpec, dist: D.Distribution) -> torch.Tensor:
    """A sample: reparameterised for continuous families, an int64 index for discrete ones."""
    if spec.discrete:
        return dist.sample().long()
    return dist.rsample()


def event_log_prob(spec: FamilySpec, dist: D.Distribution, value: torch.Tensor) -> torch.Tensor:
    """log p(value), summed over the event coordinates (the last axis for elementwise
    continuous families and Bernoulli); Categorical/Dirichlet/MVN are already joint."""
    if spec.name == "Categorical":
        return dist.log_prob(value.long())
    if spec.name == "Bernoulli":
        return dist.log_prob(value.to(dist.logits.dtype)).sum(-1)
    lp = dist.log_prob(value)
    return lp if spec.joint else lp.sum(-1)


def support_of(spec: FamilySpec, width: int, *, low=None, high=None):
    """The site support (a torch constraint) of values of `spec` at event width `width`."""
    n = spec.name
    if n in ("Normal", "Laplace", "Cauchy", "StudentT", "MultivariateNormal"):
        return constraints.real
    if n in ("LogitNormal", "Beta"):
        return constraints.unit_interval
    if n in ("LogNormal", "Gamma"):
        return constraints.positive
    if n in ("HalfNormal", "HalfCauchy", "Exponential"):
        return constraints.nonnegative
    if n in ("Uniform", "TruncatedNormal"):
        if low is not None and high is not None:
            return constraints.interval(float(low), float(high))
        return constraints.real
    if n == "Dirichlet":
        return constraints.simplex
    if n == "Bernoulli":
        return constraints.boolean
    if n == "Categorical":
        return constraints.integer_interval(0, width - 1)
    raise QvrError(f"unknown distribution family `{n}`")


# ------------------------------------------------------------------- kernel raw blocks ----
def kernel_block_widths(spec: FamilySpec, d: int, *, fixed_scale: bool) -> list[tuple[str, int]]:
    """The raw parameter blocks (name, width) a learned kernel with event width `d` produces
    (for Categorical `d` is K; for Bernoulli the number of components)."""
    if spec.name == "MultivariateNormal":
        blocks = [("loc", d)]
        if not fixed_scale:
            blocks.append(("scale_tril", d * (d + 1) // 2))
        return blocks
    return [(p, d) for p in spec.kernel_params if not (fixed_scale and p == spec.scale_param)]


def kernel_parameters(spec: FamilySpec, raw: torch.Tensor, d: int, *, scale: Optional[float],
                      low=None, high=None, blocks=None) -> dict:
    """Cut `raw` (..., P) into blocks and map each through its transform (spec §5.2 table).
    `blocks` is `kernel_block_widths(...)`, precomputed by kernels on their hot path."""
    if blocks is None:
        blocks = kernel_block_widths(spec, d, fixed_scale=scale is not None)
    pieces = torch.split(raw, [w for _, w in blocks], dim=-1)
    out = {}
    for (name, _), piece in zip(blocks, pieces):
        if name in ("loc", "logits"):
            out[name] = piece
        elif name == "high":   # Uniform: high = low + sp(raw)
            out[name] = out["low"] + sp(piece)
        elif name == "low":
            out[name] = piece
        elif name == "scale_tril":
            out[name] = _tril_from_raw(piece, d)
        else:
            out[name] = sp(piece)
    if spec.name == "Uniform" and "high" not in out:
        raise QvrError("Uniform kernel needs both blocks")
    if scale is not None:
        ref = out.get("loc", raw)
        if spec.name == "MultivariateNormal":
            eye = torch.eye(d, dtype=raw.dtype, device=raw.device)
            out["scale_tril"] = (scale * eye).expand(*ref.shape[:-1], d, d)
        else:
            out[spec.scale_param] = raw.new_full((*raw.shape[:-1], d), float(scale))
    if spec.name == "TruncatedNormal":
        out["low"] = torch.full_like(out["loc"], float(low))
        out["high"] = torch.full_like(out["loc"], float(high))
    return out


def _tril_from_raw(raw: torch.Tensor, d: int) -> torch.Tensor:
    """d(d+1)/2 raw entries -> lower-triangular (d, d) with a softplus'd positive diagonal."""
    rows, cols = torch.tril_indices(d, d, device=raw.device)
    out = raw.new_zeros(*raw.shape[:-1], d, d)
    out[..., rows, cols] = raw
    diag = torch.diagonal(out, dim1=-2, dim2=-1)
    return out - torch.diag_embed(diag) + torch.diag_embed(sp(diag))
