"""`marginalize` blocks (spec part 2 §5.7, §2.3): enumerable families and the type and
plates of the summed variable, the body's rules (QVR119 empty body, QVR120 a draw depending
on the variable, QVR121 a family without finite support, QVR122 `reduction` on it), grouping
by `over`/`via` or by plates (QVR123), the scope after the block (QVR012), the effect
`Marginal`, and nested blocks (tier 2). Each test compares a program's whole diagnostic list
(code, line, column, message)."""
from __future__ import annotations

from qvr.semantics import analyze
from qvr.semantics.plates import Plate
from sem_helpers import diagnostics

TOPICS = ("object Doc : FinSet 4\nobject Topic : FinSet 3\nobject Vocab : FinSet 6\n"
          "object Token : FinSet 20\nobject Mix : Real 3\n")
SMALL = "object N : FinSet 5\nobject R : Real 1\n"


def program(head: str, *steps: str, ret: str = "return s", sig: str = "program p : N -> R"):
    return head + sig + "\n" + "".join(f"    {s}\n" for s in steps) + f"    {ret}\nexport p\n"


def test_a_grouped_block_pulls_arguments_back_through_via():
    text = program(TOPICS,
                   "sample theta : Doc <- Dirichlet(concentration=1.0) [over=Topic, iid_over=Doc]",
                   "sample phi : Topic <- Dirichlet(concentration=1.0) [over=Vocab, iid_over=Topic]",
                   "marginalize z : Topic <- Categorical(probs=theta) [over=Doc, reduction=sum]",
                   "    observe w : Token <- Categorical(probs=phi[z]) [via=word_idx]",
                   ret="return theta", sig="program p : Token -> Mix")
    assert diagnostics(text) == [
        ("QVR111", 10, 60, "`word_idx` is a data input of `p`: FinSet 4 over Token")]
    info = analyze(text).programs["p"]
    shown = {n: v.type.display() for n, v in info.variables.items()}
    assert shown == {"theta": "Simplex 3 over Doc", "phi": "Simplex 6 over Topic",
                     "z": "FinSet 3 over Doc", "w": "FinSet 6 over Token",
                     "word_idx": "FinSet 4 over Token"}
    assert info.variables["z"].kind == "marginalize"
    assert info.marginals["z"].describe() == "summed out (atoms 0, 1, 2) with sum per Doc"
    assert info.effects == {"Sample", "Score", "Marginal"}


def test_a_block_over_an_annotation_plate_groups_by_identity():
    text = program("object Comp : FinSet 3\n" + SMALL,
                   "sample w <- Dirichlet(concentration=2.0) [over=Comp]",
                   "sample loc : Comp <- Normal(loc=0.0, scale=5.0)",
                   "sample s <- HalfNormal(scale=2.0)",
                   "marginalize c : N <- Categorical(probs=w)",
                   "    observe y : N <- Normal(loc=loc[c], scale=s)")
    assert diagnostics(text) == []
    info = analyze(text).programs["p"]
    assert info.variables["c"].type.display() == "FinSet 3 over N"


def test_bernoulli_type_families_have_two_atoms():
    text = program(SMALL,
                   "sample s <- HalfNormal(scale=1.0)",
                   "marginalize open <- ContinuousBernoulli(probs=0.3)",
                   "    observe y : N <- Normal(loc=open * s, scale=1.0)",
                   "marginalize busy <- Bernoulli(probs=0.3)",
                   "    observe x : N <- Normal(loc=busy * s, scale=1.0)")
    assert diagnostics(text) == []
    info = analyze(text).programs["p"]
    assert info.variables["open"].type.display() == "Real 1 {low=0.0, high=1.0}"
    assert info.variables["busy"].type.display() == "FinSet 2"
    assert info.marginals["open"].describe() == "summed out (atoms 0.0, 1.0) with logsumexp"


def test_an_empty_body_is_qvr119():
    text = program(SMALL,
                   "sample s <- HalfNormal(scale=1.0)",
                   "marginalize z <- Categorical(probs=[0.5, 0.5])",
                   "observe y : N <- Normal(loc=0.0, scale=s)")
    assert diagnostics(text) == [
        ("QVR119", 5, 4, "`marginalize z` has no body (its steps must be indented more than "
                         "`marginalize`)")]


def test_a_draw_that_depends_on_the_variable_is_qvr120():
    text = program(SMALL,
                   "sample s <- HalfNormal(scale=1.0)",
                   "marginalize z <- Bernoulli(probs=0.5)",
                   "    let m = z * 2.0",
                   "    sample u <- Normal(loc=m, scale=1.0)",
                   "    sample v <- Normal(loc=0.0, scale=1.0)",
                   "    observe y : N <- Normal(loc=u + v, scale=s)")
    assert diagnostics(text) == [
        ("QVR120", 7, 8, "`u` depends on `z` inside its `marginalize` block; only `let`, "
                         "`observe` and `score` steps may depend on it")]


