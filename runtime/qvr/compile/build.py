"""From an `Analysis` to runtime modules: one `Builder` per loaded module.

The builder consumes what the checker computed (roles, families, validated options, types,
scan partitions, inline widths, program bindings; docs/internals.md "Semantics") and never
re-derives it. Modules are cached per declared name, so a morphism used twice is one module
with shared parameters.
"""
from __future__ import annotations

import dataclasses
from typing import Optional

from ..errors import NotSupportedError, QvrError
from ..semantics.types import MorphType, ObjType, elem_of
from ..syntax import ast as A
from . import combinators as C
from . import families as FAM
from . import kernels as K
from . import values as V
from .arith import ArithCompiler
from .fused import lower_scan
from .program import DrawPlan, InputSpec, LetPlan, ProgramModule, ReturnPlan, ScorePlan
from .trace import LATENT, OBSERVED

_DRAW_STEPS = (A.DrawStep, A.BindStep, A.SampleStep, A.ObserveTildeStep, A.ObserveStep)
_OBSERVE_STEPS = (A.ObserveTildeStep, A.ObserveStep)


class Builder:
    def __init__(self, analysis, *, source_name: str = "<string>"):
        self.a = analysis
        self.source_name = source_name
        self.cache: dict = {}

    # -- locations --------------------------------------------------------------------------
    def where(self, span) -> str:
        line, col = self.a.line_index.position(span.start)
        return f"{self.source_name}:{line + 1}:{col + 1}"

    def unsupported(self, span, what: str) -> NotSupportedError:
        """`file:line:col: what` as a NotSupportedError that also carries `file`, `line`,
        `column` (1-based) and `what` (how `qvr run` reports it)."""
        line, col = self.a.line_index.position(span.start)
        error = NotSupportedError(f"{self.source_name}:{line + 1}:{col + 1}: {what}")
        error.file, error.line, error.column, error.what = self.source_name, line + 1, col + 1, what
        return error

    def not_supported(self, node, what: str):
        raise self.unsupported(node.span, what)

    def refuse_tier(self, span, construct: str, tier: int):
        """A tier-2 or tier-3 construct at `span` (spec part 2 §6.9): a located
        NotSupportedError with attributes `construct`, `range` (the span) and `tier`."""
        error = self.unsupported(span, f"{construct} is not supported by the torch runtime "
                                       f"(tier {tier})")
        error.construct, error.range, error.tier = construct, span, tier
        raise error

    def active_quantale(self, offset: int) -> str:
        """The last `quantale` statement before `offset` (default product_fuzzy, spec §4.5)."""
        q = "product_fuzzy"
        for st in self.a.module.statements:
            if isinstance(st, A.QuantaleDecl) and st.span.start < offset:
                q = st.name.text.lower()
        return q

    # -- names ------------------------------------------------------------------------------
    def named(self, name: str):
        if name in self.cache:
            return self.cache[name]
        a = self.a
        info = a.morphisms.get(name) or a.programs.get(name)
        if info is not None:
            self._refuse_opaque_uses(info.decl)
        if name in a.morphisms:
            module = self._morphism(a.morphisms[name])
        elif name in a.programs:
            module = self._program(a.programs[name])
        elif name in a.defines:
            module = self.expr(a.defines[name].decl.expr)
        else:
            opaque = next((st for st in a.module.statements if isinstance(st, A.OpaqueDecl)
                           and st.name is not None and st.name.text == name), None)
            if opaque is not None:  # a tier-3 block (part 2 §6.9)
                self.refuse_tier(opaque.span, f"`{opaque.head.text} {name}`", 3)
            raise QvrError(f"`{name}` is not a morphism, program or define")
        if getattr(module, "qvr_name", None) is None:
            module.qvr_name = name
        self.cache[name] = module
        return module

    def _plan_folding(self, step, module, plan) -> None:
        """A program drawn at a step with axis plates runs once per element of them, folded
        into the batch (part 2 §6.3): each element gets its own part of a plated argument and
        the whole of the others, and where nothing it is given varies over a plate
        (`sample b : Trial <- inner(0.5)`) every element draws it afresh. `plan.fold`
        says so (`ProgramModule._draw` lays the arguments out on those plates). Where the
        step's plates come from inside the program (its returned value, its row plate, the
        rows of a data input it reads) it runs as it is; drawing it once per element of
        further plates is refused at the step."""
        given = {k for keys in (plan.param_keys or ()) for k in keys}
        returned = {k for t in module.ret.types if t is not None for k in V.plate_keys(t)}
        if not (returned or module.row_plates
                or any(isinstance(k, tuple) for k in (*given, *plan.keys))):
            plan.fold = True  # (with `plate_input`: the elements of its one plate are the input)
            return
        # it is passed the caller's input and runs as it is (a program over its own plates is
        # not given their elements)
        plan.plate_input = None
        name = step.target.name.text
        beyond = [k for k in plan.keys if k not in returned]  # plates its value does not bring
        if module.row_plates and given and beyond:
            # plated arguments would fold the step's plates into the batch its rows are
            raise self.unsupported(step.target.span, f"drawing the program `{name}` once per "
                                   f"element of `{V.key_name(beyond[0])}` is not supported by "
                                   f"this runtime: `{name}` has a row plate of its own "
                                   f"(`{module.row_plates[0].name}`)")
        missing = [k for k in beyond if k not in given]
        if any(isinstance(k, tuple) for k in (*given, *returned)):
            missing = missing[1:]  # rows of a data input it reads: they meet one plate here
        if missing:
            raise self.unsupported(step.target.span, f"drawing the program `{name}` once per "
                                   f"element of `{V.key_name(missing[0])}` is not supported by "
                                   f"this runtime: `{name}` has plates of its own (its value, "
                                   "its rows or a data input it reads vary over them)")

    def _refuse_opaque_uses(self, decl) -> None:
        """A morphism or program that names a tier-3 block (a `deduction` as an object, in
        its signature or a step's annotation) has an unchecked type: its module is a stub
        (part 2 §6.9), refused at that block. (A define's expression is refused at the
        tier-3 form itself, as it is built.)"""
        for ref in self.a.references_within(decl.span):
            sym = ref.symbol
            if sym.kind == "opaque" and not ref.is_definition:
                opaque = sym.decl
                self.refuse_tier(opaque.span, f"`{opaque.head.text} {sym.name}`", 3)

    def _morphism(self, info):
        t: MorphType = info.type
        role = info.role
        opts = {k: v for k, v in (info.options or {}).items() if v is not None}
        if role == "kernel":
            if info.fixed_bound is not None:
                args = {k: literal_value(v) for k, v in info.fixed_bound.items()}
                return K.FixedDistribution(t.dom, t.cod, info.family, args)
            return K.Kernel(t.dom, t.cod, info.family, opts)
        if role == "deterministic":
            return K.Deterministic(t.dom, t.cod, opts)
        if role == "embed":
            return K.Embed(t.dom, t.cod)
        if role == "discretize":
            return K.Discretize(t.dom, info.bins or elem_of(t.cod).cardinality,
                                opts.get("temperature", 0.1))
        if role in ("latent", "observed"):
            from .finite import finite_morphism
            return finite_morphism(self, info)
        raise QvrError(f"unknown role `{role}`")

    # -- expressions -------------------------------------------------------------------------
    def expr(self, node):
        """The runtime module of a morphism expression (fresh for combinators, cached for
        references)."""
        t = self.a.type_of(node)
        if isinstance(node, A.Ref):
            return self.named(node.name.text)
        if isinstance(node, A.Compose):
            parts = self._flatten(node)
            return C.Composite([m for m, _ in parts], [l for _, l in parts],
                               dom=t.dom if t else None, cod=t.cod if t else None)
        if isinstance(node, A.Tensor):
            left, right = self.expr(node.left), self.expr(node.right)
            return C.Parallel([left, right], [label_of(node.left), label_of(node.right)], t.dom, t.cod)
        if isinstance(node, A.Fan):
            parts, labels = [], []
            for item in node.items:
                members = self._group_members(item)
                if members:
                    parts += [self.named(m) for m in members]
                    labels += members
                else:
                    parts.append(self.expr(item))
                    labels.append(label_of(item))
            return C.Fan(parts, labels, t.dom, t.cod)
        if isinstance(node, A.Repeat):
            return C.Repeat(self.expr(node.expr), node.count.value if node.count else None)
        if isinstance(node, A.Stack):
            return C.Stack(self.expr(node.expr), int(node.count.value))
        if isinstance(node, A.Identity):
            obj = self.a.objects[node.object.text]
            if obj.is_finite:
                from .finite import FiniteIdentity
                return FiniteIdentity(self, obj, self.active_quantale(node.span.start))
            return C.Identity(obj, obj)
        if isinstance(node, A.Scan):
            info = self.a.scan_info(node)
            cell = self.expr(node.cell)
            scan = C.Scan(cell, info.input, info.state, init=info.init, states=info.states,
                          direction=info.direction)
            # a standard LSTM cell with deterministic gates runs on torch's fused kernel
            scan.fused = lower_scan(self.a, node.cell, cell)
            return scan
        if isinstance(node, A.Marginalize):
            from .finite import Marginalized
            return Marginalized(self, node)
        if isinstance(node, A.Method) and node.name.text == "dagger" and t is not None:
            from .finite import Dagger
            return Dagger(self, node)
        if isinstance(node, A.ParserExpr):
            self.not_supported(node, "grammar parsers are not supported by this runtime")
        if t is None:  # an unchecked (tier-3) form, e.g. a contraction applied (part 2 §6.9)
            self.refuse_tier(node.span, f"`{_excerpt(self.a.text, node.span)}`", 3)
        raise QvrError(f"unsupported expression {type(node).__name__}")

    def _flatten(self, node):
        """The operands of a `>>` chain in order, built. Walks the tree with an explicit stack:
        a chain of thousands of `>>` (the checker accepts them) must not hit Python's recursion
        limit."""
        parts, stack = [], [node]
        while stack:
            item = stack.pop()
            if isinstance(item, A.Compose):
                stack.append(item.right)
                stack.append(item.left)
            else:
                parts.append((self.expr(item), label_of(item)))
        return parts

    def _group_members(self, item) -> list[str]:
        if not isinstance(item, A.Ref):
            return []
        name = item.name.text
        return [n for n, info in self.a.morphisms.items() if info.member_of == name]

    # -- programs ----------------------------------------------------------------------------
    def _program(self, info, a=None, fixed=None, passed=()) -> ProgramModule:
        """A program module; `a` is the analysis view of a template instance (its own types),
        `fixed` the values of its scalar parameters bound by the call to literals and `passed`
        the names of those the caller computes (neither is a named input)."""
        a = a or self.a
        decl = info.decl
        eff: MorphType = info.effective
        variables = info.variables

        def var_type(v):
            vi = variables.get(v)
            return vi.type if vi is not None else None

        def var_rank(v):
            t = var_type(v)
            return 1 if t is None else V.element_rank(t)

        calls: dict = {}

        def call_module(node):
            name = node.name.text
            minfo = a.morphisms.get(name)
            if minfo is None or minfo.role not in ("deterministic", "embed"):
                return None  # (an embedding is a deterministic lookup too)
            calls[name] = self.named(name)
            return f"_callee_{name}", [a.type_of(arg) for arg in node.args]

        def plates_of(node):
            return V.plate_keys(a.type_of(node))

        def is_section(name):  # `theta[School]`: the plate's own name (part 2 §5.4)
            return name not in variables and (name in a.objects or name in _bound_objects(a))

        compiler = ArithCompiler(var_rank, call_module=call_module, plates_of=plates_of,
                                 is_section=is_section)
        compiler.refuse = self._refuse_arith
        compiler.var_plates = lambda name: V.plate_keys(var_type(name))
        steps, modules = [], {}
        # draws inside a `marginalize` body run once, before their block (part 2 §5.7)
        from .marginalize import hoist
        ast_steps = hoist(decl.steps)
        # tier-3 forms the checker left unchecked (QVR110 inside the program): a step with one
        # is refused where the form is, whatever else it could not build (part 2 §6.9)
        unchecked = [d.span for d in a.diagnostics if d.code == "QVR110"
                     and decl.span.start <= d.span.start < decl.span.end]
        for step in ast_steps:
            for span in unchecked:
                if step.span.start <= span.start < step.span.end:
                    self.refuse_tier(span, f"`{_excerpt(a.text, span)}`", 3)
            if isinstance(step, A.LetStep):
                var = step.name.text
                steps.append(LetPlan(var, compiler.compile(step.value), var_type(var)))
                continue
            if isinstance(step, A.ScoreStep):
                var = step.name.text
                steps.append(ScorePlan(var, compiler.compile(step.value), var_type(var)))
                continue
            if isinstance(step, A.MarginalizeStep):
                steps.append(self.marginalize_plan(a, info, step, compiler))
                modules.update(getattr(steps[-1], "modules", {}))  # the block's own modules
                continue
            if not isinstance(step, _DRAW_STEPS + (A.CallStep,)):
                raise QvrError(f"unsupported step {type(step).__name__}")
            vars_ = pattern_vars(step)
            kind = OBSERVED if isinstance(step, _OBSERVE_STEPS) else LATENT
            attr = f"_step_{vars_[0]}"
            target = step.target
            inline = a.inline_info(step)
            var_types = [var_type(v) for v in vars_]
            keys = V.plate_keys(var_types[0]) if len(vars_) == 1 else ()
            row = V.row_plate(var_types[0]) if len(vars_) == 1 else None
            drawn = inline.family if inline is not None else target.name.text
            declared = inline is None and (drawn in a.morphisms or drawn in a.programs
                                           or drawn in a.defines)
            if not declared and drawn in FAM.FAMILIES and FAM.FAMILIES[drawn].tier == 2:
                # (a measure-algebra draw has no inline record: its arguments are distributions)
                self.refuse_tier(target.span, f"a `{drawn}` draw", 2)
            if inline is not None:
                low = literal_or_none(inline.bound.get("low"))
                high = literal_or_none(inline.bound.get("high"))
                module = _SizedInline(inline.family, inline.width, inline.value_type or var_types[0],
                                      low=low, high=high)
                evals = {k: compiler.compile(_arg_value(v)) for k, v in inline.bound.items()}
                pkeys = {k: plates_of(_arg_value(v)) for k, v in inline.bound.items()}
                plan = DrawPlan(vars_, attr, kind, var_types, inline=evals, keys=keys, row=row,
                                param_keys=pkeys)
            elif _instance(a, target) is not None:
                module, scalars, bare = self._template_instance(a, target, compiler)
                if bare:  # the arguments bound to its bare parameters are its input (§5.5)
                    arg_types = [a.type_of(x) for x in bare]
                    plan = DrawPlan(vars_, attr, kind, var_types,
                                    args=[compiler.compile_arg(x, t) for x, t in zip(bare, arg_types)],
                                    arg_types=arg_types, keys=keys, row=row,
                                    param_keys=[plates_of(x) for x in bare], scalars=scalars or None)
                else:
                    plan = DrawPlan(vars_, attr, kind, var_types, keys=keys, row=row,
                                    scalars=scalars or None)
            else:
                module = self.resolve_target(a, target.name.text)
                if target.args:
                    arg_nodes = [_arg_value(x) for x in target.args]
                    arg_types = [a.type_of(x) for x in arg_nodes]
                    evals = [compiler.compile_arg(x, t) for x, t in zip(arg_nodes, arg_types)]
                    key = (tuple(x.name.text for x in arg_nodes)
                           if all(isinstance(x, A.Var) for x in arg_nodes) else None)
                    plan = DrawPlan(vars_, attr, kind, var_types, args=evals, arg_types=arg_types,
                                    arg_key=key, keys=keys, row=row,
                                    param_keys=[plates_of(x) for x in arg_nodes])
                else:
                    plan = DrawPlan(vars_, attr, kind, var_types, keys=keys, row=row)
                    # `sample f : N <- enc` with `enc : N -> …`: each element of N is drawn
                    # conditioned on itself (part 2 §5.2)
                    dom = getattr(module, "dom", None)
                    if (len(keys) == 1 and not isinstance(keys[0], tuple) and dom is not None
                            and V.element_rank(dom) == 0
                            and elem_of(dom).cardinality == keys[0].size):
                        plan.plate_input = keys[0]
            if keys and getattr(module, "is_program", False):
                self._plan_folding(step, module, plan)
            modules[attr] = module
            steps.append(plan)
        ret = decl.ret.pattern
        if isinstance(ret, A.RetVar):
            rvars, labels = [ret.var.text], [ret.var.text]
        else:
            rvars = [it.var.text for it in ret.items]
            labels = [(it.label.text if it.label else it.var.text) for it in ret.items]
        ret_plan = ReturnPlan(rvars, labels, [var_type(v) for v in rvars])
        _mark_unread(steps, ast_steps, rvars)
        params = [n.text for n, _ in info.params]
        named_inputs = {k: v for k, v in self._named_inputs(info).items()
                        if k not in (fixed or {}) and k not in passed}
        prog = ProgramModule(decl.name.text, eff.dom, eff.cod, params=params,
                             binding=info.param_binding, param_types=[t for _, t in info.params],
                             steps=steps, ret=ret_plan, named_inputs=named_inputs)
        prog.fixed_inputs = dict(fixed or {})
        # Submodules are named after the user's names (`_step_<variable>`, `_callee_<morphism>`);
        # getattr finds a class attribute before a submodule, so no attribute of
        # ProgramModule or torch's Module may start with these prefixes (tests check).
        for attr, module in modules.items():
            setattr(prog, attr, module)
        for name, module in calls.items():
            setattr(prog, f"_callee_{name}", module)
        return prog


    # -- part 2: named inputs, marginalize hook -------------------------------------------------
    def _named_inputs(self, info) -> dict:
        """The program's named inputs (part 2 §5.3, §6.6): data names (`data`, or `index` for
        integer data) and scalar parameters (`hyper`), in order of first use."""
        from ..semantics.templates import SCALAR_KINDS, typed_params

        out = {}
        for name, kind_word, tp in typed_params(info.decl):
            if kind_word in SCALAR_KINDS:
                out[name.text] = InputSpec(name.text, "hyper", ObjType.real(1), (),
                                           "int64" if kind_word == "Nat" else "float",
                                           self.where(tp.span))
        data = [(n, v) for n, v in info.variables.items() if v.kind == "data"]
        data.sort(key=lambda nv: getattr(getattr(nv[1].node, "span", None), "start", 0))
        for name, var in data:
            t = var.type
            kind = "index" if t is not None and V.is_index_type(t) else "data"
            span = getattr(var.node, "span", None)
            out[name] = InputSpec(name, kind, t, V.plate_keys(t) if t is not None else (),
                                  "int64" if kind == "index" else "float",
                                  self.where(span) if span is not None else None)
        return out

    # -- part 2: templates -------------------------------------------------------------------
    def resolve_target(self, a, name: str):
        """A draw target by name; inside a template instance a `Mor[A, B]` parameter names
        the morphism bound by the call."""
        bound = a.bound_morphisms.get(name) if isinstance(a, _InstanceView) else None
        return self.named(bound if bound is not None else name)

    def _template_instance(self, a, target, compiler):
        """A template call (spec part 2 §5.5, §6.5): the program instantiated with the call's
        arguments, built once per call site from the instance the checker checked (its own
        parameters and latents), and the evaluators (by `compiler`, the caller's) of its
        scalar arguments that are not literals: the caller passes their values at each run
        (`ProgramModule.call_scalars`); literals are fixed in the instance. Returns those and
        the arguments bound to its bare parameters (its input), if any."""
        inst, tables, binding = _instance(a, target)
        decl = inst.decl
        from ..semantics.templates import typed_params

        kinds = {n.text: k for n, k, _ in typed_params(decl)}
        params = [n.text for n in decl.params or ()]
        args = [_arg_value(x) for x in target.args or ()]
        pairs = list(zip(params, args)) if len(args) == len(params) else \
            list(zip([p for p in params if p in kinds], args))
        fixed, morphisms, objects, scalars = {}, {}, {}, {}
        for p, arg in pairs:
            kind = kinds.get(p)
            if kind in ("Real", "Nat"):
                try:
                    fixed[p] = literal_value(arg)
                except QvrError:
                    scalars[p] = compiler.compile(arg)
            elif kind == "Mor" or (kind not in ("FinSet", "Space", "Object") and kind is not None):
                morphisms[p] = arg.name.text
            elif kind is not None:
                objects[p] = arg.name.text
        view = _InstanceView(self.a, tables, morphisms, objects)
        bare = [arg for p, arg in pairs if p not in kinds]
        return self._program(inst, view, fixed, tuple(scalars)), scalars, bare

    def _refuse_arith(self, node):
        """Arithmetic forms the runtime does not run (part 2 §6.9): charts (tier 2) and the
        tier-3 expression forms."""
        src = self.a.text[node.span.start:node.span.end]
        if isinstance(node, A.MethodCall) or (isinstance(node, A.Call) and node.name.text == "parse"):
            head = src.split("(")[0] if isinstance(node, A.MethodCall) else f"parse({src[6:].split(',')[0]}, …)"
            self.refuse_tier(node.span, f"`{head}`", 2)
        self.refuse_tier(node.span, f"`{src.split('(')[0]}`", 3)

    def marginalize_plan(self, a, info, step, compiler):
        """The plan of a `marginalize` step (part 2 §6.4): exact enumeration, built by
        `qvr.compile.marginalize` (a located NotSupportedError for what it does not run). `a`
        is the analysis the step's program is built from (a template instance's own view)."""
        from .marginalize import plan
        return plan(self, a, info, step, compiler)


