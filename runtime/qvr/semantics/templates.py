"""Typed program parameters and templates (spec part 2 §5.5).

A parameter `x : K` has a kind: `FinSet`, `Space`, `Object` (object parameters), `Real`, `Nat`
(scalar parameters) or `Mor[A, B]` (a morphism parameter); any other kind is QVR125. Typed
parameters are not counted by P1's parameter rule (QVR060). A program with an object or
morphism parameter is a *template*: it is only ever drawn from or called with arguments.

Checking. While a program with typed parameters is checked, its object parameters are
top-level objects visible to it alone (so the signature, annotations and plates can name
them) and its morphism parameters are visible as targets of type `A -> B`. A template is
first checked with *abstract* object parameters: a `FinSet` parameter is a finite object of
an unknown size and a `Space`/`Object` parameter a space of an unknown width; both are
modelled by a size no declaration uses (`ABSTRACT`), and a diagnostic that mentions that size,
or a size made from it (a sum of widths, a product of cardinalities: any size from `ABSTRACT`
up), needed the real one and is dropped (deferred to the calls). The placeholder is never
shown: `symbolic` rewrites a type's text for display (`G(999983)` is `G`, `Real 999983` is
`Real |S|`), and the abstract pass stores its locals' one-line details that way. Each call binds its arguments
(§5.5 "Calls", QVR126) and checks the template again with the arguments substituted (an
object parameter then aliases the argument, so plates keep the argument's identity); an
error or warning that the abstract check did not give is reported at the call's arguments
with a related range in the template. The call's value is the instantiated program's
returned value, over the plates it has there.
"""
from __future__ import annotations

import re
from typing import Optional

from ..diagnostics import Related, Severity
from ..syntax import ast as A
from ..syntax.span import Span
from .model import Symbol, VarInfo
from .plates import NO_PLATES, Plating, base_of, plating_of
from .types import MorphType, ObjType, compatible, elem_of, is_seq, product_of

OBJECT_KINDS = ("FinSet", "Space", "Object")
SCALAR_KINDS = ("Real", "Nat")
KINDS = OBJECT_KINDS + SCALAR_KINDS + ("Mor",)
ABSTRACT = 999983  # the size or width of an abstract object parameter (a prime no one writes)
# A size in a message or a type's text: a whole decimal number (not part of a name or a float).
_NUMBER = re.compile(r"(?<![\w.])\d+(?![\w.])")
# `render_type`'s `Name(size)` and the kind words a size follows in a type's text
_NAMED_SIZE = re.compile(r"(?<![\w.])(\w+)\((\d+)\)")
_SIZE_AFTER = re.compile(r"\b(FinSet|Real|Simplex|Count|Matrix(?: \d+)?) $")
_ROWS_OF = re.compile(r"\brow plate (\w+), $")  # `(row plate G, 999983 rows)`: G's size
_LINEAR_LIMIT = 64  # `k·|P| + b` for k up to this; a larger multiple is a product: shown `?`


def mentions_abstract(text: str) -> bool:
    """Whether `text` shows a size made from an abstract parameter's: a number from
    `ABSTRACT` up (sizes only grow through sums and products)."""
    return any(int(m.group()) >= ABSTRACT for m in _NUMBER.finditer(text))


def typed_param_kinds(info) -> list:
    """`(name, kind word)` of the typed parameters of program `info`, in order (none for a
    program without typed parameters, or None)."""
    return getattr(info, "typed_params", None) or []


def object_params(info) -> list:
    """`(name, kind word)` of the object parameters of program `info`."""
    return [(n, k) for n, k in typed_param_kinds(info) if k in OBJECT_KINDS]


