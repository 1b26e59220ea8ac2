"""Plated values (spec part 2 §4.1, §4.2, §5.1, §5.2, §5.8): the plate algebra, Rule A on step
annotations and options, step plates (axis and row plates), returns over plates, and the
codes QVR073, QVR114, QVR115 (one row plate per program included), QVR117, QVR118, QVR130, QVR132. Each program test compares the
whole diagnostic list (code, line, column, message) and, where it matters, the types."""
from __future__ import annotations

from qvr.semantics import analyze
from qvr.semantics.plates import Plate, PlateEnv, PlatedType, Plating, plated
from qvr.semantics.types import ObjType
from sem_helpers import diagnostics


def var_types(text: str, program: str = "p") -> dict:
    info = analyze(text).programs[program]
    return {n: v.type.display() for n, v in info.variables.items() if v.type is not None}


A, B, C = Plate("A", 2), Plate("B", 3), Plate("C", 4)


# ------------------------------------------------------------------------- the algebra ----
def test_merge_is_a_union_in_order_of_appearance_aligned_by_identity():
    env = PlateEnv()
    assert env.merge(Plating((A, B)), Plating((C, A))) == Plating((A, B, C))
    assert env.merge(Plating(), Plating((B,))) == Plating((B,))
    # two plates of equal size stay two plates
    assert env.merge(Plating((Plate("X", 3),)), Plating((B,))).axes == (Plate("X", 3), B)


def test_open_plates_unify_and_a_declared_plate_stays_a_separate_axis():
    env = PlateEnv()
    m = env.merge(Plating(open="x"), Plating(open="y"))
    assert m.open in ("x", "y") and env.find("x") == env.find("y")
    assert env.merge(Plating((A,), open=None), Plating(open="z")) == Plating((A,), "z")
    # binding the class of `x` binds `y` too, and resolving turns it into that axis
    assert env.bind("y", B, None) is None
    assert env.resolve(Plating(open="x")) == Plating((B,))
    assert env.resolve(Plating((B,), open="x")) == Plating((B,))
    # a second, different plate is a clash (QVR115) and leaves the first binding
    assert env.bind("x", C, None) == (B, None)
    assert env.resolve(Plating(open="x")) == Plating((B,))


def test_display_of_plated_types():
    env = PlateEnv()
    real = ObjType.real(1)
    assert plated(real, Plating(), env) is real
    assert plated(real, Plating((A, B)), env).display() == "Real 1 over A × B"
    t = plated(real, Plating(open="x"), env)
    assert isinstance(t, PlatedType) and t.display() == "Real 1 over ?x" and t.width == 1
    env.bind("x", C, None)
    assert t.display() == "Real 1 over C"  # resolved when shown
    tok = ObjType.fin(32, "Token")
    assert plated(tok, Plating(row=Plate("Resp", 32)), env).display() == \
        "Token (row plate Resp, 32 rows)"


# --------------------------------------------------------------------- steps (§5.2) ----
SCHOOLS = """object School : FinSet 8
object R : Real 1
program p : School -> R
    sample mu <- Normal(loc=0.0, scale=10.0)
    sample tau <- HalfCauchy(scale=5.0)
    sample theta : School <- Normal(loc=mu, scale=tau)
    observe y : School <- Normal(loc=theta, scale=sd)
    return mu
export p
"""


def test_axis_plates_and_a_data_name_unified_with_the_step_plate():
    assert diagnostics(SCHOOLS) == [
        ("QVR111", 7, 50, "`sd` is a data input of `p`: Real 1 over School")]
    types = var_types(SCHOOLS)
    assert types["theta"] == "Real 1 over School"
    assert types["y"] == "Real 1 over School"
    assert types["sd"] == "Real 1 over School"
    assert types["mu"] == "Real 1"


def test_an_argument_over_another_plate_is_qvr114():
    text = SCHOOLS.replace("object R : Real 1", "object K : FinSet 3\nobject R : Real 1").replace(
        "observe y : School <- Normal(loc=theta, scale=sd)",
        "observe y : K <- Normal(loc=theta, scale=1.0)")
    assert diagnostics(text) == [
        ("QVR114", 8, 32, "`theta` varies over `School`, which is not a plate of this step")]


