"""Lexical helpers that work on raw text without lark: comments, chunks, identifiers.

* `comments(text)` finds every comment (spec §2.3) with its span. Comments never reach the
  grammar, but the formatter keeps them and hover shows doc comments. An unclosed ``#{``
  swallows the rest of the file (QVR003) and is reported as `unclosed_block`.
* `split_declarations(text)` cuts the text into top-level chunks at statement keywords that
  are not inside a program body (a body runs from ``program`` to its ``return``), so that one
  broken declaration cannot hide the others (spec §3.3, docs/internals.md "Syntax").
* `resplit_declarations(...)` gives the same chunks after one edit, rescanning only the chunks
  around the edit and reusing the old ones before and (shifted) after it, for the keystroke path.
* `invalid_identifier_char` applies spec §2.4 to a NAME token that lark's ``\\w+`` admitted.

QVR has no string literals, so a ``#`` always starts a comment: a single regular expression
scan is exact.
"""
from __future__ import annotations

import re
from bisect import bisect_left
from dataclasses import dataclass
from typing import Optional

from ..stepwise import finish
from .ast import Comment, Doc
from .span import Span
from .vocabulary import OPAQUE_BLOCK, OPAQUE_HEADS, ROLE_WORDS, STATEMENT_KEYWORDS

# Opaque (tier-3) blocks first: a block is one chunk, whatever words and comments it holds.
# Then block comments (they also start with `#`), an unclosed `#{`, line comments; words only
# matter when they are statement keywords, `program` or `return`, or `composition` at column 0
# (the algebra selector, whose first word is not reserved).
_WORDS = sorted(set(STATEMENT_KEYWORDS) | {"return"}, key=len, reverse=True)
# Every alternative starts with `#` or the first letter of one of these words or of an opaque
# block's head, which the lookahead in front tests first: `finditer` then rejects every other
# position with one character test instead of trying each alternative there (the scan of a
# 10,000-line module takes about 40% less time; `[#\w]` there would cost half the gain).
_FIRST = "".join(sorted({w[0] for w in (*_WORDS, *OPAQUE_HEADS, "define", "composition")}))
# The alternatives the scanners below share: an opaque block (a `#` inside one belongs to its
# token), a closed block comment, a `#{` without its `}#`, a line comment.
_OPAQUE = "(?P<opaque>" + OPAQUE_BLOCK + ")"
_BLOCK = r"(?P<block>#\{.*?\}#)"
_OPEN_OR_LINE = r"(?P<open>#\{)|(?P<line>#[^\n]*)"
_SCAN = re.compile(
    f"(?=[#{_FIRST}])(?:{_OPAQUE}|{_BLOCK}|{_OPEN_OR_LINE}"
    r"|(?<![\w.])(?P<kw>" + "|".join(_WORDS) + r"|(?<![^\n])composition)(?!\w))",
    re.S,
)
# Comments, skipping opaque blocks.
_COMMENT_SCAN = re.compile(f"{_OPAQUE}|{_BLOCK}|{_OPEN_OR_LINE}", re.S)


@dataclass(frozen=True, slots=True)
class Chunk:
    """One top-level declaration's text range ``[start, end)`` (comments included)."""

    start: int
    end: int


def _classify_line(text: str) -> str:
    if text.startswith("#!") and not text.startswith("#!["):
        return "doc"
    return "line"


def comments(text: str, offset: int = 0) -> tuple[Comment, ...]:
    """Every comment of `text` in order: kind ``line``, ``doc`` or ``block``, with spans
    moved by `offset` (for a chunk of a larger text).

    An unclosed ``#{`` yields a ``block`` comment that runs to the end of the text."""
    if "#" not in text:
        return ()
    out = []
    for m in _COMMENT_SCAN.finditer(text):
        kind = m.lastgroup
        if kind == "opaque":
            continue
        start = m.start() + offset
        if kind == "block":
            out.append(Comment("block", m.group(), Span(start, m.end() + offset)))
        elif kind == "open":
            out.append(Comment("block", text[m.start():], Span(start, len(text) + offset)))
            break
        else:
            line = m.group()
            out.append(Comment(_classify_line(line), line, Span(start, m.end() + offset)))
    return tuple(out)


def unclosed_block(text: str) -> Optional[int]:
    """Offset of a ``#{`` that has no closing ``}#`` (QVR003), or None."""
    if "#{" not in text:
        return None  # the common case, without a regex scan of every chunk
    for m in _COMMENT_SCAN.finditer(text):
        if m.lastgroup == "open":
            return m.start()
    return None


def doc_text(comment_text: str) -> str:
    """Text of a ``#!`` line after the marker and one leading space (spec §2.3)."""
    body = comment_text[2:]
    return body[1:] if body.startswith(" ") else body