def symbolic(text: str, params=()) -> str:
    """`text`, a type or line shown to users, with every size made from an abstract object
    parameter in symbolic form: `G(999983)` (a name with its size) is `G`; a size is `|P|`
    (`|P| + 1`, `2·|P|`) when it is the row count of plate `P`, or when `params` (the
    template's object parameters, `object_params`) has exactly one that the kind word before
    it fits; else `?`. Outside a template (no object parameters) there is no abstract size:
    `text` is returned as it is."""
    if not params or not mentions_abstract(text):
        return text

    def named(m):
        return m.group(1) if int(m.group(2)) >= ABSTRACT else m.group(0)

    text = _NAMED_SIZE.sub(named, text)

    def size(m):
        n = int(m.group())
        if n < ABSTRACT:
            return m.group()
        word = _SIZE_AFTER.search(text, 0, m.start())
        rows = _ROWS_OF.search(text, 0, m.start())
        kinds = (("FinSet", "Object") if word is not None and word.group(1) == "FinSet" else
                 ("Space", "Object") if word is not None else OBJECT_KINDS)
        fits = [rows.group(1)] if rows is not None else [p for p, k in params if k in kinds]
        k, b = divmod(n, ABSTRACT)
        if len(fits) != 1 or k > _LINEAR_LIMIT:
            return "?"
        shown = f"|{fits[0]}|" if k == 1 else f"{k}·|{fits[0]}|"
        return shown if b == 0 else f"{shown} + {b}"

    return _NUMBER.sub(size, text)


def typed_params(d: A.ProgramDecl) -> list:
    """`(name, kind word, TypedParam)` for each typed parameter, in order."""
    out = []
    for name, tp in zip(d.params or (), d.param_kinds or ()):
        if tp is not None:
            out.append((name, tp.kind.name.text, tp))
    return out


def bare_params(d: A.ProgramDecl) -> tuple:
    """The untyped parameters: those P1's parameter rule binds to the domain."""
    kinds = d.param_kinds or ()
    if not kinds:
        return tuple(d.params or ())
    return tuple(n for n, tp in zip(d.params or (), kinds) if tp is None)


def is_template(d) -> bool:
    return isinstance(d, A.ProgramDecl) and any(
        k in ("FinSet", "Space", "Object") or isinstance(tp.kind, A.KindMor)
        for _, k, tp in typed_params(d))


# ------------------------------------------------------------------------- checking ----
def check(ctx, d: A.ProgramDecl, run):
    """Check program `d` with `run()` (the program checker), its typed parameters visible:
    abstract for a template, so diagnostics that need a parameter's size are dropped."""
    if not d.param_kinds or all(tp is None for tp in d.param_kinds):
        return run()
    first, symbols = len(ctx.diagnostics), len(ctx.symbols)
    saved = _enter(ctx, d, None)
    try:
        info = run()
    finally:
        _leave(ctx, saved)
    info.typed_params = [(n.text, k) for n, k, _ in typed_params(d)]
    if is_template(d):
        own = ctx.diagnostics[first:]
        kept = [x for x in own if not _needs_sizes(x)]
        del ctx.diagnostics[first:]
        ctx.diagnostics.extend(kept)
        # relative to the template's own statement (its text may move, its record be reused)
        info.template_diagnostics = {(x.code, x.span.start - ctx.origin, x.span.end - ctx.origin)
                                     for x in kept}
        params = object_params(info)
        for sym in ctx.symbols[symbols:]:  # its locals' details (`y : Real 999983`)
            if sym.scope == d.name.text and sym.detail:
                sym.detail = symbolic(sym.detail, params)
    return info


def _needs_sizes(x) -> bool:
    """A diagnostic of the abstract pass that shows an abstract size (in its message, a
    related message or a fix): it needed the real sizes, the calls report it."""
    texts = [x.message, *(r.message for r in x.related)]
    for fix in x.fixes:
        texts.append(fix.title)
        texts.extend(e.new_text for e in fix.edits)
    return any(mentions_abstract(t) for t in texts)