def test_two_plates_for_one_data_name_is_qvr115():
    text = """object A : FinSet 2
object B : FinSet 3
object R : Real 1
program p : A -> R
    sample s <- HalfNormal(scale=1.0)
    observe y : A <- Normal(loc=x, scale=s)
    observe z : B <- Normal(loc=x, scale=s)
    return s
export p
"""
    assert diagnostics(text) == [
        ("QVR111", 6, 32, "`x` is a data input of `p`: Real 1 over A"),
        ("QVR115", 7, 32, "`x` is used over `A` (line 6) and over `B`")]


def test_a_data_name_needs_exactly_one_free_plate():
    text = """object A : FinSet 2
object B : FinSet 3
object R : Real 1
program p : A -> R
    sample s <- HalfNormal(scale=1.0)
    sample u : A <- Normal(loc=0.0, scale=1.0)
    observe y : A <- Normal(loc=u + x, scale=s) [iid_over=A]
    observe z <- Normal(loc=w, scale=s) [iid_over=[A, B]]
    return s
export p
"""
    assert diagnostics(text) == [
        ("QVR114", 7, 32, "`x` varies over data rows but this step has no free plate"),
        ("QVR111", 7, 36, "`x` is a data input of `p`: Real 1 over ?x"),
        ("QVR111", 8, 28, "`w` is a data input of `p`: Real 1 over ?w"),
        ("QVR114", 8, 28, "cannot tell whether `w` ranges over `A` or `B`")]


def test_without_a_declaration_the_step_takes_its_arguments_plates():
    text = """object A : FinSet 2
object R : Real 1
program p : A -> R
    sample u : A <- Normal(loc=0.0, scale=1.0)
    sample v <- Normal(loc=u, scale=1.0)
    let m = b0 + b1 * x
    observe y <- Normal(loc=m, scale=1.0)
    return b0
export p
"""
    found = diagnostics(text)
    assert [c for c, *_ in found] == ["QVR082", "QVR111", "QVR111", "QVR111"]
    types = var_types(text)
    assert types["v"] == "Real 1 over A"
    assert types["m"] == "Real 1 over ?b0" and types["y"] == "Real 1 over ?b0"


def test_row_plate_reading_and_the_value_type_reading():
    text = """object Tok : FinSet 10
object Row : FinSet 4
object H : Real 3
morphism emb : Tok -> H [role=embed]
morphism head : H -> Tok ~ Categorical
program lm : Tok -> Tok
    sample h <- emb
    observe y : Row <- head(h)
    return y
export lm
"""
    assert diagnostics(text) == [
        ("QVR117", 8, 16, "`Row` is read as the row plate: 4 rows, one `Tok` per row; the batch "
                          "must have 4 rows")]
    assert var_types(text, "lm")["y"] == "Tok (row plate Row, 4 rows)"
    # the annotation ≈ the value type keeps its part-1 meaning (Rule A step 3)
    same = text.replace("observe y : Row <- head(h)", "observe y : Tok <- head(h)")
    assert diagnostics(same).count(("QVR080", 2, 7, "`Row` is declared but never used")) == 1
    assert [c for c, *_ in diagnostics(same)] == ["QVR080"]
    assert var_types(same, "lm")["y"] == "Tok"


ROWS = """object A : FinSet 4
object B : FinSet 6
object R : Real 1
"""


def _hints_and_errors(text: str) -> list:
    return [f for f in diagnostics(text) if f[0] != "QVR117"]


def test_one_program_reads_one_row_plate():
    # the batch of a run has one number of rows: the second row plate is QVR115 at its
    # annotation, with the first as related information
    text = ROWS + """program p(x) : R -> R
    sample u : A <- Normal(loc=x, scale=1.0)
    sample w : B <- Normal(loc=x, scale=1.0)
    let s = u + w
    return s
export p
"""
    assert _hints_and_errors(text) == [("QVR115", 6, 15, "`x` is used over `A` (line 5) and over `B`")]
    (found,) = [d for d in analyze(text).diagnostics if d.code == "QVR115"]
    assert [(r.message, text[r.span.start:r.span.end]) for r in found.related] == [
        ("the rows of `x` are `A` here", "A")]
    # two objects of the same size are still two plates; the same plate twice is one
    same_size = text.replace("object B : FinSet 6", "object B : FinSet 4")
    assert _hints_and_errors(same_size) == [("QVR115", 6, 15, "`x` is used over `A` (line 5) and over `B`")]
    assert _hints_and_errors(text.replace("sample w : B", "sample w : A")) == [
        ("QVR080", 2, 7, "`B` is declared but never used")]


