"""Comprehensions (spec part 2 §5.8): `factor v : K, … in e` is `e` over `K1 × … × Km`,
`factor c : K in { 0 -> e0, … }` stacks one case per element of `K` (QVR128 for missing,
repeated or unexpected keys and for several binders), binders are finite objects (QVR024)
local to the comprehension that must not shadow program locals (QVR016). Each test compares
a program's whole diagnostic list (code, line, column, message)."""
from __future__ import annotations

from qvr.semantics import analyze
from sem_helpers import diagnostics

HEAD = "object K : FinSet 3\nobject L : FinSet 2\nobject R : Real 1\n"


def program(*steps: str, ret: str = "return t") -> str:
    return (HEAD + "program p : K * L -> R\n" + "".join(f"    {s}\n" for s in steps)
            + f"    {ret}\nexport p\n")


def test_a_comprehension_over_two_binders_has_both_plates():
    text = program("sample a : K <- Normal(loc=0.0, scale=1.0)",
                   "sample b : L <- Normal(loc=0.0, scale=1.0)",
                   "let t = factor v : K, c : L in a + b * 2.0")
    assert diagnostics(text) == []
    variables = analyze(text).programs["p"].variables
    assert variables["t"].type.display() == "Real 1 over K × L"
    assert "v" not in variables and "c" not in variables  # local to the comprehension


def test_a_binder_the_body_does_not_use_still_gives_its_axis():
    text = program("sample m <- Normal(loc=0.0, scale=1.0)",
                   "let t = factor v : L in m * 2.0")
    assert diagnostics(text) == []
    assert analyze(text).programs["p"].variables["t"].type.display() == "Real 1 over L"


def test_cases_stack_along_the_binder():
    text = program("sample m <- Normal(loc=0.0, scale=1.0)",
                   "let t = factor c : K in { 0 -> m, 1 -> log(2.0), 2 -> -m, }")
    assert diagnostics(text) == []
    assert analyze(text).programs["p"].variables["t"].type.display() == "Real 1 over K"


def test_case_keys_must_be_each_element_once():
    text = program("let t = factor c : K in { 0 -> 1.0, 0 -> 2.0, 5 -> 3.0 }")
    assert diagnostics(text) == [
        ("QVR128", 5, 40, "`factor`: the cases must be 0 … 2, each once: repeated 0"),
        ("QVR128", 5, 50, "`factor`: the cases must be 0 … 2, each once: unexpected 5")]
    missing = program("let t = factor c : K in { 0 -> 1.0 }")
    assert diagnostics(missing) == [
        ("QVR128", 5, 28, "`factor`: the cases must be 0 … 2, each once: missing 1, 2")]


def test_cases_need_one_binder():
    text = program("let t = factor c : K, d : L in { 0 -> 1.0, 1 -> 2.0, 2 -> 3.0 }")
    assert diagnostics(text) == [("QVR128", 5, 26, "`factor`: cases need exactly one binder")]


def test_case_widths_must_agree():
    text = program("sample m <- Normal(loc=0.0, scale=1.0)",
                   "let t = factor c : L in { 0 -> [m, m], 1 -> [m, m, m] }")
    assert diagnostics(text) == [("QVR069", 6, 48, "arithmetic on widths 2 and 3")]


def test_binders_must_not_shadow_locals_and_must_be_finite():
    shadow = program("sample m <- Normal(loc=0.0, scale=1.0)",
                     "let t = factor m : K in 1.0")
    assert diagnostics(shadow) == [
        ("QVR016", 6, 19, "variable `m` is already bound in program `p`"),
        ("QVR082", 5, 11, "`m` is sampled but never used; it still contributes to the joint "
                          "density")][::-1]
    continuous = program("let t = factor q : R in 1.0")
    assert diagnostics(continuous) == [
        ("QVR024", 5, 23, "a `factor` binder needs a finite object, `R` is not one")]
