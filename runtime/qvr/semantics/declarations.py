"""Morphism declarations (spec §4.4): roles, options, families versus codomains, fixed
distributions, replication groups, and the statement deprecations QVR093–QVR098/QVR109.

`check_morphism(ctx, decl)` resolves the signature, decides the role, validates options and
the `~`/`=` part, registers one `MorphismInfo` per declared name (and per replicated member)
and returns nothing; symbols are created by `analysis` before this runs."""
from __future__ import annotations

from typing import Optional

from ..diagnostics import Related, TextEdit
from ..syntax import ast as A
from ..syntax.span import Span
from .context import Context
from .families import (COUNT_FAMILIES, FAMILIES, NETWORK_OPTIONS, OPTION_DEFAULTS,
                       OPTIONS_BY_ROLE, ORDINAL_FAMILIES, POSITIVE_FAMILIES, REAL_LINE_FAMILIES,
                       ROLES, SIMPLEX_FAMILIES, UNIT_FAMILIES)
from .model import MorphismInfo
from .objects import resolve_type
from .types import Cont, Fin, MorphType, ObjType, compatible

ROLE_OF_KEYWORD = {"continuous": "kernel", "stochastic": "kernel", "embed": "embed",
                   "latent": "latent", "observed": "observed", "discretize": "discretize"}


# ------------------------------------------------------------------------ signature ----
def resolve_sig(ctx: Context, sig: A.Signature) -> Optional[MorphType]:
    dom = resolve_type(ctx, sig.domain, finite_position=True)
    cod = resolve_type(ctx, sig.codomain, finite_position=True)
    if dom is None or cod is None:
        return None
    return MorphType(dom, cod)


# -------------------------------------------------------------------------- options ----
def _opt_text(v) -> str:
    if v is None:
        return ""
    if isinstance(v, A.Number):
        return v.text
    if isinstance(v, A.OptName):
        return v.name.text
    return "[…]"


def collect_options(ctx: Context, blocks) -> list:
    """Options of all blocks in order, with QVR030 for repeated keys (last wins)."""
    seen: dict[str, A.Option] = {}
    out = []
    for block in blocks:
        if block is None:
            continue
        for o in block.items:
            if o.key.text in seen:
                ctx.warning("QVR030", f"option `{o.key.text}` is given twice; the last value is "
                            "used", o.key.span)
            seen[o.key.text] = o
            out.append(o)
    return out


def _number(ctx, o: A.Option, *, integer: bool, positive: bool, what: str):
    v = o.value
    if isinstance(v, A.Number) and (not integer or v.is_int):
        if positive and not v.value > 0:
            if integer and o.key.text == "replicate":
                ctx.error("QVR038", f"count must be ≥ 1, got {v.text}", v.span)
            else:
                ctx.error("QVR029", f"option `{o.key.text}` expects {what}, got `{v.text}`", v.span)
            return None
        return v.value
    span = v.span if v is not None else o.span
    ctx.error("QVR029", f"option `{o.key.text}` expects {what}, got `{_opt_text(v)}`", span)
    return None


# (role, whether `role=` may be written) -> (the option keys allowed, their defaults): the same
# few pairs for every declaration, so made once each.
_ROLE_OPTIONS: dict = {}


def _role_options(role: str, allow_role: bool) -> tuple:
    found = _ROLE_OPTIONS.get((role, allow_role))
    if found is None:
        allowed = tuple(OPTIONS_BY_ROLE.get(role, ())) + (("role",) if allow_role else ())
        # Defaults are filled in except for the MLP shape keys, which are present only when
        # written (the runtime reads their presence as "use an MLP"; `param_source` says the
        # same).
        defaults = {k: OPTION_DEFAULTS[k] for k in allowed
                    if k in OPTION_DEFAULTS and k not in ("hidden_dim", "n_layers")}
        if "scale" in allowed:
            defaults["scale"] = 0.5 if role == "latent" else None
        found = _ROLE_OPTIONS[(role, allow_role)] = (allowed, defaults)
    return found


