"""Typing of morphism expressions (spec §4.5): references, `>>`, `@`, `fan`, `scan`,
`repeat`, `stack`, `identity`, `.marginalize`, grammar parsers; sequence lifting; finite-world
quantales. Every typed node's `MorphType` is recorded in the context (`Analysis.type_of`)."""
from __future__ import annotations

from typing import Optional

from ..diagnostics import Related
from ..syntax import ast as A
from .context import Context
from .families import SCAN_OPTIONS
from .model import ScanInfo
from .plates import not_elementwise
from .types import MorphType, ObjType, SeqType, compatible, elem_of, is_seq

EXPR_KINDS = ("morphism", "program", "define")


_CHAIN = (A.Compose, A.Tensor)


def infer(ctx: Context, e, *, in_fan: bool = False, inside: Optional[str] = None
          ) -> Optional[MorphType]:
    """The type of morphism expression `e`. `inside`: None for the whole expression of a
    statement, "scan" for a scan cell, else "expression" (part of a larger expression; a
    program with plates or data cannot be used there, QVR113)."""
    if e.__class__ in _CHAIN:
        return _infer_chain(ctx, e)
    if e.__class__ is A.Ref:
        t = _ref(ctx, e, in_fan, inside or ("expression" if in_fan else None))
    else:
        t = _infer(ctx, e, in_fan)
    ctx.record_type(e, t)
    return t


def _infer_chain(ctx: Context, e) -> Optional[MorphType]:
    """Type a tree of `>>`/`@` nodes without recursing on its binary nodes.

    `f >> f >> ... >> f` parses into a left spine as deep as the chain is long (and `<<`
    chains into a right spine); recursing would hit Python's recursion limit at a few hundred
    operators. This is a post-order walk with an explicit stack: operands are typed left
    before right (the order the diagnostics come in), each binary node once both are known."""
    todo: list = [(e, False)]
    types: list = []  # operand types, in post order
    while todo:
        node, operands_done = todo.pop()
        if node.__class__ not in _CHAIN:
            t = _infer(ctx, node, False)
        elif not operands_done:
            todo.append((node, True))
            todo.append((node.right, False))
            todo.append((node.left, False))
            continue
        else:
            g = types.pop()
            f = types.pop()
            t = (_compose if node.__class__ is A.Compose else _tensor)(ctx, node, f, g)
        ctx.record_type(node, t)
        types.append(t)
    return types[0]


def _infer(ctx: Context, e, in_fan: bool) -> Optional[MorphType]:
    if isinstance(e, A.Ref):
        return _ref(ctx, e, in_fan)
    # `>>`/`@` nodes never get here: `infer` and `_infer_chain` handle them.
    if isinstance(e, A.Fan):
        return _fan(ctx, e)
    if isinstance(e, A.Scan):
        return _scan(ctx, e)
    if isinstance(e, A.Repeat):
        return _repeat(ctx, e, "repeat", e.count)
    if isinstance(e, A.Stack):
        return _repeat(ctx, e, "stack", e.count)
    if isinstance(e, A.Identity):
        sym = ctx.lookup_top(e.object, want="object", undefined_code="QVR010",
                             undefined_msg=f"undefined type `{e.object.text}`",
                             allowed_kinds=("object",))
        if sym is None or sym.name not in ctx.objects:
            return None
        obj = ctx.objects[sym.name]
        ctx.quantale_at_identity[id(e)] = ctx.quantale
        return MorphType(obj, obj)
    if isinstance(e, A.Marginalize):
        return _marginalize(ctx, e)
    if isinstance(e, A.ParserExpr):
        from .grammar import check_parser
        return check_parser(ctx, e)
    if e.__class__ is A.Method:
        return _method(ctx, e)
    if e.__class__ is A.FamilyCall:
        return _family_call(ctx, e)
    return None


def _method(ctx: Context, e: A.Method) -> Optional[MorphType]:
    """`e.dagger` (spec part 2 §5.10): the transpose `B -> A` of a finite-world expression
    without kernels (QVR129). Other postfix methods are tier 3: ⊤, reported by the analysis
    once per form (QVR110)."""
    f = infer(ctx, e.expr, inside="expression")
    if e.name.text != "dagger":
        return None
    if f is None:
        return None
    why = _dagger_obstacle(ctx, e.expr, f)
    if why is not None:
        ctx.error("QVR129", f"`.dagger` needs a finite-world expression without kernels; "
                  f"`{ctx.src(e.expr.span)}` is {why}", e.expr.span)
        return None
    return MorphType(f.cod, f.dom)


