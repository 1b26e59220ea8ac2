"""`marginalize` blocks at run time (spec part 2 §6.4, §6.6): exact enumeration.

For a block `marginalize z [: A] <- F(…) [over=G, reduction=ρ]` whose family is enumerable
(Categorical: atoms `0 … K−1`; Bernoulli: `0, 1`; ContinuousBernoulli and RelaxedBernoulli:
`0.0, 1.0` with the Bernoulli masses of the same `probs`/`logits`), the body runs once per atom
`k` with `z` filled with `k` over its plates `P_z`, and

    S[b, g, k] = log π(g, k) + Σ_m Σ_{n in group g} ℓ_m(n, k)

where `ℓ_m` is the per-element log density of observe `m` (or the value of score `m`). The
elements go to their group by the observe's `via` indices (flattened row-major over a product
group, accumulated with `index_add_`), by identity (the observe carries `P_z`), or all into one
group (`P_z = []`). The block records a `factor` site named `z` whose value is `ρ_k S[b, g, k]`
`(B, |G|)` and whose log-density is its sum over groups; the body's observes are recorded as
`observed` sites with log-density 0 (their density is in the factor); the body's `let`s record
nothing (they exist once per atom), and those that do not depend on `z` stay in scope after
the block.

Without all observations (`rsample`, `trace`), `z` is drawn from its prior, the body runs once
with it to sample the missing observes, and the factor is then evaluated at the values obtained.

A family without finite support (QVR121) makes `z` an ordinary latent site over `P_z`, and
the body runs once as ordinary steps (`LatentBlockPlan`).

A kernel target with a finite codomain gives the mass from its own log-probabilities at the
atoms, and a kernel observe in the body its per-element log density: their arguments are laid
out on the plates (`P_z`, or the observe's) and folded into the batch; an argument-less target
reads the program input. The block's modules are registered on the program (`modules`), so
kernels are learned.

Draws and calls in a body do not depend on `z`: `hoist` moves them before their block, where
they run once as ordinary steps under their own names. Not run here (a located
`NotSupportedError` when the program is built): nested blocks (tier 2), a program as target or
observed in a body, an argument-less kernel observe, tuple observes in a body, and a block whose
names a later step binds again (the checker allows it; sites and values are named by variable).

`plan` is the builder's `marginalize_plan` hook; the program runs a plan through its `run`
method.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Optional

import torch
import torch.nn.functional as F

from ..semantics.marginalize import block_of
from ..syntax import ast as A
from . import families as FAM
from . import kernels as K
from . import values as V
from .base import _support_of_type
from .program import DrawPlan, LetPlan, ScorePlan, _concat, _spec_plates
from .record import Recorder, join
from .trace import DETERMINISTIC, FACTOR, LATENT, OBSERVED, SiteSpec

# the steps a block's body runs per atom; its other steps (draws, calls) are hoisted
_BODY_STEPS = (A.LetStep, A.ScoreStep, A.ObserveStep, A.ObserveTildeStep, A.MarginalizeStep)
BERNOULLI_TYPE = ("Bernoulli", "ContinuousBernoulli", "RelaxedBernoulli")
_PROB_EPS = 1e-7


@dataclass
class BodyObserve:
    """An observe of a block's body: its draw plan, its module (an inline family or a kernel),
    and the `via` index names (one per grouping plate; empty for identity or single-group
    grouping)."""

    plan: DrawPlan
    module: object
    via: tuple = ()
    kernel: Optional[str] = None    # a kernel observe: its submodule on the program
    ranks: tuple = ()               # element ranks of the kernel's arguments (0: an index)
    all_finite: bool = False


@dataclass
class MarginalizePlan:
    var: str
    family: str
    atoms: tuple
    zkeys: tuple                    # P_z: the plates of `z` (the groups when grouped)
    grouped: bool
    reduction: str
    target: dict                    # parameter -> (evaluator, plates of the argument)
    body: list = field(default_factory=list)   # LetPlan | ScorePlan | BodyObserve
    kept: tuple = ()                # body lets that do not depend on `z`: in scope after the block
    kernel: Optional[str] = None    # a kernel target: its submodule on the program (`modules`)
    modules: dict = field(default_factory=dict)
    ranks: tuple = ()               # element ranks of the kernel's arguments (0: an index)
    all_finite: bool = False

    # -- the log-mass of the atoms -------------------------------------------------------------
    def log_mass(self, prog, x, env, B) -> torch.Tensor:
        """`log π` laid out `(B, |P_z|…, K)`."""
        if self.kernel is not None:
            return self._kernel_log_mass(prog, x, env, B)
        params = {k: _on_plates(prog, fn(env), pk, self.zkeys, env, B) for k, (fn, pk) in self.target.items()}
        if self.family == "Categorical":
            if "logits" in params:
                return torch.log_softmax(params["logits"], dim=-1)
            p = params["probs"].clamp(min=_PROB_EPS)
            return torch.log(p / p.sum(-1, keepdim=True))
        if "logits" in params:
            logit = params["logits"]
            return torch.cat([F.logsigmoid(-logit), F.logsigmoid(logit)], dim=-1)
        q = params["probs"].clamp(_PROB_EPS, 1 - _PROB_EPS)
        return torch.cat([torch.log1p(-q), torch.log(q)], dim=-1)

    def _kernel_log_mass(self, prog, x, env, B) -> torch.Tensor:
        """A kernel target's log-probability of each atom. Its arguments are laid out on `P_z`
        and the plate axes folded into the batch (part 2 §6.3), so each element is scored on
        its own; an argument-less target reads the program input, shared by the elements."""
        module = getattr(prog, self.kernel)
        sizes = prog._sizes(self.zkeys, env)
        n = math.prod(sizes)
        if not self.target:
            inp = x.unsqueeze(1).expand(B, n, *x.shape[1:]).reshape(B * n, *x.shape[1:]) if self.zkeys else x
        else:
            values = [(fn(env), pk) for fn, pk in self.target.values()]
            inp = _folded_input(prog, values, self.ranks, self.all_finite, self.zkeys, sizes, B)
        scratch = Recorder()  # scoring a kernel records nothing of its own
        lps = []
        for j in range(len(self.atoms)):
            target = torch.full((inp.shape[0],), j, dtype=torch.long, device=inp.device)
            _, lp = module.run(inp, scratch, "", target)
            lps.append(lp.reshape(B, *sizes))
        return torch.stack(lps, dim=-1)

    def z_value(self, j, B, sizes, device, dtype):
        """`z` filled with atom `j` (an int64 index, or a float `(…, 1)` for the Bernoulli-type
        continuous families); `j` is an int or a `(B, sizes…)` tensor of atom positions."""
        if self.family in ("ContinuousBernoulli", "RelaxedBernoulli"):
            if isinstance(j, int):
                return torch.full((B, *sizes, 1), float(self.atoms[j]), dtype=dtype, device=device)
            return j.to(dtype).unsqueeze(-1)
        if isinstance(j, int):
            return torch.full((B, *sizes), j, dtype=torch.long, device=device)
        return j.long()

    def specs(self, path, seq=False) -> list:
        """The block's sites (part 2 §6.6): the `factor` site `z` (per-group log-weights), then
        the body's observes."""
        out = [SiteSpec(join(path, self.var), FACTOR, (), None, seq,
                        tuple((V.key_name(k), k.size) for k in self.zkeys), None)]
        for o in self.body:
            if isinstance(o, BodyObserve):
                t = o.plan.var_types[0]
                out.append(SiteSpec(join(path, o.plan.vars[0]), OBSERVED, V.event_shape(t),
                                    o.module.support, seq, *_spec_plates(t)))
        return out

    # -- running ---------------------------------------------------------------------------------
    def run(self, prog, x, env, rec, path):
        B = x.shape[0]
        device, dtype = x.device, prog.dtype
        sizes = prog._sizes(self.zkeys, env)
        log_pi = self.log_mass(prog, x, env, B).expand(B, *sizes, len(self.atoms))
        names = {id(o): join(path, o.plan.vars[0]) for o in self.body if isinstance(o, BodyObserve)}
        rec.reserve(join(path, self.var))  # the factor site precedes the body's observes
        for n in names.values():
            rec.reserve(n)
        observed = {}
        missing = []
        for o in self.body:
            if isinstance(o, BodyObserve):
                value = prog._supplied_value(o.plan, [names[id(o)]], rec, o.module)  # fitted, checked
                if value is None:
                    missing.append(o)
                else:
                    observed[id(o)] = value
        if missing:  # draw z from its prior and the missing observes given it
            j = torch.distributions.Categorical(logits=log_pi).sample()
            local = dict(env)
            local[self.var] = self.z_value(j, B, sizes, device, dtype)
            for o in self.body:
                if isinstance(o, LetPlan):
                    local[o.var] = _let(prog, o, local, B)
                elif isinstance(o, BodyObserve) and id(o) not in observed and o.kernel is not None:
                    observed[id(o)], _ = self._kernel_observe(prog, o, local, None, B)
                elif isinstance(o, BodyObserve) and id(o) not in observed:
                    inp = self._observe_inputs(prog, o, local, B)
                    observed[id(o)], _ = o.module.run(inp, rec, names[id(o)], None)
        S = []
        for j in range(len(self.atoms)):
            local = dict(env)
            local[self.var] = self.z_value(j, B, sizes, device, dtype)
            s = log_pi[..., j].reshape(B, -1)
            for o in self.body:
                if isinstance(o, LetPlan):
                    local[o.var] = _let(prog, o, local, B)
                elif isinstance(o, ScorePlan):
                    value = o.fn(local)
                    keys = V.plate_keys(o.type)
                    value = prog._fill_plates(value, keys, local, B)
                    per_element = value.sum(tuple(range(1 + len(keys), value.dim())))
                    s = s + self._group(per_element, keys, local, B, ())
                else:
                    lp = self._observe_log_density(prog, o, local, observed[id(o)], B)
                    s = s + self._group(lp, o.plan.keys, local, B, o.via)
            S.append(s)
        env.update((v, local[v]) for v in self.kept)  # equal for every atom
        S = torch.stack(S, dim=-1)
        if self.reduction == "logsumexp":
            value = torch.logsumexp(S, dim=-1)
        elif self.reduction == "sum":
            value = S.sum(-1)
        else:
            value = S.mean(-1)
        rec.record(join(path, self.var), value, value.sum(-1), FACTOR, None, (), False)
        for o in self.body:
            if isinstance(o, BodyObserve):
                y = observed[id(o)]
                env[o.plan.vars[0]] = y
                rec.record(names[id(o)], y, torch.zeros(B, device=device), OBSERVED,
                           o.module.support, o.module.event_shape, False)

    def _observe_inputs(self, prog, o: BodyObserve, env, B) -> dict:
        """The observe's family arguments on its plates; with `via`, an argument over the
        grouping plates is first pulled back to the observe's rows (part 2 §5.7)."""
        inp = {}
        for k, fn in o.plan.inline.items():
            v, pk = fn(env), tuple(o.plan.param_keys[k])
            if o.via and any(p in self.zkeys for p in pk) and v.dim() > 1:
                v, pk = self._pull_back(prog, v, pk, o, env)
            inp[k] = _on_plates(prog, v, pk, o.plan.keys, env, B)
        return inp

    def _pull_back(self, prog, v, pk, o, env):
        other = tuple(p for p in pk if p not in self.zkeys)
        v = V.to_plates(v, pk, other + self.zkeys)
        n = len(other)
        gsizes = [g.size for g in self.zkeys]
        v = v.expand(*v.shape[:1 + n], *gsizes, *v.shape[1 + n + len(gsizes):])
        v = v.reshape(*v.shape[:1 + n], -1, *v.shape[1 + n + len(gsizes):])
        v = v.index_select(1 + n, self._flat_index(o.via, env))
        return v, other + (o.plan.keys[-1],)

    def _flat_index(self, via, env) -> torch.Tensor:
        """The group of each row of a `via` observe, row-major over a product group."""
        flat = None
        for name, g in zip(via, self.zkeys):
            i = env[name].reshape(-1).long()
            flat = i if flat is None else flat * g.size + i
        return flat

    def _kernel_observe(self, prog, o, env, y, B):
        """A kernel observe, elementwise: its arguments (pulled back through `via`) laid out on
        the observe's plates and folded into the batch; returns the value (drawn when `y` is
        None) and the per-element log density `(B, plates…)`."""
        keys = tuple(o.plan.keys)
        sizes = prog._sizes(keys, env)
        values = []
        for fn, pk, rank in zip(o.plan.args, o.plan.param_keys, o.ranks):
            v, pk = fn(env), tuple(pk)
            if o.via and any(p in self.zkeys for p in pk):
                v = v.unsqueeze(-1) if rank == 0 else v
                v, pk = self._pull_back(prog, v, pk, o, env)
                v = v.squeeze(-1) if rank == 0 else v
            values.append((v, pk))
        inp = _folded_input(prog, values, o.ranks, o.all_finite, keys, sizes, B)
        n = math.prod(sizes)
        target = None if y is None else y.expand(B, *y.shape[1:]).reshape(B * n, *y.shape[1 + len(keys):])
        out, lp = getattr(prog, o.kernel).run(inp, Recorder(), "", target)
        return out.reshape(B, *sizes, *out.shape[1:]), lp.reshape(B, *sizes)

    def _observe_log_density(self, prog, o, env, y, B) -> torch.Tensor:
        """ℓ(n, k): the per-element log density `(B, plates…)` of the observed value."""
        if o.kernel is not None:
            return self._kernel_observe(prog, o, env, y, B)[1]
        inp = self._observe_inputs(prog, o, env, B)
        if torch.is_grad_enabled():
            inp = {k: _zero_nan_gradient(v) for k, v in inp.items()}
        return self._element_log_density(o, inp, y)

    @staticmethod
    def _element_log_density(o, inp, y) -> torch.Tensor:
        spec = o.module.spec
        dist = FAM.make_distribution(spec, FAM.clamp_arguments(spec, inp))
        if spec.name == "Categorical":
            return dist.log_prob(V.joint_index(y.long(), V.elem_of(o.module.cod)))
        if spec.name == "Bernoulli" and V.element_rank(o.module.cod) == 0:
            return FAM.event_log_prob(spec, dist, y.long().unsqueeze(-1))
        return FAM.event_log_prob(spec, dist, y)

    def _group(self, lp, keys, env, B, via) -> torch.Tensor:
        """Per-element values `(B, plates…)` summed into their groups: `(B, |G|)`."""
        keys = tuple(keys)
        if not self.zkeys:
            return lp.reshape(B, -1).sum(-1, keepdim=True) if lp.dim() > 1 else lp.reshape(B, 1)
        if via:  # a `via` observe has one plate, its rows (QVR114 otherwise)
            G = math.prod(g.size for g in self.zkeys)
            out = torch.zeros(B, G, dtype=lp.dtype, device=lp.device)
            return out.index_add(1, self._flat_index(via, env), lp.expand(B, -1))
        other = tuple(p for p in keys if p not in self.zkeys)
        lp = V.to_plates(lp.expand(B, *lp.shape[1:]), keys, self.zkeys + other)
        if other:
            lp = lp.sum(tuple(range(1 + len(self.zkeys), lp.dim())))
        return lp.reshape(B, -1)


