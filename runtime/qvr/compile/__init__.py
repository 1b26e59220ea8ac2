"""The QVR runtime: compile a checked module to torch modules (spec §5, §6.1–§6.2).

`load(path)` / `loads(text)` return a `Program` whose `.morphism` is the exported runtime
module. The building blocks live in small modules: `families` (the 17 distribution families),
`kernels` (kernels, fixed and inline distributions, deterministic maps, embed, discretize),
`combinators` (`>>`, `@`, `fan`, `repeat`, `stack`, `identity`, `scan`), `program` (step
plans), `arith` (let arithmetic), `finite` (finite-world tensors), `record`/`trace` (sites),
`build` (Analysis → modules) and `loader` (load, device rule).
"""
from __future__ import annotations

from .loader import Program, load, loads, resolve_device

__all__ = ["Program", "load", "loads", "resolve_device"]
