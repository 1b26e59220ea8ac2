"""Semantic tokens: a lexical scan of the text, with identifiers classified by the Analysis
(what each name resolves to) and the vocabulary (families, builtins, constructors)."""
from __future__ import annotations

import re
from typing import NamedTuple, Optional

from qvr.syntax.span import Span

from . import families

TOKEN_TYPES = (
    "keyword", "type", "function", "variable", "parameter", "property", "number", "comment",
    "operator", "namespace", "enumMember", "macro",
)
TOKEN_MODIFIERS = ("declaration", "documentation", "defaultLibrary", "deprecated", "readonly")
_T = {name: i for i, name in enumerate(TOKEN_TYPES)}
_M = {name: 1 << i for i, name in enumerate(TOKEN_MODIFIERS)}

KIND_TO_TYPE = {
    "object": "type", "morphism": "function", "program": "function", "define": "function",
    "category": "namespace", "quantale": "namespace", "rule": "macro",
    "parameter": "parameter", "variable": "variable", "rule_variable": "parameter",
}
OPTION_VALUES = {"kernel", "deterministic", "affine", "mlp", "zeros", "learned", "last", "all", "forward", "backward"}

LEXER = re.compile(
    r"(?P<block>#\{[\s\S]*?(?:\}#|\Z))"
    r"|(?P<doc>#![^\n]*)"
    r"|(?P<comment>#[^\n]*)"
    r"|(?P<number>(?:\d+\.\d+|\d+\.(?![\w.])|\.\d+|\d+)(?:[eE][+-]?\d+)?)"
    r"|(?P<word>\w+)"
    r"|(?P<op>>=>|->|<-|>>|<<|=>|\|-|⊢|[~@*+\-/\\=])"
)


class Token(NamedTuple):
    """One token: [start, end) in code points, index into TOKEN_TYPES, modifier bit set.
    (A tuple, not a dataclass with a Span: large files have hundreds of thousands of them.)"""

    start: int
    end: int
    type: int
    modifiers: int


def semantic_tokens(doc, span: Optional[Span] = None) -> list[Token]:
    tokens = doc.cache.get("semantic_tokens")
    if tokens is None:
        tokens = _compute(doc)
        doc.cache["semantic_tokens"] = tokens
    if span is None:
        return tokens
    return [t for t in tokens if t.end >= span.start and t.start <= span.end]


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
    """One pass of LEXER over the text. A word is, in order: a reserved word; whatever the
    analysis resolved it to (declaration modifier on definitions); an option/argument key when
    `=` follows; a family, constructor, builtin or option value; otherwise left to the client's
    syntax colouring."""
    text = doc.text
    analysis = doc.analysis
    refs = {r.span.start: r for r in analysis.references} if analysis is not None else {}
    static = _static_classes()
    keyword = _T["keyword"]
    by_kind = {kind: _T[name] for kind, name in KIND_TO_TYPE.items()}
    variable, prop, declaration = _T["variable"], _T["property"], _M["declaration"]
    fixed = {"block": (_T["comment"], 0), "comment": (_T["comment"], 0), "doc": (_T["comment"], _M["documentation"]),
             "number": (_T["number"], 0), "op": (_T["operator"], 0)}
    out: list[Token] = []
    append = out.append
    n = len(text)
    for m in LEXER.finditer(text):
        kind = m.lastgroup
        start, end = m.span()
        if kind != "word":
            typ, mods = fixed[kind]
            append(Token(start, end, typ, mods))
            continue
        word = m.group()
        cls = static.get(word)
        if cls is not None and cls[0] == keyword:
            append(Token(start, end, keyword, 0))
            continue
        ref = refs.get(start)
        if ref is not None and ref.symbol is not None:
            append(Token(start, end, by_kind.get(ref.symbol.kind, variable), declaration if ref.is_definition else 0))
            continue
        j = end
        while j < n and text[j] in " \t":
            j += 1
        if j < n and text[j] == "=" and text[j + 1: j + 2] != ">":
            append(Token(start, end, prop, 0))
        elif cls is not None:
            append(Token(start, end, cls[0], cls[1]))
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
    line, nlines = 0, len(line_starts)
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


def _common_prefix(a: list[int], b: list[int]) -> int:
    """Length of the common prefix, compared block by block (slice equality runs in C)."""
    n = min(len(a), len(b))
    i, block = 0, 4096
    while block:
        while i + block <= n and a[i:i + block] == b[i:i + block]:
            i += block
        block //= 8
    while i < n and a[i] == b[i]:
        i += 1
    return i


def delta(previous: list[int], current: list[int]) -> tuple[int, int, list[int]]:
    """One edit turning `previous` into `current`: (start, delete count, data to insert), with the
    common prefix and suffix left out (LSP semanticTokens/full/delta). Starts are kept at token
    boundaries (multiples of 5) so clients that splice per token are happy too."""
    a = _common_prefix(previous, current)
    a -= a % 5
    limit = min(len(previous), len(current)) - a
    b = min(_common_prefix(previous[::-1], current[::-1]), limit)
    b -= b % 5
    return a, len(previous) - a - b, current[a: len(current) - b]
