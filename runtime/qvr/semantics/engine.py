"""The analysis engine: the one driver of the checking rules, fresh or incremental.

The rules live in `qvr.semantics.checker` (what a statement means); this module decides which
statements they run on, in which frame, and what of an earlier run is reused. There are two
ways in, over the same passes (group `where` bindings, declare every top-level name, check
each statement, the whole-module pass):

* `analyze(text)` runs the engine on a fresh document: every statement is checked in the
  coordinates of the whole text and the result is a complete `Analysis` (symbols,
  references, types, diagnostics) for features and the compiler (`Engine.analysis_steps`).
* `Engine.diagnostics(text)` is the keystroke path: the engine keeps per-declaration results
  from one version of a document to the next and re-checks only what an edit touched. It
  returns exactly `analyze(text).diagnostics` (tests compare the two on thousands of random
  edits, in process and through the language server), and leaves typed results for the
  presentation layers: `Engine.layout` (each block's name occurrences, for semantic tokens)
  and `Engine.top_level` (the top-level symbols and programs, for completion while typing).

How the incremental runs reuse work:

* **Frames.** Each top-level chunk is parsed on its own with spans relative to the chunk's
  start (`qvr.syntax.parse_chunk_local`, memoised by text, so an unchanged chunk gives the
  very same nodes wherever it moves). Each statement is checked in its chunk's frame:
  `Context.origin` is the chunk's offset and `Context.report` moves diagnostics to absolute
  offsets. A `where` owner and its bindings are separate chunks that must share a frame; such
  a unit is moved into the owner's frame and always re-checked (they are rare).
* **Kept chunks.** The chunks before and after an edit are found by comparing the chunk lists
  and (in C) the texts with the last version's; their units are kept as they are, moved by
  the edit's length change. Only the chunks in between are looked up or parsed.
* **Unit keys.** A unit (a top-level statement with its `where` bindings) has a key: a hash of
  its text, the quantale in force, and for every identifier of its text that names a top-level
  declaration, whether it is declared before, at or after the unit and the key of the unit that
  declares it (and of any unit that wrote its entry without declaring it, e.g. a duplicate).
  Keys chain like a Merkle tree, so a changed unit changes the keys of the units that depend
  on it, transitively. A kept unit keeps its key unless a name it mentions is *dirty* (its
  declaring unit changed, or the unit writing its entry did). What a unit depends on without
  naming it is in its key too: the algebra selected before it (`quantale`, `composition
  NAME`) and whether a `composition` block (a user-defined algebra) comes before it; a block
  holding an `export` is keyed on the expressions exported before it (QVR054).
* **Block records.** Checking has effects the rest of the analysis reads: entries in
  `objects`/`morphisms`/`programs`/`defines`, the type and detail of a unit's own symbols,
  which top-level names it uses (for "never used"), the quantale, the exports. Entries a
  check writes and removes again (a template's parameters) are not among them. They are
  recorded with the diagnostics per *block* of about `BLOCK` consecutive units (cut by a
  checksum of the text, so an edit moves no cut but its own), under a key made of the units'
  keys: a later version replays the record instead of checking. Per-unit bookkeeping would
  cost more than re-checking a few neighbours; per-unit keys keep the dependencies exact. A
  block whose units all kept their keys is not even re-keyed. A block that is checked again
  replays, unit by unit, the units whose key (and text before them on their line) a unit
  checked or replayed in the last two runs had: typing re-checks the same block keystroke
  after keystroke, and only the unit typed in changes (`_check_block`).
* **Diagnostics as runs.** A replayed block's diagnostics are not copied to their new offsets:
  the run returns a `DiagnosticRuns` (`qvr.semantics.placed`), the record's sorted tuple moved
  by one offset, merged in order with what this version made (`placed.merged`). The
  whole-module pass' hints inside a replayed block go into that block's run
  (`_fold_into_blocks`), so that a block stays one run.
* **Quiet edits.** An edit that leaves every declaration as it parsed (typing in the comment
  lines or blank lines after a declaration's code, which belong to its chunk, or before the
  first declaration) and adds or removes no line runs none of the passes: the last version's
  results are handed on, what follows the edit moved (`_quiet_steps`). The edited chunk keeps
  its units, whose keys stand for their code; the next full run keys every block again (a
  block's key covers its whole text), so the edited block is checked again there.
* **Not reused:** results that depend on where things are (a message naming a line, a
  related location in another statement: `Context.positional`), statements the checker failed
  on, and `where` units. A result that looked at all names ("did you mean", "is there any
  `category`": `Context.uses_all_names`) is reused only while the set of names is the same.

The whole-module passes stay whole: `where` grouping, declaring every name (QVR015/019, with
the last version's symbols where a declaration went in cleanly) and the final "never used"/
missing-export pass; they are linear and cheap next to checking. `layout` gives semantic tokens
each block's name occurrences, so they too are stitched instead of recomputed.
"""
from __future__ import annotations

import gc
import re
import zlib
from bisect import bisect_right
from dataclasses import dataclass
from itertools import chain, compress, count, repeat
from operator import attrgetter, is_, is_not, itemgetter, sub
from typing import Optional, Sequence

from ..diagnostics import slot_filler
from ..stepwise import Steps, finish, sorted_steps
from ..syntax import _trivia_end, parse_chunk_local, shift, split_declarations_steps
from ..syntax import ast as A
from ..syntax.span import LineIndex, Span, common_prefix, normalize
from . import checker as _checker_module
from .checker import (INTERNAL_CODE, PASS_STEP, Checker, _diagnostic_order, _internal_message,
                      decl_kind, group_where_steps)
from .families import QUANTALES
from .model import Analysis
from .placed import DiagnosticRuns, Run, merged
from .suggestions import Names

_IDENT = re.compile(r"[^\W\d]\w*")


def _identifiers(text: str) -> tuple:
    """The identifiers of a text, sorted (what a key looks up). Reserved words are kept: a
    tier-3 block may be named by one (`deduction fan …`), and then its uses are references."""
    return tuple(sorted(set(_IDENT.findall(text))))


class _WriteLog(dict):
    """A dict that notes the keys written while `log` is a list (reads stay C-speed)."""

    __slots__ = ("log",)

    def __init__(self):
        super().__init__()
        self.log = None

    def __setitem__(self, key, value):
        if self.log is not None:
            self.log.append(key)
        dict.__setitem__(self, key, value)

    def setdefault(self, key, default=None):
        if key in self:
            return self[key]
        self[key] = default
        return default


_ENV = ("objects", "morphisms", "programs", "defines")


class _Record:
    """What checking one unit did, to replay when its key comes again."""

    __slots__ = ("origin", "diagnostics", "writes", "symbols", "used", "define_uses",
                 "quantale", "export", "export_type", "schema_parser", "names_key", "foreign",
                 "refs", "end", "memo", "export_texts", "run")

    def __init__(self, origin, diagnostics, writes, symbols, used, define_uses, quantale, export,
                 export_type, schema_parser, names_key):
        self.origin = origin  # the frame the diagnostics were recorded in
        self.diagnostics = diagnostics  # absolute offsets, for `origin`
        self.writes = writes  # a unit's: (table, name, value); a block's: (table, {name: value})
        self.symbols = symbols  # (name, type, detail) of the unit's own top-level symbols
        self.used = used  # top-level names it uses
        self.define_uses = define_uses  # (define name, the define using it or None)
        self.refs = ()  # name occurrences: (offset in the frame, kind, is definition)
        self.end = 0  # a block's: its length
        self.memo: dict = {}  # for presentation layers (semantic tokens per block)
        self.export_texts = ()  # the expressions its exports added (a later one is QVR054)
        self.run = None  # a block's diagnostics as a sorted run (`_run_of`), once made
        self.quantale = quantale
        self.export = export
        self.export_type = export_type
        self.schema_parser = schema_parser
        self.names_key = names_key


class _Unit:
    """A top-level statement with its `where` bindings, checked in one frame."""

    __slots__ = ("decl", "origin", "end", "text", "index", "idents", "text_key", "shape_key", "cut",
                 "where", "statements", "key", "key_quantale", "names", "pure")

    def __init__(self, decl, origin, end, text, index, idents, text_key):
        self.decl = decl
        self.origin = origin  # offset of the frame: the start of the statement's chunk
        self.end = end
        self.text = text  # the chunk's text (a `where` unit: through its last binding)
        self.index = index  # position of the declaration in its chunk
        self.idents = idents  # the identifiers of `text`
        self.text_key = text_key  # hash of (text, whether it ends the file)
        self.shape_key = (text_key, index)  # what a block of units is made of
        # where blocks are cut: a checksum of the text, the same in every process (unlike
        # `hash`), so which units share a block is reproducible
        self.cut = zlib.crc32(text.encode("utf-8", "surrogatepass")) + index
        self.where = False
        self.statements = (decl,)
        # its key (None until `_run` computes it; valid while it stays in the file), the
        # quantale it was computed under, and the top-level names it declared then
        self.key = None
        self.key_quantale = None
        self.names = ()
        # its key before `_fold_foreign` made it depend on a write in its own block (or None)
        self.pure = None


# Units per block, on average. Every keystroke goes over every block (replaying it costs a
# look-up and a few appends) and re-checks the blocks it touched, so a larger block trades a
# longer re-check for fewer blocks to go over: on the benchmark's 5,000-line files a keystroke
# took about 10% less CPU with 16 than with 8 (side by side; typing a new step, and replayed
# edits); 24 was no better and 32 worse, re-checking the touched block taking over.
BLOCK = 16
MAX_BLOCK = 4 * BLOCK  # and at most (what one keystroke may have to re-check)
# `diagnostics_steps` yields after this many chunks parsed or blocks checked afresh: about 3 ms
# each on the benchmark's models (a chunk parses in ~40 us, a block checks in ~0.6 ms)
STEP_CHUNKS = 64
STEP_BLOCKS = 6


