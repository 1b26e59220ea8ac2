"""QVR syntax: text → AST with exact spans, and located syntax errors (QVR001–QVR005).

Public API (docs/internals.md, "Syntax"):

* `parse(text)` — the whole module; raises `QvrSyntaxError` on any syntax error.
* `parse_module(text)` — never raises; parses chunk by chunk (memoised by chunk text), keeps
  every good declaration, reports every broken one. `parse_module_steps` is the same as a
  generator (`qvr.stepwise`).
* `split_declarations(text)`, `parse_declaration(text, start, end)`, `shift(node, delta)`,
  `comments(text)`.

Spans are code-point offsets into the normalised text (`span.normalize`).
"""
from __future__ import annotations

import dataclasses
import gc
import re
import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import Optional

from ..diagnostics import Diagnostic
from ..errors import QvrSyntaxError
from . import ast
from .ast import Comment, Decl, Module, ProgramDecl
from .errors import diagnostics_for, error
from .lexical import (
    Chunk,
    comments,
    doc_runs,
    invalid_identifier_char,
    resplit_declarations,
    split_declarations,
    split_declarations_steps,
    unclosed_block,
)
from .parser import fast_tokens, parse_chunk
from .span import LineIndex, Span, normalize
from .vocabulary import DECLARATION_KINDS, RESERVED
from .transformer import LiteralError, literal_problem
from ..stepwise import finish

__all__ = [
    "Chunk", "ParseResult", "comments", "normalize", "parse", "parse_declaration",
    "parse_chunk_local", "parse_module", "parse_module_steps", "resplit_declarations", "shift", "split_declarations",
    "split_declarations_steps",
]


@dataclass(frozen=True, slots=True)
class ParseResult:
    module: Module
    diagnostics: tuple[Diagnostic, ...]

    @property
    def ok(self) -> bool:
        return not self.diagnostics


# ------------------------------------------------------------------------- shifting ----
def _make_shifter(cls):
    """A function ``(node, delta) -> node`` for one dataclass, generated once from its field
    annotations: the language server shifts every memoised declaration after an edit, so
    this is on the hot path. Spans and names are rebuilt inline, plain values are copied,
    and only nested nodes recurse."""
    exprs = []
    for f in dataclasses.fields(cls):
        ann, get = str(f.type), f"x.{f.name}"
        if ann == "Span":
            exprs.append(f"_Span({get}.start + d, {get}.end + d)")
        elif ann == "Optional[Span]":
            exprs.append(f"(None if {get} is None else _Span({get}.start + d, {get}.end + d))")
        elif ann == "Name":
            exprs.append(f"_Name({get}.text, _Span({get}.span.start + d, {get}.span.end + d))")
        elif ann in ("str", "bool", "int", "Severity") or ann.startswith("Union[int"):
            exprs.append(get)
        elif ann.startswith(("tuple", "Optional")):
            exprs.append(f"(_sh({get}, d) if {get} else {get})")  # () and None stay
        else:
            exprs.append(f"_sh({get}, d)")
    namespace = {"_sh": _shift, "_Span": Span, "_Name": ast.Name, "_cls": cls}
    exec(f"def shifter(x, d):\n    return _cls({', '.join(exprs)})\n", namespace)
    return namespace["shifter"]


def _shift(x, d: int):
    cls = x.__class__
    if cls is Span:
        return Span(x.start + d, x.end + d)
    if cls is tuple:
        return tuple([_shift(i, d) for i in x])
    shifter = _SHIFTERS.get(cls)
    if shifter is None:
        return x  # str, numbers, bools, None, enums
    return shifter(x, d)


def _shifter_on_first_use(cls):
    """Stands in for `cls`'s shifter until its first use, which makes the real one and puts it
    in its place: making all of them at import took about 5 ms of the language server's
    start-up, and a fresh parse shifts nothing."""
    def first_use(x, d: int):
        shifter = _SHIFTERS[cls] = _make_shifter(cls)
        return shifter(x, d)
    return first_use


