"""A document's diagnostics as runs of recorded lists, each moved as a whole.

The engine's incremental run (`qvr.semantics.engine`) replays most blocks of declarations from
records made in earlier versions; a record's diagnostics carry the offsets of the version it
was checked in. Moving every one of them to its new offsets (thousands per keystroke in a file
of deprecation hints) and sorting them all again cost most of a keystroke. So the run returns a
`DiagnosticRuns` instead: the sorted diagnostics as a concatenation of `Run`s, each a slice of
a sorted tuple moved by one offset. In order, its items are exactly
``analyze(text).diagnostics`` (`DiagnosticRuns.flat` makes them, once, when someone asks).

A run of a replayed block also says where the block lies (`Run.origin`): the language server
converts such a run by reusing the texts it made for the same recorded tuple at the same line
(`qvr_lsp.convert.DiagnosticMemo.prepare`), so an edit costs only what it touched.
"""
from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Sequence
from heapq import heapify, heappop, heappush
from operator import attrgetter
from typing import Optional

# the order of a module's diagnostics (as `qvr.semantics.checker` sorts them)
diagnostic_order = attrgetter("span.start", "span.end", "code")


class Run:
    """`base[lo:hi]`, each diagnostic moved by `delta` (`base` sorted by `diagnostic_order`).

    `origin` is where the block the run was recorded for lies now, when every span of the
    whole `base`, once moved, lies in the `length` characters from there and that text is the
    one it was recorded on (a replayed block); None for diagnostics made in this version.
    `keys` are the `diagnostic_order` keys of `base` (unmoved), when known; `memo` a dict that
    lives as long as the recorded `base` (for the presentation layers' own results)."""

    __slots__ = ("base", "lo", "hi", "delta", "origin", "length", "keys", "memo")

    def __init__(self, base: tuple, lo: int, hi: int, delta: int = 0, origin: Optional[int] = None,
                 length: int = 0, keys: Optional[list] = None, memo: Optional[dict] = None) -> None:
        self.base, self.lo, self.hi, self.delta = base, lo, hi, delta
        self.origin, self.length, self.keys, self.memo = origin, length, keys, memo

    @classmethod
    def of(cls, diagnostics) -> "Run":
        """Diagnostics of this version (at their offsets), already in order."""
        base = tuple(diagnostics)
        return cls(base, 0, len(base))

    def part(self, lo: int, hi: int) -> "Run":
        """The same run restricted to `base[lo:hi]`."""
        if lo == self.lo and hi == self.hi:
            return self
        return Run(self.base, lo, hi, self.delta, self.origin, self.length, self.keys, self.memo)

    def items(self) -> list:
        """The diagnostics of the run, at their offsets in the current text."""
        part = self.base[self.lo:self.hi]
        delta = self.delta
        return [d.shifted(delta) for d in part] if delta else list(part)

    def __len__(self) -> int:
        return self.hi - self.lo

    def __repr__(self) -> str:
        where = "" if self.origin is None else f" of the block at {self.origin}"
        return f"Run({self.hi - self.lo} diagnostics{where}, moved by {self.delta})"


class DiagnosticRuns(Sequence):
    """Diagnostics as a concatenation of `Run`s; a sequence of `Diagnostic`s (made by `flat`,
    once) that equals a tuple or list of the same diagnostics."""

    __slots__ = ("runs", "_flat")

    def __init__(self, runs) -> None:
        self.runs: tuple = tuple(r for r in runs if r.hi > r.lo)
        self._flat: Optional[tuple] = None

    @classmethod
    def of(cls, diagnostics) -> "DiagnosticRuns":
        """Diagnostics at their offsets, as one run."""
        return cls((Run.of(diagnostics),))

    def flat(self) -> tuple:
        """Every diagnostic, in order, at its offsets."""
        if self._flat is None:
            if len(self.runs) == 1 and not self.runs[0].delta and self.runs[0].lo == 0 \
                    and self.runs[0].hi == len(self.runs[0].base):
                self._flat = self.runs[0].base
            else:
                out: list = []
                for run in self.runs:
                    out.extend(run.items())
                self._flat = tuple(out)
        return self._flat

    def __len__(self) -> int:
        return sum(r.hi - r.lo for r in self.runs)

    def __getitem__(self, i):
        return self.flat()[i]

    def __iter__(self):
        return iter(self.flat())

    def __bool__(self) -> bool:
        return bool(self.runs)

    def __eq__(self, other) -> bool:
        if isinstance(other, DiagnosticRuns):
            return self.flat() == other.flat()
        return isinstance(other, (tuple, list)) and self.flat() == tuple(other)

    __hash__ = None

    def __repr__(self) -> str:
        return f"DiagnosticRuns({len(self)} diagnostics in {len(self.runs)} runs)"


def _keys(run: Run) -> list:
    if run.keys is None:
        run.keys = list(map(diagnostic_order, run.base))
    return run.keys


def merged(segments: list) -> list:
    """The runs of ``sorted(concatenation of segments, key=diagnostic_order)`` (a stable sort:
    of equal keys, those of an earlier segment first), each segment a `Run` already in order.

    Consecutive segments that each begin after the one before ends form a *chain*, already in
    order (the blocks of a module, in text order); the chains are merged by a stable k-way merge
    that moves whole slices: the chain with the smallest next key gives every segment, and then
    the part of a segment (found by bisection), that comes before the next chain's smallest key.
    So the cost is in the places where chains interleave (a "never used" hint of the
    whole-module pass inside a block), not in the number of segments."""
    segs = [s for s in segments if s.hi > s.lo]
    n = len(segs)
    if n <= 1:
        return segs
    keys = [_keys(s) for s in segs]

    def key_at(i: int, k: int) -> tuple:
        start, end, code = keys[i][k]
        d = segs[i].delta
        return (start + d, end + d, code) if d else (start, end, code)

    firsts = [key_at(i, s.lo) for i, s in enumerate(segs)]
    lasts = [key_at(i, s.hi - 1) for i, s in enumerate(segs)]
    starts = [0, *(i for i in range(1, n) if not lasts[i - 1] < firsts[i])]
    if len(starts) == 1:
        return segs  # one chain: in order already
    los = [s.lo for s in segs]
    heap = [(firsts[a], a, b) for a, b in zip(starts, [*starts[1:], n])]  # (next key, segment, chain end)
    heapify(heap)
    out = []
    while heap:
        _, i, end = heappop(heap)
        if not heap:  # the last chain: the rest of it in order
            out.append(segs[i].part(los[i], segs[i].hi))
            out.extend(segs[i + 1:end])
            break
        next_key, j, _ = heap[0]
        while True:
            s = segs[i]
            last = lasts[i]
            if last < next_key or (last == next_key and i < j):  # the rest of this segment
                out.append(s.part(los[i], s.hi))
                i += 1
                if i == end:
                    break
                first = firsts[i]
                if not (first < next_key or (first == next_key and i < j)):
                    heappush(heap, (first, i, end))
                    break
                continue
            d = s.delta
            target = (next_key[0] - d, next_key[1] - d, next_key[2])
            # equal keys: this segment's first when it is the earlier one
            cut = (bisect_right if i < j else bisect_left)(keys[i], target, los[i], s.hi)
            out.append(s.part(los[i], cut))
            los[i] = cut
            heappush(heap, (key_at(i, cut), i, end))
            break
    return out