class _Block:
    """Consecutive units whose results are recorded and replayed together."""

    __slots__ = ("units", "indices", "info", "where", "fresh")

    def __init__(self, units, indices, info, where, fresh):
        self.units = units
        self.indices = indices  # their positions among the top-level units (a range)
        self.info = info  # what depends only on their texts, and the last key (`_BlockInfo`)
        self.where = where  # a `where` unit (always a block of its own)
        self.fresh = fresh  # has a unit new in this version (no key yet)


class _BlockInfo:
    """Facts about a block's texts, and its key the last time it was keyed."""

    __slots__ = ("text_key", "export", "quantale", "idents", "key", "context", "version")

    def __init__(self, text_key, export, quantale, idents):
        self.text_key = text_key  # hash of the units' texts
        self.export = export  # one of them is an export
        self.quantale = quantale  # one of them is a `quantale` statement
        self.idents = idents  # the identifiers of all of them
        self.key = None
        self.context = None  # what else went into `key`
        self.version = -1  # the checker version it was keyed in


# sort key for references (C-level: a module has tens of thousands of references)
_ref_start = attrgetter("span.start")
_KEY = attrgetter("key")
_FIRST, _SECOND = itemgetter(0), itemgetter(1)
_DECL_CLASS = attrgetter("decl.__class__")
_DECL = attrgetter("decl")
_ORIGIN = attrgetter("origin")
_CONTENT = attrgetter("code", "severity", "message", "tags")
_SPAN_START = attrgetter("span.start")
_SPAN_END = attrgetter("span.end")
# a fresh analysis yields after this many statements checked
STEP_UNITS = 32


@dataclass(frozen=True, slots=True)
class PlacedBlock:
    """A block of declarations where it lies in the text: `origin` is its offset, `record`
    what checking it resolved (`record.refs`: name occurrences as (offset from `origin`, kind
    of what they name, whether it is the definition); `record.end`: its length;
    `record.memo`: a dict presentation layers keep their per-block results in, which lives as
    long as the record is replayed)."""

    origin: int
    record: "_Record"


# `PlacedBlock(origin, record)` by filling its slots (one per block per keystroke)
_placed_block = slot_filler(PlacedBlock)


@dataclass(frozen=True, slots=True, eq=False)
class Layout:
    """The blocks of the text an incremental run checked, in text order."""

    text: str
    blocks: tuple  # of PlacedBlock


@dataclass(frozen=True, slots=True, eq=False)
class TopLevel:
    """The top-level names of the text an incremental run checked: what completion needs
    while typing, without a full analysis. A program info's nodes are in its declaration's
    frame: `frame_of(program)` is the offset to add to their spans."""

    text: str
    symbols_table: dict  # name -> Symbol (the engine updates this table in later runs)
    programs: dict  # name -> ProgramInfo
    declared_at: dict  # name -> index of the declaring statement
    frames: dict  # id(program declaration) -> offset of its frame

    def symbols(self) -> dict:
        """Every top-level symbol by name, in declaration order (as `Analysis.top_level`)."""
        at = self.declared_at
        return dict(sorted(self.symbols_table.items(), key=lambda item: at.get(item[0], -1)))

    def frame_of(self, program: str) -> int:
        info = self.programs.get(program)
        return 0 if info is None else self.frames.get(id(info.decl), 0)


class SupersededRun(Exception):
    """A run of `diagnostics_steps` that a later run finished (its result is not kept)."""


