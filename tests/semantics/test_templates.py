"""Typed program parameters and templates (spec part 2 §5.5): kinds (QVR125), scalar
parameters as `Real 1` values not counted by the parameter rule, object parameters in the
signature and as plates, morphism parameters as targets, templates usable only with
arguments (QVR125), argument binding (QVR126), and the check of each call with its
arguments substituted (errors only an instance has are reported at the call, related to the
template). Each test compares a program's whole diagnostic list (code, line, column,
message)."""
from __future__ import annotations

from qvr.semantics import analyze
from sem_helpers import diagnostics


CROSSED = """\
object Subject : FinSet 20
object Item : FinSet 15
object Trial : FinSet 300
object Val : Real 1
morphism squash : Val -> Val
program intercepts(G : FinSet, spread : Real, link : Mor[Val, Val]) : G -> Val
    sample sd <- HalfNormal(scale=spread)
    sample raw : G <- Normal(loc=0.0, scale=1.0)
    let dev = sd * raw
    let v <- link(dev)
    return v
program crossed : Trial -> Val
    sample base <- Normal(loc=0.0, scale=2.0)
    sample by_subject <- intercepts(Subject, 1.0, squash)
    sample by_item <- intercepts(Item, 0.5, squash)
    observe per_subject : Subject <- Normal(loc=base + by_subject, scale=1.0)
    observe per_item : Item <- Normal(loc=by_item, scale=1.0)
    return base
export crossed
"""


def test_a_template_with_object_scalar_and_morphism_parameters():
    assert diagnostics(CROSSED) == []
    a = analyze(CROSSED)
    tmpl, main = a.programs["intercepts"], a.programs["crossed"]
    # inside the template: the object parameter is a plate, the scalar one `Real 1`
    assert tmpl.variables["raw"].type.display() == "Real 1 over G"
    assert tmpl.variables["spread"].type.display() == "Real 1"
    assert tmpl.typed_params == [("G", "FinSet"), ("spread", "Real"), ("link", "Mor")]
    # each call returns the template's value over the plate it was given
    assert main.variables["by_subject"].type.display() == "Val over Subject"
    assert main.variables["by_item"].type.display() == "Val over Item"
    assert main.effects == {"Sample", "Score"}
    # the object argument refers to the object; the parameter has its own symbol
    subject = a.top_level["Subject"]
    assert len(a.references_to(subject)) == 3  # declaration, argument, annotation
    g = next(s for s in a.symbols if s.name == "G" and s.scope == "intercepts")
    assert g.detail == "G : FinSet (template parameter of intercepts)"


def test_scalar_parameters_are_not_counted_by_the_parameter_rule():
    text = ("object Token : FinSet 20\nobject Mix : Real 3\nobject Topic : FinSet 3\n"
            "program lda(alpha : Real, beta : Real) : Token -> Mix\n"
            "    sample theta <- Dirichlet(concentration=alpha) [over=Topic]\n"
            "    sample phi <- Dirichlet(concentration=beta) [over=Topic]\n"
            "    let both = theta + phi\n"
            "    return both\n"
            "export lda\n")
    assert diagnostics(text) == []


def test_an_unknown_kind_is_qvr125():
    text = ("object N : FinSet 2\nobject R : Real 1\n"
            "program t(K : Set) : N -> R\n"
            "    sample s <- Normal(loc=0.0, scale=1.0)\n"
            "    return s\n"
            "export t\n")
    assert diagnostics(text) == [
        ("QVR125", 3, 14, "unknown parameter kind `Set`; expected FinSet, Space, Object, "
                          "Real, Nat or Mor[A, B]")]


MISUSE_HEAD = """\
object N : FinSet 2
object R : Real 1
program t(K : FinSet) : K -> R
    sample s : K <- Normal(loc=0.0, scale=1.0)
    return s
"""