@dataclass
class LatentBlockPlan:
    """A block over a family without finite support (QVR121): `z` is an ordinary latent site
    (plates `P_z`) and the body runs once as ordinary steps (lets, scores, observes with their
    own densities)."""

    latent: BodyObserve
    body: list = field(default_factory=list)   # LetPlan | ScorePlan | BodyObserve
    modules: dict = field(default_factory=dict)

    def specs(self, path, seq=False) -> list:
        out = []
        for o in [self.latent] + self.body:
            if isinstance(o, BodyObserve):
                t = o.plan.var_types[0]
                out.append(SiteSpec(join(path, o.plan.vars[0]), o.plan.kind, V.event_shape(t),
                                    o.module.support, seq, *_spec_plates(t)))
            else:
                kind = FACTOR if isinstance(o, ScorePlan) else DETERMINISTIC
                out.append(SiteSpec(join(path, o.var), kind, V.event_shape(o.type),
                                    _support_of_type(o.type), seq, *_spec_plates(o.type)))
        return out

    def run(self, prog, x, env, rec, path):
        B = x.shape[0]
        for o in [self.latent] + self.body:
            if isinstance(o, BodyObserve):
                prog._draw(o.plan, x, env, rec, path)  # an ordinary step (its module is registered)
            elif isinstance(o, ScorePlan):
                keys = V.plate_keys(o.type)
                value = prog._fill_plates(o.fn(env), keys, env, B)
                env[o.var] = value
                rec.record(join(path, o.var), value, V.reduce_to_batch(value), FACTOR,
                           _support_of_type(o.type), V.event_shape(o.type), False)
            else:
                env[o.var] = value = _let(prog, o, env, B)
                rec.record(join(path, o.var), value, None, DETERMINISTIC, _support_of_type(o.type),
                           V.event_shape(o.type), False)


