"""The QVR parser: one chunk of text into AST nodes, without lark for valid text.

* The **fast path** parses valid text: our own lexer (`fast_tokens`, equivalent to lark's
  basic lexer on qvr.lark's terminals: in C, `qvr.syntax._lexer`, where the extension is built,
  else one regular expression made from the grammar) feeding a small LALR(1) driver written here
  (`_record`) with the semantics of lark's, over qvr.lark's LALR tables and rules as plain data
  (`qvr.syntax.lalr_tables`, generated once from lark). The driver's moves depend only on
  the token types, so it records them once per sequence of types as a parse program, which
  later chunks of the same shape replay (`_drive`): the `AstBuilder` callbacks in order, each
  on the values it takes, with what lark does around a callback (its child filter,
  single-child expansion) already applied while recording.
  lark's own lexer and `Token` objects cost about half of the parse time, and importing lark
  at all costs start-up time (the language server's first diagnostics), which is why lark is
  bypassed. Measured side by side (bench/parser_compare.py, the same 10,000-line module, the
  same AST from the same builder): lark's standalone parser takes about 2.3 times as long and
  lark with lark_cython's Cython lexer and parser about 2.0 times, so neither replaces it.
* `error_parser()`, loaded exactly as spec §3.1 prescribes, on first use. Text the fast path
  rejects is re-parsed by it, and its `UnexpectedInput` (with the interactive parser state)
  is what `qvr.syntax.errors` words into QVR001–QVR005. Only this path imports lark.

`parse_chunk` is the only entry point the rest of the package uses. A lock serialises parses
because the shared AST builder carries the offset of the chunk being parsed.
"""
from __future__ import annotations

import re
import threading
from operator import itemgetter
from re import _parser as _sre  # sre_parse; re's own parser of patterns
from typing import TYPE_CHECKING, Callable, NamedTuple, Optional

from . import lalr_tables
from .transformer import AstBuilder, Tok

if TYPE_CHECKING:
    from lark import Lark, Token

GRAMMAR_PATH = lalr_tables.GRAMMAR_PATH

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


_TABLES = lalr_tables.load()

# lark's parser of qvr.lark, without a transformer, used only to analyse errors
# (interactive parsing for the expected-token sets and the partial parse state).
_ERROR_LARK: Lark | None = None


def error_parser() -> Lark:
    global _ERROR_LARK
    if _ERROR_LARK is None:
        from lark import Lark

        text = GRAMMAR_PATH.read_text(encoding="utf-8")
        _ERROR_LARK = Lark(text, parser="lalr", lexer="basic", maybe_placeholders=True,
                           keep_all_tokens=True, propagate_positions=True,
                           lexer_callbacks={"NAME": _check_name}, cache=_lark_cache_file(text))
    return _ERROR_LARK


def _lark_cache_file(grammar: str):
    """Where lark keeps the error parser's tables between processes (building them costs
    about 0.1 s): a file in the user's private cache directory (`qvr.user_cache`), never the
    shared temp dir, since lark reads it back with pickle. False (no cache) when there is no
    private directory."""
    import hashlib
    import sys

    from lark import __version__ as lark_version

    from ..user_cache import private_cache_dir

    directory = private_cache_dir()
    if directory is None:
        return False
    digest = hashlib.sha256(grammar.encode("utf-8")).hexdigest()[:16]
    return str(directory / f"lark-error-parser-{digest}-{lark_version}-py{sys.version_info[0]}"
                           f"{sys.version_info[1]}.pickle")


def __getattr__(name: str):
    # `LARK` (lark's parser of the grammar, for its `.terminals`...) used to be built at
    # import; it is now the error parser, built on first use.
    if name == "LARK":
        return error_parser()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def fixed_strings(pattern: str) -> Optional[list[str]]:
    """Every string the regular expression `pattern` matches, when it is made only of
    literals, non-capturing groups, alternatives and one-character classes
    (``(?:=>|\\|\\-|⊢)`` -> ``["=>", "|-", "⊢"]``); None for anything else (repetition,
    ranges, lookarounds, flags), i.e. for patterns that are not a fixed set of strings."""
    try:
        tree = _sre.parse(pattern)
    except re.error:
        return None
    if tree.state.flags & ~re.UNICODE:
        return None
    return _expand(list(tree))


