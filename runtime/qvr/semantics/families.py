"""Semantic tables the checker needs: distribution family schemas (spec §5.2), builtins
(§5.7), quantales (§5.9), roles and option keys (§4.4), grammar-parser vocabulary (§4.5).

These tables carry *meaning* (parameter order, supports, which family has a scale) that the
plain name tuples of `qvr.syntax.vocabulary` do not; the runtime reads them too so that the
checker and the runtime agree on parameter names and value types.
"""
from __future__ import annotations

from dataclasses import dataclass

# Word lists live in the vocabulary (shared with the grammars and the editors); this module
# adds their meaning.
from ..syntax import vocabulary as _vocabulary

# Support kinds: "real" (ℝ), "unit" ((0,1)), "positive" ([0,∞)), "bounded" ([low,high]),
# "simplex", "binary" ({0,1}), "categorical" (FinSet K).


@dataclass(frozen=True)
class FamilySchema:
    name: str
    params: tuple[str, ...]          # positional order = kernel block order
    aliases: dict                    # alternative keyword -> canonical parameter
    support: str
    has_scale: bool
    inline: bool = True              # usable as an inline draw
    one_of: tuple[str, ...] = ()     # exactly one of these (probs/logits)

    def canonical(self, key: str):
        if key in self.params or key in self.one_of:
            return key
        return self.aliases.get(key)

    def schema_text(self) -> str:
        if self.one_of:
            return " | ".join(self.one_of)
        return ", ".join(self.params)


def _f(name, params, support, scale, aliases=None, inline=True, one_of=()):
    return FamilySchema(name, tuple(params), dict(aliases or {}), support, scale, inline, tuple(one_of))


FAMILIES: dict[str, FamilySchema] = {f.name: f for f in (
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
    _f("MultivariateNormal", ("loc", "scale_tril"), "real", True, inline=False),
    _f("Bernoulli", ("probs",), "binary", False, one_of=("probs", "logits")),
    _f("Categorical", ("probs",), "categorical", False, one_of=("probs", "logits")),
)}

REAL_LINE_FAMILIES = frozenset({"Normal", "Laplace", "Cauchy", "StudentT", "MultivariateNormal"})
UNIT_FAMILIES = frozenset({"LogitNormal", "Beta"})
POSITIVE_FAMILIES = frozenset({"LogNormal", "HalfNormal", "HalfCauchy", "Exponential", "Gamma"})

# Builtin functions usable in `let` and arguments: arity 1, width-preserving (§5.7).
BUILTINS = _vocabulary.BUILTINS

QUANTALES = ("product_fuzzy", "markov", "boolean", "godel", "lukasiewicz", "tropical")
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
