"""Builds the frozen AST of `qvr.syntax.ast` directly from the LALR reductions of qvr.lark.

The parser (`qvr.syntax.parser`) calls the method named after a rule (or its alias) on every
reduction, with the children lark would pass it for the grammar loaded with
``keep_all_tokens=True`` and ``maybe_placeholders=True`` (a tuple from our parser, a list
from lark's: the builder only reads them): no intermediate parse tree, every token kept,
keywords and punctuation included (that is where keyword ranges, operator spans and bracket
spans come from), and ``None`` for ``[optional]`` parts that did not match. The builder is a
plain class, not a `lark.Transformer`: parsing valid text never imports lark.

Parenthesised sub-expressions never become nodes (ast docstring). The grammar's
``"(" x ")"`` alternatives of ``?type_atom``/``?cat_atom``/``?matom``/``?atom`` reach us as a
three-child rule; we return a `_Group` that remembers the parenthesised extent, so that the
parent node's span covers the parentheses, and unwrap it wherever a node is stored.

Spans are code-point offsets into the whole document: lark positions are relative to the
chunk text being parsed, so every span adds `AstBuilder.offset` (set by the parser before
each parse; see `qvr.syntax.parser`).
"""
from __future__ import annotations

import re
import sys

from . import ast as A
from .span import Span


#: The most digits an integer literal may have: Python's default limit for converting text
#: to `int` (a longer literal could not become a value, and none is meaningful).
MAX_INT_DIGITS = 4300
_INF = float("inf")


class LiteralError(ValueError):
    """A number literal has no value: an integer of more than `MAX_INT_DIGITS` digits or a
    float beyond the float range. Raised out of the parse; `qvr.syntax` then reports every
    such literal of the chunk (`literal_problem`) and parses the rest of it without them."""


def literal_problem(kind: str, text: str) -> str | None:
    """Why the number token `text` (``INT`` or ``FLOAT``) cannot be a value, or None."""
    shown = text if len(text) <= 20 else f"{text[:8]}…{text[-4:]}"
    if kind == "INT":
        # the interpreter may have been given a lower limit (PYTHONINTMAXSTRDIGITS)
        limit = min(MAX_INT_DIGITS, sys.get_int_max_str_digits() or MAX_INT_DIGITS)
        if len(text) > limit:
            return (f"syntax error: number `{shown}` has {len(text)} digits; an integer may "
                    f"have at most {limit}")
        return None
    if kind == "FLOAT" and float(text) == _INF:
        return f"syntax error: number `{shown}` is too large for a 64-bit float"
    return None


try:
    # the same token type in C, which the C lexer (`qvr.syntax._lexer`) makes directly
    from ._lexer import Tok
except ImportError:  # the C extension is not built: the parser lexes in Python
    class Tok:
        """A token as the AST builder sees it: type (lark terminal name), text and offsets.

        The parser's own lexer makes these instead of lark's `Token` (a `str` subclass that is
        comparatively expensive to create)."""

        __slots__ = ("type", "value", "start_pos", "end_pos")

        def __init__(self, type: str, value: str, start: int, end: int):
            self.type = type
            self.value = value
            self.start_pos = start
            self.end_pos = end


class _Spliced:
    """The children of one of lark's internal repetition rules, spliced into the parent's
    children by lark's child filter (it only reads ``.children``; a `Tree` is not needed).
    Only where lark's parser runs the builder (bench/parser_compare.py): our parser splices
    those children while it records a parse program (`qvr.syntax.parser._record`)."""

    __slots__ = ("children",)

    def __init__(self, children):
        self.children = children


class _Group:
    """A parenthesised node: the node plus the span of the parentheses around it."""

    __slots__ = ("node", "start", "end")

    def __init__(self, node, start: int, end: int):
        self.node = node
        self.start = start
        self.end = end


class _Params:
    """``(x, y)`` of a program header: names and the span of the list."""

    __slots__ = ("names", "start", "end")

    def __init__(self, names, start, end):
        self.names = names
        self.start = start
        self.end = end


