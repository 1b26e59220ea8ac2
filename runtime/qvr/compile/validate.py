"""Validation of user inputs at the documented entry points (spec §5.1, §5.11).

`RuntimeModule.rsample/trace/log_joint/log_prob` call into this module once per call, before
any tensor reaches torch indexing: a token index outside ``[0, n)`` would otherwise surface
as a raw IndexError (CPU), a device-side assert (CUDA) or a RuntimeError deep inside a scan.

Two kinds of checks:

* layout (`check_index_dtype`, `check_leading_axes`): dtype and rank, free (no host sync);
* ranges (`RangeCheck`): every finite value of the call — the input and the supplied values of
  finite sites — is collected, then checked with a single host sync (`RangeCheck.run`). A tensor
  already collected in the same call (the same object given twice) is checked only once.
  The detailed message is only computed after a failure.
"""
from __future__ import annotations

from typing import Callable, Optional

import torch
from torch.distributions import constraints

from ..errors import ShapeError, at_site
from ..semantics.types import Fin, SeqType, elem_of
from . import values as V

# leading axes of a sequence value: the batch and the time axis. Other values may carry any
# number (spec §5.1: modules pass extra leading axes through, programs lift over them); a
# sequence with more would reach the scan with a wrong step shape.
SEQ_LEADING_AXES = 2


def check_index_dtype(x: torch.Tensor, t, *, where: str) -> torch.Tensor:
    """An all-finite value as int64 indices: integer dtypes are widened, floats and bools
    refused (a float index column belongs only to a product with a continuous leaf)."""
    if not V.is_index_type(t) or x.dtype == torch.int64:
        return x
    if x.dtype.is_floating_point or x.dtype.is_complex or x.dtype == torch.bool:
        raise ShapeError(f"{where}: expected int64 token indices in {_ranges(t)} of shape "
                         f"{V.describe_shape(t)}, got dtype {x.dtype}")
    return x.long()


def check_leading_axes(x: torch.Tensor, t, *, where: str) -> None:
    """A sequence value is exactly (batch, time) before the element axes of `t`."""
    if isinstance(t, SeqType) and x.dim() - V.element_rank(t) > SEQ_LEADING_AXES:
        raise ShapeError(f"{where}: expected shape {V.describe_shape(t)}, got {tuple(x.shape)}")


