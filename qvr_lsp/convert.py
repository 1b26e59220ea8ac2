"""Conversion of feature results (plain data with code-point `Span`s) to lsprotocol types.

Diagnostics are converted through a `DiagnosticMemo` (one per document and position
encoding). A file in the classic dialect has a deprecation hint on almost every line, and a
keystroke leaves nearly all of them as they were, so what the server sends is made from JSON
fragments kept per replayed block of declarations and per diagnostic (`DiagnosticMemo.prepare`):
a block that stayed on its lines costs a look-up, a diagnostic whose code, message, severity,
tags and LSP positions did not change a dictionary look-up, and the publishDiagnostics
notification is joined from those fragments without making lsprotocol objects or serialising
them through cattrs. `PreparedDiagnostics` makes the lsprotocol objects
only when something reads them.

A diagnostic whose code has a section in docs/diagnostics.md carries an LSP ``codeDescription``
(a link to that section) when the client configured where the page lives
(``qvr.diagnostics.codeDescriptionBaseUrl``, `code_description`); without one it has none.
"""
from __future__ import annotations

import json
import re
from bisect import bisect_right
from collections.abc import Sequence as SequenceABC
from itertools import compress, count, repeat
from json.encoder import encode_basestring_ascii
from operator import attrgetter, is_, sub
from typing import Optional, Sequence

from lsprotocol import types as lsp

from qvr.diagnostics import Diagnostic
from qvr.semantics.placed import DiagnosticRuns

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


_START = attrgetter("span.start")
_END = attrgetter("span.end")
_CONTENT = attrgetter("code", "severity", "message", "tags", "related")
_RELATED = attrgetter("related")
_NON_ASCII = re.compile(r"[^\x00-\x7f]+")


