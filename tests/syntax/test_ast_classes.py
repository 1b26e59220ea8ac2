"""The AST classes built by `frozen_init.frozen_dataclass` are what the standard
``dataclass(frozen=True, slots=True)`` (plus `install_fast_init`) makes of the same class
statements: same fields, slots, docs, signatures, and instances that compare, hash, print,
refuse assignment, `replace`, pickle and pattern-match the same way.

The reference is a second copy of runtime/qvr/syntax/ast.py executed with `frozen_dataclass`
swapped for the standard build, so both sides come from the very same source.
"""
from __future__ import annotations

import copy
import dataclasses
import importlib.util
import inspect
import pickle
import sys
from unittest import mock

import pytest

from qvr.syntax import ast, frozen_init, parse, shift
from qvr.syntax.frozen_init import frozen_dataclass, install_fast_init
from qvr.syntax.span import Span
from syntax_helpers import EXAMPLES

AST_CLASSES = {name: c for name, c in vars(ast).items() if isinstance(c, type)
               and c.__module__ == ast.__name__ and dataclasses.is_dataclass(c)}
FIELD_ATTRS = ("name", "type", "default", "default_factory", "init", "repr", "hash", "compare",
               "metadata", "kw_only", "_field_type")


def _standard(cls):
    cls = dataclasses.dataclass(frozen=True, slots=True)(cls)
    install_fast_init(cls)
    return cls


@pytest.fixture(scope="module")
def reference():
    """ast.py built with the standard dataclass decorator, as module qvr.syntax._ast_reference."""
    spec = importlib.util.spec_from_file_location("qvr.syntax._ast_reference", ast.__file__)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses resolves string annotations through it
    try:
        with mock.patch.object(frozen_init, "frozen_dataclass", _standard):
            spec.loader.exec_module(module)
        yield module
    finally:
        del sys.modules[spec.name]


def _samples(cls, tag: str) -> list:
    """Distinct hashable field values for an instance of `cls` (types are not checked)."""
    return [f"{f.name}-{tag}" for f in dataclasses.fields(cls)]


def test_the_module_has_the_node_classes_and_all_took_the_cheap_build():
    assert len(AST_CLASSES) > 60
    for cls in AST_CLASSES.values():
        # __eq__ and __init__ made by frozen_init (their code is named after the class; the
        # standard build's is `__create_fn__.<locals>.__eq__`)
        assert cls.__eq__.__code__.co_qualname == f"{cls.__qualname__}.__eq__", cls
        assert cls.__init__.__code__.co_qualname == f"{cls.__qualname__}.__init__", cls


@pytest.mark.parametrize("name", sorted(AST_CLASSES))
def test_class_matches_the_standard_build(reference, name):
    mine, theirs = AST_CLASSES[name], getattr(reference, name)
    assert theirs is not mine and dataclasses.is_dataclass(mine)
    assert [tuple(getattr(f, a) for a in FIELD_ATTRS) for f in dataclasses.fields(mine)] == \
        [tuple(getattr(f, a) for a in FIELD_ATTRS) for f in dataclasses.fields(theirs)]
    assert list(mine.__dataclass_fields__) == list(theirs.__dataclass_fields__)
    assert repr(mine.__dataclass_params__) == repr(theirs.__dataclass_params__)
    for attr in ("__slots__", "__match_args__", "__doc__", "__qualname__", "__name__",
                 "__annotations__"):
        assert getattr(mine, attr) == getattr(theirs, attr), attr
    assert set(vars(mine)) == set(vars(theirs))
    assert mine.__bases__ == theirs.__bases__ == (object,) and type(mine) is type
    assert str(inspect.signature(mine)) == str(inspect.signature(theirs))
    for method in ("__init__", "__repr__", "__eq__", "__hash__", "__setattr__", "__delattr__"):
        assert getattr(mine, method).__qualname__ == getattr(theirs, method).__qualname__


