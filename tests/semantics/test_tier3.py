"""Tier-3 constructs inside checked code (spec part 2 §5.11): opaque blocks, free objects and
the tier-3 expression forms are reported once (QVR110) and are otherwise unchecked (⊤)."""
from __future__ import annotations

from qvr.semantics import analyze
from sem_helpers import positions as diagnostics


def messages(text: str) -> list[str]:
    return [d.message for d in analyze(text).diagnostics]


DEDUCTION = """object T : FinSet 2
morphism emit : T -> T ~ Categorical
deduction D : T -> T [semiring=LogProb]
    atoms T
    rule step : emit "emit" # emit in a comment
export emit
"""


def test_an_opaque_block_is_reported_once_at_its_head_and_name():
    assert diagnostics(DEDUCTION) == [("3:1", "QVR110")]
    assert messages(DEDUCTION) == [
        "`deduction D` is parsed but not checked or run (tier 3); uses of `D` are unchecked"]


def test_words_inside_a_block_are_references_and_the_block_is_not_unused():
    text = DEDUCTION.replace("export emit\n", "morphism other : T -> T ~ Categorical\n"
                             "export other\n")
    a = analyze(text)
    # `emit` is used only inside the block: not "never used"; the quoted word and the
    # comment are not references
    assert diagnostics(text) == [("3:1", "QVR110")]
    emit = a.top_level["emit"]
    uses = [(r.span.start, r.span.end) for r in a.references if r.symbol is emit
            and not r.is_definition]
    start = text.index("rule step : emit") + len("rule step : ")
    assert uses == [(start, start + 4)]
    assert a.top_level["D"].kind == "opaque"
    assert a.top_level["D"].detail == "deduction D : unchecked (tier 3: deduction)"


def test_an_opaque_name_is_in_the_top_level_namespace():
    text = DEDUCTION.replace("export emit\n", "object D : FinSet 3\nexport emit\n")
    assert diagnostics(text) == [("3:1", "QVR110"), ("6:8", "QVR015")]


def test_uses_of_an_opaque_name_report_nothing_more():
    text = """object T : FinSet 2
define f(x : T) : T !{} =
    return x
define g = f >> f
export g
"""
    assert diagnostics(text) == [("2:1", "QVR110")]
    assert analyze(text).defines["g"].type is None
    # without the block, `f` is undefined
    assert diagnostics(text.replace("define f(x : T) : T !{} =\n    return x\n", "")) == [
        ("1:8", "QVR080"), ("2:12", "QVR011"), ("2:17", "QVR011")]


def test_free_objects_are_tier_3_and_their_users_unchecked():
    text = """object Atoms : {N, NP, S}
object Cat : FreeResiduated(Atoms)
object R : Real 1
morphism f : Cat -> R
export f
"""
    assert diagnostics(text) == [("2:14", "QVR110")]
    assert messages(text)[0] == "`FreeResiduated(…)` is not checked (tier 3): `Cat` has no static type"
    clean = text.replace("FreeResiduated(Atoms)", "FinSet 2").replace("object Atoms : {N, NP, S}\n", "")
    assert diagnostics(clean) == []


def test_tier_3_expression_forms_are_reported_once_each():
    text = """object A : FinSet 2
morphism f : A -> A [role=latent]
define g = f.trace(A)
define h = f.dagger
export g
export h
"""
    assert diagnostics(text) == [("3:12", "QVR110")]
    assert messages(text) == ["`.trace(…)` is not checked (tier 3): `g` has no static type"]


def test_declaring_a_collection_name_is_not_a_shadowing_warning():
    text = """object H : Real 2
morphism filter : H -> H ~ Normal
morphism parse : H -> H ~ Normal
define m = filter >> parse
export m
"""
    assert diagnostics(text) == []
    assert diagnostics(text.replace("filter", "exp")) == [("2:10", "QVR019")]


def test_a_user_defined_algebra_makes_later_finite_world_expressions_unchecked():
    text = """object A : FinSet 2
object B : FinSet 3
morphism f : A -> B [role=latent]
morphism g : A -> A [role=latent]
composition weird [level=algebra]
    times = a * b
define bad = f >> g
export bad
"""
    assert diagnostics(text) == [("5:1", "QVR110")]
    before = text.replace("composition weird [level=algebra]\n    times = a * b\n", "")
    assert diagnostics(before) == [("5:16", "QVR040")]


def test_tier_3_forms_in_programs_are_named_by_their_step():
    text = """object T : FinSet 2
object R : Real 1
program p : T -> R
    let m = map(xs, x -> x + 1.0)
    let k = x -> x
    let y = 1.0
    return y
export p
"""
    assert diagnostics(text) == [("4:13", "QVR110"), ("5:13", "QVR110")]
    assert messages(text) == ["`map(…)` is not checked (tier 3): `m` has no static type",
                              "`x -> …` is not checked (tier 3): `k` has no static type"]
    # a declared `map` wins over the collection operation
    declared = """object H : Real 1
morphism map : H -> H
program p(h) : H -> H
    let y = map(h)
    return y
export p
"""
    assert diagnostics(declared) == []


def test_a_program_using_an_opaque_block_is_unchecked():
    text = """object Analysis : FinSet 1
object Posterior : Real 3
define grid(observations : Tensor[Real]([4])) : Tensor[Real]([3]) !{} =
    return observations
program bayes : Analysis -> Posterior
    let posterior <- grid(observations)
    return posterior
export bayes
"""
    # unchecked, but its argument is still an operand of `bayes`: a data input
    assert diagnostics(text) == [("3:1", "QVR110"), ("6:27", "QVR111")]


def test_a_call_of_a_tier_3_define_is_unchecked_but_option_errors_stay():
    text = """object R : Real 1
define f(x : Real) : Real !{} =
    return x
program p(t) : R -> R
    let y = f(t)
    sample z <- Normal(loc=y, scale=1.0) [bogus=1]
    return z
export p
"""
    # no "undefined" for `f`, no type diagnostics about `y`; the unknown option is reported
    assert diagnostics(text) == [("2:1", "QVR110"), ("6:43", "QVR028")]
    assert diagnostics(text.replace(" [bogus=1]", "")) == [("2:1", "QVR110")]


def test_the_arguments_of_a_tier_3_call_are_references():
    # `f` and `g` are used only as arguments of a contraction call: not "never used"; an
    # argument that names nothing is undefined
    text = ("object A : FinSet 2\nmorphism f, g : A -> A [role=latent]\n"
            "contraction c (p : A -> A, q : A -> A) : A -> A [rule=real]\n"
            "define d = c(f, g)\ndefine e = c(f, nothing)\nexport d\n")
    assert diagnostics(text) == [("3:1", "QVR110"), ("5:8", "QVR080"), ("5:17", "QVR011")]