class _SizedInline(K.InlineFamily):
    """An inline draw whose value or arguments are matrices (part 2 §5.8, §5.9): an
    LKJCholesky takes its side from its `Matrix d d` value type; a MultivariateNormal's matrix
    argument keeps its two trailing axes. Arguments arrive broadcast to the step's batch and
    plates (`ProgramModule._param_on_plates`)."""

    def __init__(self, family, width, value_type, **kw):
        super().__init__(family, width, value_type, **kw)
        leaves = elem_of(value_type).leaves if value_type is not None else ()
        self.size = leaves[0].n if len(leaves) == 1 and hasattr(leaves[0], "m") else None

    def run(self, x: dict, rec, path, target=None):
        if self.size is None and len({v.dim() for v in x.values()}) <= 1:
            return super().run(x, rec, path, target)
        params = FAM.clamp_arguments(self.spec, dict(x))
        dist = FAM.make_distribution(self.spec, params, self.size)
        return K.sample_or_score(self.spec, dist, self.cod, target)


def _excerpt(text: str, span) -> str:
    """The source of `span`, cut to 40 characters (what a refusal quotes)."""
    src = text[span.start:span.end]
    return src if len(src) <= 40 else src[:39] + "…"


def _instance(a, target):
    """The checker's instance of a template call at `target` (templates._instantiate), or None."""
    return a.template_instance(target)