def test_a_template_without_arguments_and_wrong_arguments():
    text = MISUSE_HEAD + ("program m : N -> R\n"
                          "    sample a <- t\n"
                          "    sample b <- t(N, N)\n"
                          "    let c <- t(R)\n"
                          "    let d = a + b + c\n"
                          "    return d\n"
                          "export m\n")
    assert diagnostics(text) == [
        ("QVR125", 7, 16, "`t` has object or morphism parameters: use it as "
                          "`sample v <- t(…)`"),
        ("QVR126", 8, 18, "`t` takes 1 argument, got 2"),
        ("QVR126", 9, 15, "`t`: argument 1 for `K : FinSet` must be a finite object, got `R`")]


def test_a_correct_call_is_clean():
    text = MISUSE_HEAD + ("program m : N -> R\n"
                          "    sample a <- t(N)\n"
                          "    return a\n"
                          "export m\n")
    assert diagnostics(text) == []
    assert analyze(text).programs["m"].variables["a"].type.display() == "Real 1 over N"


def test_scalar_and_morphism_arguments_are_checked():
    text = ("object N : FinSet 2\nobject R : Real 1\nobject V : Real 2\n"
            "morphism f : V -> V\n"
            "program t(K : FinSet, sd : Real, g : Mor[R, R]) : K -> R\n"
            "    sample s : K <- Normal(loc=0.0, scale=sd)\n"
            "    let u <- g(s)\n"
            "    return u\n"
            "program m : N -> R\n"
            "    sample w <- Normal(loc=0.0, scale=1.0) [over=N]\n"
            "    sample a <- t(N, w, f)\n"
            "    return a\n"
            "export m\n")
    assert diagnostics(text) == [
        ("QVR126", 11, 21, "`t`: argument 2 for `sd : Real` must be a value of width 1 "
                           "without plates, got `w`"),
        ("QVR126", 11, 24, "`t`: argument 3 for `g : Mor[R, R]` must be a morphism "
                           "`R -> R`, got `f`")]


def test_an_error_only_an_instance_has_is_reported_at_the_call():
    text = ("object Two : FinSet 2\nobject Five : FinSet 5\n"
            "object W : Real 2\n"
            "program mix(G : FinSet) : G -> W\n"
            "    sample p : G <- Dirichlet(concentration=1.0)\n"
            "    let q = p + [1.0, 2.0]\n"
            "    return q\n"
            "program main : Five -> W\n"
            "    sample a <- mix(Two)\n"
            "    sample b <- mix(Five)\n"
            "    let c = a + b\n"
            "    return c\n"
            "export main\n")
    # the abstract check cannot tell (the size of `G` is unknown); `mix(Two)` is fine
    assert diagnostics(text) == [
        ("QVR069", 10, 20, "`mix(Five)`: arithmetic on widths 5 and 2")]
    a = analyze(text)
    d = a.diagnostics[0]
    assert [(r.message, a.line_index.position(r.span.start)) for r in d.related] == [
        ("in template `mix`", (5, 14))]


def test_a_template_in_a_morphism_expression_or_exported_is_qvr125():
    text = MISUSE_HEAD + "define d = t >> t\nexport t\n"
    assert diagnostics(text) == [
        ("QVR080", 1, 7, "`N` is declared but never used"),
        ("QVR080", 6, 7, "`d` is declared but never used"),
        ("QVR125", 6, 11, "`t` has object or morphism parameters: use it as "
                          "`sample v <- t(…)`"),
        ("QVR125", 6, 16, "`t` has object or morphism parameters: use it as "
                          "`sample v <- t(…)`"),
        ("QVR125", 7, 7, "`t` has object or morphism parameters: use it as "
                         "`sample v <- t(…)`")]


def test_data_names_of_a_template_become_named_inputs_of_the_caller():
    text = ("object N : FinSet 4\nobject R : Real 1\n"
            "program t(K : FinSet) : K -> R\n"
            "    sample s : K <- Normal(loc=offset, scale=1.0)\n"
            "    return s\n"
            "program m : N -> R\n"
            "    sample a <- t(N)\n"
            "    return a\n"
            "export m\n")
    assert diagnostics(text) == [
        ("QVR111", 4, 31, "`offset` is a data input of `t`: Real 1 over K")]
    variables = analyze(text).programs["m"].variables
    assert variables["offset"].kind == "data"
    # the instance `t(N)` ties the rows of `offset` to `N`: so does the caller's input
    assert variables["offset"].type.display() == "Real 1 over N"


