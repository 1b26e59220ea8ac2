"""Parentheses never produce nodes, at any depth (ast docstring; reported bug: `((f))`).

Each case writes one parenthesised form of the grammar (types, category patterns, morphism
expressions, arithmetic) wrapped in one to four pairs of parentheses and checks that every
depth gives the tree of a single pair, with no builder-internal wrapper left in.
"""
from __future__ import annotations

import dataclasses

import pytest

import qvr
from qvr.syntax import parse
from qvr.syntax.span import Span

PREAMBLE = "object X : Real 2\nmorphism f, g : X -> X\n"

# (statement template with `{}` where the parenthesised text goes, the text)
FORMS = [
    ("object Y : {}", "X * X"),
    ("object Y : {} + X", "X"),
    ("object Y : X * {}", "X + X"),
    ("morphism h : {} -> X", "X * X"),
    ("category S, NP\nrule r(x, y) : {}, y => x", "x / y"),
    ("category S, NP\nrule r(x, y) : x => {}", "x * y"),
    ("define a = {}", "f"),
    ("define a = {}", "f >> g"),
    ("define a = f >> {}", "g >> f"),
    ("define a = {} @ g", "f"),
    ("define a = scan({})", "f"),
    ("program p(x) : X -> X\n    let y = {}\n    return y", "x"),
    ("program p(x) : X -> X\n    let y = 2 * {}\n    return y", "x + 1"),
    ("program p(x) : X -> X\n    let y = -{}\n    return y", "x"),
]


def _shape(node):
    """The tree as nested tuples of class names and non-span values (spans left out, since the
    parenthesised form legitimately covers more text)."""
    if isinstance(node, Span):
        return None
    if isinstance(node, (tuple, list)):
        return tuple(_shape(x) for x in node)
    if dataclasses.is_dataclass(node):
        return (type(node).__name__,) + tuple(
            _shape(getattr(node, f.name)) for f in dataclasses.fields(node)
            if f.name not in ("span",) and not f.name.endswith("span"))
    assert type(node).__module__ in ("builtins",), f"builder-internal node left in: {node!r}"
    return node


@pytest.mark.parametrize("template, inner", FORMS)
@pytest.mark.parametrize("depth", [2, 3, 4])
def test_parentheses_at_any_depth_give_the_tree_of_one_pair(template, inner, depth):
    once = parse(PREAMBLE + template.format("(" + inner + ")") + "\n")
    wrapped = parse(PREAMBLE + template.format("(" * depth + inner + ")" * depth) + "\n")
    assert _shape(wrapped.statements) == _shape(once.statements)


def test_parentheses_that_do_not_regroup_leave_the_plain_tree():
    for template, inner in FORMS:
        if "= {}" in template or ": {}" in template:  # the whole value is parenthesised
            plain = parse(PREAMBLE + template.format(inner) + "\n")
            wrapped = parse(PREAMBLE + template.format("((" + inner + "))") + "\n")
            assert _shape(wrapped.statements) == _shape(plain.statements), template


def test_doubly_parenthesised_reference_is_a_use_and_loads():
    text = PREAMBLE.replace(", g", "") + "define a = ((f))\nexport a\n"
    assert [d.code for d in qvr.check(text)] == []
    torch = pytest.importorskip("torch")
    program = qvr.loads(text, device="cpu")
    assert program.morphism.rsample(torch.randn(2, 2)).shape == (2, 2)
