"""The QVR formatter: canonical layout and spacing, every comment kept, meaning unchanged.

`format_text(text)` re-emits the module's tokens in their original order and changes only
the whitespace between them, so it cannot change what the program means and never migrates
syntax (deprecated forms stay as written; migration is a separate code action).

Layout:
* one statement per line, program steps indented 4 spaces;
* `where` bindings (spec §3.3) indented 4 spaces per nesting level, grouped exactly as the
  checker groups them from the original columns, so the grouping survives formatting;
* at most one blank line where the source had one or more; none at the start; one final
  newline;
* canonical spacing: one space around `:` `->` `<-` `>>` `<<` `>=>` `~` `@` `*` `+` `/` `\\`
  `=>` `|-` `⊢` and binary `-`, around `=` at statement level, but none around `=` inside
  brackets (`[scale=0.1]`, `Normal(loc=mu)`, `{low=0.0}`); none before `,` and one after;
  none inside brackets; none after a unary `-`; `f(x)` and `head[4]` stay tight.

Current forms (spec part 2): a tier-3 opaque block is reproduced byte for byte (it is one
token); the steps of a `marginalize` body are indented 4 more than the block's keyword, per
nesting level, so the body survives formatting; indexing `v[i]` and `Mor[A, B]` stay tight.

Comments: a comment on its own line stays on its own line (indented like the statement or
step that follows it); a comment after code stays at the end of that line (two spaces before
it); a block comment between tokens of a line stays inline. Text after a line comment that
continues the same statement goes on a continuation line, indented 4 more.

Text with syntax errors is refused with `QvrSyntaxError` (its `.diagnostics` say why).
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from ..errors import QvrSyntaxError
from ..syntax import ast as A
from ..syntax import parse_module
from ..syntax.span import normalize
from ..syntax.vocabulary import EXPRESSION_KEYWORDS, RESERVED

INDENT = "    "

_TOKEN = re.compile(
    r"(?P<ws>[ \t\f\n\ufeff]+)"
    r"|(?P<comment>#\{.*?\}#|#[^\n]*)"
    r"|(?P<number>[0-9]+\.[0-9]+(?:[eE][+-]?[0-9]+)?|[0-9]+[eE][+-]?[0-9]+"
    r"|\.[0-9]+(?:[eE][+-]?[0-9]+)?|[0-9]+\.(?![\w.])|[0-9]+)"
    r"|(?P<word>(?!\d)\w+)"
    r"|(?P<op>>=>|->|<-|>>|<<|=>|\|-|⊢|[~@*+\-/\\=:.,()\[\]{}])",
    re.S,
)

# Operators written with one space on each side.
_SPACED = frozenset({":", "->", "<-", ">>", "<<", ">=>", "~", "@", "*", "+", "/", "\\", "=>",
                     "|-", "⊢"})
_OPENERS = frozenset({"(", "[", "{"})
_CLOSERS = frozenset({")", "]", "}"})
# After these a `-` is a sign, not a subtraction.
_CALL_KEYWORDS = frozenset(EXPRESSION_KEYWORDS)
_REPLICABLE = frozenset({"continuous", "stochastic", "embed"})


@dataclass(slots=True)
class _Tok:
    kind: str  # word | number | op | comment
    text: str
    start: int
    end: int
    own_line: bool  # first token on its source line
    blank_before: bool  # a blank line separates it from the previous token
    unary: bool = False  # a `-` used as a sign


def _tokens(text: str, opaque=()) -> list[_Tok]:
    """The tokens of `text`; each `(start, end)` range of `opaque` (tier-3 blocks, in order)
    is one token of kind ``opaque`` holding the block's text."""
    out: list[_Tok] = []
    last_end = 0
    line_has_code = False
    segments = []
    at = 0
    for start, end in opaque:
        segments.append((at, start, None))
        segments.append((start, end, "opaque"))
        at = end
    segments.append((at, len(text), None))
    for seg_start, seg_end, special in segments:
        if special is not None:
            newlines = text[last_end:seg_start].count("\n")
            out.append(_Tok(special, text[seg_start:seg_end], seg_start, seg_end, True,
                            bool(out) and newlines >= 2))
            line_has_code = True
            last_end = seg_end
            continue
        for m in _TOKEN.finditer(text, seg_start, seg_end):
            kind = m.lastgroup
            if kind == "ws":
                continue
            gap = text[last_end:m.start()]
            newlines = gap.count("\n")
            if newlines or not out:
                line_has_code = False
            out.append(_Tok(kind, m.group(), m.start(), m.end(), not line_has_code,
                            bool(out) and newlines >= 2))
            line_has_code = True
            last_end = m.end()
    return out


