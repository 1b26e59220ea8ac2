""""Did you mean": the declared name nearest to an undefined one, at a cost that stays bounded.

(A program's data names are matched with its locals the same way, one edit at most, through
`OneEditIndex`.)

An undefined name's diagnostic carries a fix to the nearest name of the kinds it could be
(within a small edit distance; ties go to the alphabetically first). Looking through every
declared name for each undefined one costs (undefined names) × (declared names): a file of
thousands of each took seconds, and a large one much longer. So the top-level names are kept
in a `NameIndex` per set of kinds, grouped by length and sorted, made once while the table
they come from (`Names`, the checker's `Context.top`) does not change:

* a lookup reads only the names whose length can be near enough (an edit changes the length
  by one at most);
* where those are few (`EXACT_WINDOW`), it reads them all: the same answer as a full scan;
* where they are many, it reads the names nearest the word in sorted order and nearest it in
  the order of the reversed names (`NEIGHBOURS` on each side, per length): a typo leaves a
  prefix or a suffix of the name intact, and the names sharing it sort next to the word. This
  bounds every lookup; a name that shares neither end with the word among very many of the
  same length may be missed, and then no fix is offered.

The answer depends only on the set of names, not on the order they were declared in, so an
incremental check and a fresh one agree.
"""
from __future__ import annotations

from bisect import bisect_left
from typing import Iterable, Optional

# A lookup whose names of a near length number at most this reads them all.
EXACT_WINDOW = 256
# Otherwise: this many names on each side of the word, in each order, per length.
NEIGHBOURS = 8


def edit_distance(a: str, b: str, limit: int = 3) -> int:
    """Levenshtein distance, giving up (returning limit+1) once it exceeds `limit`."""
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    # A common prefix and suffix cost nothing: the table is only made for what lies between
    # (a typo's neighbours share most of a name, so this is most of the work saved).
    n = min(len(a), len(b))
    start = 0
    while start < n and a[start] == b[start]:
        start += 1
    end = 0
    while end < n - start and a[-1 - end] == b[-1 - end]:
        end += 1
    a, b = a[start:len(a) - end], b[start:len(b) - end]
    if not a or not b:
        return len(a) + len(b)
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i]
        best = i
        for j, cb in enumerate(b, 1):
            v = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb))
            cur.append(v)
            best = min(best, v)
        if best > limit:
            return limit + 1
        prev = cur
    return prev[-1]