def _expand(items) -> Optional[list[str]]:
    out = [""]
    for op, arg in items:
        if op is _sre.LITERAL:
            choices = [chr(arg)]
        elif op is _sre.IN and all(o is _sre.LITERAL for o, _ in arg):
            choices = [chr(a) for _, a in arg]
        elif op is _sre.BRANCH:
            choices = []
            for branch in arg[1]:
                strings = _expand(branch)
                if strings is None:
                    return None
                choices.extend(strings)
        elif op is _sre.SUBPATTERN and arg[0] is None and not arg[1] and not arg[2]:
            choices = _expand(arg[3])
            if choices is None:
                return None
        else:
            return None
        out = [a + b for a in out for b in choices]
    return out


# lark's basic lexer tries qvr.lark's terminals in one order (by priority: OPAQUE_BLOCK.9,
# BLOCK_COMMENT.3, FLOAT.2, DOC_COMMENT.2; then by width, pattern length and name) and takes
# the first that matches; the fixed strings come after every regular expression, longest
# first. The tables keep each terminal's pattern but not its priority, so the order of the
# regular-expression terminals is written here, by name (tests/syntax/
# test_fast_lexer_from_grammar.py checks it against lark's; tests/syntax/test_fast_path.py
# compares the token streams of both lexers). A terminal that is neither here nor a fixed set of
# strings stops the import (`_fast_lexer`), so a new one cannot be lexed by guesswork.
# lark's anonymous `%ignore /…/` terminals (`__IGNORE_n`: whitespace) need no place: no
# other terminal starts with a blank.
_REGEX_ORDER = ("OPAQUE_BLOCK", "BLOCK_COMMENT", "FLOAT", "DOC_COMMENT", "NAME", "INT",
                "LINE_COMMENT")


def _fast_lexer():
    """One regular expression equivalent to lark's basic lexer over qvr.lark's terminals, the
    terminal of each fixed text and the terminal of each group number.

    Everything comes from the grammar's terminals (`lalr_tables`): the ones no parse state
    shifts are what lark ignores (comments, whitespace) and the others are tokens. Each match
    is a run of ignored text followed by at most one token: a regular-expression terminal,
    tried in lark's order (`_REGEX_ORDER`), each in a group named after it, or an operator.
    The operators are every string terminal that is not a word plus every string of the
    regex terminals made of fixed alternatives (COMPOSE, RULE_ARROW: `fixed_strings`),
    longest first, as lark tries them. Keywords are NAME matches whose text is a keyword
    string, exactly as lark retypes them.

    The grammar's patterns are used as they are, capturing groups included (FLOAT has
    some): the token of a match is its last closed group (`Match.lastindex`), which is the
    named group around the token, since a group closes after the groups inside it. After
    ignored text alone it is an unnamed group of that text, or None."""
    shifted = {symbol for symbols, _ in _TABLES.states for symbol in symbols}
    fixed = {}
    operators = []
    ignored, tokens = [], []
    for name, kind, value in _TABLES.terminals:
        strings = [value] if kind == "str" else fixed_strings(value)
        if name in shifted and strings is not None:
            for text in strings:
                fixed[text] = name
                if not text.isidentifier():
                    operators.append(text)
        elif kind == "re" and name in _REGEX_ORDER:
            (tokens if name in shifted else ignored).append((_REGEX_ORDER.index(name), value,
                                                             name))
        elif kind == "re" and name.startswith("__IGNORE") and name not in shifted:
            ignored.append((len(_REGEX_ORDER), value, name))
        else:
            raise RuntimeError(f"qvr.lark terminal {name} ({value!r}) is not known to the "
                               "fast lexer (qvr.syntax.parser._REGEX_ORDER)")
    operators.sort(key=len, reverse=True)
    ignored.sort()
    tokens.sort()
    skip = "|".join(f"(?:{value})" for _, value, _ in ignored)
    alternatives = [f"(?P<{name}>{value})" for _, value, name in tokens]
    alternatives.append(f"(?P<OP>{'|'.join(map(re.escape, operators))})")
    pattern = re.compile(f"(?:{skip})*(?:{'|'.join(alternatives)})?")
    # terminal by group number (None: a group inside a pattern, or no group at all: a match
    # of ignored text alone); an operator's is in `fixed`
    kinds = dict.fromkeys([None, *range(pattern.groups + 1)])
    for name, number in pattern.groupindex.items():
        kinds[number] = name
    return pattern, fixed, kinds


