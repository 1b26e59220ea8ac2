"""The families, builtins and algebras of spec part 2 (§5.8–§5.10) in the checker: family
schemas (parameters, `probs | logits` alternatives, aliases, tiers, value types), QVR131 for a
learned kernel over a new family, QVR032 for fixed count families, the builtin table behind
QVR070, and the algebra names `quantale`/`composition` accept."""
from __future__ import annotations

import pytest

from qvr.semantics import analyze  # first: qvr.diagnostics alone hits an import cycle
from qvr.semantics import families as F
from qvr.semantics.types import Cont, Mat, ObjType
from qvr.syntax import vocabulary as V

HEAD = """object A : Real 1
object P : Real 1 {low=0.0}
object U : Real 1 {low=0.0, high=1.0}
object K : Simplex 3
object N : FinSet 3
"""


# Module-level notes every fragment here gets (no `export`, declarations nothing uses).
NOISE = {"QVR055", "QVR080"}


def diagnostics(body: str) -> list[str]:
    """The diagnostics of HEAD + body but NOISE, as `line:col severity[code]: message` (lines
    counted in the whole file: HEAD has five)."""
    analysis = analyze(HEAD + body)
    return [d.format("", analysis.line_index)[1:] for d in analysis.diagnostics
            if d.code not in NOISE]


# --------------------------------------------------------------------------- schemas ----
def test_schemas_agree_with_the_vocabulary():
    """The word lists the grammars and editors use name the same families, with the same
    positional parameters and alternative names, as the checker's schemas."""
    assert list(F.FAMILIES) == list(V.FAMILIES)
    for name, schema in F.FAMILIES.items():
        assert schema.params == V.FAMILIES[name], name
        alternatives = dict(schema.aliases)
        alternatives.update({k: schema.one_of[0] for k in schema.one_of[1:]})
        assert alternatives == V.FAMILY_ALIASES.get(name, {}), name


P1_FAMILIES = ("Normal", "LogitNormal", "LogNormal", "Laplace", "Cauchy", "StudentT",
               "HalfNormal", "HalfCauchy", "Exponential", "Gamma", "Beta", "Uniform",
               "TruncatedNormal", "Dirichlet", "MultivariateNormal", "Bernoulli", "Categorical")
TIER1 = ("Poisson", "NegativeBinomial", "Geometric", "Binomial", "BetaBinomial",
         "ZeroInflatedPoisson", "HurdlePoisson", "Gumbel", "Logistic", "HalfStudentT", "Chi2",
         "InverseGamma", "Weibull", "Pareto", "Kumaraswamy", "ContinuousBernoulli",
         "RelaxedBernoulli", "FisherSnedecor", "VonMises", "RelaxedOneHotCategorical",
         "MixtureNormal", "LKJCholesky")
TIER2 = ("OneHotCategorical", "OrderedLogistic", "OrderedProbit", "Horseshoe",
         "ZeroOneInflatedBeta", "LogisticNormal", "LowRankMVN", "Wishart", "InverseWishart",
         "MatrixNormal", "GP", "LKJCorrelationFactor", "Mixture", "Restrict", "Truncate",
         "Truncated", "Normalize", "PointMass", "Transformed", "Pushforward", "Independent")


def test_every_family_of_part_2_is_known_with_its_tier():
    assert tuple(F.FAMILIES) == P1_FAMILIES + TIER1 + TIER2
    assert [n for n in F.FAMILIES if F.FAMILIES[n].kernel] == list(P1_FAMILIES)
    assert {n for n in F.FAMILIES if F.FAMILIES[n].tier == 2} == set(TIER2) == F.TIER2_FAMILIES
    assert all(F.FAMILIES[n].inline for n in TIER1 + TIER2)


def test_p1_families_keep_their_schemas():
    got = {n: (F.FAMILIES[n].params, F.FAMILIES[n].aliases, F.FAMILIES[n].support,
               F.FAMILIES[n].has_scale) for n in ("Normal", "LogitNormal", "TruncatedNormal",
                                                   "Bernoulli", "Categorical", "Dirichlet")}
    assert got == {
        "Normal": (("loc", "scale"), {}, "real", True),
        "LogitNormal": (("loc", "scale"), {"mu": "loc", "sigma": "scale"}, "unit", True),
        "TruncatedNormal": (("loc", "scale", "low", "high"), {"mu": "loc", "sigma": "scale"},
                            "bounded", True),
        "Bernoulli": (("probs",), {}, "binary", False),
        "Categorical": (("probs",), {}, "categorical", False),
        "Dirichlet": (("concentration",), {}, "simplex", False),
    }