def _enter(ctx, d: A.ProgramDecl, binding: Optional[dict]) -> list:
    """Make the typed parameters of `d` visible: object parameters as objects (abstract, or
    aliases of the bound arguments), morphism parameters as targets. Returns what to put
    back. The abstract pass (binding None) also reports unknown kinds (QVR125) and records
    the parameters' symbols (for hover and references)."""
    saved = []
    prog = d.name.text
    for name, kind, tp in typed_params(d):
        x = name.text
        morphism = isinstance(tp.kind, A.KindMor)
        # (`Mor` needs its `[A, B]`; only `Mor` takes one)
        if kind not in KINDS or morphism != (kind == "Mor"):
            if binding is None:
                ctx.error("QVR125", f"unknown parameter kind `{_kind_text(tp.kind)}`; expected "
                          "FinSet, Space, Object, Real, Nat or Mor[A, B]", tp.kind.span)
            continue
        if morphism:
            sym = _mor_symbol(ctx, d, name, tp, binding)
            if sym is None:
                continue
            saved.append((x, ctx.top.get(x), ctx.objects.get(x, _MISSING)))
            ctx.shadow(x, sym)
            continue
        if kind not in OBJECT_KINDS:
            continue
        if binding is None:
            obj = (ObjType.fin(ABSTRACT) if kind == "FinSet" else ObjType.real(ABSTRACT)).named(x)
            sym = Symbol(x, "object", name.span, tp.span, type=obj,
                         detail=f"{x} : {kind} (template parameter of {prog})", scope=prog)
            ctx.add_symbol(sym)
        else:
            arg = binding.get(x)
            if arg is None or arg.text == x:
                # (bound to the object of its own name, e.g. a template passing its own `K`
                # on to a template with a parameter `K`: that object is the one in scope)
                continue
            obj = ctx.objects.get(arg.text)
            ref = A.TypeRef(A.Name(arg.text, tp.span), tp.span)
            decl = A.ObjectDecl(name, (name,), ref, (), tp.span)
            sym = Symbol(x, "object", name.span, tp.span, type=obj, decl=decl, scope=prog)
            sym.origin = ctx.origin
        saved.append((x, ctx.top.get(x), ctx.objects.get(x, _MISSING)))
        ctx.shadow(x, sym)
        _put(ctx.objects, x, obj)
    return saved


def _put(table: dict, key, value) -> None:
    """Write past the engine's write log: a parameter is visible only while its
    program is checked, it is no declaration of the module."""
    dict.__setitem__(table, key, value)


_MISSING = object()


def _mor_symbol(ctx, d, name, tp, binding) -> Optional[Symbol]:
    """A `Mor[A, B]` parameter as a target of type `A -> B` (object parameters already
    visible), a symbol of kind `define` local to the program."""
    prog = d.name.text
    if binding is not None and name.text in binding:
        return binding[name.text]
    muted = binding is not None
    if muted:
        ctx.muted += 1
    try:
        from .objects import resolve_type
        dom = resolve_type(ctx, tp.kind.domain)
        cod = resolve_type(ctx, tp.kind.codomain)
    finally:
        if muted:
            ctx.muted -= 1
    mt = MorphType(dom, cod) if dom is not None and cod is not None else None
    sym = Symbol(name.text, "define", name.span, tp.span, type=mt,
                 detail=f"{name.text} : {mt.display() if mt else '?'} (template parameter of "
                        f"{prog})", scope=prog)
    if binding is None:
        ctx.add_symbol(sym)
    else:
        sym.origin = ctx.origin
    return sym


def _leave(ctx, saved: list) -> None:
    for x, sym, obj in reversed(saved):
        ctx.unshadow(x, sym)
        if obj is _MISSING:
            dict.pop(ctx.objects, x, None)
        else:
            _put(ctx.objects, x, obj)