def _dagger_obstacle(ctx: Context, e, f: MorphType) -> Optional[str]:
    """Why `e : f` has no transpose (a phrase), or None."""
    if is_seq(f.dom) or is_seq(f.cod) or not (f.dom.is_finite and f.cod.is_finite):
        return f"`{f.display()}`, not finite"
    if world(ctx, e) is None:
        return "not a finite-world expression"
    todo = [e]
    entered: set = set()  # (defines that use each other are QVR014: each is read once)
    while todo:
        node = todo.pop()
        if node.__class__ is A.Ref:
            info = ctx.morphisms.get(node.name.text)
            if info is not None and info.role == "kernel":
                return "a kernel" if node is e else \
                    f"built from the kernel `{node.name.text}`"
            if info is None:
                sym = ctx.local_top.get(node.name.text) or ctx.top.get(node.name.text)
                d = ctx.defines.get(node.name.text) if sym is not None else None
                if d is not None and sym.kind == "define" and id(d) not in entered:
                    entered.add(id(d))
                    todo.append(d.decl.expr)
        else:
            todo.extend(_children(node))
    return None


def _family_call(ctx: Context, e: A.FamilyCall) -> Optional[MorphType]:
    """`F(args)` in a morphism expression, read by what `F` is (spec part 2 §5.10): a
    distribution family is a fixed distribution (its arguments are checked against the
    schema; its type comes from where it is used, so it is unknown here); a program is a
    template instantiation (checked with programs); an opaque block (a contraction) is ⊤."""
    from .families import FAMILIES
    name = e.name
    sym = ctx.local_top.get(name.text) or ctx.top.get(name.text)
    if sym is None and name.text in FAMILIES:
        from .declarations import bind_family_args
        bind_family_args(ctx, FAMILIES[name.text], e.args, e.span)
        return None
    ctx.lookup_top(name, want="morphism", undefined_code="QVR011",
                   undefined_msg=f"undefined morphism `{name.text}`",
                   allowed_kinds=EXPR_KINDS)
    # The arguments' names resolve as what the callee requires (spec part 2 §3.2); a tier-3
    # callee's requirements are unknown, so any declared name is a reference (and so "used").
    for arg in e.args:
        value = arg.value if arg.__class__ is A.NamedArg else arg
        if value.__class__ is A.Var:
            ctx.lookup_top(value.name, want="name", undefined_code="QVR011",
                           undefined_msg=f"undefined name `{value.name.text}`",
                           allowed_kinds=_ARGUMENT_KINDS)
    return None


# What the argument of a template or tier-3 call may name.
_ARGUMENT_KINDS = ("morphism", "program", "define", "object", "opaque")


def symbol_type(ctx: Context, sym) -> Optional[MorphType]:
    """The morphism type a top-level expression symbol stands for."""
    if sym.kind == "morphism":
        info = ctx.morphisms.get(sym.name)
        return info.type if info is not None else None
    if sym.kind == "program":
        info = ctx.programs.get(sym.name)
        return info.effective if info is not None else None
    if sym.kind == "define":  # where-bindings are not in ctx.defines; their symbol has the type
        return sym.type
    return None


def _is_template(info) -> bool:
    if info is None or not getattr(info, "typed_params", None):
        return False
    from .templates import is_template  # templates reaches the program checker
    return is_template(info.decl)


def _ref(ctx: Context, e: A.Ref, in_fan: bool, inside: Optional[str] = "expression"
         ) -> Optional[MorphType]:
    name = e.name
    sym = ctx.lookup_top(name, want="morphism", undefined_code="QVR011",
                         undefined_msg=f"undefined morphism `{name.text}`",
                         allowed_kinds=EXPR_KINDS)
    if sym is None:
        return None
    if sym.name in ctx.groups and not in_fan:
        ctx.error("QVR018", f"group `{name.text}` can only be used directly inside `fan(...)`",
                  name.span)
        return None
    if sym.kind == "program" and _is_template(ctx.programs.get(sym.name)):
        # a template (part 2 §5.5) is only drawn from or called, with its arguments
        ctx.error("QVR125", f"`{name.text}` has object or morphism parameters: use it as "
                  f"`sample v <- {name.text}(…)`", name.span)
        return None
    if sym.kind == "program" and not (inside is None and ctx.order_free):
        # a program with data names or plated steps is not elementwise (part 2 §5.1);
        # exporting it by name is allowed
        why = not_elementwise(ctx.programs.get(sym.name))
        if why is not None:
            where = "inside `scan(…)`" if inside == "scan" else "in a morphism expression"
            ctx.error("QVR113", f"`{name.text}` {why} and cannot be used {where}", name.span)
    return symbol_type(ctx, sym)


