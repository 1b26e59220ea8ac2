"""Frozen, slotted dataclasses for the syntax layer (Span, AST), made cheaply and built fast.

Two tools:

* `install_fast_init(cls)` replaces the `__init__` that `dataclasses` generates for a frozen
  class by one with the same signature and the same effect. The generated one stores each
  field with ``object.__setattr__`` looked up from a global on every call; the parser builds
  several of these objects per token and `qvr.syntax.shift` rebuilds every declaration after
  an edit, so that lookup is a measurable share of parsing. The fast one calls each slot's
  setter, bound once in a closure. Only classes without defaults, ``init=False`` fields or
  `__post_init__` are eligible; anything else keeps the dataclass' own `__init__`.

* `frozen_dataclass` is ``dataclass(frozen=True, slots=True)`` followed by
  `install_fast_init`, at a fraction of the import cost. The syntax tree has ~70 node
  classes and the language server imports them at start-up; `dataclasses` compiles six
  methods per class (plus the `__init__` that `install_fast_init` then throws away), builds
  every class twice for ``slots=True`` and asks `inspect` for a signature to write missing
  docstrings. Here each class is built once, with its slots; only the methods whose speed
  matters (`__init__`, `__eq__`, `__hash__`) are made from code, the same code `dataclasses`
  would write, compiled once per number of fields and renamed per class with
  `CodeType.replace` (`_compile_methods`); `__repr__`, `__setattr__`, `__delattr__` and the
  pickling hooks are shared closures with the same behaviour. The result carries the same
  `__dataclass_fields__` (real `dataclasses.Field` objects) and `__dataclass_params__`, so
  `dataclasses.fields`, `is_dataclass`, `replace`, `asdict` and pickling work unchanged.
  Classes that use anything beyond plain annotated fields (defaults, `field()`, base classes,
  ``ClassVar``/``InitVar``, their own dunders, `__post_init__`) are handed to `dataclasses`
  itself, and so is every class if the check made once at import finds that this Python's
  `dataclasses` builds something else (`_cheap_build_matches_the_standard_one`).
  tests/syntax/test_ast_classes.py checks every AST class against the standard build.

Why renamed templates rather than one source per class: compiling costs in proportion to
the source (438 small sources compile no slower than their concatenation), and compiling a
class' methods took about 110 us against about 6 us to rename a template's code, a third of
``import qvr.syntax`` for its ~100 classes. `__repr__` is not compiled and so is ~25% slower
per node than the generated one; nothing calls it on a hot path.

One deliberate difference: assigning a name that is not a field raises `FrozenInstanceError`
here; the standard slotted build raises `TypeError` from its ``super()`` call (its
`__setattr__` closes over the class it discarded when adding slots). Both refuse.
"""
from __future__ import annotations

import builtins
import dataclasses
import operator
import reprlib
from dataclasses import FrozenInstanceError
from types import CellType, FunctionType

# A real frozen slotted dataclass to copy the two things `dataclasses` keeps private: the
# `__dataclass_params__` object (read-only, so one is shared by every class built here) and the
# marker `dataclasses.fields` uses to tell real fields from ClassVar/InitVar pseudo-fields. It
# is also the yardstick of `_cheap_build_matches_the_standard_one` (so: no docstring).
@dataclasses.dataclass(frozen=True, slots=True)
class _Reference:
    x: int
    y: tuple[str, ...]


_PARAMS = _Reference.__dataclass_params__
_FIELD_KIND = dataclasses.fields(_Reference)[0]._field_type

# Class attributes that would make `dataclasses` do something else than plain generation
# (it never overwrites a method the class defines, and raises for some).
_OWN_DUNDERS = frozenset({
    "__init__", "__repr__", "__eq__", "__hash__", "__setattr__", "__delattr__",
    "__match_args__", "__getstate__", "__setstate__", "__post_init__", "__slots__",
    "__lt__", "__le__", "__gt__", "__ge__",
})
_PSEUDO_FIELD_MARKERS = ("ClassVar", "InitVar", "KW_ONLY")