class Engine:
    """The analysis of one document, version after version (see the module docstring)."""

    def __init__(self, block: int = BLOCK) -> None:
        # units per block on average (1: every unit its own block, which tests use to
        # see exactly which units an edit re-checks)
        self.block = block
        self._records: dict[int, _Record] = {}  # by unit key: the last version's
        self._previous: dict[int, _Record] = {}  # and the one before (an edit and its undo)
        # What checking one unit did, by `_unit_record_key`, for the units of a block that is
        # checked again (`_check_block`): those made or replayed by the last run and the one
        # before (none are kept from a first run, which checks every unit)
        self._unit_records: dict[tuple, _Record] = {}
        self._unit_previous: dict[tuple, _Record] = {}
        self._units_now: Optional[dict] = None  # this run's, while it goes on
        self._chunks: dict[tuple, tuple] = {}  # (text, at end, occurrence) -> parse, identifiers
        self._declared: dict[int, tuple] = {}  # id(decl) -> (decl, [(name, Symbol)], groups, names)
        # the last version's declarations and tables, when it declared them cleanly
        self._declared_last: Optional[tuple] = None
        self._block_info: dict[tuple, tuple] = {}  # block shape -> its hash, has an export
        # the last version's text, chunks, and per chunk (units, parse diagnostics): an edit
        # keeps the chunks before and after it (the latter moved)
        self._last: Optional[tuple] = None
        self._version = 0
        self._dirty: set = set()  # names whose declaring unit changed since the last version
        self._name_key: dict[str, int] = {}  # name -> key of the unit declaring it
        self._foreign: frozenset = frozenset()  # names written by units not declaring them
        self._occupied: set = set()  # chunk cache keys in use by the last version's chunks
        self._where_names: set = set()  # names declared by the last version's `where` units
        self._last_blocks: Optional[tuple] = None  # the last version's (units, blocks)
        # (text, chunks, chunks kept before the edit, after it), as `_quiet_steps` found them
        self._kept: Optional[tuple] = None
        self._result: Optional[DiagnosticRuns] = None  # the last run's, when it finished
        self._running = None  # the run under way when it is spread over time (`settle`)
        # the last incremental run's blocks (semantic tokens) and top-level names (completion)
        self.layout: Optional[Layout] = None
        self.top_level: Optional[TopLevel] = None
        self.checked = 0  # units checked (not replayed) by the last call: tests look at it
        self.replayed = 0

    def reset(self) -> None:
        """Forget everything (after a failure: the next call starts from scratch)."""
        self.__init__(self.block)

    def diagnostics(self, text: str, chunks: Optional[Sequence] = None,
                    line_index: Optional[LineIndex] = None) -> tuple:
        """Every diagnostic of `text`, equal to ``analyze(text).diagnostics``.

        `chunks` is ``split_declarations(text)`` when the caller has it (the language server
        keeps it up to date incrementally), `line_index` a `LineIndex` of `text`."""
        return self.placed_diagnostics(text, chunks, line_index).flat()

    def placed_diagnostics(self, text: str, chunks: Optional[Sequence] = None,
                           line_index: Optional[LineIndex] = None) -> DiagnosticRuns:
        """`diagnostics` as the engine makes them: runs of recorded diagnostics, each moved
        as a whole (`qvr.semantics.placed`)."""
        was_enabled = gc.isenabled()
        gc.disable()  # as in `analyze`: many small acyclic objects
        try:
            return finish(self.diagnostics_steps(text, chunks, line_index))
        finally:
            if was_enabled:
                gc.enable()

    def diagnostics_steps(self, text: str, chunks: Optional[Sequence] = None,
                          line_index: Optional[LineIndex] = None) -> "Steps[DiagnosticRuns]":
        """`placed_diagnostics` as a generator (`qvr.stepwise`): it yields every `STEP_CHUNKS`
        chunks parsed and every `STEP_BLOCKS` blocks checked.

        The runs of one checker are sequential: each builds on the state the last one left.
        A run that was started and then dropped (its version went stale while it was spread
        over time) is finished before the next one starts (`settle`), never abandoned halfway,
        which would leave the checker's tables half updated."""
        self.settle()
        text = normalize(text)
        if chunks is None:
            chunks = yield from split_declarations_steps(text)
        index = line_index or LineIndex(text)
        run = self._running = self._run_steps(text, chunks, index)
        # Driven by hand, not with `yield from`: closing this generator (a caller dropping it)
        # must leave `run` to `settle`, not close it too.
        while True:
            if self._running is not run:
                raise SupersededRun(text)  # a later run finished this one (`settle`)
            try:
                next(run)
            except StopIteration as stop:
                self._running = None
                return stop.value
            except BaseException:
                self._running = None
                raise
            yield

    @property
    def cold(self) -> bool:
        """Whether no run has been started yet: the first one checks everything."""
        return self._last is None and self._running is None

    def settle(self) -> None:
        """Finish a run that was started and then dropped (see `diagnostics_steps`)."""
        run, self._running = self._running, None
        if run is not None:
            finish(run)

    # -------------------------------------------------------------------------------------
    def _run_steps(self, text, chunks, index):
        """One incremental run: parse the chunks an edit touched, declare, check or replay each
        block of units, then the whole-module pass; returns the diagnostics in order, as runs."""
        self._version += 1
        last_result, self._result = self._result, None  # (none while a run is under way)
        if last_result is not None:
            quiet = yield from self._quiet_steps(text, chunks, last_result)
            if quiet is not None:
                self._result, self._kept = quiet, None
                return quiet
        parse_diags, units, unmoved, tail = yield from self._parse_steps(text, chunks)
        self._kept = None
        checker = Checker(text, index)
        ctx = checker.ctx
        for attr in _ENV:  # what a check writes into them is recorded with its block
            setattr(ctx, attr, _WriteLog())
        top, top_units = yield from self._group_steps(checker, units, keyed=True)
        # with `where` units the unit list is not the chunks' one: count every unit as moved
        unit_names = yield from self._declare_steps(checker, top_units,
                                                    unmoved if top_units is units else 0)
        # the declared names' occurrences: a run reads none of them (see `_check`)
        refs = ctx.references
        while refs:
            del refs[-16 * PASS_STEP:]
            yield
        pieces: list = []
        yield from self._blocks_check_steps(checker, top_units, unit_names, pieces,
                                            (unmoved, tail) if top_units is units else None)
        checked = len(ctx.diagnostics)
        yield from checker.finish_steps(top)
        # in the order `analyze` makes them: the parse's, then the checks' (a block's recorded
        # run where it was replayed), then the whole-module pass'
        loose = ctx.diagnostics
        whole = (yield from sorted_steps(loose[checked:], _diagnostic_order))
        del loose[checked:]
        parse_run = Run.of((yield from sorted_steps(list(parse_diags), _diagnostic_order)))
        if pieces and whole:
            whole = _fold_into_blocks(pieces, whole, parse_run.base, loose)
        segments = [parse_run]
        at = 0
        for position, run in pieces:
            if position > at:
                segments.append(Run.of((yield from sorted_steps(loose[at:position], _diagnostic_order))))
            segments.append(run)
            at = position
        segments.append(Run.of((yield from sorted_steps(loose[at:], _diagnostic_order))))
        segments.append(Run.of(whole))
        yield
        result = DiagnosticRuns(merged(segments))
        self._result = result
        return result

    def _quiet_steps(self, text, chunks, last: DiagnosticRuns):
        """The whole run for an edit that changed no declaration: one in the comments and blank
        lines before the first declaration or after the last line of code of one (typing in a
        comment line between declarations, which belongs to the declaration before it). Every
        declaration parses to what it did, so every result is the last version's with what
        follows the edit moved by its length change, and none of the passes runs. Returns the
        diagnostics, or None, having changed nothing, when the edit is not of that kind.

        It is of that kind when every chunk but at most one is kept (`_kept_steps`) and the
        one that is not holds only comments and blank lines from the edited line on, and
        parses to equal declarations and parse diagnostics; when the last run had no `where`
        unit and declared cleanly; when the edit added or removed no line (a message may name one) and the
        declaration after it still starts a line (the text before a declaration on its line
        is part of its block's key); and when no diagnostic of the last version reaches into
        the edited stretch.

        The edited chunk keeps its units (declarations are the same objects for the same
        text, and records and symbols refer to them): their keys still stand for the last
        text, which differs only after their code. The next full run keys every block again
        (a block's key covers its whole text), so the edited block's record, made for the last
        text, is not replayed on this one."""
        last_state = self._last
        if last_state is None or self._last_blocks is None or self._declared_last is None \
                or self.layout is None or self.top_level is None:
            return None
        old_text, old_chunks, per_chunk = last_state
        n = len(chunks)
        if not n or len(old_chunks) != n:
            return None
        head, tail = yield from _kept_steps(old_text, old_chunks, text, chunks)
        self._kept = (text, chunks, head, tail)
        delta = len(text) - len(old_text)
        edited = None  # the index of the chunk edited after its code
        if head + tail == n:
            if head:
                return None
            start, old_stop = 0, old_chunks[0].start  # before the first declaration
        elif head + tail == n - 1:
            edited = head
            old, new = old_chunks[edited], chunks[edited]
            if old.start != new.start or (old.end >= len(old_text)) != (new.end >= len(text)):
                return None
            units, parse_diags, _ = per_chunk[edited]
            at = new.start
            decls, diags = parse_chunk_local(text[at:new.end], new.end >= len(text), 0,
                                             at == 0 or text[at - 1] == "\n")
            if len(decls) != len(units) or tuple(d.shifted(at) for d in diags) != parse_diags \
                    or any(d != u.decl for d, u in zip(decls, units)):
                return None
            before, after = old_text[at:old.end], text[at:new.end]
            same = common_prefix(before, after)
            # from the edit's line on, both texts hold only comments and blank lines: the edit
            # is after the chunk's code (equal declarations alone do not say so: a broken one
            # keeps only what comes before its error)
            line = before.rfind("\n", 0, same) + 1
            if _trivia_end(before[line:]) != len(before) - line \
                    or _trivia_end(after[line:]) != len(after) - line:
                return None
            start = at + same
            # (and from the end: the longest common suffix of what follows the common prefix)
            old_stop = old.end - common_prefix(before[same:][::-1], after[same:][::-1])
        else:
            return None
        new_stop = old_stop + delta
        if old_text.count("\n", start, old_stop) != text.count("\n", start, new_stop):
            return None
        following = head + (edited is not None)  # the first chunk after the edit
        if following < n and chunks[following].start and text[chunks[following].start - 1] != "\n":
            return None
        # a zero-width span where text was only inserted: before the insertion or after it?
        ambiguous = start if start == old_stop else None
        runs = []
        for run in last.runs:
            origin = run.origin
            if origin is not None and origin + run.length <= start and origin + run.length != ambiguous:
                runs.append(run)
            elif origin is not None and origin >= old_stop and origin != ambiguous:
                runs.append(Run(run.base, run.lo, run.hi, run.delta + delta, origin + delta,
                                run.length, run.keys, run.memo))
            else:  # each diagnostic lies before the edit or after it; those before come first
                cut = _cut_at_edit(run, start, old_stop, ambiguous)
                if cut is None:
                    return None
                if cut > run.lo:
                    runs.append(Run(run.base, run.lo, cut, run.delta, None, run.length, run.keys,
                                    run.memo))
                if cut < run.hi:
                    runs.append(Run(run.base, cut, run.hi, run.delta + delta, None, run.length,
                                    run.keys, run.memo))
        # the symbols of the declarations after the edit go where their units go
        cache = self._declared
        frames = []
        for k in range(following, n):
            if not (k - following + 1) % PASS_STEP:
                yield
            for u in per_chunk[k][0]:
                entry = cache.get(id(u.decl))
                if entry is None or entry[0] is not u.decl:
                    return None
                frames.append(entry[1])
        yield
        # -- the edit is quiet: this version's state, from here on nothing returns None --
        if edited is not None:
            for u in per_chunk[edited][0]:
                u.end = chunks[edited].end
        entries = per_chunk[:following] + (yield from _moved_steps(per_chunk[following:], delta))
        self._last = (text, chunks, entries)
        units = list(chain.from_iterable(map(_FIRST, entries)))
        for entry, u in zip(frames, units[len(units) - len(frames):]):
            for _, sym in entry:
                sym.origin = u.origin
        yield
        # (the blocks' keys are left as the last full run made them: the next full run keys
        # every block again, the edited one with its new text among them)
        self._last_blocks = (units, self._last_blocks[1])
        # which block holds the edited chunk goes by the chunk (an insertion at the end of the
        # file is at the end of the last block, and in it)
        low, high = (old_chunks[edited].start, old_chunks[edited].end) if edited is not None \
            else (old_stop, old_stop)
        placed = []
        for pb in self.layout.blocks:
            record = pb.record
            if pb.origin + record.end <= low:
                placed.append(pb)
            elif pb.origin >= high:
                placed.append(_placed_block(pb.origin + delta, record))
            else:  # the edited block
                placed.append(_placed_block(pb.origin, _resized(record, start - pb.origin, delta)))
        self.layout = Layout(text, tuple(placed))
        yield
        top_level = self.top_level
        self.top_level = TopLevel(text, top_level.symbols_table, top_level.programs,
                                  top_level.declared_at, _program_frames(units))
        self.checked, self.replayed = 0, len(units)
        return DiagnosticRuns(runs)

    def analysis_steps(self, text: str, parsed) -> "Steps[Analysis]":
        """The full `Analysis` of `text` (`parsed` its `ParseResult`, spans in the coordinates
        of the whole text), as a generator: the same passes as an incremental run, with every
        statement's frame at 0 and every unit checked (a fresh document has nothing to
        replay); nothing is kept for later versions. `analyze` is this on a new engine."""
        index = LineIndex(text)
        yield
        statements, end = parsed.module.statements, len(text)
        units: list = []
        for at in range(0, len(statements), 16 * PASS_STEP):  # (in pieces: see the end)
            units.extend(_Unit(d, 0, end, "", k, (), 0)
                         for k, d in enumerate(statements[at:at + 16 * PASS_STEP], at))
            yield
        checker = Checker(text, index)
        ctx = checker.ctx
        top_units: list = []
        try:
            top, top_units = yield from self._group_steps(checker, units, keyed=False)
            yield
            for i, u in enumerate(top_units):  # declare (nothing to remember for later runs)
                if i % PASS_STEP == PASS_STEP - 1:
                    yield
                checker.declare_statement(i, u.decl)
            yield
            for i, u in enumerate(top_units):
                if i % STEP_UNITS == STEP_UNITS - 1:
                    yield
                ctx.current_index = i
                try:
                    checker.check_statement(u.decl)
                except Exception as exc:  # one statement never takes the analysis down
                    if _checker_module._DEBUG:  # QVR_SEMANTICS_DEBUG=1: re-raise (development)
                        raise
                    checker.unchecked = True
                    ctx.error(INTERNAL_CODE, _internal_message(exc, "this statement"), u.decl.span)
                finally:
                    ctx.order_free = False
                    ctx.local_top = {}
                    ctx.pending = set()
            yield
            yield from checker.finish_steps(top)
        except Exception as exc:
            if _checker_module._DEBUG:  # QVR_SEMANTICS_DEBUG=1: re-raise (development)
                raise
            first_line_end = text.find("\n")
            ctx.error(INTERNAL_CODE, _internal_message(exc, "this module"),
                      Span(0, len(text) if first_line_end < 0 else first_line_end))
        # The units go, and later the results are copied, a piece per step: a module of
        # megabytes has hundreds of thousands of statements, and each of these takes tens of
        # milliseconds in one go there.
        for pile in (top_units, units):  # (often one list)
            while pile:
                del pile[-16 * PASS_STEP:]
                yield
        yield
        diags = yield from sorted_steps(list(parsed.diagnostics) + ctx.diagnostics,
                                        _diagnostic_order)
        yield
        # by start offset; the sort is stable and references are mostly recorded in order
        refs = yield from sorted_steps(ctx.references, _ref_start)
        yield
        ref_starts: list = []
        for k in range(0, len(refs), 16 * PASS_STEP):
            ref_starts.extend(map(_ref_start, refs[k:k + 16 * PASS_STEP]))
            yield
        symbols = tuple(ctx.symbols)
        yield
        references = tuple(refs)
        del refs
        yield
        top_level = dict(ctx.top)
        yield
        objects, morphisms, programs, defines = (
            dict(ctx.objects), dict(ctx.morphisms), dict(ctx.programs), dict(ctx.defines))
        yield
        return Analysis(
            text=text, line_index=index, module=parsed.module, diagnostics=tuple(diags),
            symbols=symbols, top_level=top_level, references=references,
            objects=objects, morphisms=morphisms,
            programs=programs, defines=defines, export=checker.export,
            export_type=checker.export_type, _types=ctx.types, _scans=ctx.scans,
            _inlines=ctx.inlines, _ref_starts=ref_starts, _intermediates=ctx.intermediates)

    def _group_steps(self, checker, units, keyed: bool):
        """Group `where` bindings with their owners (by absolute keyword columns): the
        top-level statements and their units, an owner's unit holding its bindings in the
        owner's frame. `keyed`: the units will be keyed (their text and identifiers
        are needed)."""
        ctx, text, index = checker.ctx, checker.text, checker.index
        origins = {}

        def origin_of(d):
            if not origins:  # only files with `where` get here
                origins.update((id(u.decl), u.origin) for u in units)
            return origins[id(d)]

        def col(d):
            at = origin_of(d) + d.keyword.span.start
            if at == 0 or text[at - 1] == "\n":
                return 0
            return index.position(at)[1]

        top, bindings = yield from group_where_steps(ctx, list(map(_DECL, units)), col=col,
                                                     origin_of=origin_of)
        ctx.origin = 0
        checker.bindings = bindings
        if len(top) == len(units):  # no `where` bindings: every statement is a unit
            return top, units
        by_decl = {id(u.decl): u for u in units}
        top_units = [by_decl[id(d)] for d in top]
        for k, u in enumerate(top_units):
            if bindings.get(id(u.decl)):
                origin_of(u.decl)
                top_units[k] = self._into_owner_frame(text, u, bindings, origins, by_decl, keyed)
        return top, top_units

    def _blocks_check_steps(self, checker, top_units, unit_names, pieces, kept):
        """Check or replay each block of units (see the module docstring). The diagnostics of
        a block with a record go to `pieces` as (where they go in `ctx.diagnostics`, `Run`),
        not into `ctx.diagnostics`: a replayed block's are not moved one by one. `kept`: how
        many units before and after the edit are the last version's (see `_blocks_steps`)."""
        text, ctx = checker.text, checker.ctx
        records: dict[int, _Record] = {}
        names_key = None
        top_syms, declared_at = ctx.top, ctx.declared_at
        tables = {attr: getattr(ctx, attr) for attr in _ENV}
        used_names: set[str] = set()  # top-level names the replayed blocks use
        # What the replayed blocks write (table entries, their symbols' type and detail, the
        # names they use), gathered per block and applied in C loops (`_apply_replayed`)
        # before a block is checked (which may read them) and at the end: this loop runs over
        # every block per keystroke.
        pending: dict[str, list] = {attr: [] for attr in _ENV}
        pending_symbols: list = []
        pending_used: list = []
        export_seen = False
        checked = replayed = 0
        layout = []
        # Names whose meaning may have changed since the last version: those of the units
        # that changed (old and new), and those written by units that do not declare them.
        # A unit kept from the last version keeps its key unless it mentions one of them.
        dirty = self._dirty
        dirty.update(self._foreign)
        # a `where` unit is a fresh copy every version (its names are not on the chunk's
        # unit): the names the last version's declared count as changed
        dirty.update(self._where_names)
        where_names: set = set()
        version, last_version = self._version, self._version - 1
        yield
        # where the first `composition` opaque block (a user-defined algebra) is declared, if
        # any: the statements after it are checked under an unknown algebra (what
        # `Checker.algebra_unknown` compares them with; found here in the pass over the units
        # rather than from every top-level symbol)
        algebra_from = None
        # (picked out in C loops, a piece at a time: this runs over every unit per keystroke)
        for at in range(0, len(top_units), 4 * PASS_STEP):
            units = top_units[at:at + 4 * PASS_STEP]
            for own in compress(unit_names[at:at + 4 * PASS_STEP], map(is_, map(_KEY, units), repeat(None))):
                dirty.update(own)  # the names of units new in this version
            for u in compress(units, map(is_, map(_DECL_CLASS, units), repeat(A.OpaqueDecl))):
                d = u.decl
                if d.head.text == "composition":
                    sym = top_syms.get(d.name.text)
                    if sym is not None and sym.decl is d:
                        at_decl = declared_at.get(d.name.text, 0)
                        algebra_from = at_decl if algebra_from is None else min(algebra_from, at_decl)
            yield
        name_key = self._name_key
        self._units_now = {} if version > 1 else None
        extra_writes: dict[str, int] = {}  # name -> chained keys of blocks writing it, so far
        foreign_now: set = set()
        # the quantale in force at each unit: part of its key, since the entries it writes
        # (a `latent`'s quantale) depend on it
        quantale = ctx.quantale
        blocks = yield from self._blocks_steps(top_units, kept)
        for n_block, block in enumerate(blocks, 1):
            if not n_block % STEP_BLOCKS:
                if not n_block % (16 * STEP_BLOCKS):  # (so that no one step applies them all)
                    _apply_replayed(tables, top_syms, used_names, pending, pending_symbols, pending_used)
                yield
            info = block.info
            first = block.units[0]
            # the text before its keyword on its line (where fixes insert): for the first unit
            # it lies outside the block
            origin = first.origin
            head = "" if not origin or text[origin - 1] == "\n" else \
                text[text.rfind("\n", 0, origin) + 1:origin]
            # an export's check reads the expressions exported before it (QVR054); a define
            # after a `composition` block is checked under an unknown algebra (which of the
            # block's units are after it, clamped)
            context = (quantale, ctx.quantale, export_seen, head,
                       frozenset(checker.export_texts) if info.export else None,
                       None if algebra_from is None else
                       max(-1, min(algebra_from - block.indices.start, len(block.units))))
            if (info.version == last_version and not block.fresh and not info.quantale
                    and not block.where and info.context == context
                    and (not dirty or dirty.isdisjoint(info.idents))):
                # nothing it depends on changed: its units keep their keys, it keeps its key
                key = info.key
            else:
                key = self._block_key(block, context, text, top_units, unit_names, declared_at,
                                      name_key, extra_writes, dirty, algebra_from)
                quantale = block.units[-1].key_quantale[0]
                info.key, info.context = key, context
            info.version = version
            record = None if block.where else (self._records.get(key) or self._previous.get(key))
            if record is not None and record.names_key is not None:
                if names_key is None:
                    names_key = yield from _names_key_steps(top_syms)
                if record.names_key != names_key:
                    record = None
            if record is not None:  # replay (inlined: this loop runs for every block)
                replayed += len(block.units)
                records[key] = record
                if record.diagnostics:
                    pieces.append((len(ctx.diagnostics), _run_of(record, block.units[0].origin)))
                for attr, entries in record.writes:
                    pending[attr].append(entries)
                if record.symbols:
                    pending_symbols.extend(record.symbols)
                pending_used.append(record.used)
                _replay_context(checker, record)
            else:
                checked += len(block.units)
                before = len(ctx.diagnostics)
                _apply_replayed(tables, top_syms, used_names, pending, pending_symbols, pending_used)
                record, reusable = self._check_block(checker, block)
                if reusable and record.diagnostics \
                        and len(ctx.diagnostics) - before == len(record.diagnostics):
                    # the very diagnostics it just added: as the run later versions replay
                    del ctx.diagnostics[before:]
                    pieces.append((before, _run_of(record, block.units[0].origin)))
                if reusable:
                    if record.names_key is not None:
                        if names_key is None:
                            names_key = yield from _names_key_steps(top_syms)
                        record.names_key = names_key
                    records[key] = record
            layout.append(_placed_block(block.units[0].origin, record))
            if record.foreign:  # entries of names declared elsewhere
                for name in record.foreign:
                    extra_writes[name] = hash((extra_writes.get(name), key))
                dirty.update(record.foreign)
                foreign_now.update(record.foreign)
                _fold_foreign(block, record.foreign, key, name_key, dirty)
            if info.export:
                export_seen = True
            if block.where:
                where_names.update(unit_names[block.indices.start])
        _apply_replayed(tables, top_syms, used_names, pending, pending_symbols, pending_used)
        dirty.clear()
        self._foreign = frozenset(foreign_now)
        self._where_names = where_names
        self.checked, self.replayed = checked, replayed
        yield
        self.layout = Layout(text, tuple(layout))
        # (`declared_at` is not copied: nothing writes it after the declare pass, and a later
        # run declares into a table of its own)
        self.top_level = TopLevel(text, top_syms, ctx.programs, ctx.declared_at,
                                  _program_frames(top_units))
        yield
        replayed_uses = list(used_names)  # (a piece at a time: a file of megabytes uses 100,000s)
        for at in range(0, len(replayed_uses), 16 * PASS_STEP):
            ctx.used.update(map(id, map(top_syms.__getitem__, replayed_uses[at:at + 16 * PASS_STEP])))
            yield
        self._previous, self._records = self._records, records
        if self._units_now is not None:
            self._unit_previous, self._unit_records = self._unit_records, self._units_now
        self._units_now = None

    # -------------------------------------------------------------------------------------
    def _parse_steps(self, text, chunks):
        """Parse every chunk in its own frame: (parse diagnostics, units, how many units come
        before the edit, how many after it).

        Chunks before and after the edit are the last version's (found by comparing the chunk
        lists and, in C, the texts); their units are kept, moved by the edit's length change.
        The chunks in between are looked up by text (`_parse_chunk`); their units get no key
        yet (`_run` computes one) and their old and new names are marked dirty."""
        last = self._last
        if last is None:
            keep_head = keep_tail = 0
            per_chunk: list = []
        else:
            old_text, old_chunks, per_chunk = last
            kept = self._kept
            if kept is not None and kept[0] is text and kept[1] is chunks:  # (`_quiet_steps` found them)
                keep_head, keep_tail = kept[2], kept[3]
            else:
                keep_head, keep_tail = yield from _kept_steps(old_text, old_chunks, text, chunks)
            for units, _, key in per_chunk[keep_head:len(per_chunk) - keep_tail]:
                self._occupied.discard(key)
                for u in units:
                    self._dirty.update(u.names)
        delta = len(text) - (len(last[0]) if last is not None else 0)
        entries = per_chunk[:keep_head]
        for n_chunk, chunk in enumerate(chunks[keep_head:len(chunks) - keep_tail], 1):
            if not n_chunk % STEP_CHUNKS:
                yield
            entries.append(self._parse_chunk(text, chunk))
        if keep_tail:
            entries += yield from _moved_steps(per_chunk[len(per_chunk) - keep_tail:], delta)
        yield
        self._last = (text, chunks, entries)
        # (in C loops, a piece at a time: thousands of chunks per keystroke)
        units: list = []
        diags: list = []
        ends = []  # how many units the chunks before the edit, up to its end, and all of them hold
        n = len(entries)
        for part in (entries[:keep_head], entries[keep_head:n - keep_tail], entries[n - keep_tail:]):
            for at in range(0, len(part), 16 * STEP_CHUNKS):
                piece = part[at:at + 16 * STEP_CHUNKS]
                units.extend(chain.from_iterable(map(_FIRST, piece)))
                diags.extend(chain.from_iterable(filter(None, map(_SECOND, piece))))
                yield
            ends.append(len(units))
        return diags, units, ends[0], ends[2] - ends[1]

    def _parse_chunk(self, text, chunk) -> tuple:
        """(units, parse diagnostics, cache key) of a chunk this version does not keep."""
        cache = self._chunks
        if len(cache) > 50000:
            cache.clear()
        start = chunk.start
        chunk_text = text[start:chunk.end]
        at_eof = chunk.end >= len(text)
        line_start = start == 0 or text[start - 1] == "\n"  # (a block head needs column 0)
        occurrence = 0
        while (chunk_text, at_eof, occurrence, line_start) in self._occupied:
            occurrence += 1  # identical chunks: each copy gets nodes of its own
        key = (chunk_text, at_eof, occurrence, line_start)
        self._occupied.add(key)
        parsed = cache.get(key)
        if parsed is None:
            decls, chunk_diags = parse_chunk_local(chunk_text, at_eof, occurrence, line_start)
            idents = _identifiers(chunk_text)
            text_key = hash(key)
            # the units are reused by later versions (only `origin`/`end` change; a `where`
            # owner is copied before it is changed, see `_into_owner_frame`)
            parsed = cache[key] = (
                [_Unit(d, start, chunk.end, chunk_text, k, idents, text_key)
                 for k, d in enumerate(decls)], chunk_diags)
        units, chunk_diags = parsed
        for u in units:
            u.origin, u.end = start, chunk.end
            u.key = None  # not kept: `_run` computes its key
        return units, tuple(d.shifted(start) for d in chunk_diags), key

    def _declare_steps(self, checker, top_units, unmoved: int):
        """Declare every top-level name (QVR015/QVR019 included); return each unit's names.

        When the last version declared everything cleanly (no diagnostic) and this one has the
        same number of units, only the units that changed are declared again, into copies of
        the last version's tables (`_declare_changed_steps`); otherwise every unit is
        (`_declare_all_steps`)."""
        last = self._declared_last
        if last is not None and len(last[0]) == len(top_units):
            decls = last[0]
            n = len(top_units)
            # the units before and after the edit hold the last version's declarations (found
            # in C loops: a file of megabytes has tens of thousands of units)
            first = next(compress(count(), map(is_not, map(_DECL, top_units), decls)), n)
            yield
            end = n - next(compress(count(), map(is_not, map(_DECL, reversed(top_units[first:])),
                                                 reversed(decls[first:]))), n - first)
            yield
            names = yield from self._declare_changed_steps(checker, top_units, first, end, unmoved)
            if names is not None:
                return names
        return (yield from self._declare_all_steps(checker, top_units))

    def _declare_all_steps(self, checker, top_units):
        """Declare every unit. A declaration that went in cleanly last time and whose names
        are all still free goes in again with the same `Symbol`s, reset to how declaring
        leaves them; anything else takes `Checker.declare_statement`. `ctx.symbols` is not
        filled: nothing here reads it."""
        ctx = checker.ctx
        ctx.top, ctx.declared_at, ctx.groups = Names(), {}, {}
        top, declared_at, groups = ctx.top, ctx.declared_at, ctx.groups
        cache, fresh = self._declared, {}
        names = []
        diagnostics_before = len(ctx.diagnostics)
        for i, u in enumerate(top_units):
            if i % PASS_STEP == PASS_STEP - 1:
                yield
            d = u.decl
            hit = cache.get(id(d))
            if hit is not None and hit[0] is d:
                entries = hit[1]
                if top.keys().isdisjoint(hit[3]):
                    origin = u.origin
                    for n, sym in entries:
                        top[n] = sym
                        declared_at[n] = i
                        # as a fresh symbol: a unit checked before this one may read it
                        sym.origin, sym.type, sym.detail = origin, None, ""
                    for n, members in hit[2]:
                        groups[n] = members
                    fresh[id(d)] = hit
                    names.append(hit[3])
                    continue
            names.append(self._declare_one(checker, i, u, fresh))
        self._declared = fresh
        clean = len(ctx.diagnostics) == diagnostics_before
        self._declared_last = ([u.decl for u in top_units], dict(top), dict(declared_at),
                               dict(groups), names) if clean else None
        return names

    def _declare_one(self, checker, i, u, cache) -> tuple:
        """`Checker.declare_statement` for one unit; a clean result goes into `cache`."""
        ctx = checker.ctx
        d = u.decl
        before = len(ctx.diagnostics)
        ctx.origin = u.origin
        checker.declare_statement(i, d)
        ctx.origin = 0
        top, declared_at, groups = ctx.top, ctx.declared_at, ctx.groups
        own = tuple(n for n in _names_of(d, groups) if declared_at.get(n) == i and top[n].decl is d)
        if len(ctx.diagnostics) == before:
            cache[id(d)] = (d, [(n, top[n]) for n in own], [(n, groups[n]) for n in own if n in groups],
                            own)
        return own

    def _declare_changed_steps(self, checker, top_units, first, end, unmoved):
        """Declare only units [first, end) (those that changed; the count is the same) into
        copies of the last version's tables, as a generator. None when that is not enough (a
        diagnostic, a name taken): the caller then declares everything. The kept symbols keep
        their last type and detail: every unit is replayed or checked after this, which sets
        them, and a check reading a symbol declared after it resets that one first (`_check`)."""
        ctx = checker.ctx
        decls, top0, declared_at0, groups0, names0 = self._declared_last
        top = Names(top0)  # (dict copies: milliseconds even for a file of megabytes)
        yield
        declared_at, groups = dict(declared_at0), dict(groups0)
        yield
        for i in range(first, end):
            for name in names0[i]:
                top.pop(name, None)
                declared_at.pop(name, None)
                groups.pop(name, None)
        ctx.top, ctx.declared_at, ctx.groups = top, declared_at, groups
        names = list(names0)
        cache = self._declared
        diagnostics_before = len(ctx.diagnostics)
        for i in range(first, end):
            u = top_units[i]
            names[i] = own = self._declare_one(checker, i, u, cache)
            if len(ctx.diagnostics) != diagnostics_before:
                del ctx.diagnostics[diagnostics_before:]
                return None
            for name in own:
                ctx.top[name].type, ctx.top[name].detail = None, ""
        # declarations after the edit moved: their symbols' frames with them
        yield
        for count_, u in enumerate(top_units[min(first, unmoved):], 1):
            if not count_ % PASS_STEP:
                yield
            entry = cache.get(id(u.decl))
            if entry is None or entry[0] is not u.decl:
                return None
            origin = u.origin
            for _, sym in entry[1]:
                sym.origin = origin
        if len(cache) > 2 * len(top_units) + 1000:  # forget declarations long gone
            self._declared = {id(u.decl): cache[id(u.decl)] for u in top_units if id(u.decl) in cache}
        self._declared_last = ([u.decl for u in top_units] if first < end else decls,
                               top, declared_at, groups, names)
        return names

    def _into_owner_frame(self, text, owner_unit, bindings, origins, by_decl,
                          keyed: bool = True) -> "_Unit":
        """A unit for a `where` owner with its bindings (nested ones too) moved into the
        owner's frame."""
        unit = _Unit(owner_unit.decl, owner_unit.origin, owner_unit.end, owner_unit.text,
                     owner_unit.index, owner_unit.idents, owner_unit.text_key)
        unit.where = True
        owner_unit.key = None  # not a unit of its own this version: no key to keep
        statements = [unit.decl]
        end = unit.end
        todo = [unit.decl]
        while todo:
            owner = todo.pop()
            moved = []
            for b in bindings.get(id(owner), ()):
                by_decl[id(b)].key = None
                end = max(end, by_decl[id(b)].end)
                nb = shift(b, origins[id(b)] - unit.origin)
                origins[id(nb)] = unit.origin
                if id(b) in bindings:
                    bindings[id(nb)] = bindings[id(b)]
                    todo.append(nb)
                moved.append(nb)
                statements.append(nb)
            bindings[id(owner)] = moved
        unit.statements = tuple(statements)
        unit.end = end
        if not keyed:
            return unit
        unit.text = text[unit.origin:end]  # its key covers the bindings
        unit.idents = _identifiers(unit.text)
        unit.text_key = hash((unit.text, end >= len(text)))
        unit.shape_key = (unit.text_key, unit.index)
        return unit

    # -------------------------------------------------------------------------------------
    def _block_key(self, block, context, text, top_units, unit_names, declared_at, name_key,
                   extra_writes, dirty, algebra_from=None) -> int:
        """Key the block's units (those whose inputs may have changed afresh) and the block."""
        quantale = context[0]
        unit_keys = []
        prefixes = ()
        for i, u in zip(block.indices, block.units):
            if u.decl.__class__ in _SELECTORS:  # in force from here on (if known)
                named = u.decl.name.text.lower()
                quantale = named if named in QUANTALES else quantale
            # the quantale in force and whether a user-defined algebra is (both change what
            # a declaration writes or reports without changing any name it mentions)
            in_force = (quantale, algebra_from is not None and i > algebra_from)
            key = u.key
            if key is None or u.key_quantale != in_force or (dirty and not dirty.isdisjoint(u.idents)):
                # Its text and, per identifier, the key of the unit declaring it (per unit,
                # not per block: a block depends only on the names it uses).
                states = []
                for name in u.idents:
                    at = declared_at.get(name)
                    if at is None:
                        state = None
                    elif at < i:
                        state = name_key.get(name)
                    elif at == i:
                        state = "self"
                    else:  # declared later: only its declaration is visible yet
                        state = ("later", top_units[at].text_key)
                    if extra_writes and name in extra_writes:
                        state = (state, extra_writes[name])
                    states.append(state)
                new_key = hash((u.text_key, u.index, in_force, tuple(states)))
                own = unit_names[i]
                if new_key != key or own != u.names:
                    dirty.update(own)
                    dirty.update(u.names)
                key = u.key = new_key
                u.pure = None
                u.names = own
                for name in own:
                    name_key[name] = key
            u.key_quantale = in_force
            unit_keys.append(key)
            if i > block.indices.start:
                origin = u.origin
                if text[origin - 1] != "\n":
                    prefixes += (i, text[text.rfind("\n", 0, origin) + 1:origin])
        # (the block's whole text: its units' keys stand for their code, which is all of it
        # except after `_quiet_steps` kept a unit whose comments after its code changed)
        first, last = block.units[0], block.units[-1]
        return hash((block.info.text_key, hash(text[first.origin:last.end]), context[1:], prefixes,
                     tuple(unit_keys)))

    def _blocks_steps(self, top_units, kept=None):
        """Cut the units into blocks, the grain of reuse: bookkeeping per unit would cost more
        than re-checking a few neighbours of an edited one. Cuts are chosen by content (after a
        unit whose text checksum is 0 mod `block`), so an edit moves no cut but its own (a block
        also ends after `MAX_BLOCK` units; cuts after that resynchronise at the next content
        cut); `where` units, never reused, are blocks of their own.

        `kept` is (how many units before the edit, how many after it) are the last version's
        units, unchanged and in place (those after it moved with the text), or None. Those
        units keep their blocks: the scan starts after the last block that ends before the
        first changed unit, and stops at the first cut it makes at the start of an old block
        whose units all come after the last changed one (from a cut on, the scan reads only the
        units after it)."""
        blocks, start = [], 0
        block, most = self.block, MAX_BLOCK * self.block // BLOCK
        info = self._block_info
        if len(info) > 20000:
            info.clear()
        n = len(top_units)
        tail_blocks: dict[int, int] = {}  # a cut at this index -> the old blocks from there on
        old = self._last_blocks if kept is not None else None
        if old is not None:
            old_units, old_blocks = old
            head, tail = kept
            # (a cut after a unit depends on the next one: the last unchanged unit is not enough)
            reused = 0
            while reused < len(old_blocks) and old_blocks[reused].indices.stop < head:
                old_blocks[reused].fresh = False  # every unit of it has its key
                reused += 1
            blocks.extend(old_blocks[:reused])
            start = blocks[-1].indices.stop if reused else 0
            moved = n - len(old_units)
            for j in range(len(old_blocks) - 1, reused - 1, -1):
                at = old_blocks[j].indices.start
                if at < len(old_units) - tail:
                    break
                tail_blocks[at + moved] = j
        self._last_blocks = None  # (until this scan is complete)

        def close(end, fresh):
            units = top_units[start:end]
            shape = tuple(map(_shape_key, units))
            found = info.get(shape)
            if found is None:
                idents = set()
                for u in units:
                    idents.update(u.idents)
                found = info[shape] = _BlockInfo(
                    hash(shape), any(u.decl.__class__ is A.ExportDecl for u in units),
                    any(u.decl.__class__ in _SELECTORS for u in units), frozenset(idents))
            blocks.append(_Block(units, range(start, end), found,
                                 units[0].where if len(units) == 1 else False, fresh))

        def resume(at):
            """The last version's blocks from the cut at `at` on, moved to this version's
            indices (the same objects when no unit came or went)."""
            for b in old_blocks[tail_blocks[at]:]:
                if moved:
                    b = _Block(b.units, range(b.indices.start + moved, b.indices.stop + moved), b.info,
                               b.where, False)
                else:
                    b.fresh = False
                blocks.append(b)

        previous = None
        fresh = False  # whether the block has a unit without a key (new in this version)
        resumed = False
        for i in range(start, n):
            u = top_units[i]
            if i % PASS_STEP == PASS_STEP - 1:
                yield
            if u.key is None:
                fresh = True
            # a block is one stretch of text: a chunk that gave no unit (a syntax error) may
            # change length without changing any unit of the block
            if i > start and (u.where or u.origin != previous.end and u.origin != previous.origin):
                close(i, fresh and any(v.key is None for v in top_units[start:i]))
                start = i
                fresh = u.key is None
                if i in tail_blocks:
                    resumed = True
                    break
            previous = u
            if i + 1 < n and top_units[i + 1].origin == u.origin:
                continue  # declarations of one chunk share its text: never cut between them
            if u.where or u.cut % block == 0 or i + 1 - start >= most:
                close(i + 1, fresh)
                start = i + 1
                fresh = False
                if start in tail_blocks:
                    resumed = True
                    break
        if resumed:
            resume(start)
        elif start < n:
            close(n, fresh)
        self._last_blocks = (top_units, blocks) if kept is not None else None
        return blocks

    def _check_block(self, checker, block) -> tuple["_Record", bool]:
        """Check a block unit by unit; merge what they did into one record.

        Typing re-checks the block of the declaration typed in, keystroke after keystroke,
        and its other units do not change: a unit whose `_unit_record_key` is that of a unit
        the last two runs checked or replayed is replayed from that unit's record
        (`_replay_unit`) instead of checked. A unit after one that wrote an entry for a name it
        does not declare is always checked: its key does not show that write (see
        `_fold_foreign`)."""
        records, diagnostics, reusable = [], [], not block.where
        kept = self._units_now
        # entries a unit wrote for a name it does not declare (a duplicate declaration
        # overwrites the first one's entry): whoever reads the name depends on that unit too,
        # even when the declaring unit is in the same block
        foreign: list = []
        declared_at = checker.ctx.declared_at
        for i, u in zip(block.indices, block.units):
            key = None if kept is None or foreign else _unit_record_key(checker.text, u)
            record = None if key is None else (
                self._unit_records.get(key) or self._unit_previous.get(key))
            made = None if record is None else self._replay_unit(checker, i, u, record)
            if made is None:
                record, ok = self._check(checker, i, u)
                made = record.diagnostics
                if ok and key is not None and record.names_key is None:
                    kept[key] = record
            else:
                ok = True
                kept[key] = record  # (kept for the next run too)
            records.append(record)
            diagnostics.append(made)
            reusable = reusable and ok
            foreign.extend(name for _, name, _ in record.writes if declared_at.get(name) != i)
        writes: dict[str, dict] = {}
        for r in records:
            for attr, name, value in r.writes:
                writes.setdefault(attr, {})[name] = value
        quantale = export = export_type = None
        for r in records:
            if r.quantale is not None:
                quantale = r.quantale
            if r.export is not None:
                export, export_type = r.export, r.export_type
        merged = _Record(
            block.units[0].origin, tuple(d for made in diagnostics for d in made),
            tuple(writes.items()), tuple(x for r in records for x in r.symbols),
            frozenset().union(*(r.used for r in records)),
            tuple(x for r in records for x in r.define_uses), quantale, export, export_type,
            any(r.schema_parser for r in records),
            0 if any(r.names_key is not None for r in records) else None)
        merged.foreign = tuple(dict.fromkeys(foreign))
        merged.export_texts = tuple(x for r in records for x in r.export_texts)
        # Name occurrences relative to the block's start, in the order `analyze` records
        # them: the declaring pass (every declared name, before any check), then the checks.
        origin = block.units[0].origin
        refs = []
        for u in block.units:
            kind = decl_kind(u.decl)
            if kind is not None:
                off = u.origin - origin
                refs.extend((name.span.start + off, kind, True) for name in A.declared_names(u.decl))
        for u, r in zip(block.units, records):
            off = u.origin - origin
            refs.extend((start + off, kind, is_def) for start, kind, is_def in r.refs)
        merged.refs = tuple(refs)
        merged.end = block.units[-1].end - origin
        return merged, reusable

    def _replay_unit(self, checker, i, u, record: _Record):
        """Do what checking unit `u` (the `i`-th) would: what `record`, made when a unit with
        the same `_unit_record_key` was checked, says it did. Returns its diagnostics, moved
        to `u`'s frame; None (nothing done) when a name it names is not declared now."""
        ctx = checker.ctx
        top = ctx.top
        if not all(n in top for n, _, _ in record.symbols) or not all(n in top for n in record.used):
            return None
        delta = u.origin - record.origin
        made = tuple(d.shifted(delta) for d in record.diagnostics) if delta else record.diagnostics
        ctx.current_index = i
        ctx.diagnostics.extend(made)
        for attr, name, value in record.writes:
            getattr(ctx, attr)[name] = value
        for n, type_, detail in record.symbols:
            sym = top[n]
            sym.type, sym.detail = type_, detail
        used = ctx.used
        for name in record.used:
            used.add(id(top[name]))
        _replay_context(checker, record)
        return made

    def _check(self, checker, i, u) -> tuple[_Record, bool]:
        """Check one unit, recording what it did; the flag says whether it may be replayed."""
        ctx = checker.ctx
        saved_diags = ctx.diagnostics
        ctx.diagnostics = unit_diags = []
        ctx.origin = u.origin
        ctx.positional = False
        ctx.uses_all_names = False
        ctx.recording = uses = []
        logs = {}
        for attr in _ENV:
            logs[attr] = getattr(ctx, attr).log = []
        quantale_before = ctx.quantale
        export_before = checker.export
        exports_before = len(checker.export_texts)
        schema_before = ctx.schema_parser
        failed = False
        ctx.current_index = i
        refs_before, symbols_before = len(ctx.references), len(ctx.symbols)
        for name in A.declared_names(u.decl):  # as declaring left them (they may be reused)
            for n in (name.text, *ctx.groups.get(name.text, ())):
                sym = ctx.top.get(n)
                if sym is not None and sym.decl is u.decl:
                    sym.type, sym.detail = None, ""
        declared_at = ctx.declared_at
        for name in u.idents:  # symbols declared later: as `analyze` has them at this point
            at = declared_at.get(name)
            if at is not None and at > i:
                for n in (name, *ctx.groups.get(name, ())):
                    sym = ctx.top.get(n)
                    if sym is not None:
                        sym.type, sym.detail = None, ""
        try:
            checker.check_statement(u.decl)
        except Exception as exc:  # as in the fresh analysis: one statement never takes all down
            checker.unchecked = failed = True
            ctx.error(INTERNAL_CODE, _internal_message(exc, "this statement"), u.decl.span)
        finally:
            ctx.order_free = False
            ctx.local_top = {}
            ctx.pending = set()
            ctx.recording = None
            for attr in _ENV:
                getattr(ctx, attr).log = None
            ctx.origin = 0
            ctx.diagnostics = saved_diags
        saved_diags.extend(unit_diags)
        writes = []
        for attr in _ENV:
            table = getattr(ctx, attr)
            for name in dict.fromkeys(logs[attr]):
                # an entry written and removed again during the check (a name visible only
                # inside the statement, such as a template's parameter) is none of its writes
                if name in table:
                    writes.append((attr, name, table[name]))
        top = ctx.top
        symbols = []  # a duplicate declaration re-describes the first one's symbol too
        for name in A.declared_names(u.decl):
            for n in (name.text, *ctx.groups.get(name.text, ())):
                sym = top.get(n)
                if sym is not None:
                    symbols.append((n, sym.type, sym.detail))
        uses = [(sym, user) for sym, user in uses if top.get(sym.name) is sym]
        used = frozenset(sym.name for sym, _ in uses)
        define_uses = tuple({(sym.name, user) for sym, user in uses
                             if sym.kind == "define" and sym.scope is None})
        exported = checker.export is not export_before
        # every name occurrence the check resolved, for semantic tokens: (offset in the
        # unit's frame, kind of what it names, whether it is the definition)
        record_refs = tuple((r.span.start, None if r.symbol is None else r.symbol.kind,
                             r.is_definition) for r in ctx.references[refs_before:])
        # What only an `Analysis` reads (the occurrences themselves, the local symbols, node
        # types, scans, inlines, intermediate types) goes with its unit: a run makes
        # diagnostics, and kept to its end these tables of a file of megabytes (a million
        # occurrences) would be freed all at once there, holding up every other request.
        del ctx.references[refs_before:]
        # The local symbols go too, and with them their ids in `ctx.used`: a symbol made later
        # at a freed one's address would otherwise count as used (a `where` binding of a
        # later statement lost its "never used" hint that way).
        used_ids = ctx.used
        for sym in ctx.symbols[symbols_before:]:
            if top.get(sym.name) is not sym:
                used_ids.discard(id(sym))
        del ctx.symbols[symbols_before:]
        for table in (ctx.types, ctx.scans, ctx.intermediates, ctx.inlines):
            table.clear()
        record = _Record(
            u.origin, tuple(unit_diags), tuple(writes), tuple(symbols), used, define_uses,
            ctx.quantale if ctx.quantale != quantale_before else None,
            checker.export if exported else None, checker.export_type if exported else None,
            ctx.schema_parser and not schema_before, 0 if ctx.uses_all_names else None)
        record.refs = record_refs
        if len(checker.export_texts) != exports_before:  # an export: its expression as written
            span = u.decl.expr.span
            record.export_texts = (checker.text[u.origin + span.start:u.origin + span.end],)
        return record, not (failed or ctx.positional or u.where)


