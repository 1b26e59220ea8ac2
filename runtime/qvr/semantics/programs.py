"""Programs (spec §4.6): parameter binding, promotion, steps (draws, inline distributions,
observes, `let` arithmetic, destructuring) and `return`, with the program-local scope, the
step deprecations QVR101–QVR105 and the unused-local diagnostics QVR081–QVR083.

Part 2 adds plated values (§5.1–§5.3; the plate algebra is in `plates`): every value may
vary over plates; an unbound operand name is a *data name* of the program (QVR111/QVR112);
a step's annotation and `iid_over`/`over` options are read by Rule A (§4.1) and give the
step its plates (§5.2); returns follow §4.2.

A program is checked once with per-element parameter types; if a step passes the input (or a
parameter) to a morphism whose domain is a sequence of it, the program is *promoted* and the
body is checked again with sequence parameters (the first pass's output is discarded)."""
from __future__ import annotations

from typing import Optional

from ..diagnostics import Fix, Related, TextEdit
from ..syntax import ast as A
from ..syntax.span import Span
from .context import KIND_WORDS, Context
from .suggestions import NameIndex, OneEditIndex, closest, edit_distance
from .declarations import bind_family_args, positional_fix, resolve_sig
from .expressions import EXPR_KINDS, names_fuzzy_latent, symbol_type
from . import comprehensions, effects, marginalize, templates
from .families import BUILTIN_NAMES, BUILTIN_SCHEMAS, BUILTINS, FAMILIES, value_type
from .model import InlineInfo, ProgramInfo, Symbol, VarInfo
from .objects import resolve_type
from .plates import (NO_PLATES, Plate, PlateEnv, PlatedType, Plating, base_of, display_plates,
                     plate_of, plated, plating_of)
from .types import (Cont, Fin, Mat, MorphType, ObjType, SeqType, compatible, elem_of, is_seq,
                    product_of)


class _Promote(Exception):
    """Raised inside the first pass when the program turns out to be promoted."""


