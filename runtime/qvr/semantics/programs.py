"""Programs (spec §4.6): parameter binding, promotion, steps (draws, inline distributions,
observes, `let` arithmetic, destructuring) and `return`, with the program-local scope, the
step deprecations QVR101–QVR105 and the unused-local diagnostics QVR081–QVR083.

A program is checked once with per-element parameter types; if a step passes the input (or a
parameter) to a morphism whose domain is a sequence of it, the program is *promoted* and the
body is checked again with sequence parameters (the first pass's output is discarded)."""
from __future__ import annotations

from typing import Optional

from ..diagnostics import Related, TextEdit
from ..syntax import ast as A
from ..syntax.span import Span
from .context import Context, closest
from .declarations import bind_family_args, positional_fix, resolve_sig
from .expressions import EXPR_KINDS, has_fuzzy_latent, symbol_type
from .families import BUILTINS, FAMILIES
from .model import InlineInfo, ProgramInfo, Symbol, VarInfo
from .objects import resolve_type
from .types import (Cont, Fin, MorphType, ObjType, SeqType, compatible, elem_of, is_seq,
                    product_of)


class _Promote(Exception):
    """Raised inside the first pass when the program turns out to be promoted."""


class ProgramChecker:
    def __init__(self, ctx: Context, d: A.ProgramDecl):
        self.ctx = ctx
        self.d = d
        self.name = d.name.text
        self.locals: dict[str, tuple[Symbol, VarInfo]] = {}
        self.uses: dict[str, int] = {}
        self.promoted = False
        self.input_type = None

    # ------------------------------------------------------------------------- driver ----
    def run(self) -> ProgramInfo:
        ctx, d = self.ctx, self.d
        declared = resolve_sig(ctx, d.sig)
        if d.options is not None:
            for o in d.options.items:
                ctx.error("QVR028", f"unknown option `{o.key.text}` for a program; allowed: "
                          "(none)", o.key.span)
        # Only list lengths are remembered (cheap); types and inline records of the aborted
        # first pass are overwritten by the second pass, which visits the same nodes again.
        snapshot = (len(ctx.diagnostics), len(ctx.references), len(ctx.symbols))
        info = self._body(declared, promoted=self._predict_promotion())
        if info is None:  # promotion detected: check again with sequence parameters
            del ctx.diagnostics[snapshot[0]:]
            del ctx.references[snapshot[1]:]
            del ctx.symbols[snapshot[2]:]
            self.locals, self.uses = {}, {}
            info = self._body(declared, promoted=True)
        return info

    def _predict_promotion(self) -> bool:
        """Cheap look-ahead for the common promoted form: a step passing the input or bare
        parameters to an already-declared target whose domain is a sequence. (The exact test
        is in `_apply`; a miss only costs a second pass.)"""
        params = set(self.d.params or ())
        params = {p.text for p in params}
        for step in self.d.steps:
            target = getattr(step, "target", None)
            if target is None:
                continue
            sym = self.ctx.top.get(target.name.text)
            if sym is None or sym.kind not in EXPR_KINDS:
                continue
            if self.ctx.declared_at.get(sym.name, -1) >= self.ctx.current_index:
                continue
            mt = symbol_type(self.ctx, sym)
            if mt is None or not is_seq(mt.dom):
                continue
            args = target.args
            if args is None or (args and all(isinstance(a, A.Var) and a.name.text in params
                                             for a in args)):
                return True
        return False

    def _body(self, declared: Optional[MorphType], promoted: bool) -> Optional[ProgramInfo]:
        ctx, d = self.ctx, self.d
        self.promoted = promoted
        info = ProgramInfo(self.name, d, declared, declared, promoted=promoted,
                           scope_span=d.span)
        self.info = info
        dom = declared.dom if declared is not None else None
        self.input_type = (SeqType(dom) if promoted else dom) if dom is not None else None
        self._bind_params(info, dom)
        try:
            for step in d.steps:
                self._step(step)
        except _Promote:
            return None
        ret_t = self._return(d.ret, declared)
        info.return_type = ret_t
        if declared is not None:
            cod = declared.cod
            if getattr(self, "scalar_return", False):
                cod = ret_t
            elif ret_t is not None and is_seq(ret_t):
                cod = SeqType(declared.cod)
            info.effective = MorphType(self.input_type, cod)
        self._unused()
        info.variables = {n: v for n, (_, v) in self.locals.items()}
        return info

    # --------------------------------------------------------------------- parameters ----
    def _bind_params(self, info: ProgramInfo, dom: Optional[ObjType]) -> None:
        params = self.d.params or ()
        k = len(params)
        types: list = [None] * k
        if dom is not None:
            factors = dom.factor_types
            leaves = dom.leaves
            m, n = len(factors), len(leaves)
            if k == 0:
                info.param_binding = "none"
            elif k == 1:
                info.param_binding, types = "whole", [dom]
            elif k == m:
                info.param_binding, types = "factors", list(factors)
            elif k == n:
                info.param_binding = "leaves"
                types = [ObjType((l,)) for l in leaves]
            else:
                self.ctx.error("QVR060", f"program `{self.name}` has {k} parameters but its domain "
                               f"has {m} factors ({n} leaves)", self.d.params_span or self.d.name.span)
        if self.promoted:
            types = [SeqType(t) if t is not None else None for t in types]
        for p, t in zip(params, types):
            self._bind(p, "parameter", t, p)
            info.params.append((p, t))

    # -------------------------------------------------------------------------- scope ----
    def _bind(self, name: A.Name, kind: str, t, node) -> None:
        ctx = self.ctx
        if name.text in self.locals:
            first = self.locals[name.text][0]
            ctx.error("QVR016", f"variable `{name.text}` is already bound in program "
                      f"`{self.name}`", name.span,
                      related=(Related(first.name_span, f"`{name.text}` is first bound here"),))
            return
        sym_kind = "parameter" if kind == "parameter" else "variable"
        detail = f"{name.text} : {t.display()}" if t is not None else name.text
        sym = ctx.add_symbol(Symbol(name.text, sym_kind, name.span, getattr(node, "span", name.span),
                                    type=t, detail=detail, scope=self.name,
                                    doc=_doc_text(getattr(node, "docs", ()))))
        self.locals[name.text] = (sym, VarInfo(name.text, kind, t, node))
        self.uses[name.text] = 0

    def _use(self, name: A.Name):
        entry = self.locals.get(name.text)
        if entry is None:
            self.ctx.undefined(name, "QVR012", f"undefined variable `{name.text}` in program "
                               f"`{self.name}`", (), candidates=list(self.locals))
            return None
        sym, var = entry
        self.ctx.add_reference(name.span, sym)
        self.uses[name.text] += 1
        return var

    # -------------------------------------------------------------------------- steps ----
    def _step(self, step) -> None:
        ctx = self.ctx
        if isinstance(step, A.LetStep):
            t = self.arith(step.value)
            ctx.record_type(step, t)
            self._bind(step.name, "let", t, step)
            return
        pattern = step.name if isinstance(step, A.BindStep) else step.pattern
        observe = isinstance(step, (A.ObserveStep, A.ObserveTildeStep))
        self._step_deprecations(step)
        value = self._target(step, step.target, observe)
        ctx.record_type(step, value)
        annotation = getattr(step, "annotation", None)
        if annotation is not None:
            ann = resolve_type(ctx, annotation, finite_position=True)
            if ann is not None and value is not None and not compatible(ann, elem_of(value)):
                ctx.error("QVR073", f"annotation `{ann.display()}` does not match the values "
                          f"`{elem_of(value).display()}` of `{step.target.name.text}`",
                          annotation.span)
        opts = getattr(step, "options", None)
        if opts is not None:
            for o in opts.items:
                ctx.error("QVR028", f"unknown option `{o.key.text}` for a program step; allowed: "
                          "(none)", o.key.span)
        kind = "observe" if observe else "sample"
        if isinstance(pattern, A.Name):
            self._bind(pattern, kind, value, step)
        elif isinstance(pattern, A.PatVar):
            self._bind(pattern.name, kind, value, step)
        else:
            if observe:
                ctx.error("QVR072", "`observe` binds exactly one variable", pattern.span)
            parts = self._destructure(step, pattern, value)
            for n, t in zip(pattern.names, parts):
                self._bind(n, kind, t, step)

    def _destructure(self, step, pattern: A.PatTuple, value) -> list:
        k = len(pattern.names)
        if value is None:
            return [None] * k
        elem = elem_of(value)
        parts = None
        target = step.target
        prog = self.ctx.programs.get(target.name.text)
        if prog is not None and getattr(prog, "return_parts", None):
            parts = list(prog.return_parts)
        if parts is None or len(parts) != k:
            parts = list(elem.factor_types)
        if len(parts) != k:
            self.ctx.error("QVR068", f"cannot destructure `{value.display()}` into {k} variables",
                           pattern.span)
            return [None] * k
        return [SeqType(elem_of(p)) if is_seq(value) else p for p in parts]

    def _step_deprecations(self, step) -> None:
        ctx = self.ctx
        if isinstance(step, A.DrawStep):
            gap = Span(step.pattern.span.end, step.target.span.start)
            ctx.deprecated("QVR101", ctx.src(Span(step.keyword.span.start, step.target.span.end)),
                           f"sample {ctx.src(step.pattern.span)} <- {ctx.src(step.target.span)}",
                           Span(step.keyword.span.start, step.target.span.start),
                           [(step.keyword.span, "sample"), (gap, " <- ")])
        elif isinstance(step, A.BindStep):
            ctx.deprecated("QVR102", ctx.src(Span(step.name.span.start, step.target.span.end)),
                           f"sample {step.name.text} <- {ctx.src(step.target.span)}",
                           Span(step.name.span.start, step.keyword.span.end),
                           [(Span(step.name.span.start, step.name.span.start), "sample ")])
        elif isinstance(step, A.ObserveTildeStep):
            gap = Span(step.pattern.span.end, step.target.span.start)
            ctx.deprecated("QVR103", ctx.src(Span(step.keyword.span.start, step.target.span.end)),
                           f"observe {ctx.src(step.pattern.span)} <- {ctx.src(step.target.span)}",
                           Span(step.keyword.span.start, step.target.span.start),
                           [(gap, " <- ")])
        pattern = getattr(step, "pattern", None)
        if isinstance(pattern, A.PatTuple) and pattern.bracket:
            inner = ", ".join(n.text for n in pattern.names)
            ctx.deprecated("QVR105", f"[{inner}]", f"({inner})", pattern.span,
                           [(Span(pattern.span.start, pattern.span.start + 1), "("),
                            (Span(pattern.span.end - 1, pattern.span.end), ")")])

    # ------------------------------------------------------------------------- targets ----
    def _target(self, step, target: A.Target, observe: bool):
        ctx = self.ctx
        name = target.name
        sym = ctx.top.get(name.text)
        if sym is not None and sym.kind in EXPR_KINDS or (
                sym is not None and name.text not in FAMILIES):
            sym = ctx.lookup_top(name, want="morphism", undefined_code="QVR011",
                                 undefined_msg=f"undefined morphism `{name.text}`",
                                 allowed_kinds=EXPR_KINDS)
            if sym is None:
                return None
            if sym.name in ctx.groups:
                ctx.error("QVR018", f"group `{name.text}` can only be used directly inside "
                          "`fan(...)`", name.span)
                return None
            if has_fuzzy_latent(ctx, A.Ref(name, name.span)):
                ctx.error("QVR050", f"fuzzy relation `{name.text}` cannot be sampled", name.span)
            if observe and not self._has_density(sym):
                ctx.error("QVR071", f"`{name.text}` has no density; observe a distribution, a "
                          "kernel or a composite ending in one", name.span)
            mt = symbol_type(ctx, sym)
            return self._apply(name.text, mt, target, target.args)
        if name.text in FAMILIES:
            return self._inline(step, target)
        ctx.undefined(name, "QVR013", f"`{name.text}` is neither a declared morphism nor a "
                      "distribution family", (), candidates=[
                          s.name for s in ctx.top.values() if s.kind in EXPR_KINDS]
                      + list(FAMILIES))
        for a in target.args or ():  # still resolve the arguments' variables
            self.arith(a.value if isinstance(a, A.NamedArg) else a)
        return None

    def _has_density(self, sym) -> bool:
        ctx = self.ctx
        if sym.kind == "morphism":
            info = ctx.morphisms.get(sym.name)
            return info is None or info.role in ("kernel", "discretize")
        if sym.kind == "define":
            info = ctx.defines.get(sym.name)
            return info is None or _expr_has_density(ctx, info.decl.expr)
        return False

    def _args_span(self, target: A.Target) -> Span:
        if target.args:
            return Span(target.args[0].span.start, target.args[-1].span.end)
        return target.name.span

    def _apply(self, fname: str, mt: Optional[MorphType], target: A.Target, args):
        """Type of drawing from / calling a named morphism with `args` (None: the input)."""
        ctx = self.ctx
        arg_types = []
        all_params = True
        if args is None:
            given = self.input_type
        else:
            ok = True
            for a in args:
                if isinstance(a, A.NamedArg):
                    ctx.error("QVR062", "keyword arguments are only allowed for distribution "
                              "families", a.key.span)
                    self.arith(a.value)
                    ok = False
                    continue
                arg_types.append(self.arith(a))
                if not (isinstance(a, A.Var) and a.name.text in self.locals
                        and self.locals[a.name.text][1].kind == "parameter"):
                    all_params = False
            if not ok or any(t is None for t in arg_types):
                return mt.cod if mt is not None and not args else None
            given = product_of(arg_types) if arg_types else self.input_type
        if mt is None or given is None:
            return None
        dom = mt.dom
        span = self._args_span(target)
        if is_seq(dom):
            if is_seq(given) and compatible(given.elem, dom.elem):
                return mt.cod
            if (not is_seq(given) and compatible(given, dom.elem) and not self.promoted
                    and (args is None or all_params)):
                raise _Promote()
            ctx.error("QVR061", f"`{fname}` expects `{dom.display()}` but the arguments give "
                      f"`{given.display()}`", span)
            return None
        if is_seq(given):
            if not mt.is_elementwise:
                ctx.error("QVR041", f"`{fname}` consumes a whole sequence and cannot be lifted",
                          span)
                return None
            if not compatible(given.elem, dom):
                ctx.error("QVR061", f"`{fname}` expects `{dom.display()}` but the arguments give "
                          f"`{given.elem.display()}`", span)
                return None
            return SeqType(mt.cod)
        if not compatible(given, dom):
            ctx.error("QVR061", f"`{fname}` expects `{dom.display()}` but the arguments give "
                      f"`{given.display()}`", span)
            return None
        return mt.cod

    def _inline(self, step, target: A.Target):
        ctx = self.ctx
        fam = FAMILIES[target.name.text]
        if target.args is None:
            ctx.error("QVR065", f"`{fam.name}` cannot be used inline here (needs arguments)",
                      target.span)
            return None
        if not fam.inline:
            ctx.error("QVR065", f"`{fam.name}` cannot be used inline here (kernel-only family)",
                      target.span)
            return None
        types = {}
        for a in target.args:
            v = a.value if isinstance(a, A.NamedArg) else a
            types[id(v)] = self.arith(v)
        bound = bind_family_args(ctx, fam, target.args, target.span)
        if bound is None:
            return None
        positional_fix(ctx, fam, target.args)
        if any(types.get(id(v)) is None for v in bound.values()):
            return None
        seq = any(is_seq(types[id(v)]) for v in bound.values())
        if fam.name in ("Categorical", "Dirichlet"):
            key = next(iter(bound))
            w = elem_of(types[id(bound[key])]).width
        else:
            w = 1
            first = None
            for key, v in bound.items():
                wv = elem_of(types[id(v)]).width
                if wv == 1:
                    continue
                if w == 1:
                    w, first = wv, v
                elif wv != w:
                    ctx.error("QVR064", f"`{fam.name}`: argument widths {w} and {wv} cannot be "
                              "broadcast", v.span)
                    return None
        value = inline_value_type(fam.name, w, bound)
        if seq and value is not None:
            value = SeqType(value)
        ctx.inlines[id(step)] = (step, InlineInfo(fam.name, bound, w, value))
        return value

    # ---------------------------------------------------------------------- arithmetic ----
    def arith(self, node, *, operand: bool = False):
        if node.__class__ is A.BinOp:
            return self._arith_binops(node)
        t = self._arith(node, operand)
        self.ctx.record_type(node, t)
        return t

    def _arith_binops(self, node: A.BinOp):
        """Type a tree of `+ - * /` without recursing on its operators: `x + x + ... + x`
        is a left spine as deep as it is long. Post-order with an explicit stack, left operand
        before right (the order diagnostics come in)."""
        ctx = self.ctx
        todo: list = [(node, False)]
        types: list = []
        while todo:
            n, operands_done = todo.pop()
            if n.__class__ is not A.BinOp:
                t = self._arith(n, True)
            elif not operands_done:
                todo.append((n, True))
                todo.append((n.right, False))
                todo.append((n.left, False))
                continue
            else:
                rt = types.pop()
                lt = types.pop()
                t = self._binop(n, lt, rt)
            ctx.record_type(n, t)
            types.append(t)
        return types[0]

    def _binop(self, node: A.BinOp, lt, rt):
        """The value type of `left op right` given its operands' types."""
        if lt is None or rt is None:
            return None
        wl, wr = elem_of(lt).width, elem_of(rt).width
        if wl != wr and 1 not in (wl, wr):
            self.ctx.error("QVR069", f"arithmetic on widths {wl} and {wr}", node.op_span)
            return None
        out = ObjType.real(max(wl, wr))
        return SeqType(out) if is_seq(lt) or is_seq(rt) else out

    def _arith(self, node, operand: bool):
        ctx = self.ctx
        if isinstance(node, A.Lit):
            return ObjType.real(1)
        if isinstance(node, A.Var):
            var = self._use(node.name)
            if var is None:
                return None
            t = var.type
            if operand and t is not None:
                e = elem_of(t)
                if any(isinstance(l, Fin) for l in e.leaves) and not (
                        len(e.leaves) == 1 and e.leaves[0] == Fin(2)):
                    ctx.warning("QVR075", f"arithmetic on index values of finite `{node.name.text}` "
                                f"(`{e.display()}`)", node.span)
            return t
        if isinstance(node, A.Vec):
            for item in node.items:
                t = self.arith(item, operand=True)
                if t is not None and elem_of(t).width != 1:
                    ctx.error("QVR069", f"arithmetic on widths {elem_of(t).width} and 1", item.span)
                    return None
            return ObjType.real(len(node.items))
        if isinstance(node, A.Neg):
            t = self.arith(node.operand, operand=True)
            return _realise(t)
        if isinstance(node, A.BinOp):
            return self._arith_binops(node)
        if isinstance(node, A.Call):
            return self._call(node)
        return None

    def _call(self, node: A.Call):
        ctx = self.ctx
        name = node.name
        sym = ctx.top.get(name.text)
        if sym is not None and sym.kind == "morphism":
            sym = ctx.lookup_top(name, want="morphism", undefined_code="QVR011",
                                 undefined_msg=f"undefined morphism `{name.text}`",
                                 allowed_kinds=("morphism",))
            info = ctx.morphisms.get(name.text) if sym is not None else None
            if info is None:
                for a in node.args:
                    self.arith(a)
                return None
            if info.role not in ("deterministic", "embed"):
                ctx.error("QVR070", f"`{name.text}` is stochastic; bind it with `sample`",
                          node.span)
                for a in node.args:
                    self.arith(a)
                return None
            target = A.Target(name, tuple(node.args), node.span)
            return self._apply(name.text, info.type, target, tuple(node.args))
        if name.text in BUILTINS and (sym is None or sym.kind != "morphism"):
            types = [self.arith(a) for a in node.args]
            if len(node.args) != 1:
                ctx.error("QVR070", f"`{name.text}` takes 1 argument(s)", node.span)
                return None
            return _realise(types[0])
        if sym is not None and sym.kind in ("program", "define"):
            ctx.add_reference(name.span, sym)
            for a in node.args:
                self.arith(a)
            ctx.error("QVR070", f"`{name.text}` is stochastic; bind it with `sample`", node.span)
            return None
        for a in node.args:
            self.arith(a)
        ctx.undefined(name, "QVR013", f"`{name.text}` is neither a declared morphism nor a "
                      "builtin function", (), candidates=[
                          s.name for s in ctx.top.values() if s.kind == "morphism"]
                      + list(BUILTINS))
        return None

    # -------------------------------------------------------------------------- return ----
    def _return(self, ret: A.ReturnStep, declared: Optional[MorphType]):
        ctx = self.ctx
        if isinstance(ret.pattern, A.RetVar):
            var = self._use(ret.pattern.var)
            t = var.type if var is not None else None
            parts = [t]
        else:
            labels: dict[str, A.Name] = {}
            parts = []
            for item in ret.pattern.items:
                if item.label is not None:
                    if item.label.text in labels:
                        ctx.error("QVR074", f"return label `{item.label.text}` is repeated",
                                  item.label.span)
                    labels[item.label.text] = item.label
                var = self._use(item.var)
                parts.append(var.type if var is not None else None)
            t = product_of(parts) if all(p is not None for p in parts) else None
        self.info.return_parts = parts if all(p is not None for p in parts) else None
        ctx.record_type(ret, t)
        if t is None or declared is None:
            return t
        c = declared.cod
        if compatible(t, c) or (is_seq(t) and compatible(t.elem, c)):
            return t
        e = elem_of(t)
        if (c.is_finite and c.cardinality == 1 and len(c.leaves) == 1 and e.is_continuous
                and e.width == 1):
            ctx.warning("QVR067", f"`{self.name}` declares codomain `{c.display()}` (FinSet 1) but "
                        f"returns a continuous scalar; declare `{c.display()}` as `Real 1`",
                        ret.pattern.span,
                        related=(Related(self.d.sig.codomain.span, "declared codomain"),))
            self.scalar_return = True
            return t
        ctx.error("QVR066", f"`return` gives `{t.display()}` but program `{self.name}` declares "
                  f"`{c.display()}`", ret.pattern.span)
        return t

    # -------------------------------------------------------------------------- unused ----
    def _unused(self) -> None:
        ctx = self.ctx
        for name, (sym, var) in self.locals.items():
            if self.uses.get(name) or name.startswith("_") or var.kind == "observe":
                continue
            if var.kind == "let":
                ctx.warning("QVR081", f"`let {name}` is never used", sym.name_span,
                            tags=("unnecessary",))
            elif var.kind == "sample":
                ctx.hint("QVR082", f"`{name}` is sampled but never used; it still contributes to "
                         "the joint density", sym.name_span, tags=("unnecessary",))
            elif var.kind == "parameter":
                ctx.hint("QVR083", f"parameter `{name}` of `{self.name}` is never used",
                         sym.name_span, tags=("unnecessary",))