def test_a_family_without_finite_support_is_a_scoped_latent():
    text = program(SMALL,
                   "sample s <- HalfNormal(scale=1.0)",
                   "marginalize u <- Normal(loc=0.0, scale=1.0)",
                   "    observe y : N <- Normal(loc=u, scale=s)")
    assert diagnostics(text) == [
        ("QVR121", 5, 21, "`Normal` has no finite support: `u` is sampled (a latent site), "
                          "not summed out")]
    info = analyze(text).programs["p"]
    assert info.marginals["u"].describe() == ("latent of `Normal` (not summed out; scoped to "
                                              "its block)")


def test_reduction_on_a_family_without_finite_support_is_qvr122():
    text = program(SMALL,
                   "sample s <- HalfNormal(scale=1.0)",
                   "marginalize u <- Normal(loc=0.0, scale=1.0) [reduction=sum]",
                   "    observe y : N <- Normal(loc=u, scale=s)")
    assert diagnostics(text) == [
        ("QVR122", 5, 49, "`reduction` needs an enumerable family (Categorical, Bernoulli, "
                          "ContinuousBernoulli, RelaxedBernoulli); `Normal` is not")]


def test_an_observe_without_via_or_the_group_plate_is_qvr123_only():
    text = ("object G : FinSet 3\nobject K : FinSet 2\nobject N : FinSet 6\nobject R : Real 1\n"
            "program p : N -> R\n"
            "    sample mu : K <- Normal(loc=0.0, scale=1.0)\n"
            "    marginalize k : K <- Categorical(probs=[0.5, 0.5]) [over=G]\n"
            "        observe y : N <- Normal(loc=mu[k], scale=1.0)\n"
            "        observe x : G <- Normal(loc=mu[k], scale=1.0)\n"
            "    return y\nexport p\n")
    # no QVR114 for `mu[k]` (over `G`) in `y`: an ungrouped observe is not checked further
    assert diagnostics(text) == [
        ("QVR123", 8, 16, "grouped `marginalize k`: `y` needs `via=` or the plate(s) G")]


def test_via_and_annotation_mistakes_in_a_grouped_block():
    text = program(TOPICS,
                   "sample theta : Doc <- Dirichlet(concentration=1.0) [over=Topic, iid_over=Doc]",
                   "marginalize z : Vocab <- Categorical(probs=theta) [over=Doc, reduction=max]",
                   "    let m = theta[Doc] * 2.0",
                   "    observe w : Token <- Normal(loc=m, scale=1.0) [via=[a, b]]",
                   ret="return theta", sig="program p : Token -> Mix")
    assert diagnostics(text) == [
        ("QVR123", 8, 20, "grouped `marginalize z`: an annotation beside `over` must be the "
                          "value type"),
        ("QVR029", 8, 75, "option `reduction` expects logsumexp, sum or mean, got `max`"),
        ("QVR123", 10, 55, "grouped `marginalize z`: `via` gives 2 indices but the block "
                           "groups over 1 object")]


def test_via_outside_a_grouped_block_is_qvr028():
    text = program(SMALL,
                   "sample s <- HalfNormal(scale=1.0)",
                   "marginalize z <- Bernoulli(probs=0.5)",
                   "    observe y : N <- Normal(loc=z * s, scale=1.0) [via=k]")
    assert diagnostics(text) == [
        ("QVR028", 6, 55, "unknown option `via` for a program step; allowed: iid_over, over")]


def test_the_variable_and_its_lets_are_out_of_scope_after_the_block():
    text = program(SMALL,
                   "sample s <- HalfNormal(scale=1.0)",
                   "marginalize z <- Bernoulli(probs=0.5)",
                   "    let m = z * s",
                   "    let q = s * 2.0",
                   "    observe y : N <- Normal(loc=m + q, scale=1.0)",
                   "    score t = m * 0.5",
                   "let after = m + q + y + t",
                   ret="return after")
    assert diagnostics(text) == [
        ("QVR012", 10, 16, "undefined variable `m` (out of scope after line 9)")]
    a = analyze(text)
    d = a.diagnostics[0]
    assert [(r.message, a.line_index.position(r.span.start)) for r in d.related] == [
        ("`m` belongs to this block", (4, 16))]