class RangeCheck:
    """Collects the finite values of one call and checks them all with one host sync."""

    def __init__(self):
        # (view of the index columns, (low, exclusive high bound), message from (min, max))
        self._items: list[tuple[torch.Tensor, tuple, Callable[[float, float], str]]] = []
        self._seen: set[int] = set()

    def add_value(self, x: torch.Tensor, t, *, where: str) -> None:
        """`x` in the layout of type `t` (§5.1): check its finite leaves against their sizes."""
        sizes = finite_columns(t)
        if sizes is None:
            return
        cols, bounds = sizes
        if V.element_rank(t) == 0:
            view = x
        elif cols is None:
            view = x
        else:
            view = x[..., cols]
        self._add(x, view, bounds, lambda lo, hi: _index_message(where, t, x, lo, hi), None)

    def add_site(self, x: torch.Tensor, support, *, where: str, site: Optional[str] = None) -> None:
        """A supplied site value checked against the site's support (integer supports only);
        the ShapeError for a bad one names `site` in `qvr_site` (`qvr run` locates it)."""
        if not isinstance(support, constraints.integer_interval) and support is not constraints.nonnegative_integer:
            return
        if isinstance(support, constraints.integer_interval):
            lo, hi = support.lower_bound, support.upper_bound + 1
            expected = f"indices in [{lo}, {hi})"
        else:
            lo, hi = 0, None
            expected = "non-negative indices"
        if x.dtype.is_floating_point and support is constraints.nonnegative_integer:
            # counts are float32 integers, as torch's count distributions give them (part 2 §6.1)
            if x.numel() and not bool(((x >= 0) & (x == x.round())).all()):
                raise at_site(ShapeError(f"{where}: expected non-negative integer counts"), site)
            return
        if x.dtype.is_floating_point or x.dtype == torch.bool:
            raise at_site(ShapeError(f"{where}: expected int64 {expected}, got dtype {x.dtype}"), site)

        def message(low, high):
            return f"{where}: expected int64 {expected}, got {_found(low, high, lo, hi)}"
        self._add(x, x, (lo, hi), message, site)

    def _add(self, key: torch.Tensor, view: torch.Tensor, bounds, message, site) -> None:
        if id(key) in self._seen or view.numel() == 0:
            return
        self._seen.add(id(key))
        self._items.append((view, bounds, message, site))

    def run(self) -> None:
        """One host sync for every collected value; ShapeError naming the first bad one.

        Each value contributes its min and max (per column where the columns have different
        sizes) through one `aminmax` kernel; the bounds are compared on the host afterwards,
        which is cheaper than comparing every element against the bounds on the device."""
        if not self._items:
            return
        extremes, per_column = [], False
        for view, (_, hi), _, _ in self._items:
            if isinstance(hi, torch.Tensor):
                extremes += torch.aminmax(view.reshape(-1, hi.numel()), dim=0)
                per_column = True
            else:
                extremes += torch.aminmax(view)
        if per_column:
            found = torch.cat([e.reshape(-1) for e in extremes]).tolist()  # the one host sync
        else:
            found = torch.stack(extremes).tolist()  # the one host sync
        at = 0
        for view, (lo, hi), message, site in self._items:
            k = hi.numel() if isinstance(hi, torch.Tensor) else 1
            low, high = found[at:at + k], found[at + k:at + 2 * k]
            at += 2 * k
            his = hi.tolist() if isinstance(hi, torch.Tensor) else [hi]
            if min(low) < lo or any(h is not None and m >= h for m, h in zip(high, his)):
                raise at_site(ShapeError(message(min(low), max(high))), site)


def finite_columns(t) -> Optional[tuple[Optional[list[int]], tuple]]:
    """For a value of type `t` with finite leaves: (columns of those leaves or None for every
    column, (0, exclusive upper bounds)); None when `t` has no finite leaf."""
    leaves = elem_of(t).leaves
    if not any(isinstance(l, Fin) for l in leaves):
        return None
    if V.element_rank(t) == 0:
        return None, (0, leaves[0].n)
    cols, sizes, at = [], [], 0
    for leaf in leaves:
        if isinstance(leaf, Fin):
            cols.append(at)
            sizes.append(leaf.n)
        at += leaf.width
    every = len(cols) == at
    # bounds as a python int when every leaf has the same size (no tensor to build)
    hi = sizes[0] if len(set(sizes)) == 1 else torch.tensor(sizes)
    return (None if every else cols), (0, hi)


def _index_message(where, t, x, low, high) -> str:
    lo, hi = finite_columns(t)[1]
    lead = x.dim() - V.element_rank(t)
    if lead == 1 or isinstance(t, SeqType):
        shape = V.describe_shape(t)
    else:  # lifted over extra leading axes (§5.1)
        shape = _lifted_shape(t, "T" if lead == 2 else "…")
    kind = "int64 token indices" if V.is_index_type(t) else "finite index columns"
    return f"{where}: expected {kind} in {_ranges(t)} of shape {shape}, got {_found(low, high, lo, hi)}"


def _found(low, high, lo, hi) -> str:
    if low < 0:
        return f"values down to {_num(low)}"
    if hi is not None and not isinstance(hi, torch.Tensor) and high < hi:
        return f"values in [{_num(low)}, {_num(high)}]"
    return f"values up to {_num(high)}"


def _num(v) -> str:
    return str(int(v)) if float(v).is_integer() else str(v)


def _ranges(t) -> str:
    sizes = [l.n for l in elem_of(t).leaves if isinstance(l, Fin)]
    if len(set(sizes)) == 1:
        return f"[0, {sizes[0]})"
    return " × ".join(f"[0, {n})" for n in sizes)


def _lifted_shape(t, extra: str) -> str:
    ev = V.event_shape(t)
    return f"(B, {extra}" + "".join(f", {d}" for d in ev) + ")"