def _realise(t):
    """Arithmetic result type: `Real w` (a sequence if the operand is one)."""
    if t is None:
        return None
    out = ObjType.real(elem_of(t).width)
    return SeqType(out) if is_seq(t) else out


def _literal_value(node) -> Optional[float]:
    if isinstance(node, A.Lit):
        return float(node.value.value)
    if isinstance(node, A.Neg):
        v = _literal_value(node.operand)
        return -v if v is not None else None
    return None


def inline_value_type(family: str, w: int, bound: dict) -> Optional[ObjType]:
    """The value type of an inline draw of `family` at width `w` (spec §5.2)."""
    fam = FAMILIES[family]
    if fam.support == "real":
        return ObjType.real(w)
    if fam.support == "unit":
        return ObjType.real(w, 0.0, 1.0)
    if fam.support == "positive":
        return ObjType.real(w, 0.0)
    if fam.support == "bounded":
        lo, hi = _literal_value(bound.get("low")), _literal_value(bound.get("high"))
        if lo is not None and hi is not None and lo < hi:
            return ObjType.real(w, lo, hi)
        return ObjType.real(w)
    if fam.support == "simplex":
        return ObjType.leaf(Cont(w, simplex=True))
    if fam.support == "binary":
        return ObjType.fin(2) if w == 1 else ObjType(tuple(ObjType.fin(2) for _ in range(w)))
    if fam.support == "categorical":
        return ObjType.fin(w)
    return None


def _expr_has_density(ctx: Context, e) -> bool:
    """A composite has a density when its last component is a family kernel/discretize.

    A loop down the right-hand side rather than recursion: `<<` chains are right spines as
    deep as they are long."""
    while True:
        if isinstance(e, A.Ref):
            sym = ctx.top.get(e.name.text)
            if sym is None:
                return True
            if sym.kind == "morphism":
                info = ctx.morphisms.get(sym.name)
                return info is None or info.role in ("kernel", "discretize")
            if sym.kind == "define":
                info = ctx.defines.get(sym.name)
                if info is None:
                    return True
                e = info.decl.expr
                continue
            return False
        if isinstance(e, A.Compose):
            e = e.right
        elif isinstance(e, (A.Repeat, A.Stack)):
            e = e.expr
        elif isinstance(e, A.Scan):
            e = e.cell
        else:
            return False


def _doc_text(docs) -> Optional[str]:
    return "\n".join(d.text for d in docs) if docs else None


def check_program(ctx: Context, d: A.ProgramDecl) -> ProgramInfo:
    return ProgramChecker(ctx, d).run()
