"""Comprehensions `factor v : K, … in e` and `factor c : K in { 0 -> e0, … }` (spec part 2
§5.8, QVR128).

Each binder `v : K` names a finite object `K` and, while the body is checked, is a local of
type `FinSet |K| over K` (its own index along the plate `K`). The value of the comprehension
is the body's type over `K1 × … × Km` followed by the body's other plates; a binder the body
does not use still gives its axis. The case form has exactly one binder and one case per key
`0 … |K|−1` (QVR128); the cases stack along `K` and their widths combine as in arithmetic.
Binders are visible only inside the comprehension and must not shadow a program local
(QVR016).
"""
from __future__ import annotations

from typing import Optional

from ..syntax import ast as A
from .objects import resolve_type
from .plates import Plating, base_of, plate_of, plated, plating_of
from .types import ObjType, elem_of, is_seq


def check(checker, node: A.FactorExpr):
    """The value type of comprehension `node` in the program `checker` is checking."""
    ctx = checker.ctx
    plates, bound, ok = [], [], True
    for b in node.binders:
        t = resolve_type(ctx, b.type)
        plate = plate_of(ctx, b.type.name.text) if isinstance(b.type, A.TypeRef) else None
        if t is not None and (plate is None or not t.is_finite):
            ctx.error("QVR024", f"a `factor` binder needs a finite object, `{ctx.src(b.type.span)}`"
                      " is not one", b.type.span)
            t = None
        if t is None:
            ok = False
        if b.name.text in checker.locals:
            checker._bind(b.name, "binder", None, b)  # reports QVR016
            continue
        value = plated(ObjType.fin(plate.size), Plating((plate,)), checker.env) \
            if t is not None else None
        checker._bind(b.name, "binder", value, b)
        bound.append(b.name.text)
        if plate is not None and plate not in plates:
            plates.append(plate)
    try:
        if isinstance(node.body, A.FactorCases):
            body = _cases(checker, node, plates)
        else:
            body = checker.arith(node.body)
    finally:
        for x in bound:  # binders are local to the comprehension
            checker.locals.pop(x, None)
            checker.uses.pop(x, None)
    if not ok or body is None:
        return None
    inner = plating_of(body)
    axes = tuple(plates) + tuple(p for p in inner.axes if p not in plates)
    out = plated(base_of(body), Plating(axes, inner.open, inner.row), checker.env)
    ctx.record_type(node, out)
    return out


def _cases(checker, node: A.FactorExpr, plates: list):
    """`{ 0 -> e0, … }`: one case per element of the single binder's object (QVR128); the
    value of one element (the cases' widths combined), without the binder's plate."""
    ctx = checker.ctx
    cases = node.body.cases
    if len(node.binders) != 1:
        ctx.error("QVR128", "`factor`: cases need exactly one binder", node.binders[1].span
                  if len(node.binders) > 1 else node.keyword.span)
        for c in cases:
            checker.arith(c.value)
        return None
    n = plates[0].size if plates else None
    seen: dict = {}
    bad = False
    for c in cases:
        k = int(c.key.value) if c.key.is_int else None
        if n is not None and (k is None or not 0 <= k < n):
            ctx.error("QVR128", f"`factor`: the cases must be 0 … {n - 1}, each once: unexpected "
                      f"{c.key.text}", c.key.span)
            bad = True
        elif k in seen:
            ctx.error("QVR128", f"`factor`: the cases must be 0 … {n - 1}, each once: repeated "
                      f"{k}", c.key.span)
            bad = True
        seen.setdefault(k, c)
    if n is not None and not bad:
        missing = [k for k in range(n) if k not in seen]
        if missing:
            ctx.error("QVR128", f"`factor`: the cases must be 0 … {n - 1}, each once: missing "
                      f"{', '.join(map(str, missing))}", node.body.span)
            bad = True
    out: Optional[object] = None
    width, pl = 1, Plating()
    for c in cases:
        t = checker.arith(c.value)
        if t is None:
            bad = True
            continue
        b = base_of(t)
        w = elem_of(b).width
        if is_seq(b) or (w != 1 and width != 1 and w != width):
            ctx.error("QVR069", f"arithmetic on widths {width} and {w}", c.value.span)
            bad = True
            continue
        width = max(width, w)
        pl = checker.env.merge(pl, plating_of(t))
    if bad:
        return None
    out = plated(ObjType.real(width), pl, checker.env)
    return out
