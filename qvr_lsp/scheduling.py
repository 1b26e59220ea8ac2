"""When the server works: slices, pauses, and requests that wait for a computation.

The full analysis of a document is computed in slices of `documents.ANALYSIS_SLICE_S` between
messages (`qvr_lsp.documents.DocumentStore.ready`), never in one go on the keystroke path:

* `after(need)` makes a handler wait for the analysis (or the parse) in slices, and answer
  ContentModified when the document changed meanwhile (the client asks again);
* `Scheduling`, mixed into the server class, publishes diagnostics in a loop callback right
  after a change (a burst of changes costs one check of its last version) and, after a pause
  of `WARM_UP_DELAY_S`, computes the analysis unasked;
* `guarded(default)` turns a handler's unexpected exception into a logged neutral answer;
* `tune_gc` and `IdleCollector` keep the cyclic garbage collector off the keystroke path.
"""
from __future__ import annotations

import asyncio
import functools
import inspect
import json
import logging
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Callable, Optional

from pygls.exceptions import JsonRpcException

from . import documents
from .protocol import ContentModified, PreparedResult

log = logging.getLogger("qvr_lsp")


def guarded(default: Any = None) -> Callable:
    """Run a handler; on any exception log it and return `default` (JSON-RPC errors we raise on
    purpose, e.g. a refused rename, pass through)."""

    def wrap(fn):
        def failed():
            log.exception("%s failed", fn.__name__)
            return default() if callable(default) else default

        if inspect.iscoroutinefunction(fn):
            @functools.wraps(fn)
            async def inner_async(ls, params):
                try:
                    return await fn(ls, params)
                except JsonRpcException:
                    raise
                except Exception:
                    return failed()

            return inner_async

        @functools.wraps(fn)
        def inner(ls, params):
            try:
                return fn(ls, params)
            except JsonRpcException:
                raise
            except Exception:
                return failed()

        return inner

    return wrap


# One worker thread for the answers that take seconds to build for a file of megabytes
# (`in_worker`): made one at a time, each taking turns with the event loop for the interpreter.
_WORKER: Optional[ThreadPoolExecutor] = None


async def in_worker(fn: Callable[[], Any]) -> Any:
    """`fn()` in the worker thread, the event loop going on meanwhile. What it reads must not
    change under it: a document's parse and analysis never do (a change makes a new
    `Document`), the features are pure functions of them, and what they need of the server's
    state is read before, on the loop."""
    global _WORKER
    if _WORKER is None:
        _WORKER = ThreadPoolExecutor(max_workers=1, thread_name_prefix="qvr-answers")
    return await asyncio.get_running_loop().run_in_executor(_WORKER, fn)


def _if_current(ls, doc, fn: Callable[[], Any]) -> Callable[[], Any]:
    """`fn` as the worker runs it for `doc`: queued behind another answer, the document may have
    changed meanwhile; then nobody wants this one (editors ask again for the new version):
    ContentModified, and `fn` is not run."""
    def work():
        if not ls.documents.is_current(doc):
            raise ContentModified()
        return fn()

    return work


async def answer_in_worker(ls, doc, make: Callable[[], Any]) -> PreparedResult:
    """The answer `make()` gives about `doc`, made and written as JSON in the worker thread
    (`in_worker`; ContentModified if `doc` changed while it was queued)."""
    unstructure = ls.protocol._converter.unstructure
    return await in_worker(_if_current(
        ls, doc, lambda: PreparedResult(json.dumps(unstructure(make()), separators=(",", ":")))))


async def in_worker_for(ls, doc, fn: Callable[[], Any]) -> Any:
    """`fn()` about `doc` in the worker thread, for a result applied to the text the client has
    (edits): ContentModified if `doc` changed while it was queued or while it ran."""
    result = await in_worker(_if_current(ls, doc, fn))
    if not ls.documents.is_current(doc):
        raise ContentModified()
    return result


# How long the user must pause before the server computes the full analysis unasked.
WARM_UP_DELAY_S = 0.25