def _folded_input(prog, values, ranks, all_finite, keys, sizes, B) -> torch.Tensor:
    """A kernel's input for every element of plates `keys`: each argument `(value, its
    plates)` laid out on `keys`, expanded and folded into the batch `(B·Π sizes, …)` (part 2
    §6.3), then concatenated as a draw's arguments are."""
    n = math.prod(sizes)
    cols = []
    for (v, pk), rank in zip(values, ranks):
        v = v.unsqueeze(-1) if rank == 0 else v   # an index as one column while laid out
        v = v.view(1, v.shape[-1]) if v.dim() == 1 else v
        if keys:
            v = V.to_plates(v, tuple(pk), tuple(keys))
            tail = v.shape[1 + len(keys):]
            v = v.expand(B, *sizes, *tail).reshape(B * n, *tail)
        else:
            v = v.expand(B, *v.shape[1:])
        cols.append(v.squeeze(-1) if rank == 0 else v)
    return cols[0] if len(cols) == 1 else _concat(cols, list(ranks), all_finite, prog.dtype)


def _zero_nan_gradient(v: torch.Tensor) -> torch.Tensor:
    """`v` whose gradient is 0 where the family's backward gives NaN. An atom can put a
    parameter on the edge of its support (`Poisson(rate=open * rate)` at `open = 0`): there the
    element's log density is 0 or −inf and its derivative `0/0` or `0·∞`, though the atom's
    weight in the reduction (or the chain rule through `open`) makes the true contribution 0;
    without this every parameter upstream would get a NaN gradient."""
    if not v.requires_grad:
        return v
    v = v.view_as(v)
    v.register_hook(lambda g: torch.nan_to_num(g, nan=0.0, posinf=math.inf, neginf=-math.inf))
    return v


