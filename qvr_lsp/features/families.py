"""Facts about distribution families (spec §5.2, part 2 §5.9) and builtins (part 2 §5.8) for
hover, completion and signature help.

Everything here is derived from the tables the checker uses (`qvr.semantics.families` for
parameter order, alternative names, `scale` and inline use; `qvr.syntax.vocabulary` for the
word lists), so the editor cannot describe a family differently from how it is checked. The
only thing added is a sentence per support kind for people to read.
"""
from __future__ import annotations

from dataclasses import dataclass

from qvr.semantics.families import BUILTIN_SCHEMAS as _BUILTIN_SCHEMAS
from qvr.semantics.families import FAMILIES as _SCHEMAS
from qvr.syntax import vocabulary as _vocabulary

# How each support kind of `qvr.semantics.families` reads in hover and signature help.
_SUPPORT_TEXT = {
    "real": "real line ℝ → Real w",
    "unit": "unit interval (0, 1) → Real w {low=0.0, high=1.0}",
    "positive": "non-negative reals [0, ∞) → Real w {low=0.0}",
    "bounded": "[low, high]",
    "simplex": "probability simplex → Simplex w",
    "binary": "{0, 1} → FinSet 2",
    "categorical": "finite set → FinSet K",
    "count": "counts {0, 1, 2, …} → Count w",
    "periodic": "angles, density periodic in 2π → Real w",
    "at_least_scale": "[scale, ∞) → Real w {low=0.0}",
    "mixture": "real line ℝ, one value from K components → Real 1",
    "matrix": "matrices → Matrix d d",
    "onehot": "one-hot vectors → Real K",
    "ordinal": "ordered categories, one more than the c cutpoints → FinSet (c+1)",
    "logistic_simplex": "probability simplex → Simplex (w+1)",
    "as_argument": "that of its distribution argument",
}
# The checker treats every positive family alike; these exclude 0 itself (spec §5.2, the
# torch supports of part 2 §6.2).
_OPEN_AT_ZERO = dict.fromkeys(
    ("LogNormal", "Gamma", "Chi2", "InverseGamma", "Weibull", "FisherSnedecor"),
    "positive reals (0, ∞) → Real w {low=0.0}")
# Matrix families whose values are more specific than "matrices".
_MATRIX_TEXT = {
    "LKJCholesky": "Cholesky factors of correlation matrices → Matrix d d",
    "LKJCorrelationFactor": "Cholesky factors of correlation matrices → Matrix d d",
    "Wishart": "positive definite matrices → Matrix d d",
    "InverseWishart": "positive definite matrices → Matrix d d",
    "MatrixNormal": "matrices → Matrix n m (the shape of loc)",
}


@dataclass(frozen=True)
class FamilyDoc:
    name: str
    params: tuple[str, ...]
    support: str
    alt_names: tuple[str, ...] = ()
    has_scale: bool = False
    inline: bool = True
    kernel: bool = True      # usable as a learned kernel `~ F`
    tier: int = 1            # 2: checked but not runnable

    def signature(self) -> str:
        return f"{self.name}({', '.join(self.params)})"


def _doc(schema) -> FamilyDoc:
    support = (_OPEN_AT_ZERO.get(schema.name) or _MATRIX_TEXT.get(schema.name)
               or _SUPPORT_TEXT.get(schema.support, schema.support))
    if schema.support == "simplex" and schema.sized:
        support = support.replace("Simplex w", "Simplex K")
    if not schema.inline:
        support += " (kernel and fixed only)"
    if schema.tier == 2:
        support += " (not runnable: tier 2)"
    elif not schema.kernel:
        support += " (inline and fixed only)"
    alt = tuple(dict.fromkeys((*schema.aliases, *(k for k in schema.one_of if k not in schema.params))))
    return FamilyDoc(schema.name, schema.params, support, alt, schema.has_scale, schema.inline,
                     schema.kernel, schema.tier)


FAMILIES: dict[str, FamilyDoc] = {name: _doc(schema) for name, schema in _SCHEMAS.items()}


def family_names() -> tuple[str, ...]:
    return tuple(FAMILIES)


def family(name: str) -> FamilyDoc | None:
    return FAMILIES.get(name)


def builtin_names() -> tuple[str, ...]:
    return tuple(_vocabulary.BUILTINS)


# What a builtin does, by its kind in `qvr.semantics.families.BUILTIN_SCHEMAS`.
_BUILTIN_KIND_TEXT = {
    "elementwise": "elementwise",
    "last_axis": "over the last axis, width-preserving",
    "reduction": "reduces the last axis (the width, else the innermost plate)",
}


def builtin_doc(name: str) -> tuple[str, str] | None:
    """(signature, sentence) for builtin `name`, or None: `min(x) | min(x, y)` and what each
    form does."""
    schema = _BUILTIN_SCHEMAS.get(name)
    if schema is None:
        return None
    forms = [f"{name}(x)" if n == 1 else f"{name}(x, y)" for n in schema.arities]
    kinds = [_BUILTIN_KIND_TEXT[schema.kind_at(n)] for n in schema.arities]
    sentence = "; ".join(f"with {n} argument{'s' if n > 1 else ''}: {k}" if len(kinds) > 1 else k
                         for n, k in zip(schema.arities, kinds))
    return f"builtin {' | '.join(forms)}", sentence[:1].upper() + sentence[1:] + "."


def reserved_words() -> tuple[str, ...]:
    return tuple(_vocabulary.RESERVED)


def type_constructors() -> tuple[str, ...]:
    return tuple(_vocabulary.TYPE_CONSTRUCTORS)