# ---------------------------------------------------------------------------- calls ----
def call(checker, sym, target: A.Target):
    """A draw or call step whose target is program `sym` with typed parameters: bind the
    arguments (QVR126), instantiate a template (check it again with them) and return the
    value, setting the checker's per-target state (`args`, `target_dep`, `target_dom`)."""
    ctx = checker.ctx
    info = ctx.programs.get(sym.name)
    d = info.decl if info is not None else None
    checker.args, checker.target_dep, checker.target_dom = [], False, None
    if d is None:
        return None
    template = is_template(d)
    params = list(d.params or ())
    typed = {n.text: (k, tp) for n, k, tp in typed_params(d)}
    args = target.args
    if args is None:
        if template:
            ctx.error("QVR125", f"`{sym.name}` has object or morphism parameters: use it as "
                      f"`sample v <- {sym.name}(…)`", target.name.span)
            return None
        return _plain(checker, info, target)
    n, k, t = len(args), len(params), len(typed)
    if n == k:
        pairs = list(zip(params, args))
    elif n == t:
        pairs = list(zip([p for p in params if p.text in typed], args))
    else:
        counts = f"{k} or {t}" if t != k else f"{k}"
        ctx.error("QVR126", f"`{sym.name}` takes {counts} argument{'s' if k > 1 else ''}, "
                  f"got {n}", checker._args_span(target))
        for a in args:  # still resolve the arguments (objects stand for object parameters)
            a = a.value if isinstance(a, A.NamedArg) else a
            s = ctx.top.get(a.name.text) if isinstance(a, A.Var) else None
            if s is not None and s.kind == "object":
                ctx.add_reference(a.name.span, s)
            else:
                checker.arith(a)
        return None
    binding: dict = {}
    ok = True
    bare: list = []  # the types of the arguments bound to bare parameters (the input)
    for i, (p, a) in enumerate(pairs, 1):
        if isinstance(a, A.NamedArg):
            ctx.error("QVR062", "keyword arguments are only allowed for distribution families",
                      a.key.span)
            checker.arith(a.value)
            ok = False
            continue
        if p.text not in typed:  # a bare parameter: part of the input (P1 §4.6)
            v = checker.arith(a)
            checker.args.append((a, _raw(v), checker._depends(a)))
            bare.append(None if v is None else base_of(v))
            continue
        kind, tp = typed[p.text]
        bound = _bind_typed(checker, sym.name, i, p, kind, tp, a, binding)
        if bound is None:
            ok = False
        else:
            binding[p.text] = bound
    # no argument for a bare parameter: the caller's input is passed (§5.5), so the draw
    # depends on it as an argument-less draw does (§5.2)
    checker.target_dep = any(dep for _, _, dep in checker.args) or not any(
        p.text not in typed for p, _ in pairs)
    if not ok:
        return None
    if not template:
        checker.draws(info, target.name.span)
        for p, a in pairs:
            if p.text in binding and p.text in info.passed_on:
                ctx.error("QVR113", f"`{sym.name}` hands `{p.text}` on, by name, to the programs "
                          f"it draws: a call cannot bind it", a.span)
        _check_input(checker, sym.name, info.effective, target, bare)
        return info.effective.cod if info.effective is not None else None
    value, inst = _instantiate(checker, sym, info, target, binding)
    if inst is not None:
        _check_input(checker, sym.name, inst.effective, target, bare)
    return value


def _check_input(checker, name: str, mt: Optional[MorphType], target, bare: list) -> None:
    """The arguments bound to bare parameters form the input (part 2 §5.5): QVR061 where
    they do not give the (instantiated) domain."""
    if mt is None or not bare or None in bare:
        return
    given = product_of(bare)
    if given is None or is_seq(given) or is_seq(mt.dom) or compatible(given, mt.dom):
        return  # (a sequence is lifted or refused where the callee's steps are checked)
    checker.wrong_input(name, mt.dom, given, target)


