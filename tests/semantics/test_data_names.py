"""Data names (spec part 2 §4.3, §5.3): an unbound operand name of a program is a data input
(QVR111) typed by its first use and over its own open plate; a near miss of a local is QVR112;
QVR012 stays for names bound later and for `return`; top-level names are QVR017. Each test
compares a program's whole diagnostic list (code, line, column, message)."""
from __future__ import annotations

from qvr.semantics import analyze
from sem_helpers import diagnostics

HEAD = "object N : FinSet 4\nobject R : Real 1\n"


def program(*steps: str, ret: str = "return b", head: str = "program p : N -> R") -> str:
    return HEAD + head + "\n" + "".join(f"    {s}\n" for s in steps) + f"    {ret}\nexport p\n"


def test_an_unbound_operand_is_a_data_input_at_its_first_use():
    text = program("sample b <- Normal(loc=0.0, scale=1.0)",
                   "let mu = b * x",
                   "observe y : N <- Normal(loc=mu + x, scale=1.0)")
    assert diagnostics(text) == [
        ("QVR111", 5, 17, "`x` is a data input of `p`: Real 1 over N")]
    a = analyze(text)
    info = a.programs["p"]
    assert info.variables["x"].kind == "data"
    # the open plate met the step's plate `N`: the data rows are the elements of `N`
    assert info.variables["x"].type.display() == "Real 1 over N"
    assert info.variables["mu"].type.display() == "Real 1 over N"
    assert info.variables["y"].type.display() == "Real 1 over N"
    # the data name is a program local for references: both uses point to one symbol
    sym = next(s for s in a.symbols if s.name == "x")
    assert sym.scope == "p" and len(a.references_to(sym)) == 2


def test_a_bound_counterpart_has_no_data_input():
    text = program("sample b <- Normal(loc=0.0, scale=1.0)",
                   "sample x <- Normal(loc=0.0, scale=1.0)",
                   "let mu = b * x",
                   "observe y : N <- Normal(loc=mu + x, scale=1.0)")
    assert diagnostics(text) == []


def test_the_type_comes_from_the_first_use():
    text = HEAD + ("object F : Real 3\nmorphism enc : F -> R ~ Normal\n"
                   "morphism pair : F * R -> R ~ Normal\n"
                   "program p : N -> R\n"
                   "    sample a <- enc(v)\n"
                   "    sample b <- pair(w, a)\n"
                   "    return b\nexport p\n")
    # `v` is the sole argument of `enc : F -> R`; `w` the first of `pair`'s two factors
    assert diagnostics(text) == [
        ("QVR111", 7, 20, "`v` is a data input of `p`: F over ?w"),
        ("QVR111", 8, 21, "`w` is a data input of `p`: F over ?w")]


def test_a_later_use_of_another_type_is_qvr061():
    text = HEAD + ("object F : Real 3\nmorphism enc : F -> R ~ Normal\n"
                   "program p : N -> R\n"
                   "    let u = v * 2.0\n"
                   "    sample b <- enc(v)\n"
                   "    return b\nexport p\n")
    assert diagnostics(text) == [
        ("QVR081", 6, 8, "`let u` is never used"),
        ("QVR111", 6, 12, "`v` is a data input of `p`: Real 1 over ?v"),
        ("QVR061", 7, 20, "`enc` expects `F` but the arguments give `Real 1`")]


def test_near_miss_of_a_local_is_a_warning_with_a_fix():
    text = program("sample beta_1 <- Normal(loc=0.0, scale=1.0)",
                   "observe y : N <- Normal(loc=beta1 * 2.0, scale=beta1)",
                   ret="return beta_1")
    found = diagnostics(text)
    message = "`beta1` is not bound in `p` and is read as data; did you mean `beta_1`?"
    assert found == [("QVR112", 5, 32, message), ("QVR112", 5, 51, message)]
    d = analyze(text).diagnostics[0]
    assert [f.title for f in d.fixes] == ["Change to `beta_1`"]
    # one edit away (names of three letters or more)
    text = program("sample sigma <- HalfNormal(scale=1.0)",
                   "observe y : N <- Normal(loc=0.0, scale=sigm)", ret="return sigma")
    assert [c for c, *_ in diagnostics(text)] == ["QVR112"]


