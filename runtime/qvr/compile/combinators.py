"""Combinators (spec §5.5–§5.6): `>>`, `@`, `fan`, `repeat`, `stack`, `identity` and `scan`.

Site naming (§5.8): inside a module at path q, a random intermediate output gets
`q/<label>` (label = referenced name or the combinator word, repeated labels `#2`, `#3`…),
`stack`/`repeat` copies k < n get `q/<k>`, and a scan records its earlier states at `q/scan`
and its cell's own choices below `q/scan/`, stacked on axis 1.
"""
from __future__ import annotations

import copy
from typing import Optional, Sequence

import torch
from torch import nn

from ..errors import ShapeError
from ..semantics.types import ObjType, SeqType, elem_of
from . import values as V
from .base import RuntimeModule, _reset, fit_value
from .fused import fused_enabled
from .record import Recorder, StepRecorder, join
from .trace import DETERMINISTIC, LATENT, SiteSpec


def unique_labels(labels: Sequence[str]) -> list[str]:
    """Repeated labels get `#2`, `#3`, … in order of appearance."""
    seen: dict[str, int] = {}
    out = []
    for lab in labels:
        seen[lab] = seen.get(lab, 0) + 1
        out.append(lab if seen[lab] == 1 else f"{lab}#{seen[lab]}")
    return out


def run_nested(part: RuntimeModule, x, rec: Recorder, name: str, seq: bool):
    """Run `part` at site `name`, recording its output there when it is random."""
    if not part.is_random:
        y, _ = part.run(x, rec, name, None)
        return y
    rec.reserve(name)
    target = rec.clamp(name)
    if target is not None:
        target = fit_value(target, part.cod, part.dtype, name=name)
    y, lp = part.run(x, rec, name, target)
    rec.record(name, y, lp, LATENT, part.support, part.event_shape,
               seq or y.dim() > 1 + len(part.event_shape))
    return y


def nested_part_specs(part: RuntimeModule, name: str, seq: bool) -> list[SiteSpec]:
    out = []
    if part.is_random:
        out.append(SiteSpec(name, LATENT, part.event_shape, part.support, seq))
    return out + part.nested_specs(name, seq)


def _out_seq(part: RuntimeModule, seq_in: bool) -> bool:
    """Whether `part` produces a sequence when fed one (`seq_in`): a sequence consumer decides
    by its codomain, an elementwise part is lifted."""
    if isinstance(part.dom, SeqType):
        return isinstance(part.cod, SeqType)
    return seq_in or isinstance(part.cod, SeqType)


class Composite(RuntimeModule):
    """`e1 >> … >> en` (parameters under `parts.<i>.`)."""

    label = "compose"

    def __init__(self, parts: Sequence[RuntimeModule], labels: Sequence[str], dom=None, cod=None):
        super().__init__(dom if dom is not None else parts[0].dom, cod if cod is not None else parts[-1].cod)
        self.parts = nn.ModuleList(parts)
        self.labels = unique_labels(labels)
        self.is_random = parts[-1].is_random

    @property
    def support(self):
        return self.parts[-1].support

    @property
    def event_shape(self):
        return self.parts[-1].event_shape

    def run(self, x, rec, path, target=None):
        y = x
        last = len(self.parts) - 1
        seq = isinstance(self.dom, SeqType)
        for i, (part, label) in enumerate(zip(self.parts, self.labels)):
            if i == last:
                return part.run(y, rec, path, target)
            seq = _out_seq(part, seq)
            y = run_nested(part, y, rec, join(path, label), seq)
        raise AssertionError("empty composite")

    def nested_specs(self, path, seq=False):
        out = []
        seq = seq or isinstance(self.dom, SeqType)
        last = len(self.parts) - 1
        for i, (part, label) in enumerate(zip(self.parts, self.labels)):
            if i == last:
                return out + part.nested_specs(path, seq)
            seq = _out_seq(part, seq)
            out += nested_part_specs(part, join(path, label), seq)
        return out

    def output_kind_widths(self):
        return self.parts[-1].output_kind_widths()


class _Parallel(RuntimeModule):
    """Shared by `@` and `fan`: components' random outputs are sites `q/<label>`; the result
    (a concatenation) is deterministic."""

    def __init__(self, parts, labels, dom, cod):
        super().__init__(dom, cod)
        self.parts = nn.ModuleList(parts)
        self.labels = unique_labels(labels)

    def _inputs(self, x):
        raise NotImplementedError

    def run(self, x, rec, path, target=None):
        seq = isinstance(self.dom, SeqType)
        outs = []
        for part, label, xi in zip(self.parts, self.labels, self._inputs(x)):
            outs.append(run_nested(part, xi, rec, join(path, label), _out_seq(part, seq)))
        types = [p.cod for p in self.parts]
        return V.concat_values(outs, types, dtype=self.dtype), None

    def nested_specs(self, path, seq=False):
        out = []
        for part, label in zip(self.parts, self.labels):
            out += nested_part_specs(part, join(path, label), _out_seq(part, seq or isinstance(self.dom, SeqType)))
        return out