def _plain(checker, info, target):
    """A program with only scalar typed parameters drawn without arguments: its scalar
    parameters become named inputs of the caller; the input is passed."""
    mt = info.effective
    scalars = dict(typed_param_kinds(info))
    for n, v in (info.variables or {}).items():  # unbound scalars and data: named inputs
        if v.kind == "data" or (v.kind == "parameter" and n in scalars):
            checker.inherit(VarInfo(n, "data", v.type, v.node), target.name.span)
    checker.draws_rows_of(info, target.name.span)
    checker.target_dep = True
    checker.target_dom = mt.dom if mt is not None else None
    value, checker.args = checker._apply(target.name.text, mt, target, None)
    return value


def _bind_typed(checker, prog, i, p, kind, tp, a, binding):
    """Check argument `a` for typed parameter `p : kind` (QVR126); returns what it binds:
    the object's Name, the morphism's Symbol, or True for a scalar."""
    ctx = checker.ctx
    what = _kind_text(tp.kind)  # (from the tree: the template's text is in another frame)

    def wrong(expected: str) -> None:
        ctx.error("QVR126", f"`{prog}`: argument {i} for `{p.text} : {what}` must be "
                  f"{expected}, got `{ctx.src(a.span)}`", a.span)

    if kind in OBJECT_KINDS:
        expected = {"FinSet": "a finite object", "Space": "a continuous object",
                    "Object": "an object"}[kind]
        s = ctx.top.get(a.name.text) if isinstance(a, A.Var) else None
        if s is None or s.kind != "object":
            if not isinstance(a, A.Var) or s is not None:
                wrong(expected)
                return None
            ctx.lookup_top(a.name, want="object", undefined_code="QVR010",
                           undefined_msg=f"undefined type `{a.name.text}`",
                           allowed_kinds=("object",))
            return None
        ctx.add_reference(a.name.span, s)
        obj = ctx.objects.get(s.name)
        if obj is None:
            return None
        if (kind == "FinSet" and not obj.is_finite) or (kind == "Space" and obj.is_finite):
            wrong(expected)
            return None
        return a.name
    if isinstance(tp.kind, A.KindMor):
        s = ctx.top.get(a.name.text) if isinstance(a, A.Var) else None
        from .expressions import EXPR_KINDS, symbol_type
        if s is None or s.kind not in EXPR_KINDS:
            wrong(f"a morphism `{what[4:-1].replace(',', ' ->', 1)}`")
            return None
        ctx.add_reference(a.name.span, s)
        if ctx.before_declaration(a.name, s):  # (the calling program itself: a recursion)
            return None
        mt = symbol_type(ctx, s)
        # the parameter's type with the object arguments bound so far substituted
        info = ctx.programs.get(prog)
        saved = _enter(ctx, info.decl, {k: v for k, v in binding.items()
                                        if isinstance(v, A.Name)}) if info else []
        ctx.muted += 1
        try:
            from .objects import resolve_type
            dom = resolve_type(ctx, tp.kind.domain)
            cod = resolve_type(ctx, tp.kind.codomain)
        finally:
            ctx.muted -= 1
            _leave(ctx, saved)
        if mt is None or dom is None or cod is None:
            return s
        if not (compatible(mt.dom, dom) and compatible(mt.cod, cod)):
            wrong(f"a morphism `{dom.display()} -> {cod.display()}`")
            return None
        return s
    # a scalar parameter: an arithmetic value of width 1 without plates
    v = checker.arith(a)
    if v is None:
        return True
    b = base_of(v)
    if is_seq(b) or elem_of(b).width != 1 or not plating_of(v).empty:
        wrong("a value of width 1 without plates")
        return None
    return True


def _kind_text(kind) -> str:
    """A parameter kind as written, from its tree (`FinSet`, `Mor[A * B, C]`)."""
    if isinstance(kind, A.KindRef):
        return kind.name.text
    return f"{kind.name.text}[{_type_text(kind.domain)}, {_type_text(kind.codomain)}]"