def validate_options(ctx: Context, options: list, role: str, *, what: str, family=None,
                     fixed: bool = False, allow_role: bool = False) -> dict:
    """Check keys and values for `role` (QVR028/029/033/034/038) and fill in defaults."""
    allowed, defaults = _role_options(role, allow_role)
    values: dict = {}
    for o in options:
        key = o.key.text
        if key == "role" and allow_role:
            continue
        if key not in allowed:
            ctx.error("QVR028", f"unknown option `{key}` for {what}; allowed: "
                      f"{', '.join(allowed) if allowed else '(none)'}", o.key.span)
            continue
        if fixed and key in NETWORK_OPTIONS + ("scale",):
            ctx.error("QVR034", f"fixed distribution `{family}(…)`: option `{key}` has no effect",
                      o.key.span)
            continue
        if key == "scale":
            if role == "kernel" and family in FAMILIES and not FAMILIES[family].has_scale:
                ctx.error("QVR033", f"option `scale` does not apply to `{family}`", o.key.span)
                continue
            v = _number(ctx, o, integer=False, positive=True, what="a number > 0")
        elif key == "temperature":
            v = _number(ctx, o, integer=False, positive=True, what="a number > 0")
        elif key == "hidden_dim" and o.value.__class__ is A.OptList:
            v = _widths(ctx, o, o.value.items, "hidden_dim")  # one width per hidden layer
        elif key in ("hidden_dim", "n_layers", "replicate"):
            v = _number(ctx, o, integer=True, positive=True, what="an integer ≥ 1")
            if v is not None:
                v = int(v)
        elif key == "param_source" and o.value.__class__ is A.OptCall \
                and o.value.callee.text == "mlp":
            # `mlp(h1, …, hL)` is `param_source=mlp` with `hidden_dim=[h1, …, hL]`
            widths = _widths(ctx, o, o.value.args, "param_source")
            v = "mlp"
            if widths is not None:
                values["hidden_dim"] = widths
        elif key == "param_source":
            v = o.value.name.text if isinstance(o.value, A.OptName) else None
            if v not in ("affine", "mlp"):
                ctx.error("QVR029", f"option `param_source` expects `affine` or `mlp`, got "
                          f"`{_opt_text(o.value)}`", o.value.span if o.value else o.span)
                v = None
        else:
            v = None
        if v is not None:
            values[key] = v
    out = dict(defaults)
    out.update(values)
    widths = values.get("hidden_dim")
    if isinstance(widths, list):
        layers = next((o for o in options if o.key.text == "n_layers"), None)
        if "n_layers" in values and values["n_layers"] != len(widths):
            ctx.error("QVR029", f"option `n_layers` is {values['n_layers']} but `hidden_dim` "
                      f"lists {len(widths)} widths", layers.value.span)
        values["n_layers"] = out["n_layers"] = len(widths)
    if role in ("kernel", "deterministic") and ("hidden_dim" in values or "n_layers" in values):
        out["param_source"] = "mlp" if "param_source" not in values else values["param_source"]
    return out


def _widths(ctx, o: A.Option, items, key: str) -> Optional[list]:
    """Layer widths `[h1, …]` or `mlp(h1, …)`: integers ≥ 1, at least one (QVR029)."""
    for item in items:
        if not (isinstance(item, A.Number) and item.is_int and item.value >= 1):
            ctx.error("QVR029", f"option `{key}` expects integers ≥ 1 as layer widths, got "
                      f"`{ctx.src(item.span)}`", item.span)
            return None
    if not items:
        ctx.error("QVR029", f"option `{key}` needs at least one layer width", o.value.span)
        return None
    return [int(item.value) for item in items]


