"""Fused-kernel lowering of standard LSTM scan cells.

A `scan` whose cell is the textbook LSTM with deterministic gates, as in
examples/char_lstm_lm.qvr,

    program cell(x, c, h) : X * Hidden * Hidden -> Hidden * Hidden
        let i = sigmoid(in_gate(x, h))          # deterministic affine maps over [x; h]
        let f = sigmoid(forget_gate(x, h))
        let o = sigmoid(out_gate(x, h))
        let g = tanh(input_node(x, h))
        let c_new = f * c + i * g
        let h_new = o * tanh(c_new)
        return (c_new, h_new)

computes exactly what torch's LSTM kernel computes with `W_ih = [W_i; W_f; W_g; W_o]` (the
gate weights' columns for the features of x), `W_hh` (their columns for h) and `b_ih` = the
gate biases, `b_hh = 0`. `match_lstm_cell` recognises the pattern on the program's syntax
tree: the `let` steps are substituted into two expression trees (the returned cell and hidden
states), which are compared with the LSTM equations up to commutativity of `+` and `*` and
any naming or ordering of the steps. The state may be returned as `(c, h)` or `(h, c)` as long
as the parameters come in the same order. Gates must be deterministic morphisms with the affine
parameter source and an unbounded codomain, called with `(x, h)` in that order (their feature
layout is then `[features(x); h]`).

`FusedLSTM.run` replaces the step loop by one `torch.lstm` call (oneDNN on CPU, cuDNN on GPU),
built from the cell's own parameters at every call so gradients reach them unchanged. It is
used only for `log_joint` (the recorder is strict), where the cell's per-step `let` sites are
not recorded; `trace` and `rsample`, which record them, keep the general path. For
`states=all` the kernel returns every hidden state but only the last cell state, so the cell
states are recomputed from the hidden states: every step's gates depend only on x_t and
h_{t−1}, both known, so they come from one batched matmul, and c_t = f_t c_{t−1} + i_t g_t is
an elementwise loop. When the program never reads the cell states (the char LM's `_c`: its
draw's `DrawPlan.unread`, passed as `rec.unread[path]`) they are left zero instead, since
log_joint records no deterministic site; otherwise the recomputation's backward runs only
when their gradient is not all zero (`_CellStates`).

`QVR_FUSED=0` in the environment forces the general path (read at every call), which is how
tests compare the two and bench/charlm.py times both. GRU cells are not lowered: torch's GRU
applies the reset gate after the hidden matmul (`r * (W_hn h + b_hn)`), QVR's GRU (like d2l's)
before it (`cand(x, r * h)`), so the kernel would compute a different model.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Optional

import torch

from ..semantics.types import Cont, elem_of
from ..syntax import ast as A
from . import values as V

GATES = ("i", "f", "g", "o")   # torch's row order of the stacked gate weights


def fused_enabled() -> bool:
    return os.environ.get("QVR_FUSED", "1").strip().lower() not in ("0", "false", "no", "off")


@dataclass(frozen=True)
class LSTMPattern:
    """Where the LSTM pieces live in a matched cell program."""

    gate_attrs: dict          # gate letter -> attribute of the cell module (`_callee_<morphism>`)
    c_index: int              # position of the cell state in the state (0: (c, h), 1: (h, c))
    hidden: int               # H
    input_type: object        # ObjType of x
    input_features: int       # fw(X)


# ------------------------------------------------------------------------ pattern match --

class _NoMatch(Exception):
    pass


def _tree(node, lets: dict, params: set, calls: dict):
    """An arithmetic AST node as a nested tuple, `let` variables substituted."""
    if isinstance(node, A.Var):
        name = node.name.text
        if name in lets:
            return lets[name]
        if name in params:
            return ("param", name)
        raise _NoMatch
    if isinstance(node, A.Call):
        name = node.name.text
        args = tuple(_tree(a, lets, params, calls) for a in node.args)
        if name in calls:
            return ("call", name, args)
        if name in ("sigmoid", "tanh") and len(args) == 1:
            return (name, args[0])
        raise _NoMatch
    if isinstance(node, A.BinOp) and node.op in "+*":
        return (node.op, _tree(node.left, lets, params, calls), _tree(node.right, lets, params, calls))
    raise _NoMatch


def _either(tree, op, left_ok, right_ok):
    """Match `a op b` in either order; returns the pair (left match, right match)."""
    if not (isinstance(tree, tuple) and tree[0] == op):
        raise _NoMatch
    a, b = tree[1], tree[2]
    for first, second in ((a, b), (b, a)):
        try:
            return left_ok(first), right_ok(second)
        except _NoMatch:
            continue
    raise _NoMatch


def _unary(fn):
    def match(tree):
        if isinstance(tree, tuple) and tree[0] == fn:
            return tree[1]
        raise _NoMatch
    return match


def _gate_call(x: str, h: str):
    """A deterministic morphism called with exactly (x, h); returns its name."""
    def match(tree):
        if (isinstance(tree, tuple) and tree[0] == "call"
                and tree[2] == (("param", x), ("param", h))):
            return tree[1]
        raise _NoMatch
    return match


def _equal(expected):
    def match(tree):
        if tree != expected:
            raise _NoMatch
        return tree
    return match


def match_lstm_cell(analysis, program_name: str) -> Optional[LSTMPattern]:
    """The LSTM pattern of program `program_name`, or None when it is anything else."""
    info = analysis.programs.get(program_name)
    if info is None or info.promoted:
        return None
    decl = info.decl
    params = [n.text for n, _ in info.params]
    types = [t for _, t in info.params]
    if len(params) != 3 or any(not isinstance(s, A.LetStep) for s in decl.steps):
        return None
    if not isinstance(decl.ret.pattern, A.RetTuple) or len(decl.ret.pattern.items) != 2:
        return None
    x, s0, s1 = params
    for t in types[1:]:
        leaves = elem_of(t).leaves
        if len(leaves) != 1 or not isinstance(leaves[0], Cont):
            return None
    H = elem_of(types[1]).width
    if elem_of(types[2]).width != H:
        return None
    calls = {n for n, m in analysis.morphisms.items() if m.role == "deterministic"}
    lets: dict = {}
    try:
        for step in decl.steps:
            lets[step.name.text] = _tree(step.value, lets, set(params), calls)
        returned = [lets.get(it.var.text) for it in decl.ret.pattern.items]
        if any(r is None for r in returned):
            return None
        for c_index in (0, 1):
            c_name, h_name = (s0, s1) if c_index == 0 else (s1, s0)
            c_tree, h_tree = returned[c_index], returned[1 - c_index]
            gate = _gate_call(x, h_name)
            try:
                o_name, _ = _either(h_tree, "*", lambda t: gate(_unary("sigmoid")(t)),
                                    lambda t: _equal(c_tree)(_unary("tanh")(t)))
                (f_name, _), (i_name, g_name) = _either(
                    c_tree, "+",
                    lambda t: _either(t, "*", lambda u: gate(_unary("sigmoid")(u)),
                                      _equal(("param", c_name))),
                    lambda t: _either(t, "*", lambda u: gate(_unary("sigmoid")(u)),
                                      lambda u: gate(_unary("tanh")(u))))
            except _NoMatch:
                continue
            names = {"i": i_name, "f": f_name, "g": g_name, "o": o_name}
            if not all(_affine_gate(analysis, n, types[0], H) for n in names.values()):
                return None
            return LSTMPattern({k: f"_callee_{n}" for k, n in names.items()}, c_index, H,
                               elem_of(types[0]), elem_of(types[0]).feature_width)
    except _NoMatch:
        return None
    return None


def _affine_gate(analysis, name: str, x_type, H: int) -> bool:
    """An affine deterministic map [features(x); h] -> Real H with no codomain transform."""
    m = analysis.morphisms[name]
    opts = m.options or {}
    if opts.get("param_source", "affine") != "affine" or "hidden_dim" in opts or "n_layers" in opts:
        return False
    cod = elem_of(m.type.cod)
    leaves = cod.leaves
    if len(leaves) != 1 or not isinstance(leaves[0], Cont) or leaves[0].d != H:
        return False
    if leaves[0].low is not None or leaves[0].high is not None or getattr(leaves[0], "simplex", False):
        return False
    dom = elem_of(m.type.dom)
    # an all-finite domain would use a lookup table, not a linear map; (x, h) has a Real leaf
    return dom.feature_width == elem_of(x_type).feature_width + H


# ------------------------------------------------------------------------------ running --

class FusedLSTM:
    """Runs a matched scan with torch's LSTM kernel (see the module docstring)."""

    def __init__(self, pattern: LSTMPattern):
        self.p = pattern

    def weights(self, cell):
        linears = [getattr(cell, self.p.gate_attrs[g]).linear for g in GATES]
        W = torch.cat([lin.weight for lin in linears], 0)            # (4H, fw(X) + H)
        b = torch.cat([lin.bias for lin in linears], 0)
        k = self.p.input_features
        return W[:, :k].contiguous(), W[:, k:].contiguous(), b

    def run(self, scan, x, rec, path, target=None):
        p, H = self.p, self.p.hidden
        B, T = x.shape[0], x.shape[1]
        s0 = scan.initial_state(B, x)
        c0, h0 = (s0[:, :H], s0[:, H:]) if p.c_index == 0 else (s0[:, H:], s0[:, :H])
        W_ih, W_hh, b = self.weights(scan.cell)
        feats = V.features(x, p.input_type, scan.dtype)              # (B, T, fw(X))
        backward = scan.direction == "backward"
        if backward:
            feats = feats.flip(1)
        if T == 0:
            hs, hT, cT = feats.new_zeros(B, 0, H), h0, c0
        else:
            hs, hn, cn = torch.lstm(feats, (h0.unsqueeze(0).contiguous(), c0.unsqueeze(0).contiguous()),
                                    [W_ih, W_hh, b, torch.zeros_like(b)], True, 1, 0.0,
                                    torch.is_grad_enabled(), False, True)
            hT, cT = hn[0], cn[0]
        if scan.states == "last":
            return self._state(cT, hT), None
        if p.c_index in rec.unread.get(path, ()):
            # the program never reads the cell states (and log_joint records no deterministic
            # site): leave them zero instead of recomputing them
            cs = hs.new_zeros(hs.shape)
        else:
            cs = self._cell_states(feats, hs, h0, c0, W_ih, W_hh, b)
        if backward:
            hs, cs = hs.flip(1), cs.flip(1)
        return self._state(cs, hs), None

    def _state(self, c, h):
        return torch.cat([c, h] if self.p.c_index == 0 else [h, c], -1)

    @staticmethod
    def _cell_states(feats, hs, h0, c0, W_ih, W_hh, b):
        """Every c_t from the known inputs and hidden states (processing order)."""
        if feats.shape[1] == 0:
            return hs
        h_prev = torch.cat([h0.unsqueeze(1), hs[:, :-1]], 1)
        return _CellStates.apply(feats, h_prev, c0, W_ih, W_hh, b)