class DiagnosticMemo:
    """Converted diagnostics of one document, reused from one version to the next.

    A converted diagnostic depends on the `Diagnostic`'s code, severity, message and tags and
    on the LSP positions (line, column in the negotiated encoding) of its span and of its
    related locations, not on the code-point offsets: an edit shifts the offsets of everything
    after it, but a keystroke that adds no line leaves the lines and columns of every other
    line alone. Fixes do not appear in the LSP form (code actions convert them on request).
    `link_base` is the ``codeDescription`` base of every diagnostic it converts (a memo
    serves one base).

    `prepare` (what the server publishes and answers pulls with) gives each diagnostic's JSON
    text, by runs (`qvr.semantics.placed`): a replayed block's run reuses the texts made for its
    recorded diagnostics while the block stays on the same line; the rest are looked up by
    content and LSP positions. `convert` keeps lsprotocol objects. Neither keeps much more
    than the document's current diagnostics.
    """

    __slots__ = ("uri", "encoding", "link_base", "_memo", "last", "_fragments", "_rests", "_flagged",
                 "_runs_texts")

    def __init__(self, uri: str, encoding: str, link_base: Optional[str] = None) -> None:
        self.uri = uri
        self.encoding = encoding
        self.link_base = link_base
        self._memo: dict[tuple, lsp.Diagnostic] = {}
        self.last: list[lsp.Diagnostic] = []  # what the last `convert` returned
        # (content, start, end) -> the diagnostic's JSON text; content -> the text after its range
        self._fragments: dict[tuple, str] = {}
        self._rests: dict[tuple, str] = {}
        self._flagged: tuple = (None, frozenset())  # (text, lines holding a non-ASCII character)
        # id(recorded tuple) -> (the tuple, (line + 1, column) of its block, its JSON texts,
        # their keys (see `_keys`) or None, the texts joined with commas)
        self._runs_texts: dict[int, tuple] = {}

    def prepare(self, encoder: PositionEncoder, index, diagnostics) -> "PreparedDiagnostics":
        """The LSP form of `diagnostics` (a `DiagnosticRuns`, or any sequence) on the text of
        `index`: the JSON text of each (equal, once decoded, to what the lsprotocol converter
        makes of `diagnostic(...)`), and the lsprotocol objects on demand.

        A replayed block's run lies on the same text as when its recorded diagnostics were
        converted: at the same line and column, its texts are those made then (kept per
        recorded tuple, the very same strings), so a keystroke that adds no line costs a
        look-up per block; a block that moved by whole lines gets its lines moved
        (`_block_texts`). The diagnostics made in this version go by content, together."""
        runs = diagnostics if isinstance(diagnostics, DiagnosticRuns) else DiagnosticRuns.of(diagnostics)
        text, line_starts = index.text, index.line_starts
        positional = self.encoding == "utf-32" or text.isascii()
        total = len(runs)
        kept, used = self._runs_texts, {}
        texts: list = []
        wholes: list = []  # (where in `texts`, the entry) of each run that is a whole block's
        loose: list = []  # the diagnostics made in this version, converted in one call at the end
        loose_at: list = []  # (where in `texts`, how many)
        for run in runs.runs:
            origin = run.origin
            if origin is None:
                loose_at.append((len(texts), run.hi - run.lo))
                loose.extend(run.items())
                texts.extend(repeat(None, run.hi - run.lo))
                continue
            base = run.base
            k = bisect_right(line_starts, origin)
            where = (k, origin - line_starts[k - 1])
            entry = used.get(id(base)) or kept.get(id(base))  # (a block's run may come in parts)
            if entry is None or entry[0] is not base or entry[1] != where:
                entry = self._block_texts(encoder, index, run, where, entry, positional, total)
            used[id(base)] = entry
            if run.lo == 0 and run.hi == len(base):
                wholes.append((len(texts), entry))
            texts.extend(entry[2][run.lo:run.hi])
        if loose:
            made = self._by_content(encoder, index, loose, positional, total)
            at = 0
            for where, size in loose_at:
                texts[where:where + size] = made[at:at + size]
                at += size
        self._runs_texts = used  # (holding the tuples keeps their ids from being reused)
        return PreparedDiagnostics(self.uri, self.link_base, runs, texts, wholes)

    def _block_texts(self, encoder: PositionEncoder, index, run, where: tuple, entry, positional: bool,
                     total: int) -> tuple:
        """The `_runs_texts` entry of a replayed block's recorded diagnostics now that the block
        begins at `where` ((line + 1, column)); `entry` is the one it had, if any. A block
        that moved by whole lines keeps its columns: its keys are moved, not computed again."""
        base = run.base
        if entry is not None and entry[0] is base and entry[1][1] == where[1] and entry[3] is not None:
            lines = where[0] - entry[1][0]
            keys = [(c, a + lines, x, b + lines, y) for c, a, x, b, y in entry[3]]
            texts = self._texts(keys, base, {}, total)
            return base, where, texts, keys, ",".join(texts)
        whole = run.part(0, len(base)).items()
        keys, related = self._keys(encoder, index, whole, positional)
        texts = self._texts(keys, whole, related, total)
        # (no keys to move when a related location's positions are in them)
        return base, where, texts, None if related else keys, ",".join(texts)

    def _by_content(self, encoder: PositionEncoder, index, diagnostics: list, positional: bool,
                    total: int) -> list:
        """The JSON texts of `diagnostics` (`_keys`, then `_texts`)."""
        keys, related = self._keys(encoder, index, diagnostics, positional)
        return self._texts(keys, diagnostics, related, total)

    def _keys(self, encoder: PositionEncoder, index, diagnostics: list, positional: bool):
        """(keys, related): each diagnostic's key (content, line + 1, column, end line + 1, end
        column; columns in the encoding, `positional`: code points are), and the LSP positions
        of the related locations of those that have some, by index."""
        n = len(diagnostics)
        text, line_starts = index.text, index.line_starts
        size = len(text)
        starts = list(map(_START, diagnostics))
        ends = list(map(_END, diagnostics))
        if n and (min(starts) < 0 or max(ends) > size or max(starts) > size or min(ends) < 0):
            starts = [0 if a < 0 else size if a > size else a for a in starts]
            ends = [0 if b < 0 else size if b > size else b for b in ends]
        # positions as (k, column): k = line + 1 (what bisect gives), column in code points
        ka = list(map(bisect_right, repeat(line_starts, n), starts))
        kb = list(map(bisect_right, repeat(line_starts, n), ends))
        base = [0, *line_starts]  # base[k] is the start of line k - 1
        ca = list(map(sub, starts, map(base.__getitem__, ka)))
        cb = list(map(sub, ends, map(base.__getitem__, kb)))
        contents = list(map(_CONTENT, diagnostics))
        # the few whose positions the encoder must compute, or whose key needs more
        slow: set[int] = set()
        if not positional:
            flagged = self._non_ascii_lines(index)
            if flagged:
                slow.update(compress(count(), map(flagged.__contains__, ka)))
                slow.update(compress(count(), map(flagged.__contains__, kb)))
        for i in slow:
            (la, ca[i]), (lb, cb[i]) = encoder.to_lsp(index, starts[i]), encoder.to_lsp(index, ends[i])
            ka[i], kb[i] = la + 1, lb + 1
        related: dict[int, tuple] = {}
        for i in compress(count(), map(_RELATED, diagnostics)):
            d = diagnostics[i]
            related[i] = tuple((r.message, encoder.to_lsp(index, r.span.start), encoder.to_lsp(index, r.span.end))
                               for r in d.related)
            contents[i] = (d.code, d.severity, d.message, d.tags, related[i])
        return list(zip(contents, ka, ca, kb, cb)), related

    def _texts(self, keys: list, diagnostics, related: dict, total: int) -> list:
        """The JSON texts for `keys` (`_keys` of `diagnostics`), each looked up, written anew
        when not found (`total`: how many the document has, what the look-up tables are kept
        to about twice of)."""
        fragments = self._fragments
        texts = list(map(fragments.get, keys))
        if None in texts:
            rests = self._rests
            if len(rests) > 2 * total + 64:  # keep both about the size of the current list
                rests = self._rests = {}
            if len(fragments) > 2 * total + 64:
                fragments = self._fragments = {}
            for i in compress(count(), map(is_, texts, repeat(None))):
                key = keys[i]
                content, ka, ca, kb, cb = key
                rest = rests.get(content)
                if rest is None:
                    rest = rests[content] = _rest_json(self.uri, diagnostics[i], related.get(i, ()), self.link_base)
                texts[i] = fragments[key] = (
                    f'{{"range":{{"start":{{"line":{ka - 1},"character":{ca}}},'
                    f'"end":{{"line":{kb - 1},"character":{cb}}}}}{rest}')
        return texts

    def _non_ascii_lines(self, index) -> frozenset:
        """The k (line + 1) of each line of `index.text` holding a character beyond ASCII."""
        text = index.text
        if self._flagged[0] is not text:
            starts = index.line_starts
            found = set()
            for m in _NON_ASCII.finditer(text):
                found.update(range(bisect_right(starts, m.start()), bisect_right(starts, m.end()) + 1))
            self._flagged = (text, frozenset(found))
        return self._flagged[1]

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


