"""Turns lark parse failures into located, human-worded diagnostics (QVR001–QVR005).

lark reports an `UnexpectedToken` with the set of terminal *names* it would have accepted
(``__ANON_0``, ``RSQB``, ``NAME``...). Users need "expected `->` after the domain of `cell`"
instead, so this module

* renders terminal names as the text the user would type (string terminals) or a phrase
  (``NAME`` → "a name"), collapsing well-known groups ("a declaration", "a step or
  `return`");
* re-lexes the chunk up to the offending token to find the context: the declaration being
  written (keyword and name), the innermost unclosed bracket and what it opened (option
  list, parameter list, argument list...), and whether we are inside a program body;
* reports a reserved word found where a name was expected as QVR004.

Nothing here raises: every failure becomes a `Diagnostic`.

lark is imported only when a failure is worded (valid text never gets here), so that importing
`qvr.syntax` and parsing valid text stay lark-free.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Optional

from ..diagnostics import Diagnostic, Severity
from .parser import _lock, error_parser, terminal_patterns
from .span import Span
from .vocabulary import RESERVED, STATEMENT_KEYWORDS

if TYPE_CHECKING:
    from lark import Token
    from lark.exceptions import UnexpectedInput, UnexpectedToken

_PATTERNS = terminal_patterns()

_PHRASES = {
    "NAME": "a name",
    "INT": "an integer",
    "FLOAT": "a number",
    "COMPOSE": "`>>`",
    "RULE_ARROW": "`|-`",
    "$END": "end of file",
}

_STATEMENT_TERMINALS = frozenset(k.upper() for k in STATEMENT_KEYWORDS)
_STEP_TERMINALS = frozenset({"DRAW", "SAMPLE", "OBSERVE", "LET", "RETURN"})
_EXPRESSION_TERMINALS = frozenset({"IDENTITY", "FAN", "REPEAT", "STACK", "SCAN", "PARSER",
                                   "CCG", "LAMBEK"})
_ARITH_TERMINALS = frozenset({"NAME", "INT", "FLOAT", "LPAR", "LSQB", "MINUS"})
_STEP_WORDS = frozenset({"draw", "sample", "observe", "return"})
_CLOSERS = {"LPAR": "RPAR", "LSQB": "RSQB", "LBRACE": "RBRACE"}
_DECL_KEYWORDS = frozenset(STATEMENT_KEYWORDS)


def error(code: str, message: str, span: Span) -> Diagnostic:
    return Diagnostic(code, Severity.ERROR, message, span)


def _show_terminal(name: str) -> str:
    if name in _PHRASES:
        return _PHRASES[name]
    pattern = _PATTERNS.get(name)
    if pattern is not None:
        return f"`{pattern}`"
    return name.lower()


def describe_expected(expected) -> str:
    """A readable list of what the parser would have accepted."""
    names = set(expected)
    parts: list[str] = []
    if _STEP_TERMINALS <= names and "PROGRAM" not in names:
        parts.append("a step or `return`")
        names -= _STEP_TERMINALS
        names.discard("NAME")  # a bare `x <- ...` step starts with a name
    declaration = _STATEMENT_TERMINALS - {"LET"} <= names
    if declaration:
        names -= _STATEMENT_TERMINALS
        names.discard("$END")
        # a statement may also start with a name (`composition real`) or an opaque block
        names -= {"NAME", "OPAQUE_BLOCK"}
    if {"EMBED", "LATENT", "OBSERVED", "DISCRETIZE"} <= names:
        parts.append("an option value")
        names -= {"EMBED", "LATENT", "OBSERVED", "DISCRETIZE", "NAME", "INT", "FLOAT", "MINUS",
                  "LSQB"}
    if _EXPRESSION_TERMINALS <= names:
        parts.append("a morphism expression")
        names -= _EXPRESSION_TERMINALS | {"NAME", "LPAR"}
    elif _ARITH_TERMINALS <= names:
        parts.append("an expression")
        names -= _ARITH_TERMINALS | {"FACTOR"}  # `let x = factor …` is an expression too
    elif names in ({"NAME", "INT", "LPAR"}, {"NAME", "INT", "LPAR", "LBRACE"}):
        parts.append("a type")  # `{a, b}` is an enumerated object
        names = set()
    if {"INT", "FLOAT"} <= names:
        parts.append("a number")
        names -= {"INT", "FLOAT"}
    order = sorted(names, key=lambda n: (n not in ("NAME", "INT", "FLOAT"),
                                         _show_terminal(n)))
    parts.extend(_show_terminal(n) for n in order if n != "$END")
    if "$END" in names:
        parts.append("end of file")
    if declaration:
        parts.append("a declaration")
    if not parts:
        return "something else"
    if len(parts) > 6:
        parts = parts[:5] + ["..."]
    if len(parts) == 1:
        return parts[0]
    return ", ".join(parts[:-1]) + " or " + parts[-1]


def _show_token(tok: Token, at_eof: bool) -> str:
    if tok.type == "$END":
        # A chunk ends where the next declaration starts (qvr.syntax.lexical).
        return "end of file" if at_eof else "the next declaration"
    return f"`{tok.value}`"


def _prefix_tokens(text: str, end: int) -> list[Token]:
    """Tokens of text[:end] (the part that lexed fine before the error)."""
    from lark.exceptions import UnexpectedInput

    out = []
    try:
        for tok in error_parser().lex(text[:end]):
            out.append(tok)
    except UnexpectedInput:
        pass
    return out


class _Context:
    """What the user was writing when the parse failed."""

    def __init__(self, tokens: list[Token]):
        self.keyword: Optional[str] = None
        self.name: Optional[str] = None
        self.in_program = False
        self.program_name: Optional[str] = None
        self.after_arrow = False
        self.open: Optional[tuple[Token, Optional[Token], Optional[Token]]] = None
        self.last = tokens[-1] if tokens else None
        # The declaration: the last top-level statement keyword and the name after it.
        stack: list[tuple[Token, Optional[Token], Optional[Token]]] = []
        for i, tok in enumerate(tokens):
            kind = tok.type
            if tok.value in _DECL_KEYWORDS and kind != "NAME" and not stack and not (
                    self.in_program and kind == "LET"):
                self.keyword = tok.value
                nxt = tokens[i + 1] if i + 1 < len(tokens) else None
                self.name = nxt.value if nxt is not None and nxt.type == "NAME" else None
                self.in_program = kind == "PROGRAM"
                self.program_name = self.name if self.in_program else None
                self.after_arrow = False
            elif kind == "RETURN":
                self.in_program = False
            elif kind == "__ANON_0" and not stack:  # `->` of the signature
                self.after_arrow = True
            if kind in _CLOSERS:
                before = tokens[i - 1] if i > 0 else None
                after = tokens[i + 1] if i + 1 < len(tokens) else None
                stack.append((tok, before, after))
            elif kind in ("RPAR", "RSQB", "RBRACE") and stack:
                stack.pop()
        self.open = stack[-1] if stack else None

    def subject(self) -> str:
        if self.keyword is None:
            return ""
        if self.name:
            return f"{self.keyword} `{self.name}`"
        return f"the `{self.keyword}` statement"

    def bracket_role(self) -> str:
        """What the innermost unclosed bracket opened, in words."""
        opener, before, after = self.open
        kind = opener.type
        if kind == "LSQB":
            if before is not None and before.type == "NAME" and before.value == self.name \
                    and not self.after_arrow:
                return "the replication count"
            if self.after_arrow or (before is not None and before.type in ("RPAR", "NAME")
                                    and after is not None and after.type == "NAME"):
                return "the option list"
            return "the list"
        if kind == "LBRACE":
            return "the constructor options"
        if before is not None and before.type == "NAME" and before.value == self.name \
                and self.keyword == "program":
            return "the parameter list"
        if before is not None and before.type == "RETURN":
            return "the returned tuple"
        if before is not None and before.type in ("SAMPLE", "DRAW", "OBSERVE"):
            return "the pattern"
        if before is not None and before.type in ("NAME", "SCAN", "FAN", "REPEAT", "STACK",
                                                  "IDENTITY", "PARSER", "CCG", "LAMBEK",
                                                  "MARGINALIZE"):
            return f"the arguments of `{before.value}`"
        return "the parenthesis"


def _context_phrase(ctx: _Context, expected: set[str], found: Token) -> str:
    closer_names = {"RPAR": "`)`", "RSQB": "`]`", "RBRACE": "`}`"}
    if ctx.open is not None:
        closer = _CLOSERS[ctx.open[0].type]
        if closer in expected:
            others = sorted(_show_terminal(n) for n in expected - {closer})
            if others == ["`,`"]:  # "expected `]` to close the option list" says enough
                others = []
            items = (others if len(others) <= 2 else []) + [closer_names[closer]]
            listed = items[0] if len(items) == 1 else ", ".join(items[:-1]) + " or " + items[-1]
            return f"expected {listed} to close {ctx.bracket_role()}"
    if "__ANON_0" in expected and ctx.keyword and not ctx.after_arrow:
        if len(expected - {"STAR", "PLUS"}) <= 1:
            name = f"`{ctx.name}`" if ctx.name else ctx.subject()
            return f"expected `->` after the domain of {name}"
    statement_next = _STATEMENT_TERMINALS - {"LET"} <= expected  # (a name may start one too)
    if found.value in _STEP_WORDS and not ctx.in_program and ("NAME" not in expected
                                                              or statement_next):
        return (f"expected {describe_expected(expected)}, found `{found.value}` (steps "
                f"belong in a `program` body)", True)
    if ctx.in_program and "RETURN" in expected and ctx.program_name:
        if found.type == "$END" or found.value in _DECL_KEYWORDS:
            return None  # reported as QVR005 by the caller
        return f"expected a step or `return` in program `{ctx.program_name}`"
    if ctx.open is None:  # a closer nothing opened is never what the user meant
        expected = expected - {"RPAR", "RSQB", "RBRACE"}
    described = f"expected {describe_expected(expected)}"
    if ctx.keyword:
        return f"{described} in {ctx.subject()}"
    return described


def diagnostics_for(exc: UnexpectedInput, text: str, offset: int, at_eof: bool = True
                    ) -> list[Diagnostic]:
    """Worded diagnostics for a lark failure while parsing `text` (absolute `offset`)."""
    from lark.exceptions import UnexpectedCharacters, UnexpectedToken

    if isinstance(exc, UnexpectedCharacters):
        pos = exc.pos_in_stream
        ch = text[pos] if pos < len(text) else ""
        if ch and (ch.isspace() or not ch.isprintable()):
            ch = f"U+{ord(ch):04X}"  # an invisible character: name it
        return [error("QVR001", f"unexpected character `{ch}`",
                      Span(offset + pos, offset + pos + 1))]
    if isinstance(exc, UnexpectedToken):
        tok = exc.token
        expected = _acceptable(exc)
        if tok.type == "$END":
            pos = len(text.rstrip())
            span = Span(offset + pos, offset + pos)
        else:
            span = Span(offset + tok.start_pos, offset + tok.end_pos)
            pos = tok.start_pos
        if tok.type != "$END" and tok.value in RESERVED and "NAME" in expected \
                and _used_as_name(text, pos, tok):
            return [error("QVR004",
                          f"`{tok.value}` is a reserved word and cannot be used as a name",
                          span)]
        ctx = _Context(_prefix_tokens(text, pos))
        phrase = _context_phrase(ctx, expected, tok)
        if isinstance(phrase, tuple):  # a complete message
            return [error("QVR002", f"syntax error: {phrase[0]}", span)]
        if phrase is None:
            name_tok = _program_name_span(text)
            return [error("QVR005", f"program `{ctx.program_name}` has no `return` step",
                          Span(offset + name_tok[0], offset + name_tok[1]))]
        return [error("QVR002", f"syntax error: {phrase}, found {_show_token(tok, at_eof)}", span)]
    # Any other lark error (should not happen with the LALR frontend): still located.
    pos = getattr(exc, "pos_in_stream", 0) or 0
    return [error("QVR002", f"syntax error: {exc.__class__.__name__}",
                  Span(offset + pos, offset + pos))]


_NAME_SLOT_BEFORE = frozenset(
    {k.upper() for k in STATEMENT_KEYWORDS} | {"DRAW", "SAMPLE", "OBSERVE", "COMMA", "LPAR",
                                               "LSQB", "COLON"})
_STRUCTURAL = frozenset(STATEMENT_KEYWORDS) | {"draw", "sample", "observe", "return", "where"}


def _used_as_name(text: str, pos: int, tok: Token) -> bool:
    """Whether a reserved word sits where the user meant a name (QVR004) rather than being a
    statement or step keyword that arrived too early (QVR002: something is missing)."""
    if tok.value not in _STRUCTURAL:
        return True
    prefix = _prefix_tokens(text, pos)
    return bool(prefix) and prefix[-1].type in _NAME_SLOT_BEFORE


def _acceptable(exc: UnexpectedToken) -> set[str]:
    """The terminals that could really come next. lark's `expected` comes from the LALR
    state's lookaheads, which state merging makes too broad (`object T : 3 ]` would list
    `->` and `<-`); simulating each terminal on a copy of the parser is exact."""
    parser = getattr(exc, "interactive_parser", None)
    if parser is not None:
        with _lock:
            try:
                accepted = set(parser.accepts())
            except Exception:  # pragma: no cover - fall back to lark's approximation
                accepted = set()
        if accepted:
            return accepted
    return set(exc.expected)


def _program_name_span(text: str) -> tuple[int, int]:
    """Span of the name after the first `program` keyword (QVR005's range)."""
    tokens = _prefix_tokens(text, len(text))
    for i, tok in enumerate(tokens):
        if tok.type == "PROGRAM":
            if i + 1 < len(tokens) and tokens[i + 1].type == "NAME":
                return tokens[i + 1].start_pos, tokens[i + 1].end_pos
            return tok.start_pos, tok.end_pos
    return 0, 0
