"""Tensor layout of QVR values (spec §5.1): features, columns, concatenation and splitting.

A value of a single finite leaf is an int64 index of shape ``(...,)`` (element rank 0); every
other value is ``(..., w)`` (element rank 1): all-finite products are int64 with one index
column per leaf, products with a continuous leaf are float with finite leaves as float index
columns. The leading axes are the batch and, for sequences, time.
"""
from __future__ import annotations

import math
from typing import Sequence

import torch
import torch.nn.functional as F

from ..errors import ShapeError
from ..semantics.types import Fin, Mat, ObjType, SeqType, elem_of


# Layout facts of a type are read on every step of every run (site shapes, plates, ranks): they
# are computed once per type object and kept here. Types are immutable; the entry holds the type
# itself, so an id is never reused while its entry lives. Cleared when it grows past a bound
# (a long-lived process that compiles many programs).
_MEMO: dict = {}
_MEMO_LIMIT = 8192


def _memo(kind: str, t, compute):
    key = (kind, id(t))
    hit = _MEMO.get(key)
    if hit is not None and hit[0] is t:
        return hit[1]
    value = compute(t)
    if len(_MEMO) >= _MEMO_LIMIT:
        _MEMO.clear()
    _MEMO[key] = (t, value)
    return value


def _element_rank(t) -> int:
    leaves = elem_of(t).leaves
    return 0 if len(leaves) == 1 and isinstance(leaves[0], Fin) else 1


def element_rank(t) -> int:
    """0 for a single finite leaf (an index), 1 for everything else."""
    return _memo("rank", t, _element_rank)


def _event_shape(t) -> tuple[int, ...]:
    leaves = elem_of(t).leaves
    if len(leaves) == 1 and isinstance(leaves[0], Mat):  # `Matrix n m` (part 2 §6.1)
        return (leaves[0].n, leaves[0].m)
    return () if element_rank(t) == 0 else (elem_of(t).width,)


def event_shape(t) -> tuple[int, ...]:
    return _memo("event", t, _event_shape)


def is_index_type(t) -> bool:
    return _memo("index", t, lambda t: elem_of(t).is_finite)


def full_scalar(shape: tuple, value: float, dtype, device) -> torch.Tensor:
    """`value` filled into `shape`. A number beyond what `dtype` can hold (a literal `1e308`
    in a float32 model) becomes ±inf there, as rounding it to that type gives; `torch.full`
    refuses it instead."""
    if dtype.is_floating_point and abs(value) > torch.finfo(dtype).max:
        value = math.copysign(math.inf, value)
    return torch.full(shape, value, dtype=dtype, device=device)


def reduce_to_batch(lp: torch.Tensor) -> torch.Tensor:
    """Sum every axis but the batch axis: site log-densities are always ``(B,)``."""
    if lp.dim() <= 1:
        return lp
    return lp.reshape(lp.shape[0], -1).sum(-1)


def as_columns(v: torch.Tensor, rank: int, dtype=torch.float32) -> torch.Tensor:
    """A value as float columns ``(..., w)`` (an index becomes one float column)."""
    if rank == 0:
        v = v.unsqueeze(-1)
    return v if v.dtype == dtype else v.to(dtype)


def features(x: torch.Tensor, t: ObjType, dtype=torch.float32) -> torch.Tensor:
    """Kernel features u (spec §5.3): continuous values as they are, one-hot per finite leaf."""
    leaves = t.leaves
    if element_rank(t) == 0:
        return F.one_hot(x.long(), leaves[0].n).to(dtype)
    if all(not isinstance(l, Fin) for l in leaves):
        return x if x.dtype == dtype else x.to(dtype)
    cols = split_leaves(x, t)
    parts = []
    for leaf, c in zip(leaves, cols):
        if isinstance(leaf, Fin):
            parts.append(F.one_hot(c.long(), leaf.n).to(dtype))
        else:
            parts.append(c.to(dtype))
    return torch.cat(parts, dim=-1)


def split_leaves(x: torch.Tensor, t: ObjType) -> list[torch.Tensor]:
    """Split ``(..., w)`` into one tensor per leaf: indices ``(...,)``, continuous ``(..., d)``."""
    leaves = t.leaves
    if element_rank(t) == 0:
        return [x]
    pieces = torch.split(x, [l.width for l in leaves], dim=-1)
    return [p.squeeze(-1).long() if isinstance(l, Fin) else p for l, p in zip(leaves, pieces)]


def joint_index(x: torch.Tensor, t: ObjType) -> torch.Tensor:
    """Row-major joint index of an all-finite value (one column per leaf)."""
    if element_rank(t) == 0:
        return x.long()
    idx = None
    for leaf, c in zip(t.leaves, split_leaves(x, t)):
        idx = c if idx is None else idx * leaf.n + c
    return idx


