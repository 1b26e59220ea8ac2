"""Open documents: text, incremental tree-sitter tree, incremental parse and the latest Analysis.

Stable API (other parts of the server, e.g. `qvr_lsp.run_commands`, rely on it):

* `store = DocumentStore()`; the server keeps one as ``server.documents``.
* `store.get(uri) -> Document | None`: the latest version of an open document.
* `Document` attributes: ``uri``, ``path`` (filesystem path or None), ``text`` (normalised:
  LF line ends, no BOM), ``version``, ``line_index`` (`qvr.syntax.span.LineIndex`),
  ``analysis`` (the `qvr.semantics.Analysis` of exactly this text, computed on first access and
  then cached; None only if the checker cannot be imported), ``parsed`` (the `ParseResult`),
  ``tree`` (tree-sitter `Tree` or None, parsed on first access).

A `Document` is an immutable snapshot of one version: an edit makes a new `Document`, so a
request that holds an old snapshot never sees half-applied state, and work for a version that
is no longer the latest can be recognised (``store.is_current(doc)``) and dropped.

Incrementality. The store holds the one copy of each open document's text and applies each
change itself (positions are in the negotiated encoding, converted with `PositionEncoder`);
`QvrProtocol` keeps pygls from maintaining a second one, and `apply_with_pygls` is the fallback
when applying a change here fails. For each change the tree-sitter tree is
edited (`Tree.edit`); the new version's tree is re-parsed from that edited old tree when first
asked for (nothing on the keystroke -> diagnostics path needs it). The lark parse is per top-level
declaration chunk (`qvr.syntax.split_declarations`): a chunk whose text did not change is taken
from the parser's memo (keyed by chunk text, shifted into place with `qvr.syntax.shift`), so an
edit re-parses only the declarations it touched (see `ChunkParser`). Name resolution and checking
then run over the whole module (`analyze(text, parsed=...)`) when a feature first asks for
``analysis``; the server advances that computation a few milliseconds at a time between
messages (`advance_analysis`), so it never holds a keystroke up.

The keystroke path does not need that: ``diagnostics`` comes from the document's analysis
engine (`qvr.semantics.engine.Engine`) run incrementally: it checks each declaration in a frame
of its own and re-checks only the declarations an edit touched and those depending on them (its
result equals ``analysis.diagnostics``, which is the same engine run on a fresh document; tests
compare them on random edits, in process and through the protocol). The chunk list it works on is kept up to
date edit by edit (`qvr.syntax.resplit_declarations`), so a keystroke never rescans the file.
"""
from __future__ import annotations

import asyncio
import functools
import gc
import logging
import re
import threading
from dataclasses import dataclass
from time import perf_counter
from typing import Any, Callable, Iterable, Optional, Sequence

from qvr.syntax.span import LineIndex, normalize

import tree_sitter
import tree_sitter_qvr
from qvr import semantics, syntax
from qvr.semantics.engine import Engine, SupersededRun
from qvr.semantics.placed import DiagnosticRuns

from .leftovers import Leftovers
from .positions import PositionEncoder

log = logging.getLogger(__name__)

# A UTF-16 code unit of a surrogate pair standing alone. JSON can carry one ("\ud83d"), and
# a client's buffer can hold one (JavaScript strings may); Python then holds it as a code
# point of its own, which no UTF-8 encoder (tree-sitter's bytes, byte offsets) accepts.
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def client_text(text: str) -> str:
    """Text from a client as the store keeps it: `normalize`d, and each lone surrogate
    replaced by U+FFFD, which is one UTF-16 code unit as well, so the client's positions
    still point where they did."""
    text = normalize(text)
    if not text.isascii():
        text = _LONE_SURROGATE.sub("\ufffd", text)
    return text


# Held while a `Document` parses its text with the store's tree-sitter parser (one parser, used
# from the event loop and the worker thread).
_TREE_LOCK = threading.Lock()


@dataclass(frozen=True, slots=True)
class Change:
    """One content change: `range` is ((line, char), (line, char)) in the negotiated encoding,
    or None for a full replacement."""

    range: Optional[tuple[tuple[int, int], tuple[int, int]]]
    text: str


def uri_to_path(uri: str) -> Optional[str]:
    try:
        from pygls.uris import to_fs_path

        return to_fs_path(uri)
    except Exception:
        return None


