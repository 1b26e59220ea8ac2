"""`analyze(text)`: parse (or take a `ParseResult`), resolve, infer and check a QVR module.

Order of work (spec §4.1): `where` bindings are grouped by keyword column (§3.3); every
top-level name is declared first (so a use before the declaration is QVR014, not
"undefined"); then statements are checked in order, each pass writing symbols, references,
types and diagnostics into one `Context`; finally unused names (§4.7) and the missing export
(QVR055) are reported and everything is frozen into an `Analysis`.

`analyze` never raises: an internal failure on some statement is contained to that statement
and reported as an error with code `internal` over the statement (and "never used" hints are
then left out, since that statement's uses are unknown), so a module that could not be fully
checked is never reported clean.
Everything is linear in the size of the module (the language server calls this per keystroke).
"""
from __future__ import annotations

import gc
import os
import re
from operator import attrgetter
from typing import Optional

from ..diagnostics import Related, Severity
from ..stepwise import finish, sorted_steps
from ..syntax import ast as A
from ..syntax.span import LineIndex, Span, normalize
from ..syntax.vocabulary import DECLARATION_KINDS
from .context import Context
from .declarations import check_morphism
from .deprecations import statement_deprecations
from .expressions import infer, world, has_fuzzy_latent
from .families import BUILTINS, FAMILIES, QUANTALES
from .grammar import cat_refs, check_rule
from .model import Analysis, DefineInfo, Symbol
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
    A.DefineDecl: "define",
}
for _cls in A.MORPHISM_DECLS:
    DECL_KIND[_cls] = "morphism"


# Identifiers outside comments, in the text of a declaration that does not parse.
_WORD_OR_COMMENT = re.compile(r"#\{(?:.|\n)*?\}#|#[^\n]*|(?P<word>(?!\d)\w+)")


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


def group_where_steps(ctx: Context, statements, col=None, origin_of=None):
    """`group_where` as a generator (`qvr.stepwise`)."""
    bindings: dict[int, list] = {}
    top: list = []
    if col is None:
        col = lambda d: ctx.line_index.position(d.keyword.span.start)[1]
    i, n = 0, len(statements)

    def take(owner, i):
        """Collect `owner`'s bindings starting at index i; returns the next index."""
        c = col(owner)
        mine = []
        while i < n:
            s = statements[i]
            if not isinstance(s, A.DefineDecl) or col(s) <= c:
                break
            mine.append(s)
            i += 1
            if s.where is not None:
                i = take(s, i)
        bindings[id(owner)] = mine
        if not mine:
            if origin_of is not None:
                ctx.origin = origin_of(owner)
            ctx.error("QVR006", f"`where` of `{owner.name.text}` has no bindings (bindings must be "
                      f"indented more than `{owner.name.text}`)", owner.where)
        return i

    while i < n:
        s = statements[i]
        top.append(s)
        i += 1
        if isinstance(s, A.DefineDecl) and s.where is not None:
            i = take(s, i)
        if not len(top) % PASS_STEP:
            yield
    return top, bindings


# ----------------------------------------------------------------------------- analyze ----
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


# sort key for references (C-level: a module has tens of thousands of references)
_ref_start = attrgetter("span.start")


def _diagnostic_order(d):
    return (d.span.start, d.span.end, d.code)


def _doc(d) -> Optional[str]:
    docs = getattr(d, "docs", ())
    return "\n".join(x.text for x in docs) if docs else None


