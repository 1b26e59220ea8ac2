"""Completion on the current forms (spec part 2 §5.2–§5.8, §5.10): step keywords valid where
the cursor is (no `return` or nested `marginalize` in a `marginalize` body), the keys and values
of each kind of option block, objects and a template's parameters in annotations, families with
their alternative parameters, builtins with their arity, data names already used, `marginalize`
variables only inside their body and `factor` binders inside their comprehension.

Each case compares the whole list a user sees (after `prefix_filter`, which orders it), with the
detail of every item. The cursor line is half typed, so the enclosing program does not parse:
these also check that its locals come from the program as it reads without that line.
"""
from __future__ import annotations

import pytest

from qvr.semantics.families import FAMILIES
from qvr.syntax import vocabulary
from qvr_lsp.features import completion

from lsp_fixtures import at_cursor, marked
from raw_client import RawServer

TEXT = """object School : FinSet 8
object Doc : FinSet 5
object Tok : FinSet 30
object Resp : FinSet 32
object Val : Real 1
morphism squash : Val -> Val
morphism head : Tok -> Tok ~ Categorical

program effects(G : FinSet, spread : Real, link : Mor[Val, Val]) : G -> Val
    sample raw : G <- Normal(loc=0.0, scale=spread)
    let v <- link(raw)
    return v

program topics : Tok -> Val [effects=[Sample, Score, Marginal]]
    sample mu <- Normal(loc=0.0, scale=1.0)
    sample phi : Doc <- Normal(loc=mu, scale=1.0)
    sample eff <- effects(School, 1.0, squash)
    let shift = offset * 2.0
    marginalize k <- Categorical(logits=phi) [over=Doc]
        let near = phi[k] + shift
        observe w : Tok <- Normal(loc=near, scale=1.0) [via=doc_of]
    let both = factor a : Doc, b : School in phi[a] + eff[b]
    score prior = sum(phi) + sum(both)
    return mu

program lm : Tok -> Tok
    observe y : Resp <- head
    return y
export topics
export lm
"""


def after_line(anchor: str, line: str) -> str:
    """TEXT with `line` (holding the cursor marker) inserted after the line containing `anchor`."""
    end = TEXT.index("\n", TEXT.index(anchor)) + 1
    return TEXT[:end] + line + "\n" + TEXT[end:]


def shown(fixture: str) -> list[tuple[str, str]]:
    doc, offset = at_cursor(fixture)
    items, cut = completion.prefix_filter(completion.complete(doc, offset), "")
    assert not cut
    return [(i.label, i.detail) for i in items]


BUILTINS = [(b, {"min": "builtin min(x) | min(x, y)", "max": "builtin max(x) | max(x, y)",
                 "pow": "builtin pow(x, y)"}.get(b, f"builtin {b}(x)")) for b in sorted(vocabulary.BUILTINS)]
MORPHISMS = [("head", "head : Tok -> Tok ~ Categorical"), ("squash", "squash : Val -> Val")]
FINITE = [("Doc", "object Doc : FinSet 5"), ("Resp", "object Resp : FinSet 32"),
          ("School", "object School : FinSet 8"), ("Tok", "object Tok : FinSet 30")]
CONSTRUCTORS = [(c, "type constructor") for c in sorted(vocabulary.TYPE_CONSTRUCTORS)]


# ------------------------------------------------------------------------- step starters ----
def test_steps_of_a_program_body_include_score_and_marginalize():
    assert shown(after_line("score prior", "    $0")) == [
        ("let", "step"), ("marginalize", "step"), ("observe", "step"), ("return", "step"),
        ("sample", "step"), ("score", "step")]


def test_a_marginalize_body_offers_no_return_and_no_nested_marginalize():
    assert shown(after_line("let near", "        $0")) == [
        ("let", "step"), ("observe", "step"), ("sample", "step"), ("score", "step")]