# ------------------------------------------------------------------ incremental parse ----
class ChunkParser:
    """Parses a module declaration by declaration.

    `qvr.syntax.parse_module` memoises each chunk's lark parse by its text, shifting cached
    results into place; re-implementing that here would only let the two drift apart (doc
    comments that attach across chunks, file-header comments, end-of-file wording), so this
    class delegates to it, passing the document's chunk list (kept up to date edit by edit) so
    the text is not split again. With `track=True` it also records how many chunks an edit
    actually touched (`reparsed`: chunks whose text was not in the previous version); only tests
    and the benchmark turn it on.
    """

    def __init__(self, track: bool = False) -> None:
        self.track = track
        self._previous: frozenset[str] = frozenset()
        self.reparsed = 0

    def parse_steps(self, text: str, chunks=None):
        """`syntax.parse_module(text, chunks)` as a generator (`qvr.stepwise`)."""
        return syntax.parse_module_steps(text, self._track(text, chunks))

    def _track(self, text: str, chunks):
        if self.track:
            chunks = chunks if chunks is not None else syntax.split_declarations(text)
            texts = frozenset(text[c.start:c.end] for c in chunks)
            self.reparsed = len(texts - self._previous)
            self._previous = texts
        return chunks


def fresh_parse(text: str):
    """The whole-module parse the incremental one must agree with."""
    return syntax.parse_module(text)


# ---------------------------------------------------------------------- tree-sitter ----
def _point(index: LineIndex, offset: int) -> tuple[int, int]:
    return index.position_utf8(offset)


def edit_tree(tree, old_index: LineIndex, new_index: LineIndex, start: int, old_end: int, new_end: int):
    """Tell tree-sitter that text[start:old_end] (old text) became text[start:new_end] (new)."""
    tree.edit(
        start_byte=old_index.byte_offset(start),
        old_end_byte=old_index.byte_offset(old_end),
        new_end_byte=new_index.byte_offset(new_end),
        start_point=_point(old_index, start),
        old_end_point=_point(old_index, old_end),
        new_end_point=_point(new_index, new_end),
    )


def tree_sexp(tree) -> str:
    return "" if tree is None else str(tree.root_node)