def _tight_brackets(statements) -> set:
    """End offsets of the names before the `[` of indexing (`beta[i]`) and of `Mor[A, B]`
    kinds: no space between the name and the bracket."""
    return {node.name.span.end for node in A.nodes(tuple(statements))
            if node.__class__ is A.Index or node.__class__ is A.KindMor}


def _where_levels(text: str, statements) -> dict[int, int]:
    """Start offset -> nesting level of every `where` binding, grouped from the source
    columns exactly as spec §3.3 (and the checker) groups them."""
    levels: dict[int, int] = {}
    n = len(statements)

    def column(decl) -> int:
        start = decl.keyword.span.start
        return start - (text.rfind("\n", 0, start) + 1)

    def take(i: int) -> int:
        """Level every binding of the `where` at statement `i`; the index after them. The
        owners whose bindings are being taken are on a stack, not the call stack: `where`
        bindings can nest thousands deep."""
        owners = [(column(statements[i]), 0)]  # (keyword column, level) of each open owner
        j = i + 1
        while owners:
            owner_col, level = owners[-1]
            if j < n and isinstance(statements[j], A.DefineDecl) \
                    and column(statements[j]) > owner_col:
                levels[statements[j].span.start] = level + 1
                if statements[j].where is not None:
                    owners.append((column(statements[j]), level + 1))
                j += 1
            else:
                owners.pop()
        return j

    i = 0
    while i < n:
        stmt = statements[i]
        if isinstance(stmt, A.DefineDecl) and stmt.where is not None:
            i = take(i)
        else:
            i += 1
    return levels


class _Writer:
    """Accumulates output lines with the spacing rules of the module docstring."""

    def __init__(self, tight=frozenset()):
        self.tight = tight  # ends of names that a `[` follows without a space
        self.lines: list[str] = []
        self.parts: list[str] = []
        self.indent = ""
        self.prev: _Tok | None = None  # previous token on the current output line
        self.prev2: _Tok | None = None  # the one before it
        self.depth = 0  # bracket depth within the current statement

    def flush(self):
        if self.parts:
            self.lines.append(self.indent + "".join(self.parts).rstrip())
            self.parts = []
        self.prev = self.prev2 = None

    def blank(self):
        if self.lines and self.lines[-1] != "":
            self.lines.append("")

    def start_line(self, indent: str):
        self.flush()
        self.indent = indent

    def raw_line(self, indent: str, text: str):
        self.flush()
        self.lines.append(indent + text)

    def add(self, tok: _Tok, last_code: _Tok | None):
        if tok.text == "-":
            # A sign when it follows an operator or an opening bracket (or starts a line).
            tok.unary = last_code is None or (last_code.kind == "op"
                                              and last_code.text not in _CLOSERS)
        if self.parts:
            self.parts.append(" " if self._space(self.prev, tok) else "")
        self.parts.append(tok.text)
        if tok.kind == "op":
            if tok.text in _OPENERS:
                self.depth += 1
            elif tok.text in _CLOSERS:
                self.depth = max(0, self.depth - 1)
        self.prev2, self.prev = self.prev, tok

    def _space(self, prev: _Tok, tok: _Tok) -> bool:
        p, t = prev.text, tok.text
        if prev.kind == "comment" or tok.kind == "comment":
            return True
        if t == "," or t in _CLOSERS or p in _OPENERS or p == "." or t == ".":
            return False
        if p == "=" or t == "=":
            return self.depth == 0
        if p == "-" and prev.unary:
            return False
        if t == "(":
            # calls stay tight: `f(x)`, `scan(c)`, `program p(x)`; `sample (a, b)` does not
            return not ((prev.kind == "word" and (p not in RESERVED or p in _CALL_KEYWORDS))
                        or p in _CLOSERS)
        if t == "[":
            # replication `head[4]` right after the declared name stays tight, and so do
            # indexing and `Mor[A, B]`
            if prev.end in self.tight:
                return False
            return not (prev.kind == "word" and self.prev2 is not None
                        and self.prev2.text in _REPLICABLE)
        return True