class _Seq:
    """A plain list of nodes from a helper rule (``name_list``, ``args``) and its extent."""

    __slots__ = ("items", "start", "end")

    def __init__(self, items, start, end):
        self.items = items
        self.start = start
        self.end = end


class _Chain:
    """A `*` product or `+` coproduct of type expressions that the parser may still extend.

    ``A * B * C`` reduces as ``(A * B) * C`` and the AST keeps it flat (``Product`` with
    three factors). Building a finished node at every reduction would copy the factors so
    far each time, quadratic in the chain's length; instead the chain's lists grow in place
    (the left operand is the chain itself: each node of the parse has one parent) and the
    node is made once, when something else takes the chain (`_u`). A parenthesised chain on
    the right (``A * (B * C)``, flattened too) is kept as a nested `_Chain` in the lists and
    spliced in then, with an explicit stack: parentheses can nest thousands deep."""

    __slots__ = ("cls", "attr", "items", "ops", "start", "end", "node", "nested")

    def __init__(self, cls, attr):
        self.cls = cls  # A.Product or A.Coproduct
        self.attr = attr  # its operand field: "factors" or "operands"
        self.items: list = []  # operand nodes and nested chains, in order
        self.ops: list = []  # operator spans and nested chains (at the same places)
        self.start = self.end = 0
        self.node = None
        self.nested = False  # whether the lists hold a nested chain (most chains do not)

    def finish(self):
        if self.node is None:
            if self.nested:
                items, ops = _spliced(self.items, "items"), _spliced(self.ops, "ops")
            else:
                items, ops = tuple(self.items), tuple(self.ops)
            self.node = self.cls(items, ops, Span(self.start, self.end))
        return self.node


# The builder's own helper values, which carry their extent as `start`/`end` (AST nodes have
# a `span`, tokens `start_pos`/`end_pos` relative to the chunk).
_EXTENTS = frozenset({_Group, _Params, _Seq, _Chain})


def _spliced(seq: list, attr: str) -> tuple:
    """`seq` with every nested `_Chain` replaced by its own (spliced) `attr` list."""
    out: list = []
    stack = [iter(seq)]
    while stack:
        for x in stack[-1]:
            if x.__class__ is _Chain:
                stack.append(iter(getattr(x, attr)))
                break
            out.append(x)
        else:
            stack.pop()
    return tuple(out)


def _u(x):
    """Unwrap a parenthesised group to the node it holds; finish a `_Chain`."""
    cls = x.__class__
    if cls is _Group:
        x = x.node
        cls = x.__class__
    if cls is _Chain:
        return x.finish()
    return x


def _take(chain, node, cls, attr) -> None:
    """Add an operand to `chain`: the parts and operator spans of a finished node of the same
    kind (a parenthesised `A * B`), else the node itself."""
    if node.__class__ is cls:
        chain.items.extend(getattr(node, attr))
        chain.ops.extend(node.op_spans)
    else:
        chain.items.append(node)


def _open_chain(x, cls):
    """`x` (or the group around it) if it is a `_Chain` of `cls` that nothing has taken yet."""
    if x.__class__ is _Group:
        x = x.node
    if x.__class__ is _Chain and x.cls is cls and x.node is None:
        return x
    return None


# A name and its span are made for most tokens and a span for most nodes. Calling the class
# runs its Python-level `__init__` (`qvr.syntax.frozen_init`); making the bare object and
# filling its slots here costs about a third less (`_name`, `_tspan`, `_span`; the result is
# the same object). lexical._shifted does the same for chunks.
_new = object.__new__
_set_start = Span.start.__set__
_set_end = Span.end.__set__
_Name = A.Name
_set_text = A.Name.text.__set__
_set_span = A.Name.span.__set__

# The head word and name of an opaque block (the OPAQUE_BLOCK token's text).
_OPAQUE_HEAD = re.compile(r"(\w+)[ \t]+((?!\d)\w+)")