# ------------------------------------------------------------------------- document ----
class Document:
    """One version of one open document (immutable; `analysis` is computed lazily once)."""

    __slots__ = ("uri", "path", "text", "version", "line_index", "_tree", "_edited_tree", "_ts_parser",
                 "_parser", "_parsed", "_analysis", "_analysis_steps", "cache", "_chunks", "_checker",
                 "_checker_steps", "_diagnostics", "layout", "top_level", "first_from_analysis", "_runs")

    def __init__(self, uri: str, text: str, version: Optional[int], parser: ChunkParser | None = None,
                 ts_parser=None, edited_tree=None, path: Optional[str] = None, line_index: Optional[LineIndex] = None,
                 chunks=None, checker: Optional[Engine] = None, first_from_analysis: bool = False,
                 runs: Optional[dict] = None):
        self.uri = uri
        self.path = path if path is not None else uri_to_path(uri)
        self.text = text
        self.version = version
        self.line_index = line_index or LineIndex(text)
        self._ts_parser = ts_parser
        self._edited_tree = edited_tree  # the previous tree with this version's edits applied
        self._tree = None
        self._parser = parser or ChunkParser()
        self._parsed = None
        self._analysis = None
        self._analysis_steps = None  # the analysis under way, when it is computed in slices
        self.cache: dict = {}  # per-version memo for features (semantic tokens, folding, ...)
        self._chunks = chunks  # `split_declarations(text)`, kept up to date edit by edit
        self._checker = checker
        self._checker_steps = None  # the checker's run for this text, when it runs in slices
        # uri -> the version whose checker run is under way (shared by a store's documents):
        # a later version finishes that run in slices before starting its own
        self._runs = runs if runs is not None else {}
        # when the checker has never run: take this version's diagnostics from the full
        # analysis, and let the checker catch up in slices (`advance_checker`); see
        # `DocumentStore.first_from_analysis`
        self.first_from_analysis = first_from_analysis
        self._diagnostics = None
        # the engine's blocks for this text (`Engine.layout`), once `diagnostics` has run:
        # semantic tokens are stitched from them
        self.layout = None
        # and its top-level symbols and program infos (`Engine.top_level`): completion
        # while typing reads them instead of waiting for a full analysis
        self.top_level = None

    @property
    def chunks(self) -> list:
        if self._chunks is None:
            self._chunks = syntax.split_declarations(self.text)
        return self._chunks

    @property
    def diagnostics(self) -> Optional[tuple]:
        """Every diagnostic of this version (equal to ``analysis.diagnostics``); None only if
        neither the engine nor the full analysis could make them (see `diagnostic_runs`)."""
        runs = self.diagnostic_runs
        return None if runs is None else runs.flat()

    @property
    def diagnostic_runs(self) -> Optional[DiagnosticRuns]:
        """`diagnostics` as runs of recorded diagnostics (`qvr.semantics.placed`: what the
        server converts, run by run), from the document's `Engine`: the keystroke path, which
        re-checks only what the edit touched. Falls back to the full analysis if the engine
        fails; None only if that fails too."""
        if self._diagnostics is None:
            if self._analysis:
                self._diagnostics = DiagnosticRuns.of(self._analysis.diagnostics)
            elif self._checker_steps is not None:
                self.advance_checker(None)  # this text's run is under way: finish it
            elif self.first_from_analysis and self._checker is not None and self._checker.cold \
                    and self.analysis is not None:
                self._diagnostics = DiagnosticRuns.of(self._analysis.diagnostics)
            elif self._checker is not None:
                try:
                    self._diagnostics = self._checker.placed_diagnostics(self.text, self.chunks, self.line_index)
                    self.layout, self.top_level = self._checker.layout, self._checker.top_level
                except Exception:
                    log.exception("incremental check failed for %s; using a full analysis", self.uri)
                    self._checker.reset()
            if self._diagnostics is None:
                analysis = self.analysis
                if analysis is None:
                    return None
                self._diagnostics = DiagnosticRuns.of(analysis.diagnostics)
        return self._diagnostics

    @property
    def tree(self):
        """The tree-sitter tree of this text (None without the binding). Re-parsed lazily and
        incrementally from the previous version's tree: nothing on the keystroke path needs it.
        Read in the worker thread too (selection ranges): the store's one parser parses one
        text at a time (`_TREE_LOCK`)."""
        if self._tree is None and self._ts_parser is not None:
            with _TREE_LOCK:
                if self._tree is None and self._ts_parser is not None:
                    self._parse_tree()
        return self._tree

    def _parse_tree(self) -> None:
        try:
            data = self.text.encode("utf-8", errors="surrogatepass")
            old = self._edited_tree
            self._tree = self._ts_parser.parse(data, old) if old is not None else self._ts_parser.parse(data)
        except Exception:
            log.exception("tree-sitter parse failed for %s", self.uri)
            self._ts_parser = None
        self._edited_tree = None

    def tree_for_next_edit(self):
        """A private copy of the tree to apply the next version's edits to (parsed or not)."""
        base = self._tree if self._tree is not None else self._edited_tree
        return base.copy() if base is not None else None

    @property
    def parsed(self):
        """The `ParseResult` of this version (the one its analysis is made from)."""
        if self._parsed is None:
            self.advance_analysis(None, parse_only=True)
        return self._parsed

    @property
    def analysis(self):
        """The full `Analysis` of this version, computed (or finished) now if need be."""
        if self._analysis is None:
            self.advance_analysis(None)
        return self._analysis or None

    def advance_analysis(self, budget_s: Optional[float], parse_only: bool = False,
                         interrupt: Optional[Callable[[], bool]] = None) -> bool:
        """Work on this version's analysis (`parse_only`: just its parse) for about `budget_s`
        seconds (None: to the end), or until `interrupt()` says that something more urgent
        waits; True once it is there. The server calls this between messages, so that the
        analysis of a large file never holds a keystroke up for more than one step."""
        if self._analysis is not None or (parse_only and self._parsed is not None):
            return True
        if self._analysis_steps is None:
            self._analysis_steps = self._analyze_steps()
        try:
            if not _run_slice(self._analysis_steps, budget_s, interrupt,
                              (lambda: self._parsed is not None) if parse_only else None):
                return False
            if parse_only:
                return True  # the parse is there; the analysis goes on later
        except StopIteration:
            pass
        except Exception:  # a bug in _analyze_steps itself (it catches the parse's and checker's)
            log.exception("analysis failed for %s (version %s)", self.uri, self.version)
            self._analysis = False
        self._analysis_steps = None
        return True

    def _chunks_steps(self):
        """`chunks` as a generator (`qvr.stepwise`): splitting a file of megabytes takes
        a second, so it too goes in slices."""
        if self._chunks is None:
            self._chunks = yield from syntax.split_declarations_steps(self.text)
        return self._chunks

    def _check_steps(self):
        """The engine's incremental run for this version, as a generator."""
        chunks = yield from self._chunks_steps()
        return (yield from self._checker.diagnostics_steps(self.text, chunks, self.line_index))

    def _analyze_steps(self):
        """Parse (reusing unchanged declarations) and analyse this version, as a generator;
        sets `_parsed` and `_analysis` (False when the checker failed: not retried)."""
        if self._parsed is None:
            try:  # the chunk list is kept up to date edit by edit
                chunks = yield from self._chunks_steps()
                self._parsed = yield from self._parser.parse_steps(self.text, chunks)
            except Exception:
                log.exception("incremental parse failed for %s; using a full parse", self.uri)
                self._parsed = fresh_parse(self.text)
            yield  # a caller that only wants the parse stops here
        try:
            self._analysis = yield from semantics.analyze_steps(self.text, self._parsed)
        except Exception:
            log.exception("analyze failed for %s (version %s)", self.uri, self.version)
            self._analysis = False  # do not retry for this version

    @property
    def checker_ready(self) -> bool:
        """Whether the engine has caught up with this version (or there is none),
        so the next keystroke re-checks only what it touches."""
        return self.layout is not None or self._checker is None

    def advance_checker(self, budget_s: Optional[float],
                        interrupt: Optional[Callable[[], bool]] = None) -> bool:
        """Bring the engine up to this version for about `budget_s` seconds (None:
        to the end; `interrupt` as for `advance_analysis`); True once it is there.

        For a first version whose diagnostics came from the full analysis: the checker's first
        run (every declaration checked in a frame of its own, with the records later keystrokes
        replay) then happens in slices between messages instead of on the next keystroke. A
        keystroke that arrives first finishes the run (`Engine.settle`) before
        checking its own version."""
        if self.checker_ready:
            return True
        if self._checker_steps is None:
            # The checker's runs are sequential: a run an earlier version started and dropped
            # is finished before the next starts. `diagnostics_steps` would do that in one go
            # (`Engine.settle`), seconds on a file of megabytes; here it goes on
            # in slices, as it was running.
            earlier = self._runs.get(self.uri)
            if earlier is not None and earlier is not self and earlier._checker_steps is not None:
                if not earlier.advance_checker(budget_s, interrupt):
                    return False
            self._checker_steps = self._check_steps()
            self._runs[self.uri] = self
        try:
            if not _run_slice(self._checker_steps, budget_s, interrupt):
                return False
        except SupersededRun:
            pass  # a newer version's check finished this one first: nothing of it is kept
        except StopIteration as stop:
            self.layout, self.top_level = self._checker.layout, self._checker.top_level
            if self._diagnostics is None:
                self._diagnostics = stop.value
        except Exception:
            log.exception("incremental check failed for %s", self.uri)
            self._checker.reset()
        self._checker_steps = None
        if self._runs.get(self.uri) is self:
            del self._runs[self.uri]
        return True

    def advance_diagnostics(self, budget_s: Optional[float],
                            interrupt: Optional[Callable[[], bool]] = None) -> bool:
        """Work on what `diagnostics` reads (`budget_s` and `interrupt` as for
        `advance_analysis`); True once `diagnostics` answers at once. A first version's come
        from the full analysis (see `DocumentStore.first_from_analysis`), a later version's
        from the engine; either way in slices, so that opening or editing a file
        of megabytes never holds up the messages of other documents."""
        if self._diagnostics is not None or self._analysis:
            return True
        if self._checker is None or (self.first_from_analysis and self._checker.cold
                                     and self._checker_steps is None):
            return self.advance_analysis(budget_s, interrupt=interrupt)
        return self.advance_checker(budget_s, interrupt)

    def top_level_names(self) -> tuple[dict, dict, dict]:
        """(top-level symbols by name, program infos by name, offset of each program's frame)
        of this version: from the full analysis when it is there, else from the incremental
        checker (no full analysis on the typing path); empty when neither is available."""
        if not self._analysis:
            if self.top_level is None and self._checker is not None:
                self.diagnostic_runs
            top_level = self.top_level
            if top_level is not None and top_level.text is self.text:
                return (top_level.symbols(), top_level.programs,
                        {name: top_level.frame_of(name) for name in top_level.programs})
        analysis = self.analysis
        if analysis is None:
            return {}, {}, {}
        return analysis.top_level, analysis.programs, {}

    @property
    def has_analysis(self) -> bool:
        return bool(self._analysis)

    def __repr__(self) -> str:
        return f"Document({self.uri!r}, version={self.version}, {len(self.text)} chars)"