def format_text(text: str, parsed=None) -> str:
    """The formatted module; raises `QvrSyntaxError` if `text` has syntax errors. `parsed`:
    the `ParseResult` of `text` (normalised) when the caller has it: nothing is parsed then
    (the language server formats in its worker thread, where the parser's memo is not used)."""
    if parsed is None:
        text = normalize(text)
        parsed = parse_module(text)
    if parsed.diagnostics:
        first = parsed.diagnostics[0]
        raise QvrSyntaxError(f"cannot format: {first.code} {first.message}",
                             parsed.diagnostics)
    statements = parsed.module.statements
    levels = _where_levels(text, statements)
    unit_indent: dict[int, str] = {}
    for stmt in statements:
        unit_indent[stmt.span.start] = INDENT * levels.get(stmt.span.start, 0)
        if isinstance(stmt, A.ProgramDecl):
            _step_indents(stmt.steps, 1, unit_indent)
            unit_indent[stmt.ret.span.start] = INDENT

    opaque = [(s.span.start, s.span.end) for s in statements if s.__class__ is A.OpaqueDecl]
    tokens = _tokens(text, opaque)
    next_code = _next_code_tokens(tokens)
    out = _Writer(_tight_brackets(statements))
    indent = ""  # indentation of the current statement or step
    last_code = None  # the previous non-comment token (decides whether `-` is a sign)
    for i, tok in enumerate(tokens):
        if tok.kind != "comment":
            prev_code, last_code = last_code, tok
        else:
            prev_code = last_code
        if tok.kind == "opaque":  # a tier-3 block, byte for byte
            out.start_line("")
            if tok.blank_before:
                out.blank()
            out.lines.extend(tok.text.split("\n"))
            indent, last_code = "", None
            continue
        if tok.start in unit_indent:
            indent = unit_indent[tok.start]
            out.start_line(indent)
            out.depth = 0
            if tok.blank_before:
                out.blank()
            out.add(tok, prev_code)
            continue
        if tok.kind == "comment":
            if tok.own_line:
                # Indented like the statement or step it precedes; inside a statement it
                # starts a continuation line.
                nxt = next_code[i]
                inside = nxt is not None and nxt.start not in unit_indent
                if nxt is None:
                    c_indent = ""
                elif inside:
                    c_indent = indent + INDENT
                else:
                    c_indent = unit_indent[nxt.start]
                out.flush()
                if tok.blank_before:
                    out.blank()
                out.raw_line(c_indent, tok.text)
                if inside:
                    out.start_line(indent + INDENT)
                continue
            is_line_comment = not tok.text.startswith("#{")
            if is_line_comment or _ends_source_line(text, tok.end):
                if out.parts:
                    out.parts.append("  " + tok.text)
                    out.flush()
                else:
                    out.raw_line(indent, tok.text)
                out.start_line(indent + INDENT)
                continue
            out.add(tok, prev_code)
            continue
        if not out.parts and tok.blank_before:
            out.blank()
        out.add(tok, prev_code)
    out.flush()
    lines = out.lines
    while lines and lines[-1] == "":
        lines.pop()
    return "\n".join(lines) + "\n" if lines else ""


def _step_indents(steps, level: int, unit_indent: dict) -> None:
    """Indentation of program steps: `level` steps of 4, one more inside each `marginalize`
    body (an explicit stack: bodies may nest)."""
    todo = [(steps, level)]
    while todo:
        group, lvl = todo.pop()
        for step in group:
            unit_indent[step.span.start] = INDENT * lvl
            if step.__class__ is A.MarginalizeStep and step.body:
                todo.append((step.body, lvl + 1))


def _next_code_tokens(tokens: list[_Tok]) -> list:
    """For each token index, the next non-comment token after it (None at the end)."""
    out: list = [None] * len(tokens)
    following = None
    for i in range(len(tokens) - 1, -1, -1):
        out[i] = following
        if tokens[i].kind != "comment":
            following = tokens[i]
    return out


def _ends_source_line(text: str, end: int) -> bool:
    nl = text.find("\n", end)
    rest = text[end:] if nl < 0 else text[end:nl]
    return not rest.strip()
