"""Faster constructors for the frozen, slotted dataclasses of the syntax layer (Span, AST).

The `__init__` that `dataclasses` generates for a frozen class stores each field with
``object.__setattr__`` looked up from a global on every call. The parser builds several of
these objects per token, and `qvr.syntax.shift` rebuilds every declaration after an edit, so
that lookup is a measurable share of parsing. `install_fast_init` replaces the generated
`__init__` by one with the same signature and the same effect that calls each slot's setter
(bound once, in a closure). Only classes without defaults, ``init=False`` fields or
`__post_init__` are eligible; anything else keeps the dataclass' own `__init__`.
"""
from __future__ import annotations

import dataclasses


def install_fast_init(cls: type) -> bool:
    """Give the frozen slotted dataclass `cls` the fast `__init__`; False if not eligible."""
    params = dataclasses.fields(cls)
    if (not getattr(cls, "__dataclass_params__").frozen or "__slots__" not in vars(cls)
            or hasattr(cls, "__post_init__")
            or any(f.default is not dataclasses.MISSING
                   or f.default_factory is not dataclasses.MISSING or not f.init
                   for f in params)):
        return False
    names = [f.name for f in params]
    setters = {f"_set_{n}": getattr(cls, n).__set__ for n in names}
    body = "".join(f"        _set_{n}(self, {n})\n" for n in names) or "        pass\n"
    source = (f"def factory({', '.join(setters)}):\n"
              f"    def __init__(self, {', '.join(names)}):\n{body}"
              f"    return __init__\n")
    namespace: dict = {}
    exec(source, namespace)
    init = namespace["factory"](**setters)
    init.__qualname__ = f"{cls.__qualname__}.__init__"
    init.__doc__ = cls.__init__.__doc__
    cls.__init__ = init
    return True