_FAST_RE, _FIXED, _GROUP_KINDS = _fast_lexer()


def fast_tokens(text: str):
    """Tokens of `text` for the fast path, or None where the text has a character the
    grammar has no token for (the slow path then reports it)."""
    lexed = _lex(text)
    return None if lexed is None else lexed[0]


def _lex_regex(text: str):
    """``(tokens, their types)`` of `text` (`fast_tokens`), or None; the types, listed as the
    tokens are made, are the key of the chunk's parse program (`_program`). The lexer in
    Python: `_lex` is the C one where it is built (`_c_lexer`), which gives the same."""
    out = []
    append = out.append
    types = []
    append_type = types.append
    kind_of = _FIXED.get
    kinds = _GROUP_KINDS
    n = len(text)
    # Every match starts where the previous one ended: the pattern also matches the empty
    # string, so `finditer` never skips a character; an empty or skip-only match before the
    # end is a character no token starts with.
    for m in _FAST_RE.finditer(text):
        group = m.lastindex
        kind = kinds[group]
        if kind is None:
            if m.end() != n:
                return None
            break
        value = m[group]
        kind = kind_of(value, kind)
        append_type(kind)
        append(Tok(kind, value, m.start(group), m.end()))  # the token ends the match
    return out, types


def _initials(pattern: str) -> Optional[str]:
    """The characters a match of `pattern` can start with, when its parse says so simply (a
    zero-width look-behind, then alternatives that each start with a literal), else None."""
    try:
        items = list(_sre.parse(pattern))
    except re.error:
        return None
    while items and items[0][0] is _sre.ASSERT_NOT and items[0][1][0] == -1:
        items = items[1:]  # ``(?<!...)``: looks behind, takes no character
    firsts: set[str] = set()

    def first(items) -> bool:
        if not items:
            return False
        op, arg = items[0]
        if op is _sre.LITERAL:
            firsts.add(chr(arg))
            return True
        if op is _sre.SUBPATTERN and not arg[1] and not arg[2]:
            return first(list(arg[3]))
        if op is _sre.BRANCH:
            return all(first(list(branch)) for branch in arg[1])
        return False

    return "".join(sorted(firsts)) if first(items) else None


def _c_lexer():
    """The C lexer (`qvr.syntax._lexer`) set up from the grammar: its operators and keywords
    (`_FIXED`) and its tier-3 block pattern. None where the extension is not built, or where
    qvr.lark's other token patterns or their order are not the ones it implements (then the
    lexer in Python, `_lex_regex`, is used; tests/syntax/test_c_lexer.py fails on it)."""
    try:
        from . import _lexer
    except ImportError:
        return None
    patterns = {name: value for name, kind, value in _TABLES.terminals
                if kind == "re" and fixed_strings(value) is None}
    opaque = patterns.pop("OPAQUE_BLOCK", None)
    if patterns != _lexer.PATTERNS or _REGEX_ORDER != _lexer.ORDER or opaque is None:
        return None
    operators = sorted((text for text in _FIXED if not text.isidentifier()), key=len, reverse=True)
    return _lexer.Lexer(_FIXED, tuple(operators), re.compile(opaque).match, _initials(opaque),
                        ("OPAQUE_BLOCK", "FLOAT", "NAME", "INT"))