# ------------------------------------------------------------------ family checks ----
def family_fits(family: str, cod: ObjType) -> Optional[str]:
    """Why `family` cannot produce values in `cod` (QVR032), or None if it can."""
    leaves = cod.leaves
    if family == "Categorical":
        return None if cod.is_finite else "Categorical needs a finite codomain"
    if family == "Bernoulli":
        return None if (len(leaves) == 1 and leaves[0] == Fin(2)) else \
            "Bernoulli needs the codomain `FinSet 2`"
    if family in COUNT_FAMILIES:  # spec part 2 §5.9: counts have no declarable codomain
        return f"{family} produces counts, which no codomain holds"
    if family in ORDINAL_FAMILIES:
        return None if cod.is_finite else f"{family} needs a finite codomain"
    if not cod.is_continuous:
        return f"{family} produces continuous values, the codomain is finite"
    conts = [l for l in leaves if isinstance(l, Cont)]
    if family in SIMPLEX_FAMILIES:
        if len(conts) == 1 and (conts[0].simplex or conts[0].unbounded) and conts[0].d >= 2:
            return None
        return f"{family} needs `Simplex n` or an unbounded `Real n` with n ≥ 2"
    if any(c.simplex for c in conts):
        return f"{family} cannot produce points of a simplex"
    if family in REAL_LINE_FAMILIES or family == "Uniform":
        if all(c.unbounded for c in conts):
            return None
        return "its support is the whole real line; the codomain is bounded"
    if family in UNIT_FAMILIES:
        if all(c.unbounded or ((c.low is None or c.low <= 0.0) and (c.high is None or c.high >= 1.0))
               for c in conts):
            return None
        return "its support is (0, 1); the codomain bounds do not contain [0, 1]"
    if family in POSITIVE_FAMILIES:
        if all(c.unbounded or (c.low is not None and c.low <= 0.0 and c.high is None)
               for c in conts):
            return None
        return "its support is [0, ∞); the codomain needs `low ≤ 0` and no upper bound"
    if family == "TruncatedNormal":
        if all(c.bounded for c in conts):
            return None
        return "as a kernel it needs both codomain bounds (`low` and `high`)"
    return None


def bind_family_args(ctx: Context, fam, args, call_span) -> Optional[dict]:
    """Bind positional/keyword arguments to the schema (QVR063); returns name -> arg node."""
    bound: dict = {}
    seen_kw = False
    ok = True
    schema = fam.schema_text  # written into messages only
    positional = fam.params
    for i, a in enumerate(args):
        if isinstance(a, A.NamedArg):
            seen_kw = True
            key = fam.canonical(a.key.text)
            if key is None:
                ctx.error("QVR063", f"`{fam.name}`: unknown argument `{a.key.text}`; expected "
                          f"({schema()})", a.key.span)
                ok = False
            elif key in bound or (fam.one_of and key in fam.one_of
                                  and any(k in bound for k in fam.one_of)):
                ctx.error("QVR063", f"`{fam.name}`: duplicate argument `{a.key.text}`; expected "
                          f"({schema()})", a.key.span)
                ok = False
            else:
                bound[key] = a.value
        else:
            if seen_kw:
                ctx.error("QVR063", f"`{fam.name}`: misplaced argument `{ctx.src(a.span)}`; "
                          f"expected ({schema()})", a.span)
                ok = False
            elif i >= len(positional):
                ctx.error("QVR063", f"`{fam.name}`: unknown argument `{ctx.src(a.span)}`; "
                          f"expected ({schema()})", a.span)
                ok = False
            else:
                bound[positional[i]] = a
    missing = fam.required(bound) if ok else None
    if missing is not None:
        ctx.error("QVR063", f"`{fam.name}`: missing argument `{missing}`; expected ({schema()})",
                  call_span)
        ok = False
    return bound if ok else None


def positional_fix(ctx: Context, fam, args) -> None:
    """QVR104: positional family arguments → keyword arguments with schema names."""
    positional = fam.params
    edits = []
    for i, a in enumerate(args):
        if isinstance(a, A.NamedArg):
            break
        if i < len(positional):
            edits.append(TextEdit(Span(a.span.start, a.span.start), f"{positional[i]}="))
    if edits:
        first, last = args[0].span, args[len(edits) - 1].span
        span = Span(first.start, last.end)
        form = ctx.src(span)
        rewrite = ", ".join(f"{positional[i]}={ctx.src(args[i].span)}" for i in range(len(edits)))
        tail = ", …" if len(edits) < len(args) else ""
        ctx.deprecated("QVR104", f"{fam.name}({form}{tail})", f"{fam.name}({rewrite}{tail})",
                       span, edits)


