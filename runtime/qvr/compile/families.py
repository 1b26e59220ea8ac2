"""The distribution families of spec §5.2 and part 2 §5.9, as one table the rest of the
runtime reads.

A `FamilySpec` says everything the runtime needs about a family: its parameters in positional
order, alternative keyword names, the kernel's raw-parameter blocks and their transforms, which
parameter the `scale` option fixes, whether its value is an index (Bernoulli, Categorical) or a
count, and whether it samples with `rsample`.

`make_distribution(spec, params)` builds a `torch.distributions` object whose batch shape is
the value's leading axes plus, for elementwise families, the coordinate axis;
`event_log_prob(spec, dist, value)` evaluates it and sums over the event coordinates, so the
result has the value's leading shape (``(B,)`` or ``(B, T)``). Families torch lacks
(LogitNormal, TruncatedNormal, and part 2's HalfStudentT, BetaBinomial, ZeroInflatedPoisson,
HurdlePoisson) are built here from torch parts with the closed forms of part 2 §6.2; so are
three whose torch classes fall short here: Logistic (a density finite in the tails), Pareto
(no density below its scale) and RelaxedOneHotCategorical (one temperature per row). Tier-2
families (part 2 §5.9, second table) have specs, so their arguments bind, but building one
raises `NotSupportedError`.
"""
from __future__ import annotations

import math
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Optional

import torch
import torch.nn.functional as F
from torch.distributions import constraints
import torch.distributions as D

from ..errors import NotSupportedError, QvrError
from . import values as V
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
    one_of: tuple[str, ...] = ()             # exactly one of these (probs | logits); first in params
    nonnegative: frozenset = frozenset()     # parameters clamped to >= 0 (Poisson rate, total_count)
    unit: frozenset = frozenset()            # probabilities besides `probs`, clamped into (ε, 1-ε)
    count: bool = False                      # value is a count (float32 integers, part 2 §6.1)
    reparameterised: bool = True             # `draw` uses rsample
    tier: int = 1                            # 2: building it raises NotSupportedError
    learned: bool = True                     # can be a learned kernel (P1 §5.2 families only)

    def canonical(self, key: str) -> Optional[str]:
        if key in self.params:
            return key
        return self.alt.get(key)


_CLAMPED = ("scale", "rate", "concentration", "concentration1", "concentration0", "df", "df1",
            "df2", "temperature", "alpha")


def _spec(name, *, positive=None, scale=None, discrete=False, joint=False, kernel=None,
          nonnegative=(), unit=()):
    """Runtime facts for family `name`; its parameters and keyword names come from the checker's
    schema (`qvr.semantics.families`), so what checks is what runs. Without `positive`, the
    parameters named like scales, rates, concentrations, `df` and `temperature` are clamped
    (part 2 §6.2)."""
    schema = _SCHEMAS[name]
    alt = dict(schema.aliases)
    alt.update({k: k for k in schema.one_of if k not in schema.params})  # probs | logits
    if positive is None:
        positive = [p for p in schema.params if p in _CLAMPED and p not in nonnegative]
    return FamilySpec(name, schema.params, alt, frozenset(positive), scale, discrete, joint,
                      tuple(kernel if kernel is not None else schema.params), schema.one_of,
                      frozenset(nonnegative), frozenset(unit), schema.support == "count",
                      schema.rsample, schema.tier, schema.kernel)


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
    # spec part 2 §5.9: inline and fixed only (no kernel blocks are ever cut for these)
    _spec("Poisson", nonnegative=["rate"]),
    _spec("NegativeBinomial", nonnegative=["total_count"]),
    _spec("Geometric"),
    _spec("Binomial", nonnegative=["total_count"]),
    _spec("BetaBinomial", nonnegative=["total_count"]),
    _spec("ZeroInflatedPoisson", nonnegative=["rate"], unit=["zero_prob"]),
    _spec("HurdlePoisson", unit=["zero_prob"]),
    *(_spec(n) for n in ("Gumbel", "Logistic", "HalfStudentT", "Chi2", "InverseGamma", "Weibull",
                         "Pareto", "Kumaraswamy", "ContinuousBernoulli", "RelaxedBernoulli",
                         "FisherSnedecor", "VonMises")),
    _spec("RelaxedOneHotCategorical", joint=True),
    _spec("MixtureNormal", joint=True),
    _spec("LKJCholesky", joint=True),
    *(_spec(n, positive=()) for n, schema in _SCHEMAS.items() if schema.tier == 2),
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
    for p in spec.params:
        if spec.one_of and p == spec.one_of[0]:
            if sum(k in bound for k in spec.one_of) != 1:
                raise QvrError(f"`{spec.name}` takes exactly one of "
                               + "/".join(f"`{k}`" for k in spec.one_of))
        elif p not in bound:
            raise QvrError(f"`{spec.name}`: missing argument `{p}`; expected ({', '.join(spec.params)})")
    return bound