def test_schema_text_shows_alternatives_where_they_stand():
    assert {n: F.FAMILIES[n].schema_text() for n in (
        "NegativeBinomial", "Bernoulli", "RelaxedBernoulli", "MultivariateNormal", "Pareto",
        "OrderedLogistic")} == {
        "NegativeBinomial": "total_count, probs | logits",
        "Bernoulli": "probs | logits",
        "RelaxedBernoulli": "temperature, probs | logits",
        "MultivariateNormal": "loc, scale_tril | covariance_matrix | precision_matrix",
        "Pareto": "scale, alpha",
        "OrderedLogistic": "predictor, cutpoints",
    }
    assert F.FAMILIES["OrderedLogistic"].canonical("eta") == "predictor"


def test_reparameterisable_families():
    no_rsample = {n for n in TIER1 if not F.FAMILIES[n].rsample}
    assert no_rsample == {"Poisson", "NegativeBinomial", "Geometric", "Binomial", "BetaBinomial",
                          "ZeroInflatedPoisson", "HurdlePoisson", "VonMises", "MixtureNormal",
                          "LKJCholesky"}


@pytest.mark.parametrize("family,w,want", [
    ("Poisson", 3, ObjType.leaf(Cont(3, count=True))),
    ("Gumbel", 2, ObjType.real(2)),
    ("VonMises", 1, ObjType.real(1)),
    ("HalfStudentT", 1, ObjType.real(1, 0.0)),
    ("Pareto", 1, ObjType.real(1, 0.0)),
    ("Kumaraswamy", 2, ObjType.real(2, 0.0, 1.0)),
    ("RelaxedOneHotCategorical", 4, ObjType.leaf(Cont(4, simplex=True))),
    ("MixtureNormal", 3, ObjType.real(1)),          # three components, one value
    ("LKJCholesky", 1, None),                       # Matrix d d needs its side
    ("OneHotCategorical", 3, ObjType.real(3)),
    ("OrderedLogistic", 2, ObjType.fin(3)),         # two cutpoints, three categories
])
def test_value_types(family, w, want):
    assert F.value_type(family, w) == want


def test_sized_value_types():
    assert F.value_type("LKJCholesky", 1, size=3) == ObjType.leaf(Mat(3, 3))
    assert F.value_type("RelaxedOneHotCategorical", 1, size=4) == ObjType.leaf(Cont(4, simplex=True))
    assert F.value_type("Poisson", 2).display() == "Count 2"


# ------------------------------------------------------------------ declarations ----
def test_learned_kernel_over_a_new_family_is_qvr131():
    body = ("morphism f : A -> A ~ Poisson\n"
            "morphism g : A -> A ~ Gumbel\n"
            "morphism h : A -> A ~ Horseshoe\n"
            "morphism k : A -> A ~ Normal\n")
    assert diagnostics(body) == [
        "6:23: error[QVR131]: `Poisson` can be used only inline or with literal arguments "
        "(`~ Poisson(…)`), not as a learned kernel",
        "7:23: error[QVR131]: `Gumbel` can be used only inline or with literal arguments "
        "(`~ Gumbel(…)`), not as a learned kernel",
        "8:23: error[QVR131]: `Horseshoe` can be used only inline or with literal arguments "
        "(`~ Horseshoe(…)`), not as a learned kernel",
    ]


def test_fixed_count_family_has_no_codomain():
    body = ("morphism f : A -> P ~ Poisson(rate=2.0)\n"
            "morphism g : A -> N ~ BetaBinomial(total_count=2.0, concentration1=1.0, "
            "concentration0=1.0)\n")
    assert diagnostics(body) == [
        "6:23: error[QVR032]: `Poisson` cannot produce values in `P`: Poisson produces counts, "
        "which no codomain holds",
        "7:23: error[QVR032]: `BetaBinomial` cannot produce values in `N`: BetaBinomial "
        "produces counts, which no codomain holds",
    ]