def _cell_states(feats, h_prev, c0, W_ih, W_hh, b):
    """c_t = f_t c_{t−1} + i_t g_t with the gates from (x_t, h_{t−1}): one matmul for all steps
    (time-major, so each step reads contiguous rows), then an elementwise loop."""
    B, T, K = feats.shape
    H = c0.shape[-1]
    xt = feats.transpose(0, 1).reshape(T * B, K)
    ht = h_prev.transpose(0, 1).reshape(T * B, H)
    pre = torch.addmm(b[:3 * H], xt, W_ih[:3 * H].T).addmm(ht, W_hh[:3 * H].T).view(T, B, 3 * H)
    i, f, g = pre.split(H, -1)                                       # torch order i, f, g(, o)
    ig = torch.sigmoid(i) * torch.tanh(g)
    f = torch.sigmoid(f)
    c, out = c0, []
    for t in range(T):
        c = torch.addcmul(ig[t], f[t], c)
        out.append(c)
    return torch.stack(out, 1)


class _CellStates(torch.autograd.Function):
    """`_cell_states` without a recorded graph; backward recomputes it (like checkpointing) only
    when the cell states' gradient is not all zero. A program that drops the cell states (the
    char LM's `_c`) still receives a zero gradient for them through the concatenated scan
    output, and this keeps the backward pass from walking T recurrence steps for nothing."""

    @staticmethod
    def forward(ctx, feats, h_prev, c0, W_ih, W_hh, b):
        ctx.save_for_backward(feats, h_prev, c0, W_ih, W_hh, b)
        with torch.no_grad():
            return _cell_states(feats, h_prev, c0, W_ih, W_hh, b)

    @staticmethod
    def backward(ctx, grad):
        inputs = ctx.saved_tensors
        if grad is None or not bool(grad.any()):
            return (None,) * len(inputs)
        with torch.enable_grad():
            leaves = [t.detach().requires_grad_(t.requires_grad) for t in inputs]
            out = _cell_states(*leaves)
            wanted = [t for t in leaves if t.requires_grad]
            grads = iter(torch.autograd.grad(out, wanted, grad, allow_unused=True))
        return tuple(next(grads) if t.requires_grad else None for t in leaves)


def lower_scan(analysis, cell_node, cell_module) -> Optional[FusedLSTM]:
    """The fused runner for `scan(cell_node)`, or None: only a direct reference to a program
    that matches the LSTM pattern (a `stack` copy or a composite keeps the general path)."""
    if not isinstance(cell_node, A.Ref) or not getattr(cell_module, "is_program", False):
        return None
    pattern = match_lstm_cell(analysis, cell_node.name.text)
    if pattern is None or not all(hasattr(cell_module, a) for a in pattern.gate_attrs.values()):
        return None
    return FusedLSTM(pattern)