def clamp_arguments(spec: FamilySpec, params: dict) -> dict:
    """Clamp inline/fixed arguments only where the distribution requires it (spec §5.2). A
    `total_count` is also rounded to a whole number (torch's binomial families require one;
    a count computed in arithmetic, or real data simulated as N(0, 1), need not be)."""
    out = {}
    for key, value in params.items():
        if key in spec.positive:
            value = value.clamp_min(CLAMP_MIN)
        elif key in spec.nonnegative:
            value = value.clamp_min(0.0)
            if key == "total_count":
                value = value.round()
        elif key == "probs" or key in spec.unit:
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


class HalfStudentT(D.Distribution):
    """|StudentT(df, 0, scale)|: log p(x) = log 2 + log StudentT(df, 0, scale)(x) for x ≥ 0, −∞
    below (part 2 §6.2)."""

    arg_constraints = {"df": constraints.positive, "scale": constraints.positive}
    support = constraints.nonnegative
    has_rsample = True

    def __init__(self, df, scale, validate_args=False):
        self.df, self.scale = torch.broadcast_tensors(df, scale)
        self._base = student_t(self.df, torch.zeros_like(self.scale), self.scale)
        super().__init__(self.df.shape, validate_args=validate_args)

    def rsample(self, sample_shape=torch.Size()):
        return self._base.rsample(sample_shape).abs()

    def log_prob(self, value):
        lp = math.log(2.0) + self._base.log_prob(value)
        return torch.where(value >= 0, lp, torch.full_like(lp, -math.inf))


def _log_pmf_outside(value, lp, upper=None):
    """−∞ where `value` is not a count (negative or not a whole number) or exceeds `upper`."""
    ok = (value >= 0) & (value == torch.floor(value))
    if upper is not None:
        ok = ok & (value <= upper)
    return torch.where(ok, lp, torch.full_like(lp, -math.inf))


class BetaBinomial(D.Distribution):
    """The number of successes in `total_count` trials whose success probability is drawn from
    Beta(concentration1, concentration0). The log-density is evaluated in float64 (part 2
    §6.2): its lgamma terms cancel to a small number and lose precision in float32."""

    arg_constraints = {"total_count": constraints.nonnegative,
                       "concentration1": constraints.positive,
                       "concentration0": constraints.positive}
    has_rsample = False

    def __init__(self, total_count, concentration1, concentration0, validate_args=False):
        self.total_count, self.concentration1, self.concentration0 = torch.broadcast_tensors(
            total_count, concentration1, concentration0)
        super().__init__(self.total_count.shape, validate_args=validate_args)

    @property
    def support(self):
        return constraints.integer_interval(0, self.total_count)

    def sample(self, sample_shape=torch.Size()):
        with torch.no_grad():
            p = D.Beta(self.concentration1, self.concentration0).sample(sample_shape)
            return D.Binomial(self.total_count.expand_as(p), probs=p).sample()

    def log_prob(self, value):
        n, a, b = (t.double() for t in (self.total_count, self.concentration1, self.concentration0))
        k = value.double()
        lg = torch.lgamma
        lp = (lg(n + 1) - lg(k + 1) - lg(n - k + 1) + lg(a + k) + lg(b + n - k) - lg(a + b + n)
              - lg(a) - lg(b) + lg(a + b))
        lp = _log_pmf_outside(k, lp.nan_to_num(nan=-math.inf), upper=n)
        return lp.to(value.dtype if value.is_floating_point() else self.total_count.dtype)


#: From this rate on a Poisson draw is N(λ, λ) rounded: torch.poisson returns int64 counts,
#: which overflow near 9.2e18 (it gives -2**63 there), and a heavy-tailed prior on a log rate
#: reaches such rates now and then. The normal draw is the Poisson one to float precision (its
#: relative spread, 1/√λ, is below 1e-9).
POISSON_NORMAL_FROM = 1e18