@pytest.mark.parametrize("name", sorted(AST_CLASSES))
def test_instances_behave_like_the_standard_build(reference, name):
    mine, theirs = AST_CLASSES[name], getattr(reference, name)
    values = _samples(mine, "a")
    a, b, r = mine(*values), mine(*values), theirs(*values)
    assert not hasattr(a, "__dict__")
    assert a == b and not a != b and hash(a) == hash(b) == hash(r)
    assert repr(a) == repr(r) and repr(a).startswith(f"{name}(")
    assert a.__eq__(r) is NotImplemented and r.__eq__(a) is NotImplemented
    for i, f in enumerate(dataclasses.fields(mine)):  # every field takes part in eq and hash
        other = values[:i] + ["changed"] + values[i + 1:]
        assert a != mine(*other) and theirs(*values) != theirs(*other)
        assert dataclasses.replace(a, **{f.name: "changed"}) == mine(*other)
        assert dataclasses.replace(r, **{f.name: "changed"}) == theirs(*other)
    assert mine(**dict(zip(mine.__match_args__, values))) == a
    assert dataclasses.astuple(a) == dataclasses.astuple(r) == tuple(values)
    assert dataclasses.asdict(a) == dataclasses.asdict(r)

    # frozen: the same error for fields; any other name is refused too
    field_name = values[0].split("-")[0]
    for obj in (a, r):
        with pytest.raises(dataclasses.FrozenInstanceError,
                           match=f"cannot assign to field '{field_name}'"):
            setattr(obj, field_name, 1)
        with pytest.raises(dataclasses.FrozenInstanceError,
                           match=f"cannot delete field '{field_name}'"):
            delattr(obj, field_name)
        with pytest.raises((AttributeError, TypeError)):
            obj.not_a_field = 1
    assert a == b  # untouched

    # constructor errors read the same
    for args, kwargs in ((values[:-1], {}), (values + ["extra"], {}), (values, {"bogus": 1})):
        with pytest.raises(TypeError) as mine_error:
            mine(*args, **kwargs)
        with pytest.raises(TypeError) as their_error:
            theirs(*args, **kwargs)
        assert str(mine_error.value) == str(their_error.value)

    # pickling and copying
    assert a.__getstate__() == r.__getstate__() == values
    for protocol in range(pickle.HIGHEST_PROTOCOL + 1):
        assert pickle.loads(pickle.dumps(a, protocol)) == a
    assert copy.copy(a) == a and copy.deepcopy(a) == a


def test_positional_patterns_use_the_match_args():
    s = Span(1, 4)
    node = ast.BinOp("+", ast.Lit(ast.Number(1, "1", s), s), ast.Var(ast.Name("x", s), s), s, s)
    match node:
        case ast.BinOp(op, ast.Lit(ast.Number(value)), ast.Var(ast.Name(text))):
            assert (op, value, text) == ("+", 1, "x")
        case _:
            pytest.fail("positional pattern did not match")


def test_recursive_repr_is_guarded_like_the_standard_one(reference):
    mine = ast.Name("x", None)
    theirs = reference.Name("x", None)
    object.__setattr__(mine, "span", mine)
    object.__setattr__(theirs, "span", theirs)
    assert repr(mine) == repr(theirs) == "Name(text='x', span=...)"


def _to_reference(node, reference):
    """The same tree rebuilt from the reference classes."""
    if isinstance(node, tuple):
        return tuple(_to_reference(x, reference) for x in node)
    if type(node).__module__ == ast.__name__:
        cls = getattr(reference, type(node).__name__)
        return cls(*(_to_reference(getattr(node, f.name), reference)
                     for f in dataclasses.fields(node)))
    return node


@pytest.mark.parametrize("path", EXAMPLES, ids=[p.stem for p in EXAMPLES])
def test_parsed_trees_print_and_hash_like_the_standard_build(reference, path):
    tree = parse(path.read_text(encoding="utf-8"))
    theirs = _to_reference(tree, reference)
    assert repr(tree) == repr(theirs) and hash(tree) == hash(theirs)
    assert shift(shift(tree, 7), -7) == tree and shift(tree, 7) != tree
    assert pickle.loads(pickle.dumps(tree)) == tree


def test_classes_beyond_plain_fields_get_the_standard_build():
    @frozen_dataclass
    class WithDefault:
        a: int
        b: int = 2

    @frozen_dataclass
    class WithField:
        a: int
        b: tuple = dataclasses.field(default=(), compare=False)

    @frozen_dataclass
    class WithOwnRepr:
        a: int

        def __repr__(self):
            return "mine"

    seen = []

    @frozen_dataclass
    class WithPostInit:
        a: int

        def __post_init__(self):
            seen.append(self.a)

    assert WithDefault(1) == WithDefault(1, 2) and WithDefault(1).b == 2
    assert WithField(1, (1,)) == WithField(1, (2,))
    assert repr(WithOwnRepr(1)) == "mine"
    WithPostInit(5)
    assert seen == [5]
    for cls in (WithDefault, WithField, WithOwnRepr, WithPostInit):
        assert "__slots__" in vars(cls) and cls.__dataclass_params__.frozen
        with pytest.raises(dataclasses.FrozenInstanceError):
            cls(1).a = 3
    # eligible for the fast constructor: standard build, then install_fast_init
    assert WithOwnRepr.__init__.__code__.co_qualname == f"{WithOwnRepr.__qualname__}.__init__"


def test_the_import_time_self_check_sees_a_difference_from_dataclasses(monkeypatch):
    assert frozen_init._cheap_build_matches_the_standard_one()
    monkeypatch.setattr(frozen_init, "_repr", lambda names: (lambda self: "different"))
    assert not frozen_init._cheap_build_matches_the_standard_one()


def test_when_the_self_check_fails_every_class_gets_the_standard_build(monkeypatch):
    monkeypatch.setattr(frozen_init, "_CHEAP_BUILD_MATCHES", False)

    @frozen_dataclass
    class Plain:
        a: int
        b: str

    assert Plain.__eq__.__code__.co_qualname != f"{Plain.__qualname__}.__eq__"  # dataclasses' own
    assert Plain.__init__.__code__.co_qualname == f"{Plain.__qualname__}.__init__"  # still fast
    assert Plain(1, "x") == Plain(1, "x") and "__slots__" in vars(Plain)