def test_a_drawn_program_brings_its_row_plate_to_the_caller():
    callee = ROWS + """program inner(x) : R -> R
    sample u : A <- Normal(loc=x, scale=1.0)
    return u
"""
    # the caller's own row plate, after the draw
    own = callee + """program outer(x) : R -> R
    sample a <- inner(x)
    sample w : B <- Normal(loc=x, scale=1.0)
    let s = a + w
    return s
export outer
"""
    assert _hints_and_errors(own) == [("QVR115", 9, 15, "`x` is used over `A` (line 8) and over `B`")]
    assert analyze(own).programs["outer"].row_plates == (Plate("A", 4), Plate("B", 6))
    # two drawn programs; a caller without parameters names its input by the program
    other = callee + """program other(x) : R -> R
    sample v : B <- Normal(loc=x, scale=1.0)
    return v
program both : R -> R
    sample a <- inner
    sample b <- other
    let s = a + b
    return s
export both
"""
    assert _hints_and_errors(other) == [
        ("QVR115", 12, 16, "`both(…)` is used over `A` (line 11) and over `B`")]
    # the same row plate in both is one
    assert _hints_and_errors(other.replace("sample v : B", "sample v : A")) == [
        ("QVR080", 2, 7, "`B` is declared but never used")]


def test_a_template_instance_brings_the_row_plate_it_is_called_with():
    text = ROWS + """program rows(x, G : FinSet) : R -> R
    sample u : G <- Normal(loc=x, scale=1.0)
    return u
program outer(x) : R -> R
    sample a <- rows(x, A)
    sample w : B <- Normal(loc=x, scale=1.0)
    let s = a + w
    return s
export outer
"""
    assert _hints_and_errors(text) == [("QVR115", 9, 15, "`x` is used over `A` (line 8) and over `B`")]
    assert _hints_and_errors(text.replace("rows(x, A)", "rows(x, B)")) == [
        ("QVR080", 1, 7, "`A` is declared but never used")]


def test_an_argument_less_draw_over_its_own_domain_is_plated():
    text = """object N : FinSet 5
object R : Real 1
morphism prior : N -> R ~ Normal
program p : N -> R
    sample z : N <- prior
    return z
export p
"""
    assert diagnostics(text) == []
    assert var_types(text)["z"] == "R over N"


def test_qvr073_only_when_the_annotation_is_no_finite_object():
    text = """object X : Real 2
object Y : Real 3
program p(a) : X -> X
    sample t : Y <- Normal(loc=a, scale=1.0)
    sample u : FinSet 8 <- Normal(loc=a, scale=1.0)
    return t
export p
"""
    assert diagnostics(text) == [
        ("QVR073", 4, 15, "annotation `Y` does not match the values `Real 2` of `Normal`"),
        ("QVR082", 5, 11, "`u` is sampled but never used; it still contributes to the joint "
                          "density"),
        ("QVR073", 5, 15, "annotation `FinSet 8` does not match the values `Real 2` of `Normal`")]


def test_iid_over_annotation_must_be_one_of_its_objects():
    text = """object A : FinSet 2
object B : FinSet 3
object R : Real 1
program p : A -> R
    sample u : B <- Normal(loc=0.0, scale=1.0) [iid_over=A]
    sample v : A <- Normal(loc=0.0, scale=1.0) [iid_over=[A, B]]
    sample w : R <- Normal(loc=0.0, scale=1.0) [iid_over=B]
    return w
export p
"""
    unused = "is sampled but never used; it still contributes to the joint density"
    assert diagnostics(text) == [
        ("QVR082", 5, 11, f"`u` {unused}"),
        ("QVR114", 5, 15, "annotation `B` must be one of the `iid_over` objects"),
        ("QVR082", 6, 11, f"`v` {unused}")]
    types = var_types(text)
    assert types["v"] == "Real 1 over A × B" and types["w"] == "Real 1 over B"


