"""Resolution of type expressions to `ObjType`s (spec §4.3), with their diagnostics
(QVR010, QVR014, QVR017, QVR020–QVR023) and the constructor deprecations QVR090/092/106."""
from __future__ import annotations

from typing import Optional

from ..diagnostics import Fix, TextEdit
from ..syntax import ast as A
from ..syntax.span import Span
from .context import Context
from .families import TYPE_CONSTRUCTORS
from .types import Cont, Fin, ObjType


def _num(n: A.Number) -> str:
    return n.text


def _float_text(n: A.Number) -> str:
    """A bound as the current form prints it: integers gain `.0` (`0` → `0.0`)."""
    return n.text if not n.is_int else f"{n.text}.0"


def _dimension(ctx: Context, n: Optional[A.Number], what: str) -> Optional[int]:
    if n is None:
        return None
    if not n.is_int or n.value < 1:
        ctx.error("QVR020", f"{what} must be an integer ≥ 1, got `{n.text}`", n.span)
        return None
    return int(n.value)


def resolve_type(ctx: Context, t, *, finite_position: bool = False) -> Optional[ObjType]:
    """The object a type expression denotes, or None after reporting why it has none.

    `finite_position`: a bare integer here is the classic finite-set shorthand, which is
    deprecated (QVR090) except as the whole value of an `object` statement (reported there)."""
    cls = t.__class__  # AST classes have no subclasses: compared, not `isinstance`d
    if cls is A.TypeRef:
        name = t.name
        if name.text == "UnitInterval" and name.text not in ctx.top:
            # the bare constructor (no dimension) parses as a reference
            return _ctor(ctx, t, name, [], [], None, call=False)
        if name.text not in ctx.top and name.text not in ctx.local_top:
            # "did you mean" (closest object) and "declare object" before this statement
            declare = Fix(f"Declare object `{name.text}`",
                          (TextEdit(Span(ctx.statement_start, ctx.statement_start),
                                    f"object {name.text} : Real 1\n"),))
            ctx.undefined(name, "QVR010", f"undefined type `{name.text}`", ("object",),
                          extra_fixes=(declare,))
            return None
        sym = ctx.lookup_top(name, want="object", undefined_code="QVR010",
                             undefined_msg=f"undefined type `{name.text}`",
                             allowed_kinds=("object",), fix_kinds=("object",))
        if sym is None:
            return None
        obj = ctx.objects.get(sym.name)
        ctx.record_type(t, obj)
        return obj
    if cls is A.EnumSet:
        # `{a, b, c}`: FinSet 3 with labels (spec part 2 §5.10); labels are in no namespace
        seen: set = set()
        for label in t.labels:
            if label.text in seen:
                ctx.error("QVR022", f"invalid constructor argument: label `{label.text}` is "
                          "repeated", label.span)
                return None
            seen.add(label.text)
        return ObjType.fin(len(t.labels))
    if cls is A.TypeCard:
        n = _dimension(ctx, t.value, "cardinality")
        if finite_position and n is not None:
            ctx.deprecated("QVR090", t.value.text, f"FinSet {t.value.text}", t.span,
                           [(t.span, f"FinSet {t.value.text}")])
        return ObjType.fin(n) if n is not None else None
    if cls is A.TypeCtor:
        return _ctor(ctx, t, t.ctor, list(t.args), [], t.options, call=False)
    if cls is A.TypeCall:
        pos = [a for a in t.args if isinstance(a, A.Number)]
        kws = [a for a in t.args if isinstance(a, A.KwArg)]
        for a in t.args:
            if isinstance(a, A.Number) and kws and a.span.start > kws[0].span.start:
                ctx.error("QVR022", "invalid constructor argument: positional argument "
                          "after a keyword", a.span)
                return None
        return _ctor(ctx, t, t.ctor, pos, kws, t.options, call=True)
    if cls is A.BracketCtor:
        obj = _ctor(ctx, t, t.ctor, list(t.args), list(t.kwargs), None, call=False,
                    bracket=True)
        return obj
    if cls is A.Product:
        parts = [resolve_type(ctx, f, finite_position=finite_position) for f in t.factors]
        if any(p is None for p in parts):
            return None
        return ObjType(tuple(parts))
    if cls is A.Coproduct:
        total = 0
        ok = True
        for op in t.operands:
            o = resolve_type(ctx, op, finite_position=finite_position)
            if o is None:
                ok = False
                continue
            if not o.is_finite:
                ctx.error("QVR023", f"coproduct operands must be finite, `{o.display()}` is "
                          "continuous", op.span)
                ok = False
                continue
            total += o.cardinality
        return ObjType.fin(total) if ok else None
    return None