def _unit_record_key(text: str, u: _Unit) -> Optional[tuple]:
    """What a unit's check depends on, for `Engine._check_block` to replay it: its key (its
    text and, per name it mentions, the declaring unit's key; the algebra in force) and the
    text before it on its line (where fixes insert). None for the units whose check reads
    more: exports (the expressions exported before), algebra selectors and tier-3 blocks, a
    `where` owner, a unit whose key is folded with a write of its own block, or one not yet
    keyed."""
    if u.key is None or u.where or u.pure is not None or u.decl.__class__ in _UNREPLAYED_UNITS:
        return None
    origin = u.origin
    head = "" if not origin or text[origin - 1] == "\n" else text[text.rfind("\n", 0, origin) + 1:origin]
    return u.key, head


def _replay_context(checker, record: _Record) -> None:
    """What a replayed record (a block's or a unit's) did besides the tables, the symbols and
    the used names: who uses which define, the quantale, the export, the schema parser."""
    ctx = checker.ctx
    for name, user in record.define_uses:
        ctx.define_users.setdefault(id(ctx.top[name]), set()).add(user)
    if record.quantale is not None:
        ctx.quantale = record.quantale
    if record.export is not None:
        checker.export, checker.export_type = record.export, record.export_type
    if record.schema_parser:
        ctx.schema_parser = True
    if record.export_texts:
        checker.export_texts.update(record.export_texts)