def _bound_objects(a) -> dict:
    """The object parameters a template instance binds (none outside one)."""
    return a.bound_objects if isinstance(a, _InstanceView) else {}


class _InstanceView:
    """The analysis as a template instance sees it: the instance's types and inline draws
    (`tables` from the checker's instantiation), its `Mor` parameters bound to morphisms and
    its object parameters to objects; everything else is the module's analysis."""

    def __init__(self, base, tables, morphisms, objects):
        self._base = base
        self._types, self._inlines, self._scans = tables
        self.bound_morphisms, self.bound_objects = morphisms, objects

    def __getattr__(self, name):
        return getattr(self._base, name)

    def type_of(self, node):
        entry = self._types.get(id(node))
        return entry[1] if entry is not None and entry[0] is node else self._base.type_of(node)

    def inline_info(self, step):
        entry = self._inlines.get(id(step))
        return entry[1] if entry is not None and entry[0] is step else self._base.inline_info(step)

    def template_instance(self, target):
        """A template called inside this instance is instantiated in the instance's tables."""
        entry = self._types.get(("instance", id(target)))
        return entry[1] if entry is not None and entry[0] is target else None


# ------------------------------------------------------------------------------ helpers ----
def _names_read(node) -> set:
    """Every program variable an AST subtree reads (its `Var` nodes)."""
    out, stack = set(), [node]
    while stack:
        n = stack.pop()
        if isinstance(n, A.Var):
            out.add(n.name.text)
        elif isinstance(n, (tuple, list)):
            stack.extend(n)
        elif dataclasses.is_dataclass(n) and not isinstance(n, type):
            stack.extend(getattr(n, f.name) for f in dataclasses.fields(n))
    return out