def world(ctx: Context, e) -> Optional[str]:
    """The quantale of a finite-world expression, or None if `e` is not one (§4.5)."""
    if isinstance(e, A.Ref):
        sym = ctx.local_top.get(e.name.text) or ctx.top.get(e.name.text)
        if sym is None:
            return None
        if sym.kind == "morphism":
            info = ctx.morphisms.get(sym.name)
            if info is None or info.type is None:
                return None
            t = info.type
            if not (isinstance(t.dom, ObjType) and isinstance(t.cod, ObjType)
                    and t.dom.is_finite and t.cod.is_finite):
                return None
            if info.role in ("latent", "observed"):
                return info.quantale
            if info.role == "kernel":
                return "markov"
            return None
        if sym.kind == "define":
            info = ctx.defines.get(sym.name)
            return getattr(info, "world", None)
        return None
    if isinstance(e, A.Identity):
        obj = ctx.objects.get(e.object.text)
        return ctx.quantale_at_identity.get(id(e)) if obj is not None and obj.is_finite else None
    if isinstance(e, (A.Compose, A.Tensor)):
        return ctx.worlds.get(id(e))
    if isinstance(e, (A.Repeat, A.Stack, A.Marginalize)):
        return world(ctx, e.expr)
    if e.__class__ is A.Method and e.name.text == "dagger":
        return world(ctx, e.expr)
    return None


def has_fuzzy_latent(ctx: Context, e) -> bool:
    """True if `e` contains a `latent` relation in a non-Markov quantale (cannot sample)."""
    if e.__class__ is A.Ref:
        return names_fuzzy_latent(ctx, ctx.local_top.get(e.name.text)
                                  or ctx.top.get(e.name.text))
    todo = list(_children(e))  # an explicit stack: chains can be thousands of nodes deep
    while todo:
        node = todo.pop()
        if isinstance(node, A.Ref):
            if has_fuzzy_latent(ctx, node):
                return True
        else:
            todo.extend(_children(node))
    return False


def names_fuzzy_latent(ctx: Context, sym) -> bool:
    """`has_fuzzy_latent` of a reference to the symbol `sym` (None: an unknown name)."""
    if sym is None:
        return False
    if sym.kind == "morphism":
        info = ctx.morphisms.get(sym.name)
        return info is not None and info.role == "latent" and info.quantale != "markov"
    if sym.kind == "define":
        return bool(getattr(ctx.defines.get(sym.name), "fuzzy", False))
    return False


def _children(e):
    if isinstance(e, (A.Compose, A.Tensor)):
        return (e.left, e.right)
    if isinstance(e, (A.Repeat, A.Stack, A.Marginalize, A.Method)):
        return (e.expr,)
    if isinstance(e, A.Scan):
        return (e.cell,)
    if isinstance(e, A.Fan):
        return e.items
    return ()


def _check_worlds(ctx: Context, e, op_span) -> None:
    """QVR049 for mixed quantales; QVR050 when a fuzzy latent meets continuous/program parts."""
    wl, wr = world(ctx, e.left), world(ctx, e.right)
    if wl is not None and wr is not None:
        if wl != wr:
            ctx.error("QVR049", f"quantale mismatch: `{wl}` and `{wr}`", op_span)
        ctx.worlds[id(e)] = wl
        return
    for side, w in ((e.left, wl), (e.right, wr)):
        if w is None:
            continue
        if has_fuzzy_latent(ctx, side):
            ctx.error("QVR050", f"fuzzy relation `{ctx.src(side.span)}` cannot be sampled",
                      side.span)


def _compose(ctx: Context, e: A.Compose, f: Optional[MorphType],
             g: Optional[MorphType]) -> Optional[MorphType]:
    """`e.left >> e.right` given the types `f`, `g` of its sides (see `_infer_chain`)."""
    if e.op.text == ">=>":
        ctx.deprecated("QVR107", ">=>", ">>", e.op.span, [(e.op.span, ">>")])
    _check_worlds(ctx, e, e.op.span)
    if f is None or g is None:
        return None
    tau, rho = f.cod, g.dom

    def mismatch():
        # Types are displayed only here: in a long chain the sides' types can be long, and
        # displaying them at every operator would cost time quadratic in the chain's length.
        related = (Related(e.left.span, f"left side: `{f.display()}`"),
                   Related(e.right.span, f"right side: `{g.display()}`"))
        ctx.error("QVR040", f"cannot compose: left side produces `{tau.display()}`, right side "
                  f"expects `{rho.display()}`", e.op.span, related=related)
        return None

    if is_seq(tau) == is_seq(rho):
        if not compatible(tau, rho):
            return mismatch()
        ctx.intermediates[id(e)] = (e, tau)
        return MorphType(f.dom, g.cod)
    if is_seq(tau):  # lift g
        if not g.is_elementwise:
            ctx.error("QVR041", f"`{ctx.src(e.right.span)}` consumes a whole sequence and cannot "
                      "be lifted", e.right.span)
            return None
        if not compatible(tau.elem, rho):
            return mismatch()
        ctx.intermediates[id(e)] = (e, tau)
        return MorphType(f.dom, SeqType(g.cod))
    # rho is a sequence: lift f
    if not f.is_elementwise:
        ctx.error("QVR041", f"`{ctx.src(e.left.span)}` consumes a whole sequence and cannot "
                  "be lifted", e.left.span)
        return None
    if not compatible(tau, rho.elem):
        return mismatch()
    ctx.intermediates[id(e)] = (e, rho)
    return MorphType(SeqType(f.dom), g.cod)