def _apply_replayed(tables: dict, top_syms, used_names: set, pending: dict, symbols: list,
                    used: list) -> None:
    """Apply what the replayed blocks gathered in `pending` (per table, their entries),
    `symbols` ((name, type, detail) of their symbols) and `used` (the names they use), in the
    order they were gathered, and empty those lists."""
    for attr, parts in pending.items():
        if parts:
            tables[attr].update(chain.from_iterable(map(dict.items, parts)))
            parts.clear()
    if symbols:
        names, types, details = zip(*symbols)
        syms = list(map(top_syms.__getitem__, names))
        any(map(setattr, syms, repeat("type"), types))  # (`setattr` gives None: all are set)
        any(map(setattr, syms, repeat("detail"), details))
        symbols.clear()
    if used:
        used_names.update(chain.from_iterable(used))
        used.clear()


def _fold_into_blocks(pieces: list, whole: list, parsed: tuple, loose: list) -> list:
    """Put each diagnostic of the whole-module pass (`whole`, sorted: "never used" hints) that
    lies inside a replayed block into that block's run (`pieces`, replaced); return the others.

    Left alone, a block's run is cut in two at each such hint when the runs are merged, and
    the language server then handles three runs per block of a file in the classic dialect.
    The run with its hints is made once per set of hints (kept in the record's `memo`), so a
    later keystroke finds the same tuple. The order is the one `merged` would give: a hint
    goes after the block's diagnostics with the same key, and is folded only when no
    diagnostic of another segment (`parsed`, `loose`) has its key and it ends before the
    block's text does (no later block can hold an equal key)."""
    origins, last = [], -1  # (in order: a run that is not placed takes the one before's)
    for _, run in pieces:
        last = run.origin if run.origin is not None else last
        origins.append(last)
    taken = set(map(_diagnostic_order, parsed))
    taken.update(map(_diagnostic_order, loose))
    by_piece: dict[int, list] = {}
    rest = []
    for d in whole:
        span = d.span
        k = bisect_right(origins, span.start) - 1
        if k >= 0 and not d.related and not d.fixes:
            run = pieces[k][1]
            origin = run.origin
            if origin is not None and span.end < origin + run.length and span.start >= origin \
                    and (span.start, span.end, d.code) not in taken:
                by_piece.setdefault(k, []).append(d)
                continue
        rest.append(d)
    for k, hints in by_piece.items():
        position, run = pieces[k]
        pieces[k] = (position, _with_hints(run, hints))
    return rest