def doc_runs(text: str, all_comments: tuple[Comment, ...]) -> dict[int, tuple[Doc, ...]]:
    """Map the offset of the first token after each run of consecutive ``#!`` lines to the
    run's docs. A run documents the statement or step that starts exactly at that offset."""
    runs: dict[int, tuple[Doc, ...]] = {}
    current: list[Comment] = []

    def close(after: int):
        if current:
            m = _NEXT_TOKEN.search(text, after)
            if m is not None and text[m.start()] != "#":
                runs[m.start()] = tuple(Doc(doc_text(c.text), c.span) for c in current)
            current.clear()

    for c in all_comments:
        if c.kind == "doc" and (not current or text[current[-1].span.end:c.span.start].isspace()
                                and text.count("\n", current[-1].span.end, c.span.start) == 1):
            current.append(c)
            continue
        if current:
            close(current[-1].span.end)
        if c.kind == "doc":
            current.append(c)
    if current:
        close(current[-1].span.end)
    return runs


_NEXT_TOKEN = re.compile(r"\S")


def split_declarations(text: str) -> list[Chunk]:
    """Top-level chunk boundaries. Each chunk starts at a statement keyword outside a program
    body and runs to the next one; text before the first keyword that holds anything but
    whitespace and comments becomes a chunk of its own (so it is reported, not dropped)."""
    return finish(split_declarations_steps(text))


def split_declarations_steps(text: str, every: int = 512):
    """`split_declarations` as a generator (`qvr.stepwise`): yields after every `every` chunk
    starts found (a 10 MB file has about 250,000; each takes tens of microseconds) and
    returns the chunks."""
    starts = []
    for count, start in enumerate(_chunk_starts(text, 0, False), 1):
        starts.append(start)
        if not count % every:
            yield
    chunks = []
    if not starts or _has_code(text, 0, starts[0]):
        chunks.append(Chunk(0, starts[0] if starts else len(text)))
        if not starts and not _has_code(text, 0, len(text)):
            return []
    for i, start in enumerate(starts):
        chunk = _new_chunk(Chunk)  # `Chunk(start, end)` at a third of its cost (see `_shifted`)
        _set_start(chunk, start)
        _set_end(chunk, starts[i + 1] if i + 1 < len(starts) else len(text))
        chunks.append(chunk)
        if i % (32 * every) == 32 * every - 1:
            yield
    return chunks


def _char_before(text: str, pos: int, comment_start_at_end: dict[int, int]) -> str:
    """The last character before `pos` that is neither blank nor inside a comment ('' at the
    start, or right after an opaque block). `comment_start_at_end` maps the end offset of each
    comment before `pos` to its start, and of each opaque block to None: comments are
    invisible to the grammar, so `[role= #{ why }# embed]` has `=` before `embed`; a block is
    a whole statement, so its last character (a `(` in its free-form body) is no list the
    next keyword could be in."""
    i = pos - 1
    while i >= 0:
        if text[i] in " \t\f\n\r":
            i -= 1
        elif i + 1 in comment_start_at_end:
            start = comment_start_at_end[i + 1]
            if start is None:
                return ""
            i = start - 1
        else:
            break
    return text[i] if i >= 0 else ""


# `_COMMENT_SCAN` with `#{` alone: `_has_code` finds where a block comment ends itself
_COMMENT_STEP = re.compile(f"{_OPAQUE}|{_OPEN_OR_LINE}")


def _has_code(text: str, start: int, end: int) -> bool:
    """Whether text[start:end] holds anything besides whitespace and comments (what is left
    of it with `_COMMENT_SCAN`'s comments taken out: a ``#{`` without a ``}#`` after it is
    taken out alone).

    Linear in the text: a regular expression would look for the end of each unclosed ``#{``
    up to the end of the text (quadratic in a file of them); here, once there is no ``}#``
    after some point, no later ``#{`` looks again."""
    piece = text[start:end]
    if not piece.strip():
        return False
    pos, no_close = 0, len(piece)
    while True:
        m = _COMMENT_STEP.search(piece, pos)
        if piece[pos:len(piece) if m is None else m.start()].strip():
            return True  # code between comments
        if m is None:
            return False
        if m.lastgroup == "opaque":
            return True
        pos = m.end()
        if m.lastgroup == "open":
            close = piece.find("}#", pos) if pos < no_close else -1
            if close >= 0:
                pos = close + 2  # a block comment
            else:
                no_close = pos