def _type_text(t) -> str:
    """A type expression in its canonical spelling (parentheses around nested sums)."""
    cls = t.__class__
    if cls is A.TypeRef:
        return t.name.text
    if cls is A.TypeCard:
        return t.value.text
    if cls is A.Product:
        return " * ".join(f"({_type_text(f)})" if f.__class__ is A.Coproduct else _type_text(f)
                          for f in t.factors)
    if cls is A.Coproduct:
        return " + ".join(_type_text(o) for o in t.operands)
    if cls is A.TypeCtor:
        return " ".join([t.ctor.text, *(n.text for n in t.args)])
    if cls is A.EnumSet:
        return "{" + ", ".join(n.text for n in t.labels) + "}"
    return t.ctor.text + "(…)"  # a constructor call: its name says enough in a message


def _instantiate(checker, sym, info, target: A.Target, binding: dict):
    """Check template `sym` again with `binding` substituted; report what only this
    instance gets at the call's arguments; return the instance's returned value and the
    instance (its `ProgramInfo`)."""
    ctx = checker.ctx
    from .programs import ProgramChecker
    d = info.decl
    active = ctx.instantiating
    if id(d) in active:
        return None, None  # a template drawing from itself (already QVR014): do not unfold it
    active.add(id(d))
    try:
        return _instantiate_once(checker, sym, info, target, binding)
    finally:
        active.discard(id(d))


def _instantiate_once(checker, sym, info, target: A.Target, binding: dict):
    ctx = checker.ctx
    from .programs import ProgramChecker
    d = info.decl
    first = (len(ctx.diagnostics), len(ctx.references), len(ctx.symbols))
    types, inlines, used = ctx.types, ctx.inlines, set(ctx.used)
    origin, positional = ctx.origin, ctx.positional
    ctx.types, ctx.inlines = {}, {}
    ctx.origin = getattr(sym, "origin", 0)
    saved = _enter(ctx, d, binding)
    inst_tables = (ctx.types, ctx.inlines, ctx.scans)
    try:
        checking = ProgramChecker(ctx, d)
        checking.bound_scalars = frozenset(n.text for n, k, _ in typed_params(d)
                                           if k in SCALAR_KINDS and n.text in binding)
        inst = checking.run()
    finally:
        _leave(ctx, saved)
        ctx.types, ctx.inlines, ctx.used = types, inlines, used
        ctx.origin = origin
    # the runtime builds each call's instance from the instance's own tables
    # (qvr.compile.build; `Analysis.type_of` entries are keyed like this one)
    types[("instance", id(target))] = (target, (inst, inst_tables, dict(binding)))
    found = ctx.diagnostics[first[0]:]
    del ctx.diagnostics[first[0]:]
    del ctx.references[first[1]:]
    del ctx.symbols[first[2]:]
    ctx.positional = positional
    known = getattr(info, "template_diagnostics", set())
    where = checker._args_span(target)
    shown = ", ".join(ctx.src(a.span) for a in target.args)
    base = getattr(sym, "origin", 0)
    for x in found:
        if x.severity not in (Severity.ERROR, Severity.WARNING):
            continue
        if (x.code, x.span.start - base, x.span.end - base) in known:
            continue
        rel = Span(x.span.start - ctx.origin, x.span.end - ctx.origin)
        ctx.positional = True
        ctx.report(x.code, x.severity, f"`{sym.name}({shown})`: {x.message}", where,
                   related=(Related(rel, f"in template `{sym.name}`"),))
    checker.draws(inst, target.name.span)  # the instance's data names and rows: the caller's
    rt = inst.return_type
    if rt is None:
        return (inst.effective.cod if inst.effective is not None else None), inst
    returned = plating_of(rt)
    if returned.axes or returned.open is not None:
        # (an open plate: the rows of a data name the instance reads, now the caller's)
        plates = Plating(tuple(returned.axes), returned.open)
        checker.args.append((target, plates, False))
        if plates.open is not None and plates.axes:
            checker.open_returns.append((target, plates))
    return base_of(rt), inst


def _raw(t) -> Plating:
    from .plates import PlatedType
    return t.plating if t.__class__ is PlatedType else NO_PLATES
