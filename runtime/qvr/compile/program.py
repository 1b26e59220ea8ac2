"""Program modules (spec §5.7): monadic step sequences compiled to a plan at build time.

A `ProgramModule` holds its steps as small plan objects (`DrawPlan`, `LetPlan`) whose argument
evaluators are closures compiled once from the AST (`arith.py`), so a run is a straight loop
over the plan with one environment dict. Every sample/observe step's module is the submodule
`_step_<v>` (v = first pattern variable); a morphism drawn twice is the same module object.

Part 2 (spec §6): values over plates are `(B, |N1|, …) + e`, laid out by the plates the checker
gave each step and expression; `score` steps are `ScorePlan`s (factor sites); a program's named
inputs (`InputSpec`: data names and scalar parameters) are read by name from the supplied
mapping; a row plate requires the batch to have its size.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Callable, Optional, Sequence

import torch

from ..errors import MissingDataError, ShapeError, at_site
from ..semantics.plates import base_of
from ..semantics.types import SeqType, elem_of
from . import values as V
from .arith import INPUT, OWNER, PLACE
from .base import RuntimeModule, _support_of_type, fit_value
from .record import Recorder, join
from .trace import DETERMINISTIC, FACTOR, OBSERVED, SiteSpec

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
    keys: tuple = ()                 # the step's axis plates (part 2 §5.2), `values.plate_keys`
    row: object = None               # its row plate (the batch axis must have its size)
    param_keys: object = None        # plates of each inline parameter / argument
    plate_input: object = None       # a plate whose elements are the input (part 2 §5.2)
    scalars: Optional[dict] = None   # a template call's non-literal scalar arguments: {param: evaluator}
    # a drawn program runs once per element of the step's plates, folded into the batch, its
    # arguments laid out on them (`ProgramModule._laid_out_arguments`); not where it is not a
    # program or brings plates of its own
    fold: bool = False

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

    @property
    def keys(self) -> tuple:
        """The plates of its value (`values.plate_keys`), computed once: a compiled plan's
        types are final."""
        keys = self.__dict__.get("_keys")
        if keys is None:
            keys = self.__dict__["_keys"] = V.plate_keys(self.type)
        return keys


@dataclass
class ScorePlan:
    """`score n = e` (part 2 §6.5): a `factor` site whose log-density is `e` summed over its
    plates."""

    var: str
    fn: Evaluator
    type: object


@dataclass(frozen=True)
class InputSpec:
    """A named input of a program (part 2 §6.6): `kind` is `data`, `index` or `hyper` (a
    scalar parameter); `plates` are its plate keys (`values.plate_keys`); `where` is its
    first use (`file:line:col`)."""

    name: str
    kind: str
    type: object
    plates: tuple
    dtype: object
    where: object = None


@dataclass
class ReturnPlan:
    vars: list[str]
    labels: list[str]
    types: list


_INPUTS = "\0inputs"  # env key: draw inputs already concatenated in this run
_OPEN = "\0open"      # env key: sizes of the open plates (from the supplied data)


def _site_of(path: str, step) -> Optional[str]:
    """The site a plan step computes (a failure there is marked with it, `errors.at_site`)."""
    var = getattr(step, "var", None) or (getattr(step, "vars", None) or (None,))[0]
    return None if var is None else join(path, var)


def _ignores_input(step: DrawPlan, module) -> bool:
    """Whether an argument-less draw's target is a program that never reads its input
    (kept on the plan: `reads_input` walks the target's plan)."""
    known = step.__dict__.get("_ignores_input")
    if known is None:
        known = step.__dict__["_ignores_input"] = (getattr(module, "is_program", False)
                                                   and not module.reads_input)
    return known


def _root(rec):
    """The outermost recorder (named inputs are looked up there, unsliced)."""
    while getattr(rec, "parent", None) is not None:
        rec = rec.parent
    return rec


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
                 param_types: Sequence, steps: Sequence, ret: ReturnPlan, named_inputs=None):
        super().__init__(dom, cod)
        self.named_inputs = dict(named_inputs or {})
        self._rows = [s.row for s in steps if isinstance(s, DrawPlan) and s.row is not None]
        self._reads_params = binding != "none" and bool(params)
        self.qvr_name = name
        self.param_names = list(params)
        self.binding = binding
        self.param_types = list(param_types)
        self.plan = list(steps)
        self.ret = ret
        # a template instance's scalar arguments that its caller computes, set by the caller's
        # step right before each run (`DrawPlan.scalars`)
        self.call_scalars: dict = {}
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
        env: dict = {PLACE: (x.device, self.dtype), OWNER: self, INPUT: x, _INPUTS: {}, _OPEN: {}}
        if getattr(rec, "batch", None) is None:
            rec.batch = x.shape[0]
        for row in self._rows:
            # whole copies of the rows are accepted: inference folds particles and posterior
            # draws into the batch (as guides built with `example_input` do)
            if x.shape[0] % row.size:
                raise ShapeError(f"`{self.qvr_name}` has row plate `{row.name}`: the batch must have "
                                 f"{row.size} rows (|{row.name}|), got {x.shape[0]}")
        self._bind(x, env)
        for name, value in getattr(self, "fixed_inputs", {}).items():  # a template call's scalars
            env[name] = V.full_scalar((1, 1), float(value), self.dtype, x.device)
        for name, value in self.call_scalars.items():  # ... and those its caller computes
            if value.shape[0] not in (1, x.shape[0]):
                # the input was folded (time or plate axes into the batch, `_execute_folded`):
                # each of the caller's rows became a run of consecutive rows
                value = value.repeat_interleave(x.shape[0] // value.shape[0], dim=0)
            env[name] = value
        if self.named_inputs:
            self._bind_named(env, _root(rec), x.device)
        for step in self.plan:
            try:
                if isinstance(step, LetPlan):
                    value = step.fn(env)
                    keys = step.keys
                    if keys:
                        value = self._fill_plates(value, keys, env, x.shape[0])
                    elif value.dim() == len(V.event_shape(step.type)):  # only literals: add (B,)
                        value = value.expand(x.shape[0], *value.shape)
                    env[step.var] = value
                    # log_joint (strict) keeps no deterministic site: no support to build for it
                    rec.record(join(path, step.var), value, None, DETERMINISTIC,
                               None if rec.strict else _support_of_type(step.type),
                               V.event_shape(step.type), value.dim() > 2 and not keys)
                elif isinstance(step, ScorePlan):
                    value = step.fn(env)
                    keys = V.plate_keys(step.type)
                    value = self._fill_plates(value, keys, env, x.shape[0])
                    rec.record(join(path, step.var), value, V.reduce_to_batch(value), FACTOR,
                               _support_of_type(step.type), V.event_shape(step.type), False)
                elif isinstance(step, DrawPlan):
                    self._draw(step, x, env, rec, path)
                else:  # a plan that runs itself (`marginalize`, qvr.compile.marginalize)
                    step.run(self, x, env, rec, path)
            except Exception as exc:
                at_site(exc, _site_of(path, step))
                raise
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
        if step.inline is not None and (step.keys or any(step.param_keys.values())
                                        or getattr(module, "size", None)):
            # Under log_joint every random site is scored at its given value, which has the
            # full shape: a family scored in closed form takes its arguments unbroadcast, so a
            # scalar scale over 10,000 rows is not taken to 10,000 copies (and back in backward).
            expand = not (rec.strict and getattr(module, "scores_directly", False))
            inp = {k: self._param_on_plates(fn(env), step.param_keys[k], step.keys, env, x.shape[0],
                                            expand)
                   for k, fn in step.inline.items()}
        elif step.inline is not None:
            inp = {k: fn(env) for k, fn in step.inline.items()}
            B = x.shape[0]
            # a literal (one axis), or a scalar parameter or named input (one row): one draw
            # per row of the batch, as for any other argument
            inp = {k: (v.expand(B, v.shape[-1]) if v.dim() == 1 else
                       v.expand(B, v.shape[1]) if v.dim() == 2 and v.shape[0] == 1 else v)
                   for k, v in inp.items()}
        elif step.fold and step.args is not None:
            inp = self._laid_out_arguments(step, x, env)
        elif step.args is None and step.plate_input is not None:
            n = step.plate_input.size
            inp = torch.arange(n, device=x.device).expand(x.shape[0], n)
        elif step.args is None:
            inp = x
            if _ignores_input(step, module) and x.dim() - module._dom_rank != 1:
                # a program that never reads its input is passed the caller's only for the
                # batch: a domain of another rank (`outer(K) : K -> R` drawn from a program of
                # `R -> R`) would read as extra axes
                inp = module.placeholder_input(x.shape[0], x.device)
        elif len(step.args) == 1:
            inp = step.args[0](env)
        else:
            cache = env[_INPUTS]
            inp = cache.get(step.arg_key) if step.arg_key is not None else None
            if inp is None:
                inp = _concat([fn(env) for fn in step.args], step.arg_ranks, step.arg_all_finite, self.dtype)
                if step.arg_key is not None:
                    cache[step.arg_key] = inp
        if step.fold and step.args is None and step.plate_input is None:
            # the program input, copied along the step's plates (`_laid_out_arguments`)
            sizes = [k.size for k in step.keys]
            inp = inp.reshape(inp.shape[0], *[1] * len(sizes), *inp.shape[1:]).expand(
                x.shape[0], *sizes, *inp.shape[1:])
        name = join(path, step.vars[0])
        names = [join(path, v) for v in step.vars]
        for n in names:
            rec.reserve(n)
        if step.scalars is not None:
            module.call_scalars = {p: fn(env) for p, fn in step.scalars.items()}
        try:
            y, lp, kind = self._run_drawn(step, module, inp, rec, name, names)
        finally:
            if step.scalars is not None:
                module.call_scalars = {}  # (the module keeps no tensor of this run)
        if len(step.vars) == 1:
            env[step.vars[0]] = y
            rec.record(name, y, lp, kind, module.support, module.event_shape,
                       y.dim() > 1 + len(step.keys) + len(module.event_shape))
            return
        widths, ranks = module.output_kind_widths()
        parts = V.split_factors(y, widths, ranks)
        for i, (v, n, part, t) in enumerate(zip(step.vars, names, parts, step.var_types)):
            env[v] = part
            part_lp = lp if i == 0 else (None if lp is None else torch.zeros_like(lp))
            ev = V.event_shape(t)
            rec.record(n, part, part_lp, kind, _support_of_type(t), ev, part.dim() > 1 + len(ev))

    def _run_drawn(self, step: DrawPlan, module, inp, rec: Recorder, name: str, names):
        """Run the module a step draws from: (value, log-density, site kind)."""
        if module.is_random:
            target = self._supplied_value(step, names, rec, module)
            y, lp = module.run(inp, rec, name, target)
            return y, lp, step.kind
        if step.unread and rec.strict:
            # log_joint records no deterministic sites, so a module may leave the unread parts
            # of its value uncomputed (a fused LSTM scan skips the cell states, qvr.compile.fused)
            rec.unread[name] = step.unread
            try:
                y, lp = module.run(inp, rec, name, None)
            finally:
                rec.unread.pop(name, None)
            return y, lp, DETERMINISTIC
        y, lp = module.run(inp, rec, name, None)
        return y, lp, DETERMINISTIC

    def _laid_out_arguments(self, step: DrawPlan, x, env):
        """The input of a program drawn once per element of the step's plates
        (`DrawPlan.fold`): each argument laid out on those plates, in their order, and
        copied along those it does not vary over, so that every row and element has its own;
        the program then runs with the plate axes folded into the batch (part 2 §6.3)."""
        keys = step.keys
        sizes = [k.size for k in keys]
        laid = []
        for fn, pkeys, rank in zip(step.args, step.param_keys, step.arg_ranks):
            v = fn(env)
            if v.dim() == rank:  # a literal: no batch axis
                v = v.unsqueeze(0)
            v = V.to_plates(v, tuple(pkeys), keys) if pkeys else \
                v.reshape(v.shape[0], *[1] * len(keys), *v.shape[1:])
            laid.append(v.expand(x.shape[0], *sizes, *v.shape[1 + len(keys):]))
        if len(laid) == 1:
            return laid[0]
        return _concat(laid, step.arg_ranks, step.arg_all_finite, self.dtype)

    def _supplied_value(self, step: DrawPlan, names, rec: Recorder, module):
        observed = step.kind == OBSERVED
        if len(names) == 1:
            value = rec.clamp(names[0], observed=observed)
            if value is None:
                return None
            if step.keys:
                return self._fit_plated(value, step, names[0], module, rec)
            value = self._check_batch(fit_value(value, module.cod, self.dtype, name=names[0]), names[0], rec)
            t = step.var_types[0]
            if t is not None:
                t = base_of(t)  # (a row plate adds no axis: the rows are the batch)
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

    # -- part 2: plates and named inputs -----------------------------------------------------
    @property
    def row_plates(self) -> list:
        """The row plates of its steps and of the programs it draws (they run on its batch):
        a run's batch must have their size (`qvr.run.data.entry_batch`)."""
        rows = list(self._rows)
        for step in self.plan:
            module = getattr(self, step.attr, None) if isinstance(step, DrawPlan) else None
            if getattr(module, "is_program", False):
                rows.extend(r for r in module.row_plates if r not in rows)
        return rows

    @property
    def reads_input(self) -> bool:
        """Whether a run reads `x` (else `x=None` is allowed, B = 1, part 2 §6.1): a bound
        parameter, or an argument-less draw from a target that reads its input."""
        if self._reads_params:
            return True
        for step in self.plan:
            if isinstance(step, DrawPlan) and step.args is None and step.inline is None \
                    and step.plate_input is None:
                module = getattr(self, step.attr)
                if not (getattr(module, "is_program", False) and not module.reads_input):
                    return True
        return False

    def _sizes(self, keys, env) -> list:
        sizes = []
        for k in keys:
            if isinstance(k, tuple):
                size = env[_OPEN].get(k[1])
                if size is None:
                    raise ShapeError(f"`{self.qvr_name}`: the size of open plate `?{k[1]}` is not "
                                     "known (supply the data that has it)")
                sizes.append(size)
            else:
                sizes.append(k.size)
        return sizes

    def _fill_plates(self, value, keys, env, B):
        """A value computed over plates `keys`, expanded to `(B, sizes…) + e` (a constant or a
        value of data only has no batch axis or size-1 axes)."""
        sizes = self._sizes(keys, env)
        if value.dim() == 1:
            value = value.view(1, *([1] * len(keys)), value.shape[-1])
        return value.expand(B if value.shape[0] == 1 else value.shape[0], *sizes, *value.shape[1 + len(keys):])

    def _param_on_plates(self, v, pkeys, keys, env, B, expand=True):
        """An inline family argument on the step's plates (part 2 §6.2): a width-1 argument
        over a plate the step lacks has that (innermost) plate consumed as its vector axis
        (§5.8); the others are aligned by identity and broadcast to `(B, sizes…, w)` (with
        `expand=False` only aligned: size-1 axes stay for broadcasting against the value)."""
        pkeys = tuple(pkeys)
        if any(p not in keys for p in pkeys):
            if v.dim() > 1 and v.shape[-1] == 1:
                v = v.squeeze(-1)
            pkeys = pkeys[:-1]
        if v.dim() == 1:
            v = v.view(1, *([1] * len(keys)), v.shape[-1])
        else:
            v = V.to_plates(v, pkeys, keys)
        sizes = self._sizes(keys, env)
        if not expand:
            return v
        return v.expand(B, *sizes, *v.shape[1 + len(keys):])

    def _fit_plated(self, value, step, name, module, rec):
        """A supplied value of a plated site (part 2 §6.7): `(B,) + P + e`, the trailing width 1
        and the batch axis optional (tried in that order)."""
        ev = tuple(module.event_shape)
        t = step.var_types[0]
        value = value.long() if V.is_index_type(t) else value.to(self.dtype)
        env_sizes = None
        B = getattr(rec, "batch", None) or value.shape[0]
        want = 1 + len(step.keys) + len(ev)
        sizes = [k.size if not isinstance(k, tuple) else None for k in step.keys]
        if value.dim() == want - 1 and ev == (1,) and _fits(value.shape[1:], sizes):
            value = value.unsqueeze(-1)
        elif value.dim() == want - 1 and _fits(value.shape, sizes + list(ev)):
            value = value.unsqueeze(0)
        elif value.dim() == want - 2 and ev == (1,) and _fits(value.shape, sizes):
            value = value.unsqueeze(0).unsqueeze(-1)
        del env_sizes
        if value.dim() != want or not _fits(value.shape[1:], sizes + list(ev)):
            plates = " × ".join(V.key_name(k) for k in step.keys)
            raise ShapeError(f"value of site `{name}`: expected shape (B, {', '.join(str(s or '?') for s in sizes)}"
                             f"{''.join(', ' + str(d) for d in ev)}) over {plates}, got {tuple(value.shape)}")
        if value.shape[0] == 1 and B != 1:
            value = value.expand(B, *value.shape[1:])
        return self._check_batch(value, name, rec)

    def _bind_named(self, env, rec, device):
        """Bind the named inputs (part 2 §6.7) from the supplied mapping: data `P + e` without
        a batch axis (stored with a batch axis of 1), scalar parameters `()` or `(1,)`."""
        for spec in self.named_inputs.values():
            value = rec.lookup(spec.name)
            if value is None:
                where = f" (first used at {spec.where})" if spec.where else ""
                raise MissingDataError(f"`{self.qvr_name}` needs the named input `{spec.name}`"
                                       f"{where}; pass it by name with the observations")
            if not isinstance(value, torch.Tensor):
                value = torch.as_tensor(value)
            cached = self._named_cache.get(spec.name)
            if cached is not None and cached[0] is value and cached[1] == value._version \
                    and cached[2] == (device, self.dtype):
                # the same data, unmodified, as the last run: fitted and checked already
                env[spec.name] = cached[3]
                continue
            supplied = value
            value = value.to(device)
            if spec.kind == "hyper":
                if value.numel() != 1:
                    raise ShapeError(f"named input `{spec.name}`: a scalar parameter has shape () or "
                                     f"(1,), got {tuple(value.shape)}")
                env[spec.name] = value.reshape(1, 1).to(self.dtype)
                continue
            env[spec.name] = self._fit_data(spec, value, env)
            if not supplied.requires_grad and not any(isinstance(k, tuple) for k in spec.plates):
                # (data on an open plate also sizes that plate for this run, and data with a
                # gradient may be differentiated: those are always fitted afresh)
                self._named_cache[spec.name] = (supplied, supplied._version, (device, self.dtype),
                                                env[spec.name])

    @property
    def _named_cache(self) -> dict:
        """{named input: (supplied tensor, its version, (device, dtype), fitted value)} of the
        last run: inference passes the same data on every step."""
        cache = self.__dict__.get("_qvr_named_cache")
        if cache is None:
            cache = self.__dict__["_qvr_named_cache"] = {}
        return cache

    def _fit_data(self, spec, value, env):
        keys = spec.plates
        index = spec.kind == "index"
        ev = V.event_shape(spec.type)
        if index:
            if value.is_floating_point() and not bool((value == value.round()).all()):
                raise ShapeError(f"named input `{spec.name}`: index data must be integers")
            value = value.long()
        else:
            value = value.to(self.dtype)
        if ev == (1,) and value.dim() == len(keys):
            value = value.unsqueeze(-1)
        if value.dim() != len(keys) + len(ev) or tuple(value.shape[len(keys):]) != ev:
            raise ShapeError(f"named input `{spec.name}`: expected shape "
                             f"({', '.join([V.key_name(k) for k in keys] + [str(d) for d in ev])}), "
                             f"got {tuple(value.shape)}")
        for i, k in enumerate(keys):
            n = value.shape[i]
            if isinstance(k, tuple):
                known = env[_OPEN].setdefault(k[1], n)
                if known != n:
                    raise ShapeError(f"named input `{spec.name}`: {n} rows, but other data on the "
                                     f"same open plate has {known}")
            elif n != k.size:
                raise ShapeError(f"named input `{spec.name}`: plate `{k.name}` has {k.size} elements, "
                                 f"the data has {n}")
        if index:
            card = elem_of(spec.type).cardinality
            if value.numel() and (int(value.min()) < 0 or int(value.max()) >= card):
                raise ShapeError(f"named input `{spec.name}`: index values must be in [0, {card}), "
                                 f"got [{int(value.min())}, {int(value.max())}]")
        return value.unsqueeze(0)

    def _prepare_input(self, x):
        if x is None:
            if self.reads_input:
                raise ShapeError(f"input `x` of `{self.qvr_name}`: expected a tensor (or nested numeric "
                                 "lists), got NoneType (x=None only for a program that never reads "
                                 "its input)")
            return self.placeholder_input(1, self.device)
        return super()._prepare_input(x)

    def placeholder_input(self, batch: int, device):
        """Zeros of the domain's shape for `batch` rows: the input of a program that never
        reads it."""
        dtype = torch.long if V.is_index_type(self.dom) else self.dtype
        return torch.zeros((batch,) + V.event_shape(self.dom), dtype=dtype, device=device)

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
        if out.shape[0] == 1 and B * T != 1:  # a value of one row (a returned literal scalar)
            out = out.expand(B * T, *out.shape[1:])
        # (a value of one row, a template call's literal scalar, stays as it is)
        unfolded = {k: (v.reshape(B, T, *v.shape[1:])
                        if isinstance(v, torch.Tensor) and v.dim() and v.shape[0] == B * T else v)
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

    def _relabel(self, out: dict) -> dict:
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
            if isinstance(step, (LetPlan, ScorePlan)):
                kind = FACTOR if isinstance(step, ScorePlan) else DETERMINISTIC
                out.append(SiteSpec(join(path, step.var), kind, V.event_shape(step.type),
                                    _support_of_type(step.type), seq or isinstance(step.type, SeqType),
                                    *_spec_plates(step.type)))
                continue
            if not isinstance(step, DrawPlan):  # a plan that runs itself lists its own sites
                out += step.specs(path, seq)
                continue
            module = getattr(self, step.attr)
            kind = step.kind if module.is_random else DETERMINISTIC
            step_seq = seq or any(isinstance(t, SeqType) for t in step.var_types)
            for i, (v, t) in enumerate(zip(step.vars, step.var_types)):
                support = module.support if (len(step.vars) == 1 and module.is_random) else _support_of_type(t)
                out.append(SiteSpec(join(path, v), kind, V.event_shape(t), support, step_seq,
                                    *_spec_plates(t)))
            nested = module.nested_specs(join(path, step.vars[0]), step_seq)
            if step.fold:  # one copy of its sites per element of the step's plates
                outer = tuple((V.key_name(k), k.size) for k in step.keys)
                nested = [replace(s, plates=outer + s.plates) for s in nested]
            out += nested
        return out


def _spec_plates(t):
    """`SiteSpec.plates` and `row_plate` of a value type (part 2 §6.6)."""
    plates = tuple((V.key_name(k), None if isinstance(k, tuple) else k.size) for k in V.plate_keys(t))
    row = V.row_plate(t)
    return plates, (row.name if row is not None else None)


def _fits(shape, sizes) -> bool:
    """`shape` matches `sizes` (None: any size, an open plate)."""
    return len(shape) == len(sizes) and all(s is None or s == d for s, d in zip(sizes, shape))


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
