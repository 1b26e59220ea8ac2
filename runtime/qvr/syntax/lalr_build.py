"""Builds the plain-data LALR tables of qvr.lark from lark and writes `lalr_generated.py`.

`build(text)` loads the grammar with lark exactly as the fast parser uses it (LALR, basic
lexer, ``maybe_placeholders``, ``keep_all_tokens``, no position propagation) and reads back

* the terminals, in lark's order;
* for every rule, the wrapper chain lark puts around its callback (child filter, single-child
  expansion) and the callback's name, by inspecting the callbacks lark built, so that the fast
  parser reproduces lark's reductions without lark;
* the parse table, with states renumbered canonically (breadth first from the start state,
  symbols in sorted order) and rules sorted by origin and expansion: lark numbers states by
  iterating sets, so its numbering changes with the string hash seed while the automaton does
  not. The canonical form makes the generated file reproducible.

Command line (see `qvr.syntax.lalr_tables`):

    python -m qvr.syntax.lalr_build [--check]
"""
from __future__ import annotations

import argparse
import sys
from functools import partial
from pathlib import Path

from lark import Lark
from lark.parse_tree_builder import (
    ChildFilterLALR,
    ChildFilterLALR_NoPlaceholders,
    ExpandSingleChild,
)
from lark.parsers.lalr_analysis import Shift

from .lalr_tables import (
    Rule,
    Tables,
    grammar_sha256,
    grammar_text,
)

GENERATED_PATH = Path(__file__).with_name("lalr_generated.py")

# The options the fast path's tables come from (spec §3.1 plus what the AST builder needs:
# every token kept, Nones for absent optional parts; positions are computed by the builder).
LARK_OPTIONS = dict(parser="lalr", lexer="basic", propagate_positions=False,
                    maybe_placeholders=True, keep_all_tokens=True)


def _load_lark(text: str) -> Lark:
    # Built afresh every time, never from lark's cache: a cached build hands back rule names
    # as plain strings where a fresh one has `Token`s, and reading a pickle from the shared
    # temp dir is unsafe. The build is offline and runs in well under a second.
    return Lark(text, **LARK_OPTIONS)


def _describe_callback(callback) -> tuple[str, bool, object]:
    """(callback name, expand single child, child filter) of one rule's lark callback.

    lark wraps the user callback as ``ChildFilter(ExpandSingleChild(callback))``, each layer
    only when needed; without a transformer the innermost callback is
    ``partial(Tree, name)``."""
    child_filter = None
    expand_single = False
    cls = callback.__class__
    if cls is ChildFilterLALR:
        child_filter = (tuple((i, bool(e), n) for i, e, n in callback.to_include),
                        callback.append_none)
        callback = callback.node_builder
    elif cls is ChildFilterLALR_NoPlaceholders:
        child_filter = (tuple((i, bool(e), 0) for i, e in callback.to_include), 0)
        callback = callback.node_builder
    if callback.__class__ is ExpandSingleChild:
        expand_single = True
        callback = callback.node_builder
    if not isinstance(callback, partial) or len(callback.args) != 1:
        raise RuntimeError(f"unexpected lark rule callback {callback!r}: lark's parse tree "
                           "builder changed; update qvr.syntax.lalr_build")
    return str(callback.args[0]), expand_single, child_filter


def _rule_key(rule):
    return rule.origin.name, tuple(sym.name for sym in rule.expansion)


def build(text: str) -> Tables:
    """The tables of grammar `text`, from lark."""
    lark = _load_lark(text)
    frontend = lark.parser.parser.parser
    table = frontend.parse_table

    lark_rules = sorted(frontend.callbacks, key=_rule_key)
    rule_index = {rule: i for i, rule in enumerate(lark_rules)}
    rules = []
    for rule in lark_rules:
        name, expand_single, child_filter = _describe_callback(frontend.callbacks[rule])
        size = len(rule.expansion)
        # The same test as lark's ExpandSingleChild on one child, made once per rule; a
        # spliced child (``_rule``) is a list, not a node, so it is not a chain.
        chain = (expand_single and size == 1 and not rule.expansion[0].name.startswith("_"))
        rules.append(Rule(str(rule.origin.name), size, name, expand_single, child_filter, chain))

    start = table.start_states["start"]
    order = [start]
    number = {start: 0}
    for state in order:  # breadth first; `order` grows while it is walked
        for symbol in sorted(table.states[state]):
            action, arg = table.states[state][symbol]
            if action is Shift and arg not in number:
                number[arg] = len(order)
                order.append(arg)
    end = table.end_states["start"]
    if len(order) != len(table.states) or end not in number:
        raise RuntimeError("lark's LALR table has states unreachable from the start state")
    states = []
    for state in order:
        actions = table.states[state]
        symbols = tuple(sorted(actions))
        codes = []
        for symbol in symbols:
            action, arg = actions[symbol]
            codes.append(number[arg] if action is Shift else ~rule_index[arg])
        states.append((symbols, tuple(codes)))

    terminals = tuple((t.name, t.pattern.type, t.pattern.value) for t in lark.terminals)
    return Tables(grammar_sha256(text), terminals, tuple(rules), tuple(states), 0, number[end])


def render(tables: Tables) -> str:
    """Source of the `lalr_generated` module for `tables` (one rule or state per line)."""
    lines = [
        '"""GENERATED by `python -m qvr.syntax.lalr_build` from qvr.lark: do not edit.',
        "",
        "The LALR tables of the grammar as plain data (see `qvr.syntax.lalr_tables`).",
        '"""',
        f"GRAMMAR_SHA256 = {tables.grammar_sha256!r}",
        f"START = {tables.start!r}",
        f"END = {tables.end!r}",
        "",
        "# (name, pattern type, pattern)",
        "TERMINALS = (",
        *(f"    {t!r}," for t in tables.terminals),
        ")",
        "",
        "# (origin, size, callback, expand_single, child_filter, chain)",
        "RULES = (",
        *(f"    {tuple(r)!r},  # {i}" for i, r in enumerate(tables.rules)),
        ")",
        "",
        "# (symbols, actions): n >= 0 shift/goto to state n, n < 0 reduce by RULES[~n]",
        "STATES = (",
        *(f"    {s!r},  # {i}" for i, s in enumerate(tables.states)),
        ")",
        "",
    ]
    return "\n".join(lines)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m qvr.syntax.lalr_build",
                                 description="Regenerate (or --check) lalr_generated.py "
                                             "from qvr.lark.")
    ap.add_argument("--check", action="store_true",
                    help="exit 1 if lalr_generated.py is not what qvr.lark gives")
    args = ap.parse_args(argv)
    source = render(build(grammar_text()))
    current = GENERATED_PATH.read_text(encoding="utf-8") if GENERATED_PATH.exists() else None
    if args.check:
        if current != source:
            print(f"{GENERATED_PATH} is stale: run `python -m qvr.syntax.lalr_build`",
                  file=sys.stderr)
            return 1
        return 0
    if current != source:
        GENERATED_PATH.write_text(source, encoding="utf-8")
        print(f"wrote {GENERATED_PATH}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
