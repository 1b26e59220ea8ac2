"""Program modules (spec §5.7): monadic step sequences compiled to a plan at build time.

A `ProgramModule` holds its steps as small plan objects (`DrawPlan`, `LetPlan`) whose argument
evaluators are closures compiled once from the AST (`arith.py`), so a run is a straight loop
over the plan with one environment dict. Every sample/observe step's module is the submodule
`_step_<v>` (v = first pattern variable); a morphism drawn twice is the same module object.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Optional, Sequence

import torch

from ..errors import ShapeError
from ..semantics.types import SeqType, elem_of
from . import values as V
from .arith import OWNER, PLACE
from .base import RuntimeModule, _support_of_type, fit_value
from .record import Recorder, join
from .trace import DETERMINISTIC, OBSERVED, SiteSpec

Evaluator = Callable[[dict], torch.Tensor]


@dataclass
class DrawPlan:
    """A sample/observe/draw step. `args` is None for an argument-less named target (the
    program input is passed); `inline` maps family parameters to evaluators instead."""

    vars: list[str]
    attr: str                       # submodule name `_step_<v>`
    kind: str                       # LATENT or OBSERVED (for a random target)
    var_types: list                 # value type of each pattern variable
    args: Optional[list[Evaluator]] = None
    arg_types: Optional[list] = None
    inline: Optional[dict] = None   # {param: evaluator}
    arg_key: Optional[tuple] = None  # the argument variables when every argument is a plain
                                     # variable: equal keys give equal inputs (no rebinding)
    unread: tuple = ()               # positions of tuple-pattern variables nothing later reads

    def __post_init__(self):
        if self.arg_types is not None:
            # precomputed concatenation layout (hot path: no type queries per call)
            self.arg_ranks = [V.element_rank(t) for t in self.arg_types]
            self.arg_all_finite = all(V.is_index_type(t) for t in self.arg_types)


@dataclass
class LetPlan:
    var: str
    fn: Evaluator
    type: object


@dataclass
class ReturnPlan:
    vars: list[str]
    labels: list[str]
    types: list


_INPUTS = "\0inputs"  # env key: draw inputs already concatenated in this run


def _concat(values, ranks, all_finite, dtype):
    cols = []
    for v, r in zip(values, ranks):
        c = v.unsqueeze(-1) if r == 0 else v
        cols.append(c if all_finite or c.dtype == dtype else c.to(dtype))
    return torch.cat(V.broadcast_time(cols), dim=-1)


class ProgramModule(RuntimeModule):
    is_program = True
    label = "program"

    def __init__(self, name: str, dom, cod, *, params: Sequence[str], binding: str,
                 param_types: Sequence, steps: Sequence, ret: ReturnPlan):
        super().__init__(dom, cod)
        self.qvr_name = name
        self.param_names = list(params)
        self.binding = binding
        self.param_types = list(param_types)
        self.plan = list(steps)
        self.ret = ret
        self._param_widths = [elem_of(t).width for t in self.param_types]
        self._param_ranks = [V.element_rank(t) for t in self.param_types]
        self._dom_rank = V.element_rank(dom)

    # -- running ----------------------------------------------------------------------------
    def run(self, x, rec, path, target=None):
        out, _ = self.execute(x, rec, path)
        return out, None

    def execute(self, x, rec: Recorder, path: str):
        """Run the plan; returns (output, environment)."""
        lead = x.dim() - self._dom_rank
        if lead > 1 and not isinstance(self.dom, SeqType):
            return self._execute_folded(x, rec, path)
        env: dict = {PLACE: (x.device, self.dtype), OWNER: self, _INPUTS: {}}
        if getattr(rec, "batch", None) is None:
            rec.batch = x.shape[0]
        self._bind(x, env)
        for step in self.plan:
            if isinstance(step, LetPlan):
                value = step.fn(env)
                if value.dim() == 1:  # only literals: broadcast to (B, 1)
                    value = value.expand(x.shape[0], value.shape[-1])
                env[step.var] = value
                rec.record(join(path, step.var), value, None, DETERMINISTIC,
                           _support_of_type(step.type), V.event_shape(step.type), value.dim() > 2)
            else:
                self._draw(step, x, env, rec, path)
        values = [env[v] for v in self.ret.vars]
        return V.concat_values(values, self.ret.types, dtype=self.dtype), env

    def _bind(self, x, env):
        if self.binding == "none" or not self.param_names:
            return
        if self.binding == "whole" or len(self.param_names) == 1:
            env[self.param_names[0]] = x
            return
        parts = V.split_factors(x, self._param_widths, self._param_ranks)
        env.update(zip(self.param_names, parts))

    def _draw(self, step: DrawPlan, x, env, rec: Recorder, path: str):
        module = getattr(self, step.attr)
        if step.inline is not None:
            inp = {k: fn(env) for k, fn in step.inline.items()}
            B = x.shape[0]
            inp = {k: (v.expand(B, v.shape[-1]) if v.dim() == 1 else v) for k, v in inp.items()}
        elif step.args is None:
            inp = x
        elif len(step.args) == 1:
            inp = step.args[0](env)
        else:
            cache = env[_INPUTS]
            inp = cache.get(step.arg_key) if step.arg_key is not None else None
            if inp is None:
                inp = _concat([fn(env) for fn in step.args], step.arg_ranks, step.arg_all_finite, self.dtype)
                if step.arg_key is not None:
                    cache[step.arg_key] = inp
        name = join(path, step.vars[0])
        names = [join(path, v) for v in step.vars]
        for n in names:
            rec.reserve(n)
        if module.is_random:
            target = self._step_target(step, names, rec, module)
            y, lp = module.run(inp, rec, name, target)
            kind = step.kind
        elif step.unread and rec.strict:
            # log_joint records no deterministic sites, so a module may leave the unread parts
            # of its value uncomputed (a fused LSTM scan skips the cell states, qvr.compile.fused)
            rec.unread[name] = step.unread
            try:
                y, lp = module.run(inp, rec, name, None)
            finally:
                rec.unread.pop(name, None)
            kind = DETERMINISTIC
        else:
            y, lp = module.run(inp, rec, name, None)
            kind = DETERMINISTIC
        if len(step.vars) == 1:
            env[step.vars[0]] = y
            rec.record(name, y, lp, kind, module.support, module.event_shape,
                       y.dim() > 1 + len(module.event_shape))
            return
        widths, ranks = module.output_kind_widths()
        parts = V.split_factors(y, widths, ranks)
        for i, (v, n, part, t) in enumerate(zip(step.vars, names, parts, step.var_types)):
            env[v] = part
            part_lp = lp if i == 0 else (None if lp is None else torch.zeros_like(lp))
            ev = V.event_shape(t)
            rec.record(n, part, part_lp, kind, _support_of_type(t), ev, part.dim() > 1 + len(ev))

    def _step_target(self, step: DrawPlan, names, rec: Recorder, module):
        observed = step.kind == OBSERVED
        if len(names) == 1:
            value = rec.clamp(names[0], observed=observed)
            if value is None:
                return None
            value = self._check_batch(fit_value(value, module.cod, self.dtype, name=names[0]), names[0], rec)
            t = step.var_types[0]
            if t is not None:
                want = 1 + isinstance(t, SeqType) + len(V.event_shape(t))
                if value.dim() != want:
                    raise ShapeError(f"value of site `{names[0]}`: expected shape {V.describe_shape(t)}, "
                                     f"got {tuple(value.shape)}")
            return value
        vals = [rec.clamp(n, observed=observed) for n in names]
        if any(v is None for v in vals):
            return None
        vals = [fit_value(v, t, self.dtype, name=n) for v, t, n in zip(vals, step.var_types, names)]
        return V.concat_values(vals, step.var_types, dtype=self.dtype)

    @staticmethod
    def _check_batch(value, name, rec):
        B = getattr(rec, "batch", None)
        if B is not None and value.shape[0] != B:
            raise ShapeError(f"value of site `{name}`: expected batch size {B}, got {tuple(value.shape)}")
        return value

    def _execute_folded(self, x, rec: Recorder, path: str):
        """Runtime lifting (§5.1): fold the extra time axis into the batch and unfold after."""
        B, T = x.shape[0], x.shape[1]
        folded = FoldRecorder(rec, B, T)
        out, env = self.execute(x.reshape(B * T, *x.shape[2:]), folded, path)
        unfolded = {k: (v.reshape(B, T, *v.shape[1:]) if isinstance(v, torch.Tensor) else v)
                    for k, v in env.items()}
        return out.reshape(B, T, *out.shape[1:]), unfolded

    # -- API extras --------------------------------------------------------------------------
    def rsample(self, x, *, observations=None, n_steps=None, as_dict=False):
        x = self._prepare_input(x)
        observations = self._prepare_values(observations)
        self._check_ranges(x, observations)
        rec = Recorder(observations=observations, n_steps=n_steps)
        out, env = self.execute(x, rec, "")
        if as_dict:
            return {label: env[v] for label, v in zip(self.ret.labels, self.ret.vars)}
        return out

    def _prepare_values(self, values) -> dict:
        out = super()._prepare_values(values)
        # return labels name their variables' sites (spec §5.8, log_joint keys)
        for label, var in zip(self.ret.labels, self.ret.vars):
            if label != var and label in out and var not in out:
                out[var] = out.pop(label)
        return out

    def output_kind_widths(self):
        return ([elem_of(t).width for t in self.ret.types], [V.element_rank(t) for t in self.ret.types])

    def nested_specs(self, path, seq=False):
        out = []
        for step in self.plan:
            if isinstance(step, LetPlan):
                out.append(SiteSpec(join(path, step.var), DETERMINISTIC, V.event_shape(step.type),
                                    _support_of_type(step.type), seq or isinstance(step.type, SeqType)))
                continue
            module = getattr(self, step.attr)
            kind = step.kind if module.is_random else DETERMINISTIC
            step_seq = seq or any(isinstance(t, SeqType) for t in step.var_types)
            for i, (v, t) in enumerate(zip(step.vars, step.var_types)):
                support = module.support if (len(step.vars) == 1 and module.is_random) else _support_of_type(t)
                out.append(SiteSpec(join(path, v), kind, V.event_shape(t), support, step_seq))
            out += module.nested_specs(join(path, step.vars[0]), step_seq)
        return out


class FoldRecorder(Recorder):
    """Presents `(B, T, …)` clamps as `(B·T, …)` and records sites back as `(B, T, …)` with
    per-site log-densities summed over T."""

    def __init__(self, parent: Recorder, B: int, T: int):
        super().__init__(strict=parent.strict, n_steps=parent.n_steps)
        self.parent, self.B, self.T = parent, B, T
        self.sites = parent.sites

    def _fold(self, v):
        return None if v is None else v.reshape(self.B * self.T, *v.shape[2:])

    def lookup(self, name):
        return self._fold(self.parent.lookup(name))

    def clamp(self, name, *, observed=False):
        return self._fold(self.parent.clamp(name, observed=observed))

    def record(self, name, value, log_prob, kind, support, event_shape, is_sequence=False):
        value = value.reshape(self.B, self.T, *value.shape[1:])
        if log_prob is not None:
            log_prob = log_prob.reshape(self.B, self.T).sum(1)
        self.parent.record(name, value, log_prob, kind, support, event_shape, True)