def install_fast_init(cls: type) -> bool:
    """Give the frozen slotted dataclass `cls` the fast `__init__`; False if not eligible."""
    params = dataclasses.fields(cls)
    if (not getattr(cls, "__dataclass_params__").frozen or "__slots__" not in vars(cls)
            or hasattr(cls, "__post_init__")
            or any(f.default is not dataclasses.MISSING
                   or f.default_factory is not dataclasses.MISSING or not f.init
                   for f in params)):
        return False
    init = _compile_methods(cls, [f.name for f in params], with_eq_hash=False)[0]
    init.__qualname__ = f"{cls.__qualname__}.__init__"
    init.__doc__ = cls.__init__.__doc__
    cls.__init__ = init
    return True


def frozen_dataclass(cls: type) -> type:
    """``dataclass(frozen=True, slots=True)(cls)`` with the fast `__init__`, built cheaply."""
    annotations = cls.__dict__.get("__annotations__", {})
    if _CHEAP_BUILD_MATCHES and _plain(cls, annotations):
        return _build(cls, tuple(annotations), annotations)
    cls = dataclasses.dataclass(frozen=True, slots=True)(cls)
    install_fast_init(cls)
    return cls


def _build(cls: type, names: tuple, annotations: dict) -> type:
    """The frozen slotted dataclass of the plain class `cls`, built once with its slots."""
    namespace = dict(cls.__dict__)
    namespace.pop("__dict__", None)
    namespace.pop("__weakref__", None)
    namespace["__slots__"] = names
    if not namespace.get("__doc__"):
        # what `dataclasses` writes from `inspect.signature` (string annotations are repr'd)
        namespace["__doc__"] = (
            f"{cls.__name__}({', '.join(f'{n}: {annotations[n]!r}' for n in names)})")
    new = type(cls.__name__, cls.__bases__, namespace)
    new.__qualname__ = cls.__qualname__
    new.__dataclass_params__ = _PARAMS
    new.__dataclass_fields__ = {n: _field(n, annotations[n]) for n in names}
    new.__match_args__ = names
    init, eq, hash_ = _compile_methods(new, names, with_eq_hash=True)
    for method in (init, eq, hash_, _repr(names), *_frozen_setattr_delattr(new, names)):
        method.__qualname__ = f"{new.__qualname__}.{method.__name__}"
        setattr(new, method.__name__, method)
    new.__getstate__ = _getstate
    new.__setstate__ = _setstate
    return new


def _plain(cls: type, annotations: dict) -> bool:
    """Whether `cls` is nothing but annotated fields (the case `frozen_dataclass` builds)."""
    return (type(cls) is type and cls.__bases__ == (object,) and bool(annotations)
            and not _OWN_DUNDERS.intersection(cls.__dict__)
            and all(isinstance(t, str) and not any(m in t for m in _PSEUDO_FIELD_MARKERS)
                    for t in annotations.values())
            # no defaults or field(); names free to use as parameters of the generated code
            and all(n not in cls.__dict__ and not n.startswith("_") and n not in ("self", "other")
                    for n in annotations))


def _field(name: str, annotation: str) -> dataclasses.Field:
    """The `Field` that `dataclasses` records for ``name: annotation`` without a default."""
    f = dataclasses.field()
    f.name, f.type, f.kw_only, f._field_type = name, annotation, False, _FIELD_KIND
    return f


# (number of fields, with __eq__/__hash__) -> the code objects of the methods for fields named
# `f0`, `f1`, ... (see `_compile_methods`)
_TEMPLATES: dict = {}


def _template(arity: int, with_eq_hash: bool) -> tuple:
    """The code of `__init__` (and `__eq__`, `__hash__`) for `arity` fields named ``f0``,
    ``f1``, ..., each stored by the setter in the closure cell ``_s0``, ``_s1``, ...; written
    as `dataclasses` writes them and compiled once per arity."""
    key = (arity, with_eq_hash)
    found = _TEMPLATES.get(key)
    if found is not None:
        return found
    names = [f"f{k}" for k in range(arity)]
    setters = [f"_s{k}" for k in range(arity)]
    body = "".join(f"        {s}(self, {n})\n" for s, n in zip(setters, names)) or "        pass\n"
    source = f"def factory({', '.join(setters)}):\n    def __init__(self, {', '.join(names)}):\n{body}"
    returned = "__init__"
    if with_eq_hash:
        mine = "".join(f"self.{n}," for n in names)
        theirs = "".join(f"other.{n}," for n in names)
        source += ("    def __eq__(self, other):\n"
                   "        if other.__class__ is self.__class__:\n"
                   f"            return ({mine}) == ({theirs})\n"
                   "        return NotImplemented\n"
                   "    def __hash__(self):\n"
                   f"        return hash(({mine}))\n")
        returned += ", __eq__, __hash__"
    source += f"    return {returned},\n"
    namespace: dict = {}
    exec(source, namespace)
    found = _TEMPLATES[key] = tuple(f.__code__ for f in namespace["factory"](*[None] * arity))
    return found