def resplit_declarations(old_text: str, old_chunks: list[Chunk], new_text: str,
                         start: int, old_end: int, new_end: int,
                         stats: Optional[dict] = None) -> list[Chunk]:
    """``split_declarations(new_text)``, computed from the chunks of the text before one edit.

    `old_chunks` must be ``split_declarations(old_text)`` and `new_text` must be
    ``old_text[:start] + X + old_text[old_end:]`` with ``len(X) == new_end - start`` (code-point
    offsets). The work is proportional to the chunks around the edit, not to the file:

    * the chunks before the edit are kept, and the scan restarts right after the keyword of the
      last chunk start whose keyword (and the character after it, which decides whether it is a
      whole word) lies wholly before the edit. The scan state there is known without looking
      back: that keyword was a chunk start, so "inside a program body" is just ``word ==
      "program"``, and no later `_char_before` walk can go past the keyword's own letters, so
      the comments before it are never needed.
    * the scan stops at the first chunk start `p` at or after `new_end` for which ``p - delta``
      was an old chunk start of the same kind (a keyword, or an opaque block, which a `define`
      or `composition` heads only at the start of a line: `_start_kind`): the text from there
      on is the old text moved by `delta`, and the state after a chunk start depends only on
      its keyword or block, so the rest of the old chunks, moved by `delta`, are the answer.

    An edit inside the first keyword (or before it) rescans from offset 0, which is the full
    algorithm until it meets the old chunks again. `stats`, when given, receives
    ``rescanned`` (chunk starts the scan decided, the one it stopped at included), ``reused``
    (old chunks kept or moved) and ``restart`` (the offset the scan restarted from)."""
    delta = new_end - old_end
    if not (0 <= start <= old_end <= len(old_text) and start <= new_end
            and len(new_text) == len(old_text) + delta):
        raise ValueError(f"resplit_declarations: edit [{start}, {old_end}) -> [{start}, "
                         f"{new_end}) does not turn a text of {len(old_text)} characters into "
                         f"one of {len(new_text)}")

    kept, starts, pos, in_body = _restart_point(old_text, old_chunks, start)
    restart = pos
    # Old chunks starting before `old_end` can never be met again: begin the search after them.
    j = bisect_left(old_chunks, old_end, key=_chunk_start)
    tail_from = None
    decided = 0
    for p in _chunk_starts(new_text, pos, in_body):
        decided += 1
        if p >= new_end:
            target = p - delta
            while j < len(old_chunks) and old_chunks[j].start < target:
                j += 1
            if (j < len(old_chunks) and old_chunks[j].start == target
                    and _start_kind(new_text, p) == _start_kind(old_text, target)):
                tail_from = j
                break
        starts.append(p)
    tail = _shifted(old_chunks, tail_from, delta) if tail_from is not None else []
    scan_end = tail[0].start if tail else len(new_text)
    if stats is not None:
        stats.update(rescanned=decided, reused=len(kept) + len(tail), restart=restart)

    chunks = kept
    if restart == 0:
        # Rescanning from the top: decide the leading "text before the first keyword" chunk
        # exactly as `split_declarations` does.
        first = starts[0] if starts else scan_end
        if not starts and not tail:
            return [Chunk(0, len(new_text))] if _has_code(new_text, 0, len(new_text)) else []
        if _has_code(new_text, 0, first):
            chunks.append(Chunk(0, first))
    for i, s in enumerate(starts):
        chunks.append(Chunk(s, starts[i + 1] if i + 1 < len(starts) else scan_end))
    chunks.extend(tail)
    return chunks


# The text after a `define` or `composition` chunk start that decides whether it heads an
# opaque block (spec part 2 §2.2): its line, and for `composition` the blank lines after it
# and the first character of the next line with code.
_OPAQUE_DECIDED = {"define": re.compile(r"[^\n]*"),
                   "composition": re.compile(r"[^\n]*(?:\n[ \t]*)*\S?")}


def _chunk_start(chunk: Chunk) -> int:
    return chunk.start


def _start_kind(text: str, pos: int) -> Optional[str]:
    """What starts a chunk at `pos`: a statement keyword (``kw``) or an opaque block. The
    text from `pos` on does not decide it alone: a `define name(` or `composition` heads a
    block only at the start of a line."""
    m = _SCAN.match(text, pos)
    return None if m is None else m.lastgroup