def _literal_width(ctx: Context, a) -> Optional[int]:
    """Width of a fixed-distribution argument (QVR034 unless a literal or literal vector)."""
    if isinstance(a, A.Lit):
        return 1
    if isinstance(a, A.Neg) and isinstance(a.operand, (A.Lit, A.Neg)):
        return _literal_width(ctx, a.operand)
    if isinstance(a, A.Vec) and all(_literal_width(ctx, x) == 1 for x in a.items):
        return len(a.items)
    return None


# ---------------------------------------------------------------------- declarations ----
def decl_role(ctx: Context, d) -> tuple[str, Optional[str], Optional[A.Option]]:
    """(role, family, role option) of a morphism-like declaration, reporting QVR026."""
    if isinstance(d, A.MorphismDecl):
        role_opt = None
        for o in (d.options.items if d.options else ()) + (
                d.init_options.items if d.init_options else ()):
            if o.key.text == "role":
                role_opt = o
        if role_opt is not None:
            v = role_opt.value
            r = v.name.text if isinstance(v, A.OptName) else _opt_text(v)
            if r not in ROLES:
                ctx.error("QVR026", f"unknown role `{r}`", v.span if v is not None else role_opt.span)
                r = None
            fam = _family_name(ctx, d.init) if r == "kernel" else None
            return r, fam, role_opt
        if d.init is None:
            return "deterministic", None, None
        if isinstance(d.init, A.FamilyCall):
            return "kernel", d.init.name.text, None
        fam = _family_name(ctx, d.init)
        if fam is not None:
            return "kernel", fam, None
        return "observed", None, None
    if isinstance(d, A.StochasticDecl):
        return "kernel", "Categorical", None
    if isinstance(d, A.ContinuousDecl):
        if isinstance(d.init, A.FamilyCall):
            return "kernel", d.init.name.text, None
        if isinstance(d.init, A.Ref):
            return "kernel", d.init.name.text, None
        return "kernel", None, None
    return ROLE_OF_KEYWORD[d.keyword.text], None, None


def _family_name(ctx: Context, init) -> Optional[str]:
    """`~ F` names a family when F is a family name not declared in the file, or an undeclared
    capitalised name (reported as an unknown family rather than an undefined morphism)."""
    if isinstance(init, A.FamilyCall):
        return init.name.text
    if isinstance(init, A.Ref):
        n = init.name.text
        declared = n in ctx.top or n in ctx.local_top
        if n in FAMILIES and not declared:
            return n
        if not declared and n[:1].isupper():
            return n
    return None


# How option messages name a declaration of each role.
_ROLE_WHAT = {"kernel": "a kernel", "deterministic": "a deterministic morphism",
              "embed": "an embedding", "latent": "a latent relation",
              "observed": "an observed morphism", "discretize": "discretize"}