def after(need: str) -> Callable:
    """For a handler that reads the document's full analysis (``need="analysis"``) or parse
    (``"parse"``): have it computed in slices first (`DocumentStore.ready`), then run the
    handler (a function or a coroutine function); ContentModified if the document changed
    meanwhile."""

    def wrap(fn):
        @functools.wraps(fn)
        async def handler(ls, params):
            doc = ls.documents.get(params.text_document.uri)
            if doc is not None and not await ls.documents.ready(doc, need):
                raise ContentModified()
            result = fn(ls, params)
            return await result if inspect.isawaitable(result) else result

        return handler

    return wrap


def tune_gc() -> None:
    """Keep the cyclic garbage collector off the keystroke path (see `IdleCollector`).

    Each analysis allocates hundreds of thousands of small objects (AST nodes, spans, symbols);
    automatic collections then keep scanning everything alive, which in the profile cost about a
    quarter of parse + analyze of a 5,000-line file and most of the time spent converting
    diagnostics. The start-up heap is frozen and automatic collection is switched off; the
    server collects when the user pauses (`IdleCollector`). Memory without cycles is still freed
    immediately by reference counting.

    Nothing is collected here: a full collection scans the whole start-up heap (40-80 ms before
    the first diagnostics). `qvr-lsp` also imports its modules with the collector off, so their
    import-time cycles are still there; the first collection, at the first idle pause, frees
    them. Each collection freezes what is left, so later ones skip it.
    """
    import gc

    gc.disable()


# The most text the open documents may hold for an idle collection to scan the heap. A
# collection scans every object made since the last one: about a second per megabyte of text
# after a document is opened or analysed (10 s for 10 MB, with the server frozen). Beyond this,
# what survives is frozen without a scan; opening and analysing documents makes no reference
# cycles, so that keeps little that a collection would have freed.
MAX_SCAN_CHARACTERS = 500_000


class IdleCollector:
    """Runs `gc.collect()` once the editor has been quiet for `idle_s` seconds, and at the latest
    every `max_changes` changes (so a client that never pauses cannot grow memory forever).
    Then runs the callables in `also` (other work that should not delay a keystroke).

    What survives a collection is frozen (`gc.freeze`), so that each collection scans only what
    was made since the last one. While the open documents hold more than `MAX_SCAN_CHARACTERS`
    of text (`open_characters`, set by the server), there is no scan: what is there is frozen."""

    def __init__(self, idle_s: float = 1.5, max_changes: int = 200) -> None:
        self.idle_s = idle_s
        self.max_changes = max_changes
        self._changes = 0
        self._handle: Optional[asyncio.TimerHandle] = None
        self.also: list = []
        self.open_characters: Callable[[], int] = lambda: 0

    def touch(self) -> None:
        import gc

        if gc.isenabled():
            return  # tune_gc() was not called (tests, embedding): the normal collector runs
        self._changes += 1
        if self._handle is not None:
            self._handle.cancel()
        if self._changes >= self.max_changes:
            self.collect()
            return
        try:
            self._handle = asyncio.get_running_loop().call_later(self.idle_s, self.collect)
        except RuntimeError:
            self.collect()

    def collect(self) -> None:
        import gc

        self._handle = None
        self._changes = 0
        characters = self.open_characters()
        if characters <= MAX_SCAN_CHARACTERS:
            gc.collect()
        else:
            log.info("%d characters of open documents: the heap is frozen without a collection",
                     characters)
        gc.freeze()
        for task in self.also:
            try:
                task()
            except Exception:
                log.exception("idle task %r failed", task)


