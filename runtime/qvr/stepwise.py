"""Long computations written as generators, so a caller can interleave them with other work.

`parse_module_steps` and `analyze_steps` do exactly what `parse_module` and `analyze` do, but
yield now and then (every few dozen declarations) and *return* their result, the way a
generator returns a value (``StopIteration.value``, or ``result = yield from steps``). The
language server advances them a few milliseconds at a time between the messages it reads, so a
keystroke is never stuck behind the full analysis of a large file; everything else runs them to
the end at once with `finish`.

The generators do not touch the cyclic garbage collector (the one-shot functions pause it for
their run); a caller that spreads one over time decides that for itself.
"""
from __future__ import annotations

from typing import Generator, TypeVar

T = TypeVar("T")
Steps = Generator[None, None, T]


def finish(steps: "Steps[T]") -> T:
    """Run `steps` to the end; its result."""
    while True:
        try:
            next(steps)
        except StopIteration as stop:
            return stop.value


# Items sorted in one go by `sorted_steps` (a few milliseconds of work); longer lists are sorted
# in pieces of this size and merged.
SORT_PIECE = 32768


def sorted_steps(items: list, key, piece: int = SORT_PIECE):
    """``sorted(items, key=key)`` as a generator: yields between sorting pieces of `piece`
    items and while merging them, and returns the sorted list. The same order as `sorted`,
    ties included: the pieces keep the original order and `heapq.merge` takes equal keys from
    the earlier piece first."""
    if len(items) <= piece:
        return sorted(items, key=key)
    import heapq

    pieces = []
    for start in range(0, len(items), piece):
        pieces.append(sorted(items[start:start + piece], key=key))
        yield
    out = []
    append = out.append
    for count, item in enumerate(heapq.merge(*pieces, key=key), 1):
        append(item)
        if not count % piece:
            yield
    return out