def check_morphism(ctx: Context, d) -> None:
    names = A.declared_names(d)
    if isinstance(d, A.DiscretizeDecl):
        dom = resolve_type(ctx, d.domain, finite_position=True)
        bins = int(d.bins.value) if d.bins.is_int and d.bins.value >= 1 else None
        if bins is None:
            ctx.error("QVR020", f"cardinality must be an integer ≥ 1, got `{d.bins.text}`", d.bins.span)
        mtype = MorphType(dom, ObjType.fin(bins)) if dom is not None and bins else None
    else:
        mtype = resolve_sig(ctx, d.sig)
        bins = None
    role, family, role_opt = decl_role(ctx, d)
    if (isinstance(d, A.MorphismDecl) and d.init is None and family is None
            and role in ("deterministic", "kernel") and (role_opt is None or role == "kernel")
            and mtype is not None and mtype.cod.is_finite):
        # no family and a finite codomain: a Categorical kernel (spec part 2 §5.10)
        ctx.hint("QVR135", f"`{names[0].text}` has no family; with the finite codomain "
                 f"`{mtype.cod.display()}` it is a Categorical kernel (write `~ Categorical`)",
                 names[0].span)
        role, family = "kernel", "Categorical"
    blocks = [getattr(d, "options", None), getattr(d, "init_options", None)]
    options = collect_options(ctx, blocks)
    init = getattr(d, "init", None)
    decl_name = names[0]
    what = _ROLE_WHAT.get(role, "a morphism")
    fixed = isinstance(init, A.FamilyCall)
    opts = validate_options(ctx, options, role or "kernel", what=what, family=family,
                            fixed=fixed, allow_role=isinstance(d, A.MorphismDecl))

    # `~` / `=` part versus role (QVR027)
    if role == "kernel" and family is None:
        ctx.error("QVR027", "role `kernel` needs a family `~ F`", decl_name.span)
    elif role in ("deterministic", "embed", "latent", "discretize") and init is not None:
        ctx.error("QVR027", f"role `{role}` takes no `~`/`=` part", decl_name.span)
    elif role == "observed" and init is None:
        ctx.error("QVR027", "role `observed` needs an initializer", decl_name.span)

    fam = FAMILIES.get(family) if family else None
    fixed_bound = None
    if role == "kernel" and family is not None:
        fam_span = init.name.span if isinstance(init, (A.FamilyCall, A.Ref)) else decl_name.span
        if fam is None:
            ctx.error("QVR031", f"unknown distribution family `{family}`", fam_span)
        elif not fam.kernel and not fixed:
            ctx.error("QVR131", f"`{family}` can be used only inline or with literal arguments "
                      f"(`~ {family}(…)`), not as a learned kernel", fam_span)
        elif mtype is not None:
            why = family_fits(family, mtype.cod)
            if why is not None:
                ctx.error("QVR032", f"`{family}` cannot produce values in `{mtype.cod.display()}`: "
                          f"{why}", fam_span,
                          related=(Related(d.sig.codomain.span if hasattr(d, "sig") else d.span,
                                           "codomain"),))
        if fixed and fam is not None:
            fixed_bound = _check_fixed(ctx, init, fam, mtype)

    if mtype is not None:
        dom, cod = mtype.dom, mtype.cod
        if role == "deterministic" and not cod.is_continuous:
            ctx.error("QVR039", f"deterministic morphism `{decl_name.text}` needs a continuous "
                      "codomain (use `~ Categorical` for finite outputs)", d.sig.codomain.span)
        elif role == "embed":
            if not dom.is_finite:
                ctx.error("QVR024", f"an embedding needs a finite object, `{dom.display()}` is "
                          "continuous", d.sig.domain.span)
            if not cod.is_continuous:
                ctx.error("QVR025", f"an embedding needs a continuous space, `{cod.display()}` is "
                          "finite", d.sig.codomain.span)
        elif role == "latent":
            for side, node in ((dom, d.sig.domain), (cod, d.sig.codomain)):
                if not side.is_finite:
                    ctx.error("QVR024", f"a latent relation needs a finite object, "
                              f"`{side.display()}` is continuous", node.span)
        elif role == "discretize":
            leaves = dom.leaves
            if not (len(leaves) == 1 and isinstance(leaves[0], Cont) and leaves[0].d == 1
                    and leaves[0].bounded):
                node = d.domain if isinstance(d, A.DiscretizeDecl) else d.sig.domain
                ctx.error("QVR035", f"discretize needs a bounded one-dimensional space, "
                          f"`{dom.display()}` is not", node.span)
            if not cod.is_finite and not isinstance(d, A.DiscretizeDecl):
                ctx.error("QVR024", f"discretize needs a finite object, `{cod.display()}` is "
                          "continuous", d.sig.codomain.span)
            if bins is None and cod.is_finite:
                bins = cod.cardinality

    init_expr = None
    if role == "observed" and init is not None and not isinstance(init, A.FamilyCall):
        from .expressions import infer
        init_expr = init
        it = infer(ctx, init)
        if it is not None and mtype is not None and not (
                compatible(it.dom, mtype.dom) and compatible(it.cod, mtype.cod)):
            ctx.error("QVR036", f"initializer has type `{it.display()}`, expected "
                      f"`{mtype.display()}`", init.span)
    elif role == "kernel" and isinstance(init, A.Ref) and family is None:
        pass

    if role is None:
        return
    quantale = "markov"
    if role in ("latent",) or (role == "observed" and mtype is not None
                               and mtype.dom.is_finite and mtype.cod.is_finite):
        quantale = ctx.quantale
    replicate = opts.get("replicate", 1) or 1
    rep = getattr(d, "replication", None)
    if rep is not None:
        if not rep.count.is_int or rep.count.value < 1:
            ctx.error("QVR038", f"count must be ≥ 1, got {rep.count.text}", rep.count.span)
        else:
            replicate = int(rep.count.value)
    for n in names:
        info = MorphismInfo(n.text, role, d, mtype, family=family if role == "kernel" else None,
                            fixed_args=tuple(init.args) if fixed else None,
                            fixed_bound=fixed_bound, options=opts, replicate=replicate,
                            quantale=quantale, init=init_expr, bins=bins)
        ctx.morphisms[n.text] = info
        if replicate > 1:
            for k in range(replicate):
                member = f"{n.text}_{k}"
                ctx.morphisms[member] = MorphismInfo(
                    member, role, d, mtype, family=info.family, fixed_args=info.fixed_args,
                    fixed_bound=fixed_bound, options=opts, replicate=1, member_of=n.text,
                    quantale=quantale, init=init_expr, bins=bins)