class AstBuilder:
    """Rule callbacks named after the grammar's rules and aliases (spec §3.1)."""

    def __init__(self):
        self.offset = 0
        self.text = ""  # the text being parsed (columns of `marginalize` bodies)

    # ------------------------------------------------------------------ helpers ----
    def _start(self, x) -> int:
        if x.__class__ is Tok:
            return x.start_pos + self.offset
        if x.__class__ in _EXTENTS:
            return x.start
        return x.span.start

    def _end(self, x) -> int:
        if x.__class__ is Tok:
            return x.end_pos + self.offset
        if x.__class__ in _EXTENTS:
            return x.end
        return x.span.end

    def _span(self, c) -> Span:
        """Span from the first to the last non-placeholder child (`_start` of the one, `_end`
        of the other, written out: most nodes take their span from here)."""
        first = c[0]
        if first is None:
            i = 1
            while c[i] is None:
                i += 1
            first = c[i]
        last = c[-1]
        if last is None:
            i = len(c) - 2
            while c[i] is None:
                i -= 1
            last = c[i]
        cls = first.__class__
        if cls is Tok:
            start = first.start_pos + self.offset
        elif cls in _EXTENTS:
            start = first.start
        else:
            start = first.span.start
        cls = last.__class__
        if cls is Tok:
            end = last.end_pos + self.offset
        elif cls in _EXTENTS:
            end = last.end
        else:
            end = last.span.end
        span = _new(Span)  # `Span(start, end)`, written out (see `_new`)
        _set_start(span, start)
        _set_end(span, end)
        return span

    def _tspan(self, t: Tok) -> Span:
        off = self.offset
        span = _new(Span)  # `Span(...)`, written out (see `_new`)
        _set_start(span, t.start_pos + off)
        _set_end(span, t.end_pos + off)
        return span

    def _name(self, t: Tok) -> A.Name:
        off = self.offset
        span = _new(Span)  # `A.Name(t.value, Span(...))`, written out (see `_new`)
        _set_start(span, t.start_pos + off)
        _set_end(span, t.end_pos + off)
        name = _new(_Name)
        _set_text(name, t.value)
        _set_span(name, span)
        return name

    def _number(self, t: Tok, minus: Tok | None = None) -> A.Number:
        text = t.value
        try:
            if t.type == "INT":
                if len(text) > MAX_INT_DIGITS:
                    raise LiteralError
                value: int | float = int(text)
            else:
                value = float(text)
                if value == _INF:
                    raise LiteralError
        except ValueError:  # LiteralError, or the interpreter's own digit limit
            raise LiteralError from None
        off = self.offset
        if minus is not None:
            return A.Number(-value, "-" + text, Span(minus.start_pos + off, t.end_pos + off))
        return A.Number(value, text, Span(t.start_pos + off, t.end_pos + off))

    def _names(self, c, types=("NAME",)) -> tuple[A.Name, ...]:
        return tuple(self._name(x) for x in c if x.__class__ is Tok and x.type in types)

    @staticmethod
    def _nodes(c) -> list:
        return [_u(x) for x in c if x is not None and x.__class__ is not Tok]

    # ------------------------------------------------------------------ module ----
    def start(self, c):
        return [x for x in c if x is not None]

    # ------------------------------------------------------------ objects ----
    def name_list(self, c):
        names = self._names(c)
        return _Seq(names, names[0].span.start, names[-1].span.end)

    def object_decl(self, c):
        return A.ObjectDecl(self._name(c[0]), c[1].items, _u(c[3]), (), self._span(c))

    def type_decl(self, c):
        return A.TypeDecl(self._name(c[0]), self._name(c[1]), _u(c[3]), (), self._span(c))

    def space_decl(self, c):
        return A.SpaceDecl(self._name(c[0]), self._name(c[1]), _u(c[3]), (), self._span(c))

    def bracket_ctor(self, c):
        ctor = self._name(c[0])
        i = 1
        args = []
        while c[i].__class__ is Tok and c[i].type in ("INT", "FLOAT"):
            args.append(self._number(c[i]))
            i += 1
        kwargs = tuple(x for x in c[i:] if x.__class__ is A.KwArg)
        bracket = Span(self._start(c[i]), self._end(c[-1]))
        return A.BracketCtor(ctor, tuple(args), kwargs, bracket, self._span(c))

    def _flatten(self, c, cls, attr):
        """``left op right`` of a `*`/`+` chain: extend the left chain (see `_Chain`)."""
        left, op, right = c
        start, end = self._start(left), self._end(right)
        chain = _open_chain(left, cls)
        if chain is None:
            chain = _Chain(cls, attr)
            _take(chain, _u(left), cls, attr)
        chain.ops.append(self._tspan(op))
        nested = _open_chain(right, cls)
        if nested is not None:  # `A * (B * C)`: spliced when the chain is finished
            chain.items.append(nested)
            chain.ops.append(nested)
            chain.nested = True
        else:
            _take(chain, _u(right), cls, attr)
        chain.start, chain.end = start, end
        return chain

    def coproduct(self, c):
        return self._flatten(c, A.Coproduct, "operands")

    def product(self, c):
        return self._flatten(c, A.Product, "factors")

    def type_ref(self, c):
        name = self._name(c[0])
        return A.TypeRef(name, name.span)

    def type_card(self, c):
        num = self._number(c[0])
        return A.TypeCard(num, num.span)

    def type_ctor(self, c):
        args = tuple(self._number(x) for x in c[1:] if x.__class__ is Tok)
        opts = c[-1] if c[-1].__class__ is A.BraceOpts else None
        return A.TypeCtor(self._name(c[0]), args, opts, self._span(c))

    def type_call(self, c):
        args = tuple(x for x in c[2:] if x.__class__ in (A.Number, A.KwArg, A.CtorName))
        opts = c[-1] if c[-1].__class__ is A.BraceOpts else None
        return A.TypeCall(self._name(c[0]), args, opts, self._span(c))

    def _group(self, c):
        # Unwrap the inner node so that `((x))` holds `x`, not a `_Group` of a `_Group`:
        # callers unwrap one level only, and nothing below them knows about `_Group`.
        # A `*`/`+` chain stays open inside the group: ``(A * B) * C`` and ``A * (B * C)``
        # extend or splice it (the AST flattens both).
        node = c[1]
        if node.__class__ is _Group:
            node = node.node
        return _Group(node, self._start(c[0]), self._end(c[2]))

    type_atom = _group
    cat_atom = _group
    matom = _group
    atom = _group

    def enum_set(self, c):
        return A.EnumSet(self._names(c), self._span(c))

    def ctor_name(self, c):
        name = self._name(c[0])
        return A.CtorName(name, name.span)

    def kw_name(self, c):
        name = self._name(c[0])
        return A.KwName(name, name.span)

    def kw_list(self, c):
        return A.KwList(self._names(c), self._span(c))

    def brace_opts(self, c):
        return A.BraceOpts(tuple(x for x in c if x.__class__ is A.KwArg), self._span(c))

    def kwarg(self, c):
        return A.KwArg(self._name(c[0]), c[2], self._span(c))

    def signed_number(self, c):
        if len(c) == 1:
            return self._number(c[0])
        return self._number(c[1], c[0])

    # ------------------------------------------------------- grammar world ----
    def quantale_decl(self, c):
        return A.QuantaleDecl(self._name(c[0]), self._name(c[1]), (), self._span(c))

    def category_decl(self, c):
        return A.CategoryDecl(self._name(c[0]), c[1].items, (), self._span(c))

    def rule_decl(self, c):
        rpar = next(i for i, x in enumerate(c) if x.__class__ is Tok and x.type == "RPAR"
                    and i > 2)
        variables = self._names(c[3:rpar])
        arrow_i = next(i for i, x in enumerate(c) if x.__class__ is Tok
                       and x.type == "RULE_ARROW")
        premises = tuple(self._nodes(c[rpar + 2:arrow_i]))
        return A.RuleDecl(self._name(c[0]), self._name(c[1]), variables, premises,
                          self._name(c[arrow_i]), _u(c[arrow_i + 1]), (), self._span(c))

    def _slash(self, c):
        return A.CatSlash(c[1].value, _u(c[0]), _u(c[2]), self._tspan(c[1]), self._span(c))

    cat_over = _slash
    cat_under = _slash

    def cat_product(self, c):
        return A.CatProduct(_u(c[0]), _u(c[2]), self._tspan(c[1]), self._span(c))

    def cat_ref(self, c):
        name = self._name(c[0])
        return A.CatRef(name, name.span)

    # ------------------------------------------ algebra selector, opaque blocks ----
    def composition_decl(self, c):
        return A.CompositionDecl(self._name(c[0]), self._name(c[1]), c[2], (), self._span(c))

    def opaque_decl(self, c):
        tok = c[0]
        text = tok.value
        head = _OPAQUE_HEAD.match(text)
        start = tok.start_pos + self.offset
        head_word = A.Name(head.group(1), Span(start, start + len(head.group(1))))
        name_start = start + head.start(2)
        name = A.Name(head.group(2), Span(name_start, name_start + len(head.group(2))))
        return A.OpaqueDecl(head_word, name, text, (), Span(start, start + len(text)))

    # --------------------------------------------------- morphism declarations ----
    def _morphism_parts(self, c, start):
        """Walk ``[replication] ":" sig [options] ["~"|"=" init [options]]`` from `start`."""
        replication = sig = options = init = init_options = tilde = None
        for x in c[start:]:
            if x is None:
                continue
            cls = x.__class__
            if cls is A.Replication:
                replication = x
            elif cls is A.Signature:
                sig = x
            elif cls is A.Options:
                if init is None:
                    options = x
                else:
                    init_options = x
            elif cls is Tok:
                if x.type in ("TILDE", "EQUAL"):
                    tilde = self._tspan(x)
            else:
                init = _u(x)
        return replication, sig, options, init, init_options, tilde

    def morphism_decl(self, c):
        _, sig, options, init, init_options, tilde = self._morphism_parts(c, 2)
        return A.MorphismDecl(self._name(c[0]), c[1].items, sig, options, init, init_options,
                              tilde, (), self._span(c))

    def continuous_decl(self, c):
        rep, sig, options, init, init_options, tilde = self._morphism_parts(c, 2)
        return A.ContinuousDecl(self._name(c[0]), self._name(c[1]), rep, sig, options, init,
                                init_options, tilde, (), self._span(c))

    def stochastic_decl(self, c):
        rep, sig, options, _, _, _ = self._morphism_parts(c, 2)
        return A.StochasticDecl(self._name(c[0]), self._name(c[1]), rep, sig, options, (),
                                self._span(c))

    def latent_decl(self, c):
        _, sig, options, init, _, _ = self._morphism_parts(c, 2)
        return A.LatentDecl(self._name(c[0]), self._name(c[1]), sig, options, init, (),
                            self._span(c))

    def observed_decl(self, c):
        _, sig, options, init, _, _ = self._morphism_parts(c, 2)
        return A.ObservedDecl(self._name(c[0]), self._name(c[1]), sig, options, init, (),
                              self._span(c))

    def embed_decl(self, c):
        rep, sig, options, _, _, _ = self._morphism_parts(c, 2)
        return A.EmbedDecl(self._name(c[0]), self._name(c[1]), rep, sig, options, (),
                           self._span(c))

    def discretize_decl(self, c):
        # "discretize" NAME ":" type_expr "->" INT [options]
        return A.DiscretizeDecl(self._name(c[0]), self._name(c[1]), _u(c[3]),
                                self._tspan(c[4]), self._number(c[5]), c[6], (),
                                self._span(c))

    def sig(self, c):
        return A.Signature(_u(c[0]), _u(c[2]), self._tspan(c[1]), self._span(c))

    def replication(self, c):
        return A.Replication(self._number(c[1]), self._span(c))

    def family_call(self, c):
        args = c[2].items if c[2].__class__ is _Seq else ()
        return A.FamilyCall(self._name(c[0]), args, self._span(c))

    def options(self, c):
        return A.Options(tuple(x for x in c if x.__class__ is A.Option), self._span(c))

    def _opt_value(self, x):
        if x.__class__ is Tok:  # a plain NAME value
            name = self._name(x)
            return A.OptName(name, False, name.span)
        return x

    def option(self, c):
        value = self._opt_value(c[2]) if len(c) > 2 and c[2] is not None else None
        return A.Option(self._name(c[0]), value, self._span(c))

    def opt_list(self, c):
        items = tuple(self._opt_value(x) for x in c
                      if x is not None and not (x.__class__ is Tok
                                                and x.type in ("LSQB", "RSQB", "COMMA")))
        return A.OptList(items, self._span(c))

    def opt_call(self, c):
        items = tuple(self._opt_value(x) for x in c[2:]
                      if x is not None and not (x.__class__ is Tok
                                                and x.type in ("LPAR", "RPAR", "COMMA")))
        return A.OptCall(self._name(c[0]), items, self._span(c))

    def role_word(self, c):
        name = self._name(c[0])
        return A.OptName(name, True, name.span)

    # ---------------------------------------------------------- top-level bindings ----
    def define_decl(self, c):
        where = self._tspan(c[4]) if len(c) > 4 and c[4] is not None else None
        return A.DefineDecl(self._name(c[0]), self._name(c[1]), _u(c[3]), where, (),
                            self._span(c))

    def export_decl(self, c):
        return A.ExportDecl(self._name(c[0]), _u(c[1]), (), self._span(c))

    # --------------------------------------------------------- morphism expressions ----
    def compose(self, c):
        op = self._name(c[1])
        left, right = _u(c[0]), _u(c[2])
        if op.text == "<<":  # `a << b` means `b >> a` (ast docstring)
            left, right = right, left
        return A.Compose(left, right, op, self._span(c))

    def tensor(self, c):
        return A.Tensor(_u(c[0]), _u(c[2]), self._tspan(c[1]), self._span(c))

    def marginalize(self, c):
        # mpost "." "marginalize" "(" NAME ("," NAME)* ","? ")"
        return A.Marginalize(_u(c[0]), self._names(c[4:]), self._name(c[2]), self._span(c))

    def method(self, c):
        # mpost "." NAME ["(" [args] ")"]
        if len(c) > 3 and c[3] is not None:
            args = c[4].items if c[4].__class__ is _Seq else ()
        else:
            args = None
        return A.Method(_u(c[0]), self._name(c[2]), args, self._span(c))

    def ref(self, c):
        name = self._name(c[0])
        return A.Ref(name, name.span)

    def identity(self, c):
        return A.Identity(self._name(c[2]), self._name(c[0]), self._span(c))

    def fan(self, c):
        return A.Fan(tuple(self._nodes(c[2:])), self._name(c[0]), self._span(c))

    def repeat(self, c):
        count = next((self._number(x) for x in c[3:] if x.__class__ is Tok
                      and x.type == "INT"), None)
        return A.Repeat(_u(c[2]), count, self._name(c[0]), self._span(c))

    def stack(self, c):
        return A.Stack(_u(c[2]), self._number(c[4]), self._name(c[0]), self._span(c))

    def scan(self, c):
        opts = tuple(x for x in c[3:] if x.__class__ is A.ScanOpt)
        return A.Scan(_u(c[2]), opts, self._name(c[0]), self._span(c))

    def parser_kw(self, c):
        return c[0]

    def parser(self, c):
        args = tuple(x for x in c if x.__class__ is A.ParserArg)
        return A.ParserExpr(self._name(c[0]), args, self._span(c))

    def scan_opt(self, c):
        return A.ScanOpt(self._name(c[0]), self._name(c[2]), self._span(c))

    def parser_arg(self, c):
        value = c[2]
        if value.__class__ is Tok:
            value = self._number(value) if value.type == "INT" else self._name(value)
        return A.ParserArg(self._name(c[0]), value, self._span(c))

    def id_list(self, c):
        return A.IdList(self._names(c), self._span(c))

    # -------------------------------------------------------------------- programs ----
    def params(self, c):
        params = [self._name(x) if x.__class__ is Tok else x for x in c
                  if x.__class__ is A.TypedParam or (x.__class__ is Tok and x.type == "NAME")]
        return _Params(params, self._start(c[0]), self._end(c[-1]))

    def typed_param(self, c):
        return A.TypedParam(self._name(c[0]), c[2], self._span(c))

    def kind_ref(self, c):
        name = self._name(c[0])
        return A.KindRef(name, name.span)

    def kind_mor(self, c):
        # NAME "[" type_expr "," type_expr "]"
        return A.KindMor(self._name(c[0]), _u(c[2]), _u(c[4]), self._span(c))

    def program_decl(self, c):
        # "program" NAME [params] ":" sig [options] step* return_step
        params = c[2]
        sig = c[4]
        options = c[5]
        steps = self._nest_bodies([x for x in c[6:-1] if x is not None])
        if params is None:
            names, kinds = None, ()
        else:
            names = tuple(p.name if p.__class__ is A.TypedParam else p for p in params.names)
            kinds = tuple(p if p.__class__ is A.TypedParam else None for p in params.names)
        return A.ProgramDecl(
            self._name(c[0]), self._name(c[1]), names,
            Span(params.start, params.end) if params is not None else None, kinds,
            sig, options, steps, c[-1], (), self._span(c),
        )

    def _column(self, offset: int) -> int:
        """Code-point column of document offset `offset` within the text being parsed."""
        local = offset - self.offset
        return local - (self.text.rfind("\n", 0, local) + 1)

    def _nest_bodies(self, steps: list) -> tuple:
        """Give each `marginalize` step its body: the run of steps right after it whose first
        token is in a greater column (spec part 2 §2.3), nested blocks included."""
        if not any(s.__class__ is A.MarginalizeStep for s in steps):
            return tuple(steps)
        out: list = []
        i = 0
        while i < len(steps):
            step, i = self._with_body(steps, i)
            out.append(step)
        return tuple(out)

    def _with_body(self, steps: list, i: int):
        """The step at `i` (with its body if it is a `marginalize`) and the index after it."""
        step = steps[i]
        i += 1
        if step.__class__ is not A.MarginalizeStep:
            return step, i
        column = self._column(step.span.start)
        body: list = []
        while i < len(steps) and self._column(steps[i].span.start) > column:
            inner, i = self._with_body(steps, i)
            body.append(inner)
        if body:
            end = body[-1].span.end
            step = A.MarginalizeStep(step.keyword, step.name, step.annotation, step.target,
                                     step.options, tuple(body), step.docs,
                                     Span(step.span.start, end))
        return step, i

    def draw_step(self, c):
        return A.DrawStep(self._name(c[0]), c[1], c[3], (), self._span(c))

    def bind_step(self, c):
        return A.BindStep(self._name(c[1]), self._name(c[0]), c[2], (), self._span(c))

    def _annotated_step(self, c, cls):
        # KW pattern [":" type_expr] "<-" target [options]
        annotation = _u(c[3]) if c[3] is not None else None
        return cls(self._name(c[0]), c[1], annotation, c[5], c[6], (), self._span(c))

    def sample_step(self, c):
        return self._annotated_step(c, A.SampleStep)

    def observe_step(self, c):
        return self._annotated_step(c, A.ObserveStep)

    def observe_tilde_step(self, c):
        return A.ObserveTildeStep(self._name(c[0]), c[1], c[3], (), self._span(c))

    def let_step(self, c):
        return A.LetStep(self._name(c[0]), self._name(c[1]), _u(c[3]), (), self._span(c))

    def call_step(self, c):
        # LET NAME "<-" target [options]
        return A.CallStep(self._name(c[0]), self._name(c[1]), c[3], c[4], (), self._span(c))

    def marginalize_step(self, c):
        # "marginalize" NAME [":" type_expr] "<-" target [options]
        annotation = _u(c[3]) if c[3] is not None else None
        return A.MarginalizeStep(self._name(c[0]), self._name(c[1]), annotation, c[5], c[6],
                                 (), (), self._span(c))

    def score_step(self, c):
        return A.ScoreStep(self._name(c[0]), self._name(c[1]), _u(c[3]), (), self._span(c))

    def return_step(self, c):
        return A.ReturnStep(self._name(c[0]), c[1], (), self._span(c))

    def pat_var(self, c):
        name = self._name(c[0])
        return A.PatVar(name, name.span)

    def pat_tuple(self, c):
        return A.PatTuple(self._names(c), False, self._span(c))

    def pat_bracket(self, c):
        return A.PatTuple(self._names(c), True, self._span(c))

    def ret_var(self, c):
        name = self._name(c[0])
        return A.RetVar(name, name.span)

    def ret_tuple(self, c):
        return A.RetTuple(tuple(x for x in c if x.__class__ is A.RetItem), self._span(c))

    def ret_item(self, c):
        if len(c) > 2 and c[2] is not None:  # `label : var`
            return A.RetItem(self._name(c[2]), self._name(c[0]), self._span(c))
        return A.RetItem(self._name(c[0]), None, self._span(c))

    def target(self, c):
        if len(c) == 1 or c[1] is None:
            args = None
        else:
            args = c[2].items if c[2].__class__ is _Seq else ()
        return A.Target(self._name(c[0]), args, self._span(c))

    def args(self, c):
        items = tuple(self._nodes(c))
        return _Seq(items, self._start(c[0]), self._end(c[-1]))

    def named_arg(self, c):
        return A.NamedArg(self._name(c[0]), _u(c[2]), self._span(c))

    # ------------------------------------------------------------------ arithmetic ----
    def _binop(self, c):
        op = c[1]
        return A.BinOp(op.value, _u(c[0]), _u(c[2]), self._tspan(op), self._span(c))

    add = sub = mul = div = _binop

    def neg(self, c):
        return A.Neg(_u(c[1]), self._span(c))

    def lit(self, c):
        num = c[0] if c[0].__class__ is A.Number else self._number(c[0])
        return A.Lit(num, num.span)

    def var(self, c):
        name = self._name(c[0])
        return A.Var(name, name.span)

    def call(self, c):
        return A.Call(self._name(c[0]), tuple(self._nodes(c[2:])), self._span(c))

    def index(self, c):
        return A.Index(self._name(c[0]), tuple(self._nodes(c[2:])), self._span(c))

    def method_call(self, c):
        # NAME "." NAME "(" [arg ("," arg)* ","?] ")"
        return A.MethodCall(self._name(c[0]), self._name(c[2]), tuple(self._nodes(c[4:])),
                            self._span(c))

    def factor_expr(self, c):
        # "factor" factor_binder ("," factor_binder)* NAME factor_body
        binders = tuple(x for x in c if x.__class__ is A.FactorBinder)
        in_word = self._name(c[-2])
        return A.FactorExpr(self._name(c[0]), binders, in_word, _u(c[-1]), self._span(c))

    def factor_binder(self, c):
        return A.FactorBinder(self._name(c[0]), _u(c[2]), self._span(c))

    def factor_cases(self, c):
        return A.FactorCases(tuple(x for x in c if x.__class__ is A.FactorCase), self._span(c))

    def factor_case(self, c):
        return A.FactorCase(self._number(c[0]), _u(c[2]), self._span(c))

    def lambda_(self, c):
        return A.Lambda(self._name(c[0]), _u(c[2]), self._tspan(c[1]), self._span(c))

    def vec(self, c):
        return A.Vec(tuple(self._nodes(c)), self._span(c))

    def __default__(self, data, children, meta):
        # A rule without a method (lark's name for this hook, with its signature). lark's
        # internal repetition rules (``__start_star_0``...): the parent rule's child filter
        # splices their ``.children`` into its own children list.
        if data.startswith("_"):
            return _Spliced(children)
        raise AssertionError(f"no AST builder for grammar rule {data!r}")  # grammar drift


__all__ = ["AstBuilder"]