SHARED_INPUT = """\
object School : FinSet 8
object Pupil : FinSet 12
object R : Real 1
program effects(G : FinSet) : G -> R
    sample raw : G <- Normal(loc=shift, scale=1.0)
    return raw
program model : R -> R
    sample first <- effects({first})
    sample second <- {second}
    let total = first[0] + second[0]
    return total
export model
"""


def test_a_named_input_read_over_two_plates_through_calls_is_qvr115():
    # both instances read the caller's one input `shift`: over School, then over Pupil
    text = SHARED_INPUT.format(first="School", second="effects(Pupil)")
    assert diagnostics(text) == [
        ("QVR111", 5, 33, "`shift` is a data input of `effects`: Real 1 over G"),
        ("QVR115", 9, 21, "`shift` is used over `School` (line 8) and over `Pupil`")]
    # the same plate twice is one input over it
    text = SHARED_INPUT.format(first="School", second="effects(School)")
    assert diagnostics(text) == [
        ("QVR080", 2, 7, "`Pupil` is declared but never used"),
        ("QVR111", 5, 33, "`shift` is a data input of `effects`: Real 1 over G")]
    variables = analyze(text).programs["model"].variables
    assert variables["shift"].type.display() == "Real 1 over School"


def test_a_named_input_read_by_a_callee_and_by_the_caller_over_other_plates_is_qvr115():
    text = SHARED_INPUT.format(first="School", second="Normal(loc=shift, scale=1.0)").replace(
        "    sample second <- Normal", "    sample second : Pupil <- Normal")
    assert diagnostics(text) == [
        ("QVR111", 5, 33, "`shift` is a data input of `effects`: Real 1 over G"),
        ("QVR115", 8, 20, "`shift` is used over `Pupil` (line 9) and over `School`"),
        ("QVR111", 9, 40, "`shift` is a data input of `model`: Real 1 over Pupil")]


def test_rows_of_a_template_data_input_meet_a_plate_in_the_caller():
    # `w` has rows of its own in the template; they come back with its value, and the
    # caller's observation over Trial ties them to Trial
    text = ("object Subject : FinSet 5\nobject Trial : FinSet 30\nobject R : Real 1\n"
            "program effects(G : FinSet) : G -> R\n"
            "    sample raw : G <- Normal(loc=0.0, scale=1.0)\n"
            "    let scaled = raw * w\n"
            "    return scaled\n"
            "program model : Trial -> R\n"
            "    sample by_subject <- effects(Subject)\n"
            "    let mu = by_subject[who]\n"
            "    observe y : Trial <- Normal(loc=mu, scale=1.0)\n"
            "    return mu\n"
            "export model\n")
    assert diagnostics(text) == [
        ("QVR111", 6, 23, "`w` is a data input of `effects`: Real 1 over ?w"),
        ("QVR111", 10, 24, "`who` is a data input of `model`: FinSet 5 over Trial")]
    variables = analyze(text).programs["model"].variables
    assert variables["by_subject"].type.display() == "Real 1 over Subject × Trial"
    assert variables["w"].type.display() == "Real 1 over Trial"


def test_a_call_binds_all_parameters_or_only_the_typed_ones():
    head = ("object N : FinSet 2\nobject R : Real 1\n"
            "program shift(K : FinSet, x) : R -> R\n"
            "    let y = x + 1.0\n"
            "    return y\n")

    def text(call: str) -> str:
        return head + ("program m : R -> R\n"
                       f"    sample a <- {call}\n"
                       "    return a\n"
                       "export m\n")

    assert diagnostics(text("shift(N, 2.0)")) == []  # one argument per parameter
    assert diagnostics(text("shift(N)")) == []  # the typed ones; the input is passed
    assert diagnostics(text("shift(N, 2.0, 3.0)")) == [
        ("QVR126", 7, 22, "`shift` takes 2 or 1 arguments, got 3")]


