"""Source positions: spans over normalised text and conversion to lines and columns.

Every AST node and every declared name carries a `Span` of *code-point* offsets into the
normalised source (line terminators replaced by ``\\n``, a leading BOM removed; see
`normalize`). `LineIndex` converts offsets to (line, column) pairs in the three units the
project needs: code points (CLI messages), UTF-16 code units (LSP default) and UTF-8 bytes
(tree-sitter, LSP when negotiated).
"""
from __future__ import annotations

import bisect
from dataclasses import dataclass

from .frozen_init import install_fast_init


def normalize(text: str) -> str:
    """Replace CRLF / lone CR by LF and drop a leading U+FEFF (spec §2.1).

    Replacing terminators keeps every (line, column) position unchanged; dropping the BOM
    shifts offsets by one, which callers mapping back to the raw text must account for
    (the language server strips the BOM before it stores a document for that reason).
    """
    if text.startswith("\ufeff"):
        text = text[1:]
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    return text


def common_prefix(a, b) -> int:
    """The length of the common prefix of two sequences (texts, lists), compared block by block
    (slice equality runs in C)."""
    n = min(len(a), len(b))
    i, block = 0, 4096
    while block:
        while i + block <= n and a[i:i + block] == b[i:i + block]:
            i += block
        block //= 8
    while i < n and a[i] == b[i]:
        i += 1
    return i


@dataclass(frozen=True, slots=True)
class Span:
    """Half-open range [start, end) of code-point offsets into the normalised text."""

    start: int
    end: int

    def __contains__(self, offset: int) -> bool:  # offset inside, end inclusive for cursors
        return self.start <= offset <= self.end

    def covers(self, other: "Span") -> bool:
        return self.start <= other.start and other.end <= self.end

    def shifted(self, delta: int) -> "Span":
        return Span(self.start + delta, self.end + delta)

    @staticmethod
    def merge(a: "Span", b: "Span") -> "Span":
        return Span(min(a.start, b.start), max(a.end, b.end))


# Span is built ~10 times per source line by the parser and the checker (frozen_init.py).
install_fast_init(Span)


def _utf16_len(s: str) -> int:
    return len(s) + sum(1 for ch in s if ord(ch) > 0xFFFF)


class LineIndex:
    """Maps code-point offsets to (line, column) and back for one text.

    Columns are available in code points, UTF-16 code units and UTF-8 bytes. Lines are
    0-based here; CLI output adds 1 to both line and column.
    """

    __slots__ = ("text", "line_starts", "_ascii")

    def __init__(self, text: str):
        self.text = text
        starts = [0]
        find = text.find
        i = find("\n")
        while i >= 0:
            starts.append(i + 1)
            i = find("\n", i + 1)
        self.line_starts = starts
        self._ascii = text.isascii()

    @classmethod
    def edited(cls, old: "LineIndex", text: str, start: int, old_end: int, new_end: int) -> "LineIndex":
        """The index of `text`, which is `old.text` with ``[start, old_end)`` replaced by
        ``text[start:new_end]``: the old line starts before the edit are kept, those after it
        moved, and only the inserted text is searched (equal to ``LineIndex(text)``)."""
        index = cls.__new__(cls)
        index.text = text
        starts = old.line_starts
        head = bisect.bisect_right(starts, start)  # line starts at or before the edit
        tail = bisect.bisect_right(starts, old_end)  # line starts after the replaced text
        inserted = []
        find = text.find
        i = find("\n", start, new_end)
        while i >= 0:
            inserted.append(i + 1)
            i = find("\n", i + 1, new_end)
        delta = new_end - old_end
        index.line_starts = starts[:head] + inserted + (
            [s + delta for s in starts[tail:]] if delta else starts[tail:])
        index._ascii = text.isascii()
        return index

    @property
    def line_count(self) -> int:
        return len(self.line_starts)

    def line_of(self, offset: int) -> int:
        return bisect.bisect_right(self.line_starts, offset) - 1

    def line_text(self, line: int) -> str:
        start = self.line_starts[line]
        end = self.line_starts[line + 1] - 1 if line + 1 < len(self.line_starts) else len(self.text)
        return self.text[start:end]

    # -- code points ---------------------------------------------------------------------
    def position(self, offset: int) -> tuple[int, int]:
        """(line, code-point column), both 0-based."""
        offset = max(0, min(offset, len(self.text)))
        line = self.line_of(offset)
        return line, offset - self.line_starts[line]

    def offset(self, line: int, column: int) -> int:
        """Code-point offset of a (line, code-point column); clamped to the line's end."""
        if line < 0:
            return 0
        if line >= len(self.line_starts):
            return len(self.text)
        start = self.line_starts[line]
        return start + max(0, min(column, len(self.line_text(line))))

    # -- UTF-16 (LSP) --------------------------------------------------------------------
    def position_utf16(self, offset: int) -> tuple[int, int]:
        line, col = self.position(offset)
        if self._ascii:
            return line, col
        start = self.line_starts[line]
        return line, _utf16_len(self.text[start:start + col])

    def offset_utf16(self, line: int, column: int) -> int:
        """Code-point offset for an LSP (line, UTF-16 column); a column inside a surrogate
        pair or past the line's end is clamped."""
        if line < 0:
            return 0
        if line >= len(self.line_starts):
            return len(self.text)
        start = self.line_starts[line]
        if self._ascii:
            return start + max(0, min(column, len(self.line_text(line))))
        units = 0
        text = self.line_text(line)
        for i, ch in enumerate(text):
            width = 2 if ord(ch) > 0xFFFF else 1
            if units + width > column:
                return start + i
            units += width
        return start + len(text)

    # -- UTF-8 bytes (tree-sitter) --------------------------------------------------------
    def position_utf8(self, offset: int) -> tuple[int, int]:
        line, col = self.position(offset)
        if self._ascii:
            return line, col
        start = self.line_starts[line]
        return line, len(self.text[start:start + col].encode("utf-8"))

    def offset_utf8(self, line: int, column: int) -> int:
        if line < 0:
            return 0
        if line >= len(self.line_starts):
            return len(self.text)
        start = self.line_starts[line]
        if self._ascii:
            return start + max(0, min(column, len(self.line_text(line))))
        raw = self.line_text(line).encode("utf-8")[: max(0, column)]
        return start + len(raw.decode("utf-8", errors="ignore"))

    def byte_offset(self, offset: int) -> int:
        """UTF-8 byte offset of a code-point offset (tree-sitter's unit)."""
        if self._ascii:
            return offset
        return len(self.text[:offset].encode("utf-8"))
