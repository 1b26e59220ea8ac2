"""The lark parser for QVR: loads qvr.lark once and parses one chunk of text into AST nodes.

The parser object is built once per process (and cached on disk by lark, ``cache=True``) with
the `AstBuilder` transformer inlined into the LALR parser, so parsing produces AST nodes
directly without building a parse tree first (the fastest way to use lark).

`parse_chunk` is the only entry point the rest of the package uses: it parses ``text`` as a
sequence of statements and returns the declarations with spans made absolute by adding
``offset``. It raises lark's `UnexpectedInput` subclasses on errors; `qvr.syntax.errors` turns
those into worded diagnostics. A lock serialises parses because the transformer carries the
offset of the chunk being parsed.
"""
from __future__ import annotations

import threading
from pathlib import Path

from lark import Lark, Token
from lark.exceptions import UnexpectedInput

from .transformer import AstBuilder

GRAMMAR_PATH = Path(__file__).with_name("qvr.lark")

_builder = AstBuilder()
_lock = threading.Lock()
_bad_names: list[Token] = []


def _check_name(token: Token) -> Token:
    # NAME is /(?!\d)\w+/, which also admits word characters that are not letters, decimal
    # digits or `_` (U+00B2 ...); spec §2.4 makes those QVR001. Checked here, in the lexer
    # callback, so that it costs nothing for ASCII names.
    if not token.value.isascii():
        _bad_names.append(token)
    return token


def _load() -> Lark:
    text = GRAMMAR_PATH.read_text(encoding="utf-8")
    options = dict(
        parser="lalr",
        lexer="basic",
        propagate_positions=True,
        maybe_placeholders=True,
        keep_all_tokens=True,  # keyword and punctuation tokens give keyword ranges and spans
        transformer=_builder,
        lexer_callbacks={"NAME": _check_name},
    )
    try:
        return Lark(text, cache=True, **options)
    except Exception:  # an unwritable cache directory must not stop parsing
        return Lark(text, **options)


LARK = _load()

# A second parser without the transformer, used only to analyse errors (interactive
# parsing for the expected-token sets and the partial parse state).
_ERROR_LARK: Lark | None = None


def error_parser() -> Lark:
    global _ERROR_LARK
    if _ERROR_LARK is None:
        _ERROR_LARK = Lark(GRAMMAR_PATH.read_text(encoding="utf-8"), parser="lalr",
                           lexer="basic", maybe_placeholders=True, keep_all_tokens=True)
    return _ERROR_LARK


def parse_chunk(text: str, offset: int = 0):
    """Parse `text` (a sequence of statements) into declarations with spans shifted by
    `offset`.

    Returns ``(decls, bad_names, error)``: the declarations (None on failure), the NAME
    tokens that need §2.4 validation (positions relative to `text`) and the lark
    `UnexpectedInput` that stopped the parse, if any."""
    with _lock:
        _builder.offset = offset
        _bad_names.clear()
        try:
            decls, failure = LARK.parse(text), None
        except UnexpectedInput as exc:
            decls, failure = None, exc
        finally:
            _builder.offset = 0
        bad = list(_bad_names)
        _bad_names.clear()
    return decls, bad, failure


def terminal_patterns() -> dict[str, str]:
    """Terminal name -> literal text for string terminals (``COLON`` -> ``:``)."""
    out = {}
    for term in LARK.terminals:
        if term.pattern.type == "str":
            out[term.name] = term.pattern.value
    return out