class Analyzer:
    def __init__(self, text: str, parsed):
        self.text = text
        self.index = LineIndex(text)
        self.parsed = parsed
        self.ctx = Context(text, self.index)
        self.export = None
        self.export_type = None
        self.bindings: dict = {}
        # Set when a statement could not be checked: its uses were not all recorded, so
        # "never used" hints would be guesses and are left out.
        self.unchecked = False

    def run(self) -> Analysis:
        return finish(self.run_steps())

    def run_steps(self, every: int = 32):
        """`run` as a generator (see `qvr.stepwise`): yields after every `every` statements
        checked and returns the `Analysis`."""
        ctx = self.ctx
        module = self.parsed.module
        ctx.schema_parser = False
        ctx.owner_unused: list = []
        try:
            top, self.bindings = yield from group_where_steps(ctx, module.statements)
            yield
            for i, d in enumerate(top):  # `declare`, a slice at a time
                if i % (4 * every) == 4 * every - 1:
                    yield
                self.declare_statement(i, d)
            yield
            for i, d in enumerate(top):
                if i % every == every - 1:
                    yield
                ctx.current_index = i
                try:
                    self.check_statement(d)
                except Exception as exc:  # never let one statement take the analysis down
                    if _DEBUG:
                        raise
                    self.unchecked = True
                    ctx.error(INTERNAL_CODE, _internal_message(exc, "this statement"), d.span)
                finally:
                    ctx.order_free = False
                    ctx.local_top = {}
                    ctx.pending = set()
            yield
            yield from self.finish_steps(top)
        except Exception as exc:
            if _DEBUG:
                raise
            first_line_end = self.text.find("\n")
            ctx.error(INTERNAL_CODE, _internal_message(exc, "this module"),
                      Span(0, len(self.text) if first_line_end < 0 else first_line_end))
        yield
        diags = yield from sorted_steps(list(self.parsed.diagnostics) + ctx.diagnostics,
                                        _diagnostic_order)
        yield
        # by start offset; the sort is stable and references are mostly recorded in order
        refs = yield from sorted_steps(ctx.references, _ref_start)
        yield
        ref_starts: list = []
        for k in range(0, len(refs), 16 * PASS_STEP):
            ref_starts.extend(map(_ref_start, refs[k:k + 16 * PASS_STEP]))
            yield
        refs = tuple(refs)
        yield
        return Analysis(
            text=self.text, line_index=self.index, module=module, diagnostics=tuple(diags),
            symbols=tuple(ctx.symbols), top_level=dict(ctx.top), references=refs,
            objects=dict(ctx.objects), morphisms=dict(ctx.morphisms),
            programs=dict(ctx.programs), defines=dict(ctx.defines), export=self.export,
            export_type=self.export_type, _types=ctx.types, _scans=ctx.scans,
            _inlines=ctx.inlines, _ref_starts=ref_starts, _intermediates=ctx.intermediates)

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
        first = table.get(name.text) or ctx.top.get(name.text)
        if first is not None:
            where = ctx.frame_span(first)
            ctx.error("QVR015", f"`{name.text}` is already declared (line "
                      f"{ctx.line_of(where)})", name.span,
                      related=(Related(where, f"first declaration of `{name.text}`"),))
            ctx.add_symbol(Symbol(name.text, kind, name.span, d.span, doc=_doc(d), decl=d))
            return None
        if name.text in FAMILIES or name.text in BUILTINS:
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
        if isinstance(d, (A.ObjectDecl, A.TypeDecl, A.SpaceDecl)):
            obj = resolve_type(ctx, d.value, finite_position=not isinstance(d, A.ObjectDecl)
                               and isinstance(d.value, A.Product))
            for name in A.declared_names(d):
                if obj is not None and name.text not in ctx.objects:
                    named = obj.named(name.text)
                    ctx.objects[name.text] = named
                    sym = ctx.top.get(name.text)
                    if sym is not None and sym.decl is d:
                        sym.type = named
                        sym.detail = f"object {name.text} : {obj.named(None).display()}"
        elif isinstance(d, A.QuantaleDecl):
            q = d.name.text.lower()
            if q not in QUANTALES:
                ctx.error("QVR037", f"unknown quantale `{d.name.text}`; available: "
                          f"{', '.join(QUANTALES)}", d.name.span)
            else:
                ctx.quantale = q
            ctx.add_symbol(Symbol(d.name.text, "quantale", d.name.span, d.span,
                                  detail=f"quantale {q}", decl=d))
        elif isinstance(d, A.CategoryDecl):
            for name in d.names:
                sym = ctx.top.get(name.text)
                if sym is not None and sym.decl is d:
                    sym.detail = f"category {name.text}"
        elif isinstance(d, A.RuleDecl):
            self.check_rule(d)
        elif isinstance(d, A.MORPHISM_DECLS):
            check_morphism(ctx, d)
            for name in A.declared_names(d):
                self.describe_morphism(name.text, d)
        elif isinstance(d, A.ProgramDecl):
            ctx.pending = {d.name.text}
            info = check_program(ctx, d)
            ctx.programs[d.name.text] = info
            sym = ctx.top.get(d.name.text)
            if sym is not None and sym.decl is d:
                sym.type = info.effective
                detail = f"program {d.name.text} : {info.declared.display() if info.declared else '?'}"
                if info.promoted and info.effective is not None:
                    detail += f" (promoted: {info.effective.display()})"
                sym.detail = detail
        elif isinstance(d, A.DefineDecl):
            ctx.current_define = d.name.text
            try:
                info = self.check_define(d, ctx.top)
            finally:
                ctx.current_define = None
            if info is not None:
                ctx.defines[d.name.text] = info
        elif isinstance(d, A.ExportDecl):
            if self.export is not None:
                ctx.error("QVR054", "more than one `export`/`output`", d.keyword.span)
                return
            self.export = d
            ctx.order_free = True
            self.export_type = infer(ctx, d.expr)

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
        users = {sym.name: ctx.define_users.get(id(sym), set())
                 for sym in ctx.top.values() if sym.kind == "define"}
        live = {n for n, u in users.items() if None in u}
        changed = True
        while changed:
            changed = False
            for n, u in users.items():
                if n not in live and u & live:
                    live.add(n)
                    changed = True
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
        ctx.pending = {d.name.text}
        t = infer(ctx, d.expr)
        ctx.pending = set()
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
        live_defines = self.live_defines()
        members_of_groups = {m for ms in ctx.groups.values() for m in ms}
        yield
        for count, (name, sym) in enumerate(ctx.top.items(), 1):
            if not count % PASS_STEP:
                yield
            if sym.kind == "define" and sym.scope is None:
                if name in live_defines or name.startswith("_"):
                    continue
            elif sym.name_span is None or name.startswith("_") or id(sym) in ctx.used:
                continue
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