class ProgramChecker:
    def __init__(self, ctx: Context, d: A.ProgramDecl):
        self.ctx = ctx
        self.d = d
        self.name = d.name.text
        self.locals: dict[str, tuple[Symbol, VarInfo]] = {}
        # the names bound in `locals`, for `_closest_local`: made on its first call (most
        # programs have no data name to look up), then kept up to date by `_bind`
        self.local_index: Optional[OneEditIndex] = None
        # the locals as a `NameIndex`, for the "did you mean" of a `return` pattern's
        # undefined names: made at the first (nothing is bound after the `return`)
        self.return_index: Optional[NameIndex] = None
        self.uses: dict[str, int] = {}
        self.promoted = False
        self.input_type = None
        # >0 while checking the arguments of a measure-algebra family (tier 2: `Truncated`,
        # `Mixture`, …), where a family call such as `Normal(loc=0.0, scale=1.0)` is a
        # distribution value, not an unknown function
        self.distribution_args = 0
        self._reset_plates()

    def _reset_plates(self) -> None:
        """Per-pass state of plated values (a promoted program is checked twice)."""
        self.env = PlateEnv()
        self.data: dict[str, tuple[Symbol, VarInfo]] = {}  # data names (§5.3)
        # QVR111 hints, reported once the body is checked: a data name's plates are known
        # only after the steps that tie its rows to a plate
        self.data_hints: list = []
        self.inherited: dict[str, VarInfo] = {}  # data names of the programs drawn from
        self.inherited_at: dict[str, Span] = {}  # where each was first inherited (QVR115)
        # (call target, plates) of each template instance whose value has data rows of its own
        self.open_returns: list = []
        # scalar parameters a call binds (set by the template call being checked): not inputs
        self.bound_scalars: frozenset = frozenset()
        self.near: dict[str, str] = {}  # data name -> the local it nearly spells (QVR112)
        self.input_dep: set[str] = set()  # input-dependent locals (§5.1)
        self.used_plates: set = set()  # plates of steps (for QVR118)
        # where the first row plate (`info.row_plates[0]`) was met, at its own step or a
        # drawn program: every other row plate must be the same plate
        self.row_at: Optional[Span] = None
        self.args: list = []  # (node, plates, input-dependent) of the current target
        self.event: Optional[int] = None  # event width of the current step (§5.8)
        self.out_of_scope: dict = {}  # names a closed `marginalize` block ended (§5.7)
        self.pull_back = None  # inside a grouped `marginalize`: arguments' plates via `via`

    # ------------------------------------------------------------------------- driver ----
    def run(self) -> ProgramInfo:
        ctx, d = self.ctx, self.d
        declared = resolve_sig(ctx, d.sig)
        effects_declared = effects.program_options(ctx, d)
        # Only list lengths are remembered (cheap); types and inline records of the aborted
        # first pass are overwritten by the second pass, which visits the same nodes again.
        snapshot = (len(ctx.diagnostics), len(ctx.references), len(ctx.symbols))
        info = self._body(declared, promoted=self._predict_promotion())
        if info is None:  # promotion detected: check again with sequence parameters
            del ctx.diagnostics[snapshot[0]:]
            del ctx.references[snapshot[1]:]
            del ctx.symbols[snapshot[2]:]
            self.locals, self.uses = {}, {}
            self.local_index = self.return_index = None
            self._reset_plates()
            info = self._body(declared, promoted=True)
        effects.finish(ctx, d, info, effects_declared)
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
        # where each step-bound name is first bound: a use before that is QVR012, not data
        self.step_names: dict[str, A.Name] = {}
        for step in d.steps:
            for n in _bound_names(step):
                self.step_names.setdefault(n.text, n)
        self._bind_params(info, dom)
        try:
            for step in d.steps:
                self._step(step)
        except _Promote:
            return None
        ret_t = self._return(d.ret, declared)
        info.return_type = ret_t
        self._own_rows_meet_callees()
        for x, t, span in self.data_hints:
            self.ctx.hint("QVR111", f"`{x}` is a data input of `{self.name}`: {t.display()}",
                          span)
        if declared is not None:
            cod = declared.cod
            if getattr(self, "scalar_return", False):
                cod = base_of(ret_t)
            elif ret_t is not None and is_seq(ret_t):
                cod = SeqType(declared.cod)
            info.effective = MorphType(self.input_type, cod)
        self._unused()
        self._open_returns_kept_apart()
        info.variables = {n: v for n, (_, v) in self.locals.items()}
        info.variables.update((n, v) for n, (_, v) in self.data.items())
        self._take_callee_inputs(info)
        return info

    # --------------------------------------------------------------------- parameters ----
    def _bind_params(self, info: ProgramInfo, dom: Optional[ObjType]) -> None:
        params = templates.bare_params(self.d)  # typed parameters are not counted (§5.5)
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
            self.input_dep.add(p.text)
            info.params.append((p, t))
        for p, kind, _ in templates.typed_params(self.d):  # scalar parameters: `Real 1`
            if kind in templates.SCALAR_KINDS:
                self._bind(p, "parameter", ObjType.real(1), p)

    # -------------------------------------------------------------------------- scope ----
    def _bind(self, name: A.Name, kind: str, t, node) -> None:
        ctx = self.ctx
        if name.text in self.out_of_scope:  # a closed `marginalize` block's name (§5.7)
            marginalize.reopen(self, name.text)
        if name.text in self.locals:
            first = self.locals[name.text][0]
            ctx.error("QVR016", f"variable `{name.text}` is already bound in program "
                      f"`{self.name}`", name.span,
                      related=(Related(first.name_span, f"`{name.text}` is first bound here"),))
            return
        sym_kind = "parameter" if kind == "parameter" else "variable"
        detail = f"{name.text} : {t.display()}" if t is not None else name.text
        docs = getattr(node, "docs", None)
        sym = ctx.add_symbol(Symbol(name.text, sym_kind, name.span, getattr(node, "span", name.span),
                                    type=t, detail=detail, scope=self.name,
                                    doc=_doc_text(docs) if docs else None))
        self.locals[name.text] = (sym, VarInfo(name.text, kind, t, node))
        if self.local_index is not None:
            self.local_index.add(name.text)
        self.uses[name.text] = 0

    def _use(self, name: A.Name, *, operand: bool = False, expect=None):
        """The local (or data name) `name` refers to. In an operand position an unbound
        name is a data name (§4.3); elsewhere (a `return` pattern) it is QVR012."""
        if name.text in self.out_of_scope:
            return marginalize.out_of_scope(self, name)
        entry = self.locals.get(name.text)
        if entry is None:
            entry = self.data.get(name.text)
            if entry is not None:
                self.ctx.add_reference(name.span, entry[0])
                self._near_miss(name)
                return entry[1]
            if operand:
                return self._free_name(name, expect)
            if self.return_index is None:  # (read once, not once per undefined name)
                self.return_index = NameIndex(self.locals)
            self.ctx.undefined(name, "QVR012", f"undefined variable `{name.text}` in program "
                               f"`{self.name}`", (), candidates=self.return_index)
            return None
        sym, var = entry
        self.ctx.add_reference(name.span, sym)
        self.uses[name.text] += 1
        return var

    def _free_name(self, name: A.Name, expect):
        """An operand name that is not a local in scope: QVR012 when a later step binds it,
        QVR017 for a top-level name, else a new data name of this program (§5.3) whose type
        is the one expected at this first use, over its own open plate."""
        ctx, x = self.ctx, name.text
        later = self.step_names.get(x)
        if later is not None:
            ctx.error("QVR012", f"undefined variable `{x}` in program `{self.name}` (bound at "
                      f"line {ctx.line_of(later.span)})", name.span,
                      related=(Related(later.span, f"`{x}` is bound here"),))
            return None
        if x in ctx.local_top or x in ctx.top:
            ctx.lookup_top(name, want="variable", undefined_code="QVR012",
                           undefined_msg=f"undefined variable `{x}`", allowed_kinds=())
            return None
        t = plated(expect if expect is not None else ObjType.real(1), Plating(open=x), self.env)
        sym = ctx.add_symbol(Symbol(x, "variable", name.span, name.span, type=t,
                                    detail=f"{x} : {t.display()} (data)", scope=self.name))
        var = VarInfo(x, "data", t, name)
        self.data[x] = (sym, var)
        near = self._closest_local(x)
        if near is not None:
            self.near[x] = near
            self._near_miss(name)
        else:
            self.data_hints.append((x, t, name.span))
        return var

    def _closest_local(self, x: str) -> Optional[str]:
        """A local in scope that `x` misspells: one edit away, or equal but for underscores.
        One edit counts only between names of three letters or more: short names one edit
        apart (`x` and `k`, `mu` and `nu`) are usually different quantities, not typos.
        Only the locals the index offers are compared (a program of thousands of locals and
        data names would otherwise compare every pair)."""
        bare = x.replace("_", "")
        best = None
        locals_ = self.locals
        if self.local_index is None:
            self.local_index = OneEditIndex(locals_)
        for y in self.local_index.candidates(x):
            if y not in locals_:  # no longer in scope (a closed `marginalize` block's name)
                continue
            if y.replace("_", "") == bare or (min(len(x), len(y)) >= 3
                                              and edit_distance(x, y, 1) <= 1):
                if best is None or y < best:
                    best = y
        return best

    def _near_miss(self, name: A.Name) -> None:
        y = self.near.get(name.text)
        if y is not None:
            self.ctx.warning("QVR112", f"`{name.text}` is not bound in `{self.name}` and is read "
                             f"as data; did you mean `{y}`?", name.span,
                             fixes=(Fix(f"Change to `{y}`", (TextEdit(name.span, y),)),))

    # -------------------------------------------------------------------------- steps ----
    def _step(self, step) -> None:
        ctx = self.ctx
        cls = step.__class__  # AST classes have no subclasses: compared, not `isinstance`d
        if cls is _MarginalizeStep:
            return marginalize.check(self, step)
        if cls is A.LetStep or cls is _ScoreStep:
            if step.value.__class__ is A.FactorExpr:  # a comprehension (§5.8)
                t = comprehensions.check(self, step.value)
            else:
                t = self.arith(step.value)
            ctx.record_type(step, t)
            if cls is _ScoreStep:
                effects.check_score(ctx, step, t)
            self._bind(step.name, "let" if cls is A.LetStep else "score", t, step)
            if self._depends(step.value):
                self.input_dep.add(step.name.text)
            return
        pattern = getattr(step, "pattern", None)
        if pattern is None:
            pattern = step.name
        observe = cls is A.ObserveStep or cls is A.ObserveTildeStep
        self._step_deprecations(step)
        if cls is _CallStep:
            effects.check_call_target(ctx, step)
        if getattr(step, "options", None) is None:  # no plates declared by options
            iid = over = []
        else:
            opts = _step_options(ctx, step)
            iid = self._plate_list(opts.get("iid_over"))
            over = self._plate_list(opts.get("over"))
        annotation = getattr(step, "annotation", None)
        ann = (resolve_type(ctx, annotation, finite_position=True)
               if annotation is not None else None)
        ann_plate = (plate_of(ctx, annotation.name.text)
                     if isinstance(annotation, A.TypeRef) and ann is not None else None)
        # the event width of one draw: `over` (§5.8), or the annotation sizing a family
        # whose size its arguments do not fix (Rule A step 2)
        self.event = _product_size(over) if over else None
        self.sizing, self.sized_by_annotation = None, False
        if self.event is None and not iid and ann is not None and ann.is_finite:
            self.sizing = ann
        self.args, self.target_dep, self.target_dom = [], False, None
        value = self._target(step, step.target, observe)
        if self.pull_back is not None:  # an observe of a grouped `marginalize` body (§5.7)
            self.args = self.pull_back(self.args)
        declared = self._rule_a(step, value, ann, ann_plate, iid, over)
        value = self._step_value(step, value, declared, annotation)
        ctx.record_type(step, value)
        kind = "observe" if observe else "let" if cls is _CallStep else "sample"
        if self.target_dep:
            for n in _bound_names(step):
                self.input_dep.add(n.text)
        if pattern.__class__ is A.Name:
            self._bind(pattern, kind, value, step)
        elif pattern.__class__ is A.PatVar:
            self._bind(pattern.name, kind, value, step)
        else:
            if observe:
                ctx.error("QVR072", "`observe` binds exactly one variable", pattern.span)
            parts = self._destructure(step, pattern, value)
            for n, t in zip(pattern.names, parts):
                self._bind(n, kind, t, step)
        for inner in getattr(step, "body", ()):  # a `marginalize` block's steps
            self._step(inner)

    # -------------------------------------------------------------------- step plates ----
    def _plate_list(self, value) -> list:
        """The finite objects an `iid_over=`/`over=` value names, as plates."""
        if value is None:
            return []
        items = value.items if isinstance(value, A.OptList) else (value,)
        out = []
        for item in items:
            if not isinstance(item, A.OptName):
                self.ctx.error("QVR017", f"`{self.ctx.src(item.span)}` is not a finite object",
                               item.span)
                continue
            sym = self.ctx.lookup_top(item.name, want="object", undefined_code="QVR010",
                                      undefined_msg=f"undefined type `{item.name.text}`",
                                      allowed_kinds=("object",))
            if sym is None:
                continue
            plate = plate_of(self.ctx, sym.name)
            if plate is None:
                self.ctx.error("QVR017", f"`{item.name.text}` is a continuous object, not a "
                               "finite object", item.span)
                continue
            if plate not in out:
                out.append(plate)
        return out

    def _rule_a(self, step, value, ann, ann_plate, iid: list, over: list) -> list:
        """The declared plates of a step (§5.2) from its options and its annotation read by
        Rule A (§4.1)."""
        annotation = getattr(step, "annotation", None)
        elem = elem_of(base_of(value)) if value is not None else None
        if iid:
            if ann is not None and ann_plate not in iid and not (
                    elem is not None and compatible(ann, elem)):
                self.ctx.error("QVR114", f"annotation `{ann.display()}` must be one of the "
                               "`iid_over` objects", annotation.span)
            return iid
        if ann is None or value is None:
            return []
        if (over and ann_plate in over) or self.sized_by_annotation:
            return []  # restates an event axis, or sets the event size
        if compatible(ann, elem):
            return []  # P1: the annotation states the value type
        if ann_plate is not None:
            return [ann_plate]
        self.ctx.error("QVR073", f"annotation `{ann.display()}` does not match the values "
                       f"`{elem.display()}` of `{step.target.name.text}`", annotation.span)
        return []

    def _step_value(self, step, value, declared: list, annotation):
        """The value of a step over its plates (§5.2): a row plate, axis plates, or the
        union of its arguments' plates."""
        if value is None:
            return None
        ctx, env = self.ctx, self.env
        args = self.args
        if len(declared) == 1 and not args and self.target_dom is not None:
            dom = self.target_dom
            if dom.name is not None and plate_of(ctx, dom.name) == declared[0]:
                # an argument-less draw over the target's own domain: each element of the
                # plate is drawn conditioned on itself
                args, self.target_dep = [(None, Plating((declared[0],)), False)], False
        self.used_plates.update(declared)
        if (len(declared) == 1 and self.target_dep
                and all(not p.has_axes for _, p, _ in args)):
            row = declared[0]
            where = annotation.span if annotation is not None else step.keyword.span
            ctx.hint("QVR117", f"`{row.name}` is read as the row plate: {row.size} rows, one "
                     f"`{base_of(value).display()}` per row; the batch must have {row.size} rows",
                     where)
            self._row_plate(row, where)
            return plated(value, Plating(row=row), env)
        if declared:
            for node, p, _ in args:
                what = ctx.src(node.span) if node is not None else step.target.name.text
                span = node.span if node is not None else step.target.span
                for q in p.axes:
                    if q not in declared:
                        ctx.error("QVR114", f"`{what}` varies over `{q.name}`, which is not a "
                                  "plate of this step", span)
                if p.open is not None:
                    self._open_into(p, declared, span)
            pl = Plating(tuple(declared))
        else:
            pl, first = NO_PLATES, None
            for node, p, _ in args:
                if p.open is not None:
                    if first is None:
                        first = p.open
                    else:
                        clash = env.unify(first, p.open)
                        if clash is not None:
                            self._clash(p.open, clash[0], clash[1][0], node.span)
                pl = env.merge(pl, p)
        return self._plated_value(step.target, value, pl)

    def _take_callee_inputs(self, info: ProgramInfo) -> None:
        """The named inputs of the programs it draws become this program's `variables` (§5.3),
        checked against what this program itself reads under the same names; records which of
        its scalar parameters it hands on (`info.passed_on`)."""
        # (a scalar parameter of this program is a named input too: the same input)
        scalars = {p.text for p, kind, _ in templates.typed_params(self.d)
                   if kind in templates.SCALAR_KINDS}
        passed_on: set = set()
        for n, v in self.inherited.items():
            at = self.inherited_at[n]
            t = v.type
            if t.__class__ is PlatedType and t.plating.open is not None:
                # its open plate came back with the callee's return and may have met a
                # declared plate here (`observe y : Obs <- Normal(loc=b)`): resolved here
                v = VarInfo(v.name, v.kind, PlatedType(t.base, t.plating, self.env), v.node)
            own, local = self.data.get(n), self.locals.get(n)
            if local is not None and (n not in scalars or n in self.bound_scalars):
                self._input_hidden(n, local[0])
            elif local is not None:  # this program's scalar parameter: the same input
                if self._agree(n, self.ctx.frame_span(local[0]), local[1].type, at, v.type):
                    passed_on.add(n)
            elif own is None:
                info.variables[n] = v
            else:  # read here too: one input, so one set of plates
                self._agree(n, getattr(own[1].node, "span", None) or at, own[1].type, at, v.type)
        info.passed_on = frozenset(passed_on)

    def inherit(self, var: VarInfo, span: Span) -> None:
        """Named input `var` of a program drawn or called at `span` becomes one of this
        program's (§5.3), with its plates as the callee resolved them (a template instance
        ties a data name's rows to the plate it was called with)."""
        t = var.type
        if t.__class__ is PlatedType and t.env is not None:
            var = VarInfo(var.name, var.kind, PlatedType(t.base, t.plates), var.node)
        name = var.name
        first = self.inherited.get(name)
        if first is None:
            self.inherited[name] = var
            self.inherited_at[name] = span
            return
        self._agree(name, self.inherited_at[name], first.type, span, var.type)

    def _own_rows_meet_callees(self) -> None:
        """A data input this program reads with rows still its own, which a drawn program
        reads over one plate: one input, so its rows are that plate here too."""
        for n, v in self.inherited.items():
            own = self.data.get(n)
            if own is None:
                continue
            mine, theirs = plating_of(own[1].type), plating_of(v.type)
            if mine.open is not None and not mine.axes and len(theirs.axes) == 1 \
                    and theirs.open is None:
                self.env.bind(mine.open, theirs.axes[0], self.inherited_at[n])

    def _open_returns_kept_apart(self) -> None:
        """QVR114 at a template call whose value varies over the rows of a data input (an
        open plate) besides declared plates, when those rows later meet one of the same
        declared plates here: the instance already made them a separate axis, so they cannot
        be the same elements (a single program aligns them where they meet)."""
        env = self.env
        for target, plates in self.open_returns:
            root = env.find(plates.open)
            bound = env.bound.get(root)
            if bound is not None and bound[0] in plates.axes:
                self.ctx.error("QVR114", f"`{plates.open}` has rows of its own in "
                               f"`{self.ctx.src(target.name.span)}`, whose value also varies over "
                               f"`{bound[0].name}`: those rows cannot become `{bound[0].name}` here",
                               target.name.span)

    def _input_hidden(self, name: str, local: Symbol) -> None:
        """QVR113: a callee's named input `name` is supplied by name with this program's
        observations, where `name` already stands for a variable of this program."""
        at = self.inherited_at[name]
        where = self.ctx.frame_span(local)
        self.ctx.error("QVR113", f"`{self.ctx.src(at)}` reads data `{name}` and cannot be drawn in "
                       f"`{self.name}`, which binds `{name}` (line {self.ctx.line_of(where)})", at,
                       related=(Related(where, f"`{name}` is bound here"),))

    def _agree(self, name: str, first_at: Span, first, then_at: Span, then) -> bool:
        """Named input `name`, read as `first` at `first_at`, is read as `then` at `then_at`
        (by two callees, or by a callee and this program): one input has one type and one set
        of plates. Index data of two sizes is QVR116 (a template's `raw[which]` called over
        two plates of different sizes), another type, or a scalar parameter (no plates) read
        as data (rows), QVR061; other declared plates QVR115; each at `then_at`. True when
        they agree."""
        old, new = base_of(first), base_of(then)
        line = self.ctx.line_of(first_at)
        p, q = plating_of(first), plating_of(then)
        scalar_and_rows = p.empty != q.empty
        if old is not None and new is not None and (scalar_and_rows or not compatible(old, new)):
            if old.is_finite and new.is_finite and not scalar_and_rows:
                n = old.cardinality
                self.ctx.error("QVR116", f"`{name}` takes {n} values (line {line}) and "
                               f"{new.cardinality} values here", then_at,
                               related=(Related(first_at, f"`{name}` takes {n} values here"),))
            else:
                # (the plates tell a scalar from data rows; otherwise the types differ)
                shown, other = (first.display(), then.display()) if scalar_and_rows else \
                    (old.display(), new.display())
                self.ctx.error("QVR061", f"`{name}` is `{shown}` (line {line}) and "
                               f"`{other}` here", then_at,
                               related=(Related(first_at, f"`{name}` is `{shown}` here"),))
            return False
        if p.axes and q.axes and p.axes != q.axes:
            shown = display_plates(p.axes)
            self.ctx.error("QVR115", f"`{name}` is used over `{shown}` (line {line}) and over "
                           f"`{display_plates(q.axes)}`", then_at,
                           related=(Related(first_at, f"`{name}` is used over `{shown}` here"),))
            return False
        return True

    def draws(self, callee: Optional[ProgramInfo], span: Span) -> None:
        """A program (or template instance) drawn at `span`: its data inputs (§5.3) and its
        row plates become this program's."""
        for v in (getattr(callee, "variables", None) or {}).values():
            if v.kind == "data":
                self.inherit(v, span)
        self.draws_rows_of(callee, span)

    def draws_rows_of(self, callee: Optional[ProgramInfo], span: Span) -> None:
        """A program (or template instance) drawn at `span` runs on this program's batch: its
        row plates are this program's too."""
        for row in getattr(callee, "row_plates", ()):
            self._row_plate(row, span)

    def _row_plate(self, row: Plate, where: Span) -> None:
        """Row plate `row` of a step at `where`, or of a program drawn there: the batch of a
        run is one set of rows, so a second, different row plate is QVR115 (two objects of the
        same size are still two plates, §5.1)."""
        info = self.info
        if row not in info.row_plates:
            info.row_plates += (row,)
        if self.row_at is None:
            self.row_at = where
            return
        first, first_at = info.row_plates[0], self.row_at
        if row == first:
            return
        rows = self._input_label()
        self.ctx.error("QVR115", f"`{rows}` is used over `{first.name}` (line "
                       f"{self.ctx.line_of(first_at)}) and over `{row.name}`", where,
                       related=(Related(first_at, f"the rows of `{rows}` are `{first.name}` "
                                        "here"),))

    def _input_label(self) -> str:
        """The program input as written in its header: `x`, `(x_t, h)`, or `p(…)` for a
        program without parameters (its argument-less draws read the input)."""
        params = templates.bare_params(self.d)
        if len(params) == 1:
            return params[0].text
        if params:
            return "(" + ", ".join(p.text for p in params) + ")"
        return f"{self.name}(…)"

    def _open_into(self, p: Plating, declared: list, span) -> None:
        """Unify an argument's open plate with the only declared plate it lacks (QVR114
        when there is none or more than one, QVR115 when it is already another plate)."""
        env, x = self.env, self.env.find(p.open)
        lacking = [q for q in declared if q not in p.axes]
        bound = env.bound.get(x)
        if bound is not None and bound[0] in declared:
            return
        if len(lacking) == 1:
            old = env.bind(x, lacking[0], span)
            if old is not None:
                self._clash(x, old, lacking[0], span)
        elif not lacking:
            self.ctx.error("QVR114", f"`{x}` varies over data rows but this step has no free "
                           "plate", span)
        else:
            self.ctx.error("QVR114", f"cannot tell whether `{x}` ranges over `{lacking[0].name}` "
                           f"or `{lacking[1].name}`", span)

    def _clash(self, x: str, old, plate: Plate, span) -> None:
        """QVR115: open plate `x` met two different declared plates."""
        first_plate, first_span = old
        self.ctx.error("QVR115", f"`{x}` is used over `{first_plate.name}` (line "
                       f"{self.ctx.line_of(first_span)}) and over `{plate.name}`", span,
                       related=(Related(first_span, f"`{x}` is used over "
                                        f"`{first_plate.name}` here"),))

    def _depends(self, node) -> bool:
        """Whether an expression is input-dependent (§5.1): it reads a parameter or a value
        computed from the program input."""
        todo = [node]
        while todo:
            n = todo.pop()
            cls = n.__class__
            if cls is A.Var:
                if n.name.text in self.input_dep:
                    return True
            elif cls is A.BinOp:
                todo.append(n.left)
                todo.append(n.right)
            elif cls is A.Neg:
                todo.append(n.operand)
            elif cls is A.NamedArg:
                todo.append(n.value)
            elif cls in (A.Call, A.Vec):
                todo.extend(n.args if cls is A.Call else n.items)
            elif cls is A.Name:
                if n.text in self.input_dep:
                    return True
            elif cls is not A.Lit:  # other forms: look at every child node
                for f in getattr(n, "__slots__", ()):
                    v = getattr(n, f, None)
                    if isinstance(v, tuple):
                        todo.extend(x for x in v if hasattr(x, "span"))
                    elif hasattr(v, "span"):
                        todo.append(v)
        return False

    def _realise(self, t):
        """Arithmetic result type: `Real w` (a sequence if the operand is one), over the
        operand's plates."""
        if t is None:
            return None
        b = base_of(t)
        out = ObjType.real(elem_of(b).width)
        return plated(SeqType(out) if is_seq(b) else out, plating_of(t), self.env)

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
            self.ctx.error("QVR068", f"cannot destructure `{base_of(value).display()}` into {k} "
                           "variables",
                           pattern.span)
            return [None] * k
        # each part varies over the value's plates and, for a program's tuple return over
        # different plates (§4.2), over its own
        pl = plating_of(value)
        return [plated(SeqType(elem_of(base_of(p))) if is_seq(base_of(value)) else base_of(p),
                       self.env.merge(pl, Plating(plating_of(p).axes)), self.env)
                for p in parts]

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
                if ctx.top.get(name.text) is not None and ctx.top[name.text].kind == "opaque":
                    # a tier-3 callee: unchecked, but its arguments are still this program's
                    # operands (their names resolve; free ones are data names, §5.3)
                    for arg in target.args or ():
                        if arg.__class__ is not A.Lambda:
                            self.arith(arg.value if arg.__class__ is A.NamedArg else arg,
                                       operand=True)
                return None
            if sym.name in ctx.groups:
                ctx.error("QVR018", f"group `{name.text}` can only be used directly inside "
                          "`fan(...)`", name.span)
                return None
            if sym.kind == "program" and getattr(ctx.programs.get(sym.name), "typed_params",
                                                 None):
                return templates.call(self, sym, target)  # typed parameters (§5.5)
            if names_fuzzy_latent(ctx, sym):  # `has_fuzzy_latent` of a reference to it
                ctx.error("QVR050", f"fuzzy relation `{name.text}` cannot be sampled", name.span)
            if observe and not self._has_density(sym):
                ctx.error("QVR071", f"`{name.text}` has no density; observe a distribution, a "
                          "kernel or a composite ending in one", name.span)
            mt = symbol_type(ctx, sym)
            self.target_dom = mt.dom if mt is not None else None
            if sym.kind == "program":
                self.draws(ctx.programs.get(sym.name), name.span)
            value, self.args = self._apply(name.text, mt, target, target.args)
            returned = getattr(ctx.programs.get(sym.name), "return_type", None) \
                if sym.kind == "program" else None
            if value is not None and returned.__class__ is PlatedType:
                # a program returns its codomain over the plates of its return (§4.2 R-a):
                # those plates take part in this step like an argument's
                p = returned.plates
                self.args.append((target.name, Plating(p.axes, p.open), False))
            self.target_dep = target.args is None or any(dep for _, _, dep in self.args)
            return value
        if name.text in FAMILIES:
            return self._inline(step, target)
        ctx.undefined(name, "QVR013", f"`{name.text}` is neither a declared morphism nor a "
                      "distribution family", EXPR_KINDS, also=FAMILIES)
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

    def _apply(self, fname: str, mt: Optional[MorphType], target, args):
        """Type of drawing from / calling a named morphism with `args` (None: the input),
        applied to every plate element of the arguments, and the arguments as
        (node, plates, input-dependent) triples. `target` (an `A.Target`, or the `A.Call`
        of a call in arithmetic) locates the arguments in messages."""
        ctx = self.ctx
        arg_types = []
        info: list = []
        all_params = True
        if args is None:
            given = self.input_type
        else:
            ok = True
            expects = _expected_args(mt, len(args))
            for i, a in enumerate(args):
                if a.__class__ is A.NamedArg:
                    self._keyword_argument(a)
                    ok = False
                    continue
                t = self.arith(a, expect=expects[i])
                info.append((a, _raw_plating(t), self._depends(a)))
                arg_types.append(base_of(t))
                if all_params and not (a.__class__ is A.Var and a.name.text in self.locals
                                       and self.locals[a.name.text][1].kind == "parameter"):
                    all_params = False
            if not ok or any(t is None for t in arg_types):
                return (mt.cod if mt is not None and not args else None), info
            given = product_of(arg_types) if arg_types else self.input_type
        if mt is None or given is None:
            return None, info
        dom = mt.dom
        if is_seq(dom):
            if is_seq(given) and compatible(given.elem, dom.elem):
                return mt.cod, info
            if (not is_seq(given) and compatible(given, dom.elem) and not self.promoted
                    and (args is None or all_params)):
                raise _Promote()
            self.wrong_input(fname, dom, given, target)
            return None, info
        if is_seq(given):
            if not mt.is_elementwise:
                ctx.error("QVR041", f"`{fname}` consumes a whole sequence and cannot be lifted",
                          self._args_span(target))
                return None, info
            if not compatible(given.elem, dom):
                self.wrong_input(fname, dom, given.elem, target)
                return None, info
            return SeqType(mt.cod), info
        if not compatible(given, dom):
            self.wrong_input(fname, dom, given, target)
            return None, info
        return mt.cod, info

    def wrong_input(self, fname: str, dom, given, target) -> None:
        """QVR061: the arguments of a draw or call of `fname` give `given`, not its domain."""
        self.ctx.error("QVR061", f"`{fname}` expects `{dom.display()}` but the arguments give "
                       f"`{given.display()}`", self._args_span(target))

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
        plates = {}
        measure = fam.support == "as_argument"
        self.distribution_args += measure
        try:
            for a in target.args:
                v = a.value if isinstance(a, A.NamedArg) else a
                t = self.arith(v)
                types[id(v)] = base_of(t)
                plates[id(v)] = _raw_plating(t)
        finally:
            self.distribution_args -= measure
        bound = bind_family_args(ctx, fam, target.args, target.span)
        if bound is None:
            return None
        positional_fix(ctx, fam, target.args)
        self._plate_to_vector(fam, bound, types, plates)
        self.args = [(v, plates[id(v)], self._depends(v)) for v in bound.values()
                     if id(v) in plates]
        self.target_dep = any(dep for _, _, dep in self.args)
        if any(types.get(id(v)) is None for v in bound.values()):
            return None
        seq = any(is_seq(types[id(v)]) for v in bound.values())
        sized = getattr(fam, "sized", False) or fam.name in _SIZED
        if fam.name in ("Categorical", "Dirichlet") or getattr(fam, "vector_params", ()):
            # the event width is a vector parameter's (not RelaxedOneHotCategorical's temperature)
            key = next((k for k in bound if k in fam.vector_params), next(iter(bound)))
            w = elem_of(types[id(bound[key])]).width
            # several vector parameters (MixtureNormal's) broadcast: their widths are equal or
            # 1, and the widest is the event width (the runtime lays every one out at it)
            for k, v in bound.items():
                wv = elem_of(types[id(v)]).width if k in fam.vector_params else 1
                if wv == 1 or wv == w:
                    continue
                if w != 1:
                    ctx.error("QVR064", f"`{fam.name}`: argument widths {w} and {wv} cannot "
                              "be broadcast", v.span)
                    return None
                w = wv
            if sized and w == 1:
                w = self._event_size(fam, target)
                if w is None:
                    return None
        elif sized:  # a matrix family sized by the step (LKJCholesky)
            w = self._event_size(fam, target)
            if w is None:
                return None
        else:
            w = 1
            first = None
            for key, v in bound.items():
                wv = elem_of(types[id(v)]).width
                if wv == 1 or key in _MATRIX_PARAMS:
                    continue
                if w == 1:
                    w, first = wv, v
                elif wv != w:
                    ctx.error("QVR064", f"`{fam.name}`: argument widths {w} and {wv} cannot be "
                              "broadcast", v.span)
                    return None
            if self.event is not None:  # `[over=K]`: one draw is a vector of width |K|
                if w not in (1, self.event):
                    ctx.error("QVR064", f"`{fam.name}`: argument widths {w} and {self.event} "
                              "cannot be broadcast", first.span)
                    return None
                w = self.event
            for key, v in bound.items():  # a matrix argument (§5.8): `Matrix w w`
                if key in _MATRIX_PARAMS and elem_of(types[id(v)]) != ObjType.leaf(Mat(w, w)):
                    ctx.error("QVR133", f"`{fam.name}` needs `Matrix {w} {w}` for `{key}`, got "
                              f"`{types[id(v)].display()}`", v.span)
                    return None
        value = inline_value_type(fam.name, w, bound)
        if value is None and fam.support == "matrix":
            value = ObjType.leaf(Mat(w, w))
        if seq and value is not None:
            value = SeqType(value)
        ctx.inlines[id(step)] = (step, InlineInfo(fam.name, bound, w, value))
        return value

    def _event_size(self, fam, target: A.Target) -> Optional[int]:
        """The event size of a family whose arguments do not fix it: `over`, else the
        step's finite annotation (Rule A step 2), else QVR132."""
        if self.event is not None:
            return self.event
        if self.sizing is not None:
            self.sized_by_annotation = True
            return self.sizing.cardinality
        self.ctx.error("QVR132", f"`{fam.name}` needs its size: annotate the step with a finite "
                       "object (`: N`) or give `[over=N]`", target.name.span)
        return None

    # ---------------------------------------------------------------------- arithmetic ----
    def arith(self, node, *, operand: bool = False, expect=None):
        if node.__class__ is A.BinOp:
            return self._arith_binops(node)
        t = self._arith(node, operand, expect)
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
        """The value type of `left op right` given its operands' types: widths as in P1,
        plates merged (§5.1)."""
        if lt is None or rt is None:
            return None
        pl = self.env.merge(plating_of(lt), plating_of(rt))
        lt, rt = base_of(lt), base_of(rt)
        matrix = _matrix_binop(elem_of(lt), elem_of(rt))
        if matrix is not None:
            if matrix is False:
                self.ctx.error("QVR069", f"arithmetic on `{elem_of(lt).display()}` and "
                               f"`{elem_of(rt).display()}`", node.op_span)
                return None
            out = SeqType(matrix) if is_seq(lt) or is_seq(rt) else matrix
            return self._plated_value(node, out, pl)
        wl, wr = elem_of(lt).width, elem_of(rt).width
        if wl != wr and 1 not in (wl, wr):
            self.ctx.error("QVR069", f"arithmetic on widths {wl} and {wr}", node.op_span)
            return None
        out = ObjType.real(max(wl, wr))
        out = SeqType(out) if is_seq(lt) or is_seq(rt) else out
        return self._plated_value(node, out, pl)

    def _plated_value(self, node, base, pl: Plating):
        """`base` over `pl`; a sequence cannot carry axis or open plates (QVR130)."""
        if is_seq(base) and pl.has_axes:
            self.ctx.error("QVR130", f"a sequence cannot carry plates: `{self.ctx.src(node.span)}`"
                           f" is `{base.display()}` over `{' × '.join(pl.names())}`", node.span)
            return None
        return plated(base, pl, self.env)

    def _arith(self, node, operand: bool, expect=None):
        ctx = self.ctx
        cls = node.__class__  # AST classes have no subclasses: compared, not `isinstance`d
        if cls is A.Lit:
            return ObjType.real(1)
        if cls is A.Var:
            var = self._use(node.name, operand=True, expect=expect)
            if var is None:
                return None
            t = var.type
            if operand and t is not None:
                e = elem_of(base_of(t))
                leaves = e.leaves
                if _has_finite_leaf(leaves) and not (len(leaves) == 1 and leaves[0] == Fin(2)):
                    ctx.warning("QVR075", f"arithmetic on index values of finite `{node.name.text}` "
                                f"(`{e.display()}`)", node.span)
            return t
        if cls is A.Call:
            return self._call(node)
        if cls is A.BinOp:
            return self._arith_binops(node)
        if cls is A.Vec:
            return self._vector(node)
        if cls is A.Neg:
            t = self.arith(node.operand, operand=True)
            return self._realise(t)
        if cls is A.Index:
            return self._index(node)
        return None

    def _vector(self, node):
        """`[r1, …, rn]`: `Real n` from width-1 items; rows of one width m > 1 make
        `Matrix n m` (§5.8; rows of different widths are QVR133); plates merge."""
        ctx = self.ctx
        pl, widths, ok = NO_PLATES, [], True
        for item in node.items:
            t = self.arith(item, operand=True)
            if t is None:
                ok = False
                continue
            b = elem_of(base_of(t))
            if any(isinstance(l, Mat) for l in b.leaves):
                ctx.error("QVR133", "rows of a matrix literal must be vectors, got "
                          f"`{b.display()}`", item.span)
                return None
            if widths and b.width != widths[0]:
                ctx.error("QVR133", f"rows of a matrix literal must have equal widths "
                          f"({widths[0]} and {b.width})", item.span)
                return None
            widths.append(b.width)
            pl = self.env.merge(pl, plating_of(t))
        if not ok:
            return None
        n = len(node.items)
        value = ObjType.real(n) if widths[0] == 1 else ObjType.leaf(Mat(n, widths[0]))
        return plated(value, pl, self.env)

    def _reduce(self, node, t):
        """A reduction (`sum`, `mean`, …; §5.8) acts on the last axis: the element width if
        it is over 1, else the innermost plate, else a sequence's time; a `Matrix n m`
        reduces its columns to `Real n`."""
        b, pl = base_of(t), plating_of(t)
        e = elem_of(b)
        if len(e.leaves) == 1 and isinstance(e.leaves[0], Mat):
            out = ObjType.real(e.leaves[0].n)
            return self._plated_value(node, SeqType(out) if is_seq(b) else out, pl)
        if e.width > 1:
            return self._plated_value(node, SeqType(ObjType.real(1)) if is_seq(b)
                                      else ObjType.real(1), pl)
        if pl.open is not None:
            return plated(ObjType.real(1), Plating(pl.axes, None, pl.row), self.env)
        if pl.axes:
            return plated(ObjType.real(1), Plating(pl.axes[:-1], None, pl.row), self.env)
        return ObjType.real(1)

    def _plate_to_vector(self, fam, bound: dict, types: dict, plates: dict) -> None:
        """A vector parameter given a width-1 value whose innermost plate has the length
        the family needs takes that plate as its vector axis (§5.8). A `Simplex 1` is not
        such a value: it is already a whole probability vector (over one category), so a
        Dirichlet draw over one topic stays one draw per row of its plates."""
        vector = getattr(fam, "vector_params", ()) or _VECTOR_PARAMS.get(fam.name, ())
        if not vector:
            return
        fixed = {elem_of(types[id(v)]).width for k, v in bound.items()
                 if k in vector and types.get(id(v)) is not None
                 and elem_of(types[id(v)]).width > 1}
        length = fixed.pop() if len(fixed) == 1 else None
        for k, v in bound.items():
            t = types.get(id(v))
            if k not in vector or t is None or is_seq(t) or elem_of(t).width != 1 \
                    or any(getattr(leaf, "simplex", False) for leaf in elem_of(t).leaves):
                continue
            p = self.env.resolve(plates[id(v)])
            if p.open is not None or not p.axes:
                continue  # the innermost plate is data rows of unknown length, or none
            n = p.axes[-1]
            if length is not None and n.size != length:
                continue
            types[id(v)] = ObjType.real(n.size)
            plates[id(v)] = Plating(p.axes[:-1], None, p.row)

    # ------------------------------------------------------------------------ indexing ----
    def _index(self, node):
        """`v[e1, …]` (§5.4): index i applies to the i-th plate of `v` (one more index
        selects a coordinate of `v`'s continuous leaf). A literal removes its plate, an index
        value gathers (its plates replace the plate), the plate's own name is a section."""
        ctx, name = self.ctx, node.name
        entry = self.locals.get(name.text)
        if entry is None:
            sym = ctx.local_top.get(name.text) or ctx.top.get(name.text)
            if sym is not None:
                ctx.add_reference(name.span, sym)
                kind = KIND_WORDS.get(sym.kind, sym.kind)
                article = "an" if kind[:1] in "aeiou" else "a"
                ctx.error("QVR017", f"`{name.text}` is {article} {kind}, not a program variable",
                          name.span)
            else:
                ctx.error("QVR017", f"`{name.text}` is not a program variable; only a variable "
                          "bound in the program can be indexed", name.span)
            for i in node.indices:
                self.arith(i)
            return None
        sym, var = entry
        ctx.add_reference(name.span, sym)
        self.uses[name.text] += 1
        t = var.type
        if t is None:
            for i in node.indices:
                self.arith(i)
            return None
        base, pl = base_of(t), plating_of(t)
        plates: list = list(pl.axes) + ([pl.open] if pl.open is not None else [])
        k, m = len(plates), len(node.indices)
        leaves = elem_of(base).leaves
        coordinate = m == k + 1 and len(leaves) == 1 and isinstance(leaves[0], Cont) \
            and not is_seq(base)
        if m > k and not coordinate:
            extra = k + 1 if len(leaves) == 1 and isinstance(leaves[0], Cont) else k
            ctx.error("QVR116", f"`{name.text}[…]`: `{name.text}` has {k} plates, got {m} indices",
                      node.indices[min(extra, m - 1)].span)
            for i in node.indices:
                self.arith(i)
            return None
        gathered, remaining, ok = NO_PLATES, list(plates), True
        for pos, idx in enumerate(node.indices):
            if pos == k:  # the coordinate of the continuous leaf, one per element of the index
                where = self._coordinate(name, idx, leaves[0].d)
                if where is None:
                    ok = False
                else:
                    gathered = self.env.merge(gathered, where)
                continue
            plate = plates[pos]
            result = self._index_one(name, idx, plate)
            if result is None:
                ok = False
            elif result == "removed":
                remaining.remove(plate)
            elif result != "section":
                remaining.remove(plate)
                gathered = self.env.merge(gathered, result)
        if not ok:
            return None
        rest = Plating(tuple(p for p in remaining if isinstance(p, Plate)),
                       next((p for p in remaining if isinstance(p, str)), None), pl.row)
        out = ObjType.real(1) if coordinate else base
        return self._plated_value(node, out, self.env.merge(gathered, rest))

    def _index_one(self, v: A.Name, idx, plate):
        """One index into `plate` (a Plate, or the name of an open plate): "removed" for a
        literal, "section" for the plate's own name, the index's plates for a gather, None
        after QVR116."""
        ctx = self.ctx
        label = plate.name if isinstance(plate, Plate) else f"?{plate}"
        size = plate.size if isinstance(plate, Plate) else None
        literal = _int_literal(idx)
        if literal is not None:
            ctx.record_type(idx, ObjType.real(1))
            if size is not None and not 0 <= literal < size:
                ctx.error("QVR116", f"`{v.text}[…]`: index {literal} is out of range for "
                          f"`{label}` ({size} elements)", idx.span)
                return None
            return "removed"
        if isinstance(idx, A.Var) and idx.name.text not in self.locals \
                and idx.name.text not in self.data and (
                    idx.name.text in ctx.top or idx.name.text in ctx.local_top):
            sym = ctx.lookup_top(idx.name, want="object", undefined_code="QVR010",
                                 undefined_msg=f"undefined type `{idx.name.text}`",
                                 allowed_kinds=("object",))
            if sym is None:
                return None
            if plate_of(ctx, sym.name) != plate:
                ctx.error("QVR116", f"`{v.text}[…]`: `{idx.name.text}` is not a plate of "
                          f"`{v.text}`", idx.span)
                return None
            return "section"
        expect = ObjType.fin(size) if size is not None else None
        t = self.arith(idx, expect=expect)
        if t is None:
            return None
        e = elem_of(base_of(t))
        if is_seq(base_of(t)) or len(e.leaves) != 1 or not isinstance(e.leaves[0], Fin):
            ctx.error("QVR116", f"`{v.text}[…]`: `{ctx.src(idx.span)}` is not an index", idx.span)
            return None
        n = e.leaves[0].n
        if size is not None and n != size:
            ctx.error("QVR116", f"`{v.text}[…]`: `{ctx.src(idx.span)}` takes {n} values but "
                      f"`{label}` has {size}", idx.span)
            return None
        return plating_of(t)

    def _coordinate(self, v: A.Name, idx, width: int) -> Optional[Plating]:
        """The index past the plates: a coordinate of the continuous leaf (width `width`).
        Returns the index's plates (the result has a coordinate per element of the index), or
        None after QVR116."""
        literal = _int_literal(idx)
        if literal is not None:
            self.ctx.record_type(idx, ObjType.real(1))
            if not 0 <= literal < width:
                self.ctx.error("QVR116", f"`{v.text}[…]`: index {literal} is out of range for "
                               f"`Real {width}` ({width} elements)", idx.span)
                return None
            return NO_PLATES
        t = self.arith(idx, expect=ObjType.fin(width))
        if t is None:
            return None
        e = elem_of(base_of(t))
        if len(e.leaves) != 1 or not isinstance(e.leaves[0], Fin) or e.leaves[0].n != width:
            self.ctx.error("QVR116", f"`{v.text}[…]`: `{self.ctx.src(idx.span)}` is not an index "
                           f"of `Real {width}`", idx.span)
            return None
        return _raw_plating(t)

    def _keyword_argument(self, a: A.NamedArg) -> None:
        """QVR062 for `key=value` given to a morphism, program or builtin (only families take
        keywords); the value is still checked."""
        self.ctx.error("QVR062", "keyword arguments are only allowed for distribution families",
                       a.key.span)
        self.arith(a.value)

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
            value, args = self._apply(name.text, info.type, node, node.args)
            pl = NO_PLATES
            for _, p, _ in args:
                pl = self.env.merge(pl, p)
            return self._plated_value(node, value, pl)
        if name.text in BUILTIN_NAMES and (sym is None or sym.kind != "morphism"):
            named = [a for a in node.args if a.__class__ is A.NamedArg]
            for a in named:  # builtins take their arguments by position, as morphisms do
                self._keyword_argument(a)
            if named:
                return None
            types = [self.arith(a) for a in node.args]
            builtin = BUILTIN_SCHEMAS[name.text]
            if len(node.args) not in builtin.arities:
                ctx.error("QVR070", f"`{name.text}` takes {builtin.arity_text()}", node.span)
                return None
            if None in types:
                return None
            if builtin.kind_at(len(types)) == "reduction":
                return self._reduce(node, types[0])
            widths = [elem_of(base_of(t)).width for t in types]
            if len(set(widths) - {1}) > 1:  # two arguments broadcast like `+` (QVR069)
                ctx.error("QVR069", f"arithmetic on widths {widths[0]} and {widths[1]}",
                          node.span)
                return None
            pl = NO_PLATES
            for t in types:
                pl = self.env.merge(pl, plating_of(t))
            return self._plated_value(node, base_of(self._realise(
                types[widths.index(max(widths))])), pl)
        if sym is not None and sym.kind in ("program", "define"):
            ctx.add_reference(name.span, sym)
            for a in node.args:
                self.arith(a)
            ctx.error("QVR070", f"`{name.text}` is stochastic; bind it with `sample`", node.span)
            return None
        for a in node.args:
            self.arith(a)
        if self.distribution_args and name.text in FAMILIES:
            return None  # a distribution value (tier 2; its arguments are resolved above)
        ctx.undefined(name, "QVR013", f"`{name.text}` is neither a declared morphism nor a "
                      "builtin function", ("morphism",), also=BUILTINS)
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
                    else:
                        self._label_names_another(item.label, item.var)
                    labels[item.label.text] = item.label
                var = self._use(item.var)
                parts.append(var.type if var is not None else None)
            t = None
            if all(p is not None for p in parts):
                plates = {plating_of(p) for p in parts}
                if len(plates) > 1:  # a tuple value, one component per factor (§4.2)
                    self.info.return_parts = parts
                    return self._tuple_return(ret, parts, declared)
                t = plated(product_of([base_of(p) for p in parts]), plates.pop(), self.env)
        self.info.return_parts = parts if all(p is not None for p in parts) else None
        ctx.record_type(ret, t)
        if t is None or declared is None:
            return t
        if self._returns_as(ret, t, declared.cod):
            return t
        c, e = declared.cod, elem_of(base_of(t))
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

    def _label_names_another(self, label: A.Name, var: A.Name) -> None:
        """QVR074 for a return label that is the name of another variable or of a data input
        of this program: values are given and traced by name, and the label renames the
        returned variable's site, so one key would stand for two things."""
        name = label.text
        if name == var.text:
            return
        local, data = self.locals.get(name), self.data.get(name)
        if local is not None:
            what, at = "variable", self.ctx.frame_span(local[0])
        elif data is not None:
            what, at = "data input", getattr(data[1].node, "span", None)
        elif name in self.inherited:
            what, at = "data input", self.inherited_at[name]
        else:
            return
        where = f" (line {self.ctx.line_of(at)})" if at is not None else ""
        self.ctx.error("QVR074", f"return label `{name}` is repeated: `{name}` is also a {what} "
                       f"of `{self.name}`{where}", label.span,
                       related=(Related(at, f"`{name}` is a {what} here"),) if at is not None else ())

    def _returns_as(self, ret, t, c) -> bool:
        """R-a and R-b of §4.2: the returned `t` (over plates P) is accepted for codomain
        `c` when its type ≈ `c` ignoring P (a `Matrix n m` read as n rows of `Real m`), or,
        with Hint QVR118, when `c` is a plate of this program (the effective codomain is
        then `t`)."""
        b = base_of(t)
        e = elem_of(b)
        if compatible(b, c) or (is_seq(b) and compatible(b.elem, c)):
            return True
        if len(e.leaves) == 1 and isinstance(e.leaves[0], Mat) and compatible(
                ObjType.real(e.leaves[0].m), c):
            return True
        if c.name is not None and plate_of(self.ctx, c.name) in self.used_plates:
            self.ctx.hint("QVR118", f"`{c.name}` is a plate of `{self.name}`; `{self.name}` "
                          f"returns `{t.display()}`", ret.pattern.span,
                          related=(Related(self.d.sig.codomain.span, "declared codomain"),))
            self.scalar_return = True
            return True
        return False

    def _tuple_return(self, ret, parts: list, declared: Optional[MorphType]):
        """A tuple return whose components have different plates: a tuple value with one
        component per top-level factor of the codomain, each checked on its own."""
        t = product_of([base_of(p) for p in parts])
        self.ctx.record_type(ret, t)
        if declared is None:
            return t
        factors = declared.cod.factor_types
        if len(factors) != len(parts):
            self.ctx.error("QVR066", f"`return` gives {len(parts)} values over different plates "
                           f"but program `{self.name}` declares `{declared.cod.display()}` with "
                           f"{len(factors)} factors", ret.pattern.span)
            return t
        for item, p, f in zip(ret.pattern.items, parts, factors):
            if not self._returns_as(ret, p, f):
                self.ctx.error("QVR066", f"`return` gives `{p.display()}` for `{f.display()}` in "
                               f"program `{self.name}`", item.span)
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
            elif var.kind == "parameter" and name not in self.inherited:
                # (one a drawn program reads by name is used there)
                ctx.hint("QVR083", f"parameter `{name}` of `{self.name}` is never used",
                         sym.name_span, tags=("unnecessary",))


