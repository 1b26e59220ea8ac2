"""Conversion of feature results (plain data with code-point `Span`s) to lsprotocol types.

Diagnostics are converted through a `DiagnosticMemo` (one per document and position
encoding): a file in the classic dialect has a deprecation hint on almost every line, and a
keystroke leaves nearly all of them as they were, so each converted `lsp.Diagnostic` (and its
JSON text, see `DiagnosticMemo.json_texts`) is kept and reused while the diagnostic and its LSP
positions stay the same.

A diagnostic whose code has a section in docs/diagnostics.md carries an LSP ``codeDescription``
(a link to that section) when the client configured where the page lives
(``qvr.diagnostics.codeDescriptionBaseUrl``, `code_description`); without one it has none.
"""
from __future__ import annotations

import json
import re
from bisect import bisect_right
from typing import Optional, Sequence

from lsprotocol import types as lsp

from qvr.diagnostics import Diagnostic

from .positions import PositionEncoder

SYMBOL_KINDS = {
    "object": lsp.SymbolKind.Class, "morphism": lsp.SymbolKind.Function, "program": lsp.SymbolKind.Method,
    "define": lsp.SymbolKind.Constant, "export": lsp.SymbolKind.Module, "category": lsp.SymbolKind.Namespace,
    "rule": lsp.SymbolKind.Operator, "quantale": lsp.SymbolKind.Namespace, "parameter": lsp.SymbolKind.Variable,
    "variable": lsp.SymbolKind.Variable,
    # tier-3 blocks (spec part 2 §5.12)
    "block_module": lsp.SymbolKind.Module, "block_struct": lsp.SymbolKind.Struct,
    "block_interface": lsp.SymbolKind.Interface, "block_function": lsp.SymbolKind.Function,
    "block_constant": lsp.SymbolKind.Constant,
}
COMPLETION_KINDS = {
    "keyword": lsp.CompletionItemKind.Keyword, "snippet": lsp.CompletionItemKind.Snippet,
    "family": lsp.CompletionItemKind.Class, "object": lsp.CompletionItemKind.Struct,
    "morphism": lsp.CompletionItemKind.Function, "program": lsp.CompletionItemKind.Method,
    "define": lsp.CompletionItemKind.Constant, "variable": lsp.CompletionItemKind.Variable,
    "builtin": lsp.CompletionItemKind.Function, "option": lsp.CompletionItemKind.Property,
    "constructor": lsp.CompletionItemKind.Constructor,
}
TAGS = {"deprecated": lsp.DiagnosticTag.Deprecated, "unnecessary": lsp.DiagnosticTag.Unnecessary}


def position(encoder: PositionEncoder, index, offset: int) -> lsp.Position:
    line, col = encoder.to_lsp(index, offset)
    return lsp.Position(line=line, character=col)


def range_(encoder: PositionEncoder, index, span) -> lsp.Range:
    return lsp.Range(start=position(encoder, index, span.start), end=position(encoder, index, span.end))


def code_description(code, base: Optional[str]) -> Optional[lsp.CodeDescription]:
    """The link to `code`'s section of docs/diagnostics.md under `base` (the folder holding the
    page, e.g. ``https://example.org/qvr/docs``): ``<base>/diagnostics.md#qvr013``. None without
    a base, and for a code the page has no section for (a run failure's ``QVR-run``)."""
    if not base or not isinstance(code, str):
        return None
    from qvr.explain import CATALOGUE  # the page has one heading per catalogue entry

    if code not in CATALOGUE:
        return None
    return lsp.CodeDescription(href=f"{base.rstrip('/')}/diagnostics.md#{_anchor(code)}")


def _anchor(heading: str) -> str:
    # the anchor Markdown renderers (GitHub, MkDocs) give a heading: lower case, spaces as
    # hyphens, other punctuation dropped ("## QVR013" -> "#qvr013")
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def diagnostic(encoder: PositionEncoder, doc, d: Diagnostic,
               link_base: Optional[str] = None) -> lsp.Diagnostic:
    index = doc.line_index
    related = [
        lsp.DiagnosticRelatedInformation(
            location=lsp.Location(uri=doc.uri, range=range_(encoder, index, r.span)), message=r.message
        )
        for r in d.related
    ]
    tags = [TAGS[t] for t in d.tags if t in TAGS]
    return lsp.Diagnostic(
        range=range_(encoder, index, d.span),
        message=d.message,
        severity=lsp.DiagnosticSeverity(int(d.severity)),
        code=d.code,
        code_description=code_description(d.code, link_base),
        source="qvr",
        tags=tags or None,
        related_information=related or None,
    )