def _seq_product(parts):
    """Product of sides that are all sequences (`Seq[A * C]`) or none."""
    if all(is_seq(p) for p in parts):
        return SeqType(ObjType.product([p.elem for p in parts]))
    return ObjType.product(list(parts))


def _tensor(ctx: Context, e: A.Tensor, f: Optional[MorphType],
            g: Optional[MorphType]) -> Optional[MorphType]:
    """`e.left @ e.right` given the types `f`, `g` of its sides (see `_infer_chain`)."""
    _check_worlds(ctx, e, e.op)
    if f is None or g is None:
        return None
    if is_seq(f.dom) != is_seq(g.dom) or is_seq(f.cod) != is_seq(g.cod):
        # report on the operand that differs from the left one
        ctx.error("QVR045", "`@` cannot mix sequence and per-element operands", e.right.span)
        return None
    if is_seq(f.dom):
        ctx.warning("QVR046", "`@` feeds each side its own sequence; use `fan(...)` to run both "
                    "on one sequence", e.op)
    return MorphType(_seq_product([f.dom, g.dom]), _seq_product([f.cod, g.cod]))


def _fan(ctx: Context, e: A.Fan) -> Optional[MorphType]:
    comps: list[tuple] = []  # (node, type)
    for item in e.items:
        if isinstance(item, A.Ref) and item.name.text in ctx.groups:
            t = infer(ctx, item, in_fan=True)
            sym = ctx.top.get(item.name.text)
            for member in ctx.groups[item.name.text]:
                info = ctx.morphisms.get(member)
                comps.append((item, info.type if info is not None else None))
            if sym is not None and has_fuzzy_latent(ctx, item):
                ctx.error("QVR050", f"fuzzy relation `{item.name.text}` cannot be sampled",
                          item.span)
            continue
        t = infer(ctx, item, inside="expression")
        if has_fuzzy_latent(ctx, item):
            ctx.error("QVR050", f"fuzzy relation `{ctx.src(item.span)}` cannot be sampled",
                      item.span)
        comps.append((item, t))
    if not comps or any(t is None for _, t in comps):
        return None
    first = comps[0][1]
    ok = True
    for i, (node, t) in enumerate(comps[1:], start=2):
        if is_seq(t.dom) != is_seq(first.dom):
            ctx.error("QVR045", "fan cannot mix sequence and per-element operands", node.span)
            ok = False
        elif not compatible(t.dom, first.dom):
            ctx.error("QVR044", f"fan components must share a domain: component {i} takes "
                      f"`{t.dom.display()}`, component 1 takes `{first.dom.display()}`",
                      node.span)
            ok = False
    if ok and len({is_seq(t.cod) for _, t in comps}) > 1:
        odd = next(node for node, t in comps if is_seq(t.cod) != is_seq(first.cod))
        ctx.error("QVR045", "fan cannot mix sequence and per-element operands", odd.span)
        ok = False
    if not ok:
        return None
    return MorphType(first.dom, _seq_product([t.cod for _, t in comps]))


def split_scan_cell(dom: ObjType, state: ObjType):
    """State part of a scan cell (§4.5): the shortest suffix of `leaves(dom)` whose total
    width is `w(state)`. Returns (input_leaves, state_leaves) or None when no suffix fits."""
    leaves = dom.leaves
    total = 0
    target = state.width
    for k in range(len(leaves) - 1, -1, -1):
        total += leaves[k].width
        if total == target:
            return leaves[:k], leaves[k:]
        if total > target:
            return None
    return None