def _restart_point(old_text: str, old_chunks: list[Chunk],
                   edit_start: int) -> tuple[list[Chunk], list[int], int, bool]:
    """Where to restart the scan for an edit at `edit_start`: the old chunks to keep, the chunk
    starts already decided (the restart chunk's own), the scan position and the `in_body`
    state there. Falls back to the top of the text (nothing kept, position 0)."""
    i = bisect_left(old_chunks, edit_start, key=_chunk_start)  # first chunk not before the edit
    # At most two steps back: the keyword of the chunk before the last one ends before it.
    while i > 0:
        i -= 1
        s = old_chunks[i].start
        if s == 0:
            break  # the first chunk may be the leading non-keyword one: rescan from the top
        m = _SCAN.match(old_text, s)
        if m is not None and m.lastgroup == "opaque":
            continue  # a block's extent depends on the lines after it: restart before it
        if m is None or m.lastgroup != "kw":
            break  # `old_chunks` does not describe `old_text`: correctness first, rescan all
        # The keyword and the character after it are unchanged, and so is the text that
        # decides whether `define`/`composition` head an opaque block instead.
        decided = _OPAQUE_DECIDED.get(m.group())
        if m.end() < edit_start and (decided is None
                                     or decided.match(old_text, s).end() < edit_start):
            undecided = _undecided_before(old_text, old_chunks, i, edit_start)
            if undecided is None:
                return old_chunks[:i], [s], m.end(), m.group() == "program"
            i = undecided + 1  # restart before that one (the loop steps back to it)
    return [], [], 0, False


def _undecided_before(old_text: str, old_chunks: list[Chunk], i: int,
                      edit_start: int) -> Optional[int]:
    """The last of the chunks before chunk `i` whose `define` or `composition` keyword heads
    an opaque block or not depending on text at or after `edit_start` (`composition c` on
    one line and the edit at the start of the next: `_OPAQUE_DECIDED`), or None."""
    reach = _OPAQUE_DECIDED["composition"]  # the text after a chunk start that decides most
    for k in range(i - 1, -1, -1):
        start = old_chunks[k].start
        if reach.match(old_text, start).end() < edit_start:
            # what decides this chunk's kind ends before the edit, and so does that of every
            # chunk before it (it ends at the first code of the next line with code at most)
            return None
        m = _SCAN.match(old_text, start)
        decided = None if m is None or m.lastgroup != "kw" else _OPAQUE_DECIDED.get(m.group())
        if decided is not None and decided.match(old_text, start).end() >= edit_start:
            return k
    return None


def _chunk_starts(text: str, pos: int, in_body: bool):
    """Yield the chunk starts after `pos`, given the `in_body` state there (a body runs from
    ``program`` to its ``return``). `pos` must be 0 or the end of a keyword that was a chunk
    start (see `resplit_declarations`). `split_declarations` scans the whole text with it;
    tests/syntax/test_resplit.py holds the incremental and the whole-text results together."""
    # comments (and opaque blocks) seen so far, so `_char_before` skips them (stops there)
    comment_start_at_end: dict[int, Optional[int]] = {}
    for m in _SCAN.finditer(text, pos):
        kind = m.lastgroup
        if kind == "open":
            return  # unclosed block comment: the rest of the file is a comment
        if kind == "opaque":
            yield m.start()
            comment_start_at_end[m.end()] = None
            in_body = False
            continue
        if kind != "kw":
            comment_start_at_end[m.end()] = m.start()
            continue
        word = m.group()
        before = _char_before(text, m.start(), comment_start_at_end)
        if word in ROLE_WORDS and before in ("=", "["):
            continue  # `role=embed`, `a=[embed, latent]`: an option value, not a statement
        if before in (",", "("):
            continue  # a keyword in a name list or parameter list: QVR004, not a new chunk
        if word == "return":
            in_body = False
            continue
        if in_body and word == "let":
            continue  # a program `let` step
        yield m.start()
        in_body = word == "program"


# The old chunks after an edit come back moved by its length; on a 5,000-line file that is
# ~3,000 chunks per keystroke. Chunk's frozen `__init__` goes through `object.__setattr__` per
# field (~0.35 µs a chunk); filling the two slots of a bare instance directly makes an equal
# object in about half the time.
_new_chunk = object.__new__
_set_start = Chunk.start.__set__
_set_end = Chunk.end.__set__


def _shifted(chunks: list[Chunk], first: int, delta: int) -> list[Chunk]:
    """`chunks[first:]`, each moved by `delta` (the same objects when `delta` is 0)."""
    if delta == 0:
        return chunks[first:]
    out = []
    append = out.append
    for c in chunks[first:]:
        moved = _new_chunk(Chunk)
        _set_start(moved, c.start + delta)
        _set_end(moved, c.end + delta)
        append(moved)
    return out


def invalid_identifier_char(word: str) -> Optional[int]:
    """Index of the first character of `word` that spec §2.4 forbids, or None.

    An identifier starts with `_` or a letter (`str.isalpha`) and continues with letters,
    decimal digits (`str.isdecimal`) and `_`."""
    for i, ch in enumerate(word):
        if ch == "_" or ch.isalpha() or (i > 0 and ch.isdecimal()):
            continue
        return i
    return None
