"""What each top-level statement means: the checking rules, run by `qvr.semantics.engine`.

`Checker` holds one run's `Context` and the rules: `declare_statement` (pass 1: every
top-level name, so a use before the declaration is QVR014, not "undefined"),
`check_statement` (pass 2: resolve, infer and check one statement with its `where` bindings)
and `finish_steps` (after all statements: unused names, §4.7, and the missing export,
QVR055). The engine decides which statements to run them on and in which frame; nothing here
knows whether a result will be reused.

An internal failure on a statement is contained to that statement by the engine and reported
as an error with code `internal` over it (and "never used" hints are then left out, since that
statement's uses are unknown), so a module that could not be fully checked is never reported
clean. Everything is linear in the size of the module.
"""
from __future__ import annotations

import os
import re
from itertools import compress, repeat
from operator import attrgetter, eq, is_, is_not, itemgetter, not_, or_
from typing import Optional

from ..diagnostics import Related, Severity
from ..stepwise import finish
from ..syntax import ast as A
from ..syntax.span import LineIndex, Span
from ..syntax.vocabulary import DECLARATION_KINDS
from .context import Context
from .declarations import check_morphism
from .deprecations import statement_deprecations
from .expressions import infer, world, has_fuzzy_latent
from .families import BUILTIN_NAMES, FAMILIES, QUANTALES
from .declarations import check_composition
from .grammar import cat_refs, check_rule
from .model import DefineInfo, Symbol
from .objects import resolve_type
from .programs import check_program

# QVR_SEMANTICS_DEBUG=1 re-raises internal errors instead of containing them (development).
_DEBUG = bool(os.environ.get("QVR_SEMANTICS_DEBUG"))

# The code of the error that stands in for a statement the checker failed on (a bug in the
# checker, or input beyond its limits): not a catalogue code (spec §4.8 reserves those), and
# the same word `qvr run` uses for its internal failures.
INTERNAL_CODE = "internal"


def _internal_message(exc: BaseException, what: str) -> str:
    if isinstance(exc, RecursionError):
        return (f"{what} is nested too deeply for the checker; split it into smaller "
                "`define`s")
    return (f"internal error: the checker failed on {what} ({type(exc).__name__}: {exc}); "
            "it was not checked")


DECL_KIND = {
    A.ObjectDecl: "object", A.TypeDecl: "object", A.SpaceDecl: "object",
    A.CategoryDecl: "category", A.RuleDecl: "rule", A.ProgramDecl: "program",
    A.DefineDecl: "define", A.OpaqueDecl: "opaque",
}
for _cls in A.MORPHISM_DECLS:
    DECL_KIND[_cls] = "morphism"


# Identifiers outside comments, in the text of a declaration that does not parse.
_WORD_OR_COMMENT = re.compile(r"#\{(?:.|\n)*?\}#|#[^\n]*|(?P<word>(?!\d)\w+)")
# Identifiers outside comments and strings, in the text of a tier-3 block (spec part 2 §2.2
# allows strings there; a quoted word is not a reference).
_WORD_IN_BLOCK = re.compile(
    r"#\{(?:.|\n)*?\}#|#[^\n]*|\"(?:[^\"\\\n]|\\.)*\"?|'(?:[^'\\\n]|\\.)*'?"
    r"|(?P<word>(?!\d)\w+)")

# The tier-3 collection operations (spec part 2 §5.11): recognised only when no declaration
# of the name is visible; declaring one of these names (or `parse`) is not QVR019.
COLLECTION_NAMES = frozenset(("map", "fold", "traverse", "length", "logsumexp_over", "filter"))
# Object constructors whose values are tier 3 (spec part 2 §5.10 "Free objects").
TIER3_OBJECTS = frozenset(("FreeResiduated", "FreeMonoid"))
# Postfix methods that are checked: `.marginalize(…)` has its own node, `.dagger` is T1 and
# `goal_weight` is the tier-2 chart method.
CHECKED_METHODS = frozenset(("dagger", "marginalize"))
# Diagnostics kept for a declaration that involves ⊤ (spec part 2 §5.11): names must still
# resolve, and what is said about declarations, objects and options (codes below QVR040) and
# family arguments does not depend on types; the type, width, plate, return and effect
# diagnostics (and the "never used" warnings, whose uses may sit in unchecked forms) are
# dropped. Hints and information are kept.
_KEPT_WHEN_UNCHECKED = frozenset(("QVR063", "QVR110", "QVR134"))


def _kept_when_unchecked(code: str) -> bool:
    return code in _KEPT_WHEN_UNCHECKED or (code.startswith("QVR") and code[3:].isdigit()
                                            and int(code[3:]) < 40)


_MAYBE_TIER3_OBJECT = re.compile("|".join(sorted(TIER3_OBJECTS)))
# A cheap first test before walking a declaration's tree for tier-3 forms.
_MAYBE_TIER3 = re.compile(
    r"\.(?=[^\W\d])|->|\b(?:map|fold|traverse|length|logsumexp_over|filter|parse)\b")
# A looser test run before `_MAYBE_TIER3`, several times faster: with no lookaround and no
# `\b` in front, the regular expression engine skips ahead to the characters that can start
# a match. Whatever `_MAYBE_TIER3` finds, it finds too.
_MAYBE_TIER3_LOOSE = re.compile(
    r"\.[^\W\d]|->|map|fold|traverse|length|logsumexp_over|filter|parse")