def apply_change(text: str, index: LineIndex, change: Change, encoder: PositionEncoder) -> tuple[str, int, int, int]:
    """Apply one change; return (new text, start, old end, new end) in code points."""
    new_text = client_text(change.text) if change.text else ""
    if change.range is None:
        return new_text, 0, len(text), len(new_text)
    span = encoder.span_from_lsp(index, change.range[0], change.range[1])
    # A range ending between "\r" and "\n" cannot happen: the stored text has no "\r".
    out = text[: span.start] + new_text + text[span.end:]
    return out, span.start, span.end, span.start + len(new_text)


def _results(doc: Document) -> tuple:
    """A document's full analysis and parse, either None when it has none."""
    return doc._analysis or None, doc._parsed


def _run_slice(steps, budget_s: Optional[float], interrupt: Optional[Callable[[], bool]] = None,
               enough: Optional[Callable[[], bool]] = None) -> bool:
    """Advance the generator `steps` (`qvr.stepwise`) for about `budget_s` seconds, until
    `interrupt()` says input is waiting (False: paused), or until `enough()` (True). Its end
    comes out as StopIteration, its failures as they are. With `budget_s` None it runs to the
    end with the cyclic collector paused: in one go, the collector would only rescan the new
    objects over and over (as in `analyze`); the server has it off anyway."""
    if budget_s is None:
        paused = gc.isenabled()
        gc.disable()
        try:
            while True:
                next(steps)
                if enough is not None and enough():
                    return True
        finally:
            if paused:
                gc.enable()
    deadline = perf_counter() + budget_s
    while True:
        next(steps)
        if enough is not None and enough():
            return True
        if perf_counter() >= deadline or (interrupt is not None and interrupt()):
            return False