# the key of `_with_hints`' tuples in a record's `memo`
_WITH_HINTS = "engine: with whole-module hints"


def _with_hints(run: Run, hints: list) -> Run:
    """`run` (a whole recorded tuple, placed) with `hints` (inside its block) merged in."""
    delta = run.delta
    # what the hints show, in the block's recorded frame (built in C loops)
    shape = tuple(zip(map(_CONTENT, hints), map(sub, map(_SPAN_START, hints), repeat(delta)),
                      map(sub, map(_SPAN_END, hints), repeat(delta))))
    made = run.memo.get(_WITH_HINTS)
    if made is None or shape not in made:
        if made is None or len(made) >= 4:  # (an edit and its undo: keep a few)
            made = run.memo[_WITH_HINTS] = {}
        # a stable sort: the block's own diagnostics before hints with the same key
        base = tuple(sorted((*run.base, *(d.shifted(-delta) for d in hints)), key=_diagnostic_order))
        made[shape] = (base, list(map(_diagnostic_order, base)), {})
    base, keys, memo = made[shape]
    return Run(base, 0, len(base), delta, run.origin, run.length, keys, memo)


def _run_of(record: _Record, origin: int) -> Run:
    """A block record's diagnostics as a `Run` for the block now at `origin`: sorted once per
    record; placed (`Run.origin`) when every span lies within the block."""
    run = record.run
    if run is None:
        ordered = tuple(sorted(record.diagnostics, key=_diagnostic_order))
        low, high = record.origin, record.origin + record.end
        inside = all(low <= d.span.start and d.span.end <= high
                     and all(low <= r.span.start and r.span.end <= high for r in d.related)
                     for d in ordered)
        run = record.run = Run(ordered, 0, len(ordered), 0, record.origin if inside else None,
                               record.end, list(map(_diagnostic_order, ordered)), record.memo)
    delta = origin - record.origin
    if not delta:
        return run
    return Run(run.base, 0, run.hi, delta, None if run.origin is None else origin, run.length,
               run.keys, run.memo)


