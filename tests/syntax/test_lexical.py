"""Lexical structure (spec §2): numbers, comments, doc comments, normalisation."""
from __future__ import annotations

import pytest
from hypothesis import given, settings, strategies as st

from qvr.semantics import analyze
from qvr.syntax import ast as A
from qvr.syntax import comments, lexical, parse, parse_module
from qvr.syntax.lexical import split_declarations

from syntax_helpers import at


def let_value(expr_text):
    text = f"program p : A -> A\n let v = {expr_text}\n return v"
    return parse(text).statements[0].steps[0].value


@pytest.mark.parametrize("literal, value, is_int", [
    ("0", 0, True), ("256", 256, True), ("0.5", 0.5, False), ("1e-3", 1e-3, False),
    ("2.5E+4", 2.5e4, False), (".5", 0.5, False), ("2.", 2.0, False), ("3e2", 300.0, False),
    (".5e1", 5.0, False),
])
def test_number_forms(literal, value, is_int):
    node = let_value(literal)
    assert isinstance(node, A.Lit)
    assert node.value.value == value and node.value.is_int is is_int
    assert node.value.text == literal


def test_minus_is_an_operator_not_part_of_the_number():
    node = let_value("a-1")
    assert isinstance(node, A.BinOp) and node.op == "-"
    assert node.right.value.value == 1
    neg = let_value("- - 2")
    assert isinstance(neg, A.Neg) and isinstance(neg.operand, A.Neg)


def test_two_dot_before_letter_is_not_a_float():
    # `2.x` is not `2.` followed by `x`: `2.` needs a non-word character after it
    result = parse_module("program p : A -> A\n let v = 2.x\n return v")
    assert result.diagnostics and result.diagnostics[0].code == "QVR002"


def test_signed_option_values_parse():
    decl = parse("morphism f : A -> B [scale=-0.1] ~ Normal").statements[0]
    assert decl.options.items[0].value.value == -0.1
    assert decl.options.items[0].value.text == "-0.1"


def test_comment_kinds_and_spans():
    text = ("# plain\n#! doc line\n#![attr] not doc\n#[pragma]\n"
            "object T : 3 #{ inline\n block }# # trailing\n")
    found = comments(text)
    assert [c.kind for c in found] == ["line", "doc", "line", "line", "block", "line"]
    for c in found:
        assert at(text, c.span) == c.text
    assert found[4].text == "#{ inline\n block }#"
    module = parse(text)
    assert module.comments == found


def test_hash_inside_block_comment_is_not_a_new_comment():
    found = comments("#{ a # b }# x")
    assert len(found) == 1 and found[0].kind == "block"


def test_doc_comments_attach_to_next_declaration():
    text = ("#! First line.\n#!  Second, indented.\nobject T : 3\n"
            "#! orphan\n\n# breaks nothing: blank line only\nobject U : 3\n"
            "#! for V\n# a plain comment in between\nobject V : 3\n")
    t, u, v = parse(text).statements
    assert [d.text for d in t.docs] == ["First line.", " Second, indented."]
    assert at(text, t.docs[0].span) == "#! First line."
    assert u.docs == ()  # a comment separates the run from U
    assert v.docs == ()


def test_doc_comments_attach_to_program_steps():
    text = ("program p : A -> A\n    #! the gate\n    sample g <- f\n    #! result\n"
            "    return g\n")
    prog = parse(text).statements[0]
    assert [d.text for d in prog.steps[0].docs] == ["the gate"]
    assert [d.text for d in prog.ret.docs] == ["result"]
    assert prog.docs == ()


def test_doc_before_program_attaches_to_program_not_its_steps():
    text = "object A : 3\n#! A cell.\nprogram p : A -> A\n    return x\n"
    prog = parse(text).statements[1]
    assert [d.text for d in prog.docs] == ["A cell."]


def test_tabs_and_form_feeds_are_whitespace():
    assert parse_module("object\tT\f:\t3").diagnostics == ()


def test_reserved_words_are_whole_words_only():
    module = parse("object objects : 3\nobject scanner : 2\nobject let_x : 2")
    assert [d.names[0].text for d in module.statements] == ["objects", "scanner", "let_x"]


HAS_CODE_PIECES = ["#{", "}#", "#", "# c\n", "#! d\n", "x", " ", "\n", "\t", "{", "}",
                   "deduction d\n  body\n", "loss l\n  y\n)", "object A : B\n", "define f(\n a)\n"]


@settings(max_examples=500, deadline=None)
@given(st.lists(st.sampled_from(HAS_CODE_PIECES), max_size=16))
def test_has_code_is_what_is_left_without_the_comments(pieces):
    # the definition: take every comment out (`_COMMENT_SCAN`, an unclosed `#{` alone), keep
    # tier-3 blocks, and look for anything but blanks
    text = "".join(pieces)
    left = lexical._COMMENT_SCAN.sub(lambda m: m.group() if m.lastgroup == "opaque" else "", text)
    assert lexical._has_code(text, 0, len(text)) is bool(left.strip())


def test_a_file_of_unclosed_block_comments_splits_and_checks():
    # every `#{` lacks its `}#`: the chunker looks for one once, not once per `#{`
    text = "#{\n" * 100_000
    assert split_declarations(text) == []
    assert [d.code for d in analyze(text + "object A : FinSet 2\n").diagnostics] == ["QVR055", "QVR003"]