def test_unbound_scalar_parameters_become_named_inputs_of_the_caller():
    text = ("object R : Real 1\n"
            "program prior(scale : Real) : R -> R\n"
            "    sample s <- Normal(loc=0.0, scale=scale)\n"
            "    return s\n"
            "program m : R -> R\n"
            "    sample a <- prior\n"
            "    sample b <- prior(2.0)\n"
            "    let c = a + b\n"
            "    return c\n"
            "export m\n")
    assert diagnostics(text) == []
    variables = analyze(text).programs["m"].variables
    assert variables["scale"].kind == "data"  # from `prior` drawn without its argument
    assert variables["scale"].type.display() == "Real 1"


def test_a_template_drawing_from_itself_is_not_unfolded():
    # the self-draw is used before its declaration (QVR014); the call from `m` checks the
    # template once instead of unfolding it until the interpreter gives up
    text = ("object N : FinSet 2\nobject R : Real 1\n"
            "program t(K : FinSet) : K -> R\n    sample s <- t(K)\n    return s\n"
            "program m : N -> R\n    sample a <- t(N)\n    return a\nexport m\n")
    assert [d.code for d in analyze(text).diagnostics] == ["QVR014", "QVR017"]


def test_a_call_names_the_parameter_kind_as_written():
    text = ("object N : FinSet 2\nobject R : Real 1\nobject H : Real 3\n"
            "morphism f : H -> R\n"
            "program t(K : FinSet, g : Mor[H * R, R]) : K -> R\n    sample s : K <- Normal(loc=0.0, scale=1.0)\n"
            "    return s\n"
            "program m : N -> R\n    sample a <- t(N, f)\n    return a\nexport m\n")
    assert [d.message for d in analyze(text).diagnostics if d.code == "QVR126"] == [
        "`t`: argument 2 for `g : Mor[H * R, R]` must be a morphism `H * R -> R`, got `f`"]


def test_one_named_input_read_as_two_types_through_calls():
    # index data of a template called over plates of two sizes: 20 values, then 15
    picks = ("object Subject : FinSet 20\nobject Item : FinSet 15\nobject R : Real 1\n"
             "program pick(G : FinSet) : G -> R\n"
             "    sample raw : G <- Normal(loc=0.0, scale=1.0)\n"
             "    let chosen = raw[which]\n"
             "    return chosen\n"
             "program model : R -> R\n"
             "    sample a <- pick(Subject)\n"
             "    sample b <- pick({second})\n"
             "    let c = a + b\n"
             "    return c\n"
             "export model\n")
    assert diagnostics(picks.format(second="Item")) == [
        ("QVR116", 10, 16, "`which` takes 20 values (line 9) and 15 values here")]
    assert diagnostics(picks.format(second="Subject")) == [
        ("QVR080", 2, 7, "`Item` is declared but never used")]
    # a data input given to a morphism parameter over two spaces
    reads = ("object Pair : Real 2\nobject Triple : Real {width}\nobject R : Real 1\n"
             "morphism f2 : Pair -> R\nmorphism f3 : Triple -> R\n"
             "program read(K : Space, f : Mor[K, R]) : R -> R\n"
             "    let y <- f(x)\n"
             "    return y\n"
             "program model : R -> R\n"
             "    sample a <- read(Pair, f2)\n"
             "    sample b <- read(Triple, f3)\n"
             "    let c = a + b\n"
             "    return c\n"
             "export model\n")
    assert diagnostics(reads.format(width=3)) == [
        ("QVR111", 7, 15, "`x` is a data input of `read`: K over ?x"),
        ("QVR061", 11, 16, "`x` is `Pair` (line 10) and `Triple` here")]
    assert diagnostics(reads.format(width=2)) == [
        ("QVR111", 7, 15, "`x` is a data input of `read`: K over ?x")]