def test_fixed_new_families_follow_their_support():
    fits = ("morphism f1 : A -> A ~ Gumbel(loc=0.0, scale=1.0)\n"
            "morphism f2 : A -> P ~ HalfStudentT(df=3.0, scale=1.0)\n"
            "morphism f3 : A -> U ~ Kumaraswamy(concentration1=2.0, concentration0=3.0)\n"
            "morphism f4 : A -> K ~ RelaxedOneHotCategorical(temperature=0.5, "
            "probs=[0.2, 0.3, 0.5])\n"
            "morphism f5 : A -> A ~ MixtureNormal(weights=[0.3, 0.7], loc=[-1.0, 1.0], "
            "scale=[1.0, 0.5])\n"
            "morphism f6 : A -> P ~ Pareto(scale=1.0, alpha=2.0)\n"
            "morphism f7 : A -> N ~ OrderedLogistic(eta=0.5, cutpoints=[-1.0, 1.0])\n")
    assert diagnostics(fits) == []
    misfits = ("morphism g1 : A -> U ~ Gumbel(loc=0.0, scale=1.0)\n"
               "morphism g2 : A -> K ~ Weibull(scale=1.0, concentration=2.0)\n"
               "morphism g3 : A -> P ~ RelaxedOneHotCategorical(temperature=0.5, "
               "probs=[0.2, 0.3, 0.5])\n"
               "morphism g4 : A -> A ~ OrderedProbit(predictor=0.5, cutpoints=[0.0])\n")
    assert diagnostics(misfits) == [
        "6:24: error[QVR032]: `Gumbel` cannot produce values in `U`: its support is the whole "
        "real line; the codomain is bounded",
        "7:24: error[QVR032]: `Weibull` cannot produce values in `K`: Weibull cannot produce "
        "points of a simplex",
        "8:24: error[QVR032]: `RelaxedOneHotCategorical` cannot produce values in `P`: "
        "RelaxedOneHotCategorical needs `Simplex n` or an unbounded `Real n` with n ≥ 2",
        "8:72: error[QVR064]: `RelaxedOneHotCategorical`: argument widths 3 and 1 cannot be "
        "broadcast",
        "9:24: error[QVR032]: `OrderedProbit` cannot produce values in `A`: OrderedProbit needs "
        "a finite codomain",
    ]


def test_alternatives_and_widths_are_schema_checked():
    body = ("morphism f1 : A -> A ~ MixtureNormal(weights=[0.3, 0.7], loc=[0.0, 1.0, 2.0], "
            "scale=1.0)\n"
            "morphism f2 : A -> P ~ NegativeBinomial(total_count=3.0, probs=0.5, logits=0.1)\n"
            "morphism f3 : A -> U ~ RelaxedBernoulli(temperature=0.5)\n"
            "morphism f4 : A -> U ~ RelaxedBernoulli(temperature=0.5, logits=0.0)\n")
    assert diagnostics(body) == [
        "6:62: error[QVR064]: `MixtureNormal`: argument widths 3 and 2 cannot be broadcast",
        "7:24: error[QVR032]: `NegativeBinomial` cannot produce values in `P`: NegativeBinomial "
        "produces counts, which no codomain holds",
        "7:69: error[QVR063]: `NegativeBinomial`: duplicate argument `logits`; expected "
        "(total_count, probs | logits)",
        "8:24: error[QVR063]: `RelaxedBernoulli`: missing argument `probs`; expected "
        "(temperature, probs | logits)",
    ]


def test_positional_arguments_follow_the_column_order():
    body = "morphism f : A -> A ~ Weibull(1.0, 2.0)\n"
    assert diagnostics(body) == [
        "6:31: hint[QVR104]: `Weibull(1.0, 2.0)` is deprecated; write "
        "`Weibull(scale=1.0, concentration=2.0)`",
    ]


# ------------------------------------------------------------------------- builtins ----
def test_builtin_table():
    kinds = {name: (b.kind, b.arities) for name, b in F.BUILTIN_SCHEMAS.items()
             if name in ("sin", "softmax", "normalize", "sum", "logsumexp", "min", "max", "pow")}
    assert kinds == {
        "sin": ("elementwise", (1,)), "softmax": ("last_axis", (1,)),
        "normalize": ("last_axis", (1,)), "sum": ("reduction", (1,)),
        "logsumexp": ("reduction", (1,)), "min": ("reduction", (1, 2)),
        "max": ("reduction", (1, 2)), "pow": ("elementwise", (2,)),
    }
    assert F.BUILTIN_SCHEMAS["min"].kind_at(2) == "elementwise"
    assert F.REDUCTIONS == {"sum", "mean", "prod", "logsumexp", "min", "max"}
    assert set(F.BUILTIN_SCHEMAS) == set(F.BUILTINS) == set(V.BUILTINS)