def poisson_draw(rate: torch.Tensor) -> torch.Tensor:
    """Poisson(rate) counts (float, like torch.poisson), any non-negative rate: exact below
    `POISSON_NORMAL_FROM`, the normal approximation from there on, an infinite rate an infinite
    count. Both are computed everywhere and picked elementwise (no host sync)."""
    big = rate >= POISSON_NORMAL_FROM
    exact = torch.poisson(torch.where(big, torch.zeros_like(rate), rate))
    approx = torch.round(rate + rate.sqrt() * torch.randn_like(rate))
    approx = torch.where(torch.isinf(rate), rate, approx)
    return torch.where(big, approx, exact)


class Poisson(D.Poisson):
    """torch's Poisson, drawn with `poisson_draw` (its own sampler overflows at huge rates)."""

    def sample(self, sample_shape=torch.Size()):
        with torch.no_grad():
            return poisson_draw(self.rate.expand(self._extended_shape(sample_shape)))


class _ZeroAndPoisson(D.Distribution):
    """A count that is 0 with probability `zero_prob` and otherwise comes from a Poisson(rate)
    (how the rest is drawn and scored is the subclass's)."""

    support = constraints.nonnegative_integer
    has_rsample = False

    def __init__(self, zero_prob, rate, validate_args=False):
        self.zero_prob, self.rate = torch.broadcast_tensors(zero_prob, rate)
        super().__init__(self.rate.shape, validate_args=validate_args)


class ZeroInflatedPoisson(_ZeroAndPoisson):
    """0 with probability `zero_prob`, else a Poisson(rate) draw (part 2 §6.2):
    log p(0) = log(π + (1−π)·e^(−λ)); log p(k) = log(1−π) + log Poisson(λ)(k) for k > 0."""

    arg_constraints = {"zero_prob": constraints.unit_interval, "rate": constraints.nonnegative}

    def sample(self, sample_shape=torch.Size()):
        with torch.no_grad():
            shape = self._extended_shape(sample_shape)
            counts = poisson_draw(self.rate.expand(shape))
            zero = torch.rand(shape, dtype=self.rate.dtype, device=self.rate.device) < self.zero_prob
            return torch.where(zero, torch.zeros_like(counts), counts)

    def log_prob(self, value):
        pi, lam = self.zero_prob, self.rate
        at_zero = torch.log(pi + (1 - pi) * torch.exp(-lam))
        positive = torch.log1p(-pi) + value.xlogy(lam) - lam - torch.lgamma(value + 1)
        return _log_pmf_outside(value, torch.where(value == 0, at_zero, positive))


class HurdlePoisson(_ZeroAndPoisson):
    """0 with probability `zero_prob`, else a zero-truncated Poisson(rate) draw (part 2 §6.2):
    log p(0) = log π; log p(k) = log(1−π) + log Poisson(λ)(k) − log(1 − e^(−λ)) for k > 0."""

    arg_constraints = {"zero_prob": constraints.unit_interval, "rate": constraints.positive}

    def sample(self, sample_shape=torch.Size()):
        with torch.no_grad():
            shape = self._extended_shape(sample_shape)
            lam = self.rate.expand(shape).contiguous()
            small = lam < 1.0
            # λ ≥ 1: a Poisson draw with its zeros drawn again (each round keeps at least
            # 1 − e^(−1) of them), exact and fast.
            k = poisson_draw(lam)
            todo = (k == 0) & ~small
            while bool(todo.any()):
                k = torch.where(todo, poisson_draw(lam), k)
                todo = (k == 0) & ~small
            # λ < 1, where zeros would mostly be drawn again: inversion. u uniform on
            # (e^(−λ), 1) is a CDF value above the mass at 0; count up until the CDF passes it.
            if bool(small.any()):
                p0 = torch.exp(-lam)
                u = p0 + (1 - p0) * torch.rand(shape, dtype=lam.dtype, device=lam.device)
                j = torch.ones_like(lam)
                pmf = lam * p0
                cdf = p0 + pmf
                todo = small & (cdf < u)
                while bool(todo.any()):
                    j = torch.where(todo, j + 1, j)
                    pmf = torch.where(todo, pmf * lam / j, pmf)
                    cdf = torch.where(todo, cdf + pmf, cdf)
                    todo = todo & (cdf < u) & (pmf > 0)
                k = torch.where(small, j, k)
            zero = torch.rand(shape, dtype=lam.dtype, device=lam.device) < self.zero_prob
            return torch.where(zero, torch.zeros_like(k), k)

    def log_prob(self, value):
        pi, lam = self.zero_prob, self.rate
        positive = (torch.log1p(-pi) + value.xlogy(lam) - lam - torch.lgamma(value + 1)
                    - torch.log(-torch.expm1(-lam)))
        return _log_pmf_outside(value, torch.where(value == 0, torch.log(pi), positive))


