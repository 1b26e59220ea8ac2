"""Semantic tokens: a lexical scan of the text, with identifiers classified by the Analysis
(what each name resolves to) and the vocabulary (families, builtins, constructors)."""
from __future__ import annotations

import bisect
import re
from typing import NamedTuple, Optional

from qvr.stepwise import finish
from qvr.syntax.span import LineIndex, Span, common_prefix
from qvr.syntax.vocabulary import OPAQUE_BLOCK, OPAQUE_HEADS

from . import TOKEN_MODIFIERS, TOKEN_TYPES, families  # the legend: in the package, see there

_T = {name: i for i, name in enumerate(TOKEN_TYPES)}
_M = {name: 1 << i for i, name in enumerate(TOKEN_MODIFIERS)}

KIND_TO_TYPE = {
    "object": "type", "morphism": "function", "program": "function", "define": "function",
    "opaque": "function",
    "category": "namespace", "quantale": "namespace", "rule": "macro",
    "parameter": "parameter", "variable": "variable", "rule_variable": "parameter",
}
OPTION_VALUES = {"kernel", "deterministic", "affine", "mlp", "zeros", "learned", "last", "all", "forward", "backward"}

LEXER = re.compile(
    "(?P<opaque>" + OPAQUE_BLOCK + ")"
    r"|(?P<block>#\{[\s\S]*?(?:\}#|\Z))"
    r"|(?P<doc>#![^\n]*)"
    r"|(?P<comment>#[^\n]*)"
    r"|(?P<number>(?:\d+\.\d+|\d+\.(?![\w.])|\.\d+|\d+)(?:[eE][+-]?\d+)?)"
    r"|(?P<word>\w+)"
    r"|(?P<op>>=>|->|<-|>>|<<|=>|\|-|⊢|[~@*+\-/\\=])"
)


# Inside a tier-3 block (spec part 2 §5.12) a lexical scan: these words are keywords, besides
# the head words; strings are skipped (no word in one is a name), comments and numbers are
# as usual, and words naming top-level declarations take their kinds.
BLOCK_KEYWORDS = frozenset(OPAQUE_HEADS + ("define", "composition") + tuple(
    "atoms binders rule lexicon from sorts constructors binds dim op var_init init message "
    "update iterations readout body constructor return let perform handle with instance in "
    "case motive if then else resume resumes construct as for".split()))
BLOCK_LEXER = re.compile(
    r"(?P<block>#\{[\s\S]*?(?:\}#|\Z))"
    r"|(?P<doc>#![^\n]*)"
    r"|(?P<comment>#[^\n]*)"
    r"|(?P<string>\"(?:[^\"\\\n]|\\.)*\"?|'(?:[^'\\\n]|\\.)*'?)"
    r"|(?P<number>(?:\d+\.\d+|\d+\.(?![\w.])|\.\d+|\d+)(?:[eE][+-]?\d+)?)"
    r"|(?P<word>\w+)"
)


class Token(NamedTuple):
    """One token: [start, end) in code points, index into TOKEN_TYPES, modifier bit set.
    (A tuple, not a dataclass with a Span: large files have hundreds of thousands of them.)"""

    start: int
    end: int
    type: int
    modifiers: int


def semantic_tokens(doc, span: Optional[Span] = None) -> list[Token]:
    """The document's tokens; with `span`, those that overlap it, made by lexing only the
    top-level statements around it (a range request on a file of megabytes costs the range,
    not the file) unless the whole document's are at hand."""
    tokens = doc.cache.get("semantic_tokens")
    if tokens is None and span is not None:
        return _range_tokens(doc, span)
    if tokens is None:
        tokens = _compute(doc)
        doc.cache["semantic_tokens"] = tokens
    if span is None:
        return tokens
    return [t for t in tokens if t.end >= span.start and t.start <= span.end]


def _range_tokens(doc, span: Span) -> list[Token]:
    text, analysis = doc.text, doc.analysis
    a, b = _lexing_region(text, analysis.module.statements if analysis is not None else (), span)
    refs = _refs_in(analysis.references if analysis is not None else (), a, b)
    return [Token(t.start + a, t.end + a, t.type, t.modifiers) for t in _lex(text, refs, a, b)
            if t.end + a >= span.start and t.start + a <= span.end]


def _begins_line(text: str, offset: int) -> bool:
    return offset == 0 or text[offset - 1] == "\n"