def _slice_to_end(steps, budget_s: Optional[float], interrupt: Optional[Callable[[], bool]] = None,
                  returned: Optional[list] = None) -> bool:
    """`_run_slice` for a generator that runs to its end: True once it has (what it returns
    appended to `returned`)."""
    try:
        return _run_slice(steps, budget_s, interrupt)
    except StopIteration as stop:
        if returned is not None:
            returned.append(stop.value)
        return True


# How long one slice of a full analysis may run before the event loop gets its turn (`ready`).
ANALYSIS_SLICE_S = 0.004
# Turns of the event loop between two slices. A message is read, handled and answered over a
# few turns (the transport's read callback, the reader task, the handler's task, the callback
# that writes its answer); with a slice in every turn, a hover that came in during a warm-up
# waited for four slices (~20 ms) instead of one.
TURNS_BETWEEN_SLICES = 4
# Between slices the loop lets other callbacks run. When pygls reads stdin in its worker thread
# (stdin not a pipe), the loop also waits this long: the worker needs the GIL to hand a message
# over, and with `sleep(0)` the loop never blocks, so it got the GIL only at the interpreter's
# switch interval (a keystroke behind an inlay-hint request waited ~100 ms on 5,000 lines).
# A server that reads its input on the loop itself sets `slice_pause_s` to 0 (each pause costs
# ~1 ms).
SLICE_PAUSE_S = 0.0005