class RelaxedOneHotCategorical(D.Distribution):
    """The Gumbel-softmax (concrete) distribution on the simplex, with one temperature per
    draw: torch's class takes a single temperature for the whole batch, and a per-row one of
    shape (…, 1) there broadcasts the log-density across rows. With π the normalised
    probabilities, τ the temperature and y a point of the K-simplex,
    log p(y) = lgamma(K) + (K−1)·log τ + Σ(log π − (τ+1)·log y) − K·logsumexp(log π − τ·log y);
    `rsample` is softmax((log π + Gumbel noise) / τ)."""

    arg_constraints = {"temperature": constraints.positive}
    support = constraints.simplex
    has_rsample = True

    def __init__(self, temperature, probs=None, logits=None, validate_args=False):
        if (probs is None) == (logits is None):
            raise QvrError("`RelaxedOneHotCategorical` takes exactly one of `probs`/`logits`")
        raw = torch.log(probs) if probs is not None else logits
        log_pi = raw - raw.logsumexp(-1, keepdim=True)
        temperature = temperature[..., :1]  # one per draw, whether given at width 1 or K
        batch = torch.broadcast_shapes(log_pi.shape[:-1], temperature.shape[:-1])
        self.log_pi = log_pi.expand(*batch, log_pi.shape[-1])
        self.temperature = temperature.expand(*batch, 1)
        super().__init__(batch, log_pi.shape[-1:], validate_args=validate_args)

    def rsample(self, sample_shape=torch.Size()):
        shape = self._extended_shape(sample_shape)
        u = torch.rand(shape, dtype=self.log_pi.dtype, device=self.log_pi.device)
        finfo = torch.finfo(u.dtype)
        gumbel = -torch.log(-torch.log(u.clamp(finfo.tiny, 1 - finfo.eps)))
        y = torch.softmax((self.log_pi + gumbel) / self.temperature, dim=-1)
        return y.clamp_min(finfo.tiny)

    def log_prob(self, value):
        k = self.log_pi.shape[-1]
        tau = self.temperature
        log_y = torch.log(value)
        return (math.lgamma(k) + (k - 1) * torch.log(tau[..., 0])
                + (self.log_pi - (tau + 1) * log_y).sum(-1)
                - k * (self.log_pi - tau * log_y).logsumexp(-1))


class Pareto(D.Pareto):
    """torch's Pareto, with no density below `scale` (its support is [scale, ∞); torch
    without argument validation extends the power law below it)."""

    def log_prob(self, value):
        lp = super().log_prob(value)
        return torch.where(value >= self.scale, lp, torch.full_like(lp, -math.inf))


class Logistic(D.Distribution):
    """The distribution part 2 §5.9 composes as Uniform(0, 1), the inverse sigmoid, then
    `loc + scale·z`, with that composition's density in closed form: with z = (x − loc)/scale,
    log p(x) = −z − log scale − 2·softplus(−z). The composed TransformedDistribution maps x
    back through the sigmoid, which rounds to 1 in float32 beyond |z| ≈ 17 and gives −∞
    there; the closed form stays finite in the tails."""

    arg_constraints = {"loc": constraints.real, "scale": constraints.positive}
    support = constraints.real
    has_rsample = True

    def __init__(self, loc, scale, validate_args=False):
        self.loc, self.scale = torch.broadcast_tensors(loc, scale)
        super().__init__(self.loc.shape, validate_args=validate_args)

    def rsample(self, sample_shape=torch.Size()):
        u = torch.rand(self._extended_shape(sample_shape), dtype=self.loc.dtype,
                       device=self.loc.device)
        finfo = torch.finfo(u.dtype)
        return self.loc + self.scale * torch.logit(u.clamp(finfo.tiny, 1 - finfo.eps))

    def log_prob(self, value):
        z = (value - self.loc) / self.scale
        return -z - torch.log(self.scale) - 2 * F.softplus(-z)