def test_event_axes_and_sizing():
    text = """object K : FinSet 3
object N : FinSet 2
object R : Real 1
program p : N -> R
    sample v <- Normal(loc=0.0, scale=1.0) [over=K]
    sample c : K <- Dirichlet(concentration=1.0)
    sample e : K <- Normal(loc=0.0, scale=1.0) [over=K]
    let s = v + e
    return c
export p
"""
    types = var_types(text)
    assert types["v"] == "Real 3" and types["e"] == "Real 3"
    assert types["c"] == "Simplex 3"


def test_sequences_cannot_carry_plates():
    text = """object Tok : FinSet 5
object N : FinSet 3
object H : Real 2
morphism emb : Tok -> H [role=embed]
morphism cell : H * H -> H ~ Normal
define states = emb >> scan(cell, states=all)
program p : Tok -> H
    sample hs <- states
    sample u : N <- Normal(loc=0.0, scale=1.0)
    let z = hs * u
    return z
export p
"""
    assert diagnostics(text) == [
        ("QVR130", 10, 12, "a sequence cannot carry plates: `hs * u` is `Seq[Real 2]` over `N`")]


def test_unknown_step_option():
    text = """object N : FinSet 2
object R : Real 1
program p : N -> R
    sample v <- Normal(loc=0.0, scale=1.0) [plate=N]
    return v
export p
"""
    assert diagnostics(text) == [
        ("QVR028", 4, 44, "unknown option `plate` for a program step; allowed: iid_over, over")]


# --------------------------------------------------------------------- returns (§4.2) ----
def test_returning_a_parameter_for_a_plate_codomain_is_qvr118():
    text = """object N : FinSet 5
program p : N -> N
    sample m <- Normal(loc=0.0, scale=1.0)
    observe y : N <- Normal(loc=m, scale=1.0)
    return m
export p
"""
    assert diagnostics(text) == [
        ("QVR118", 5, 11, "`N` is a plate of `p`; `p` returns `Real 1`")]
    info = analyze(text).programs["p"]
    assert info.effective.cod.display() == "Real 1"
    # a codomain that is no plate of the program is still QVR066
    other = text.replace("object N : FinSet 5", "object N : FinSet 5\nobject M : FinSet 2") \
        .replace("program p : N -> N", "program p : N -> M")
    assert diagnostics(other) == [
        ("QVR066", 6, 11, "`return` gives `Real 1` but program `p` declares `M`")]


def test_a_plated_value_returns_its_codomain_over_its_plates():
    text = SCHOOLS.replace("return mu", "return theta")
    assert [c for c, *_ in diagnostics(text)] == ["QVR111"]
    assert analyze(text).programs["p"].return_type.display() == "Real 1 over School"


def test_tuple_returns_with_different_plates_take_one_factor_each():
    text = """object School : FinSet 8
object Effect : Real 1
object Scale : Real 1
program p : School -> Effect * Scale
    sample sigma <- HalfNormal(scale=1.0)
    sample theta : School <- Normal(loc=0.0, scale=sigma)
    return (effects: theta, scale: sigma)
export p
"""
    assert diagnostics(text) == []
    three = text.replace("Effect * Scale", "Effect * Scale * Scale")
    assert diagnostics(three) == [
        ("QVR066", 7, 11, "`return` gives 2 values over different plates but program `p` "
                          "declares `Effect * Scale * Scale` with 3 factors")]


def test_seed_programs_keep_their_meaning():
    """A part-1 annotation equal to the value type (a finite object) is not a plate."""
    text = """object Hidden : Real 4
object Token : FinSet 6
morphism tok_embed : Token -> Hidden [role=embed]
morphism lm_head : Hidden -> Token ~ Categorical
program next(tok) : Token -> Token
    let h = tok_embed(tok)
    observe next_token : Token <- lm_head(h)
    return next_token
export next
"""
    assert diagnostics(text) == []
    assert var_types(text, "next")["next_token"] == "Token"


# ------------------------------------------------------------------- indexing (§5.4) ----
def test_literal_indices_sections_and_the_coordinate():
    text = """object A : FinSet 2
object B : FinSet 3
object R : Real 1
program p : A -> R
    sample cell : A <- Normal(loc=0.0, scale=1.0) [iid_over=[A, B]]
    sample z : A <- Normal(loc=0.0, scale=1.0) [over=B]
    let one = cell[0, 2]
    let row = cell[1]
    let same = cell[A]
    let coord = z[0, 2]
    observe y <- Normal(loc=one + row + same + coord, scale=1.0)
    return y
export p
"""
    assert diagnostics(text) == []
    types = var_types(text)
    assert types["one"] == "Real 1" and types["row"] == "Real 1 over B"
    assert types["same"] == "Real 1 over A × B" and types["coord"] == "Real 1"
    assert types["y"] == "Real 1 over B × A"