def _matrix_binop(a: ObjType, b: ObjType):
    """Arithmetic with a `Matrix n m` operand (§5.8): elementwise with a width-1 value or an
    equal matrix, row by row with a width-m value. None when neither is a matrix, False
    when the operands do not combine."""
    ma = a.leaves[0] if len(a.leaves) == 1 and isinstance(a.leaves[0], Mat) else None
    mb = b.leaves[0] if len(b.leaves) == 1 and isinstance(b.leaves[0], Mat) else None
    if ma is None and mb is None:
        return None
    if ma is not None and mb is not None:
        return ObjType.leaf(ma) if ma == mb else False
    m, other = (ma, b) if ma is not None else (mb, a)
    return ObjType.leaf(m) if other.width in (1, m.m) and other.is_continuous else False


def _has_finite_leaf(leaves) -> bool:
    for leaf in leaves:
        if leaf.__class__ is Fin:
            return True
    return False


def _int_literal(node) -> Optional[int]:
    """The value of an integer literal index, else None."""
    if isinstance(node, A.Lit) and node.value.is_int:
        return int(node.value.value)
    return None


def _raw_plating(t) -> Plating:
    """The plates a value type was made with (its open plate not yet resolved: a step
    tells a rebinding of the open plate, QVR115, from a new axis)."""
    return t.plating if t.__class__ is PlatedType else NO_PLATES