def test_a_callee_data_input_named_like_a_variable_of_the_caller_is_qvr113():
    # `spread` would be both the caller's latent site and the template's data input in the
    # one mapping of observations and named inputs
    text = ("object G : FinSet 3\nobject R : Real 1\n"
            "program effects(K : FinSet) : K -> R\n"
            "    sample raw : K <- Normal(loc=0.0, scale=spread)\n"
            "    return raw\n"
            "program model : R -> R\n"
            "    sample spread <- HalfNormal(scale=1.0)\n"
            "    sample by_group <- effects(G)\n"
            "    let total = by_group[0] * spread\n"
            "    return total\n"
            "export model\n")
    assert diagnostics(text) == [
        ("QVR111", 4, 44, "`spread` is a data input of `effects`: Real 1 over K"),
        ("QVR113", 8, 23, "`effects` reads data `spread` and cannot be drawn in `model`, which "
                          "binds `spread` (line 7)")]
    # a scalar parameter of the caller is a named input itself, the same input as the data
    # one: a number against one value per group
    text = text.replace("program model : R -> R\n    sample spread <- HalfNormal(scale=1.0)\n",
                        "program model(spread : Real) : R -> R\n")
    assert diagnostics(text) == [
        ("QVR111", 4, 44, "`spread` is a data input of `effects`: Real 1 over K"),
        ("QVR061", 7, 23, "`spread` is `Real 1` (line 6) and `Real 1 over G` here")]


SCALAR_PASSED_ON = """\
object R : Real 1
program prior(spread : Real) : R -> R
    sample a <- Normal(loc=0.0, scale=spread)
    return a
program middle(spread : Real) : R -> R
    sample b <- prior
    let c = b * 2.0
    return c
program top : R -> R
    sample d <- {call}
    return d
export top
"""


def test_a_scalar_parameter_handed_on_by_name_cannot_be_bound_by_a_call():
    # `prior` drawn without its argument reads `spread` by name: `middle`'s own `spread`
    assert diagnostics(SCALAR_PASSED_ON.format(call="middle")) == []
    # bound by the call, it would no longer reach `prior`
    assert diagnostics(SCALAR_PASSED_ON.format(call="middle(2.0)")) == [
        ("QVR113", 10, 23, "`middle` hands `spread` on, by name, to the programs it draws: a "
                           "call cannot bind it")]
    # the same in a template instance: its call binds `spread`, which `effects` reads
    template = (
        "object G : FinSet 3\nobject R : Real 1\n"
        "program effects(K : FinSet) : K -> R\n"
        "    sample raw : K <- Normal(loc=0.0, scale=1.0)\n"
        "    let scaled = raw * spread\n"
        "    return scaled\n"
        "program outer(K : FinSet, spread : Real) : K -> R\n"
        "    sample inner <- effects(K)\n"
        "    return inner\n"
        "program model : R -> R\n"
        "    sample e <- outer(G, 2.0)\n"
        "    let total = e[0]\n"
        "    return total\n"
        "export model\n")
    assert diagnostics(template) == [
        ("QVR111", 5, 23, "`spread` is a data input of `effects`: Real 1 over ?spread"),
        ("QVR061", 8, 20, "`spread` is `Real 1` (line 7) and `Real 1 over ?spread` here"),
        ("QVR113", 11, 22, "`outer(G, 2.0)`: `effects` reads data `spread` and cannot be drawn "
                           "in `outer`, which binds `spread` (line 7)")]


def test_rows_of_a_template_data_input_cannot_become_a_plate_its_value_has():
    # `w` has rows of its own next to Trial in the instance; meeting Trial in the caller
    # would need them to be Trial's own elements
    text = ("object Trial : FinSet 30\nobject R : Real 1\n"
            "program effects(G : FinSet) : G -> R\n"
            "    sample raw : Trial <- Normal(loc=0.0, scale=1.0)\n"
            "    let scaled = raw * w\n"
            "    return scaled\n"
            "program model : Trial -> R\n"
            "    sample e <- effects(Trial)\n"
            "    let mu = e[who]\n"
            "    observe y : Trial <- Normal(loc=mu, scale=1.0)\n"
            "    return mu\n"
            "export model\n")
    assert diagnostics(text) == [
        ("QVR111", 5, 23, "`w` is a data input of `effects`: Real 1 over ?w"),
        ("QVR114", 8, 16, "`w` has rows of its own in `effects`, whose value also varies over "
                          "`Trial`: those rows cannot become `Trial` here"),
        ("QVR111", 9, 15, "`who` is a data input of `model`: FinSet 30 over Trial")]


