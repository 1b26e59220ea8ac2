"""Hostile input costs linear work: operator chains and products of thousands of parts,
thousands of misspelt names, thousands of declarations that each look something up.

Editing features run on whatever a workspace contains, so a long `f @ f @ ...` chain, a
product type of thousands of factors or a file of thousands of misspelt names must not cost
time or memory quadratic in its size.
Every test compares the work for `n` and `4 * n` parts (counted, never timed; see
`hostile_shapes`): linear cost gives a ratio of about 4, quadratic cost about 16.
"""
from __future__ import annotations

import pytest

import qvr.syntax as syntax
from qvr.cli import main
from qvr.semantics import analyze, migrate
from qvr.semantics.formatter import format_text
from qvr.semantics.engine import Engine
from qvr.semantics.types import ObjType, count_text
from qvr.syntax import ast as A
from qvr.syntax import parse_module

from hostile_shapes import SHAPES, chain, line_events, peak_bytes

N = 300  # and 4 * N: enough for a quadratic term to dominate, small enough to trace
LINEAR = 5.0  # allowed ratio of the work for 4 * N to the work for N


def work_ratio(make_text, run) -> float:
    def work(n):
        text = make_text(n)
        syntax._memo.clear()  # parse every time: the parser's work counts too
        return line_events(lambda: run(text))

    return work(4 * N) / work(N)


@pytest.mark.slow  # each growth measurement traces runs over 300 and 1,200 parts
@pytest.mark.parametrize("shape", sorted(SHAPES))
def test_checking_work_grows_linearly(shape):
    assert work_ratio(SHAPES[shape], analyze) <= LINEAR


@pytest.mark.parametrize("shape", sorted(SHAPES))
def test_a_long_shape_is_checked_without_internal_errors(shape):
    codes = {d.code for d in analyze(SHAPES[shape](4 * N)).diagnostics}
    assert "internal" not in codes and not any(c.startswith("QVR00") for c in codes)


@pytest.mark.slow
@pytest.mark.parametrize("shape", ["@", "object product", "rule *", "let +"])
def test_keystroke_checker_work_grows_linearly(shape):
    assert work_ratio(SHAPES[shape], lambda text: Engine().diagnostics(text)) <= LINEAR


@pytest.mark.slow
@pytest.mark.parametrize("shape", ["@", ">>", "object product", "rule *", "let +"])
def test_formatting_work_grows_linearly(shape):
    assert work_ratio(SHAPES[shape], format_text) <= LINEAR


@pytest.mark.slow
def test_migration_work_grows_linearly():
    """Each round picks the fixes whose edits overlap none already picked: looked up among
    the picked ones, not compared with each (quadratic in a file of deprecated forms)."""
    assert work_ratio(SHAPES["deprecated forms"], migrate) <= LINEAR


@pytest.mark.slow
@pytest.mark.parametrize("shape", ["@", "object product"])
def test_qvr_check_work_grows_linearly(shape, tmp_path, capsys):
    def check(text):
        path = tmp_path / "hostile.qvr"
        path.write_text(text, encoding="utf-8")
        assert main(["check", str(path)]) == 0

    assert work_ratio(SHAPES[shape], check) <= LINEAR
    assert "hostile.qvr: OK" in capsys.readouterr().out


@pytest.mark.slow
@pytest.mark.parametrize("shape", ["@", "object product", "let *"])
def test_memory_for_checking_grows_linearly(shape):
    def peak(n):
        text = SHAPES[shape](n)
        syntax._memo.clear()
        return peak_bytes(lambda: analyze(text))

    assert peak(4000) / peak(1000) <= LINEAR


# ----------------------------------------------------------------------- parsing products ----
@pytest.fixture
def built_operands(monkeypatch):
    """Counts the operands of every `Product`/`Coproduct` node the parser builds."""
    counts = {"operands": 0}

    def counting(cls):
        class Counting(cls):
            __slots__ = ()

            def __init__(self, operands, op_spans, span):
                counts["operands"] += len(operands)
                super().__init__(operands, op_spans, span)

        return Counting

    monkeypatch.setattr(A, "Product", counting(A.Product))
    monkeypatch.setattr(A, "Coproduct", counting(A.Coproduct))
    syntax._memo.clear()
    yield counts
    syntax._memo.clear()  # nodes of the counting classes must not outlive the test