# Object values that cannot hold a constructor call (so no tier-3 constructor): what a
# declaration's value most often is, told apart without walking it.
_FLAT_OBJECT_VALUES = frozenset((A.TypeRef, A.TypeCard, A.TypeCtor, A.BracketCtor, A.EnumSet))
# Object declaration -> (the declaration, whether its value calls a tier-3 constructor), for
# `Checker.unchecked_names`, which asks it of every object declaration on every run of the
# engine: the parsed declaration of an unchanged chunk is the same node from run to run, so
# only new declarations are walked. The node is kept with its answer so that an id reused by
# a later node cannot hit; the memo is emptied when it reaches its bound.
_TIER3_VALUE_MEMO: dict = {}
_TIER3_VALUE_MEMO_LIMIT = 1 << 14


def _tier3_object_value(d) -> bool:
    """Whether the value of object declaration `d` uses a tier-3 constructor."""
    value = d.value
    if value.__class__ in _FLAT_OBJECT_VALUES:
        return False
    entry = _TIER3_VALUE_MEMO.get(id(d))
    if entry is not None and entry[0] is d:
        return entry[1]
    found = any(n.__class__ is A.TypeCall and n.ctor.text in TIER3_OBJECTS
                for n in A.nodes(value))
    if len(_TIER3_VALUE_MEMO) >= _TIER3_VALUE_MEMO_LIMIT:
        _TIER3_VALUE_MEMO.clear()
    _TIER3_VALUE_MEMO[id(d)] = (d, found)
    return found


def decl_kind(d) -> Optional[str]:
    """The kind of the names a top-level declaration introduces (None: it introduces none).
    A declaration with a syntax error (`A.BrokenDecl`) declares what its keyword says."""
    if d.__class__ is A.BrokenDecl:
        return DECLARATION_KINDS.get(d.keyword.text)
    return DECL_KIND.get(type(d))


# ------------------------------------------------------------------------ where groups ----
def group_where(ctx: Context, statements, col=None, origin_of=None) -> tuple[list, dict]:
    """Split statements into top-level ones and `where` bindings (spec §3.3).

    Returns (top_level_statements, bindings) with bindings[id(owner)] = list of binding
    DefineDecls (each possibly an owner itself). `col(d)` is the column of a statement's
    keyword (by default from its span in the whole text); `origin_of(d)` the frame of a
    statement checked in a frame of its own (see Context.origin)."""
    return finish(group_where_steps(ctx, statements, col, origin_of))


# Whole-module passes (grouping, declaring, the final "never used" pass) yield after this many
# statements or names when they run as steps: a 10 MB module has about 250,000 statements.
PASS_STEP = 2048
_SECOND = itemgetter(1)
_KIND = attrgetter("kind")
_CLASS = attrgetter("__class__")
_NAME = attrgetter("name")
_NO_USERS: frozenset = frozenset()
_WHERE = attrgetter("where")


def group_where_steps(ctx: Context, statements, col=None, origin_of=None):
    """`group_where` as a generator (`qvr.stepwise`)."""
    bindings: dict[int, list] = {}
    # Most modules have no `where` at all: then every statement is top-level (found in C
    # loops, a piece at a time; this runs over every statement per keystroke).
    for at in range(0, len(statements), PASS_STEP):
        piece = statements[at:at + PASS_STEP]
        defines = compress(piece, map(is_, map(_CLASS, piece), repeat(A.DefineDecl)))
        if any(map(is_not, map(_WHERE, defines), repeat(None))):
            break
        yield
    else:
        return list(statements), bindings
    top: list = []
    if col is None:
        col = lambda d: ctx.line_index.position(d.keyword.span.start)[1]
    i, n = 0, len(statements)
    while i < n:
        s = statements[i]
        top.append(s)
        i += 1
        if isinstance(s, A.DefineDecl) and s.where is not None:
            i = _take_bindings(ctx, statements, s, i, bindings, col, origin_of)
        if not len(top) % PASS_STEP:
            yield
    return top, bindings


def _take_bindings(ctx: Context, statements, owner, i: int, bindings: dict, col,
                   origin_of) -> int:
    """Collect `owner`'s bindings from `statements[i]` on into `bindings` (see
    `group_where_steps`); returns the index after them.

    A module-level function, not a closure: a closure that calls itself is a reference
    cycle (the function and its own cell), and this one would hold the `Context`, so that
    everything a run records would wait for the cyclic garbage collector instead of being
    freed with its last reference."""
    c = col(owner)
    mine = []
    n = len(statements)
    while i < n:
        s = statements[i]
        if not isinstance(s, A.DefineDecl) or col(s) <= c:
            break
        mine.append(s)
        i += 1
        if s.where is not None:
            i = _take_bindings(ctx, statements, s, i, bindings, col, origin_of)
    bindings[id(owner)] = mine
    if not mine:
        if origin_of is not None:
            ctx.origin = origin_of(owner)
        ctx.error("QVR006", f"`where` of `{owner.name.text}` has no bindings (bindings must be "
                  f"indented more than `{owner.name.text}`)", owner.where)
    return i