class Parallel(_Parallel):
    """`f @ g`: split the input's last axis at w(dom f), run both, concatenate."""

    label = "tensor"

    def _inputs(self, x):
        widths = [elem_of(p.dom).width for p in self.parts]
        ranks = [V.element_rank(p.dom) for p in self.parts]
        return V.split_factors(x, widths, ranks)


class Fan(_Parallel):
    """`fan(e1, …, en)`: every component gets the same input."""

    label = "fan"

    def _inputs(self, x):
        return [x] * len(self.parts)


class Identity(RuntimeModule):
    label = "identity"

    def run(self, x, rec, path, target=None):
        return x, None


class Repeat(RuntimeModule):
    """`repeat(f, n)`: f applied n times with shared parameters (n from `n_steps` if absent)."""

    label = "repeat"

    def __init__(self, inner: RuntimeModule, n: Optional[int]):
        super().__init__(inner.dom, inner.cod)
        self.inner = inner
        self.n = n
        self.is_random = inner.is_random

    @property
    def support(self):
        return self.inner.support

    def _count(self, rec) -> int:
        if self.n is not None:
            return self.n
        return int(rec.n_steps) if rec.n_steps is not None else 1

    def _copy(self, k):
        return self.inner

    def run(self, x, rec, path, target=None):
        n = self._count(rec)
        y = x
        for k in range(n - 1):
            y = run_nested(self._copy(k), y, rec, join(path, str(k)), y.dim() > 1 + V.element_rank(self.dom))
        return self._copy(n - 1).run(y, rec, path, target)

    def nested_specs(self, path, seq=False):
        n = self.n if self.n is not None else 1
        out = []
        for k in range(n - 1):
            out += nested_part_specs(self._copy(k), join(path, str(k)), seq)
        return out + self._copy(n - 1).nested_specs(path, seq)


class Stack(Repeat):
    """`stack(f, n)`: n independent deep copies of f, freshly initialised (`copies.<i>`)."""

    label = "stack"

    def __init__(self, inner: RuntimeModule, n: int):
        RuntimeModule.__init__(self, inner.dom, inner.cod)
        copies = []
        for _ in range(n):
            c = copy.deepcopy(inner)
            _reset(c)
            copies.append(c)
        self.copies = nn.ModuleList(copies)
        self.n = n
        self.is_random = inner.is_random

    @property
    def support(self):
        return self.copies[0].support

    def _copy(self, k):
        return self.copies[k]


