"""The LALR tables of qvr.lark as plain data, so that parsing valid text never imports lark.

The fast parser (`qvr.syntax.parser`) needs only three things from the grammar: the terminals
(for its lexer), the rules (origin, length, which AST builder callback runs and how lark would
filter its children) and the LALR(1) parse table. lark computes these from qvr.lark, but
importing lark and loading a grammar costs tens of milliseconds at start-up, so they are
generated once into `lalr_generated` (a Python module of constant tuples, loaded by one
unmarshal of its cached bytecode) by `qvr.syntax.lalr_build`:

    python -m qvr.syntax.lalr_build            # rewrite lalr_generated.py after editing qvr.lark
    python -m qvr.syntax.lalr_build --check    # exit 1 if it is stale

The generated module records the SHA-256 of the grammar it was made from. `load()` compares it
with qvr.lark as installed and, when they differ (or the module is missing), builds the tables
from lark in memory instead: a stale file costs start-up time, never correctness.
tests/syntax/test_parser_tables.py fails while the committed file is stale.

Why a committed module rather than a cache file written on first use: nothing is ever written
at run time (read-only installs, several servers starting at once), the first start after an
install is as fast as any other, and it ships in the wheel like any other module.
"""
from __future__ import annotations

import hashlib
from pathlib import Path
from typing import NamedTuple, Optional

GRAMMAR_PATH = Path(__file__).with_name("qvr.lark")

# Bump when the meaning of the fields below changes: older generated modules become stale.
FORMAT = 2

# A child filter as lark builds it for one rule (``ChildFilterLALR``): for each kept child,
# ``(child index, splice its .children, Nones to insert before it)``, then the number of
# Nones appended after the last one (``maybe_placeholders``).
ChildFilter = tuple[tuple[tuple[int, bool, int], ...], int]


class Rule(NamedTuple):
    origin: str                    # the nonterminal this rule reduces to (the goto symbol)
    size: int                      # symbols popped by the reduction
    callback: str                  # AST builder method: the alias, else the origin's name
    expand_single: bool            # ``?rule`` without alias: one child is passed up unchanged
    child_filter: Optional[ChildFilter]  # None: the children are passed as they are
    chain: bool                    # expand_single with one symbol that is not spliced:
                                   # the reduction only passes its child up


class Tables(NamedTuple):
    grammar_sha256: str
    # (name, "str" or "re", pattern) for every terminal, in lark's order
    terminals: tuple[tuple[str, str, str], ...]
    rules: tuple[Rule, ...]
    # one entry per state: (symbols, actions); action n >= 0 shifts (or, for a nonterminal,
    # goes) to state n, n < 0 reduces by rules[~n]
    states: tuple[tuple[tuple[str, ...], tuple[int, ...]], ...]
    start: int                     # the state the parse starts in
    end: int                       # reaching it by a goto on `start` accepts the input


def grammar_text() -> str:
    return GRAMMAR_PATH.read_text(encoding="utf-8")


def grammar_sha256(text: str) -> str:
    """The key the tables are stored under: the grammar text (line endings normalised, so a
    CRLF checkout is not stale) and the format of the tables."""
    data = f"{FORMAT}\n{text.replace(chr(13) + chr(10), chr(10))}".encode("utf-8")
    return hashlib.sha256(data).hexdigest()


def filters_children(rule: Rule) -> bool:
    """Whether `rule` has a child filter that changes its children (lark also wraps rules
    whose filter keeps every child as it is)."""
    if rule.child_filter is None:
        return False
    entries, tail = rule.child_filter
    return bool(tail) or list(entries) != [(i, False, 0) for i in range(rule.size)]


def generated(key: Optional[str] = None) -> Optional[Tables]:
    """The tables of the committed `lalr_generated` module; None when it is missing or (given
    `key`) was made from another grammar."""
    try:
        from . import lalr_generated as g
    except ImportError:
        return None
    if key is not None and getattr(g, "GRAMMAR_SHA256", None) != key:
        return None  # checked first: a module of another format may lack the other names
    return Tables(g.GRAMMAR_SHA256, g.TERMINALS, tuple(Rule(*r) for r in g.RULES), g.STATES,
                  g.START, g.END)


def load(text: Optional[str] = None) -> Tables:
    """The tables for `text` (default: qvr.lark): the generated ones when they were made from
    this grammar, else freshly built from lark (which imports lark)."""
    if text is None:
        text = grammar_text()
    tables = generated(grammar_sha256(text))
    if tables is not None:
        return tables
    from .lalr_build import build  # stale or missing: lark is needed after all

    return build(text)