_lex = _c_lexer() or _lex_regex


def _user_callback(name: str):
    """The AST builder's method for rule callback `name`; None for lark's internal repetition
    rules (``__start_star_0``), whose children the parent's child filter splices into its
    own (see AstBuilder.__default__)."""
    # a rule named like a Python keyword (`lambda`) has its method with a trailing underscore
    method = getattr(_builder, name, None) or getattr(_builder, name + "_", None)
    if method is not None:
        return method
    if name.startswith("_"):
        return None
    return lambda children: _builder.__default__(name, children, None)


class _Reduction(NamedTuple):
    """What lark runs on a reduction by one rule: the child filter, then single-child
    expansion, then the callback. `_record` applies the first two to the children's numbers
    once per parse program, so that a replay only calls the AST builder."""

    build: Optional[Callable]  # the AST builder's method; None: an internal repetition rule
    child_filter: Optional[lalr_tables.ChildFilter]  # None: the children are kept as they are
    expand_single: bool  # ``?rule``: one child (after the filter) is passed up unchanged


def _fast_table():
    """The parse table as the driver reads it: one dict per state, symbol -> ``(True, next
    state)`` for a shift or goto, ``(False, (number of children, goto symbol, reduction))``
    for a reduction (`_Reduction`). Rules like `?arith: term` only pass their single child
    up; their reduction is None (`_record` skips them), which matters because most reductions
    in expressions are such chain rules."""
    reductions = [(False, (rule.size, rule.origin, None if rule.chain else _Reduction(
        _user_callback(rule.callback),
        rule.child_filter if lalr_tables.filters_children(rule) else None,
        rule.expand_single))) for rule in _TABLES.rules]
    shifts = [(True, n) for n in range(len(_TABLES.states))]
    return [dict(zip(symbols, [shifts[a] if a >= 0 else reductions[~a] for a in actions]))
            for symbols, actions in _TABLES.states]


_FAST_STATES = _fast_table()
_START_STATE = _TABLES.start
_END_STATE = _TABLES.end


class _FastPathFailed(Exception):
    pass


# (state below, state on top, lookahead) -> the state reached after every chain reduction
# that lookahead triggers there (see `_drive`); filled lazily, a few hundred entries.
_CHAIN_MEMO: dict = {}


def _after_chains(below: int, state: int, ttype: str) -> int:
    """Follow chain reductions (``?arith: term``...) from `state` with lookahead `ttype`.

    A chain reduction pops one state and pushes goto(below, rule), so the state below never
    changes and the whole run of them depends only on (below, state, lookahead)."""
    states = _FAST_STATES
    key = (below, state, ttype)
    state = states[below][states[state][ttype][1][1]][1]  # the first chain reduction
    while True:
        action = states[state].get(ttype)
        if action is None or action[0] or action[1][2] is not None or action[1][0] != 1:
            _CHAIN_MEMO[key] = state
            return state
        state = states[below][action[1][1]][1]


def _filtered(children: list, child_filter: lalr_tables.ChildFilter, none: int) -> list:
    """The numbers of the children that lark's child filter `child_filter` keeps, in order:
    a child that is an internal repetition rule (a list of numbers, see `_record`) is spliced
    in, and each placeholder of ``maybe_placeholders`` is `none`, the number of None."""
    entries, tail = child_filter
    if entries and entries[0][1] and not entries[0][2]:
        # a left-recursive repetition: extend its list in place, as lark does (linear in its
        # length, not quadratic; nothing else holds that list)
        out = children[entries[0][0]]
        entries = entries[1:]
    else:
        out = []
    for i, expand, nones in entries:
        out += [none] * nones
        if expand:
            out += children[i]
        else:
            out.append(children[i])
    out += [none] * tail
    return out


