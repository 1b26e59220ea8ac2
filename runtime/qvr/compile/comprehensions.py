"""Comprehensions at run time (spec part 2 §5.8, §6.3).

`factor v1 : K1, …, vm : Km in e` evaluates `e` once, broadcast: each binder `vi` is the
index value `arange(|Ki|)` laid out over its own plate `Ki` (`(1, |Ki|)`, int64, like any
`FinSet |Ki| over Ki` value), so the body's arithmetic aligns it with the program's plated
values by plate identity. The result is laid out on the comprehension's plates (`K1 … Km`,
then the body's other plates) and expanded to their sizes: a binder the body does not use
still gives its axis. The case form `factor c : K in { 0 -> e0, … }` stacks the cases along
`K`, the first plate of the result.

`compile_comprehension(compiler, node)` is called by `ArithCompiler` for a `FactorExpr`; it
returns a closure `env -> tensor` like every compiled expression.
"""
from __future__ import annotations

from contextlib import contextmanager

import torch

from ..syntax import ast as A
from . import values as V

# The program stores (device, dtype) of its run under this key (see `arith.PLACE`).
_PLACE = "\0place"


@contextmanager
def _binders_in_scope(compiler, binders):
    """While the body compiles, binders are index values (element rank 0) over their own
    plate; the program's variable table does not know them (they are local)."""
    names = {name: plate for name, plate in binders}
    rank, plates = compiler.var_rank, getattr(compiler, "var_plates", None)
    compiler.var_rank = lambda n: 0 if n in names else rank(n)
    compiler.var_plates = lambda n: (names[n],) if n in names else (plates(n) if plates else ())
    try:
        yield
    finally:
        compiler.var_rank = rank
        if plates is None:
            del compiler.var_plates
        else:
            compiler.var_plates = plates


def _sizes(keys, value):
    """The sizes of plates `keys`: declared plates have theirs; an open plate (data rows)
    takes the size the value already has on that axis."""
    return [k.size if not isinstance(k, tuple) else value.shape[1 + i] for i, k in enumerate(keys)]


def _binder_plate(binder, i, keys):
    """The plate of a binder: the checker lays the comprehension out over its binders' plates
    first, in order (an alias names its object's plate, so position decides then)."""
    name = binder.type.name.text if isinstance(binder.type, A.TypeRef) else None
    for k in keys:
        if not isinstance(k, tuple) and k.name == name:
            return k
    return keys[i]


def compile_comprehension(compiler, node: A.FactorExpr):
    keys = tuple(compiler.plates_of(node))
    binders = [(b.name.text, _binder_plate(b, i, keys)) for i, b in enumerate(node.binders)]
    if isinstance(node.body, A.FactorCases):
        return _cases(compiler, node, keys, binders)
    with _binders_in_scope(compiler, binders):
        body = compiler.compile(node.body)
    bkeys = tuple(compiler.plates_of(node.body))

    def comprehension(env):
        device = env[_PLACE][0]
        local = dict(env)
        for name, plate in binders:
            local[name] = torch.arange(plate.size, device=device).view(1, plate.size)
        out = body(local)
        if out.dim() == 1:  # a constant body: no batch or plate axes yet
            out = out.view(1, *([1] * len(bkeys)), out.shape[-1])
        out = V.to_plates(out, bkeys, keys)
        return out.expand(out.shape[0], *_sizes(keys, out), *out.shape[1 + len(keys):])
    return comprehension


def _cases(compiler, node, keys, binders):
    """`factor c : K in { k -> ek }`: the cases in key order, each laid out on the result's
    plates after `K` (a case over `K` itself gives its own element there) and broadcast to a
    common shape, stacked on axis 1."""
    cases = sorted(node.body.cases, key=lambda c: int(float(c.key.value)))
    with _binders_in_scope(compiler, binders):
        fns = [(compiler.compile(c.value), tuple(compiler.plates_of(c.value))) for c in cases]
    rest = keys[1:]
    own = keys[0] if keys else None
    keyed = [int(float(c.key.value)) for c in cases]

    def stacked(env):
        vals = []
        for (fn, k), key in zip(fns, keyed):
            v = fn(env)
            if v.dim() > 1 and own in k:
                # a case over `K` itself gives the element its key names (as a binder aligns
                # with a value over its own plate): case `key` at position `key`
                j = 1 + k.index(own)
                v = v.select(j, key if v.shape[j] > 1 else 0)
                k = tuple(p for p in k if p != own)
            v = v.view(1, *([1] * len(rest)), v.shape[-1]) if v.dim() == 1 else V.to_plates(v, k, rest)
            vals.append(v)
        lead = torch.broadcast_shapes(*[v.shape for v in vals])
        return torch.stack([v.expand(lead) for v in vals], dim=1)
    return stacked