def _let(prog, plan: LetPlan, env, B):
    value = plan.fn(env)
    keys = V.plate_keys(plan.type)
    if keys:
        return prog._fill_plates(value, keys, env, B)
    return value.expand(B, value.shape[-1]) if value.dim() == 1 else value


def _on_plates(prog, v, pkeys, keys, env, B):
    """An argument laid out `(B, sizes of keys…, w)` (see `ProgramModule._param_on_plates`)."""
    if not keys and not pkeys:
        return v.expand(B, v.shape[-1]) if v.dim() == 1 else v
    return prog._param_on_plates(v, pkeys, keys, env, B)


# ------------------------------------------------------------------------------ building ----
def plan(builder, a, info, step: A.MarginalizeStep, compiler):
    """The plan of a `marginalize` step (the builder's `marginalize_plan` hook); `a` is the
    analysis its program is built from (inside a template instance, the instance's view: its
    types and its bound `Mor` parameters)."""
    from .build import _arg_value, pattern_vars

    z = step.name.text
    marginal = block_of(info, step)

    def refuse(node, what):
        raise builder.unsupported(node.span, what)

    if marginal is not None and marginal.rebound:
        # the trace names a block's site, and the program its values, by variable (§6.6)
        names = ", ".join(f"`{n}`" for n in marginal.rebound)
        refuse(step.name, f"{names} of `marginalize {z}` {'is' if len(marginal.rebound) == 1 else 'are'}"
                          " bound again after its block: running a program that reuses a block's "
                          "names is not supported (their sites and values would share a name); "
                          "rename them")

    inner = next((s for s in step.body if isinstance(s, A.MarginalizeStep)), None)
    if marginal is None or marginal.nested or inner is not None:
        where = inner if inner is not None else step
        tier = getattr(builder, "refuse_tier", None)  # located, with the construct and tier
        if tier is not None:
            tier(where.keyword.span, f"a nested `marginalize` (inside `{z}`'s block)", 2)
        refuse(where.keyword, f"a nested `marginalize` (inside `{z}`'s block) is tier 2: checked, "
                              "not run")
    inline = a.inline_info(step)

    def var_type(v):
        vi = info.variables.get(v)
        return vi.type if vi is not None else None

    def plates_of(node):
        return V.plate_keys(a.type_of(node))

    kept = tuple(s.name.text for s in step.body
                 if isinstance(s, A.LetStep) and s.name.text not in marginal.out_of_scope)
    if inline is None:
        out = _kernel_plan(builder, a, step, marginal, compiler, plates_of, refuse, _arg_value, kept)
    elif marginal.enumerable:
        if marginal.family not in ("Categorical",) + BERNOULLI_TYPE:
            refuse(step.target, f"`marginalize {z}` over `{marginal.family}` is not run by this runtime")
        target = {k: (compiler.compile(_arg_value(v)), plates_of(_arg_value(v)))
                  for k, v in inline.bound.items()}
        out = MarginalizePlan(z, marginal.family, tuple(marginal.atoms), tuple(marginal.plates),
                              marginal.grouped, marginal.reduction, target, kept=kept)
    else:
        t = var_type(z)
        low = _literal(inline.bound.get("low"), _arg_value)
        high = _literal(inline.bound.get("high"), _arg_value)
        module = K.InlineFamily(inline.family, inline.width, inline.value_type or t, low=low, high=high)
        target = {k: (compiler.compile(_arg_value(v)), plates_of(_arg_value(v)))
                  for k, v in inline.bound.items()}
        latent = DrawPlan([z], f"_step_{z}", LATENT, [t],
                          inline={k: fn for k, (fn, _) in target.items()},
                          keys=V.plate_keys(t), row=V.row_plate(t),
                          param_keys={k: pk for k, (_, pk) in target.items()})
        out = LatentBlockPlan(BodyObserve(latent, module))
    for inner in step.body:
        if isinstance(inner, (A.LetStep, A.ScoreStep)):
            kind = LetPlan if isinstance(inner, A.LetStep) else ScorePlan
            var = inner.name.text
            out.body.append(kind(var, compiler.compile(inner.value), var_type(var)))
        elif isinstance(inner, (A.ObserveStep, A.ObserveTildeStep)):
            out.body.append(_observe(builder, a, inner, compiler, var_type, plates_of, refuse,
                                     pattern_vars, _arg_value))
        # draws and calls were hoisted before the block (`hoist`)
    observes = [o for o in out.body if isinstance(o, BodyObserve)]
    if isinstance(out, LatentBlockPlan):
        observes.append(out.latent)
    out.modules.update((o.plan.attr, o.module) for o in observes)  # the program registers them
    return out