def text_edits(encoder: PositionEncoder, index, edits) -> list[lsp.TextEdit]:
    return [lsp.TextEdit(range=range_(encoder, index, span), new_text=new) for span, new in edits]


class DiagnosticMemo:
    """Converted diagnostics of one document, reused from one version to the next.

    A converted diagnostic depends on the `Diagnostic`'s code, severity, message and tags and
    on the LSP positions (line, column in the negotiated encoding) of its span and of its
    related locations, not on the code-point offsets: an edit shifts the offsets of everything
    after it, but a keystroke that adds no line leaves the lines and columns of every other
    line alone. So the memo is keyed by those values and positions; fixes do not appear in the
    LSP form (code actions convert them on request). Each `convert` keeps only the entries it
    used, so the memo never outgrows the document's current diagnostics. `link_base` is the
    ``codeDescription`` base of every diagnostic it converts (a memo serves one base).
    """

    __slots__ = ("uri", "encoding", "link_base", "_memo", "last", "_texts", "_converter")

    def __init__(self, uri: str, encoding: str, link_base: Optional[str] = None) -> None:
        self.uri = uri
        self.encoding = encoding
        self.link_base = link_base
        self._memo: dict[tuple, lsp.Diagnostic] = {}
        self.last: list[lsp.Diagnostic] = []  # what the last `convert` returned
        self._texts: dict[int, str] = {}  # id of a converted diagnostic -> its JSON text
        self._converter = None

    def convert(self, encoder: PositionEncoder, index, diagnostics: Sequence[Diagnostic]) -> list[lsp.Diagnostic]:
        """`diagnostic(...)` of each, reusing the objects of earlier calls where nothing they
        show changed (the same object, so callers can compare lists by identity)."""
        memo, used, out = self._memo, {}, []
        starts = index.line_starts
        text = index.text
        fast = text.isascii()  # (O(1) in CPython) columns are code points in every encoding
        size = len(text)

        def at(offset: int) -> tuple[int, int]:
            if not fast:
                return encoder.to_lsp(index, offset)
            offset = 0 if offset < 0 else size if offset > size else offset
            line = bisect_right(starts, offset) - 1
            return line, offset - starts[line]

        for d in diagnostics:
            span = d.span
            a, b = span.start, span.end
            if fast and 0 <= a <= b <= size:  # `at` inlined: this loop runs for every hint
                line = bisect_right(starts, a) - 1
                start = (line, a - starts[line])
                line = bisect_right(starts, b, line) - 1
                end = (line, b - starts[line])
            else:
                start, end = at(a), at(b)
            related = tuple((r.message, at(r.span.start), at(r.span.end)) for r in d.related) if d.related else ()
            key = (d.code, d.severity, d.message, d.tags, start, end, related)
            converted = used.get(key) or memo.get(key)
            if converted is None:
                converted = _diagnostic_at(self.uri, d, start, end, related, self.link_base)
            used[key] = converted
            out.append(converted)
        self._memo = used
        self.last = out
        return out

    def json_texts(self, diagnostics: list[lsp.Diagnostic], converter) -> Optional[list[str]]:
        """The JSON text of each of `diagnostics` when that list is the last `convert`'s
        (None otherwise), each serialised once with `converter` and then reused: a list of
        thousands of hints costs tens of milliseconds to serialise, and the same ones are sent
        again after every keystroke."""
        if diagnostics is not self.last:
            return None
        if converter is not self._converter:
            self._texts, self._converter = {}, converter
        texts, keep, out = self._texts, {}, []
        for d in diagnostics:
            text = texts.get(id(d))
            if text is None:
                text = json.dumps(converter.unstructure(d))
            keep[id(d)] = text  # ids stay valid: the memo keeps every object in `last` alive
            out.append(text)
        self._texts = keep
        return out


def _diagnostic_at(uri: str, d: Diagnostic, start, end, related,
                   link_base: Optional[str] = None) -> lsp.Diagnostic:
    def range_at(a, b) -> lsp.Range:
        return lsp.Range(start=lsp.Position(line=a[0], character=a[1]), end=lsp.Position(line=b[0], character=b[1]))

    tags = [TAGS[t] for t in d.tags if t in TAGS]
    return lsp.Diagnostic(
        range=range_at(start, end),
        message=d.message,
        severity=lsp.DiagnosticSeverity(int(d.severity)),
        code=d.code,
        code_description=code_description(d.code, link_base),
        source="qvr",
        tags=tags or None,
        related_information=[
            lsp.DiagnosticRelatedInformation(location=lsp.Location(uri=uri, range=range_at(a, b)), message=message)
            for message, a, b in related
        ] or None,
    )
