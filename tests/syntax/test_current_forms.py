"""The syntax of current QVR (the forms of spec part 2 §3): each new construct parses to the
node the checker and the editor features read, with the spans they point at.

Trees are compared whole, as s-expressions: a node is ``(Class field...)`` with names and
numbers as written and ``None``/empty fields left out, so a test shows exactly what was built.
"""
from __future__ import annotations

import dataclasses

import pytest

from qvr.syntax import ast as A
from qvr.syntax import parse, parse_module, split_declarations


def sexp(node):
    """A compact, whole rendering of an AST node (spans and docs left out)."""
    if isinstance(node, A.Name):
        return node.text
    if isinstance(node, A.Number):
        return node.text
    if isinstance(node, tuple):
        return [sexp(x) for x in node]
    if dataclasses.is_dataclass(node):
        parts = [type(node).__name__]
        for f in dataclasses.fields(node):
            if f.name in ("span", "docs", "op_spans", "arrow", "bracket_span", "tilde",
                          "params_span", "op_span", "where"):
                continue
            value = getattr(node, f.name)
            if value is None or value == ():
                continue
            parts.append(sexp(value) if not isinstance(value, str) else value)
        return parts
    return node


def only(text):
    module = parse(text)
    assert len(module.statements) == 1
    return module.statements[0]


def steps(body: str):
    """The steps of a one-program module whose body is `body` (indented four spaces)."""
    text = "program p : A -> B\n" + "".join(f"    {line}\n" for line in body.splitlines())
    return [sexp(s) for s in only(text + "    return x\n").steps]


def test_enumerated_object_and_name_arguments():
    assert sexp(only("object Atoms : {N, NP, S}").value) == ["EnumSet", ["N", "NP", "S"]]
    assert sexp(only("object F : FreeMonoid(Atoms, max_length=3, sorts=[a, b], k=v)").value) == [
        "TypeCall", "FreeMonoid",
        [["CtorName", "Atoms"], ["KwArg", "max_length", "3"],
         ["KwArg", "sorts", ["KwList", ["a", "b"]]], ["KwArg", "k", ["KwName", "v"]]]]


def test_composition_selector_and_option_calls():
    assert sexp(only("composition real [level=algebra]")) == [
        "CompositionDecl", "composition", "real",
        ["Options", [["Option", "level", ["OptName", "algebra", False]]]]]
    d = only("morphism f : A -> B [param_source=mlp(16, 8), hidden_dim=[64, 32]]")
    assert sexp(d.options) == ["Options", [
        ["Option", "param_source", ["OptCall", "mlp", ["16", "8"]]],
        ["Option", "hidden_dim", ["OptList", ["64", "32"]]]]]


def test_opaque_block_is_one_declaration_with_head_name_and_text():
    block = ('deduction CCG : T -> T [semiring=LogProb]\n'
             '    atoms S, "x" | y   # a comment belongs to the block\n'
             '\n'
             '    rule fwd : X / Y, Y => X\n'
             ')\n')
    text = "object T : FinSet 2\n" + block + "\n\nobject U : FinSet 3\n"
    module = parse(text)
    decl = module.statements[1]
    assert sexp(decl) == ["OpaqueDecl", "deduction", "CCG", block.rstrip("\n")]
    assert text[decl.name.span.start:decl.name.span.end] == "CCG"
    assert [type(d).__name__ for d in module.statements] == ["ObjectDecl", "OpaqueDecl",
                                                             "ObjectDecl"]


@pytest.mark.parametrize("head", [
    "define qiec(x : T) : U = x",
    "define grid[n] = x",
    "composition mine [level=rule]\n    times = a * b",
    "signature Terms",
    "contraction c (p : A -> B) : A -> B [rule=real]",
])
def test_every_kind_of_opaque_head(head):
    decl = only(head + "\n    more | stuff !{x} % \"s\"\n")
    assert decl.__class__ is A.OpaqueDecl
    assert decl.head.text == head.split()[0]


def test_heads_not_at_column_zero_and_ordinary_defines_are_not_blocks():
    assert only("define d = f >> g").__class__ is A.DefineDecl
    assert only("composition real").__class__ is A.CompositionDecl  # no indented body
    result = parse_module("object T : FinSet 2\n  deduction D : T -> T\n    atoms S\n")
    assert [d.code for d in result.diagnostics] == ["QVR002"]


def test_statement_keywords_inside_a_block_do_not_split_it():
    text = ("family Vec (n : Nat) : Type\n    let x = 1\n    return x\n    program q\n"
            "object T : FinSet 2\n")
    chunks = split_declarations(text)
    assert [text[c.start:c.end].split()[0] for c in chunks] == ["family", "object"]


def test_morphism_expressions_call_families_and_methods():
    d = only("define g = f.dagger >> Normal(0.0, 1.0) >> h.trace(A)")
    assert sexp(d.expr) == [
        "Compose",
        ["Compose", ["Method", ["Ref", "f"], "dagger"],
         ["FamilyCall", "Normal", [["Lit", "0.0"], ["Lit", "1.0"]]], ">>"],
        ["Method", ["Ref", "h"], "trace", [["Var", "A"]]], ">>"]


def test_typed_parameters_keep_names_and_kinds_in_order():
    d = only("program t(K : FinSet, f : Mor[A, B], sd : Real, x) : K -> R\n    return x")
    assert sexp(d.params) == ["K", "f", "sd", "x"]
    assert sexp(d.param_kinds) == [
        ["TypedParam", "K", ["KindRef", "FinSet"]],
        ["TypedParam", "f", ["KindMor", "Mor", ["TypeRef", "A"], ["TypeRef", "B"]]],
        ["TypedParam", "sd", ["KindRef", "Real"]],
        None]
    assert only("program p(x, y) : A -> B\n    return x").param_kinds == (None, None)
    assert only("program p : A -> B\n    return x").param_kinds == ()


