"""Facts about distribution families (spec §5.2) for hover, completion and signature help.

Everything here is derived from the tables the checker uses (`qvr.semantics.families` for
parameter order, alternative names, `scale` and inline use; `qvr.syntax.vocabulary` for the
word lists), so the editor cannot describe a family differently from how it is checked. The
only thing added is a sentence per support kind for people to read.
"""
from __future__ import annotations

from dataclasses import dataclass

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
}
# The checker treats every positive family alike; these two exclude 0 itself (spec §5.2).
_OPEN_AT_ZERO = dict.fromkeys(("LogNormal", "Gamma"), "positive reals (0, ∞) → Real w {low=0.0}")


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


def _doc(schema) -> FamilyDoc:
    support = _OPEN_AT_ZERO.get(schema.name) or _SUPPORT_TEXT.get(schema.support, schema.support)
    if not schema.inline:
        support += " (kernel and fixed only)"
    alt = tuple(dict.fromkeys((*schema.aliases, *(k for k in schema.one_of if k not in schema.params))))
    return FamilyDoc(schema.name, schema.params, support, alt, schema.has_scale, schema.inline)


FAMILIES: dict[str, FamilyDoc] = {name: _doc(schema) for name, schema in _SCHEMAS.items()}


def family_names() -> tuple[str, ...]:
    return tuple(FAMILIES)


def family(name: str) -> FamilyDoc | None:
    return FAMILIES.get(name)


def builtin_names() -> tuple[str, ...]:
    return tuple(_vocabulary.BUILTINS)


def reserved_words() -> tuple[str, ...]:
    return tuple(_vocabulary.RESERVED)


def type_constructors() -> tuple[str, ...]:
    return tuple(_vocabulary.TYPE_CONSTRUCTORS)