def _lexing_region(text: str, statements, span: Span) -> tuple[int, int]:
    """[a, b) around `span`, cut where top-level statements begin a line: no token spans such
    a place, so lexing the region gives the tokens the whole text has there."""
    # (a token that ends at `span.start` or begins at `span.end` overlaps it: a < span.start,
    # b > span.end)
    i = bisect.bisect_left(statements, span.start, key=_start_of) - 1
    while i >= 0 and not _begins_line(text, statements[i].span.start):
        i -= 1
    j = bisect.bisect_right(statements, span.end, key=_start_of)
    while j < len(statements) and not _begins_line(text, statements[j].span.start):
        j += 1
    a = statements[i].span.start if i >= 0 else 0
    b = statements[j].span.start if j < len(statements) else len(text)
    return a, b


def _refs_in(references, a: int, b: int) -> dict:
    """offset relative to `a` -> (symbol kind, is definition) or None, of the name occurrences
    (sorted by start) that begin in [a, b); a later occurrence at the same offset wins (as in
    `_compute`)."""
    refs = {}
    for r in references[bisect.bisect_left(references, a, key=_start_of):
                        bisect.bisect_left(references, b, key=_start_of)]:
        refs[r.span.start - a] = None if r.symbol is None else (r.symbol.kind, r.is_definition)
    return refs


def _static_classes() -> dict[str, tuple[int, int]]:
    """Words whose class does not depend on the analysis (reserved words win over the rest)."""
    lib = _M["defaultLibrary"]
    table: dict[str, tuple[int, int]] = {w: (_T["enumMember"], 0) for w in OPTION_VALUES}
    table.update({w: (_T["function"], lib) for w in families.builtin_names()})
    table.update({w: (_T["type"], lib) for w in families.type_constructors()})
    table.update({w: (_T["type"], lib) for w in families.family_names()})
    table.update({w: (_T["keyword"], 0) for w in families.reserved_words()})
    return table


def _compute(doc) -> list[Token]:
    analysis = doc.analysis
    refs = {}
    if analysis is not None:
        for r in analysis.references:  # a later occurrence at the same offset wins
            refs[r.span.start] = None if r.symbol is None else (r.symbol.kind, r.is_definition)
    return _lex(doc.text, refs)


def _lex(text: str, refs: dict, start: int = 0, end: Optional[int] = None) -> list[Token]:
    """One pass of LEXER over `text[start:end]`, the tokens' offsets (and those of `refs`)
    relative to `start`; the text before `start` still says whether a word begins its line
    (a tier-3 block head must). A word is, in order: a reserved word; whatever the analysis
    resolved it to (`refs`: offset -> (symbol kind, is definition) or None; the declaration
    modifier on definitions); an option/argument key when `=` follows; a family, constructor,
    builtin or option value; otherwise left to the client's syntax colouring."""
    end = len(text) if end is None else end
    static = _static_classes()
    keyword = _T["keyword"]
    by_kind = {kind: _T[name] for kind, name in KIND_TO_TYPE.items()}
    variable, prop, declaration = _T["variable"], _T["property"], _M["declaration"]
    fixed = {"block": (_T["comment"], 0), "comment": (_T["comment"], 0), "doc": (_T["comment"], _M["documentation"]),
             "number": (_T["number"], 0), "op": (_T["operator"], 0)}
    out: list[Token] = []
    append = out.append
    for m in LEXER.finditer(text, start, end):
        kind = m.lastgroup
        a, b = m.span()
        if kind == "opaque":
            _lex_block(text, a, b, start, refs, by_kind, fixed, append)
            continue
        if kind != "word":
            typ, mods = fixed[kind]
            append(Token(a - start, b - start, typ, mods))
            continue
        word = m.group()
        cls = static.get(word)
        if cls is not None and cls[0] == keyword:
            append(Token(a - start, b - start, keyword, 0))
            continue
        ref = refs.get(a - start)
        if ref is not None:
            append(Token(a - start, b - start, by_kind.get(ref[0], variable), declaration if ref[1] else 0))
            continue
        if word in SOFT_KEYWORDS and _first_on_line(text, a):
            append(Token(a - start, b - start, keyword, 0))  # `score n = e`, `composition real`
            continue
        j = b
        while j < end and text[j] in " \t":
            j += 1
        if j < end and text[j] == "=" and text[j + 1:min(j + 2, end)] != ">":
            append(Token(a - start, b - start, prop, 0))
        elif cls is not None:
            append(Token(a - start, b - start, cls[0], cls[1]))
    return out


# Words that are keywords only as the first word of a step or statement (spec part 2 §2.1).
SOFT_KEYWORDS = frozenset(("score", "composition"))