def test_the_marginalize_snippet_opens_a_body():
    doc, offset = at_cursor(after_line("score prior", "    $0"))
    item = next(i for i in completion.complete(doc, offset) if i.label == "marginalize")
    assert (item.insert_text, item.is_snippet) == (
        "marginalize ${1:z} <- ${2:Categorical}(${3:probs}=${4:p})\n    ${0}", True)


# ------------------------------------------------------------------------ arithmetic ----
def test_arithmetic_after_the_block_offers_data_names_and_hides_the_summed_variable():
    # `k` and `near` (which depends on it) are out of scope after the block; `w`, the score
    # `prior`, the lets and the data names used so far are in scope
    assert shown(after_line("score prior", "    let t = $0")) == [
        ("both", "let : Real 1 over Doc × School"),
        ("doc_of", "data input : FinSet 5 over Tok"),
        ("eff", "sample : Val(1) over School"),
        ("mu", "sample : Real 1"),
        ("offset", "data input : Real 1 over Tok"),
        ("phi", "sample : Real 1 over Doc"),
        ("prior", "score : Real 1 over Doc"),
        ("shift", "let : Real 1 over Tok"),
        ("w", "observe : Real 1 over Tok"),
        *MORPHISMS, *BUILTINS, ("factor", "comprehension")]


def test_arithmetic_inside_the_body_offers_the_summed_variable_and_every_data_name():
    # `w` and `both` are bound later; the data name `doc_of`, first used later, is an input
    # of the whole program
    assert shown(after_line("let near", "        let t = $0")) == [
        ("doc_of", "data input : FinSet 5 over Tok"),
        ("eff", "sample : Val(1) over School"),
        ("k", "marginalize : FinSet 5 over Doc"),
        ("mu", "sample : Real 1"),
        ("near", "let : Real 1 over Doc × Tok"),
        ("offset", "data input : Real 1 over Tok"),
        ("phi", "sample : Real 1 over Doc"),
        ("shift", "let : Real 1 over Tok"),
        *MORPHISMS, *BUILTINS, ("factor", "comprehension")]


def test_a_comprehension_body_offers_its_binders_and_no_second_factor():
    assert shown(after_line("score prior", "    let t = factor d : Doc, s : School in $0")) == [
        ("both", "let : Real 1 over Doc × School"),
        ("d", "factor binder over Doc"),
        ("doc_of", "data input : FinSet 5 over Tok"),
        ("eff", "sample : Val(1) over School"),
        ("mu", "sample : Real 1"),
        ("offset", "data input : Real 1 over Tok"),
        ("phi", "sample : Real 1 over Doc"),
        ("prior", "score : Real 1 over Doc"),
        ("s", "factor binder over School"),
        ("shift", "let : Real 1 over Tok"),
        ("w", "observe : Real 1 over Tok"),
        *MORPHISMS, *BUILTINS]


def test_the_binders_of_a_comprehension_range_over_finite_objects():
    assert shown(after_line("score prior", "    let t = factor d : Doc, s : $0")) == FINITE


def test_a_template_body_offers_its_scalar_parameter_and_not_its_object_or_morphism_ones():
    assert shown(after_line("sample raw", "    let t = raw * $0")) == [
        ("raw", "sample : Real 1 over G"), ("spread", "parameter : Real 1"),
        *MORPHISMS, *BUILTINS]


# ----------------------------------------------------------- annotations and targets ----
def test_a_step_annotation_offers_objects_and_the_templates_object_parameter():
    assert shown(after_line("sample raw", "    sample q : $0")) == [
        ("G", "template parameter : FinSet"), *FINITE, ("Val", "object Val : Real 1"), *CONSTRUCTORS]


def test_a_marginalize_annotation_offers_objects():
    assert shown(after_line("score prior", "    marginalize c : $0")) == [
        *FINITE, ("Val", "object Val : Real 1"), *CONSTRUCTORS]