def mixture_normal(weights, loc, scale) -> D.Distribution:
    """K normal components mixed by `weights` (normalised to sum 1), component axis last; the
    value has one coordinate fewer than the parameters (part 2 §5.9)."""
    weights, loc, scale = torch.broadcast_tensors(weights, loc, scale)
    # log weights, not probs: torch turns probs into logits with a floor, which would give a
    # component of weight 0 a weight of about 1e-7 (and in the far tail, all the density)
    logits = torch.log(weights) - torch.log(weights.sum(-1, keepdim=True))
    return D.MixtureSameFamily(D.Categorical(logits=logits, validate_args=False),
                               D.Normal(loc, scale, validate_args=False), validate_args=False)


def _matrix_argument(p: dict) -> dict:
    """The one matrix argument of an inline MultivariateNormal, under its torch keyword."""
    for key in ("scale_tril", "covariance_matrix", "precision_matrix"):
        if key in p:
            return {key: p[key]}
    raise QvrError("`MultivariateNormal` needs scale_tril, covariance_matrix or precision_matrix")


def logit_normal(loc, scale) -> D.Distribution:
    return LogitNormal(loc, scale)


def refuse_tier2(spec: FamilySpec) -> None:
    """Tier-2 families (part 2 §5.9) are checked but never built: NotSupportedError."""
    if spec.tier == 2:
        raise NotSupportedError(f"the distribution family `{spec.name}` is checked but not run "
                                "by this runtime (tier 2)")


def _probs_or_logits(p: dict) -> dict:
    return {"logits": p["logits"]} if "logits" in p else {"probs": p["probs"]}


@contextmanager
def _torch_defaults_unvalidated():
    """torch's StudentT and FisherSnedecor make their inner Chi2/Gammas with torch's default
    (validating) settings, which raise on a NaN degree of freedom where every other family
    gives NaN draws (a diverging recurrent model makes such values): while they are made, the
    default is not to validate."""
    before = D.Distribution._validate_args
    D.Distribution.set_default_validate_args(False)
    try:
        yield
    finally:
        D.Distribution.set_default_validate_args(before)


def student_t(df, loc, scale) -> D.StudentT:
    """torch's StudentT, its inner Chi2 unvalidated too (`_torch_defaults_unvalidated`)."""
    with _torch_defaults_unvalidated():
        return D.StudentT(df, loc, scale, validate_args=False)