def _first_on_line(text: str, start: int) -> bool:
    i = start - 1
    while i >= 0 and text[i] in " \t":
        i -= 1
    return i < 0 or text[i] == "\n"


def _lex_block(text: str, start: int, end: int, base: int, refs: dict, by_kind: dict,
               fixed: dict, append) -> None:
    """The tokens of the tier-3 block `text[start:end]` (see BLOCK_KEYWORDS), their offsets
    (and those of `refs`) relative to `base`."""
    keyword, variable, declaration = _T["keyword"], _T["variable"], _M["declaration"]
    for m in BLOCK_LEXER.finditer(text, start, end):
        kind = m.lastgroup
        a, b = m.span()
        if kind == "string":
            continue
        if kind != "word":
            typ, mods = fixed[kind]
            append(Token(a - base, b - base, typ, mods))
        elif m.group() in BLOCK_KEYWORDS:
            append(Token(a - base, b - base, keyword, 0))
        else:
            ref = refs.get(a - base)
            if ref is not None:
                append(Token(a - base, b - base, by_kind.get(ref[0], variable), declaration if ref[1] else 0))


# ------------------------------------------------------------------ incremental encoding ----
def encoded(doc, encoder) -> list[int]:
    """The whole document's LSP token data, equal to ``encode(doc, semantic_tokens(doc), ...)``.

    After a keystroke the analysis engine has the name occurrences of every block of
    declarations (`Document.layout`, a `qvr.semantics.engine.Layout`), most of them replayed
    from earlier versions; each block's tokens are encoded relative to its first line once and
    kept in the block record's `memo`, and the document's data is the blocks' data stitched
    together. So a keystroke costs the edited block, not a lexing pass over the file and a full
    analysis. Without a layout for its text (the version's diagnostics came from the full
    analysis, or the engine's run failed) the regions are runs of the analysis' statements."""
    return finish(encoded_steps(doc, encoder))


# Blocks of declarations (or statements) encoded, or regions stitched, per step of
# `encoded_steps` (a few milliseconds each).
STEP_REGIONS = 64


def encoded_steps(doc, encoder):
    """`encoded` as a generator (`qvr.stepwise`): it yields every `STEP_REGIONS` regions, so
    the server makes the tokens of a file of megabytes (seconds) between other messages."""
    if doc.layout is None:
        doc.diagnostic_runs  # the incremental run (normally done already, for publishing)
    layout = doc.layout
    text = doc.text
    if layout is None or layout.text is not text:
        regions = yield from _statement_regions(doc, encoder)
        return (yield from _stitch_steps(text, doc.line_index.line_starts, regions, encoder))
    regions = []  # (offset, data, last line, last column), in text order
    at = 0
    key = ("tokens", encoder.encoding)
    for count, placed in enumerate(layout.blocks, 1):
        if not count % STEP_REGIONS:
            yield
        origin, record = placed.origin, placed.record
        if origin > at:
            regions.append((at,) + _encode_region(text, at, origin, {}, encoder))
        found = record.memo.get(key)
        if found is None:
            refs = {}
            for start, kind, is_def in record.refs:
                refs[start] = None if kind is None else (kind, is_def)
            # (whether the block begins its line is part of its key: the memo stays right)
            found = record.memo[key] = _encode_region(text, origin, origin + record.end, refs, encoder)
        regions.append((origin,) + found)
        at = origin + record.end
    if at < len(text):
        regions.append((at,) + _encode_region(text, at, len(text), {}, encoder))
    yield
    return (yield from _stitch_steps(text, doc.line_index.line_starts, regions, encoder))


def _start_of(node) -> int:
    """Sort key of statements and name occurrences: where their span starts."""
    return node.span.start


def _statement_regions(doc, encoder):
    """The regions of the whole-text path: the text cut where a top-level statement begins a
    line (no token spans such a place), `STEP_REGIONS` statements to a region, each lexed with
    the analysis' name occurrences inside it (as generator: a region per step)."""
    text, analysis = doc.text, doc.analysis
    refs_all = analysis.references if analysis is not None else ()  # (by start)
    statements = analysis.module.statements if analysis is not None else ()
    cuts = sorted({d.span.start for d in statements[::STEP_REGIONS]
                   if 0 < d.span.start < len(text) and _begins_line(text, d.span.start)})
    regions = []
    for a, b in zip([0, *cuts], [*cuts, len(text)]):
        regions.append((a,) + _encode_region(text, a, b, _refs_in(refs_all, a, b), encoder))
        yield
    return regions