_SHIFTERS = {
    cls: _shifter_on_first_use(cls)
    for cls in vars(ast).values()
    if isinstance(cls, type) and dataclasses.is_dataclass(cls)
}
# a diagnostic's related locations and fix edits move with it
_SHIFTERS[Diagnostic] = Diagnostic.shifted


def shift(node, delta: int):
    """A copy of `node` (any AST node, Comment, Diagnostic, Span or tuple of them) with every
    span moved by `delta`."""
    if delta == 0:
        return node
    return _shift(node, delta)


# ----------------------------------------------------------------- chunk parsing ----
_MEMO_SIZE = 8192
# (chunk text, chunk ends the file) -> (decls, diagnostics, comments, the offset their
# spans were computed at); least recently used entries are dropped first.
_memo: "OrderedDict[tuple[str, bool], tuple]" = OrderedDict()
# Held for each look-up and insertion of the memos (`_memo`, `_local_memo`): the language
# server also parses in its worker thread, and a look-up moves its entry while an insertion
# elsewhere may drop it.
_memo_lock = threading.Lock()


def _attach_docs(decl, runs: dict[int, tuple]):
    """Attach doc-comment runs that end right before `decl` or one of its program steps."""
    if not runs:
        return decl
    if decl.__class__ is ProgramDecl:
        steps = tuple(_with_docs(s, runs) for s in decl.steps)
        ret = _with_docs(decl.ret, runs)
        if steps != decl.steps or ret is not decl.ret:
            decl = dataclasses.replace(decl, steps=steps, ret=ret)
    return _with_docs(decl, runs)


def _with_docs(node, runs):
    docs = runs.get(node.span.start)
    if docs is None:
        return node
    return dataclasses.replace(node, docs=docs)


def _mask_bad_literals(text: str) -> tuple[str, list[tuple[int, int, str]]]:
    """`text` with each number literal that has no value (`literal_problem`) overwritten by
    `1` or `1.0` padded with spaces to its length (offsets and the token's kind unchanged),
    and ``(start, end, message)`` for each of them."""
    pieces: list[str] = []
    found: list[tuple[int, int, str]] = []
    last = 0
    for tok in fast_tokens(text) or ():
        if tok.type not in ("INT", "FLOAT"):
            continue
        message = literal_problem(tok.type, tok.value)
        if message is None:
            continue
        found.append((tok.start_pos, tok.end_pos, message))
        stand_in = "1" if tok.type == "INT" else "1.0"
        pieces.append(text[last:tok.start_pos])
        pieces.append(stand_in.ljust(tok.end_pos - tok.start_pos))
        last = tok.end_pos
    pieces.append(text[last:])
    return "".join(pieces), found


# The head of a declaration after its leading trivia (`_trivia_end`): its statement keyword and
# the names it declares, for a declaration whose text does not parse.
_DECL_HEAD = re.compile(
    r"(?P<keyword>" + "|".join(sorted(DECLARATION_KINDS, key=len, reverse=True)) + r")\b"
    r"(?P<names>[ \t]+(?!\d)\w+(?:[ \t]*,[ \t]*(?!\d)\w+)*)")
_BLANKS = re.compile(r"[ \t\f\r\n]*")


def _trivia_end(text: str) -> int:
    """Where the blanks and comments at the start of `text` end; a `#{` with no `}#` after it
    reads as a line comment. A loop rather than one regular expression, to stay linear: a
    repeated group of blanks backtracks through every way of cutting a run of blanks into
    pieces (exponential in its length), and a lazy `#{…}#` looks for a `}#` again at every
    unclosed `#{` (quadratic)."""
    at, n = 0, len(text)
    closed = True  # False once a `#{` found no `}#` after it: no later one can
    while True:
        at = _BLANKS.match(text, at).end()
        if at >= n or text[at] != "#":
            return at
        if closed and text.startswith("#{", at):
            close = text.find("}#", at + 2)
            if close >= 0:
                at = close + 2
                continue
            closed = False
        line_end = text.find("\n", at)
        if line_end < 0:
            return n
        at = line_end


