"""`marginalize` blocks (spec part 2 §5.7, §2.3).

`marginalize z [: A] <- target [over=…, reduction=…]` with a body (the following steps
indented more than the keyword; an empty body is QVR119). The target is an inline family or a
kernel. The enumerable families (Categorical, Bernoulli, ContinuousBernoulli,
RelaxedBernoulli, and kernels with a finite codomain) sum `z` out over their atoms; any other
family makes `z` an ordinary latent scoped to the body (Warning QVR121), and then `reduction`
is QVR122.

The plates of `z` (`P_z`) are the `over` list (grouping plates; an annotation beside it must
be the value type, QVR123), else the annotation when Rule A reads it as a plate, else none.
The body holds `let`, `observe` and `score` steps, and draws or calls that do not depend on
`z` (QVR120). Each observe and score of the body is grouped: with `over`, by `[via=i, …]`
(one index data name per grouping plate, QVR123) or by carrying `P_z`; without `over`, by
carrying `P_z`. Arguments of a `via` observe that carry `P_z` are pulled back through the
index to the observe's rows (the index's open plate) before its plates are decided. After
the block, `z` and the body's `let`s that depend on it are out of scope (QVR012): they are
scoped to the block, so a later step or block may bind the same names again (`reopen`). A
`marginalize` inside a body is tier 2: checked, not runnable.

The program checker calls `check` for a `marginalize` step; what a block records for hover
and the runtime is in `ProgramInfo.marginal_blocks` (each block in order; `block_of` finds a
step's) and `ProgramInfo.marginals` (by variable name: the last block that binds it).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional

from ..diagnostics import Related
from ..syntax import ast as A
from ..syntax.span import Span
from .families import FAMILIES
from .objects import resolve_type
from .plates import Plating, base_of, plate_of, plating_of
from .templates import ABSTRACT
from .types import compatible, elem_of

ENUMERABLE = ("Categorical", "Bernoulli", "ContinuousBernoulli", "RelaxedBernoulli")
REDUCTIONS = ("logsumexp", "sum", "mean")


@dataclass
class Marginal:
    """One `marginalize` block: its family (or kernel), whether it is a finite sum, its atoms
    (`0 … K−1`, or `0.0, 1.0` for the Bernoulli-type families), its plates and grouping,
    its reduction, and whether it is nested (tier 2). In a template checked before its calls
    the atoms can be the elements of an object parameter of unknown size: `atoms_of` names it
    and `atoms` is empty (each call's check has the real atoms)."""

    name: str
    family: str
    enumerable: bool
    atoms: tuple = ()
    plates: tuple = ()
    grouped: bool = False
    reduction: str = "logsumexp"
    nested: bool = False
    out_of_scope: tuple = field(default_factory=tuple)
    step: Optional[A.MarginalizeStep] = field(default=None, repr=False, compare=False)
    rebound: tuple = ()  # the names of `out_of_scope` that a later step binds again
    # their `VarInfo`s here (the program's `variables` holds the later bindings)
    replaced: dict = field(default_factory=dict, repr=False, compare=False)
    atoms_of: Optional[str] = None

    def describe(self) -> str:
        if not self.enumerable:
            return f"latent of `{self.family}` (not summed out; scoped to its block)"
        atoms = f"0 … |{self.atoms_of}| − 1" if self.atoms_of else _atoms_text(self.atoms)
        text = f"summed out (atoms {atoms}) with {self.reduction}"
        if self.grouped:
            text += " per " + " × ".join(p.name for p in self.plates)
        if self.nested:
            text += "; not runnable (tier 2)"
        return text


def _atoms_text(atoms: tuple) -> str:
    if len(atoms) > 4 and all(isinstance(a, int) for a in atoms):
        return f"{atoms[0]} … {atoms[-1]}"
    return ", ".join(str(a) for a in atoms)


def check(checker, step: A.MarginalizeStep, outer: Optional[tuple] = None) -> None:
    """Check a `marginalize` step and its body in the program `checker` is checking;
    `outer` is the enclosing block's (name, grouping plates) for a nested block (tier 2)."""
    from .programs import _step_options
    ctx = checker.ctx
    z = step.name.text
    opts = _step_options(ctx, step)
    over = checker._plate_list(opts.get("over"))
    reduction = _reduction(ctx, opts.get("reduction"))
    nested = outer is not None
    if nested and over and outer[1] and not all(g in over for g in outer[1]):
        # tier 2: an inner group is the outer group or a product having it as a factor
        inner = " × ".join(g.name for g in over)
        ctx.error("QVR123", f"grouped `marginalize {z}`: inner group `{inner}` does not refine "
                  f"`{' × '.join(g.name for g in outer[1])}`", opts["over"].span,
                  related=(Related(outer[0].span, f"`{outer[0].text}` groups here"),))
    family, enumerable, where = _family(ctx, step.target)
    red_option = next((o for o in step.options.items if o.key.text == "reduction"), None) \
        if step.options is not None else None
    if not enumerable and family is not None:
        if red_option is not None:
            ctx.error("QVR122", "`reduction` needs an enumerable family (Categorical, "
                      f"Bernoulli, ContinuousBernoulli, RelaxedBernoulli); `{family}` is not",
                      red_option.span)
        else:
            ctx.warning("QVR121", f"`{family}` has no finite support: `{z}` is sampled (a latent "
                        "site), not summed out", where)
    annotation = step.annotation
    ann = resolve_type(ctx, annotation, finite_position=True) if annotation is not None else None
    ann_plate = (plate_of(ctx, annotation.name.text)
                 if isinstance(annotation, A.TypeRef) and ann is not None else None)
    checker.event, checker.sizing, checker.sized_by_annotation = None, None, False
    checker.args, checker.target_dep, checker.target_dom = [], False, None
    value = checker._target(step, step.target, False)
    if over:
        declared = over
        elem = elem_of(base_of(value)) if value is not None else None
        if ann is not None and elem is not None and not compatible(ann, elem):
            ctx.error("QVR123", f"grouped `marginalize {z}`: an annotation beside `over` must "
                      "be the value type", annotation.span)
    else:
        declared = checker._rule_a(step, value, ann, ann_plate, [], [])
    value = checker._step_value(step, value, declared, annotation)
    if not over and not declared and value is not None:
        # no declaration: the step's plates are its arguments' (§5.2, rule 3), one `z` per
        # element of them, and the body's observes are grouped by carrying them
        p = checker.env.resolve(plating_of(value))
        if p.open is not None:
            # rows of a data input not yet tied to a plate: which plate groups the body is
            # not known here (annotate `marginalize z : N`, or tie the rows first)
            carrier = next((node for node, q, _ in checker.args if q.open is not None), None)
            what = ctx.src(carrier.span) if carrier is not None else z
            ctx.error("QVR114", f"`{what}` varies over data rows but this step has no free "
                      "plate", carrier.span if carrier is not None else step.name.span)
        elif p.axes:
            declared = list(p.axes)
    ctx.record_type(step, value)
    checker._bind(step.name, "marginalize", value, step)
    atoms, atoms_of = _atoms(value, family)
    record = Marginal(z, family or step.target.name.text, enumerable, atoms,
                      tuple(declared), bool(over), reduction, nested, step=step,
                      atoms_of=atoms_of)
    checker.info.__dict__.setdefault("marginals", {})[z] = record
    checker.info.__dict__.setdefault("marginal_blocks", []).append(record)
    if not step.body:
        ctx.error("QVR119", f"`marginalize {z}` has no body (its steps must be indented more "
                  "than `marginalize`)", step.keyword.span)
        return
    depends = {z}
    for inner in step.body:
        _body_step(checker, step, inner, depends, tuple(declared), bool(over))
    last = step.body[-1]
    line = ctx.line_of(Span(last.span.end - 1, last.span.end)) if last.span.end > 0 else 0
    closed = [n for n in depends if n in checker.locals]
    for n in closed:
        checker.out_of_scope[n] = (line, step.name.span)
    record.out_of_scope = tuple(sorted(closed))


def blocks_of(info) -> list:
    """The `marginalize` blocks of program `info`, in order (none for a program without)."""
    return getattr(info, "marginal_blocks", None) or []


def marginals_of(info) -> dict:
    """Variable name -> the last `marginalize` block of program `info` that binds it."""
    return getattr(info, "marginals", None) or {}


def all_variables(info) -> list:
    """The `VarInfo` of every binding of program `info`: its `variables` and the bindings of
    closed blocks' names that a later step bound again."""
    if info is None:
        return []
    out = list(info.variables.values())
    for block in blocks_of(info):
        out.extend(block.replaced.values())
    return out


def block_of(info, step: A.MarginalizeStep) -> Optional[Marginal]:
    """The record of `marginalize` step `step` of program `info` (two blocks may bind the
    same name one after the other, so the name alone does not say which)."""
    for record in blocks_of(info):
        if record.step is step:
            return record
    return marginals_of(info).get(step.name.text)


def reopen(checker, x: str) -> None:
    """`x` belongs to a closed block and is bound again: the block's binding is finished.
    Its own unused check runs now (the program's check at its end sees the new binding
    only); the new binding then starts with a clean scope (no QVR016, no QVR012). The block
    records the name in `rebound` (the runtime names sites and values by variable)."""
    _, where = checker.out_of_scope.pop(x)
    entry = checker.locals.pop(x, None)
    uses = checker.uses.pop(x, 0)
    for record in reversed(blocks_of(checker.info)):
        if record.step is not None and record.step.name.span == where:
            record.rebound += (x,)
            if entry is not None:
                record.replaced[x] = entry[1]
            break
    if entry is None:
        return
    locals_, uses_ = checker.locals, checker.uses
    checker.locals, checker.uses = {x: entry}, {x: uses}
    try:
        checker._unused()
    finally:
        checker.locals, checker.uses = locals_, uses_


def _reduction(ctx, value) -> str:
    if value is None:
        return "logsumexp"
    if isinstance(value, A.OptName) and value.name.text in REDUCTIONS:
        return value.name.text
    ctx.error("QVR029", f"option `reduction` expects logsumexp, sum or mean, got "
              f"`{ctx.src(value.span)}`", value.span)
    return "logsumexp"


def _family(ctx, target: A.Target):
    """(family or kernel name, enumerable, range to report) of a `marginalize` target; the
    name is None when the target does not resolve (reported elsewhere)."""
    name = target.name.text
    sym = ctx.top.get(name)
    if sym is None and name in FAMILIES:
        return name, name in ENUMERABLE, target.name.span
    if sym is not None and sym.kind == "morphism":
        info = ctx.morphisms.get(sym.name)
        if info is None:
            return None, True, target.name.span
        finite = info.type is not None and info.type.cod is not None and info.type.cod.is_finite
        return name, finite or info.family in ENUMERABLE, target.name.span
    if sym is not None and sym.kind in ("define", "program"):
        t = sym.type
        finite = t is not None and getattr(t, "cod", None) is not None and t.cod.is_finite
        return name, finite, target.name.span
    return None, True, target.name.span


def enumerable_target(ctx, target: A.Target) -> bool:
    """Whether a `marginalize` target is summed out (unresolved targets count as such)."""
    return _family(ctx, target)[1]


def _atoms(value, family) -> tuple:
    """(the atoms, None), or ((), the object parameter) for the elements of a template's
    abstract parameter (its stand-in size is no list of atoms: never built, never shown)."""
    if value is None:
        return (), None
    e = elem_of(base_of(value))
    if family in ("ContinuousBernoulli", "RelaxedBernoulli"):
        return (0.0, 1.0), None
    if e.is_finite and len(e.leaves) == 1:
        if e.cardinality >= ABSTRACT:
            return (), e.name or "?"
        return tuple(range(e.cardinality)), None
    return (), None


def _reads(node, names: set) -> bool:
    """Whether an expression (or target argument list) reads any of `names`."""
    todo = [node]
    while todo:
        n = todo.pop()
        if n is None:
            continue
        if isinstance(n, (list, tuple)):
            todo.extend(n)
            continue
        if n.__class__ is A.Name:
            if n.text in names:
                return True
            continue
        for f in getattr(n, "__dataclass_fields__", ()):
            if f in ("span", "docs", "keyword"):
                continue
            v = getattr(n, f, None)
            if isinstance(v, (tuple, list)) or hasattr(v, "span"):
                todo.append(v)
    return False


def _body_step(checker, block: A.MarginalizeStep, step, depends: set, plates: tuple,
               grouped: bool) -> None:
    ctx = checker.ctx
    z = block.name.text
    cls = step.__class__
    if cls is A.MarginalizeStep:
        check(checker, step, outer=(block.name, plates if grouped else ()))
        return
    if cls is A.LetStep:
        checker._step(step)
        if _reads(step.value, depends):
            depends.add(step.name.text)
        return
    if cls in (A.ObserveStep, A.ObserveTildeStep, A.ScoreStep):
        _grouped_step(checker, block, step, plates, grouped)
        return
    # a draw or call: drawn once before the block, so it may not depend on `z`
    target = getattr(step, "target", None)
    if target is not None and _reads(target.args, depends):
        name = _first_name(step)
        ctx.error("QVR120", f"`{name}` depends on `{z}` inside its `marginalize` block; only "
                  "`let`, `observe` and `score` steps may depend on it",
                  Span(step.span.start, target.span.end))
    checker._step(step)


def _first_name(step) -> str:
    pattern = getattr(step, "pattern", None)
    if isinstance(pattern, A.Name):
        return pattern.text
    if isinstance(pattern, A.PatVar):
        return pattern.name.text
    if isinstance(pattern, A.PatTuple):
        return pattern.names[0].text
    return step.name.text


def _grouped_step(checker, block, step, plates: tuple, grouped: bool) -> None:
    """An observe or score of a body: grouped by `via`, by carrying `P_z`, or (no plates)
    into the single group."""
    ctx = checker.ctx
    z = block.name.text
    via = None
    for o in (getattr(step, "options", None) or A.Options((), step.span)).items:
        if o.key.text == "via":
            via = o
    if via is not None and not grouped:
        via = None  # `_step_options` reports it (QVR028): only a grouped body has `via`
    first = len(ctx.diagnostics)
    indices: list = []
    ungrouped = False  # QVR123: then no plate diagnostics besides it
    if via is not None:
        items = via.value.items if isinstance(via.value, A.OptList) else (via.value,)
        names = [i.name for i in items if isinstance(i, A.OptName)]
        if len(names) != len(items) or len(names) != len(plates):
            ungrouped = True
            ctx.error("QVR123", f"grouped `marginalize {z}`: `via` gives {len(items)} "
                      f"ind{'ex' if len(items) == 1 else 'ices'} but the block groups over "
                      f"{len(plates)} object{'s' if len(plates) != 1 else ''}", via.span)
            names = []

        def pull(args, names=names):
            """Arguments over `P_z` vary over the observe's rows instead: the rows of the
            `via` indices (one open plate)."""
            opened = None
            for n, g in zip(names, plates):
                var = checker._use(n, operand=True, expect=_index_type(g))
                t = var.type if var is not None else None
                o = plating_of(t).open if t is not None else None
                if o is None:
                    continue
                if opened is None:
                    opened = o
                else:
                    checker.env.unify(opened, o)
                indices.append(o)
            out = []
            for node, p, dep in args:
                if opened is not None and any(q in plates for q in p.axes):
                    axes = tuple(q for q in p.axes if q not in plates)
                    if p.open is not None:
                        checker.env.unify(opened, p.open)
                    p = Plating(axes, opened if p.open is None else p.open, p.row)
                out.append((node, p, dep))
            return out

        checker.pull_back = pull
    ctx.grouped_body = grouped
    try:
        checker._step(step)
    finally:
        checker.pull_back = None
        ctx.grouped_body = False
    if ungrouped:
        _drop_plate_diagnostics(ctx, first)
    if via is not None:
        if not indices and names:  # no argument was pulled back: still read the indices
            pull([])
        value = ctx.type_of(step)
        rows = plating_of(value).axes if value is not None else ()
        for o in indices:
            if rows and not checker.env.is_bound(o) and len(rows) == 1:
                checker.env.bind(o, rows[0], via.span)
        return
    if not plates:
        return
    value = ctx.type_of(step)
    if value is None:
        return
    have = plating_of(value).axes
    if all(p in have for p in plates):
        return
    _drop_plate_diagnostics(ctx, first)
    name = _first_name(step)
    need = " × ".join(p.name for p in plates)
    span = step.name.span if step.__class__ is A.ScoreStep else step.pattern.span
    ctx.error("QVR123", f"grouped `marginalize {z}`: `{name}` needs `via=` or the plate(s) "
              f"{need}" if grouped else f"`marginalize {z}`: `{name}` needs the plate(s) {need}",
              span, related=(Related(block.name.span, f"`{z}` varies over {need}"),))


def _drop_plate_diagnostics(ctx, first: int) -> None:
    """An observe that is not grouped is not checked further against its plates."""
    ctx.diagnostics[first:] = [d for d in ctx.diagnostics[first:]
                               if d.code not in ("QVR114", "QVR115")]


def _index_type(plate):
    from .types import ObjType
    return ObjType.fin(plate.size)


def out_of_scope(checker, name: A.Name):
    """QVR012 for a name a closed `marginalize` block ended."""
    line, where = checker.out_of_scope[name.text]
    checker.ctx.error("QVR012", f"undefined variable `{name.text}` (out of scope after line "
                      f"{line})", name.span,
                      related=(Related(where, f"`{name.text}` belongs to this block"),))
    return None