def _input_object(dom: ObjType, n_input_leaves: int) -> ObjType:
    """The scan input as written: the leading factors of `dom` if they cover exactly the input
    leaves (so `Embedded * Hidden -> Hidden` reads `Seq[Embedded]`), else the bare leaves."""
    parts, count = [], 0
    for f in dom.factor_types:
        if count == n_input_leaves:
            break
        parts.append(f)
        count += len(f.leaves)
    if count == n_input_leaves and parts:
        return ObjType.product(parts)
    return ObjType(tuple(dom.leaves[:n_input_leaves]))


def _scan(ctx: Context, e: A.Scan) -> Optional[MorphType]:
    c = infer(ctx, e.cell, inside="scan")
    opts = {k: v[0] for k, v in SCAN_OPTIONS.items()}
    seen = set()
    for o in e.options:
        allowed = SCAN_OPTIONS.get(o.key.text)
        if allowed is None or o.value.text not in allowed:
            ctx.error("QVR043", f"invalid scan option `{o.key.text}={o.value.text}`", o.span)
            continue
        if o.key.text in seen:
            ctx.warning("QVR030", f"option `{o.key.text}` is given twice; the last value is used",
                        o.key.span)
        seen.add(o.key.text)
        opts[o.key.text] = o.value.text
    if has_fuzzy_latent(ctx, e.cell):
        ctx.error("QVR050", f"fuzzy relation `{ctx.src(e.cell.span)}` cannot be sampled",
                  e.cell.span)
    if c is None:
        return None
    cell_text = ctx.src(e.cell.span)

    def bad(reason):
        ctx.error("QVR042", f"`{cell_text}` : `{c.display()}` cannot be a scan cell: {reason}",
                  e.cell.span)
        return None

    if isinstance(e.cell, A.Ref):
        prog = ctx.programs.get(e.cell.name.text)
        if prog is not None and prog.promoted:
            return bad("it is a promoted program (it consumes whole sequences)")
    if not c.is_elementwise:
        return bad("its domain and codomain must not be sequences")
    if not c.cod.is_continuous:
        return bad("its state (codomain) must be continuous")
    split = split_scan_cell(c.dom, c.cod)
    if split is None:
        return bad(f"no suffix of the domain has the state width {c.cod.width}")
    inputs, states = split
    if not compatible(ObjType(tuple(states)), c.cod):
        return bad("the state part of the domain does not match the codomain")
    if not inputs:
        return bad("the domain has no input part besides the state")
    a = _input_object(c.dom, len(inputs))
    ctx.scans[id(e)] = (e, ScanInfo(c, tuple(inputs), tuple(states), a, c.cod,
                                    opts["init"], opts["states"], opts["direction"]))
    cod = SeqType(c.cod) if opts["states"] == "all" else c.cod
    return MorphType(SeqType(a), cod)


def _repeat(ctx: Context, e, kind: str, count) -> Optional[MorphType]:
    f = infer(ctx, e.expr, inside="expression")
    n = None
    if count is not None:
        if not count.is_int or count.value < 1:
            ctx.error("QVR038", f"count must be ≥ 1, got {count.text}", count.span)
        else:
            n = int(count.value)
    if f is None:
        return None
    needs_endo = kind == "repeat" or (n is not None and n >= 2)
    if needs_endo and not compatible(f.dom, f.cod):
        ctx.error("QVR047", f"{kind} needs an endomorphism, `{ctx.src(e.expr.span)}` is "
                  f"`{f.display()}`", e.expr.span)
        return None
    return f


def _marginalize(ctx: Context, e: A.Marginalize) -> Optional[MorphType]:
    f = infer(ctx, e.expr, inside="expression")
    names = []
    for n in e.names:
        sym = ctx.lookup_top(n, want="object", undefined_code="QVR010",
                             undefined_msg=f"undefined type `{n.text}`", allowed_kinds=("object",))
        names.append((n, sym))
    if f is None or any(s is None for _, s in names):
        return None
    cod = f.cod
    if is_seq(cod) or not cod.is_finite or world(ctx, e.expr) is None:
        ctx.error("QVR048", "marginalize: the expression must be a finite-world morphism with a "
                  "finite codomain", e.expr.span)
        return None
    factors = list(cod.factor_types)
    for n, sym in names:
        idx = next((i for i, f_ in enumerate(factors) if f_.name == n.text), None)
        if idx is None:
            ctx.error("QVR048", f"marginalize: `{n.text}` is not a factor of the codomain "
                      f"`{cod.display()}`", n.span)
            return None
        factors.pop(idx)
    if not factors:
        ctx.error("QVR048", "marginalize: cannot marginalize every factor of the codomain",
                  e.keyword.span)
        return None
    return MorphType(f.dom, ObjType.product(factors))