def _first(children: list):
    return children[0]


def _record(types: list[str]) -> tuple:
    """A textbook LALR(1) driver (same semantics as lark's own) over the token types `types`,
    with lark's parse table for qvr.lark, that returns the parse as a *program* instead of
    running it: the AST builder's calls, in order, each as ``(method, children)``. The
    values of a parse are the tokens (numbered from 0), None (numbered ``len(types)``, for
    lark's placeholders) and each call's result (numbered on from there), and `children`
    says which of them the call takes: None for none, a value's number for one, an
    ``operator.itemgetter`` of their numbers for several (`_replay` makes the calls).

    What lark does around a callback depends only on the rule and the number of children, so
    it is done here, once per program, on the values' numbers: the child filter (`_filtered`;
    an internal repetition rule is not called at all, its list of numbers is spliced into its
    parent's children) and single-child expansion (a ``?rule`` with one child passes its
    number up). About half of all reductions are chain rules that only pass their child up;
    a run of them is one memoised jump between states (`_after_chains`).

    Returns ``(accepted, program)``. Where lark would reject the token sequence, `program`
    holds the calls made before the token that fails: a callback can fail first (a number
    literal without a value raises `LiteralError`, which `qvr.syntax` reports on the literal
    itself), so a rejected parse still runs them (`_drive`)."""
    states = _FAST_STATES
    chain_memo = _CHAIN_MEMO
    state = _START_STATE
    state_stack = [state]
    push_state = state_stack.append
    # the values on the parser's value stack, next to `state_stack`: a value's number, or
    # the list of numbers of an internal repetition rule's children
    value_stack: list = []
    push_value = value_stack.append
    none = len(types)
    made = none + 1  # the number of the next call's result
    program: list = []
    move = program.append

    def reduce(size: int, reduction: _Reduction) -> None:
        nonlocal made
        build, child_filter, expand_single = reduction
        if size:
            children = value_stack[-size:]
            del value_stack[-size:]
            del state_stack[-size:]
        else:
            children = []
        if child_filter is not None:
            children = _filtered(children, child_filter, none)
        if build is None:
            push_value(children)
        elif expand_single and len(children) == 1:
            push_value(children[0])
        else:
            if list in map(type, children):  # lark would fail here too
                raise AssertionError("an internal rule's children reach a callback unspliced")
            move((build, None if not children else children[0] if len(children) == 1
                  else itemgetter(*children)))
            push_value(made)
            made += 1

    for number, ttype in enumerate(types):
        while True:
            try:
                is_shift, arg = states[state][ttype]
            except KeyError:
                return False, tuple(program)
            if is_shift:
                state = arg
                push_state(state)
                push_value(number)
                break
            size, goto, reduction = arg
            if reduction is None and size == 1:
                below = state_stack[-2]
                after = chain_memo.get((below, state, ttype))
                state = _after_chains(below, state, ttype) if after is None else after
                state_stack[-1] = state
                continue
            reduce(size, reduction)
            state = states[state_stack[-1]][goto][1]
            push_state(state)
    # end of input: reduce until the start symbol is accepted
    while True:
        try:
            is_shift, arg = states[state]["$END"]
        except KeyError:
            return False, tuple(program)
        if is_shift:
            return False, tuple(program)
        size, goto, reduction = arg
        if reduction is not None:
            reduce(size, reduction)
        elif size:  # a chain rule: its one value stays where it is
            del state_stack[-size:]
        state = states[state_stack[-1]][goto][1]
        if state == _END_STATE:
            if value_stack[-1] != made - 1:  # the start rule's value comes last
                move((_first, value_stack[-1]))
            return True, tuple(program)
        push_state(state)