def limit_for(word: str) -> int:
    """How many edits away a suggestion for `word` may be."""
    return max(1, min(3, len(word) // 3))


def _nearest(word: str, candidates: Iterable[str], limit: int, best: Optional[str],
             best_d: int) -> tuple[Optional[str], int]:
    """(`best`, `best_d`) improved by `candidates`: the nearest within `limit` edits."""
    length, letters, most = len(word), set(word), 2 * limit
    for c in candidates:
        if c == word or abs(len(c) - length) > limit:
            continue
        # each edit changes the set of letters by at most two, so letter sets that differ by
        # more than 2 * limit are too far apart (a cheap test: a file has thousands of names)
        if len(letters.symmetric_difference(c)) > most:
            continue
        # only as far as the best so far (a tie still counts: the first alphabetically wins)
        d = edit_distance(word, c, min(limit, best_d))
        if d < best_d or (d == best_d and best is not None and c < best):
            best, best_d = c, d
    return best, best_d


def closest(word: str, candidates) -> Optional[str]:
    """The candidate nearest to `word` within a small edit distance (ties: alphabetical),
    looking at every candidate."""
    limit = limit_for(word)
    best, best_d = _nearest(word, candidates, limit, None, limit + 1)
    return best if best_d <= limit else None


class NameIndex:
    """A set of names grouped by length, each group sorted (and, when asked, sorted by the
    reversed names), for `nearest`."""

    __slots__ = ("by_length", "_reversed")

    def __init__(self, names: Iterable[str]):
        groups: dict[int, list[str]] = {}
        for name in set(names):
            groups.setdefault(len(name), []).append(name)
        for group in groups.values():
            group.sort()
        self.by_length = groups
        self._reversed: dict[int, list[str]] = {}

    def _reversed_group(self, length: int) -> list[str]:
        group = self._reversed.get(length)
        if group is None:
            group = self._reversed[length] = sorted(name[::-1] for name in self.by_length[length])
        return group

    def nearest(self, word: str, extra: Iterable[str] = (), hidden=frozenset()) -> Optional[str]:
        """The name nearest to `word` (see the module docstring) among the indexed names not
        in `hidden` and the names `extra`."""
        limit = limit_for(word)
        lengths = [n for n in range(len(word) - limit, len(word) + limit + 1)
                   if n in self.by_length]
        if sum(len(self.by_length[n]) for n in lengths) <= EXACT_WINDOW:
            pool: Iterable[str] = (c for n in lengths for c in self.by_length[n])
        else:
            pool = self._neighbours(word, lengths)
        if hidden:
            pool = (c for c in pool if c not in hidden)
        best, best_d = _nearest(word, pool, limit, None, limit + 1)
        best, best_d = _nearest(word, extra, limit, best, best_d)
        return best if best_d <= limit else None

    def _neighbours(self, word: str, lengths: list[int]) -> list[str]:
        out: list[str] = []
        backwards = word[::-1]
        for n in lengths:
            group = self.by_length[n]
            at = bisect_left(group, word)
            out += group[max(0, at - NEIGHBOURS):at + NEIGHBOURS]
            group = self._reversed_group(n)
            at = bisect_left(group, backwards)
            out += [name[::-1] for name in group[max(0, at - NEIGHBOURS):at + NEIGHBOURS]]
        return out


class OneEditIndex:
    """Names (a program's locals, as they are bound) by their form without underscores and by
    every string one deletion away, so that the names equal to a word but for underscores, or
    one edit from it, are found without reading every name: two strings one edit apart share
    one of those (the shorter is a deletion of the longer, or both lose the character that
    differs). `candidates` may return a few names farther away; the caller checks them."""

    __slots__ = ("bare", "variants")

    def __init__(self, names: Iterable[str] = ()):
        self.bare: dict[str, list[str]] = {}
        self.variants: dict[str, list[str]] = {}
        for name in names:
            self.add(name)

    def add(self, name: str) -> None:
        self.bare.setdefault(name.replace("_", ""), []).append(name)
        if len(name) >= 3:
            for variant in _variants(name):
                self.variants.setdefault(variant, []).append(name)

    def candidates(self, word: str) -> set[str]:
        """Every added name equal to `word` but for underscores, and (for words of three
        characters or more) every added name of three or more one edit away, and maybe more."""
        out = set(self.bare.get(word.replace("_", ""), ()))
        if len(word) >= 3:
            variants = self.variants
            for variant in _variants(word):
                out.update(variants.get(variant, ()))
        return out


def _variants(name: str) -> set[str]:
    """`name` and every string one deletion from it."""
    return {name, *(name[:i] + name[i + 1:] for i in range(len(name)))}


class Names(dict):
    """The checker's table of top-level names (`Context.top`): a dict that drops the
    `NameIndex`es made from it whenever it changes (reads are a plain dict's)."""

    __slots__ = ("indexes",)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.indexes: Optional[dict] = None

    def __setitem__(self, key, value):
        self.indexes = None
        dict.__setitem__(self, key, value)

    def __delitem__(self, key):
        self.indexes = None
        dict.__delitem__(self, key)

    def pop(self, *args):
        self.indexes = None
        return dict.pop(self, *args)

    def popitem(self):
        self.indexes = None
        return dict.popitem(self)

    def setdefault(self, key, default=None):
        self.indexes = None
        return dict.setdefault(self, key, default)

    def update(self, *args, **kwargs):
        self.indexes = None
        dict.update(self, *args, **kwargs)

    def clear(self):
        self.indexes = None
        dict.clear(self)

    def __ior__(self, other):
        self.indexes = None
        return dict.__ior__(self, other)

    def index(self, kinds: tuple, shadowed: dict) -> NameIndex:
        """The names of the symbols of `kinds`, with the entries `shadowed` hides (name ->
        the entry underneath, see `Context.shadow`) read as they are underneath."""
        if self.indexes is None:
            self.indexes = {}
        index = self.indexes.get(kinds)
        if index is None:
            names = []
            for name, sym in self.items():
                if name in shadowed:
                    sym = shadowed[name][0]
                if sym is not None and sym.kind in kinds:
                    names.append(sym.name)
            index = self.indexes[kinds] = NameIndex(names)
        return index