def _kept_steps(old_text: str, old_chunks, text: str, chunks):
    """How many leading and trailing chunks an edit left alone: same bounds (the trailing ones
    moved by the length change) and same text. The last chunk is only ever kept as trailing
    (whether a chunk ends the file is part of what it parses to). A generator: it yields
    every `PASS_STEP` chunks compared (a file of megabytes has tens of thousands)."""
    delta = len(text) - len(old_text)
    n_old, n_new = len(old_chunks), len(chunks)
    most = min(n_old, n_new)
    head = 0
    while head < most - 1:
        a, b = old_chunks[head], chunks[head]
        if a is not b and (a.start != b.start or a.end != b.end):
            break
        head += 1
        if not head % PASS_STEP:
            yield
    # the texts must agree too (a same-length edit leaves every bound in place)
    while head and old_text[:chunks[head - 1].end] != text[:chunks[head - 1].end]:
        low, high = 0, head - 1  # binary search on the longest equal prefix of chunks
        while low < high:
            mid = (low + high + 1) // 2
            if old_text[:chunks[mid - 1].end] == text[:chunks[mid - 1].end]:
                low = mid
            else:
                high = mid - 1
        head = low
    yield
    tail = 0
    while tail < most - head:
        a, b = old_chunks[n_old - 1 - tail], chunks[n_new - 1 - tail]
        if a.start + delta != b.start or a.end + delta != b.end:
            break
        tail += 1
        if not tail % PASS_STEP:
            yield
    yield
    while tail and old_text[old_chunks[n_old - tail].start:] != text[chunks[n_new - tail].start:]:
        low, high = 0, tail - 1
        while low < high:
            mid = (low + high + 1) // 2
            if old_text[old_chunks[n_old - mid].start:] == text[chunks[n_new - mid].start:]:
                low = mid
            else:
                high = mid - 1
        tail = low
    # a chunk parses differently at the start of a line (a tier-3 block head needs column 0):
    # the first trailing chunk must still start a line if it did (and not if it did not)
    while tail:
        a, b = old_chunks[n_old - tail], chunks[n_new - tail]
        if (a.start == 0 or old_text[a.start - 1] == "\n") == (b.start == 0 or text[b.start - 1] == "\n"):
            break
        tail -= 1
    return head, tail