def _check_fixed(ctx: Context, init: A.FamilyCall, fam, mtype) -> Optional[dict]:
    """A fixed distribution `~ F(args)`: literal arguments (QVR034), schema (QVR063) and
    widths broadcasting to the codomain width (QVR064)."""
    ok = True
    for a in init.args:
        v = a.value if isinstance(a, A.NamedArg) else a
        if _literal_width(ctx, v) is None:
            ctx.error("QVR034", f"fixed distribution `{fam.name}(…)`: arguments must be literals",
                      v.span)
            ok = False
    if not ok:
        return None
    bound = bind_family_args(ctx, fam, init.args, init.span)
    if bound is None:
        return None
    positional_fix(ctx, fam, init.args)
    if mtype is None:
        return bound
    target = mtype.cod.cardinality if fam.name == "Categorical" else mtype.cod.width
    if fam.support in ("mixture", "ordinal"):  # vectors of K components or c cutpoints
        target = next((w for k, node in bound.items() if k in fam.vector_params
                       and (w := _literal_width(ctx, node)) != 1), 1)
    for key, node in bound.items():
        w = _literal_width(ctx, node)
        if w not in (1, target):
            ctx.error("QVR064", f"`{fam.name}`: argument widths {w} and {target} cannot be "
                      "broadcast", node.span)
            return None
    return bound


# ------------------------------------------------------------------ algebra selector ----
# Values of `level=` on `composition NAME [level=L]` (spec part 2 §5.10); every built-in
# algebra satisfies each of them.
ALGEBRA_LEVELS = ("algebra", "semigroupoid", "bilinear_form", "rule")


def check_composition(ctx: Context, d: A.CompositionDecl) -> Optional[str]:
    """`composition NAME [level=L]`: the algebra it selects (lower-case), or None after
    QVR037 for an unknown name; QVR028 for keys other than `level`, QVR029 for its values."""
    from .families import QUANTALES
    for o in collect_options(ctx, [d.options]):
        if o.key.text != "level":
            ctx.error("QVR028", f"unknown option `{o.key.text}` for `composition`; allowed: "
                      "level", o.key.span)
            continue
        v = o.value
        if not (isinstance(v, A.OptName) and v.name.text in ALGEBRA_LEVELS):
            ctx.error("QVR029", f"option `level` expects one of {', '.join(ALGEBRA_LEVELS)}, "
                      f"got `{_opt_text(v)}`", v.span if v is not None else o.span)
    q = d.name.text.lower()
    if q not in QUANTALES:
        ctx.error("QVR037", f"unknown algebra `{d.name.text}`; available: "
                  f"{', '.join(QUANTALES)}", d.name.span)
        return None
    return q
