"""Conversion between code-point offsets (what every layer uses) and LSP positions.

LSP positions count columns in the negotiated position encoding: UTF-16 code units by default,
UTF-8 bytes or UTF-32 code points when client and server agree on them at initialisation.
`PositionEncoder` wraps a `LineIndex` conversion for one encoding so that feature code never
has to know which one is in use.
"""
from __future__ import annotations

from qvr.syntax.span import LineIndex, Span

UTF8 = "utf-8"
UTF16 = "utf-16"
UTF32 = "utf-32"


class PositionEncoder:
    """Offsets <-> (line, character) for one position encoding."""

    __slots__ = ("encoding",)

    def __init__(self, encoding: str | None = UTF16):
        encoding = str(getattr(encoding, "value", encoding) or UTF16).lower()
        self.encoding = encoding if encoding in (UTF8, UTF16, UTF32) else UTF16

    def to_lsp(self, index: LineIndex, offset: int) -> tuple[int, int]:
        if self.encoding == UTF16:
            return index.position_utf16(offset)
        if self.encoding == UTF8:
            return index.position_utf8(offset)
        return index.position(offset)

    def from_lsp(self, index: LineIndex, line: int, character: int) -> int:
        if self.encoding == UTF16:
            return index.offset_utf16(line, character)
        if self.encoding == UTF8:
            return index.offset_utf8(line, character)
        return index.offset(line, character)

    def span_to_lsp(self, index: LineIndex, span: Span) -> tuple[tuple[int, int], tuple[int, int]]:
        return self.to_lsp(index, span.start), self.to_lsp(index, span.end)

    def span_from_lsp(self, index: LineIndex, start: tuple[int, int], end: tuple[int, int]) -> Span:
        a = self.from_lsp(index, *start)
        b = self.from_lsp(index, *end)
        return Span(min(a, b), max(a, b))

    def length(self, text: str) -> int:
        """Length of `text` in this encoding's units (semantic token lengths)."""
        if self.encoding == UTF16:
            return len(text) + sum(1 for ch in text if ord(ch) > 0xFFFF) if not text.isascii() else len(text)
        if self.encoding == UTF8:
            return len(text.encode("utf-8", errors="surrogatepass"))
        return len(text)