def test_a_morphism_parameter_needs_its_domain_and_codomain():
    text = ("object N : FinSet 2\nobject R : Real 1\nmorphism g : R -> R\n"
            "program t(K : FinSet, f : {kind}) : K -> R\n"
            "    sample s : K <- Normal(loc=0.0, scale=1.0)\n"
            "    return s\n"
            "program m : R -> R\n"
            "    sample a <- t(N, g)\n"
            "    return a\n"
            "export m\n")
    assert diagnostics(text.format(kind="Mor[R, R]")) == []
    for kind in ("Mor", "Map[R, R]"):
        assert diagnostics(text.format(kind=kind))[0] == (
            "QVR125", 4, 26, f"unknown parameter kind `{kind}`; expected FinSet, Space, Object, "
                             "Real, Nat or Mor[A, B]")


def test_a_template_passes_its_object_parameter_to_one_of_the_same_name():
    # `outer`'s `K` bound to `effects`'s `K`: the object in scope, a plate in `effects`
    text = ("object G : FinSet 3\nobject R : Real 1\n"
            "program effects(K : FinSet) : K -> R\n"
            "    sample raw : K <- Normal(loc=0.0, scale=1.0)\n"
            "    return raw\n"
            "program outer(K : FinSet) : K -> R\n"
            "    sample inner <- effects(K)\n"
            "    return inner\n"
            "program model : R -> R\n"
            "    sample e <- outer(G)\n"
            "    let total = e[0]\n"
            "    return total\n"
            "export model\n")
    assert diagnostics(text) == []
    assert analyze(text).programs["model"].variables["e"].type.display() == "Real 1 over G"


def test_a_morphism_argument_naming_the_calling_program_is_qvr014():
    text = ("object N : FinSet 2\nobject R : Real 1\n"
            "program t(K : FinSet, f : Mor[R, R]) : K -> R\n"
            "    sample s : K <- Normal(loc=0.0, scale=1.0)\n"
            "    let y <- f(s)\n"
            "    return y\n"
            "program m : R -> R\n"
            "    sample a <- t(N, m)\n"
            "    let b = a[0]\n"
            "    return b\n"
            "export m\n")
    assert diagnostics(text) == [
        ("QVR014", 8, 21, "`m` is used before its declaration (line 7)")]


def test_rows_a_program_reads_of_its_own_meet_the_plate_a_callee_reads_them_over():
    # `model` reads `shift` with rows of its own; `effects(School)` reads it over School:
    # one input, so `total` is one draw per school
    text = ("object School : FinSet 8\nobject R : Real 1\n"
            "program effects(G : FinSet) : G -> R\n"
            "    sample raw : G <- Normal(loc=shift, scale=1.0)\n"
            "    return raw\n"
            "program model : R -> R\n"
            "    sample by_school <- effects(School)\n"
            "    sample total <- Normal(loc=by_school[0], scale=shift)\n"
            "    return total\n"
            "export model\n")
    assert diagnostics(text) == [
        ("QVR111", 4, 33, "`shift` is a data input of `effects`: Real 1 over G"),
        ("QVR111", 8, 51, "`shift` is a data input of `model`: Real 1 over School")]
    variables = analyze(text).programs["model"].variables
    assert variables["total"].type.display() == "Real 1 over School"


BARE_INPUT = """\
object Group : FinSet 3
object Member : FinSet 4
object R : Real 1
program member(centre, K : FinSet, spread : Real) : R -> R
    sample d <- Normal(loc=centre, scale=spread)
    return d
program nested : Group -> R
    sample g : Group <- Normal(loc=0.0, scale=1.0) [over=Member]
    sample m <- member(g, Group, 1.0) [iid_over=[Group, Member]]
    return m
export nested
"""


def test_the_arguments_of_bare_parameters_must_give_the_instance_domain():
    # `g` is a vector of width 4 per group, `member`'s input one number: the call's input is
    # checked as a draw's arguments are
    assert diagnostics(BARE_INPUT) == [
        ("QVR061", 9, 23, "`member` expects `R` but the arguments give `Real 4`")]
    fixed = BARE_INPUT.replace(" [over=Member]", "")
    assert diagnostics(fixed) == []
