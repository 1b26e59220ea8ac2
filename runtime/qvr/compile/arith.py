"""Program arithmetic (spec §5.7 step 4): `let` expressions and draw arguments compiled once
into closures `env -> tensor`.

Values are float columns `(…, w)`: finite values become float indices, width-1 operands
broadcast, and a non-sequence `(B, w)` operand is unsqueezed at axis 1 against a sequence
`(B, T, w)`. A literal is a `(1,)` constant the caller expands to `(B, 1)`.
"""
from __future__ import annotations

from typing import Callable, Optional

import torch

from ..errors import QvrError
from ..syntax import ast as A
from . import values as V
from .builtins import FORMS

# Builtin functions (spec §5.7, part 2 §5.8): name -> {number of arguments: torch function}.
BUILTINS = FORMS

# The program stores (device, dtype) of its run under this key so constants land there.
PLACE = "\0place"
# ...and itself under this key: morphism calls look their module up on the running program, so
# a deep copy (`stack`) calls its own copies rather than the original's.
OWNER = "\0owner"
# ...and its input under this one: a call without arguments (`f()`) applies `f` to it, as the
# checker types it
INPUT = "\0input"

# calls the runtime refuses (part 2 §6.9): charts (tier 2) and collection operations (tier 3)
_UNRUN_CALLS = ("parse", "map", "fold", "traverse", "length", "logsumexp_over", "filter")

_OPS = {"+": torch.add, "-": torch.sub, "*": torch.mul, "/": torch.div}


def align(a: torch.Tensor, b: torch.Tensor):
    """Unsqueeze a non-sequence operand at axis 1 against a sequence one."""
    if a.dim() >= 2 and b.dim() >= 2 and a.dim() != b.dim():
        if a.dim() < b.dim():
            a = a.unsqueeze(1)
        else:
            b = b.unsqueeze(1)
    return a, b