class Scan(RuntimeModule):
    """`scan(cell, init=…, states=…, direction=…)` (spec §5.6).

    `input_type` is the product of the cell's input leaves (A), `state_type` its state (S).
    Step t feeds concat(x_t, s_{t−1}) to the cell; a program cell returning a tuple gives the
    concatenated next state.
    """

    label = "scan"
    fused = None    # a `qvr.compile.fused.FusedLSTM` when the builder lowered the cell

    def __init__(self, cell: RuntimeModule, input_type: ObjType, state_type: ObjType, *,
                 init: str = "zeros", states: str = "last", direction: str = "forward"):
        cod = state_type if states == "last" else SeqType(state_type)
        super().__init__(SeqType(input_type), cod)
        self.cell = cell
        self.input_type = input_type
        self.state_type = state_type
        self.init = init
        self.states = states
        self.direction = direction
        self.is_random = cell.is_random
        self._wS = state_type.width
        self._rank_in = V.element_rank(input_type)
        if init == "learned":
            self.init_state = nn.Parameter(torch.zeros(self._wS))
        # a random cell without nested sites can be scored for all steps at once when clamped
        self._parallel_ok = cell.is_random and not cell.nested_specs("cell")

    def reset_parameters(self):
        if self.init == "learned":
            with torch.no_grad():
                self.init_state.zero_()
        _reset(self.cell)

    @property
    def support(self):
        return self.cell.support

    @property
    def event_shape(self):
        return (self._wS,)

    def initial_state(self, B: int, like: torch.Tensor) -> torch.Tensor:
        if self.init == "learned":
            return self.init_state.unsqueeze(0).expand(B, self._wS)
        return torch.zeros(B, self._wS, dtype=self.dtype, device=like.device)

    def run(self, x, rec, path, target=None):
        if self.fused is not None and rec.strict and fused_enabled():
            # log_joint records no cell sites, so torch's LSTM kernel can replace the loop
            return self.fused.run(self, x, rec, path, target)
        B, T = x.shape[0], x.shape[1]
        s = self.initial_state(B, x)
        scan_path = join(path, "scan")
        random = self.cell.is_random
        keep_states_site = self.states == "last" and T > 1
        if keep_states_site:
            rec.reserve(scan_path)
        state_clamp = None
        if keep_states_site and random:
            state_clamp = rec.clamp(scan_path)
            if state_clamp is not None:
                state_clamp = fit_value(state_clamp.to(self.dtype), SeqType(self.state_type), self.dtype,
                                        name=scan_path)
                if state_clamp.dim() != 3 or state_clamp.shape[:2] != (B, T - 1):
                    raise ShapeError(f"value of site `{scan_path}`: expected shape (B, T-1, {self._wS}) = "
                                     f"({B}, {T - 1}, {self._wS}), got {tuple(state_clamp.shape)}")
        last_t = T - 1 if self.direction == "forward" else 0
        if T > 0 and self._parallel_ok and (target is not None) and (state_clamp is not None or T == 1 or self.states == "all"):
            return self._run_clamped(x, rec, path, target, state_clamp, B, T, last_t)
        order = range(T) if self.direction == "forward" else range(T - 1, -1, -1)
        states: list = [None] * T
        lps: list = [None] * T
        step_sites: list = [None] * T
        # `q/scan` holds the states other than the last-consumed position, in position order
        # (forward: 0…T−2; backward: 1…T−1).
        offset = 0 if self.direction == "forward" else 1
        xs = V.as_columns(x, self._rank_in, self.dtype)
        for t in order:
            tgt = None
            if random:
                if self.states == "all":
                    tgt = None if target is None else target[:, t]
                elif t == last_t:
                    tgt = target
                elif state_clamp is not None:
                    tgt = state_clamp[:, t - offset]
            inp = torch.cat([xs[:, t], s], dim=-1)
            srec = StepRecorder(rec, t)
            s, lp = self.cell.run(inp, srec, scan_path, tgt)
            states[t] = s
            lps[t] = lp
            step_sites[t] = srec.sites
        if T == 0:
            out = s if self.states == "last" else s.new_zeros(B, 0, self._wS)
            return out, (s.new_zeros(B) if random else None)
        self._record_cell_sites(rec, step_sites)
        if self.states == "all":
            out = torch.stack(states, dim=1)
            total = torch.stack(lps, 0).sum(0) if random else None
            return out, total
        if keep_states_site:
            idx = [t for t in range(T) if t != last_t]
            value = torch.stack([states[t] for t in idx], dim=1)
            lp = torch.stack([lps[t] for t in idx], 0).sum(0) if random else None
            rec.record(scan_path, value, lp, LATENT if random else DETERMINISTIC, self.support,
                       (self._wS,), True)
        return states[last_t], (lps[last_t] if random else None)

    def _run_clamped(self, x, rec, path, target, state_clamp, B, T, last_t):
        """Every state is given (log_joint, or a trace with values) and the cell is a single
        random choice: each step's input (x_t, s_{t−1}) is known, so all T steps are scored in
        one batched call. Same density as the loop, Σ_t log p(s_t | x_t, s_{t−1})."""
        fwd = self.direction == "forward"
        if self.states == "all":
            states = target.to(self.dtype)
        elif T == 1:
            states = target.unsqueeze(1)
        elif fwd:
            states = torch.cat([state_clamp, target.unsqueeze(1)], 1)
        else:
            states = torch.cat([target.unsqueeze(1), state_clamp], 1)
        s0 = self.initial_state(B, x).unsqueeze(1)
        prev = torch.cat([s0, states[:, :-1]], 1) if fwd else torch.cat([states[:, 1:], s0], 1)
        inp = torch.cat([V.as_columns(x, self._rank_in, self.dtype), prev], -1)
        if self.states == "all":
            return self.cell.run(inp, rec, join(path, "scan"), states)
        if T == 1:
            _, lp = self.cell.run(inp[:, 0], rec, join(path, "scan"), target)
            return target, lp
        others = slice(0, T - 1) if fwd else slice(1, T)
        _, lp_rest = self.cell.run(inp[:, others], rec, join(path, "scan"), state_clamp)
        _, lp_last = self.cell.run(inp[:, last_t], rec, join(path, "scan"), target)
        rec.record(join(path, "scan"), state_clamp, lp_rest, LATENT, self.support, (self._wS,), True)
        return target, lp_last

    @staticmethod
    def _record_cell_sites(rec, step_sites):
        """Stack each nested cell site over time (axis 1, position order); sum densities."""
        names = [n for n, s in step_sites[0].items() if s is not None]
        for name in names:
            per_t = [sites[name] for sites in step_sites]
            first = per_t[0]
            if rec.strict:   # log_joint reads only the densities: skip stacking the values
                rec.record(name, first.value, torch.stack([s.log_prob for s in per_t], 0).sum(0),
                           first.kind, first.support, first.event_shape, True)
                continue
            value = torch.stack([s.value for s in per_t], dim=1)
            lp = torch.stack([s.log_prob for s in per_t], 0).sum(0)
            rec.record(name, value, lp, first.kind, first.support, first.event_shape, True)

    def nested_specs(self, path, seq=False):
        out = []
        scan_path = join(path, "scan")
        if self.states == "last":
            out.append(SiteSpec(scan_path, LATENT if self.cell.is_random else DETERMINISTIC,
                                (self._wS,), self.support, True))
        return out + self.cell.nested_specs(scan_path, True)