_NAME = re.compile(r"(?!\d)\w+")
_RESERVED_WORDS = frozenset(RESERVED)


def _broken_declaration(text: str, offset: int) -> Optional[ast.BrokenDecl]:
    """A `BrokenDecl` for a chunk that does not parse, when its head still says what it
    declares (`morphism f, g : A ->` declares `f` and `g`); None when it does not (a keyword
    alone, `export`, a name that is a reserved word or not an identifier)."""
    head = _DECL_HEAD.match(text, _trivia_end(text))
    if head is None or DECLARATION_KINDS[head.group("keyword")] in ("export", "quantale"):
        return None
    names = []
    for found in _NAME.finditer(text, head.start("names"), head.end("names")):
        word = found.group()
        if word in _RESERVED_WORDS or not word.isascii() or not word.isidentifier():
            return None
        names.append(ast.Name(word, Span(offset + found.start(), offset + found.end())))
    if not names:
        return None
    keyword = ast.Name(head.group("keyword"), Span(offset + head.start("keyword"),
                                                   offset + head.end("keyword")))
    end = len(text.rstrip())
    return ast.BrokenDecl(keyword, tuple(names), (),
                          Span(offset + head.start("keyword"), offset + end))


def _check_soft_keywords(decls, diagnostics: list) -> list:
    """Spec part 2 §3.2: `composition`, `score` and `in` are ordinary names that the grammar
    accepts in their places as any name; any other word there is QVR002. A "composition"
    statement with another first word is not a declaration (`junk here` before the first
    keyword): it is dropped. A program keeps its other steps."""
    kept = []
    for d in decls:
        cls = d.__class__
        if cls is ast.CompositionDecl:
            if d.keyword.text != "composition":
                diagnostics.append(error("QVR002", f"syntax error: expected a declaration, "
                                         f"found `{d.keyword.text}`", d.keyword.span))
                continue
        elif cls is ast.ProgramDecl:
            for step in ast.walk_steps(d.steps):
                if step.__class__ is ast.ScoreStep and step.keyword.text != "score":
                    diagnostics.append(error(
                        "QVR002", f"syntax error: expected a step or `return` in program "
                        f"`{d.name.text}`, found `{step.keyword.text}`", step.keyword.span))
                elif step.__class__ is ast.LetStep and step.value.__class__ is ast.FactorExpr \
                        and step.value.in_word.text != "in":
                    word = step.value.in_word
                    diagnostics.append(error("QVR002", f"syntax error: expected `in`, found "
                                             f"`{word.text}`", word.span))
        kept.append(d)
    return kept