class ArithCompiler:
    """Compiles Arith nodes. `var_rank(name)` gives a variable's element rank (0 = index);
    `call_module(node)` returns (submodule attribute, arg_types) for a deterministic-morphism
    call; the program registers the module under that attribute."""

    def __init__(self, var_rank: Callable[[str], int], dtype=torch.float32,
                 call_module: Optional[Callable] = None, device=None,
                 plates_of: Optional[Callable] = None, is_section: Optional[Callable] = None):
        self.var_rank = var_rank
        self.dtype = dtype
        self.call_module = call_module
        self.device = device
        # the checker's plates of an expression node (part 2 §5.1; `values.plate_keys`), and
        # whether an index names a plate (a section); P1 programs have no plates
        self.plates_of = plates_of or (lambda node: ())
        self.is_section = is_section or (lambda name: False)

    def compile(self, node) -> Callable[[dict], torch.Tensor]:
        if isinstance(node, A.Lit):
            value = float(node.value.value)

            def lit(env):
                device, dtype = env[PLACE]
                return V.full_scalar((1,), value, dtype, device)
            return lit
        if isinstance(node, A.Var):
            name = node.name.text
            rank = self.var_rank(name)
            return lambda env: V.as_columns(env[name], rank, env[PLACE][1])
        if isinstance(node, A.Neg):
            inner = self.compile(node.operand)
            return lambda env: -inner(env)
        if isinstance(node, A.BinOp):
            op = _OPS[node.op]
            left, right = self.compile(node.left), self.compile(node.right)
            keys = self.plates_of(node)
            if keys:  # operands aligned by plate identity (part 2 §6.1)
                lk, rk = self.plates_of(node.left), self.plates_of(node.right)

                def plated_binop(env):
                    a, b = V.to_plates(left(env), lk, keys), V.to_plates(right(env), rk, keys)
                    if a.dim() != b.dim() and min(a.dim(), b.dim()) > 1:
                        # a vector meets a matrix (part 2 §5.8): the vector is a row
                        if a.dim() < b.dim():
                            a = a.unsqueeze(-2)
                        else:
                            b = b.unsqueeze(-2)
                    return op(a, b)
                return plated_binop

            def binop(env):
                a, b = align(left(env), right(env))
                return op(a, b)
            return binop
        if isinstance(node, A.Index):
            return self._index(node)
        if isinstance(node, A.FactorExpr):
            from .comprehensions import compile_comprehension  # binders over their own plates
            return compile_comprehension(self, node)
        if isinstance(node, A.Vec):
            items = [self.compile(i) for i in node.items]
            keys = self.plates_of(node)
            if keys or any(isinstance(i, A.Vec) for i in node.items):
                return self._plated_vec(node, items, keys)

            def vec(env):
                vals = [f(env) for f in items]
                vals = V.broadcast_time(vals) if any(v.dim() > 1 for v in vals) else vals
                if any(v.dim() > 1 for v in vals):
                    ref = max(vals, key=lambda v: v.dim())
                    vals = [v.expand(*ref.shape[:-1], 1) for v in vals]
                return torch.cat(vals, dim=-1)
            return vec
        if isinstance(node, A.Call):
            name = node.name.text
            if self.call_module is not None:
                found = self.call_module(node)
                if found is not None:
                    return self._morphism_call(node, *found)
            if name in BUILTINS:
                fn = BUILTINS[name].get(len(node.args))
                if fn is None:
                    raise QvrError(f"`{name}` takes {' or '.join(map(str, BUILTINS[name]))} "
                                   "argument(s)")
                if len(node.args) == 1:
                    arg = self.compile(node.args[0])
                    return lambda env: fn(arg(env))
                left, right = (self.compile(a) for a in node.args)
                keys = self.plates_of(node)
                if keys:
                    lk, rk = (self.plates_of(a) for a in node.args)

                    def plated_call2(env):
                        return fn(V.to_plates(left(env), lk, keys), V.to_plates(right(env), rk, keys))
                    return plated_call2

                def call2(env):  # two arguments broadcast like `+`
                    return fn(*align(left(env), right(env)))
                return call2
            if name in _UNRUN_CALLS and getattr(self, "refuse", None) is not None:
                self.refuse(node)  # a chart (tier 2, part 2 §6.9)
            raise QvrError(f"`{name}` is neither a declared morphism nor a builtin function")
        if getattr(self, "refuse", None) is not None:
            self.refuse(node)  # charts, lambdas, collection operations (part 2 §6.9)
        raise QvrError(f"unsupported arithmetic node {type(node).__name__}")

    def _morphism_call(self, node, attr, arg_types):
        from .record import Recorder
        args = [self.compile_arg(a, t) for a, t in zip(node.args, arg_types)]
        keys = self.plates_of(node)
        arg_keys = [self.plates_of(a) for a in node.args]

        def call(env):
            module = getattr(env[OWNER], attr)
            if not args:  # `f()`: applied to the program's input
                x = env[INPUT]
            else:
                vals = [f(env) for f in args]
                if keys:  # lifted over the plates: every argument laid out on the result's plates
                    vals = [V.to_plates(v, k, keys) for v, k in zip(vals, arg_keys)]
                    lead = torch.broadcast_shapes(*[v.shape[:1 + len(keys)] for v in vals])
                    vals = [v.expand(*lead, *v.shape[1 + len(keys):]) for v in vals]
                x = vals[0] if len(vals) == 1 else V.concat_values(vals, arg_types, dtype=env[PLACE][1])
            y, _ = module.run(x, Recorder(), "", None)
            return y
        return call

    def compile_arg(self, node, arg_type) -> Callable[[dict], torch.Tensor]:
        """A draw argument: a plain variable keeps its layout (int64 indices stay indices);
        anything else is arithmetic."""
        if isinstance(node, A.Var):
            name = node.name.text
            return lambda env: env[name]
        return self.compile(node)

    # -- part 2: indexing, matrices ----------------------------------------
    def compile_index(self, node) -> Callable[[dict], torch.Tensor]:
        """An index value (gather, part 2 §6.3): int64 `(B or 1, plates…)`."""
        if isinstance(node, A.Var):
            name = node.name.text
            return lambda env: env[name].long()
        if isinstance(node, A.Lit):
            value = int(float(node.value.value))
            return lambda env: torch.tensor(value, device=env[PLACE][0])
        fn = self.compile(node)
        return lambda env: fn(env).squeeze(-1).round().long()

    def _index(self, node):
        """`v[e1, …]` (part 2 §5.4, §6.3): literal indices select, a plate's own name is a
        section, index values gather; one index past the plates picks a coordinate of the
        element. Built with advanced indexing on the batch and plate axes."""
        name = node.name.text
        rank = self.var_rank(name)
        vkeys = tuple(self._var_keys(node))
        rkeys = tuple(self.plates_of(node))
        k = len(vkeys)
        plans, coordinate = [], None
        for pos, idx in enumerate(node.indices):
            if pos >= k:
                coordinate = _int_literal(idx)
                coord_fn = None if coordinate is not None else self.compile_index(idx)
                coordinate = (coordinate, coord_fn, tuple(self.plates_of(idx)))
                break
            literal = _int_literal(idx)
            if literal is not None:
                plans.append(("lit", literal, None, None))
            elif isinstance(idx, A.Var) and self.is_section(idx.name.text):
                plans.append(("keep", None, None, None))
            else:
                plans.append(("gather", None, self.compile_index(idx), tuple(self.plates_of(idx))))
        plans += [("keep", None, None, None)] * (k - len(plans))
        n_res = len(rkeys)

        def index(env):
            v = env[name]
            v = V.as_columns(v, rank, env[PLACE][1]) if rank == 0 else v
            device = v.device
            shape = [1] * (1 + n_res)
            if v.shape[0] > 1:
                b = torch.arange(v.shape[0], device=device).view(-1, *([1] * n_res))
            else:
                b = torch.zeros((1,) * (1 + n_res), dtype=torch.long, device=device)
            ix = [b]
            for key, (kind, lit, fn, ikeys) in zip(vkeys, plans):
                if kind == "lit":
                    ix.append(torch.tensor(lit, device=device))
                elif kind == "keep":
                    j = rkeys.index(key)
                    s = list(shape)
                    s[1 + j] = v.shape[1 + vkeys.index(key)]
                    ix.append(torch.arange(s[1 + j], device=device).view(s))
                else:
                    i = fn(env)
                    if i.dim() == len(ikeys):  # data: no batch axis
                        i = i.unsqueeze(0)
                    ix.append(V.to_plates(i, ikeys, rkeys) if i.dim() > 1 else i)
            out = v[tuple(ix)]
            if coordinate is not None:
                lit, cfn, ckeys = coordinate
                if lit is not None:
                    out = out[..., lit:lit + 1]
                else:
                    # one coordinate per element of the index, which may vary over plates the
                    # value does not (`out` has an axis, maybe of size 1, for each plate of
                    # the result)
                    i = cfn(env)
                    if i.dim() == len(ckeys):  # data: no batch axis
                        i = i.unsqueeze(0)
                    i = (V.to_plates(i, ckeys, rkeys) if ckeys else
                         i.reshape(i.shape[0], *([1] * n_res))).unsqueeze(-1)
                    lead = torch.broadcast_shapes(out.shape[:-1], i.shape[:-1])
                    out = out.expand(*lead, out.shape[-1]).gather(-1, i.expand(*lead, 1))
            return out
        return index

    def _var_keys(self, node):
        """The plates of the indexed variable (the checker records the `Index` node's own
        plates; the variable's come from its binding)."""
        return self.var_plates(node.name.text) if hasattr(self, "var_plates") else ()

    def _plated_vec(self, node, items, keys):
        """A vector over plates, or a matrix literal (rows of equal width > 1, part 2 §5.8)."""
        item_keys = [tuple(self.plates_of(i)) for i in node.items]
        matrix = any(isinstance(i, A.Vec) and len(i.items) > 1 for i in node.items)

        def vec(env):
            vals = [V.to_plates(f(env), k, keys) for f, k in zip(items, item_keys)]
            if matrix:
                return torch.stack(vals, dim=-2)
            lead = torch.broadcast_shapes(*[v.shape[:-1] for v in vals])
            return torch.cat([v.expand(*lead, v.shape[-1]) for v in vals], dim=-1)
        return vec


def _int_literal(node) -> Optional[int]:
    if isinstance(node, A.Lit):
        v = float(node.value.value)
        return int(v) if v.is_integer() else None
    return None