def hoist(steps) -> list:
    """A program's steps with the draws and calls of each `marginalize` body moved before
    their block (they do not depend on `z`, QVR120, and are drawn once, part 2 §5.7)."""
    out = []
    for step in steps:
        if isinstance(step, A.MarginalizeStep):
            out += [s for s in step.body if not isinstance(s, _BODY_STEPS)]
        out.append(step)
    return out


def _kernel_plan(builder, a, step, marginal, compiler, plates_of, refuse, _arg_value, kept):
    """A block whose target is a kernel with a finite codomain: its log-probabilities at the
    atoms are the mass (part 2 §6.4); the kernel is a submodule of the program."""
    z = step.name.text
    name = step.target.name.text
    module = builder.resolve_target(a, name)
    if not marginal.enumerable or not marginal.atoms or not module.is_random or module.is_program:
        refuse(step.target, f"`marginalize {z}` over `{name}` is not run by this runtime (a kernel "
                            "target needs a single finite codomain)")
    arg_nodes = [_arg_value(x) for x in (step.target.args or ())]
    arg_types = [a.type_of(x) for x in arg_nodes]
    target = {i: (compiler.compile_arg(x, t), plates_of(x))
              for i, (x, t) in enumerate(zip(arg_nodes, arg_types))}
    attr = f"_marginal_{z}"
    return MarginalizePlan(z, name, tuple(marginal.atoms), tuple(marginal.plates), marginal.grouped,
                           marginal.reduction, target, kept=kept, kernel=attr, modules={attr: module},
                           ranks=tuple(V.element_rank(t) for t in arg_types),
                           all_finite=all(V.is_index_type(t) for t in arg_types))