def test_targets_offer_the_templates_morphism_parameter_and_inline_families_with_alternatives():
    got = shown(after_line("sample raw", "    let q <- $0"))
    families = [i for i in got if i[0] in FAMILIES]
    assert [i for i in got if i[0] not in FAMILIES] == [
        ("link", "template parameter : Mor[Val, Val]"),
        ("effects", "program effects (not checked: it has a syntax error)"),
        *MORPHISMS[:1], ("lm", "program lm : Tok -> Tok"), *MORPHISMS[1:],
        ("topics", "program topics : Tok -> Val")]
    assert [name for name, _ in families] == sorted(n for n, s in FAMILIES.items() if s.inline)
    details = dict(families)
    assert details["Binomial"] == "Binomial(total_count, probs | logits)"
    assert details["MultivariateNormal"] == (
        "MultivariateNormal(loc, scale_tril | covariance_matrix | precision_matrix)")
    assert details["Wishart"] == "Wishart(df, covariance_matrix) (not runnable: tier 2)"


def test_a_marginalize_target_offers_the_families_it_sums_over_first():
    got = shown(after_line("score prior", "    marginalize c <- $0"))
    summed = [("Bernoulli", "Bernoulli(probs | logits) (summed out)"),
              ("Categorical", "Categorical(probs | logits) (summed out)"),
              ("ContinuousBernoulli", "ContinuousBernoulli(probs | logits) (summed out)"),
              ("RelaxedBernoulli", "RelaxedBernoulli(temperature, probs | logits) (summed out)")]
    assert got[:9] == [
        *summed, ("effects", "program effects : G -> Val"), *MORPHISMS[:1],
        ("lm", "program lm : Tok -> Tok"), *MORPHISMS[1:],
        ("topics", "program topics (not checked: it has a syntax error)")]
    in_sample = dict(shown(after_line("score prior", "    sample q <- $0")))
    others = sorted(n for n, s in FAMILIES.items() if s.inline and n not in dict(summed))
    assert got[9:] == [(n, in_sample[n] + " (not summed: a latent of the body)") for n in others]


def test_an_inline_family_inserts_its_parameters():
    doc, offset = at_cursor(after_line("score prior", "    sample q <- $0"))
    items = {i.label: i for i in completion.complete(doc, offset)}
    assert (items["Binomial"].insert_text, items["Binomial"].is_snippet) == (
        "Binomial(total_count=${1:total_count}, probs=${2:probs})", True)


def test_a_fixed_distribution_after_tilde_offers_every_family():
    got = shown("object A : Real 1\nmorphism m : A -> A ~ $0\n")
    assert [name for name, _ in got] == sorted(FAMILIES)
    assert dict(got)["ZeroInflatedPoisson"] == "ZeroInflatedPoisson(zero_prob, rate)"


def test_typed_parameter_kinds_in_a_program_header():
    doc, offset = at_cursor("object A : FinSet 2\nprogram p(G : $0\n")
    items, _ = completion.prefix_filter(completion.complete(doc, offset), "")
    assert [(i.label, i.insert_text) for i in items] == [
        ("FinSet", None), ("Mor", "Mor[${1:A}, ${2:B}]"), ("Nat", None), ("Object", None),
        ("Real", None), ("Space", None)]


