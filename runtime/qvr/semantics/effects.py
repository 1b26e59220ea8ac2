"""`score` steps, call steps and program effects (spec part 2 §5.6, §1.2 row 15, §5.10).

* `score n = e` needs a real (or count) value of width 1, any plates (QVR124); its name is a
  log-density factor, exempt from the never-used warning.
* `let g <- f(a)` is a draw from a program or an application of a deterministic map; it
  takes no options (QVR028) and a stochastic target is QVR070 (bind it with `sample`).
* Every program gets its *effects*, a subset of {Sample, Score, Marginal}: `sample` of
  anything random performs `Sample`, `observe` and `score` perform `Score`, `marginalize`
  performs `Marginal` and its body's effects, and draws and calls of programs perform the
  callee's effects. A program option `[effects=[…]]` must cover them (QVR127); `Pure`
  stands alone and allows none.

The program checker (`programs`) calls in here; this module keeps no state of its own
besides what it stores on the `ProgramInfo` (`effects`).
"""
from __future__ import annotations

from typing import Optional

from ..diagnostics import Related
from ..syntax import ast as A
from ..syntax.span import Span
from .families import FAMILIES
from .plates import base_of
from .types import elem_of, is_seq

EFFECTS = ("Sample", "Score", "Marginal", "Pure")

_RANDOM_ROLES = ("kernel", "discretize", "latent", "observed")


# ------------------------------------------------------------------------------ score ----
def check_score(ctx, step: A.ScoreStep, t) -> None:
    """QVR124: a `score` value is `Real 1` or `Count 1` (any plates), not a sequence."""
    if t is None:
        return
    b = base_of(t)
    e = elem_of(b)
    if is_seq(b) or e.width != 1 or not e.is_continuous:
        ctx.error("QVR124", f"`score {step.name.text}` needs a real value of width 1, got "
                  f"`{t.display()}`", step.value.span)


# ------------------------------------------------------------------------- call steps ----
def check_call_target(ctx, step: A.CallStep) -> None:
    """A call step applies a program or a deterministic map; a family or a kernel is random
    and is drawn with `sample` (QVR070)."""
    name = step.target.name
    sym = ctx.local_top.get(name.text) or ctx.top.get(name.text)
    random = False
    if sym is None:
        random = name.text in FAMILIES
    elif sym.kind == "morphism":
        info = ctx.morphisms.get(sym.name)
        random = info is not None and info.role not in ("deterministic", "embed")
    if random:
        ctx.error("QVR070", f"`{name.text}` is stochastic; bind it with `sample`", name.span)


# ---------------------------------------------------------------------------- effects ----
def program_options(ctx, d: A.ProgramDecl):
    """Validate a program's options: `effects=[…]` (QVR029 for other values, QVR127 for
    `Pure` beside another effect); any other key is QVR028. Returns the `effects` option
    and the declared effects as a pair (None when not declared or invalid)."""
    if d.options is None:
        return None
    found = None
    for o in d.options.items:
        if o.key.text != "effects":
            ctx.error("QVR028", f"unknown option `{o.key.text}` for a program; allowed: "
                      "effects", o.key.span)
            continue
        value = o.value
        items = value.items if isinstance(value, A.OptList) else (value,)
        names = []
        for item in items:
            if not isinstance(item, A.OptName) or item.name.text not in EFFECTS:
                ctx.error("QVR029", f"option `effects` expects a list of Sample, Score, "
                          f"Marginal, Pure, got `{ctx.src(item.span)}`", item.span)
                names = None
                break
            names.append(item.name.text)
        if names is None:
            continue
        if "Pure" in names and len(names) > 1:
            ctx.error("QVR127", "`Pure` must stand alone in `effects`", value.span)
            continue
        found = (o, set(names) - {"Pure"})
    return found


def step_effects(ctx, step) -> set:
    """The effects one step performs (a `marginalize` block with its body's)."""
    cls = step.__class__
    if cls in (A.ObserveStep, A.ObserveTildeStep, A.ScoreStep):
        return {"Score"}
    if cls is A.LetStep:
        return set()
    if cls is A.MarginalizeStep:
        # a family without finite support makes the variable a latent: drawn, not summed
        out = {"Marginal"} | (set() if _enumerable(ctx, step) else {"Sample"})
        for inner in step.body:
            out |= step_effects(ctx, inner)
        return out
    target = getattr(step, "target", None)
    if target is None:
        return set()
    return target_effects(ctx, target.name.text)


def _enumerable(ctx, step) -> bool:
    from .marginalize import enumerable_target
    return enumerable_target(ctx, step.target)


def target_effects(ctx, name: str) -> set:
    """The effects of drawing from (or calling) the target named `name`."""
    sym = ctx.local_top.get(name) or ctx.top.get(name)
    if sym is None:
        return {"Sample"} if name in FAMILIES else set()
    if sym.kind == "program":
        info = ctx.programs.get(sym.name)
        return set(getattr(info, "effects", ()) or ())
    if sym.kind == "morphism":
        info = ctx.morphisms.get(sym.name)
        return {"Sample"} if info is not None and info.role in _RANDOM_ROLES else set()
    if sym.kind == "define":
        from .programs import _expr_has_density  # programs imports this module
        info = ctx.defines.get(sym.name)
        return {"Sample"} if info is not None and _expr_has_density(ctx, info.decl.expr) \
            else set()
    if sym.kind == "parameter":  # a `Mor[A, B]` template parameter: any effect may occur
        return set()
    return set()


def finish(ctx, d: A.ProgramDecl, info, declared: Optional[tuple]) -> None:
    """Record the program's effects on `info` and check them against `[effects=…]`."""
    total: set = set()
    offenders = []
    for step in d.steps:
        eff = step_effects(ctx, step)
        total |= eff
        offenders.append((step, eff))
    info.effects = frozenset(total)
    if declared is None:
        return
    option, allowed = declared
    for step, eff in offenders:
        extra = sorted(eff - allowed, key=EFFECTS.index)
        if not extra:
            continue
        shown = ", ".join(sorted(allowed, key=EFFECTS.index)) if allowed else "Pure"
        where = _step_name(step)
        ctx.error("QVR127", f"`{d.name.text}` declares effects [{shown}] but `{where.text}` "
                  f"(line {ctx.line_of(where.span)}) performs `{extra[0]}`", _head(step),
                  related=(Related(option.span, "effects declared here"),))


def _head(step) -> Span:
    """A step's range without a `marginalize` block's body."""
    if step.__class__ is not A.MarginalizeStep:
        return step.span
    return Span(step.span.start, (step.options or step.target).span.end)


def _step_name(step) -> A.Name:
    pattern = getattr(step, "pattern", None)
    if isinstance(pattern, A.Name):
        return pattern
    if isinstance(pattern, A.PatVar):
        return pattern.name
    if isinstance(pattern, A.PatTuple):
        return pattern.names[0]
    return step.name
