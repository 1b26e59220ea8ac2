"""The builtin functions of program expressions (spec §5.7, part 2 §5.8) as torch functions,
one per form: `FORMS[name][n]` is the function of `name` called with `n` arguments.

The names, kinds and arities come from the checker's table
(`qvr.semantics.families.BUILTIN_SCHEMAS`), so what checks is what runs; a test checks that
every form the checker accepts has a function here. Values are columns with the element on
the last axis (`(B, w)`, `(B, T, w)`, `(B, |N1|, …, w)`):

* elementwise forms act on each entry (two arguments broadcast like `+`, which the caller
  arranges);
* last-axis forms act along the element and keep its width (`softmax`, `log_softmax`,
  `cumsum`, `sort`, and `normalize`, which divides by the Euclidean norm);
* reductions (`sum mean prod logsumexp min max` with one argument) reduce the element to
  width 1 when it is wider than 1; a width-1 value is reduced over the axis before the
  element instead (the innermost plate, or time for a sequence), which is removed; a value
  with neither is returned as it is.
"""
from __future__ import annotations

from typing import Callable

import torch
import torch.nn.functional as F

from ..semantics.families import BUILTIN_SCHEMAS

Fn = Callable[..., torch.Tensor]

_ELEMENTWISE: dict[str, Fn] = {
    "sigmoid": torch.sigmoid, "tanh": torch.tanh, "exp": torch.exp, "log": torch.log,
    "abs": torch.abs, "softplus": F.softplus, "relu": torch.relu, "sqrt": torch.sqrt,
    "logit": torch.logit, "log1p": torch.log1p, "expm1": torch.expm1, "square": torch.square,
    "rsqrt": torch.rsqrt, "reciprocal": torch.reciprocal, "sign": torch.sign,
    "floor": torch.floor, "ceil": torch.ceil, "round": torch.round, "trunc": torch.trunc,
    "sin": torch.sin, "cos": torch.cos, "tan": torch.tan, "asin": torch.asin,
    "acos": torch.acos, "atan": torch.atan, "sinh": torch.sinh, "cosh": torch.cosh,
    "asinh": torch.asinh, "acosh": torch.acosh, "atanh": torch.atanh,
    "erf": torch.special.erf, "erfc": torch.special.erfc, "erfinv": torch.special.erfinv,
    "lgamma": torch.lgamma, "digamma": torch.special.digamma, "log2": torch.log2,
    "log10": torch.log10, "logsigmoid": F.logsigmoid, "softsign": F.softsign,
    "relu6": F.relu6, "elu": F.elu, "selu": F.selu, "gelu": F.gelu, "silu": F.silu,
    "mish": F.mish,
}

_LAST_AXIS: dict[str, Fn] = {
    "softmax": lambda t: torch.softmax(t, dim=-1),
    "log_softmax": lambda t: torch.log_softmax(t, dim=-1),
    "cumsum": lambda t: torch.cumsum(t, dim=-1),
    "sort": lambda t: torch.sort(t, dim=-1).values,
    "normalize": lambda t: F.normalize(t, p=2.0, dim=-1),
}

# Reductions as `f(t, dim, keepdim)`.
_REDUCE: dict[str, Callable[[torch.Tensor, int, bool], torch.Tensor]] = {
    "sum": lambda t, d, k: torch.sum(t, dim=d, keepdim=k),
    "mean": lambda t, d, k: torch.mean(t, dim=d, keepdim=k),
    "prod": lambda t, d, k: torch.prod(t, dim=d, keepdim=k),
    "logsumexp": lambda t, d, k: torch.logsumexp(t, dim=d, keepdim=k),
    "min": lambda t, d, k: torch.amin(t, dim=d, keepdim=k),
    "max": lambda t, d, k: torch.amax(t, dim=d, keepdim=k),
}

_BINARY: dict[str, Fn] = {"pow": torch.pow, "min": torch.minimum, "max": torch.maximum}


def _reduction(reduce) -> Fn:
    def apply(t: torch.Tensor) -> torch.Tensor:
        if t.shape[-1] > 1:          # the element: width w → 1
            return reduce(t, -1, True)
        if t.dim() >= 3:             # width 1: the innermost plate, or time (removed)
            return reduce(t, -2, False)
        return t
    return apply


def _forms() -> dict[str, dict[int, Fn]]:
    forms: dict[str, dict[int, Fn]] = {}
    for name, schema in BUILTIN_SCHEMAS.items():
        forms[name] = {}
        for n in schema.arities:
            kind = schema.kind_at(n)
            if n == 2:
                forms[name][n] = _BINARY[name]
            elif kind == "elementwise":
                forms[name][n] = _ELEMENTWISE[name]
            elif kind == "last_axis":
                forms[name][n] = _LAST_AXIS[name]
            else:
                forms[name][n] = _reduction(_REDUCE[name])
    return forms


#: name -> {number of arguments: torch function}
FORMS: dict[str, dict[int, Fn]] = _forms()