def _parse_chunk_uncached(chunk_text: str, offset: int, at_eof: bool, line_start: bool = True):
    """Parse one chunk at document offset `offset`. `line_start` says whether the chunk starts
    a line: an opaque block begins only at column 0, so a chunk that starts mid-line (an
    indented `define`, a second statement on a line) is parsed with one blank before it, which
    keeps its first word from reading as a block head."""
    if not line_start:
        chunk_text = " " + chunk_text
        offset -= 1
    diagnostics: list[Diagnostic] = []
    chunk_comments = comments(chunk_text, offset)
    parse_text = chunk_text
    open_at = unclosed_block(chunk_text)
    if open_at is not None:
        diagnostics.append(error("QVR003", "block comment is not closed",
                                 Span(offset + open_at, offset + len(chunk_text))))
        parse_text = chunk_text[:open_at]
    try:
        decls, bad_names, failure = parse_chunk(parse_text, offset)
    except LiteralError:
        # A number literal without a value: report each one, then parse the chunk again with
        # them masked, for its other errors (the declaration is dropped, as for a bad name).
        parse_text, bad_numbers = _mask_bad_literals(parse_text)
        for start, end, message in bad_numbers:
            diagnostics.append(error("QVR002", message, Span(offset + start, offset + end)))
        try:
            decls, bad_names, failure = parse_chunk(parse_text, offset)
        except LiteralError:  # one `literal_problem` does not see: reported below, not dropped
            decls, bad_names, failure = None, [], None
    for tok in bad_names:
        i = invalid_identifier_char(tok.value)
        if i is not None:
            at = offset + tok.start_pos + i
            diagnostics.append(error("QVR001", f"unexpected character `{tok.value[i]}`",
                                     Span(at, at + 1)))
    if failure is not None:
        diagnostics.extend(diagnostics_for(failure, parse_text, offset,
                                           at_eof or open_at is not None))
        # the names it declares stay declared (see `ast.BrokenDecl`), unless the error is in
        # them (a malformed identifier, below)
        broken = None if bad_names else _broken_declaration(parse_text, offset)
        decls = [] if broken is None else [broken]
    elif decls is None:  # the fast path and lark disagree: a bug, but never a silent drop
        diagnostics.append(error("QVR002", "syntax error: this declaration could not be "
                                 "parsed (internal parser disagreement)",
                                 Span(offset, offset + len(chunk_text.rstrip()))))
        decls = []
    elif any(dg.code != "QVR003" for dg in diagnostics):
        decls = []  # a malformed identifier or literal: the declaration's names are not usable
    else:
        decls = _check_soft_keywords(decls, diagnostics)
    if decls and any(c.kind == "doc" for c in chunk_comments):
        runs = doc_runs(chunk_text, comments(chunk_text))
        if runs:
            runs = {k + offset: shift(v, offset) for k, v in runs.items()}
            decls = [_attach_docs(d, runs) for d in decls]
    if len(diagnostics) > 1:
        diagnostics.sort(key=lambda dg: (dg.span.start, dg.code))
    return tuple(decls), tuple(diagnostics), chunk_comments


def _line_start(text: str, start: int) -> bool:
    return start == 0 or text[start - 1] == "\n"


def _parse_chunk_cached(text: str, start: int, end: int):
    chunk_text = text[start:end]
    key = (chunk_text, end >= len(text), _line_start(text, start))
    with _memo_lock:
        hit = _memo.get(key)
        if hit is not None:
            _memo.move_to_end(key)
    if hit is not None:
        decls, diags, chunk_comments, base = hit
        delta = start - base
        if not delta:
            return decls, diags, chunk_comments
        try:
            return shift(decls, delta), shift(diags, delta), shift(chunk_comments, delta)
        except RecursionError:
            # `shift` recurses on the tree; a chain of thousands of `>>` is deeper than that
            # allows. Parsing is iterative, so parse the chunk again at its new offset.
            pass
    result = _parse_chunk_uncached(chunk_text, start, key[1], key[2])
    with _memo_lock:
        _memo[key] = result + (start,)
        if len(_memo) > _MEMO_SIZE:
            _memo.popitem(last=False)
    return result


# (chunk text, chunk ends the file, occurrence, chunk starts a line) -> (decls, diagnostics)
# at offset 0
_local_memo: "OrderedDict[tuple[str, bool, int, bool], tuple]" = OrderedDict()


def parse_chunk_local(chunk_text: str, at_eof: bool, occurrence: int = 0,
                      line_start: bool = True):
    """``(decls, diagnostics)`` of one chunk with spans relative to the chunk's start.

    Memoised by text, and the memo returns the *same* objects for the same text wherever the
    chunk sits in the file: the engine's incremental runs key their per-statement results on them.
    `occurrence` tells identical chunks of one file apart (the second copy of a declaration
    must be a different node, or its symbol would be taken for the first one's). `line_start`
    says whether the chunk starts a line (see `_parse_chunk_uncached`)."""
    key = (chunk_text, at_eof, occurrence, line_start)
    with _memo_lock:
        hit = _local_memo.get(key)
        if hit is not None:
            _local_memo.move_to_end(key)
    if hit is not None:
        return hit
    was_enabled = gc.isenabled()
    gc.disable()  # as in parse_module
    try:
        # The whole-module parse may have this text already (the language server publishes a
        # just-opened file from its full analysis, then brings the engine's incremental run up):
        # moving that parse to offset 0 costs about a third of parsing it again.
        parsed = _memo.get((chunk_text, at_eof, line_start))
        if parsed is not None and parsed[3]:  # (a shift by 0 would give the same nodes)
            try:
                hit = (shift(parsed[0], -parsed[3]), shift(parsed[1], -parsed[3]))
            except RecursionError:  # see `_parse_chunk_cached`
                hit = None
        if hit is None:
            decls, diags, _ = _parse_chunk_uncached(chunk_text, 0, at_eof, line_start)
            hit = (decls, diags)
    finally:
        if was_enabled:
            gc.enable()
    with _memo_lock:
        hit = _local_memo.setdefault(key, hit)  # (made meanwhile by the other thread: that one)
        if len(_local_memo) > _MEMO_SIZE:
            _local_memo.popitem(last=False)
    return hit


