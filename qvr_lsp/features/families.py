"""Facts about distribution families (spec §5.2) for hover, completion and signature help.

The checker owns validation; this table only describes families to the user. When the
vocabulary module lists families we do not describe, they are still offered (without detail).
"""
from __future__ import annotations

from dataclasses import dataclass

from .. import layers


@dataclass(frozen=True)
class FamilyDoc:
    name: str
    params: tuple[str, ...]
    support: str
    alt_names: tuple[str, ...] = ()
    has_scale: bool = False
    inline: bool = True

    def signature(self) -> str:
        return f"{self.name}({', '.join(self.params)})"


_TABLE = (
    FamilyDoc("Normal", ("loc", "scale"), "real line ℝ → Real w", has_scale=True),
    FamilyDoc("LogitNormal", ("loc", "scale"), "unit interval (0, 1) → Real w {low=0.0, high=1.0}", ("mu", "sigma"), True),
    FamilyDoc("LogNormal", ("loc", "scale"), "positive reals (0, ∞) → Real w {low=0.0}", has_scale=True),
    FamilyDoc("Laplace", ("loc", "scale"), "real line ℝ", has_scale=True),
    FamilyDoc("Cauchy", ("loc", "scale"), "real line ℝ", has_scale=True),
    FamilyDoc("StudentT", ("df", "loc", "scale"), "real line ℝ", has_scale=True),
    FamilyDoc("HalfNormal", ("scale",), "[0, ∞)", has_scale=True),
    FamilyDoc("HalfCauchy", ("scale",), "[0, ∞)", has_scale=True),
    FamilyDoc("Exponential", ("rate",), "[0, ∞)"),
    FamilyDoc("Gamma", ("concentration", "rate"), "(0, ∞)"),
    FamilyDoc("Beta", ("concentration1", "concentration0"), "(0, 1)"),
    FamilyDoc("Uniform", ("low", "high"), "[low, high]"),
    FamilyDoc("TruncatedNormal", ("loc", "scale", "low", "high"), "[low, high]", ("mu", "sigma", "low", "high"), True),
    FamilyDoc("Dirichlet", ("concentration",), "probability simplex → Simplex w"),
    FamilyDoc("MultivariateNormal", ("loc", "scale_tril"), "ℝᵈ (kernel and fixed only)", has_scale=True, inline=False),
    FamilyDoc("Bernoulli", ("probs",), "{0, 1} → FinSet 2", ("logits",)),
    FamilyDoc("Categorical", ("probs",), "finite set → FinSet K", ("logits",)),
)
FAMILIES: dict[str, FamilyDoc] = {f.name: f for f in _TABLE}


def family_names() -> tuple[str, ...]:
    vocab = layers.vocabulary()
    names = tuple(getattr(vocab, "FAMILIES", ()) or ()) if vocab else ()
    return tuple(dict.fromkeys((*FAMILIES, *names)))


def family(name: str) -> FamilyDoc | None:
    if name in FAMILIES:
        return FAMILIES[name]
    return FamilyDoc(name, (), "see spec §5.2") if name in family_names() else None


def builtin_names() -> tuple[str, ...]:
    vocab = layers.vocabulary()
    names = tuple(getattr(vocab, "BUILTINS", ()) or ()) if vocab else ()
    return names or ("sigmoid", "tanh", "exp", "log", "softplus", "relu", "abs", "sqrt")


def reserved_words() -> tuple[str, ...]:
    vocab = layers.vocabulary()
    words = tuple(getattr(vocab, "RESERVED", ()) or ()) if vocab else ()
    return words or (
        "object type space quantale category rule morphism continuous stochastic latent observed embed "
        "discretize program let define where output export draw sample observe return identity "
        "marginalize fan repeat stack scan parser ccg lambek"
    ).split()


def type_constructors() -> tuple[str, ...]:
    vocab = layers.vocabulary()
    names = tuple(getattr(vocab, "TYPE_CONSTRUCTORS", ()) or ()) if vocab else ()
    return names or ("FinSet", "Real", "Simplex", "Euclidean", "PositiveReals", "UnitInterval")