def test_gathers_with_index_data_names_unify_their_rows():
    text = """object A : FinSet 2
object B : FinSet 3
object Obs : FinSet 40
object R : Real 1
program p : Obs -> R
    sample cell : A <- Normal(loc=0.0, scale=1.0) [iid_over=[A, B]]
    observe y : Obs <- Normal(loc=cell[color_of, size_of], scale=1.0)
    return y
export p
"""
    assert diagnostics(text) == [
        ("QVR111", 7, 39, "`color_of` is a data input of `p`: FinSet 2 over Obs"),
        ("QVR111", 7, 49, "`size_of` is a data input of `p`: FinSet 3 over Obs")]
    types = var_types(text)
    assert types["color_of"] == "FinSet 2 over Obs" and types["size_of"] == "FinSet 3 over Obs"


def test_bad_indices_are_qvr116():
    text = """object A : FinSet 2
object B : FinSet 3
object R : Real 1
program p : A -> R
    sample u : A <- Normal(loc=0.0, scale=1.0)
    sample k <- Categorical(probs=[0.2, 0.3, 0.5])
    let a = u[2]
    let b = u[B]
    let c = u[k]
    let d = u[0, 0, 0]
    let e = u[0.5 * 2.0]
    return u
export p
"""
    assert diagnostics(text) == [
        ("QVR081", 7, 8, "`let a` is never used"),
        ("QVR116", 7, 14, "`u[…]`: index 2 is out of range for `A` (2 elements)"),
        ("QVR081", 8, 8, "`let b` is never used"),
        ("QVR116", 8, 14, "`u[…]`: `B` is not a plate of `u`"),
        ("QVR081", 9, 8, "`let c` is never used"),
        ("QVR116", 9, 14, "`u[…]`: `k` takes 3 values but `A` has 2"),
        ("QVR081", 10, 8, "`let d` is never used"),
        ("QVR116", 10, 20, "`u[…]`: `u` has 1 plates, got 3 indices"),
        ("QVR081", 11, 8, "`let e` is never used"),
        ("QVR116", 11, 14, "`u[…]`: `0.5 * 2.0` is not an index")]


def test_only_program_variables_can_be_indexed():
    text = """object A : FinSet 2
object R : Real 1
program p : A -> R
    let a = A[0]
    let b = w[0]
    return a
export p
"""
    assert diagnostics(text) == [
        ("QVR017", 4, 12, "`A` is an object, not a program variable"),
        ("QVR081", 5, 8, "`let b` is never used"),
        ("QVR017", 5, 12, "`w` is not a program variable; only a variable bound in the program "
                          "can be indexed")]


# ------------------------------------------------- reductions, vectors, matrices (§5.8) ----
def test_reductions_remove_the_width_or_the_innermost_plate():
    text = """object K : FinSet 3
object R : Real 1
object V : Real 2
program p(v) : V -> R
    sample mu : K <- Normal(loc=0.0, scale=1.0)
    let total = sum(mu)
    let rows = mean(mu * x)
    let width = logsumexp(v)
    let plain = sigmoid(mu)
    observe y <- Normal(loc=total + rows + width + plain, scale=1.0)
    return total
export p
"""
    assert [c for c, *_ in diagnostics(text)] == ["QVR111"]
    types = var_types(text)
    assert types["total"] == "Real 1" and types["rows"] == "Real 1 over K"
    assert types["width"] == "Real 1" and types["plain"] == "Real 1 over K"


def test_a_vector_parameter_consumes_the_innermost_plate():
    text = """object Component : FinSet 3
object Resp : FinSet 100
object Weights : Real 3
program p : Resp -> Weights
    sample probs <- Dirichlet(concentration=1.0) [over=Component]
    sample mu : Component <- Normal(loc=0.0, scale=5.0)
    sample sigma : Component <- HalfNormal(scale=1.0)
    observe r : Resp <- MixtureNormal(weights=probs, loc=mu, scale=sigma)
    sample _k <- Categorical(logits=mu)
    observe c : Resp <- Categorical(logits=mu * 2.0)
    return probs
export p
"""
    assert diagnostics(text) == []
    types = var_types(text)
    assert types["probs"] == "Simplex 3" and types["r"] == "Real 1 over Resp"
    assert types["_k"] == "FinSet 3"