def _mark_unread(plans, ast_steps, returned) -> None:
    """Set `DrawPlan.unread` for tuple draws: the positions of variables that no later step
    and not the return reads (the char LM's `_c`)."""
    read_later = set(returned)
    for plan, step in zip(reversed(plans), reversed(ast_steps)):
        if isinstance(plan, DrawPlan) and len(plan.vars) > 1:
            plan.unread = tuple(i for i, v in enumerate(plan.vars) if v not in read_later)
        read_later |= _names_read(step.value if isinstance(step, (A.LetStep, A.ScoreStep))
                                  else (step.target, step.body) if isinstance(step, A.MarginalizeStep)
                                  else step.target)
def pattern_vars(step) -> list[str]:
    if isinstance(step, (A.BindStep, A.CallStep)):
        return [step.name.text]
    pat = step.pattern
    if isinstance(pat, A.PatVar):
        return [pat.name.text]
    return [n.text for n in pat.names]


def label_of(node) -> str:
    """A component's label in site names (§5.8): the referenced name or the combinator word."""
    if isinstance(node, A.Ref):
        return node.name.text
    return {A.Scan: "scan", A.Fan: "fan", A.Stack: "stack", A.Repeat: "repeat",
            A.Tensor: "tensor", A.Identity: "identity", A.Compose: "compose",
            A.Marginalize: "marginalize", A.ParserExpr: "parser"}.get(type(node), "expr")


def _arg_value(node):
    return node.value if isinstance(node, A.NamedArg) else node


def literal_value(node):
    """A literal argument (number, negated number, vector) as a Python value."""
    node = _arg_value(node)
    if isinstance(node, A.Lit):
        return float(node.value.value)
    if isinstance(node, A.Number):
        return float(node.value)
    if isinstance(node, A.Neg):
        return -literal_value(node.operand)
    if isinstance(node, A.Vec):
        return [literal_value(i) for i in node.items]
    raise QvrError("fixed distribution arguments must be literals")


def literal_or_none(node) -> Optional[float]:
    if node is None:
        return None
    try:
        v = literal_value(node)
    except QvrError:
        return None
    return v if isinstance(v, float) else None