def _expected_args(mt: Optional[MorphType], k: int) -> list:
    """The type each of `k` arguments of a target of type `mt` is expected to have (what a
    data name used there gets, §5.3): the domain for a sole argument, else the i-th of k
    top-level factors; None (`Real 1`) otherwise."""
    if mt is None or is_seq(mt.dom):
        return [None] * k
    if k == 1:
        return [mt.dom]
    factors = mt.dom.factor_types
    return list(factors) if len(factors) == k else [None] * k


# step forms of part 2 (§3.1); getattr: absent from an older syntax tree
_ScoreStep = getattr(A, "ScoreStep", ())
_CallStep = getattr(A, "CallStep", ())
_MarginalizeStep = getattr(A, "MarginalizeStep", ())


def _bound_names(step) -> list:
    """The names a step binds (for a `marginalize` block, with its body's)."""
    body = getattr(step, "body", None)
    if body is not None:
        out = [step.name]
        for inner in body:
            out += _bound_names(inner)
        return out
    if not hasattr(step, "pattern"):
        return [step.name]
    pattern = getattr(step, "pattern", None)
    if isinstance(pattern, A.Name):
        return [pattern]
    if isinstance(pattern, A.PatVar):
        return [pattern.name]
    if isinstance(pattern, A.PatTuple):
        return list(pattern.names)
    return []