class Scheduling:
    """Publishing diagnostics, warming up the analysis and freeing replaced documents'
    results, for `qvr_lsp.server.QvrLanguageServer` (its `documents`, `publish`, `idle_gc`,
    `fixed_debounce_s`, the handle tables `_pending`, `_warm`, `_warming`, `_checking` and the
    task `_releasing`)."""

    def debounce_for(self, uri: str) -> float:
        """How long to wait after a change before checking (QVR_LSP_DEBOUNCE_MS; default 0).

        No delay is needed to coalesce bursts: the check runs in a loop callback, and changes
        that arrive while one check runs are all read before the next callback, each cancelling
        the previous pending publish, so a burst costs one check for its last version. A delay
        would only add latency; requests never wait for it anyway (they compute the analysis of
        the latest version on demand)."""
        return self.fixed_debounce_s if self.fixed_debounce_s is not None else 0.0

    # -- the full analysis, computed while the user pauses -----------------------------------
    def schedule_warm_up(self, doc) -> None:
        """Once the user pauses (`WARM_UP_DELAY_S` without a change), compute the analysis in
        slices, so hover, navigation, inlay hints and code lenses then answer at once; and
        bring the engine's incremental run up to the document if it is behind (a first version)."""
        previous = self._warm.pop(doc.uri, None)
        if previous is not None:
            previous.cancel()
        if doc.has_analysis and doc.checker_ready:
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return  # no loop (tests driving the server by hand): requests compute it on demand
        # A just-opened document was published from its full analysis: its engine
        # catches up at once, so that typing soon after opening is fast (see
        # `DocumentStore.first_from_analysis`).
        delay = 0.0 if doc.has_analysis else WARM_UP_DELAY_S
        self._warm[doc.uri] = loop.call_later(delay, self._warm_up, doc)

    def _warm_up(self, doc) -> None:
        self._warm.pop(doc.uri, None)
        if self.documents.is_current(doc):
            task = asyncio.ensure_future(self._warm_steps(doc))
            self._warming.add(task)  # a reference until it is done (the loop keeps weak ones)
            task.add_done_callback(self._warming.discard)

    async def _warm_steps(self, doc) -> None:
        if await self.documents.ready(doc, "analysis"):
            await self.documents.ready(doc, "checker")

    def schedule_release(self) -> None:
        """Free what replaced documents computed (`DocumentStore.release`), in slices after
        the publish; at once without an event loop."""
        if not self.documents.leftovers or self._releasing is not None:
            return
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            self.documents.release_now()
            return
        self._releasing = asyncio.ensure_future(self._release())

    async def _release(self) -> None:
        try:
            await self.documents.release()
        except Exception:
            log.exception("freeing replaced documents failed")
        finally:
            self._releasing = None

    def schedule_publish(self, doc) -> None:
        self.idle_gc.touch()
        previous = self._pending.pop(doc.uri, None)
        if previous is not None:
            previous.cancel()
        warm = self._warm.pop(doc.uri, None)
        if warm is not None:
            warm.cancel()
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            self.publish(doc)
            return
        delay = self.debounce_for(doc.uri)
        if delay <= 0:
            self._pending[doc.uri] = loop.call_soon(self._run_publish, doc)
        else:
            self._pending[doc.uri] = loop.call_later(delay, self._run_publish, doc)

    def _run_publish(self, doc) -> None:
        """Publish `doc`'s diagnostics, computed in slices (`DocumentStore.ready`): the first
        version of a file of megabytes takes seconds to analyse, and other documents' messages
        are answered in between. What takes a single slice is published right here."""
        self._pending.pop(doc.uri, None)
        try:
            if not doc.advance_diagnostics(documents.ANALYSIS_SLICE_S, self.documents.input_waiting):
                task = asyncio.ensure_future(self._publish_when_ready(doc))
                self._checking.add(task)  # a reference until it is done (the loop keeps weak ones)
                task.add_done_callback(self._checking.discard)
                return
            self.publish(doc)
            self.schedule_warm_up(doc)
            self.schedule_release()
        except Exception:
            log.exception("publishing diagnostics failed")

    async def _publish_when_ready(self, doc) -> None:
        try:
            if await self.documents.ready(doc, "diagnostics"):
                self.publish(doc)
                self.schedule_warm_up(doc)
                self.schedule_release()
        except Exception:
            log.exception("publishing diagnostics failed")