class DocumentStore:
    """The open documents, by URI. See the module docstring for the stable API."""

    def __init__(self, track_reparse: bool = False, first_from_analysis: bool = False,
                 release_in_slices: bool = False) -> None:
        self.track_reparse = track_reparse
        # The first version of a document gets its diagnostics from the full analysis (on 5,000
        # lines ~200 ms against ~260 ms for the engine's first run, which also
        # records what later keystrokes replay) and the checker catches up in slices
        # afterwards (`Document.advance_checker`); the language server turns this on.
        self.first_from_analysis = first_from_analysis
        self.slice_pause_s = SLICE_PAUSE_S
        # Replaced documents whose results are freed a slice at a time (`release`): the language
        # server turns this on and drives `release`; elsewhere nothing would, so results go
        # where their version is replaced, by reference counting.
        self.release_in_slices = release_in_slices
        self.leftovers = Leftovers()
        self._release_steps = None
        # Whether a message is waiting to be read: a slice ends early when one is (the server
        # sets this when it reads its input on the event loop).
        self.input_waiting: Optional[Callable[[], bool]] = None
        self._docs: dict[str, Document] = {}
        self._parsers: dict[str, ChunkParser] = {}
        self._checkers: dict[str, Engine] = {}
        self._runs: dict[str, Document] = {}  # see `Document._runs`
        self._ts_parser = tree_sitter.Parser(tree_sitter.Language(tree_sitter_qvr.language()))

    # -- queries ----------------------------------------------------------------------------
    def get(self, uri: str) -> Optional[Document]:
        return self._docs.get(uri)

    def all(self) -> list[Document]:
        return list(self._docs.values())

    def is_current(self, doc: Document) -> bool:
        return self._docs.get(doc.uri) is doc

    async def ready(self, doc: Document, need: str = "analysis") -> bool:
        """Compute `doc`'s full analysis (``need="parse"``: just its parse; ``"checker"``: bring
        its engine up to it, see `Document.advance_checker`; ``"diagnostics"``:
        what `Document.diagnostics` reads, see `Document.advance_diagnostics`) a slice of
        `ANALYSIS_SLICE_S` at a time, letting the event loop run in between, so a keystroke that
        arrives meanwhile is checked and published without waiting for it. False when a newer
        version arrived first (the work for this one is dropped)."""
        if need == "checker":
            advance = doc.advance_checker
        elif need == "diagnostics":
            advance = doc.advance_diagnostics
        else:
            advance = functools.partial(doc.advance_analysis, parse_only=need == "parse")
        return await self._in_slices(advance, lambda: self.is_current(doc))

    async def finish_in_slices(self, steps, doc: Document) -> tuple[bool, Any]:
        """Run the generator `steps` (`qvr.stepwise`: a feature's work on `doc`) to its end a
        slice at a time, as `ready` does: (True, what it returns), or (False, None) as soon as
        a newer version of `doc` arrived (the work is dropped)."""
        returned: list = []
        advance = functools.partial(_slice_to_end, steps, returned=returned)
        if not await self._in_slices(advance, lambda: self.is_current(doc)):
            return False, None
        return True, returned[0]

    async def _in_slices(self, advance, wanted=None) -> bool:
        """Call ``advance(ANALYSIS_SLICE_S, interrupt=...)`` until it says it is done, letting
        the event loop run between slices; False as soon as `wanted()` says the work is not."""
        while not advance(ANALYSIS_SLICE_S, interrupt=self.input_waiting):
            await asyncio.sleep(self.slice_pause_s)
            for _ in range(TURNS_BETWEEN_SLICES - 1):
                await asyncio.sleep(0)
            if wanted is not None and not wanted():
                return False
        return True

    def _retire(self, doc: Optional[Document]) -> None:
        """`doc` is being replaced or closed: its results go to `leftovers` (when the store
        releases them in slices)."""
        if doc is not None and self.release_in_slices and any(_results(doc)):
            self.leftovers.keep(doc)

    async def release(self) -> None:
        """Free the results of replaced documents (`Leftovers`) a slice of `ANALYSIS_SLICE_S`
        at a time, letting the event loop run in between, until there are none left."""
        await self._in_slices(self._release_slice)

    def release_now(self) -> None:
        """`release` in one go (no event loop)."""
        self._release_slice(None)

    def _release_slice(self, budget_s: Optional[float],
                       interrupt: Optional[Callable[[], bool]] = None) -> bool:
        if self._release_steps is None:
            self._release_steps = self.leftovers.steps(_results)
        if not _slice_to_end(self._release_steps, budget_s, interrupt):
            return False
        self._release_steps = None
        return True

    # -- lifecycle --------------------------------------------------------------------------
    def _parse_tree(self, text: str, old_tree=None):
        """A tree-sitter parse of `text` (tests compare incremental trees against this)."""
        if self._ts_parser is None:
            return None
        data = text.encode("utf-8", errors="surrogatepass")
        return self._ts_parser.parse(data, old_tree) if old_tree is not None else self._ts_parser.parse(data)

    def open(self, uri: str, text: str, version: Optional[int] = None) -> Document:
        text = client_text(text or "")
        parser = self._parsers.setdefault(uri, ChunkParser(self.track_reparse))
        checker = self._checkers.setdefault(uri, Engine())
        doc = Document(uri, text, version, parser, self._ts_parser, checker=checker,
                       first_from_analysis=self.first_from_analysis, runs=self._runs)
        self._retire(self._docs.get(uri))
        self._docs[uri] = doc
        return doc

    def change(self, uri: str, version: Optional[int], changes: Iterable[Change], encoder: PositionEncoder) -> Document:
        """Apply `changes` in order to the stored text and return the new snapshot."""
        old = self._docs.get(uri)
        if old is None:  # a change for a document we never saw: start from empty text
            old = self.open(uri, "", None)
        text, index = old.text, old.line_index
        tree = old.tree_for_next_edit()
        chunks = old._chunks
        for change in changes:
            new_text, start, old_end, new_end = apply_change(text, index, change, encoder)
            new_index = LineIndex.edited(index, new_text, start, old_end, new_end)
            if chunks is not None:
                try:
                    chunks = syntax.resplit_declarations(text, chunks, new_text, start, old_end, new_end)
                except Exception:
                    log.exception("re-splitting failed; the next chunks are split from scratch")
                    chunks = None
            if tree is not None:
                try:
                    edit_tree(tree, index, new_index, start, old_end, new_end)
                except Exception:
                    log.exception("tree edit failed; the next tree is parsed from scratch")
                    tree = None
            text, index = new_text, new_index
        if text == old.text:
            text = old.text  # the same object: results keyed on the text carry over
        doc = Document(uri, text, version, self._parsers.setdefault(uri, ChunkParser(self.track_reparse)),
                       self._ts_parser, tree, old.path, index, chunks,
                       self._checkers.setdefault(uri, Engine()), runs=self._runs)
        if text == old.text:  # e.g. an edit and its undo in one batch: the analysis carries over
            doc._parsed, doc._analysis = old._parsed, old._analysis
            doc._diagnostics, doc.layout, doc.top_level = old._diagnostics, old.layout, old.top_level
        else:
            self._retire(old)
        self._docs[uri] = doc
        return doc

    def close(self, uri: str) -> None:
        self._retire(self._docs.pop(uri, None))
        self._parsers.pop(uri, None)
        self._checkers.pop(uri, None)
        self._runs.pop(uri, None)