def _rest_json(uri: str, d: Diagnostic, related, link_base: Optional[str]) -> str:
    """The JSON text of `d`'s LSP form after its range, from the comma on, as the lsprotocol
    converter writes it (fields it leaves out when empty are left out; `PreparedDiagnostics`
    tests compare the two)."""
    # (the C function `json.dumps` calls for a string, without its per-call set-up: this
    # runs for every diagnostic of a file opened with thousands of hints)
    dumps = encode_basestring_ascii
    parts = [f',"message":{dumps(d.message)},"severity":{int(d.severity)}']
    if d.code is not None:
        parts.append(f',"code":{dumps(d.code)}')
    link = code_description(d.code, link_base)
    if link is not None:
        parts.append(f',"codeDescription":{{"href":{dumps(link.href)}}}')
    parts.append(',"source":"qvr"')
    tags = [int(TAGS[t]) for t in d.tags if t in TAGS]
    if tags:
        parts.append(f',"tags":[{",".join(map(str, tags))}]')
    if related:
        items = ",".join(
            f'{{"location":{{"uri":{dumps(uri)},"range":{{"start":{{"line":{a[0]},"character":{a[1]}}},'
            f'"end":{{"line":{b[0]},"character":{b[1]}}}}}}},"message":{dumps(message)}}}'
            for message, a, b in related)
        parts.append(f',"relatedInformation":[{items}]')
    parts.append("}")
    return "".join(parts)


class PreparedDiagnostics(SequenceABC):
    """A document's diagnostics in their LSP form (`DiagnosticMemo.prepare`): `texts`, the
    JSON text of each (what the server writes), and, as a sequence, the `lsp.Diagnostic` of
    each, made from those texts when first read (tests, pygls' serialisation of a message the
    server does not write itself)."""

    __slots__ = ("uri", "link_base", "source", "texts", "_wholes", "_objects", "_json")

    def __init__(self, uri: str, link_base: Optional[str], source: list, texts: list[str],
                 wholes: Sequence = ()) -> None:
        self.uri, self.link_base = uri, link_base
        self.source = source  # the `Diagnostic`s, in the same order
        self.texts = texts
        # (where in `texts`, `DiagnosticMemo` entry) of the runs that are a whole block's texts:
        # the entry holds them joined, so `json` joins a piece per block
        self._wholes = wholes
        self._objects: Optional[list] = None
        self._json: Optional[str] = None

    def json(self) -> str:
        """The JSON array of every diagnostic (made once)."""
        if self._json is None:
            self._json = self._joined()
        return self._json

    def _joined(self) -> str:
        texts = self.texts
        if not self._wholes:
            return f"[{','.join(texts)}]"
        parts, at = [], 0
        for where, entry in self._wholes:
            if where > at:
                parts.append(",".join(texts[at:where]))
            parts.append(entry[4])
            at = where + len(entry[2])
        if at < len(texts):
            parts.append(",".join(texts[at:]))
        return f"[{','.join(filter(None, parts))}]"

    def objects(self) -> list[lsp.Diagnostic]:
        if self._objects is None:
            self._objects = [_diagnostic_at(self.uri, d, *_positions(json.loads(t)), self.link_base)
                             for d, t in zip(self.source, self.texts)]
        return self._objects

    def __len__(self) -> int:
        return len(self.texts)

    def __getitem__(self, i):
        return self.objects()[i]

    def __iter__(self):
        return iter(self.objects())

    def __eq__(self, other) -> bool:
        if isinstance(other, PreparedDiagnostics):
            return self.texts == other.texts
        return isinstance(other, (list, tuple)) and self.objects() == list(other)

    __hash__ = None

    def __repr__(self) -> str:
        return f"PreparedDiagnostics({len(self.texts)} diagnostics of {self.uri})"


def _positions(item: dict) -> tuple:
    """(start, end, related) of a diagnostic's JSON form, as `_diagnostic_at` takes them."""
    def at(position: dict) -> tuple[int, int]:
        return position["line"], position["character"]

    related = tuple((r["message"], at(r["location"]["range"]["start"]), at(r["location"]["range"]["end"]))
                    for r in item.get("relatedInformation", ()))
    return at(item["range"]["start"]), at(item["range"]["end"]), related


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