def test_a_nested_block_is_tier_2():
    text = program(SMALL,
                   "sample s <- HalfNormal(scale=1.0)",
                   "marginalize z <- Bernoulli(probs=0.5)",
                   "    marginalize d <- Bernoulli(probs=0.5)",
                   "        observe y : N <- Normal(loc=z * d, scale=s)")
    assert diagnostics(text) == []
    info = analyze(text).programs["p"]
    assert info.marginals["d"].describe() == ("summed out (atoms 0, 1) with logsumexp; not "
                                              "runnable (tier 2)")
    assert info.marginals["z"].nested is False


def test_effects_of_a_block():
    summed = program(SMALL,
                     "sample s <- HalfNormal(scale=1.0)",
                     "marginalize z <- Bernoulli(probs=0.5)",
                     "    observe y : N <- Normal(loc=z * s, scale=1.0)",
                     sig="program p : N -> R [effects=[Sample, Score]]")
    assert diagnostics(summed) == [
        ("QVR127", 5, 4, "`p` declares effects [Sample, Score] but `z` (line 5) performs "
                         "`Marginal`")]
    # a family without finite support draws its variable
    latent = program(SMALL,
                     "marginalize u <- Normal(loc=0.0, scale=1.0)",
                     "    score t = u * 1.0",
                     "let s = 1.0",
                     sig="program p : N -> R [effects=[Marginal, Score]]")
    assert diagnostics(latent) == [
        ("QVR127", 4, 4, "`p` declares effects [Score, Marginal] but `u` (line 4) performs "
                         "`Sample`"),
        ("QVR121", 4, 21, "`Normal` has no finite support: `u` is sampled (a latent site), "
                          "not summed out")]
    d = next(d for d in analyze(latent).diagnostics if d.code == "QVR127")
    assert latent[d.span.start:d.span.end] == "marginalize u <- Normal(loc=0.0, scale=1.0)"


def test_a_nested_grouped_block_must_refine_the_outer_group():
    head = ("object G : FinSet 3\nobject H : FinSet 2\nobject N : FinSet 6\nobject R : Real 1\n")
    steps = ("marginalize a <- Bernoulli(probs=0.5) [over=G]",
             "    marginalize b <- Bernoulli(probs=0.5) [over={inner}]",
             "        observe y : N <- Normal(loc={loc}, scale=1.0) [via={via}]")

    def text(inner: str, loc: str, via: str) -> str:
        return program(head, *(s.format(inner=inner, loc=loc, via=via) for s in steps),
                       ret="return y")

    assert diagnostics(text("[G, H]", "a * b", "[g, h]")) == [
        ("QVR111", 8, 64, "`g` is a data input of `p`: FinSet 3 over N"),
        ("QVR111", 8, 67, "`h` is a data input of `p`: FinSet 2 over N")]
    assert diagnostics(text("H", "b * 1.0", "h")) == [
        ("QVR123", 7, 52, "grouped `marginalize b`: inner group `H` does not refine `G`"),
        ("QVR111", 8, 65, "`h` is a data input of `p`: FinSet 2 over N")]


def test_a_prior_over_data_rows_needs_the_plate_that_groups_the_body():
    # `w` varies over the rows of the data input `raw` (an open plate): which plate groups
    # the body is not known at the block, so the argument is QVR114 (the annotation fixes it)
    steps = ("sample w <- Dirichlet(concentration=raw) [over=Comp]",
             "sample loc : Comp <- Normal(loc=0.0, scale=5.0)",
             "sample s <- HalfNormal(scale=2.0)",
             "marginalize c <- Categorical(probs=w)",
             "    observe y : N <- Normal(loc=loc[c], scale=s)")
    text = program("object Comp : FinSet 3\n" + SMALL, *steps)
    assert [f for f in diagnostics(text) if f[0] != "QVR111"] == [
        ("QVR114", 8, 39, "`w` varies over data rows but this step has no free plate")]
    annotated = text.replace("marginalize c <- ", "marginalize c : N <- ")
    assert [f for f in diagnostics(annotated) if f[0] != "QVR111"] == []
    assert analyze(annotated).programs["p"].marginals["c"].plates == (Plate("N", 5),)


def test_a_prior_over_rows_already_tied_to_a_plate_is_summed_per_element():
    # `q`'s rows are `N` (the first observe ties them): one `c` per element of `N`, as for a
    # prior over an axis plate
    text = program(SMALL,
                   "observe u : N <- Normal(loc=q, scale=1.0)",
                   "sample s <- HalfNormal(scale=2.0)",
                   "sample loc : N <- Normal(loc=0.0, scale=5.0)",
                   "marginalize c <- Bernoulli(probs=sigmoid(q))",
                   "    observe y : N <- Normal(loc=loc, scale=s)")
    assert [f for f in diagnostics(text) if f[0] != "QVR111"] == []
    info = analyze(text).programs["p"]
    assert info.marginals["c"].plates == (Plate("N", 5),)
    assert info.variables["c"].type.display() == "FinSet 2 over N"