def _compile_methods(cls: type, names, *, with_eq_hash: bool) -> tuple:
    """`__init__` (slot setters bound in closure cells) and, if asked, `__eq__` and `__hash__`,
    the code `dataclasses` writes for them.

    Compiling that source for each of the ~100 syntax classes was about a third of
    ``import qvr.syntax``. The code differs between classes only in the field names, so it is
    compiled once per number of fields (`_template`) and renamed per class with
    `CodeType.replace`: the parameter names of `__init__` (what keyword arguments and
    `inspect.signature` see) and the attribute names `__eq__` and `__hash__` read."""
    names = tuple(names)
    rename = {f"f{k}": n for k, n in enumerate(names)}
    cells = {f"_s{k}": CellType(getattr(cls, n).__set__) for k, n in enumerate(names)}
    globals_ = {"__name__": cls.__module__, "__builtins__": builtins}
    methods = []
    for code in _template(len(names), with_eq_hash):
        code = code.replace(co_varnames=tuple(rename.get(v, v) for v in code.co_varnames),
                            co_names=tuple(rename.get(v, v) for v in code.co_names),
                            co_qualname=f"{cls.__qualname__}.{code.co_name}")
        closure = tuple(cells[v] for v in code.co_freevars) or None
        methods.append(FunctionType(code, globals_, code.co_name, None, closure))
    return tuple(methods)


def _repr(names: tuple):
    """`__repr__` as `dataclasses` writes it: ``Cls(a=..., b=...)``, ``...`` on recursion."""
    template = f"({', '.join(f'{n}=%r' for n in names)})"
    values = operator.attrgetter(*names)
    if len(names) == 1:  # attrgetter of one name gives the value itself, not a 1-tuple
        value = values
        values = lambda self: (value(self),)  # noqa: E731

    @reprlib.recursive_repr()
    def __repr__(self):
        return self.__class__.__qualname__ + template % values(self)
    return __repr__


def _frozen_setattr_delattr(cls: type, names: tuple):
    """The frozen class' `__setattr__`/`__delattr__`: every assignment raises."""
    def __setattr__(self, name, value):
        if type(self) is cls or name in names:
            raise FrozenInstanceError(f"cannot assign to field {name!r}")
        super(cls, self).__setattr__(name, value)

    def __delattr__(self, name):
        if type(self) is cls or name in names:
            raise FrozenInstanceError(f"cannot delete field {name!r}")
        super(cls, self).__delattr__(name)
    return __setattr__, __delattr__


# Pickling of a frozen slotted class, as `dataclasses` does it: the state is the list of field
# values, restored with object.__setattr__ since the class' own __setattr__ refuses.
def _getstate(self):
    return [getattr(self, f.name) for f in dataclasses.fields(self)]


def _setstate(self, state):
    for f, value in zip(dataclasses.fields(self), state):
        object.__setattr__(self, f.name, value)


def _cheap_build_matches_the_standard_one() -> bool:
    """Whether `_build` makes what this Python's `dataclasses` makes of `_Reference`'s class
    statement: same class attributes, fields, docstring, and an instance that prints, hashes
    and pickles the same. Checked once at import, so that a `dataclasses` that adds or changes
    something (3.13 adds `__replace__`) sends every class to the standard build instead of
    differing silently."""
    annotations = {"x": "int", "y": "tuple[str, ...]"}
    probe = type("_Reference", (), {"__module__": __name__, "__annotations__": annotations})
    mine, theirs = _build(probe, tuple(annotations), annotations), _Reference
    a, b = mine(1, ("s",)), theirs(1, ("s",))
    return (set(vars(mine)) == set(vars(theirs)) and mine.__doc__ == theirs.__doc__
            and mine.__slots__ == theirs.__slots__ and mine.__match_args__ == theirs.__match_args__
            and repr(dataclasses.fields(mine)) == repr(dataclasses.fields(theirs))
            and repr(a) == repr(b) and hash(a) == hash(b) and a.__getstate__() == b.__getstate__())


_CHEAP_BUILD_MATCHES = _cheap_build_matches_the_standard_one()