def test_a_simplex_of_one_category_is_a_whole_vector_not_a_plate_to_consume():
    text = """object Doc : FinSet 4
object One : FinSet 1
object Four : FinSet 4
program p : Doc -> One * Four
    sample theta : Doc <- Dirichlet(concentration=1.0) [over=One]
    sample k <- Categorical(probs=theta)
    sample mu : Doc <- Normal(loc=0.0, scale=1.0)
    sample j <- Categorical(logits=mu)
    return (k, j)
export p
"""
    assert diagnostics(text) == []
    types = var_types(text)
    assert types["theta"] == "Simplex 1 over Doc" and types["k"] == "FinSet 1 over Doc"
    assert types["j"] == "FinSet 4"  # a width-1 real over `Doc` still gives its vector axis


def test_the_vector_parameters_of_a_mixture_broadcast_to_the_widest():
    head = """object Component : FinSet 3
object Resp : FinSet 10
object Weights : Real 3
program p : Resp -> Weights
    sample probs <- Dirichlet(concentration=1.0) [over=Component]
    sample mu : Component <- Normal(loc=0.0, scale=5.0)
    sample sigma : Component <- HalfNormal(scale=1.0)
"""
    text = head + "    observe r : Resp <- MixtureNormal(weights=1.0, loc=mu, scale=sigma)\n" \
        "    return probs\nexport p\n"
    analysis = analyze(text)
    assert analysis.diagnostics == ()
    step = analysis.programs["p"].decl.steps[3]
    assert analysis.inline_info(step).width == 3  # the components `loc` and `scale` give
    four = head + "    let m = [0.0, 1.0, 2.0, 3.0]\n" \
        "    observe r : Resp <- MixtureNormal(weights=probs, loc=m, scale=sigma)\n" \
        "    return probs\nexport p\n"
    assert diagnostics(four) == [
        ("QVR082", 6, 11, "`mu` is sampled but never used; it still contributes to the joint density"),
        ("QVR064", 9, 57, "`MixtureNormal`: argument widths 3 and 4 cannot be broadcast")]

def test_matrix_literals_and_matrix_arithmetic():
    text = """object Dim : FinSet 3
object Item : FinSet 100
object Vec3 : Real 3
program p : Item -> Vec3
    sample L : Dim <- LKJCholesky(concentration=2.0)
    sample sigma <- HalfNormal(scale=1.0)
    sample mu <- Normal(loc=0.0, scale=5.0) [over=Dim]
    let S = sigma * L
    let C = [[1.0, 0.3, 0.0], [0.3, 1.0, 0.0], [0.0, 0.0, 2.0]]
    observe y : Item <- MultivariateNormal(loc=mu, scale_tril=S)
    observe z : Item <- MultivariateNormal(loc=mu, covariance_matrix=C * mu)
    return mu
export p
"""
    assert diagnostics(text) == []
    types = var_types(text)
    assert types["L"] == "Matrix 3 3" and types["S"] == "Matrix 3 3"
    assert types["C"] == "Matrix 3 3" and types["y"] == "Real 3 over Item"
    bad = text.replace("[0.0, 0.0, 2.0]]", "[0.0, 2.0]]").replace(
        "scale_tril=S", "scale_tril=mu")
    assert diagnostics(bad) == [
        ("QVR081", 8, 8, "`let S` is never used"),
        ("QVR133", 9, 47, "rows of a matrix literal must have equal widths (3 and 2)"),
        ("QVR133", 10, 62, "`MultivariateNormal` needs `Matrix 3 3` for `scale_tril`, got "
                           "`Real 3`")]