def make_distribution(spec: FamilySpec, params: dict, size: Optional[int] = None) -> D.Distribution:
    """A torch distribution for `params` (tensors already at the value's shape; for vector
    families the event or component axis is last). `size` is the side `d` of an LKJCholesky
    (part 2 §5.8: from an annotation or `over`); its `concentration` has the batch shape."""
    p = params
    n = spec.name
    v = False  # values outside the support get -inf / nan instead of an exception
    refuse_tier2(spec)
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
        return student_t(p["df"], p["loc"], p["scale"])
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
        return D.MultivariateNormal(p["loc"], **_matrix_argument(p), validate_args=v)
    if n == "Bernoulli":
        if "logits" in p:
            return D.Bernoulli(logits=p["logits"], validate_args=v)
        return D.Bernoulli(probs=p["probs"], validate_args=v)
    if n == "Categorical":
        if "logits" in p:
            return D.Categorical(logits=p["logits"], validate_args=v)
        return D.Categorical(probs=p["probs"], validate_args=v)
    if n == "Poisson":
        return Poisson(p["rate"], validate_args=v)  # rate 0: all mass at 0 (xlogy(0, 0) = 0)
    if n == "NegativeBinomial":
        return D.NegativeBinomial(p["total_count"], **_probs_or_logits(p), validate_args=v)
    if n == "Geometric":
        return D.Geometric(**_probs_or_logits(p), validate_args=v)
    if n == "Binomial":
        return D.Binomial(p["total_count"], **_probs_or_logits(p), validate_args=v)
    if n == "BetaBinomial":
        return BetaBinomial(p["total_count"], p["concentration1"], p["concentration0"])
    if n == "ZeroInflatedPoisson":
        return ZeroInflatedPoisson(p["zero_prob"], p["rate"])
    if n == "HurdlePoisson":
        return HurdlePoisson(p["zero_prob"], p["rate"])
    if n == "Gumbel":
        return D.Gumbel(p["loc"], p["scale"], validate_args=v)
    if n == "Logistic":
        return Logistic(p["loc"], p["scale"])
    if n == "HalfStudentT":
        return HalfStudentT(p["df"], p["scale"])
    if n == "Chi2":
        return D.Chi2(p["df"], validate_args=v)
    if n == "InverseGamma":
        return D.InverseGamma(p["concentration"], p["rate"], validate_args=v)
    if n == "Weibull":
        return D.Weibull(p["scale"], p["concentration"], validate_args=v)
    if n == "Pareto":
        return Pareto(p["scale"], p["alpha"], validate_args=v)
    if n == "Kumaraswamy":
        return D.Kumaraswamy(p["concentration1"], p["concentration0"], validate_args=v)
    if n == "ContinuousBernoulli":
        return D.ContinuousBernoulli(**_probs_or_logits(p), validate_args=v)
    if n == "RelaxedBernoulli":
        return D.RelaxedBernoulli(p["temperature"], **_probs_or_logits(p), validate_args=v)
    if n == "FisherSnedecor":
        with _torch_defaults_unvalidated():
            return D.FisherSnedecor(p["df1"], p["df2"], validate_args=v)
    if n == "VonMises":
        return D.VonMises(p["loc"], p["concentration"], validate_args=v)
    if n == "RelaxedOneHotCategorical":
        return RelaxedOneHotCategorical(p["temperature"], **_probs_or_logits(p))
    if n == "MixtureNormal":
        return mixture_normal(p["weights"], p["loc"], p["scale"])
    if n == "LKJCholesky":
        if size is None or size < 2:
            raise QvrError("`LKJCholesky` needs its side d ≥ 2 (an annotation or `over`)")
        conc = p["concentration"]
        conc = conc[..., 0] if conc.dim() and conc.shape[-1] == 1 else conc
        return D.LKJCholesky(size, conc, validate_args=v)
    raise QvrError(f"unknown distribution family `{n}`")


def draw(spec: FamilySpec, dist: D.Distribution) -> torch.Tensor:
    """A sample: reparameterised for continuous families that allow it, an int64 index for
    discrete ones, float counts for count families (part 2 §6.1). A MixtureNormal draw gets
    back its coordinate axis (`Real 1`)."""
    if spec.discrete:
        return dist.sample().long()
    if spec.name == "MixtureNormal":
        return dist.sample().unsqueeze(-1)
    if spec.reparameterised:
        return dist.rsample()
    return dist.sample()


def event_log_prob(spec: FamilySpec, dist: D.Distribution, value: torch.Tensor) -> torch.Tensor:
    """log p(value), summed over the event coordinates (the last axis for elementwise
    continuous families and Bernoulli); Categorical/Dirichlet/MVN are already joint."""
    if spec.name == "Categorical":
        return dist.log_prob(value.long())
    if spec.name == "Bernoulli":
        return dist.log_prob(value.to(dist.logits.dtype)).sum(-1)
    if spec.name == "MixtureNormal":  # `Real 1` values; the component axis is the parameters'
        return dist.log_prob(value[..., 0])
    lp = dist.log_prob(value)
    return lp if spec.joint else lp.sum(-1)


# Scoring a given value (log_joint, SVI and MCMC, where every random site is clamped) needs no
# distribution object: for these elementwise families the density is evaluated directly, with
# the same operations in the same order as torch's `log_prob` (so the same numbers), without
# building the object (argument broadcasting, constraint bookkeeping) on every call.
_LOG_SQRT_2PI = math.log(math.sqrt(2 * math.pi))
_LOG_PI = math.log(math.pi)
_LOG_2 = math.log(2)


def _normal_lp(p, value):
    # `.pow` and `torch.rsub` are what `**` and `float - tensor` call, minus a Python wrapper
    scale = p["scale"]
    return -(value - p["loc"]).pow(2) / (2 * scale.pow(2)) - scale.log() - _LOG_SQRT_2PI


def _half_normal_lp(p, value):
    scale = p["scale"]
    lp = -value.pow(2) / (2 * scale.pow(2)) - scale.log() - _LOG_SQRT_2PI + _LOG_2
    return torch.where(value >= 0, lp, -math.inf)


def _cauchy_lp(p, value):
    scale = p["scale"]
    return torch.rsub(scale.log(), -_LOG_PI) - ((value - p["loc"]) / scale).pow(2).log1p()