# ----------------------------------------------------------------------------- checker ----
def _replicate_count(d) -> int:
    rep = getattr(d, "replication", None)
    if rep is not None:
        return int(rep.count.value) if rep.count.is_int and rep.count.value >= 1 else 1
    for block in (getattr(d, "options", None), getattr(d, "init_options", None)):
        if block is None:
            continue
        for o in block.items:
            if (o.key.text == "replicate" and isinstance(o.value, A.Number) and o.value.is_int
                    and o.value.value >= 1):
                return int(o.value.value)
    return 1


# The order diagnostics are reported in: (start, end, code). An `attrgetter` builds the key
# in C (a module's check sorts tens of thousands of diagnostics).
_diagnostic_order = attrgetter("span.start", "span.end", "code")


def _doc(d) -> Optional[str]:
    docs = getattr(d, "docs", ())
    return "\n".join(x.text for x in docs) if docs else None


class Checker:
    """The rules, applied to the statements of one text (see the module docstring)."""

    def __init__(self, text: str, line_index: LineIndex):
        self.text = text
        self.index = line_index
        self.ctx = Context(text, line_index)
        self.ctx.schema_parser = False
        self.ctx.owner_unused = []
        self.export = None  # the primary (first) export
        self.export_type = None
        self.export_texts: set = set()  # every export's expression as written
        # `where` bindings by id of their owner (`group_where`), set by the engine
        self.bindings: dict = {}
        # Set when a statement could not be checked: its uses were not all recorded, so
        # "never used" hints would be guesses and are left out.
        self.unchecked = False

    # -- pass 1: declare every top-level name ------------------------------------------------
    def declare_statement(self, i: int, d) -> None:
        ctx = self.ctx
        kind = decl_kind(d)
        if kind is None:
            return
        for name in A.declared_names(d):
            sym = self.new_symbol(name, kind, d)
            if sym is None:
                continue
            ctx.declared_at[name.text] = i
            if kind == "morphism":
                k = _replicate_count(d)
                if k > 1:
                    members = [f"{name.text}_{j}" for j in range(k)]
                    ctx.groups[name.text] = members
                    for m in members:
                        if m in ctx.top:
                            continue
                        msym = Symbol(m, "morphism", name.span, d.span, doc=_doc(d),
                                      decl=d, origin=ctx.origin)
                        ctx.symbols.append(msym)
                        ctx.top[m] = msym
                        ctx.declared_at[m] = i

    def new_symbol(self, name: A.Name, kind: str, d, *, table=None) -> Optional[Symbol]:
        ctx = self.ctx
        table = ctx.top if table is None else table
        first = table.get(name.text)
        if first is None and table is not ctx.top:
            first = ctx.top.get(name.text)
        if first is not None:
            where = ctx.frame_span(first)
            ctx.error("QVR015", f"`{name.text}` is already declared (line "
                      f"{ctx.line_of(where)})", name.span,
                      related=(Related(where, f"first declaration of `{name.text}`"),))
            ctx.add_symbol(Symbol(name.text, kind, name.span, d.span, doc=_doc(d), decl=d))
            return None
        if (name.text in FAMILIES or name.text in BUILTIN_NAMES) and kind != "opaque" \
                and name.text not in COLLECTION_NAMES and name.text != "parse":
            what = "distribution family" if name.text in FAMILIES else "builtin function"
            ctx.warning("QVR019", f"`{name.text}` shadows the {what} `{name.text}`", name.span)
        sym = ctx.add_symbol(Symbol(name.text, kind, name.span, d.span, doc=_doc(d), decl=d))
        table[name.text] = sym
        return sym

    # -- pass 2: check statements in order ------------------------------------------------------
    def check_statement(self, d) -> None:
        ctx = self.ctx
        ctx.pending = set()
        if d.__class__ is A.BrokenDecl:  # its syntax error is reported; its names are declared
            self.check_broken(d)
            return
        keyword = getattr(d, "keyword", None)
        start = keyword.span.start if keyword is not None else d.span.start
        ctx.statement_start = self.text.rfind("\n", 0, start + ctx.origin) + 1 - ctx.origin
        statement_deprecations(ctx, d)
        if d.__class__ is A.OpaqueDecl:
            self.check_opaque(d)
            return
        if d.__class__ is A.CompositionDecl:
            q = check_composition(ctx, d)
            if q is not None:
                ctx.quantale = q
            ctx.add_symbol(Symbol(d.name.text, "quantale", d.name.span, d.span,
                                  detail=f"composition {q or d.name.text}", decl=d))
            return
        check = _STATEMENT_CHECKS.get(d.__class__)
        if check is not None:
            check(self, d)

    def check_object_decl(self, d) -> None:
        """`object`/`type`/`space` statements: the object table and the symbols' hover."""
        if self.tier3_object(d):
            return
        ctx = self.ctx
        obj = resolve_type(ctx, d.value, finite_position=d.__class__ is not A.ObjectDecl
                           and d.value.__class__ is A.Product)
        if obj is None:
            return
        for name in A.declared_names(d):
            if name.text not in ctx.objects:
                named = obj.named(name.text)
                ctx.objects[name.text] = named
                sym = ctx.top.get(name.text)
                if sym is not None and sym.decl is d:
                    sym.type = named
                    # the structure, not a name (an anonymous object keeps its display text)
                    shown = (obj if obj.name is None else obj.named(None)).display()
                    sym.detail = f"object {name.text} : {shown}"
                    if d.value.__class__ is A.EnumSet:  # hover shows the labels
                        sym.detail = f"object {name.text} : {{" + ", ".join(
                            label.text for label in d.value.labels) + "}"

    def check_quantale_decl(self, d: A.QuantaleDecl) -> None:
        ctx = self.ctx
        q = d.name.text.lower()
        if q not in QUANTALES:
            ctx.error("QVR037", f"unknown quantale `{d.name.text}`; available: "
                      f"{', '.join(QUANTALES)}", d.name.span)
        else:
            ctx.quantale = q
        ctx.add_symbol(Symbol(d.name.text, "quantale", d.name.span, d.span,
                              detail=f"quantale {q}", decl=d))

    def check_category_decl(self, d: A.CategoryDecl) -> None:
        ctx = self.ctx
        for name in d.names:
            sym = ctx.top.get(name.text)
            if sym is not None and sym.decl is d:
                sym.detail = f"category {name.text}"

    def check_morphism_decl(self, d) -> None:
        check_morphism(self.ctx, d)
        for name in A.declared_names(d):
            self.describe_morphism(name.text, d)

    def check_program_decl(self, d: A.ProgramDecl) -> None:
        ctx = self.ctx
        ctx.pending = {d.name.text}
        with self.unchecked_parts(d, d.name.text) as involved:
            info = check_program(ctx, d)
            self.program_over(d, involved.start, involved.symbols_start)

        ctx.programs[d.name.text] = info
        sym = ctx.top.get(d.name.text)
        if sym is not None and sym.decl is d:
            sym.type = info.effective
            detail = f"program {d.name.text} : {info.declared.display() if info.declared else '?'}"
            if info.promoted and info.effective is not None:
                detail += f" (promoted: {info.effective.display()})"
            sym.detail = detail

    def check_define_decl(self, d: A.DefineDecl) -> None:
        ctx = self.ctx
        ctx.current_define = d.name.text
        roots = [d] + self.bindings.get(id(d), [])
        try:
            with self.unchecked_parts(roots, d.name.text) as involved:
                info = self.check_define(d, ctx.top)
                if (info is not None and not involved and self.algebra_unknown
                        and info.world is not None):
                    involved.append("composition")  # finite world, unknown algebra
                    self.drop_checked_diagnostics(involved.start, (), everything=True)
        finally:
            ctx.current_define = None
        if info is not None:
            if involved:
                info.type = None
                sym = ctx.top.get(d.name.text)
                if sym is not None and sym.decl is d:
                    sym.type = None
                    sym.detail = f"define {d.name.text} : unchecked (tier 3)"
            ctx.defines[d.name.text] = info

    def check_export_decl(self, d: A.ExportDecl) -> None:
        # several exports are allowed; the first is the primary one (spec part 2 §5.10)
        ctx = self.ctx
        written = ctx.src(d.expr.span)
        texts = self.export_texts
        if written in texts:
            ctx.error("QVR054", f"`{written}` is exported twice", d.keyword.span)
            return
        texts.add(written)
        ctx.order_free = True
        with self.unchecked_parts(d, written) as involved:
            t = infer(ctx, d.expr)
        if self.export is None:
            self.export = d
            self.export_type = None if involved else t

    def check_broken(self, d: A.BrokenDecl) -> None:
        """A declaration with a syntax error is not checked, but the top-level names its text
        mentions are references (so they are not "never used", and navigation finds them)."""
        ctx = self.ctx
        own = {name.text for name in d.names}
        for name in d.names:
            sym = ctx.top.get(name.text)
            if sym is not None and sym.decl is d:
                sym.detail = f"{d.keyword.text} {name.text} (not checked: it has a syntax error)"
        start = d.names[-1].span.end
        for found in _WORD_OR_COMMENT.finditer(ctx.src(Span(start, d.span.end))):
            word = found.group("word")
            if word is None or word in own:
                continue
            sym = ctx.top.get(word)
            if sym is not None:
                ctx.add_reference(Span(start + found.start(), start + found.end()), sym)

    # -- tier 3 (spec part 2 §5.11) ------------------------------------------------------------
    def check_opaque(self, d: A.OpaqueDecl) -> None:
        """An opaque block: QVR110 at its head word and name; the words of its text that name
        top-level declarations are references to them."""
        ctx = self.ctx
        head, name = d.head.text, d.name.text
        ctx.report("QVR110", Severity.INFORMATION,
                   f"`{head} {name}` is parsed but not checked or run (tier 3); uses of "
                   f"`{name}` are unchecked", Span(d.head.span.start, d.name.span.end))
        sym = ctx.top.get(name)
        if sym is not None and sym.decl is d:
            sym.detail = f"{head} {name} : unchecked (tier 3: {head})"
        start = d.name.span.end
        for found in _WORD_IN_BLOCK.finditer(ctx.src(Span(start, d.span.end))):
            word = found.group("word")
            if word is None:
                continue
            target = ctx.top.get(word)  # the block's own name too (a recursive rule)
            if target is not None and target.scope is None:
                ctx.add_reference(Span(start + found.start(), start + found.end()), target)

    @property
    def unchecked_names(self) -> frozenset:
        """Names whose use is unchecked (⊤, spec part 2 §5.11): opaque-block declarations and
        objects whose value is tier 3. Derived from the declarations once per run (every
        name is declared before any statement is checked)."""
        ctx = self.ctx
        found = getattr(ctx, "unchecked_names", None)
        if found is None:
            names, algebras = set(), []
            for sym in ctx.top.values():
                d = sym.decl
                if sym.kind == "opaque":
                    names.add(sym.name)
                    if d.head.text == "composition":
                        algebras.append(ctx.declared_at.get(sym.name, 0))
                elif (sym.kind == "object" and isinstance(d, A.OBJECT_DECLS)
                        and _tier3_object_value(d)):
                    names.add(sym.name)
            found = ctx.unchecked_names = frozenset(names)
            # the cheap test of `tier3_forms`: does a declaration's text mention one of them
            ctx.unchecked_pattern = re.compile(r"\b(?:" + "|".join(
                map(re.escape, sorted(names))) + r")\b") if names else None
            # after a user-defined algebra, finite-world expressions are ⊤ (§5.10)
            ctx.unknown_algebra_from = min(algebras, default=None)
        return found

    @property
    def algebra_unknown(self) -> bool:
        """True after a `composition` opaque block (a user-defined algebra)."""
        self.unchecked_names
        start = self.ctx.unknown_algebra_from
        return start is not None and self.ctx.current_index > start

    def tier3_object(self, d) -> bool:
        """`object C : FreeResiduated(…)` and other tier-3 object values: QVR110 at the
        constructor call; the object is ⊤. Names given to the constructor are references."""
        if not _MAYBE_TIER3_OBJECT.search(self.ctx.src(d.value.span)):
            return False  # the cheap test first: most objects are no constructor call at all
        forms = [n for n in A.nodes(d.value)
                 if n.__class__ is A.TypeCall and n.ctor.text in TIER3_OBJECTS]
        if not forms:
            return False
        ctx = self.ctx
        names = A.declared_names(d)
        for form in forms:
            ctx.report("QVR110", Severity.INFORMATION,
                       f"`{form.ctor.text}(…)` is not checked (tier 3): `{names[0].text}` has no "
                       "static type", form.span)
            for a in form.args:
                if a.__class__ is A.CtorName:
                    ctx.lookup_top(a.name, want="object", undefined_code="QVR010",
                                   undefined_msg=f"undefined type `{a.name.text}`",
                                   allowed_kinds=("object",))
        for name in names:
            sym = ctx.top.get(name.text)
            if sym is not None and sym.decl is d:
                sym.detail = (f"object {name.text} : unchecked (tier 3: "
                              f"{forms[0].ctor.text})")
        return True

    def tier3_forms(self, roots, binding: str):
        """(involves ⊤, tier-3 forms, spans of recognised words) of the declarations
        `roots`: forms are lambdas, calls of the collection operations and methods other than
        the checked ones; recognised words are `parse` and collection names when nothing
        declares them. The walk does not enter a form."""
        ctx = self.ctx
        roots = roots if isinstance(roots, list) else [roots]
        self.unchecked_names
        named = ctx.unchecked_pattern
        if not any((_MAYBE_TIER3_LOOSE.search(body) and _MAYBE_TIER3.search(body))
                   or (named is not None and named.search(body))
                   for body in (ctx.src(_body_span(r)) for r in roots)):
            return False, [], []
        declared = lambda n: n in ctx.top or n in ctx.local_top
        involved, forms, words = False, [], []
        todo = []
        for root in roots:
            if root.__class__ is A.ProgramDecl:  # a form is named by the step holding it
                todo.extend((step, _step_label(ctx, step) or binding) for step in root.steps)
            else:
                todo.append((root, binding))
        while todo:
            node, owner = todo.pop()
            if node.__class__ is tuple:
                todo.extend((x, owner) for x in node)
                continue
            cls = node.__class__
            slots = getattr(cls, "__slots__", None)
            if not slots or cls is Span:
                continue
            if cls is A.Name:
                if node.text in self.unchecked_names:
                    involved = True
                continue
            if cls is A.Call and node.name.text in self.unchecked_names:
                words.append(node.name.span)  # `f(x)` of a tier-3 `define f(…)`: ⊤
            form = None
            if cls is A.Lambda:
                form = f"{node.param.text} -> …"
            elif cls is A.Call and node.name.text in COLLECTION_NAMES and not declared(
                    node.name.text):
                form = f"{node.name.text}(…)"
                words.append(node.name.span)
            elif cls is A.MethodCall and node.method.text != "goal_weight":
                form = f"{node.receiver.text}.{node.method.text}(…)"
            elif cls is A.Method and node.name.text not in CHECKED_METHODS:
                form = f".{node.name.text}" + ("(…)" if node.args is not None else "")
            elif cls is A.Call and node.name.text == "parse" and not declared("parse"):
                words.append(node.name.span)
                if not self.check_parse(node) and node.args:
                    words.append(node.args[0].span)  # one diagnostic about it is enough
            if form is not None:
                forms.append((form, owner, node.span))
                continue
            for f in slots:
                v = getattr(node, f, None)
                if v is not None and not isinstance(v, (str, int, float, bool)):
                    todo.append((v, owner))
        for root in roots:
            if root.__class__ is A.ProgramDecl and words:
                self.chart_uses(root, words)
        return involved or bool(forms), sorted(forms, key=lambda f: f[2].start), words

    def chart_uses(self, d: A.ProgramDecl, words: list) -> None:
        """A chart (`let c = parse(D, e)`) may appear only as a method receiver (QVR017);
        the program checker's diagnostics at such a use are dropped (`words`)."""
        ctx = self.ctx
        charts = {step.name.text for step in A.walk_steps(d.steps)
                  if step.__class__ is A.LetStep and step.value.__class__ is A.Call
                  and step.value.name.text == "parse" and _names_deduction(ctx, step.value)
                  and not (ctx.top.get("parse") or ctx.local_top.get("parse"))}
        if not charts:
            return
        for node in A.nodes(d.steps + (d.ret,)):
            if node.__class__ is A.Var and node.name.text in charts:
                ctx.error("QVR017", f"`{node.name.text}` is a chart; use it only as a method "
                          f"receiver (`{node.name.text}.goal_weight()`)", node.span)
                words.append(node.span)
            elif node.__class__ in (A.RetItem, A.RetVar) and node.var.text in charts:
                ctx.error("QVR017", f"`{node.var.text}` is a chart; use it only as a method "
                          f"receiver (`{node.var.text}.goal_weight()`)", node.var.span)
                words.append(node.var.span)

    def check_parse(self, node: A.Call) -> bool:
        """`parse(D, e)` (tier 2): `D` must name a `deduction` block (QVR017). False when
        that was reported."""
        ctx = self.ctx
        first = node.args[0] if node.args else None
        if first.__class__ is not A.Var:
            ctx.error("QVR017", "`parse` needs the name of a `deduction` block as its first "
                      "argument", (first or node).span)
            return False
        sym = ctx.top.get(first.name.text)
        if sym is None:
            return True  # reported as undefined where the argument is resolved
        if sym.kind != "opaque" or sym.decl.head.text != "deduction":
            ctx.error("QVR017", f"`{first.name.text}` is not a `deduction` block", first.span)
            return False
        return True

    def unchecked_parts(self, roots, binding: str):
        """A context manager around checking the declarations `roots`: when they involve ⊤
        (spec part 2 §5.11) the diagnostics the check gave about types, widths, plates and
        returns are dropped, as are those inside a tier-3 form or at a recognised word; then
        QVR110 is reported once per form. Yields a list that is non-empty when ⊤ is
        involved (its `start` is where the check's diagnostics begin)."""
        return _Unchecked(self, roots, binding)

    def drop_checked_diagnostics(self, start: int, spans, everything: bool = False) -> None:
        """Drop the diagnostics from index `start` on that are not kept for a declaration
        involving ⊤, or that lie inside one of `spans` (frame-relative)."""
        ctx = self.ctx
        origin = ctx.origin
        inside = [(s.start + origin, s.end + origin) for s in spans]
        kept = []
        for diag in ctx.diagnostics[start:]:
            at = (diag.span.start, diag.span.end)
            if any(a <= at[0] and at[1] <= b for a, b in inside):
                continue
            if (everything and diag.severity in (Severity.ERROR, Severity.WARNING)
                    and not _kept_when_unchecked(diag.code)):
                continue
            kept.append(diag)
        ctx.diagnostics[start:] = kept

    def program_over(self, d: A.ProgramDecl, start: int, symbols_start: int) -> None:
        """`[over=M]` on a program (tier 2, spec part 2 §5.11): `M` names a program and the
        body performs no effect (QVR134). The key is this module's: the QVR028 the options
        check gave for it is dropped. A free name that is a latent (`sample`) site of `M` is
        that site, not a data input: the data hints about it are dropped and its symbol takes
        the site's type. Only what the program's own check made is looked at (the
        diagnostics from `start` on, the symbols from `symbols_start` on): a module of
        thousands of such programs is checked in linear time."""
        ctx = self.ctx
        if d.options is None:
            return
        option = next((o for o in d.options.items if o.key.text == "over"), None)
        if option is None:
            return
        key = (option.key.span.start + ctx.origin, option.key.span.end + ctx.origin)
        ctx.diagnostics[start:] = [x for x in ctx.diagnostics[start:] if not (
            x.code == "QVR028" and (x.span.start, x.span.end) == key)]
        v = option.value
        if v.__class__ is not A.OptName:
            ctx.error("QVR134", f"`over={ctx.src(v.span)}`: `{ctx.src(v.span)}` is not a "
                      "program", v.span)
            return
        m = v.name.text
        sym = ctx.top.get(m)
        if sym is not None:
            ctx.add_reference(v.name.span, sym)
        if sym is None or sym.kind != "program":
            ctx.error("QVR134", f"`over={m}`: `{m}` is not a program", v.span)
            return
        self.consume_sites(d, m, start, symbols_start)
        from .effects import step_effects
        for step in A.walk_steps(d.steps):
            # a `marginalize` block's own effect, before those of its body
            performed = ({"Marginal"} if step.__class__ is A.MarginalizeStep
                         else step_effects(ctx, step))
            if performed:
                effect = sorted(performed)[0]
                ctx.error("QVR134", f"`over={m}`: `{d.name.text}` must be pure but "
                          f"`{_step_label(ctx, step)}` performs `{effect}`", step.keyword.span)
                return

    def consume_sites(self, d: A.ProgramDecl, m: str, start: int, symbols_start: int) -> None:
        """See `program_over`: free names of `d` that are latent sites of the program `m`."""
        ctx = self.ctx
        source = ctx.programs.get(m)
        sites = {name: var for name, var in getattr(source, "variables", {}).items()
                 if var.kind == "sample"}
        if not sites:
            return
        text = ctx.text
        ctx.diagnostics[start:] = [x for x in ctx.diagnostics[start:] if not (
            x.code in ("QVR111", "QVR112") and text[x.span.start:x.span.end] in sites)]
        for sym in ctx.symbols[symbols_start:]:
            var = sites.get(sym.name)
            if var is not None and sym.scope == d.name.text and sym.kind == "variable" \
                    and sym.detail.endswith("(data)"):
                sym.type = var.type
                sym.detail = f"{sym.name} : {var.type.display() if var.type else '?'} " \
                             f"(latent site of {m})"

    def describe_morphism(self, name: str, d) -> None:
        ctx = self.ctx
        info = ctx.morphisms.get(name)
        sym = ctx.top.get(name)
        if info is None or sym is None:
            return
        sym.type = info.type
        detail = f"{name} : {info.type.display() if info.type else '?'}"
        if info.family:
            detail += f" ~ {info.family}"
        if info.role not in ("kernel", "deterministic"):
            detail += f" [role={info.role}]"
        sym.detail = detail
        for m in ctx.groups.get(name, ()):
            ms = ctx.top.get(m)
            if ms is not None and ms.decl is d:
                ms.type, ms.detail = info.type, detail.replace(name, m, 1)

    def live_defines(self) -> set:
        """Names of top-level defines referenced from outside any define, or from a live one
        (a define used only by unused defines is itself unused, as `encoder` in upstream vae)."""
        ctx = self.ctx
        syms = ctx.top.values()
        defines = list(compress(syms, map(eq, map(_KIND, syms), repeat("define"))))
        # (in C loops: every define of the module, per keystroke; the sets are only read)
        users = dict(zip(map(_NAME, defines),
                         map(ctx.define_users.get, map(id, defines), repeat(_NO_USERS))))
        live = {n for n, u in users.items() if None in u}
        # Liveness flows from a live define to the defines it uses, each reached once (passes
        # over every define until none changed took one pass per link of a chain of defines
        # each using the one before: quadratic).
        uses: dict = {}
        for n, u in users.items():
            for user in u:
                if user is not None:
                    uses.setdefault(user, []).append(n)
        reached = list(live)
        while reached:
            for n in uses.get(reached.pop(), ()):
                if n not in live:
                    live.add(n)
                    reached.append(n)
        return live

    def check_rule(self, d: A.RuleDecl) -> None:
        ctx = self.ctx
        local = {}
        for v in d.variables:
            if v.text in local:
                ctx.error("QVR016", f"variable `{v.text}` is already bound in rule "
                          f"`{d.name.text}`", v.span)
                continue
            local[v.text] = ctx.add_symbol(Symbol(v.text, "rule_variable", v.span, v.span,
                                                  scope=d.name.text, detail=f"{v.text} (rule variable)"))
        for pat in list(d.premises) + [d.conclusion]:
            for ref in cat_refs(pat):
                sym = local.get(ref.name.text)
                if sym is not None:
                    ctx.add_reference(ref.name.span, sym)
                    continue
                ctx.lookup_top(ref.name, want="category", undefined_code="QVR010",
                               undefined_msg=f"undefined type `{ref.name.text}`",
                               allowed_kinds=("category", "object"))
        check_rule(ctx, d)
        sym = ctx.top.get(d.name.text)
        if sym is not None and sym.decl is d:
            sym.detail = f"rule {d.name.text}"

    def check_define(self, d: A.DefineDecl, table) -> Optional[DefineInfo]:
        """Check a define/let and (first) its where-bindings, in a local scope."""
        ctx = self.ctx
        binds = self.bindings.get(id(d), [])
        saved = dict(ctx.local_top)
        infos = []
        local_syms = []
        saved_later = dict(ctx.where_later)
        saved_pending = ctx.pending
        # the define is not in scope in its own bindings either (`first = f >> model` in
        # `model`'s where-clause would make it recursive)
        ctx.pending = saved_pending | {d.name.text}
        for b in binds:
            ctx.where_later.setdefault(b.name.text, b.name.span)
        for b in binds:
            ctx.where_later.pop(b.name.text, None)
            statement_deprecations(ctx, b)
            sym = self.new_symbol(b.name, "define", b, table=ctx.local_top)
            binfo = self.check_define(b, ctx.local_top)
            if sym is not None:
                # a binding sees the earlier siblings and itself only after its expression
                sym.type = binfo.type if binfo else None
                sym.detail = f"define {b.name.text} : {binfo.type.display() if binfo and binfo.type else '?'}"
                local_syms.append(sym)
            if binfo is not None:
                binfo.owner = d.name.text
                infos.append(binfo)
                # where-bindings are listed in `defines` too (with `owner` set) so the
                # runtime can build the owner's expression; local names of different owners
                # may coincide, the first one keeps the key.
                ctx.defines.setdefault(b.name.text, binfo)
        ctx.where_later = saved_later
        ctx.pending = saved_pending | {d.name.text}
        t = infer(ctx, d.expr)
        ctx.pending = saved_pending
        for sym in local_syms:
            if id(sym) not in ctx.used and not sym.name.startswith("_"):
                ctx.hint("QVR080", f"`{sym.name}` is declared but never used", sym.name_span,
                         tags=("unnecessary",))
        ctx.local_top = saved
        info = DefineInfo(d.name.text, d, t, tuple(infos))
        info.world = world(ctx, d.expr)
        info.fuzzy = has_fuzzy_latent(ctx, d.expr)
        sym = ctx.top.get(d.name.text)
        if sym is not None and sym.decl is d:
            sym.type = t
            sym.detail = f"define {d.name.text} : {t.display() if t else '?'}"
        return info

    # -- after all statements -------------------------------------------------------------------
    def finish(self, top) -> None:
        finish(self.finish_steps(top))

    def finish_steps(self, top):
        """The passes after every statement (QVR055, "never used"), as a generator."""
        ctx = self.ctx
        if self.export is None:
            ctx.report("QVR055", Severity.INFORMATION,
                       "no `export`; `qvr.load` cannot run this module", Span(0, 0))
        if self.unchecked:
            return
        yield
        live_defines = self.live_defines()
        yield
        members_of_groups = {m for ms in ctx.groups.values() for m in ms}
        yield
        # Only a symbol nobody used, or a define (those go by liveness), may be reported: they
        # are picked out in C loops first, a piece at a time (a module has thousands of names,
        # each of which this pass went through in Python on every keystroke).
        items = list(ctx.top.items())
        used = ctx.used
        candidates = []
        for at in range(0, len(items), PASS_STEP):
            piece = items[at:at + PASS_STEP]
            syms = list(map(_SECOND, piece))
            candidates.extend(compress(piece, map(or_, map(not_, map(used.__contains__, map(id, syms))),
                                                  map(eq, map(_KIND, syms), repeat("define")))))
            yield
        for count, (name, sym) in enumerate(candidates, 1):
            if not count % (PASS_STEP // 4):  # (each may make a hint)
                yield
            if sym.kind == "define" and sym.scope is None:
                if name in live_defines or name.startswith("_"):
                    continue
            elif sym.name_span is None or name.startswith("_") or id(sym) in ctx.used:
                continue
            if sym.kind == "opaque":
                continue  # tier-3 blocks are exempt (spec part 2 §5.11)
            if sym.decl.__class__ is A.BrokenDecl:
                continue  # its syntax error is what matters; its uses may be broken too
            if sym.kind == "category" and ctx.schema_parser:
                continue
            if name in members_of_groups:
                continue  # replicated members: the group is reported once
            members = ctx.groups.get(name)
            if members and any(id(ctx.top[m]) in ctx.used for m in members if m in ctx.top):
                continue
            ctx.hint("QVR080", f"`{name}` is declared but never used", ctx.frame_span(sym),
                     tags=("unnecessary",))


# The rule for each kind of statement (after the steps every statement shares), by class:
# one dictionary look-up instead of a chain of `isinstance` tests per statement.
_STATEMENT_CHECKS = {
    A.ObjectDecl: Checker.check_object_decl, A.TypeDecl: Checker.check_object_decl,
    A.SpaceDecl: Checker.check_object_decl, A.QuantaleDecl: Checker.check_quantale_decl,
    A.CategoryDecl: Checker.check_category_decl, A.RuleDecl: Checker.check_rule,
    A.ProgramDecl: Checker.check_program_decl, A.DefineDecl: Checker.check_define_decl,
    A.ExportDecl: Checker.check_export_decl,
}
for _cls in A.MORPHISM_DECLS:
    _STATEMENT_CHECKS[_cls] = Checker.check_morphism_decl


def _names_deduction(ctx: Context, call: A.Call) -> bool:
    """True when `parse(D, …)`'s first argument names a `deduction` block."""
    first = call.args[0] if call.args else None
    sym = ctx.top.get(first.name.text) if first.__class__ is A.Var else None
    return sym is not None and sym.kind == "opaque" and sym.decl.head.text == "deduction"


def _body_span(d) -> Span:
    """The part of a declaration where tier-3 forms can be: a program's steps (its header
    always has `->`), else all of it."""
    if d.__class__ is A.ProgramDecl:
        first = d.steps[0] if d.steps else d.ret
        return Span(first.span.start, d.span.end)
    return d.span


def _step_label(ctx: Context, step) -> Optional[str]:
    """What a program step binds, as written (`y`, `(a, b)`), or None (a `return`)."""
    name = getattr(step, "name", None)
    if name is not None:
        return name.text
    pattern = getattr(step, "pattern", None)
    return ctx.src(pattern.span) if pattern is not None else None


class _Unchecked(list):
    """See `Checker.unchecked_parts`."""

    def __init__(self, analyzer, roots, binding):
        super().__init__()
        self.analyzer, self.roots, self.binding = analyzer, roots, binding

    def __enter__(self):
        a = self.analyzer
        involved, self.forms, self.words = a.tier3_forms(self.roots, self.binding)
        if involved:
            self.append("⊤")
        self.start = len(a.ctx.diagnostics)
        self.symbols_start = len(a.ctx.symbols)
        return self

    def __exit__(self, kind, exc, tb):
        if kind is not None:
            return False
        a = self.analyzer
        if self or self.words:
            spans = [span for _, _, span in self.forms] + list(self.words)
            a.drop_checked_diagnostics(self.start, spans, everything=bool(self))
        for form, owner, span in self.forms:
            a.ctx.report("QVR110", Severity.INFORMATION, f"`{form}` is not checked (tier 3): "
                         f"`{owner}` has no static type", span)
        return False