def unravel_index(idx: torch.Tensor, t: ObjType) -> torch.Tensor:
    """Inverse of `joint_index`: one int64 column per leaf (or the index for one leaf)."""
    leaves = t.leaves
    if len(leaves) == 1:
        return idx
    cols = []
    rest = idx
    for leaf in reversed(leaves):
        cols.append(rest % leaf.n)
        rest = torch.div(rest, leaf.n, rounding_mode="floor")
    return torch.stack(list(reversed(cols)), dim=-1)


def concat_values(values: Sequence[torch.Tensor], types: Sequence, dtype=torch.float32) -> torch.Tensor:
    """Concatenate component values into one product value (§5.1): int64 when every component
    is finite, float columns otherwise. Non-sequence components are broadcast over time when
    another component is a sequence."""
    if len(values) == 1:
        return values[0]
    all_finite = all(is_index_type(t) for t in types)
    cols = []
    for v, t in zip(values, types):
        r = element_rank(t)
        c = v.unsqueeze(-1) if r == 0 else v
        cols.append(c if all_finite else c.to(dtype))
    return torch.cat(broadcast_time(cols), dim=-1)


def broadcast_time(cols: list[torch.Tensor]) -> list[torch.Tensor]:
    """Unsqueeze non-sequence ``(B, w)`` columns at axis 1 and expand them over T."""
    rank = max(c.dim() for c in cols)
    if all(c.dim() == rank for c in cols):
        return cols
    ref = next(c for c in cols if c.dim() == rank)
    out = []
    for c in cols:
        while c.dim() < rank:
            c = c.unsqueeze(1)
        out.append(c.expand(*ref.shape[:-1], c.shape[-1]))
    return out


def split_factors(v: torch.Tensor, widths: Sequence[int], ranks: Sequence[int]) -> list[torch.Tensor]:
    """Split a product value into components of the given value widths; a rank-0 component
    (a single finite leaf) comes back as an int64 index."""
    if len(widths) == 1:
        return [v]
    pieces = torch.split(v, list(widths), dim=-1)
    return [p.squeeze(-1).long() if r == 0 else p for p, r in zip(pieces, ranks)]


def check_input(x: torch.Tensor, t, *, where: str) -> None:
    """ShapeError unless x has the element layout of type `t` (any number of leading axes ≥ 1)."""
    rank = element_rank(t)
    want = event_shape(t)
    if x.dim() < 1 + rank or tuple(x.shape[x.dim() - rank:]) != want:
        raise ShapeError(
            f"{where}: expected a tensor of shape {_describe(t)}, got {tuple(x.shape)}")
    if is_index_type(t) and x.dtype.is_floating_point and rank == 0:
        raise ShapeError(f"{where}: expected int64 indices of shape {_describe(t)}, got {x.dtype}")


def _describe(t) -> str:
    from ..semantics.plates import base_of

    t = base_of(t)
    seq = isinstance(t, SeqType)
    ev = event_shape(t)
    lead = "(B, T" if seq else "(B"
    return lead + "".join(f", {d}" for d in ev) + ")"


def describe_shape(t) -> str:
    return _describe(t)


# ------------------------------------------------------------------------ plates (part 2) ----
# A value over plates `[N1, …, Nk]` (part 2 §6.1) is laid out `(B, |N1|, …, |Nk|) + e`; the
# plates are keyed by identity: a `Plate` for a declared plate, `("?", x)` for the open plate
# of data name `x` (its representative after unification). A row plate adds no axis.
def plate_keys(t) -> tuple:
    """The axis plates of a (possibly plated) value type, open plate last."""
    from ..semantics.plates import plating_of

    p = plating_of(t)
    return tuple(p.axes) + ((("?", p.open),) if p.open is not None else ())


def row_plate(t):
    from ..semantics.plates import plating_of

    return plating_of(t).row


def key_name(key) -> str:
    return f"?{key[1]}" if isinstance(key, tuple) else key.name


def to_plates(v: torch.Tensor, src: tuple, dst: tuple) -> torch.Tensor:
    """Lay out `v` (batch axis, plates `src`, element axes) for plates `dst` ⊇ `src`: permute
    the plate axes into `dst`'s order and insert size-1 axes for the plates it lacks. A tensor
    without a batch axis (a literal constant) is left to broadcasting."""
    if v.dim() <= 1 or tuple(src) == tuple(dst):
        return v
    src = list(src)
    order = [src.index(p) for p in dst if p in src]
    if order != sorted(order):
        n = len(src)
        v = v.permute(0, *[1 + i for i in order], *range(1 + n, v.dim()))
    for j, p in enumerate(dst):
        if p not in src:
            v = v.unsqueeze(1 + j)
    return v
