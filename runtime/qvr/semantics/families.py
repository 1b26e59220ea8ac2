"""Semantic tables the checker needs: distribution family schemas (spec §5.2 and part 2 §5.9),
builtins (§5.7, part 2 §5.8), quantales and algebras (§5.9, part 2 §5.10), roles and option keys
(§4.4), grammar-parser vocabulary (§4.5).

These tables carry *meaning* (parameter order, supports, which family has a scale) that the
plain name tuples of `qvr.syntax.vocabulary` do not; the runtime reads them too so that the
checker and the runtime agree on parameter names and value types.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

# Word lists live in the vocabulary (shared with the grammars and the editors); this module
# adds their meaning.
from ..syntax import vocabulary as _vocabulary

# Support kinds and the value type an inline draw at width w has (`value_type`):
#   "real" (ℝ, `Real w`), "periodic" (ℝ, density periodic: VonMises), "unit" ((0, 1),
#   `Real w {low=0.0, high=1.0}`), "positive" ([0, ∞), `Real w {low=0.0}`), "at_least_scale"
#   ([scale, ∞): Pareto, typed `Real w {low=0.0}`), "bounded" ([low, high]), "count" ({0, 1, …},
#   `Count w`), "simplex" (`Simplex K`), "binary" ({0, 1}: `FinSet 2`), "categorical"
#   (`FinSet K`), "mixture" (`Real 1`, one value whatever the number of components), "matrix"
#   (`Matrix d d`), and for tier-2 families "onehot" (`Real K`), "ordinal" (`FinSet (c+1)`),
#   "logistic_simplex" (`Simplex (w+1)`), "as_argument" (the type of a distribution argument).


@dataclass(frozen=True)
class FamilySchema:
    name: str
    params: tuple[str, ...]          # positional order = kernel block order
    aliases: dict                    # alternative keyword -> canonical parameter
    support: str
    has_scale: bool
    inline: bool = True              # usable as an inline draw
    one_of: tuple[str, ...] = ()     # exactly one of these (probs | logits); the first is in params
    kernel: bool = True              # usable as a learned kernel `~ F` (else QVR131)
    tier: int = 1                    # 2: checked, building or running it is NotSupportedError
    rsample: bool = True             # reparameterised sampling
    sized: bool = False              # event size from an annotation or `over` (spec part 2 §5.8)
    vector_params: tuple[str, ...] = ()  # parameters whose width is the event size K
    value: str = ""                  # the value type as people read it

    def canonical(self, key: str):
        if key in self.params or key in self.one_of:
            return key
        return self.aliases.get(key)

    def schema_text(self) -> str:
        """`total_count, probs | logits`: the parameters in positional order, an alternative
        group where its first member stands."""
        return ", ".join(" | ".join(self.one_of) if self.one_of and p == self.one_of[0] else p
                         for p in self.params)

    def required(self, bound) -> Optional[str]:
        """The first parameter missing from `bound` (names as `canonical` gives them), or None;
        an alternative group is satisfied by any one of its members."""
        for p in self.params:
            if self.one_of and p == self.one_of[0]:
                if not any(k in bound for k in self.one_of):
                    return p
            elif p not in bound:
                return p
        return None

    @property
    def discrete(self) -> bool:
        return self.support in ("binary", "categorical", "ordinal")


def _f(name, params, support, scale, aliases=None, inline=True, one_of=(), value=""):
    return FamilySchema(name, tuple(params), dict(aliases or {}), support, scale, inline,
                        tuple(one_of), value=value or _VALUE_TEXT.get(support, ""))


def _new(name, params, support, *, one_of=(), aliases=None, rsample=True, tier=1, sized=False,
         vector=(), value=""):
    """A family of spec part 2 §5.9: inline and fixed only (a learned kernel is QVR131)."""
    return FamilySchema(name, tuple(params), dict(aliases or {}), support, False, True,
                        tuple(one_of), kernel=False, tier=tier, rsample=rsample, sized=sized,
                        vector_params=tuple(vector), value=value or _VALUE_TEXT.get(support, ""))


_VALUE_TEXT = {
    "real": "Real w", "periodic": "Real w", "unit": "Real w {low=0.0, high=1.0}",
    "positive": "Real w {low=0.0}", "at_least_scale": "Real w {low=0.0}",
    "bounded": "Real w {low=low, high=high}", "count": "Count w", "simplex": "Simplex K",
    "binary": "FinSet 2", "categorical": "FinSet K", "mixture": "Real 1", "matrix": "Matrix d d",
    "onehot": "Real K", "ordinal": "FinSet (c+1)", "logistic_simplex": "Simplex (w+1)",
    "as_argument": "the type of its distribution argument",
}
_PROBS = ("probs", "logits")

FAMILIES: dict[str, FamilySchema] = {f.name: f for f in (
    # P1 §5.2, unchanged (MultivariateNormal also inline, with its matrix alternatives)
    _f("Normal", ("loc", "scale"), "real", True),
    _f("LogitNormal", ("loc", "scale"), "unit", True, {"mu": "loc", "sigma": "scale"}),
    _f("LogNormal", ("loc", "scale"), "positive", True),
    _f("Laplace", ("loc", "scale"), "real", True),
    _f("Cauchy", ("loc", "scale"), "real", True),
    _f("StudentT", ("df", "loc", "scale"), "real", True),
    _f("HalfNormal", ("scale",), "positive", True),
    _f("HalfCauchy", ("scale",), "positive", True),
    _f("Exponential", ("rate",), "positive", False),
    _f("Gamma", ("concentration", "rate"), "positive", False),
    _f("Beta", ("concentration1", "concentration0"), "unit", False),
    _f("Uniform", ("low", "high"), "bounded", False),
    _f("TruncatedNormal", ("loc", "scale", "low", "high"), "bounded", True,
       {"mu": "loc", "sigma": "scale"}),
    _f("Dirichlet", ("concentration",), "simplex", False),
    _f("MultivariateNormal", ("loc", "scale_tril"), "real", True,
       one_of=("scale_tril", "covariance_matrix", "precision_matrix"), value="Real d"),
    _f("Bernoulli", ("probs",), "binary", False, one_of=_PROBS),
    _f("Categorical", ("probs",), "categorical", False, one_of=_PROBS),
    # spec part 2 §5.9, tier 1: count families
    _new("Poisson", ("rate",), "count", rsample=False),
    _new("NegativeBinomial", ("total_count", "probs"), "count", one_of=_PROBS, rsample=False),
    _new("Geometric", ("probs",), "count", one_of=_PROBS, rsample=False),
    _new("Binomial", ("total_count", "probs"), "count", one_of=_PROBS, rsample=False),
    _new("BetaBinomial", ("total_count", "concentration1", "concentration0"), "count",
         rsample=False),
    _new("ZeroInflatedPoisson", ("zero_prob", "rate"), "count", rsample=False),
    _new("HurdlePoisson", ("zero_prob", "rate"), "count", rsample=False),
    # continuous families
    _new("Gumbel", ("loc", "scale"), "real"),
    _new("Logistic", ("loc", "scale"), "real"),
    _new("HalfStudentT", ("df", "scale"), "positive"),
    _new("Chi2", ("df",), "positive"),
    _new("InverseGamma", ("concentration", "rate"), "positive"),
    _new("Weibull", ("scale", "concentration"), "positive"),
    _new("Pareto", ("scale", "alpha"), "at_least_scale"),
    _new("Kumaraswamy", ("concentration1", "concentration0"), "unit"),
    _new("ContinuousBernoulli", ("probs",), "unit", one_of=_PROBS),
    _new("RelaxedBernoulli", ("temperature", "probs"), "unit", one_of=_PROBS),
    _new("FisherSnedecor", ("df1", "df2"), "positive"),
    _new("VonMises", ("loc", "concentration"), "periodic", rsample=False),
    # vector and matrix families
    _new("RelaxedOneHotCategorical", ("temperature", "probs"), "simplex", one_of=_PROBS,
         sized=True, vector=_PROBS),
    _new("MixtureNormal", ("weights", "loc", "scale"), "mixture", rsample=False,
         vector=("weights", "loc", "scale")),
    _new("LKJCholesky", ("concentration",), "matrix", rsample=False, sized=True),
    # tier 2: schema-checked (QVR063/QVR064), not runnable
    _new("OneHotCategorical", ("probs",), "onehot", one_of=_PROBS, tier=2, rsample=False,
         vector=_PROBS),
    _new("OrderedLogistic", ("predictor", "cutpoints"), "ordinal", aliases={"eta": "predictor"},
         tier=2, rsample=False, vector=("cutpoints",)),
    _new("OrderedProbit", ("predictor", "cutpoints"), "ordinal", aliases={"eta": "predictor"},
         tier=2, rsample=False, vector=("cutpoints",)),
    _new("Horseshoe", ("scale",), "real", tier=2),
    _new("ZeroOneInflatedBeta", ("mu", "phi", "zoi", "coi"), "unit", tier=2, rsample=False),
    _new("LogisticNormal", ("loc", "scale"), "logistic_simplex", tier=2),
    _new("LowRankMVN", ("loc", "cov_factor", "cov_diag"), "real", tier=2, value="Real d"),
    _new("Wishart", ("df", "covariance_matrix"), "matrix", tier=2),
    _new("InverseWishart", ("df", "scale_tril"), "matrix", tier=2),
    _new("MatrixNormal", ("loc", "row_covariance", "col_covariance"), "matrix", tier=2,
         value="Matrix n m (the shape of loc)"),
    _new("GP", ("mean", "kernel"), "real", tier=2, value="Real n"),
    _new("LKJCorrelationFactor", ("concentration",), "matrix", tier=2, rsample=False, sized=True),
    _new("Mixture", ("weights", "components"), "as_argument", tier=2, rsample=False,
         value="the type of the components"),
    *(_new(n, ("base", "low", "high"), "as_argument", tier=2, value="the type of base")
      for n in ("Restrict", "Truncate", "Truncated")),
    _new("Normalize", ("base",), "as_argument", tier=2, value="the type of base"),
    _new("PointMass", ("value",), "as_argument", tier=2, rsample=False,
         value="the type of value"),
    *(_new(n, ("base", "transforms"), "as_argument", tier=2, value="the type of base")
      for n in ("Transformed", "Pushforward")),
    _new("Independent", ("base", "reinterpreted_batch_ndims"), "as_argument", tier=2,
         value="the type of base"),
)}

# Family classes for QVR032 (P1 §4.4; spec part 2 §5.9 sorts the new families by support).
REAL_LINE_FAMILIES = frozenset({"Normal", "Laplace", "Cauchy", "StudentT", "MultivariateNormal",
                                "Gumbel", "Logistic", "VonMises", "MixtureNormal"})
UNIT_FAMILIES = frozenset({"LogitNormal", "Beta", "Kumaraswamy", "ContinuousBernoulli",
                           "RelaxedBernoulli"})
POSITIVE_FAMILIES = frozenset({"LogNormal", "HalfNormal", "HalfCauchy", "Exponential", "Gamma",
                               "HalfStudentT", "Chi2", "InverseGamma", "Weibull", "Pareto",
                               "FisherSnedecor"})
SIMPLEX_FAMILIES = frozenset({"Dirichlet", "RelaxedOneHotCategorical"})
# Count values have no writable codomain: a fixed count distribution is always QVR032.
COUNT_FAMILIES = frozenset(n for n, f in FAMILIES.items() if f.support == "count")
ORDINAL_FAMILIES = frozenset(n for n, f in FAMILIES.items() if f.support == "ordinal")
TIER2_FAMILIES = frozenset(n for n, f in FAMILIES.items() if f.tier == 2)


def value_type(family: str, w: int, size: Optional[int] = None):
    """The value type of an inline draw of `family` at width `w` (spec part 2 §5.9), or None
    where it depends on more than the width (bounds of Uniform/TruncatedNormal, the type of a
    distribution argument). `size` is the event size a sized family takes from an annotation
    or `over` (§5.8): a simplex of width-1 parameters, the side of an LKJCholesky."""
    from .types import Cont, Mat, ObjType  # imported here: types is the heavier module
    support = FAMILIES[family].support
    if support in ("real", "periodic"):
        return ObjType.real(w)
    if support == "unit":
        return ObjType.real(w, 0.0, 1.0)
    if support in ("positive", "at_least_scale"):
        return ObjType.real(w, 0.0)
    if support == "count":
        return ObjType.leaf(Cont(w, count=True))
    if support == "mixture":
        return ObjType.real(1)
    if support == "simplex":
        k = size if w == 1 and size else w
        return ObjType.leaf(Cont(k, simplex=True)) if k >= 2 else None
    if support == "onehot":
        return ObjType.real(w)
    if support == "logistic_simplex":
        return ObjType.leaf(Cont(w + 1, simplex=True))
    if support == "binary":
        return ObjType.fin(2) if w == 1 else ObjType(tuple(ObjType.fin(2) for _ in range(w)))
    if support == "categorical":
        return ObjType.fin(w)
    if support == "ordinal":
        return ObjType.fin(w + 1)
    if support == "matrix" and size:
        return ObjType.leaf(Mat(size, size))
    return None  # bounded (needs its literal bounds), as_argument, an unsized matrix


# ------------------------------------------------------------------------------ builtins ----
@dataclass(frozen=True)
class BuiltinSchema:
    """A builtin function of program expressions (spec part 2 §5.8). `kind` is what the
    one-argument form does: "elementwise", "last_axis" (over the last axis, width-preserving)
    or "reduction" (over the last axis, see §5.8 "Reductions"); two-argument forms are
    elementwise."""

    name: str
    kind: str
    arities: tuple[int, ...] = (1,)

    def kind_at(self, n_args: int) -> str:
        return "elementwise" if n_args == 2 else self.kind

    def arity_text(self) -> str:
        """`1 argument`, `2 arguments`, `1 or 2 arguments`."""
        return " or ".join(map(str, self.arities)) + (" argument" if self.arities == (1,)
                                                       else " arguments")


def _builtins() -> dict[str, BuiltinSchema]:
    table: dict[str, BuiltinSchema] = {}
    for name in _vocabulary.ELEMENTWISE_BUILTINS:
        table[name] = BuiltinSchema(name, "elementwise")
    for name in _vocabulary.LAST_AXIS_BUILTINS:
        table[name] = BuiltinSchema(name, "last_axis")
    for name in _vocabulary.REDUCTION_BUILTINS:
        table[name] = BuiltinSchema(name, "reduction")
    for name in _vocabulary.BINARY_BUILTINS:
        known = table.get(name)
        table[name] = (BuiltinSchema(name, known.kind, known.arities + (2,)) if known
                       else BuiltinSchema(name, "elementwise", (2,)))
    return table


#: Every builtin with its kind and arities (QVR070 checks the number of arguments).
BUILTIN_SCHEMAS: dict[str, BuiltinSchema] = _builtins()
# Builtin names usable in `let` and arguments (the vocabulary's order: P1's ten first).
BUILTINS = _vocabulary.BUILTINS
# The same names as a set, for membership tests (the tuple would be scanned name by name, and
# the checker asks about every name it declares and every call it types).
BUILTIN_NAMES = frozenset(BUILTINS)
# The builtins whose one-argument form reduces the last axis (spec part 2 §5.8 "Reductions").
REDUCTIONS = frozenset(_vocabulary.REDUCTION_BUILTINS)


# ------------------------------------------------------------------------------ algebras ----
@dataclass(frozen=True)
class Algebra:
    """A built-in algebra (P1 §5.9 quantales; spec part 2 §5.10 adds five): its two
    operations as people read them, and the units of ⊗ and ⨁."""

    name: str
    tensor: str
    join: str
    unit: float
    zero: float


_INF = float("inf")
ALGEBRAS: dict[str, Algebra] = {a.name: a for a in (
    Algebra("product_fuzzy", "a·b", "1 − Π(1 − x)", 1.0, 0.0),
    Algebra("markov", "a·b", "Σ", 1.0, 0.0),
    Algebra("boolean", "∧", "∨", 1.0, 0.0),
    Algebra("godel", "min", "max", 1.0, 0.0),
    Algebra("lukasiewicz", "max(a+b−1, 0)", "min(Σ, 1)", 1.0, 0.0),
    Algebra("tropical", "a+b", "min", 0.0, _INF),
    Algebra("real", "a·b", "Σ", 1.0, 0.0),
    Algebra("log_prob", "a+b", "log-sum-exp", 0.0, -_INF),
    Algebra("max_plus", "a+b", "max", 0.0, -_INF),
    Algebra("probability", "a·b", "min(1, Σ)", 1.0, 0.0),
    Algebra("counting", "a·b", "Σ", 1.0, 0.0),
)}
# Names `quantale NAME` and `composition NAME` accept (matched case-insensitively).
QUANTALES = tuple(ALGEBRAS)
DEFAULT_QUANTALE = "product_fuzzy"

TYPE_CONSTRUCTORS = _vocabulary.TYPE_CONSTRUCTORS

ROLES = _vocabulary.ROLES

# Option keys allowed per role (§4.4); `role` only on the `morphism` statement.
NETWORK_OPTIONS = ("param_source", "hidden_dim", "n_layers")
OPTIONS_BY_ROLE = {
    "kernel": ("scale",) + NETWORK_OPTIONS + ("replicate",),
    "deterministic": NETWORK_OPTIONS + ("replicate",),
    "embed": ("replicate",),
    "latent": ("scale",),
    "observed": (),
    "discretize": ("temperature",),
}
OPTION_DEFAULTS = {"param_source": "affine", "hidden_dim": 64, "n_layers": 2, "replicate": 1,
                   "temperature": 0.1}

SCAN_OPTIONS = _vocabulary.SCAN_OPTIONS

SCHEMA_RULES = _vocabulary.BUILTIN_SCHEMAS
PARSER_DEFAULT_RULES = {
    "ccg": ("evaluation", "harmonic_composition", "crossed_composition"),
    "lambek": ("evaluation", "adjunction_units", "tensor_introduction", "tensor_projection"),
}
PARSER_KEYS = ("rules", "categories", "terminal", "start", "depth", "constructors")
PARSER_CONSTRUCTORS = _vocabulary.PARSER_CONSTRUCTORS