# token types of a chunk -> ``(accepted, parse program)`` (`_record`).
# Declarations of one kind share their shape (`object A : Real 16` and `object B : Real 8`
# have the same token types), so most chunks of a file replay a known program rather than
# walking the parse table again. Bounded: at most `_PROGRAMS_SIZE` shapes (the oldest are
# dropped first), each of at most `_PROGRAM_TOKENS` tokens (a longer chunk is rarely the
# same shape as another; it is parsed by the table every time), a few megabytes at most.
_PROGRAMS: dict = {}
_PROGRAMS_SIZE = 1024
_PROGRAM_TOKENS = 512


def _program(types: list[str]) -> tuple[bool, tuple]:
    """``(accepted, parse program)`` of the token types `types` (see `_record`), memoised
    (at most `_PROGRAM_TOKENS` of them: `_drive` records a longer one's each time)."""
    key = tuple(types)
    found = _PROGRAMS.get(key)
    if found is None:
        found = _record(types)
        if len(_PROGRAMS) >= _PROGRAMS_SIZE:
            del _PROGRAMS[next(iter(_PROGRAMS))]
        _PROGRAMS[key] = found
    return found


def _replay(program: tuple, tokens: list[Tok]):
    """Run a parse program on `tokens`: the same reduction functions, on the same children,
    in the same order as the table-driven parse that recorded it. Returns the last value
    made (for a whole program, the value of the start rule).

    Each reduction picks its children by number from one growing list of values (`_record`)
    rather than popping them off a stack: an ``itemgetter`` of several numbers takes them in
    one C call, which makes the replay about a tenth faster than moving them on a stack."""
    values = tokens.copy()
    values.append(None)  # number len(tokens): lark's placeholders (`_record`)
    push = values.append
    # The builder only reads its children, so they come as a tuple (what an itemgetter of
    # several numbers gives), not as a list like lark's.
    for callback, children in program:
        if children.__class__ is int:
            push(callback((values[children],)))
        elif children is None:
            push(callback(()))
        else:
            push(callback(children(values)))
    return values[-1]


def _drive(tokens: list[Tok], types: list[str]):
    """The AST of `tokens` (of types `types`: the value of the start rule); raises
    `_FastPathFailed` where lark would reject them, after the reductions before the failing
    token."""
    accepted, program = _record(types) if len(types) > _PROGRAM_TOKENS else _program(types)
    value = _replay(program, tokens)
    if not accepted:
        raise _FastPathFailed
    return value


def parse_chunk(text: str, offset: int = 0):
    """Parse `text` (a sequence of statements) into declarations with spans shifted by
    `offset`.

    Returns ``(decls, bad_names, error)``: the declarations (None on failure), the NAME
    tokens that need §2.4 validation (positions relative to `text`) and the lark
    `UnexpectedInput` that stopped the parse, if any.

    Valid text takes the fast path (our lexer + the LALR tables); anything else is
    re-parsed by lark itself, whose exception `qvr.syntax.errors` turns into wording."""
    with _lock:
        _builder.offset = offset
        _builder.text = text
        try:
            lexed = _lex(text)
            if lexed is not None:
                tokens, types = lexed
                bad = [] if text.isascii() else [
                    t for t in tokens if t.type == "NAME" and not t.value.isascii()]
                try:
                    return _drive(tokens, types), bad, None
                except _FastPathFailed:
                    pass
            from lark.exceptions import UnexpectedInput  # the slow path needs lark

            _bad_names.clear()
            try:
                error_parser().parse(text)
                failure = None  # pragma: no cover - the fast path and lark disagree
            except UnexpectedInput as exc:
                failure = exc
            bad = list(_bad_names)
            _bad_names.clear()
            return None, bad, failure
        finally:
            _builder.offset = 0
            _builder.text = ""


def terminal_patterns() -> dict[str, str]:
    """Terminal name -> literal text for string terminals (``COLON`` -> ``:``)."""
    out = {}
    for name, kind, value in _TABLES.terminals:
        if kind == "str":
            out[name] = value
    return out