def test_builtin_arity_is_qvr070():
    body = ("object S : Real 3\n"
            "program f(x) : A -> A\n"
            "    let a = pow(x, 2.0)\n"
            "    let b = min(x, a)\n"
            "    let c = log1p(b) + erf(a) + max(x)\n"
            "    let d = pow(x)\n"
            "    let e = min(x, x, x)\n"
            "    let g = sin(x, x)\n"
            "    return c\n")
    assert diagnostics(body) == [
        "11:9: warning[QVR081]: `let d` is never used",
        "11:13: error[QVR070]: `pow` takes 2 arguments",
        "12:9: warning[QVR081]: `let e` is never used",
        "12:13: error[QVR070]: `min` takes 1 or 2 arguments",
        "13:9: warning[QVR081]: `let g` is never used",
        "13:13: error[QVR070]: `sin` takes 1 argument",
    ]


def test_two_argument_builtins_broadcast_like_arithmetic():
    body = ("object S : Real 3\n"
            "object T : Real 2\n"
            "program f(x, y) : S * T -> S\n"
            "    let a = pow(x, 2.0)\n"
            "    let b = max(x, y)\n"
            "    return a\n")
    assert diagnostics(body) == [
        "10:9: warning[QVR081]: `let b` is never used",
        "10:13: error[QVR069]: arithmetic on widths 3 and 2",
    ]


def test_declaring_a_new_builtin_or_family_name_warns():
    body = "object sum : Real 1\nobject Poisson : FinSet 2\nmorphism f : sum -> Poisson ~ Categorical\n"
    assert diagnostics(body) == [
        "6:8: warning[QVR019]: `sum` shadows the builtin function `sum`",
        "7:8: warning[QVR019]: `Poisson` shadows the distribution family `Poisson`",
    ]


# ------------------------------------------------------------------------- algebras ----
@pytest.mark.parametrize("name", ["real", "log_prob", "max_plus", "probability", "counting",
                                  "Log_Prob"])
def test_part_2_algebras_are_quantale_names(name):
    body = f"quantale {name}\nlatent f : N -> N\n"
    assert diagnostics(body) == [
        "7:1: hint[QVR096]: `latent f : N -> N` is deprecated; write "
        "`morphism f : N -> N [role=latent]`",
    ]


def test_algebra_table():
    assert F.QUANTALES == ("product_fuzzy", "markov", "boolean", "godel", "lukasiewicz",
                           "tropical", "real", "log_prob", "max_plus", "probability", "counting")
    assert {n: (a.tensor, a.join, a.unit, a.zero) for n, a in F.ALGEBRAS.items()
            if n in ("real", "log_prob", "max_plus", "probability", "counting")} == {
        "real": ("a·b", "Σ", 1.0, 0.0),
        "log_prob": ("a+b", "log-sum-exp", 0.0, float("-inf")),
        "max_plus": ("a+b", "max", 0.0, float("-inf")),
        "probability": ("a·b", "min(1, Σ)", 1.0, 0.0),
        "counting": ("a·b", "Σ", 1.0, 0.0),
    }
    assert diagnostics("quantale semiring\n") == [
        "6:10: error[QVR037]: unknown quantale `semiring`; available: product_fuzzy, markov, "
        "boolean, godel, lukasiewicz, tropical, real, log_prob, max_plus, probability, counting",
    ]


# ---------------------------------------------------------------- inline draws ----
def test_inline_draws_of_new_families_take_their_value_types():
    text = ("object K : FinSet 3\n"
            "object R : Real 1\n"
            "program p : K -> R\n"
            "    sample y <- RelaxedOneHotCategorical(temperature=0.5, probs=[0.2, 0.3, 0.5])\n"
            "    sample c <- Poisson(rate=[2.0, 1.0])\n"
            "    sample m <- MixtureNormal(weights=[0.5, 0.5], loc=[0.0, 3.0], scale=[1.0, 1.0])\n"
            "    sample g <- Gumbel(loc=0.0, scale=1.0)\n"
            "    let s = sum(y) + sum(c) + m + g\n"
            "    return s\n"
            "export p\n")
    analysis = analyze(text)
    assert list(analysis.diagnostics) == []
    steps = analysis.module.statements[2].steps[:4]
    shown = [(s.pattern.name.text, analysis.inline_info(s).family,
              analysis.inline_info(s).value_type.display()) for s in steps]
    assert shown == [("y", "RelaxedOneHotCategorical", "Simplex 3"),  # K from probs
                     ("c", "Poisson", "Count 2"),
                     ("m", "MixtureNormal", "Real 1"),                # two components, one value
                     ("g", "Gumbel", "Real 1")]