class _Region:
    """A piece of the text, shaped like a document for the encoders (its columns count from
    the piece's start on its first line; `_stitch_steps` adds the rest)."""

    __slots__ = ("text", "line_index")

    def __init__(self, text: str):
        self.text = text
        self.line_index = LineIndex(text)


def _encode_region(text: str, start: int, end: int, refs: dict, encoder) -> tuple[list[int], int, int]:
    """Of the region `text[start:end]`: (data relative to its first line, line and column of
    its last token)."""
    data = encode(_Region(text[start:end]), _lex(text, refs, start, end), encoder)
    line = col = 0
    for i in range(0, len(data), 5):
        if data[i]:
            line += data[i]
            col = data[i + 1]
        else:
            col += data[i + 1]
    return data, line, col


def _stitch_steps(text: str, line_starts: list[int], regions, encoder):
    """The regions' data as one document's (a generator: it yields every `STEP_REGIONS`
    regions): each region's first token is re-expressed relative to the previous region's
    last one. A region that starts inside a line (a chunk after a `where` binding's
    indentation) has its first line's columns moved by the width of the text before it on
    that line."""
    out: list[int] = []
    prev_line = prev_col = 0
    for count, (offset, data, last_line, last_col) in enumerate(regions, 1):
        if not count % STEP_REGIONS:
            yield
        if not data:
            continue
        first_line = bisect.bisect_right(line_starts, offset) - 1
        line_start = line_starts[first_line]
        shift = encoder.length(text[line_start:offset]) if offset > line_start else 0
        n = len(out)
        out.extend(data)
        line = first_line + data[0]
        col = data[1] + (shift if data[0] == 0 else 0)
        if line == prev_line:
            out[n], out[n + 1] = 0, col - prev_col
        else:
            out[n], out[n + 1] = line - prev_line, col
        prev_line = first_line + last_line
        prev_col = last_col + (shift if last_line == 0 else 0)
    return out


def encode(doc, tokens: list[Token], encoder) -> list[int]:
    """LSP's relative integer encoding; multi-line tokens (block comments) are split per line."""
    if doc.text.isascii():  # every encoding counts ASCII the same: walk the lines once
        return _encode_ascii(doc.text, doc.line_index.line_starts, tokens)
    return _encode_general(doc, tokens, encoder)


def _encode_general(doc, tokens: list[Token], encoder) -> list[int]:
    data: list[int] = []
    index = doc.line_index
    text = doc.text
    prev_line, prev_col = 0, 0
    for tok in tokens:
        start = tok.start
        while start < tok.end:
            nl = text.find("\n", start, tok.end)
            end = tok.end if nl < 0 else nl
            if end > start:
                line, col = encoder.to_lsp(index, start)
                length = encoder.length(text[start:end])
                delta_line = line - prev_line
                delta_col = col - prev_col if delta_line == 0 else col
                data.extend((delta_line, delta_col, length, tok.type, tok.modifiers))
                prev_line, prev_col = line, col
            start = end + 1 if nl >= 0 else tok.end
    return data


def _encode_ascii(text: str, line_starts: list[int], tokens: list[Token]) -> list[int]:
    data: list[int] = []
    extend = data.extend
    # (the first token's line found at once: a range request's tokens may begin anywhere)
    line = bisect.bisect_right(line_starts, tokens[0].start) - 1 if tokens else 0
    nlines = len(line_starts)
    prev_line = prev_col = 0
    for start, end, typ, mods in tokens:
        while True:
            while line + 1 < nlines and line_starts[line + 1] <= start:
                line += 1
            nl = text.find("\n", start, end)
            stop = end if nl < 0 else nl
            if stop > start:
                col = start - line_starts[line]
                extend((line - prev_line, col - prev_col if line == prev_line else col, stop - start, typ, mods))
                prev_line, prev_col = line, col
            if nl < 0:
                break
            start = nl + 1
    return data


def delta(previous: list[int], current: list[int]) -> tuple[int, int, list[int]]:
    """One edit turning `previous` into `current`: (start, delete count, data to insert), with the
    common prefix and suffix left out (LSP semanticTokens/full/delta). Starts are kept at token
    boundaries (multiples of 5) so clients that splice per token are happy too."""
    a = common_prefix(previous, current)
    a -= a % 5
    limit = min(len(previous), len(current)) - a
    b = min(common_prefix(previous[::-1], current[::-1]), limit)
    b -= b % 5
    return a, len(previous) - a - b, current[a: len(current) - b]