# ------------------------------------------------------------------------- options ----
@pytest.mark.parametrize("anchor, line, expected", [
    ("score prior", "    sample q <- Normal(loc=0.0, scale=1.0) [$0",
     [("iid_over", "step option"), ("over", "step option")]),
    ("score prior", "    observe q : Doc <- Normal(loc=0.0, scale=1.0) [$0",
     [("iid_over", "step option"), ("over", "step option")]),
    # `via` only inside a grouped marginalize
    ("let near", "        observe q : Tok <- Normal(loc=near, scale=1.0) [$0",
     [("iid_over", "step option"), ("over", "step option"), ("via", "step option")]),
    ("score prior", "    marginalize c <- Bernoulli(probs=0.5) [$0",
     [("over", "step option"), ("reduction", "step option")]),
    ("score prior", "    marginalize c <- Bernoulli(probs=0.5) [over=Doc, $0",
     [("over", "step option"), ("reduction", "step option")]),
    ("score prior", "    marginalize c <- Bernoulli(probs=0.5) [reduction=$0",
     [("logsumexp", "reduction over the atoms"), ("mean", "reduction over the atoms"),
      ("sum", "reduction over the atoms")]),
    ("score prior", "    sample q <- Normal(loc=0.0, scale=1.0) [iid_over=$0",
     FINITE + [("product", "product of plates")]),
    ("score prior", "    sample q <- Normal(loc=0.0, scale=1.0) [over=[Doc, $0", FINITE),
    ("sample raw", "    sample q <- Normal(loc=0.0, scale=1.0) [iid_over=$0",
     [("G", "template parameter : FinSet")] + FINITE + [("product", "product of plates")]),
    # the data names of the program already used (an index data name is `via`'s value)
    ("observe w", "        observe q : Tok <- Normal(loc=near, scale=1.0) [via=$0",
     [("doc_of", "data input : FinSet 5 over Tok"), ("offset", "data input : Real 1 over Tok")]),
    # an index into a plated value is not an option block
    ("score prior", "    let t = phi[$0", None),
])
def test_option_blocks_of_steps(anchor, line, expected):
    got = shown(after_line(anchor, line))
    if expected is None:
        assert ("phi", "sample : Real 1 over Doc") in got and not any(d == "step option" for _, d in got)
    else:
        assert got == expected


@pytest.mark.parametrize("fixture, expected", [
    ("program p : A -> A [$0", [("effects", "program option"), ("over", "program option")]),
    ("program p : A -> A [effects=[$0",
     [("Marginal", "effect"), ("Pure", "effect"), ("Sample", "effect"), ("Score", "effect")]),
    ("program p : A -> A [effects=[Sample, $0",
     [("Marginal", "effect"), ("Pure", "effect"), ("Score", "effect")]),
    ("composition real [$0", [("level", "algebra option")]),
    ("composition real [level=$0", [("algebra", "algebra level"), ("bilinear_form", "algebra level"),
                                     ("rule", "algebra level"), ("semigroupoid", "algebra level")]),
    ("composition $0", [(q, "algebra") for q in sorted(vocabulary.QUANTALES)]),
    ("morphism m : A -> A [$0", [(k, "option") for k in sorted(vocabulary.OPTION_KEYS)]),
])
def test_option_blocks_of_declarations(fixture, expected):
    assert shown("object A : FinSet 2\n" + fixture + "\n") == expected


# ------------------------------------------------------------------------ protocol ----
@pytest.mark.process
def test_completion_over_the_protocol():
    text, offsets = marked(after_line("score prior", "    marginalize c <- Bernoulli(probs=0.5) [reduction=$0"))
    uri = "file:///tmp/current_completion.qvr"
    server = RawServer()
    try:
        server.initialize()
        server.send({"jsonrpc": "2.0", "method": "textDocument/didOpen",
                     "params": {"textDocument": {"uri": uri, "languageId": "qvr", "version": 1,
                                                 "text": text}}})
        line = text.count("\n", 0, offsets[0])
        character = offsets[0] - (text.rfind("\n", 0, offsets[0]) + 1)
        server.send({"jsonrpc": "2.0", "id": 2, "method": "textDocument/completion",
                     "params": {"textDocument": {"uri": uri},
                                "position": {"line": line, "character": character}}})
        answer = server.response(2)
    finally:
        server.kill()
    assert answer == {"jsonrpc": "2.0", "id": 2, "result": {"isIncomplete": False, "items": [
        {"label": label, "kind": 14, "detail": "reduction over the atoms", "sortText": f"1{label}"}
        for label in ("logsumexp", "mean", "sum")]}}


def test_a_text_too_large_to_analyse_while_typing_offers_the_locals_its_scan_finds(monkeypatch):
    monkeypatch.setattr(completion, "MAX_REPAIR_CHARS", 0)
    got = shown(after_line("let near", "        let t = $0"))
    assert got == [
        ("eff", "variable"), ("k", "variable"), ("mu", "variable"), ("near", "variable"),
        ("phi", "variable"), ("shift", "variable"), *MORPHISMS, *BUILTINS, ("factor", "comprehension")]