def _moved_steps(entries, delta: int):
    """The last version's per-chunk entries (units, parse diagnostics, cache key) of the chunks
    after an edit, moved by its length change (their units in place), as a generator: a file of
    megabytes has tens of thousands."""
    moved = []
    for n_chunk, (units, diags, key) in enumerate(entries, 1):
        if not n_chunk % (16 * STEP_CHUNKS):
            yield
        for u in units:
            u.origin += delta
            u.end += delta
        moved.append((units, tuple(d.shifted(delta) for d in diags) if diags else diags, key))
    return moved


def _program_frames(units) -> dict:
    """id(program declaration) -> the offset of its frame (`TopLevel.frames`)."""
    programs = list(compress(units, map(is_, map(_DECL_CLASS, units), repeat(A.ProgramDecl))))
    return dict(zip(map(id, map(_DECL, programs)), map(_ORIGIN, programs)))


def _extent(d) -> tuple[int, int]:
    """The first and last offset a diagnostic refers to: its span, its related locations and
    its fixes' edits."""
    span = d.span
    low, high = span.start, span.end
    for r in d.related:
        low, high = min(low, r.span.start), max(high, r.span.end)
    for f in d.fixes:
        for e in f.edits:
            low, high = min(low, e.span.start), max(high, e.span.end)
    return low, high


def _cut_at_edit(run: Run, start: int, stop: int, ambiguous) -> Optional[int]:
    """Where `run` splits into the diagnostics that lie before an edit of [start, stop) and
    those after it (in order, the former come first); None when one reaches into it, or is
    a zero-width span at `ambiguous`."""
    cut, delta = run.lo, run.delta
    for k in range(run.lo, run.hi):
        low, high = _extent(run.base[k])
        low, high = low + delta, high + delta
        if low == high == ambiguous:
            return None
        if high <= start:
            if cut != k:
                return None
            cut = k + 1
        elif low < stop:
            return None
    return cut


def _resized(record: "_Record", at: int, delta: int) -> "_Record":
    """A block record for the presentation layers (`Layout`) after `delta` characters came or
    went at `at` (from the block's start), after all its code: its name occurrences after
    `at` moved, its length changed, an empty memo (what was kept there was made from the
    last text)."""
    out = _Record(record.origin, record.diagnostics, record.writes, record.symbols, record.used,
                  record.define_uses, record.quantale, record.export, record.export_type,
                  record.schema_parser, record.names_key)
    out.refs = tuple((start + delta if start >= at else start, kind, is_def)
                     for start, kind, is_def in record.refs)
    out.end = record.end + delta
    out.foreign = record.foreign
    out.export_texts = record.export_texts
    return out


def _fold_foreign(block, foreign, block_key, name_key, dirty) -> None:
    """A unit of `block` that mentions a name some unit of the block wrote without declaring
    it (a duplicate declaration) may have read that entry, which its key, computed before the
    block was checked, does not show: fold the block's key into its key, so the units using
    its names in later blocks depend on that write too."""
    names = frozenset(foreign)
    for u in block.units:
        if not u.names or names.isdisjoint(u.idents):
            continue
        base = u.key if u.pure is None else u.pure
        folded = hash((base, block_key))
        if folded != u.key:
            dirty.update(u.names)
        u.pure, u.key = base, folded
        for name in u.names:
            name_key[name] = folded


def _names_of(d, groups) -> list:
    out = []
    for name in A.declared_names(d):
        out.append(name.text)
        out.extend(groups.get(name.text, ()))
    return out


_shape_key = attrgetter("shape_key")
# statements that select the quantale (algebra) in force for the statements after them
_SELECTORS = (A.QuantaleDecl, A.CompositionDecl)
_UNREPLAYED_UNITS = frozenset((A.ExportDecl, A.OpaqueDecl, *_SELECTORS))


def _names_key_steps(top):
    """A key of the top-level names and their kinds, as a generator: a piece at a time (a file
    of megabytes has 100,000s of names). The same names in the same order give the same key."""
    syms = list(top.values())
    key = 0
    for at in range(0, len(syms), 16 * PASS_STEP):
        key = hash((key, frozenset((s.name, s.kind) for s in syms[at:at + 16 * PASS_STEP])))
        yield
    return key


# ------------------------------------------------------------------------ entry points ----
def analyze(text: str, *, parsed=None) -> Analysis:
    """Analyse a module (spec §4): the engine on a fresh document. Never raises. `parsed` is a
    `ParseResult` of this text (parsed here when not given)."""
    text = normalize(text if isinstance(text, str) else str(text))
    if parsed is None:
        try:
            from ..syntax import parse_module
            parsed = parse_module(text)
        except Exception:
            from ..syntax import ParseResult
            parsed = ParseResult(A.Module((), (), Span(0, len(text))), ())
    # The analysis allocates many small acyclic objects; the cyclic garbage collector would
    # repeatedly scan them (and the AST) mid-run for nothing, costing about a third of the
    # time on large files. It is paused for the run and restored afterwards.
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        return finish(Engine().analysis_steps(text, parsed))
    finally:
        if was_enabled:
            gc.enable()


def analyze_steps(text: str, parsed) -> "Steps[Analysis]":
    """`analyze(text, parsed=parsed)` as a generator (see `qvr.stepwise`): yields now and then
    and returns the `Analysis`. Leaves the garbage collector alone."""
    text = normalize(text if isinstance(text, str) else str(text))
    if parsed is None:
        from ..syntax import ParseResult, parse_module_steps
        try:
            parsed = yield from parse_module_steps(text)
        except Exception:
            parsed = ParseResult(A.Module((), (), Span(0, len(text))), ())
    return (yield from Engine().analysis_steps(text, parsed))


def check(text: str, uri: str = "<string>") -> list:
    """Every diagnostic of `text` (syntax and semantic), sorted by position."""
    return list(analyze(text).diagnostics)