def test_short_names_one_edit_apart_are_not_near_misses():
    text = program("sample b <- Normal(loc=0.0, scale=1.0)",
                   "observe y : N <- Normal(loc=b * x, scale=1.0)")
    assert [c for c, *_ in diagnostics(text)] == ["QVR111"]


def test_a_name_bound_later_is_qvr012_with_its_line():
    text = program("let m = b * 2.0",
                   "sample b <- Normal(loc=m, scale=1.0)")
    assert diagnostics(text) == [
        ("QVR012", 4, 12, "undefined variable `b` in program `p` (bound at line 5)")]


def test_a_return_pattern_does_not_read_data():
    text = program("sample b <- Normal(loc=0.0, scale=1.0)", ret="return c")
    assert diagnostics(text) == [
        ("QVR082", 4, 11, "`b` is sampled but never used; it still contributes to the joint "
                          "density"),
        ("QVR012", 5, 11, "undefined variable `c` in program `p`")]


def test_a_top_level_name_is_not_data():
    text = HEAD + ("morphism f : R -> R ~ Normal\n"
                   "program p : N -> R\n"
                   "    sample b <- Normal(loc=f, scale=1.0)\n"
                   "    return b\nexport p\n")
    assert diagnostics(text) == [("QVR017", 5, 27, "`f` is a morphism, not a variable")]


def test_hover_type_of_a_data_name():
    text = program("sample b <- Normal(loc=0.0, scale=1.0)",
                   "observe y : N <- Normal(loc=b, scale=se)")
    a = analyze(text)
    sym = next(s for s in a.symbols if s.name == "se")
    assert sym.type.display() == "Real 1 over N"
    assert sym.detail == "se : Real 1 over ?se (data)"


def test_named_inputs_of_a_drawn_program_are_the_callers():
    text = HEAD + ("program inner : N -> R\n"
                   "    observe y : N <- Normal(loc=x, scale=1.0)\n"
                   "    return y\n"
                   "program p : N -> R\n"
                   "    sample b <- inner\n"
                   "    return b\nexport p\n")
    assert diagnostics(text) == [
        ("QVR111", 4, 32, "`x` is a data input of `inner`: Real 1 over N")]
    a = analyze(text)
    assert a.programs["p"].variables["x"].kind == "data"
    # so the caller reads data too and is no per-element map
    used = text.replace("export p\n", "define d = p\nexport d\n")
    assert diagnostics(used)[-1] == (
        "QVR113", 9, 11, "`p` reads data `x` and cannot be used in a morphism expression")


def test_a_return_label_is_not_the_name_of_another_variable_or_data_input():
    # a label names the returned variable's site: `slope` given by name could not be both the
    # data and the label of `b`, nor `noise` both a site and that label
    text = ("object Home : FinSet 30\nobject Level : Real 1\n"
            "program radon : Home -> Level * Level\n"
            "    sample b <- Normal(loc=0.0, scale=2.0)\n"
            "    sample noise <- HalfNormal(scale=1.0)\n"
            "    observe y : Home <- Normal(loc=b * slope, scale=noise)\n"
            "    return (spread: noise, slope: b)\n"
            "export radon\n")
    assert [f for f in diagnostics(text) if f[0] != "QVR111"] == [
        ("QVR074", 7, 27, "return label `slope` is repeated: `slope` is also a data input of `radon` (line 6)")]
    other = text.replace("(spread: noise, slope: b)", "(noise: b, spread: noise)")
    assert [f for f in diagnostics(other) if f[0] != "QVR111"] == [
        ("QVR074", 7, 12, "return label `noise` is repeated: `noise` is also a variable of `radon` (line 5)")]
    # a label that is its own variable's name, or a fresh name, is fine
    fine = text.replace("(spread: noise, slope: b)", "(noise: noise, slope_b: b)")
    assert [f for f in diagnostics(fine) if f[0] != "QVR111"] == []
