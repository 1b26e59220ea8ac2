"""Lexical helpers that work on raw text without lark: comments, chunks, identifiers.

* `comments(text)` finds every comment (spec §2.3) with its span. Comments never reach the
  grammar, but the formatter keeps them and hover shows doc comments. An unclosed ``#{``
  swallows the rest of the file (QVR003) and is reported as `unclosed_block`.
* `split_declarations(text)` cuts the text into top-level chunks at statement keywords that
  are not inside a program body (a body runs from ``program`` to its ``return``), so that one
  broken declaration cannot hide the others (spec §3.3, docs/internals.md "Syntax").
* `invalid_identifier_char` applies spec §2.4 to a NAME token that lark's ``\\w+`` admitted.

QVR has no string literals, so a ``#`` always starts a comment: a single regular expression
scan is exact.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Optional

from .ast import Comment, Doc
from .span import Span
from .vocabulary import ROLE_WORDS, STATEMENT_KEYWORDS

# Block comments first (they also start with `#`), then an unclosed `#{`, then line comments;
# words only matter when they are statement keywords, `program` or `return`.
_SCAN = re.compile(
    r"(?P<block>#\{.*?\}#)|(?P<open>#\{)|(?P<line>#[^\n]*)"
    r"|(?<![\w.])(?P<kw>" + "|".join(sorted(set(STATEMENT_KEYWORDS) | {"return"}, key=len,
                                             reverse=True)) + r")(?!\w)",
    re.S,
)
_COMMENT_SCAN = re.compile(r"(?P<block>#\{.*?\}#)|(?P<open>#\{)|(?P<line>#[^\n]*)", re.S)


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
    starts: list[int] = []
    in_body = False
    comment_start_at_end: dict[int, int] = {}  # comments seen so far, so `_char_before` skips them
    for m in _SCAN.finditer(text):
        kind = m.lastgroup
        if kind == "open":
            break  # unclosed block comment: the rest of the file is a comment
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
        starts.append(m.start())
        in_body = word == "program"
    chunks = []
    if not starts or _has_code(text, 0, starts[0]):
        chunks.append(Chunk(0, starts[0] if starts else len(text)))
        if not starts and not _has_code(text, 0, len(text)):
            return []
    for i, start in enumerate(starts):
        chunks.append(Chunk(start, starts[i + 1] if i + 1 < len(starts) else len(text)))
    return chunks


def _char_before(text: str, pos: int, comment_start_at_end: dict[int, int]) -> str:
    """The last character before `pos` that is neither blank nor inside a comment ('' at the
    start). `comment_start_at_end` maps the end offset of each comment before `pos` to its
    start: comments are invisible to the grammar, so `[role= #{ why }# embed]` has `=` before
    `embed`."""
    i = pos - 1
    while i >= 0:
        if text[i] in " \t\f\n\r":
            i -= 1
        elif i + 1 in comment_start_at_end:
            i = comment_start_at_end[i + 1] - 1
        else:
            break
    return text[i] if i >= 0 else ""


def _has_code(text: str, start: int, end: int) -> bool:
    """Whether text[start:end] holds anything besides whitespace and comments."""
    piece = text[start:end]
    if not piece.strip():
        return False
    return bool(_COMMENT_SCAN.sub("", piece).strip())


def invalid_identifier_char(word: str) -> Optional[int]:
    """Index of the first character of `word` that spec §2.4 forbids, or None.

    An identifier starts with `_` or a letter (`str.isalpha`) and continues with letters,
    decimal digits (`str.isdecimal`) and `_`."""
    for i, ch in enumerate(word):
        if ch == "_" or ch.isalpha() or (i > 0 and ch.isdecimal()):
            continue
        return i
    return None