def _half_cauchy_lp(p, value):
    scale = p["scale"]
    lp = torch.rsub(scale.log(), -_LOG_PI) - (value / scale).pow(2).log1p() + _LOG_2
    return torch.where(value >= 0, lp, -math.inf)


def _laplace_lp(p, value):
    scale = p["scale"]
    return -torch.log(2 * scale) - torch.abs(value - p["loc"]) / scale


def _exponential_lp(p, value):
    rate = p["rate"]
    return rate.log() - rate * value


_DIRECT_LOG_PROB = {
    "Normal": _normal_lp, "HalfNormal": _half_normal_lp, "Cauchy": _cauchy_lp,
    "HalfCauchy": _half_cauchy_lp, "Laplace": _laplace_lp, "Exponential": _exponential_lp,
}


DIRECT_FAMILIES = frozenset(_DIRECT_LOG_PROB)


def direct_row_log_prob(spec: FamilySpec, params: dict, value: torch.Tensor) -> Optional[torch.Tensor]:
    """The log-density summed to rows, ``(B,)``, of a Normal whose scale is one number per
    row (a shared noise scale over plates: `Normal(loc=..., scale=s)`): the squared errors are
    summed first and the scale enters once per row, so only the residuals are full-size. None
    in every other case (then `direct_event_log_prob`). Equal to the elementwise sum up to the
    order of float additions."""
    if spec.name != "Normal" or value.dim() < 2:
        return None
    scale, loc = params["scale"], params["loc"]
    dtype = value.dtype
    if not dtype.is_floating_point or scale.dtype != dtype or loc.dtype != dtype:
        return None
    rows = value.shape[0]
    if scale.dim() != value.dim() or scale.shape[0] not in (1, rows) or math.prod(scale.shape[1:]) != 1:
        return None
    residual = value - loc
    if residual.shape != value.shape:  # the arguments would widen the value: not this case
        return None
    n = math.prod(residual.shape[1:])
    s = scale.reshape(scale.shape[0])
    sq = residual.pow(2).reshape(rows, -1).sum(-1)
    return -sq / (2 * s.pow(2)) - n * s.log() - n * _LOG_SQRT_2PI


def direct_event_log_prob(spec: FamilySpec, params: dict, value: torch.Tensor) -> Optional[torch.Tensor]:
    """`event_log_prob(spec, make_distribution(spec, params), value)` without building the
    distribution, for the elementwise families above; None for any other family, or when the
    arguments and value do not share one floating dtype (torch's casts then decide)."""
    fn = _DIRECT_LOG_PROB.get(spec.name)
    if fn is None:
        return None
    dtype = value.dtype
    if not dtype.is_floating_point or any(p.dtype != dtype for p in params.values()):
        return None
    return fn(params, value).sum(-1)


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
    if spec.count:
        return constraints.nonnegative_integer
    if n in ("Gumbel", "Logistic", "VonMises", "MixtureNormal"):
        return constraints.real
    if n in ("Chi2", "InverseGamma", "Weibull", "FisherSnedecor"):
        return constraints.positive
    if n == "HalfStudentT":
        return constraints.nonnegative
    if n == "Pareto":  # part 2 §6.2: greater_than(scale); `low` carries the scale
        return constraints.greater_than(low if low is not None else 0.0)
    if n in ("Kumaraswamy", "ContinuousBernoulli", "RelaxedBernoulli"):
        return constraints.unit_interval
    if n == "RelaxedOneHotCategorical":
        return constraints.simplex
    if n == "LKJCholesky":
        return constraints.corr_cholesky
    refuse_tier2(spec)
    raise QvrError(f"unknown distribution family `{n}`")


# ------------------------------------------------------------------- kernel raw blocks ----
def kernel_block_widths(spec: FamilySpec, d: int, *, fixed_scale: bool) -> list[tuple[str, int]]:
    """The raw parameter blocks (name, width) a learned kernel with event width `d` produces
    (for Categorical `d` is K; for Bernoulli the number of components). The families of part 2
    §5.9 have no kernel blocks (the checker reports a learned kernel over one as QVR131)."""
    if not spec.learned:
        raise QvrError(f"`{spec.name}` cannot be a learned kernel; give its arguments")
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
            out[spec.scale_param] = V.full_scalar((*raw.shape[:-1], d), float(scale), raw.dtype, raw.device)
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