def _ctor(ctx: Context, node, ctor: A.Name, pos: list, kws: list, braces, *, call: bool,
          bracket: bool = False) -> Optional[ObjType]:
    c = ctor.text
    if c not in TYPE_CONSTRUCTORS:
        ctx.error("QVR021", f"unknown type constructor `{c}`", ctor.span)
        return None
    all_kws = list(kws) + (list(braces.items) if braces is not None else [])
    min_args, max_args = (0, 1) if c == "UnitInterval" else (1, 1)
    if len(pos) < min_args:
        ctx.error("QVR022", f"invalid constructor argument: `{c}` needs a "
                  f"{'cardinality' if c == 'FinSet' else 'dimension'}", ctor.span)
        return None
    if len(pos) > max_args:
        ctx.error("QVR022", f"invalid constructor argument: `{c}` takes one number",
                  pos[max_args].span)
        return None
    what = "cardinality" if c == "FinSet" else "dimension"
    n = _dimension(ctx, pos[0], what) if pos else 1
    if pos and n is None:
        return None
    low = high = None
    low_kw = high_kw = None
    allowed = ("low", "high") if c in ("Real", "Euclidean") else ()
    seen = set()
    for kw in all_kws:
        key = kw.key.text
        if key not in allowed:
            ctx.error("QVR022", f"invalid constructor argument: `{c}` takes no option `{key}`",
                      kw.span)
            return None
        if key in seen:
            ctx.warning("QVR030", f"option `{key}` is given twice; the last value is used",
                        kw.key.span)
        seen.add(key)
        if key == "low":
            low, low_kw = float(kw.value.value), kw
        else:
            high, high_kw = float(kw.value.value), kw
    if low is not None and high is not None and not low < high:
        ctx.error("QVR022", f"invalid constructor argument: low ({low_kw.value.text}) must be "
                  f"less than high ({high_kw.value.text})", high_kw.span)
        return None
    if c == "Simplex" and n is not None and n < 2:
        ctx.error("QVR022", f"invalid constructor argument: a simplex needs n ≥ 2, got "
                  f"`{pos[0].text}`", pos[0].span)
        return None

    if c == "FinSet":
        obj = ObjType.fin(n)
    elif c in ("Real", "Euclidean"):
        obj = ObjType.real(n, low, high)  # the shared `Real n` when unbounded
    elif c == "Simplex":
        obj = ObjType.leaf(Cont(n, simplex=True))
    elif c == "PositiveReals":
        obj = ObjType.leaf(Cont(n, 0.0, None))
    else:  # UnitInterval
        obj = ObjType.leaf(Cont(n, 0.0, 1.0))

    _deprecations(ctx, node, c, pos, all_kws, braces, call, bracket, n)
    return obj


def _bounds_text(kws) -> str:
    parts = [f"{kw.key.text}={kw.value.text}" for kw in kws]
    return " {" + ", ".join(parts) + "}" if parts else ""


def _deprecations(ctx, node, c, pos, kws, braces, call, bracket, n) -> None:
    """QVR092 (old constructors and call forms) and QVR106 (bracket options)."""
    written = ctx.src(node.span)
    if c == "Euclidean" or (call and c in ("Real", "FinSet")):
        base = "FinSet" if c == "FinSet" else "Real"
        new = f"{base} {n}" + _bounds_text(kws)
        ctx.deprecated("QVR092", written, new, node.span, [(node.span, new)])
    elif c == "PositiveReals":
        new = f"Real {n} {{low=0.0}}"
        ctx.deprecated("QVR092", written, new, node.span, [(node.span, new)])
    elif c == "UnitInterval":
        new = f"Real {n} {{low=0.0, high=1.0}}"
        ctx.deprecated("QVR092", written, new, node.span, [(node.span, new)])
    elif bracket:
        new = f"{c} " + " ".join(p.text for p in pos) + _bounds_text(kws)
        ctx.deprecated("QVR106", written, new, node.span, [(node.span, new)])