def _observe(builder, a, step, compiler, var_type, plates_of, refuse, pattern_vars, _arg_value):
    inline = a.inline_info(step)
    vars_ = pattern_vars(step)
    if len(vars_) != 1:
        refuse(step, "a tuple observe inside a `marginalize` block is not run by this runtime")
    t = var_type(vars_[0])
    via = _via(step)
    if inline is None:
        module = builder.resolve_target(a, step.target.name.text)
        if not step.target.args or not module.is_random or module.is_program:
            refuse(step, "inside a `marginalize` block this runtime runs observes of inline families "
                         "and of kernels with arguments")
        arg_nodes = [_arg_value(x) for x in step.target.args]
        arg_types = [a.type_of(x) for x in arg_nodes]
        attr = f"_step_{vars_[0]}"
        plan = DrawPlan(vars_, attr, OBSERVED, [t], args=[compiler.compile_arg(x, at) for x, at in
                                                          zip(arg_nodes, arg_types)],
                        arg_types=arg_types, keys=V.plate_keys(t), row=V.row_plate(t),
                        param_keys=[plates_of(x) for x in arg_nodes])
        return BodyObserve(plan, module, via, kernel=attr,
                           ranks=tuple(V.element_rank(at) for at in arg_types),
                           all_finite=all(V.is_index_type(at) for at in arg_types))
    low = _literal(inline.bound.get("low"), _arg_value)
    high = _literal(inline.bound.get("high"), _arg_value)
    module = K.InlineFamily(inline.family, inline.width, inline.value_type or t, low=low, high=high)
    evals = {k: compiler.compile(_arg_value(v)) for k, v in inline.bound.items()}
    pkeys = {k: plates_of(_arg_value(v)) for k, v in inline.bound.items()}
    plan = DrawPlan(vars_, f"_step_{vars_[0]}", OBSERVED, [t], inline=evals, keys=V.plate_keys(t),
                    row=V.row_plate(t), param_keys=pkeys)
    return BodyObserve(plan, module, via)


def _via(step) -> tuple:
    """The index names of an observe's `via` option (none without it)."""
    for o in (step.options.items if getattr(step, "options", None) is not None else ()):
        if o.key.text == "via":
            items = o.value.items if isinstance(o.value, A.OptList) else (o.value,)
            return tuple(i.name.text for i in items)
    return ()


def _literal(node, _arg_value):
    node = _arg_value(node) if node is not None else None
    return float(node.value.value) if isinstance(node, A.Lit) else None