def analyze(text: str, *, parsed=None) -> Analysis:
    """Analyse a module (spec §4). Never raises. `parsed` is a `ParseResult` of this text."""
    text = normalize(text if isinstance(text, str) else str(text))
    if parsed is None:
        try:
            from ..syntax import parse_module
            parsed = parse_module(text)
        except Exception:
            from ..syntax import ParseResult
            parsed = ParseResult(A.Module((), (), Span(0, len(text))), ())
    # The analysis allocates many small acyclic objects; the cyclic garbage collector would
    # repeatedly scan them (and the AST) mid-run for nothing, costing about a third of the
    # time on large files. It is paused for the run and restored afterwards.
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        return Analyzer(text, parsed).run()
    finally:
        if was_enabled:
            gc.enable()


def analyze_steps(text: str, parsed):
    """`analyze(text, parsed=parsed)` as a generator (see `qvr.stepwise`): yields now and then
    and returns the `Analysis`. Leaves the garbage collector alone."""
    text = normalize(text if isinstance(text, str) else str(text))
    if parsed is None:
        from ..syntax import ParseResult, parse_module_steps
        try:
            parsed = yield from parse_module_steps(text)
        except Exception:
            parsed = ParseResult(A.Module((), (), Span(0, len(text))), ())
    return (yield from Analyzer(text, parsed).run_steps())


def check(text: str, uri: str = "<string>") -> list:
    """Every diagnostic of `text` (syntax and semantic), sorted by position."""
    return list(analyze(text).diagnostics)
