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
                 call_module: Optional[Callable] = None, device=None):
        self.var_rank = var_rank
        self.dtype = dtype
        self.call_module = call_module
        self.device = device

    def compile(self, node) -> Callable[[dict], torch.Tensor]:
        if isinstance(node, A.Lit):
            value = float(node.value.value)

            def lit(env):
                device, dtype = env[PLACE]
                return torch.full((1,), value, dtype=dtype, device=device)
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

            def binop(env):
                a, b = align(left(env), right(env))
                return op(a, b)
            return binop
        if isinstance(node, A.Vec):
            items = [self.compile(i) for i in node.items]

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

                def call2(env):  # two arguments broadcast like `+`
                    return fn(*align(left(env), right(env)))
                return call2
            raise QvrError(f"`{name}` is neither a declared morphism nor a builtin function")
        raise QvrError(f"unsupported arithmetic node {type(node).__name__}")

    def _morphism_call(self, node, attr, arg_types):
        from .record import Recorder
        args = [self.compile_arg(a, t) for a, t in zip(node.args, arg_types)]

        def call(env):
            module = getattr(env[OWNER], attr)
            vals = [f(env) for f in args]
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