def parse_declaration(text: str, start: int = 0, end: Optional[int] = None
                      ) -> tuple[Optional[Decl], tuple[Diagnostic, ...], tuple[Comment, ...]]:
    """Parse the chunk ``text[start:end]`` (one top-level statement); spans are absolute."""
    if end is None:
        end = len(text)
    decls, diags, chunk_comments = _parse_chunk_cached(text, start, end)
    return (decls[0] if decls else None), diags, chunk_comments


def parse_module(text: str, chunks=None) -> ParseResult:
    """Parse a whole module resiliently; never raises (see the module docstring). `chunks` is
    ``split_declarations(text)`` when the caller already has it."""
    # Parsing allocates many small objects and no reference cycles (the AST is made of
    # frozen dataclasses and tuples), so the cyclic garbage collector only costs time here:
    # its repeated passes over the memo made parsing about a third slower.
    if not gc.isenabled():
        return _parse_module(text, chunks)
    gc.disable()
    try:
        return _parse_module(text, chunks)
    finally:
        gc.enable()


def _parse_module(text: str, chunks=None) -> ParseResult:
    return finish(parse_module_steps(text, chunks))


def parse_module_steps(text: str, chunks=None, every: int = 64):
    """`parse_module` as a generator (see `qvr.stepwise`): yields after every `every` chunks
    and returns the `ParseResult`. Leaves the garbage collector alone."""
    normalized = normalize(text)
    if normalized is not text or chunks is None:  # given chunks describe the text as given
        chunks = yield from split_declarations_steps(normalized)
    text = normalized
    statements: list[Decl] = []
    diagnostics: list[Diagnostic] = []
    all_comments: list[Comment] = []
    # Comments before the first chunk (a file header) are not inside any chunk.
    head_end = chunks[0].start if chunks else len(text)
    if head_end > 0:
        all_comments.extend(comments(text[:head_end]))
    for i, chunk in enumerate(chunks):
        if i % every == every - 1:
            yield
        decls, diags, chunk_comments = _parse_chunk_cached(text, chunk.start, chunk.end)
        statements.extend(decls)
        diagnostics.extend(diags)
        all_comments.extend(chunk_comments)
    yield
    # Doc comments that precede a declaration sit at the end of the previous chunk.
    if any(c.kind == "doc" for c in all_comments):
        runs = doc_runs(text, tuple(all_comments))
        yield
        for i, d in enumerate(statements):
            if d.span.start in runs:
                statements[i] = _with_docs(d, runs)
            if i % (64 * every) == 64 * every - 1:
                yield
    module = Module(tuple(statements), tuple(all_comments), Span(0, len(text)))
    return ParseResult(module, tuple(diagnostics))


def parse(text: str, filename: str = "<string>") -> Module:
    """Parse a whole module; raise `QvrSyntaxError` (with `.diagnostics`) on any error."""
    text = normalize(text)
    result = parse_module(text)
    if result.diagnostics:
        index = LineIndex(text)
        first = result.diagnostics[0].format(filename, index)
        more = len(result.diagnostics) - 1
        message = first + (f" (and {more} more syntax error{'s' if more > 1 else ''})"
                           if more else "")
        raise QvrSyntaxError(message, result.diagnostics, filename)
    return result.module
