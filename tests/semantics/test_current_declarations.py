"""Declaration-level current QVR (spec part 2 §5.10, §5.11): the algebra selector, several
exports, enumerated objects, network options, finite morphisms without a family, `.dagger`,
family calls in morphism expressions, `parse(D, e)` and posterior consumers."""
from __future__ import annotations

from qvr.semantics import analyze
from sem_helpers import positions as diagnostics


FINITE = """object A : FinSet 2
object B : FinSet 3
morphism f : A -> B [role=latent]
"""


def test_composition_selects_the_algebra():
    text = "composition log_prob [level=algebra]\n" + FINITE + "define g = f\nexport g\n"
    a = analyze(text)
    assert diagnostics(text) == []
    assert a.morphisms["f"].quantale == "log_prob"
    bad = ("composition bogus [level=ring, size=2]\n" + FINITE + "define g = f\nexport g\n")
    assert diagnostics(bad) == [("1:13", "QVR037"), ("1:26", "QVR029"), ("1:32", "QVR028")]


def test_several_exports_and_one_exported_twice():
    text = FINITE + "morphism h : A -> A [role=latent]\nexport f\nexport h\n"
    a = analyze(text)
    assert diagnostics(text) == []
    assert a.export.expr.name.text == "f"  # the first export is the primary one
    assert diagnostics(text + "export f\n") == [("7:1", "QVR054")]
    assert analyze(text + "export f\n").diagnostics[0].message == "`f` is exported twice"


def test_enumerated_objects_are_finite_sets_with_labels():
    text = "object A : {red, green, blue}\nmorphism f : A -> A [role=latent]\nexport f\n"
    a = analyze(text)
    assert diagnostics(text) == []
    assert a.objects["A"].cardinality == 3
    assert a.top_level["A"].detail == "object A : {red, green, blue}"
    assert diagnostics(text.replace("blue", "red")) == [("1:25", "QVR022")]


def test_network_options_take_layer_widths():
    text = """object H : Real 2
morphism n : H -> H [hidden_dim=[64, 32]] ~ Normal
morphism m : H -> H [param_source=mlp(16, 8)] ~ Normal
define g = n >> m
export g
"""
    a = analyze(text)
    assert diagnostics(text) == []
    assert (a.morphisms["n"].options["hidden_dim"], a.morphisms["n"].options["n_layers"]) == (
        [64, 32], 2)
    assert (a.morphisms["m"].options["param_source"], a.morphisms["m"].options["hidden_dim"]) == (
        "mlp", [16, 8])
    bad = text.replace("[64, 32]]", "[64, 0], n_layers=3]").replace("mlp(16, 8)", "mlp(1.5)")
    assert diagnostics(bad) == [("2:38", "QVR029"), ("3:39", "QVR029")]
    layers = text.replace("[64, 32]]", "[64, 32], n_layers=3]")
    assert diagnostics(layers) == [("2:52", "QVR029")]


def test_a_finite_morphism_without_family_is_a_categorical_kernel():
    text = "object A : FinSet 2\nobject B : FinSet 4\nmorphism s : A -> B\nexport s\n"
    a = analyze(text)
    assert diagnostics(text) == [("3:10", "QVR135")]
    assert (a.morphisms["s"].role, a.morphisms["s"].family) == ("kernel", "Categorical")
    assert diagnostics(text.replace("A -> B", "A -> B ~ Categorical")) == []
    explicit = text.replace("A -> B", "A -> B [role=deterministic]")
    assert diagnostics(explicit) == [("3:19", "QVR039")]


def test_dagger_transposes_finite_world_expressions_without_kernels():
    text = FINITE + "define g = f.dagger\nexport g\n"
    a = analyze(text)
    assert diagnostics(text) == []
    assert a.defines["g"].type.display() == "B -> A"
    kernel = text.replace("[role=latent]", "~ Categorical")
    assert diagnostics(kernel) == [("4:12", "QVR129")]


def test_family_calls_in_morphism_expressions_check_their_arguments():
    text = "object H : Real 1\nmorphism f : H -> H ~ Normal\ndefine g = fan(f, Normal(loc=0.0, scale=1.0))\nexport g\n"
    assert diagnostics(text) == []
    assert diagnostics(text.replace("scale=1.0", "spread=1.0")) == [("3:35", "QVR063")]


CHART = """object T : FinSet 2
object R : Real 1
deduction D : T -> T [semiring=LogProb]
    atoms T
program p : T -> R
    let chart = parse(D, sentence)
    let w = chart.goal_weight()
    return w
export p
"""


def test_parse_needs_a_deduction_block():
    assert diagnostics(CHART) == [("3:1", "QVR110"), ("6:26", "QVR111")]
    bad = CHART.replace("let chart = parse(D,", "let w = parse(R,").replace(
        "    let w = chart.goal_weight()\n", "")
    assert diagnostics(bad) == [("3:1", "QVR110"), ("6:19", "QVR017"), ("6:22", "QVR111")]
    assert analyze(bad).diagnostics[1].message == "`R` is not a `deduction` block"


CONSUMER = """object T : FinSet 2
object R : Real 1
program m : T -> R
    sample a <- Normal(loc=0.0, scale=1.0)
    return a
program q : T -> R [over=m]
    let b = 1.0
    return b
export m
export q
"""


def test_a_posterior_consumer_names_a_program_and_is_pure():
    assert diagnostics(CONSUMER) == []
    assert diagnostics(CONSUMER.replace("[over=m]", "[over=T]")) == [("6:26", "QVR134")]
    impure = CONSUMER.replace("let b = 1.0", "sample b <- Normal(loc=0.0, scale=1.0)")
    assert diagnostics(impure) == [("7:5", "QVR134")]
    assert analyze(impure).diagnostics[0].message == (
        "`over=m`: `q` must be pure but `b` performs `Sample`")


def test_a_chart_is_only_a_method_receiver():
    text = CHART.replace("    return w\n", "    let bad = chart + 1.0\n    return chart\n")
    assert diagnostics(text) == [("3:1", "QVR110"), ("6:26", "QVR111"), ("8:15", "QVR017"),
                                 ("9:12", "QVR017")]
    assert analyze(text).diagnostics[2].message == (
        "`chart` is a chart; use it only as a method receiver (`chart.goal_weight()`)")


def test_a_consumer_reads_the_latent_sites_of_its_program():
    text = CONSUMER.replace("let b = 1.0", "let b = a + c")
    a = analyze(text)
    # `a` is a latent site of `m`; `c` is still a data input
    assert diagnostics(text) == [("7:17", "QVR111")]
    site = next(s for s in a.symbols if s.name == "a" and s.scope == "q")
    assert site.detail == "a : Real 1 (latent site of m)"
