"""`frozen_init.install_fast_init` keeps the dataclass contract of the classes it speeds up."""
from __future__ import annotations

import copy
import dataclasses
import pickle

import pytest

from qvr.syntax import ast
from qvr.syntax.frozen_init import install_fast_init
from qvr.syntax.span import Span

AST_CLASSES = [c for c in vars(ast).values() if isinstance(c, type)
               and c.__module__ == ast.__name__ and dataclasses.is_dataclass(c)]


def _fast(cls) -> bool:
    # frozen_init names the code after the class; dataclasses' own is `__create_fn__.<locals>...`
    return cls.__init__.__code__.co_qualname == f"{cls.__qualname__}.__init__"


def test_every_ast_class_and_span_got_the_fast_constructor():
    assert AST_CLASSES and all(_fast(c) for c in AST_CLASSES + [Span])


def test_fast_constructor_behaves_like_the_dataclass_one():
    s = Span(3, 5)
    assert (s.start, s.end) == (3, 5) and Span(start=3, end=5) == s and hash(s) == hash(Span(3, 5))
    name = ast.Name("x", s)
    assert dataclasses.replace(name, text="y") == ast.Name("y", s)
    assert pickle.loads(pickle.dumps(name)) == name and copy.deepcopy(name) == name
    with pytest.raises(dataclasses.FrozenInstanceError):
        name.text = "z"
    with pytest.raises(TypeError):
        ast.Name("x")
    with pytest.raises(TypeError):
        ast.Name("x", s, s)


def test_ineligible_classes_keep_their_own_constructor():
    @dataclasses.dataclass(frozen=True, slots=True)
    class WithDefault:
        a: int
        b: int = 2

    @dataclasses.dataclass(frozen=True)
    class NoSlots:
        a: int

    @dataclasses.dataclass(slots=True)
    class NotFrozen:
        a: int

    for cls in (WithDefault, NoSlots, NotFrozen):
        before = cls.__init__
        assert install_fast_init(cls) is False and cls.__init__ is before
    assert WithDefault(1).b == 2