_STEP_OPTIONS = ("iid_over", "over")
# family parameters that take a square matrix (§5.8)
_MATRIX_PARAMS = frozenset({"scale_tril", "covariance_matrix", "precision_matrix"})
# vector parameters (§5.8), for a family table that does not list them
_VECTOR_PARAMS = {"Categorical": ("probs", "logits"), "Dirichlet": ("concentration",),
                  "RelaxedOneHotCategorical": ("probs", "logits"),
                  "MixtureNormal": ("weights", "loc", "scale")}
# families whose event size a width-1 argument does not fix (§5.8)
_SIZED = frozenset({"Dirichlet", "RelaxedOneHotCategorical", "LKJCholesky"})


def _step_options(ctx: Context, step) -> dict:
    """The options of a `sample`/`observe` step by key (QVR028 for any other key)."""
    opts = getattr(step, "options", None)
    out: dict = {}
    if opts is None:
        return out
    allowed = _STEP_OPTIONS + (("via",) if getattr(ctx, "grouped_body", False) else ())
    if isinstance(step, _MarginalizeStep):
        allowed = ("over", "reduction")
    elif isinstance(step, _CallStep):  # a call step takes no options (part 2 §5.10)
        allowed = ()
    for o in opts.items:
        if o.key.text not in allowed:
            ctx.error("QVR028", f"unknown option `{o.key.text}` for a "
                      f"{'call' if not allowed else 'program'} step; allowed: "
                      + (", ".join(allowed) or "(none)"), o.key.span)
            continue
        out[o.key.text] = o.value
    return out


def _product_size(plates) -> int:
    n = 1
    for p in plates:
        n *= p.size
    return n


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
    return value_type(family, w)  # the supports of spec part 2 §5.9 (counts, matrices, …)


def _expr_has_density(ctx: Context, e) -> bool:
    """A composite has a density when its last component is a family kernel/discretize.

    A loop down the right-hand side rather than recursion: `<<` chains are right spines as
    deep as they are long. A define met twice is a cycle (already QVR014): unknown, as an
    undefined name is."""
    entered: set = set()
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
                if info is None or sym.name in entered:
                    return True
                entered.add(sym.name)
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
    return templates.check(ctx, d, ProgramChecker(ctx, d).run)