# ------------------------------------------------- lifting and elementwise use (§5.1) ----
def test_programs_with_data_or_plated_steps_are_not_elementwise():
    cell = """object H : Real 2
program cell(x, h) : H * H -> H
    let h2 = h + x * offset
    return h2
"""
    assert diagnostics(cell + "define run = scan(cell)\nexport run\n")[-1] == \
        ("QVR113", 5, 18, "`cell` reads data `offset` and cannot be used inside `scan(…)`")
    plated_step = """object N : FinSet 3
object R : Real 1
program p(x) : R -> R
    sample u : N <- Normal(loc=x, scale=1.0)
    return u
"""
    found = diagnostics(plated_step + "define d = p >> p\nexport d\n")
    message = "`p` has plated step `u` and cannot be used in a morphism expression"
    assert [f for f in found if f[0] == "QVR113"] == [
        ("QVR113", 6, 11, message), ("QVR113", 6, 16, message)]
    # exporting such a program by name is allowed
    assert [f[0] for f in diagnostics(plated_step + "export p\n")] == ["QVR117"]


def test_hover_shows_plates_and_data_inputs():
    from qvr_lsp.documents import DocumentStore
    from qvr_lsp.features import hover

    doc = DocumentStore().open("file:///tmp/schools.qvr", SCHOOLS, 1)

    def shown(needle: str) -> str:
        return hover.hover(doc, SCHOOLS.index(needle) + 1).markdown

    assert shown("theta :") == "```qvr\ntheta : Real 1 over School\n```\n\n" \
                               "sample variable of program `p`"
    assert shown("sd)") == "```qvr\nsd : Real 1 over School (data)\n```\n\n" \
                           "data input of program `p`"


def test_a_family_without_a_fixed_size_needs_one():
    text = """object K : FinSet 3
object R : Real 1
program p : K -> R
    sample w <- Dirichlet(concentration=1.0)
    sample L <- LKJCholesky(concentration=1.0)
    sample s <- Normal(loc=0.0, scale=1.0)
    return s
export p
"""
    unused = "is sampled but never used; it still contributes to the joint density"
    assert diagnostics(text) == [
        ("QVR082", 4, 11, f"`w` {unused}"),
        ("QVR132", 4, 16, "`Dirichlet` needs its size: annotate the step with a finite object "
                          "(`: N`) or give `[over=N]`"),
        ("QVR082", 5, 11, f"`L` {unused}"),
        ("QVR132", 5, 16, "`LKJCholesky` needs its size: annotate the step with a finite "
                          "object (`: N`) or give `[over=N]`")]
    sized = text.replace("sample w <-", "sample w : K <-").replace(
        "LKJCholesky(concentration=1.0)", "LKJCholesky(concentration=1.0) [over=K]")
    assert [c for c, *_ in diagnostics(sized)] == ["QVR082", "QVR082"]
    types = var_types(sized)
    assert types["w"] == "Simplex 3" and types["L"] == "Matrix 3 3"


def test_a_sequence_combines_with_values_without_plates():
    text = """object Tok : FinSet 5
object H : Real 2
morphism emb : Tok -> H [role=embed]
morphism cell : H * H -> H ~ Normal
define states = emb >> scan(cell, states=all)
program p : Tok -> H
    sample hs <- states
    sample u <- Normal(loc=0.0, scale=1.0)
    let z = hs * u
    return z
export p
"""
    assert diagnostics(text) == []
    assert var_types(text)["z"] == "Seq[Real 2]"


def test_drawing_a_program_gives_its_return_over_its_plates():
    text = """object School : FinSet 8
object Effect : Real 1
object Scale : Real 1
program schools : School -> Effect
    sample mu <- Normal(loc=0.0, scale=1.0)
    sample theta : School <- Normal(loc=mu, scale=1.0)
    return theta
program pair : School -> Effect * Scale
    sample sigma <- HalfNormal(scale=1.0)
    sample theta : School <- Normal(loc=0.0, scale=sigma)
    return (theta, sigma)
program p : School -> Effect
    sample t <- schools
    sample (a, b) <- pair
    let c = t + a * b
    return c
export p
"""
    assert diagnostics(text) == []
    types = var_types(text)
    assert types["t"] == "Effect over School" and types["a"] == "Real 1 over School"
    assert types["b"] == "Real 1 {low=0.0}" and types["c"] == "Real 1 over School"
    # the returned plates take part in the step's plates like an argument's
    other = text.replace("object Scale : Real 1", "object Scale : Real 1\nobject K : FinSet 2") \
        .replace("sample t <- schools", "sample t : K <- schools")
    assert diagnostics(other)[0] == (
        "QVR114", 14, 20, "`schools` varies over `School`, which is not a plate of this step")