@pytest.mark.parametrize("text", [
    "object P : " + " * ".join(["X"] * 2000) + "\n",
    "object P : " + " + ".join(["X"] * 2000) + "\n",
    "object P : " + "(" * 1000 + "X" + " * X)" * 1000 + "\n",  # parentheses on the left
    "object P : " + "X * (" * 1000 + "X" + ")" * 1000 + "\n",  # and on the right
])
def test_a_product_is_built_once_not_once_per_operator(built_operands, text):
    decl = parse_module(text).module.statements[0]
    operands = getattr(decl.value, "factors", None) or decl.value.operands
    assert len(operands) == text.count("X")
    assert built_operands["operands"] == len(operands)


def test_nested_parentheses_flatten_with_every_operator_span():
    text = "object A : Real 1\nobject P : A * (A * A) * ((A * A) * A)\n"
    value = parse_module(text).module.statements[1].value
    start = text.index("A * (")
    assert [f.span.start - start for f in value.factors] == [0, 5, 9, 16, 20, 25]
    assert [s.start - start for s in value.op_spans] == [2, 7, 12, 18, 23]
    assert (value.span.start, value.span.end) == (start, len(text) - 1)


def test_a_product_of_sums_keeps_its_structure():
    text = "object B : FinSet 2\nobject P : B + B * B + (B + (B + B)) + (B + B) * B\n"
    value = parse_module(text).module.statements[1].value
    kinds = [type(op).__name__ for op in value.operands]
    assert kinds == ["TypeRef", "Product", "TypeRef", "TypeRef", "TypeRef", "Product"]
    assert [type(f).__name__ for f in value.operands[-1].factors] == ["Coproduct", "TypeRef"]
    assert analyze(text).objects["P"].factors[0].display() == "FinSet 20"


# -------------------------------------------------------------------------- deep types ----
def test_the_type_of_a_long_tensor_chain_compares_hashes_and_flattens():
    a, b = analyze(chain("@", 3000)), analyze(chain("@", 3000))
    t, u = a.defines["a"].type, b.defines["a"].type
    assert t is not u and t == u and hash(t.dom) == hash(u.dom)
    assert len(t.dom.leaves) == 3001 and t.dom.width == 6002 and t.dom.feature_width == 6002
    assert t.dom != analyze(chain("@", 2999)).defines["a"].type.dom
    assert t.display() == " * ".join(["X"] * 3001) + " -> " + " * ".join(["X"] * 3001)


def test_object_types_compare_by_structure_and_name():
    x, y = ObjType.real(2), ObjType.fin(3)
    assert ObjType((x, y)) == ObjType((x, y)) and {ObjType((x, y)): 1}[ObjType((x, y))] == 1
    assert ObjType((x, y)) != ObjType((y, x))
    assert ObjType((x, y), "P") != ObjType((x, y))
    assert ObjType((ObjType((x, y)), x)).leaves == ObjType((x, ObjType((y, x)))).leaves


def test_huge_cardinalities_print_as_a_bound():
    assert count_text(10 ** 60 - 1) == "9" * 60
    assert count_text(10 ** 60) == "more than 10^59"
    assert count_text(2 ** 16000) == "more than 10^4816"  # 2^16000 = 1.9... x 10^4816


def test_a_sum_with_a_huge_finite_operand_is_checked():
    """Its cardinality has more digits than Python prints; the type prints a bound."""
    text = ("object B : FinSet 2\nobject P : (" + " * ".join(["B"] * 16000) + ") + B\n"
            "morphism h : P -> B ~ Categorical\nexport h\n")
    a = analyze(text)
    assert [d.code for d in a.diagnostics] == []
    assert a.objects["P"].factors[0].display() == "FinSet more than 10^4816"


def test_where_bindings_nested_past_the_recursion_limit_are_formatted():
    depth = 1200  # each binding owns the next: the formatter's levels are as deep
    lines = ["object X : Real 2", "morphism f : X -> X"]
    lines += [" " * i + f"define d{i} = f where" for i in range(depth)]
    lines += [" " * depth + "define last = f", "export d0"]
    out = format_text("\n".join(lines) + "\n").splitlines()
    assert out[2:4] == ["define d0 = f where", "    define d1 = f where"]
    assert out[-2] == "    " * depth + "define last = f"