def changes_from_lsp(content_changes: Sequence) -> list[Change]:
    """lsprotocol change events (or plain dicts, lists possibly tuples) -> `Change`s."""
    out = []
    for ch in content_changes or ():
        rng = getattr(ch, "range", None) if not isinstance(ch, dict) else ch.get("range")
        text = getattr(ch, "text", None) if not isinstance(ch, dict) else ch.get("text")
        if rng is None:
            out.append(Change(None, text or ""))
            continue
        start = rng["start"] if isinstance(rng, dict) else rng.start
        end = rng["end"] if isinstance(rng, dict) else rng.end

        def pos(p):
            return (p["line"], p["character"]) if isinstance(p, dict) else (p.line, p.character)

        out.append(Change((pos(start), pos(end)), text or ""))
    return out


def apply_with_pygls(uri: str, text: str, content_changes: Sequence, position_codec) -> str:
    """`text` with lsprotocol `content_changes` applied by pygls' own text-document code (with
    the workspace's `position_codec`): the second opinion when `DocumentStore.change` fails,
    so that the user's text survives a fault in ours."""
    from pygls.workspace import TextDocument

    doc = TextDocument(uri, source=text, position_codec=position_codec)
    for change in content_changes:
        doc.apply_change(change)
    return client_text(doc.source)
