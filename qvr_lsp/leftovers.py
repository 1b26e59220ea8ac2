"""Freeing what superseded versions of a document computed, a piece at a time.

The full analysis and parse of a file of megabytes are millions of objects (17 million for
10 MB). When a newer version replaces the document that holds them, reference counting frees
them all at once, where the last reference goes: about a second of CPU in one go for 10 MB,
with every other document's requests waiting. So `DocumentStore` hands replaced documents to
`Leftovers`, which frees their results in slices between messages (`DocumentStore.release`):
it takes references to the items of their big containers (`Analysis.parts`), lets the results
themselves go (only their shells are freed then), and drops those references a piece at a time.

Nothing it frees is changed: a document that something else still holds (a request in flight)
is simply let go, and what is still in use elsewhere stays alive and is freed when that goes.
"""
from __future__ import annotations

import sys
from collections import deque

# Items let go per step: a step frees them and everything only they held.
PIECE = 1024


class Leftovers:
    """Replaced documents whose results are still to be freed (see the module docstring)."""

    def __init__(self) -> None:
        self._documents: deque = deque()

    def keep(self, doc) -> None:
        """Take `doc` (replaced, with a full analysis or parse) to free its results later."""
        self._documents.append(doc)

    def __bool__(self) -> bool:
        return bool(self._documents)

    def steps(self, results):
        """Free the kept documents' results, as a generator (`qvr.stepwise`): it yields every
        `PIECE` items let go. `results(doc)` gives a document's (analysis, parse)."""
        while self._documents:
            doc = self._documents.popleft()
            if sys.getrefcount(doc) > 2:  # (this name and the call's argument)
                continue  # held elsewhere too: it goes when that lets go of it
            analysis, parsed = results(doc)
            del doc
            parts = analysis.parts() if analysis else []
            if parsed is not None:
                parts.append(parsed.module.statements)
            # (the analysis' module is the parse's)
            parts = list({id(part): part for part in parts}.values())
            del analysis, parsed  # only their shells: the parts are held here
            while parts:
                part = parts.pop()  # (held nowhere else here: no iterator keeps it)
                items = list(part.values()) if isinstance(part, dict) else list(part)
                part = None  # the container goes; its items are held in `items`
                yield
                while items:
                    del items[-PIECE:]
                    yield
