"""Finite world (quantales, latent relations, marginalize) and grammar parsers (spec §4.5)."""
from __future__ import annotations

from qvr.semantics import analyze


def errors(text):
    a = analyze(text)
    return [(d.code, a.text[d.span.start:d.span.end]) for d in a.diagnostics if d.is_error]


def test_schema_parser_checks_and_types_token_sequences():
    text = ("category Sent, Np, Noun\nobject Word : FinSet 50\n"
            "rule fwd(X, Y) : X/Y, Y |- X\nrule bwd(X, Y) : Y, X\\Y |- X\n"
            "define g = ccg(terminal=Word, start=Sent)\n"
            "define h = parser(rules=[fwd, bwd, evaluation] terminal=Word depth=2, "
            "constructors=[slash, diamond])\nexport g\n")
    a = analyze(text)
    assert errors(text) == []
    assert str(a.export_type) == "Seq[Word] -> Real 1"
    # categories are exempt from "unused" when a schema-mode parser exists; rules are used
    assert not [d for d in a.diagnostics if d.code == "QVR080" and d.message.startswith("`Np`")]
    x = a.reference_at(text.index("Y, X\\Y") + 3)
    assert x.symbol.kind == "rule_variable" and x.symbol.scope == "bwd"


def test_morphism_mode_parser_needs_binary_and_lexical_rules():
    ok = ("object N : FinSet 6\nobject W : FinSet 20\nstochastic br : N -> N * N\n"
          "stochastic lex : N -> W\ndefine p = parser(rules=[br, lex], start=0)\nexport p\n")
    assert errors(ok) == []
    assert str(analyze(ok).export_type) == "Seq[W] -> Real 1"
    bad = ok.replace("rules=[br, lex]", "rules=[lex]")
    assert [c for c, _ in errors(bad)] == ["QVR053"]
    mixed = ok.replace("rules=[br, lex]", "rules=[br, lex, evaluation]")
    assert "QVR053" in [c for c, _ in errors(mixed)]


def test_parser_argument_errors():
    base = "category C\nobject W : FinSet 3\nobject V : Real 2\n"
    assert errors(base + "define p = parser(terminal=W)\nexport p\n") == [("QVR053", "parser")]
    assert ("QVR053", "V") in errors(base + "define p = ccg(terminal=V)\nexport p\n")
    assert ("QVR053", "bogus") in errors(base + "define p = lambek(terminal=W, constructors=[bogus])\nexport p\n")


def test_rule_premises_and_names():
    assert errors("category C\nrule r(X) : X, X, X |- X\n") == [("QVR052", "r")]
    assert errors("category C\nrule tensor_projection(X) : X |- X\n") == [("QVR052", "tensor_projection")]


def test_finite_world_composition_and_quantales():
    text = ("quantale tropical\nobject A : FinSet 3\nobject Bq : FinSet 2\n"
            "latent la : A -> A [scale=0.3]\nlatent lb : A -> Bq\ndefine chain = repeat(la) >> lb\n"
            "stochastic ks : A -> A\ndefine mixed = ks >> la\nexport chain\n")
    a = analyze(text)
    assert a.morphisms["la"].quantale == "tropical" and a.morphisms["ks"].quantale == "markov"
    assert a.morphisms["la"].options["scale"] == 0.3
    assert errors(text) == [("QVR049", ">>")]


def test_quantale_names_are_case_insensitive_and_default_is_product_fuzzy():
    a = analyze("object A : FinSet 2\nlatent la : A -> A\nquantale Godel\nlatent lb : A -> A\n"
                "define d = la\nexport d\n")
    assert a.morphisms["la"].quantale == "product_fuzzy"
    assert a.morphisms["lb"].quantale == "godel"


def test_fuzzy_latent_cannot_be_sampled_in_scan_or_fan():
    text = ("object A : FinSet 2\nobject R : Real 2\nlatent la : A -> A\n"
            "morphism f : A -> R ~ Normal\ndefine d = fan(la, la)\nexport d\n")
    assert [c for c, _ in errors(text)] == ["QVR050", "QVR050"]
    markov = "quantale markov\n" + text
    assert errors(markov) == []


def test_marginalize_removes_named_factors():
    text = ("object A : FinSet 3\nobject Bq : FinSet 2\nobject Cq : FinSet 4\n"
            "stochastic joint : A -> A * Bq * Cq\ndefine m = joint.marginalize(Bq)\nexport m\n")
    a = analyze(text)
    assert errors(text) == []
    assert str(a.export_type) == "A -> A * Cq"
    every = text.replace("marginalize(Bq)", "marginalize(A, Bq, Cq)")
    assert [c for c, _ in errors(every)] == ["QVR048"]


def test_discretize_and_observed_initializer():
    text = ("object U : Real 1 {low=-1.0, high=1.0}\nobject R : Real 2\n"
            "morphism bins : U -> FinSet 8 [role=discretize, temperature=0.05]\n"
            "morphism f : R -> R ~ Normal\nmorphism o : R -> R [role=observed] ~ f >> f\n"
            "program p(u) : U -> FinSet 8\n    observe k <- bins(u)\n    return k\nexport p\n")
    a = analyze(text)
    assert errors(text) == []
    assert a.morphisms["bins"].role == "discretize" and a.morphisms["bins"].bins == 8
    assert a.morphisms["bins"].options["temperature"] == 0.05
    assert a.morphisms["o"].role == "observed" and a.morphisms["o"].init is not None


def test_fixed_distribution_arguments():
    text = ("object R : Real 3\nobject K : FinSet 3\n"
            "morphism prior : R -> R ~ Normal(loc=[0.0, 1.0, 2.0], scale=1.0)\n"
            "morphism pick : R -> K ~ Categorical(probs=[0.2, 0.3, 0.5])\nexport prior\n")
    a = analyze(text)
    assert errors(text) == []
    assert set(a.morphisms["prior"].fixed_bound) == {"loc", "scale"}
    bad = text.replace("probs=[0.2, 0.3, 0.5]", "probs=[0.5, 0.5]")
    assert [c for c, _ in errors(bad)] == ["QVR064"]
    net = text.replace("~ Normal(loc", "[hidden_dim=4] ~ Normal(loc")
    assert [c for c, _ in errors(net)] == ["QVR034"]