def test_new_steps():
    assert steps("let g <- f(h) [over=N]\nscore s = -2.0 * z[0, k]") == [
        ["CallStep", "let", "g", ["Target", "f", [["Var", "h"]]],
         ["Options", [["Option", "over", ["OptName", "N", False]]]]],
        ["ScoreStep", "score", "s",
         ["BinOp", "*", ["Neg", ["Lit", "2.0"]],
          ["Index", "z", [["Lit", "0"], ["Var", "k"]]]]]]


def test_comprehensions_lambdas_and_method_calls():
    assert steps("let t = factor c : K in { 0 -> 1.0, 1 -> e }\n"
                 "let u = factor v : K, w : L in m[v, w]\n"
                 "let q = map(xs, x -> y -> x + y)\n"
                 "let c = chart.goal_weight(scale=2.0)") == [
        ["LetStep", "let", "t",
         ["FactorExpr", "factor", [["FactorBinder", "c", ["TypeRef", "K"]]], "in",
          ["FactorCases", [["FactorCase", "0", ["Lit", "1.0"]],
                           ["FactorCase", "1", ["Var", "e"]]]]]],
        ["LetStep", "let", "u",
         ["FactorExpr", "factor", [["FactorBinder", "v", ["TypeRef", "K"]],
                                   ["FactorBinder", "w", ["TypeRef", "L"]]], "in",
          ["Index", "m", [["Var", "v"], ["Var", "w"]]]]],
        ["LetStep", "let", "q",
         ["Call", "map", [["Var", "xs"],
                          ["Lambda", "x", ["Lambda", "y",
                                           ["BinOp", "+", ["Var", "x"], ["Var", "y"]]]]]]],
        ["LetStep", "let", "c",
         ["MethodCall", "chart", "goal_weight", [["NamedArg", "scale", ["Lit", "2.0"]]]]]]


def test_marginalize_bodies_follow_columns():
    got = steps("marginalize k : K <- Categorical(probs=w) [over=G]\n"
                "    observe y : N <- Normal(loc=mu[k], scale=1.0) [via=i]\n"
                "    marginalize j <- Bernoulli(probs=0.5)\n"
                "        score t = j\n"
                "    score u = k\n"
                "let after = 1.0")
    assert [s[0] for s in got] == ["MarginalizeStep", "LetStep"]
    outer = only("program p : A -> B\n    marginalize k <- Bernoulli(probs=0.5)\n"
                 "        score a = k\n        marginalize j <- Bernoulli(probs=0.5)\n"
                 "            score t = j\n        score u = k\n    return u\n").steps[0]
    assert [type(s).__name__ for s in outer.body] == ["ScoreStep", "MarginalizeStep",
                                                     "ScoreStep"]
    assert [type(s).__name__ for s in outer.body[1].body] == ["ScoreStep"]
    assert [type(s).__name__ for s in A.walk_steps((outer,))] == [
        "MarginalizeStep", "ScoreStep", "MarginalizeStep", "ScoreStep", "ScoreStep"]
    empty = only("program p : A -> B\n    marginalize k <- Bernoulli(probs=0.5)\n"
                 "    score a = k\n    return a\n")
    assert [type(s).__name__ for s in empty.steps] == ["MarginalizeStep", "ScoreStep"]
    assert empty.steps[0].body == ()


def test_soft_keywords_must_be_the_exact_words():
    result = parse_module("program p : A -> B\n    scor s = 1.0\n    let t = factor c : K "
                          "on { 0 -> 1.0 }\n    return s\n")
    assert [(d.code, d.message) for d in result.diagnostics] == [
        ("QVR002", "syntax error: expected a step or `return` in program `p`, found `scor`"),
        ("QVR002", "syntax error: expected `in`, found `on`")]
    assert [type(d).__name__ for d in result.module.statements] == ["ProgramDecl"]
    junk = parse_module("compositon real\nobject T : FinSet 2\n")
    assert [(d.code, d.message) for d in junk.diagnostics] == [
        ("QVR002", "syntax error: expected a declaration, found `compositon`")]


def test_factor_is_reserved():
    result = parse_module("object factor : FinSet 2\n")
    assert [d.code for d in result.diagnostics] == ["QVR004"]


def test_opaque_pattern_in_the_vocabulary_is_the_grammars():
    from pathlib import Path
    import re
    from qvr.syntax import vocabulary
    grammar = (Path(A.__file__).with_name("qvr.lark")).read_text()
    pattern = re.search(r"^OPAQUE_BLOCK\.9: /(.*)/$", grammar, re.M).group(1)
    assert pattern == vocabulary.OPAQUE_BLOCK


def test_a_chunk_that_starts_mid_line_never_heads_a_block():
    # an indented `define f(` (and a second statement on a line) is an ordinary, broken define
    for text in ("object T : FinSet 2\n  define f(x) = x\n", "object T : FinSet 2  define f(x) = x\n"):
        result = parse_module(text)
        assert [(d.code, d.message) for d in result.diagnostics] == [
            ("QVR002", "syntax error: expected `=` in define `f`, found `(`")], text
        assert [type(d).__name__ for d in result.module.statements] == ["ObjectDecl", "BrokenDecl"]


def test_comment_markers_inside_a_block_belong_to_it():
    text = 'deduction D : T\n    x #{ y "#{" # z\n\nobject A : FinSet 3  # after\n'
    result = parse_module(text)
    assert result.diagnostics == ()
    assert [type(d).__name__ for d in result.module.statements] == ["OpaqueDecl", "ObjectDecl"]
    assert [c.text for c in result.module.comments] == ["# after"]
