"""parse_module keeps every good declaration around a broken one (and the names the broken one
declares, as an `ast.BrokenDecl`); chunk API and shift."""
from __future__ import annotations

import pytest

from qvr.syntax import ast as A
from qvr.syntax import _trivia_end, parse, parse_declaration, parse_module, shift, split_declarations
from qvr.syntax.span import Span

from syntax_helpers import at, example_text

GOOD_BAD_GOOD = """object Token : FinSet 256
morphism broken : Token -> -> Token
program p : Token -> Token
    let x = 1.0
    sample y <- f(x)
    return y
define later = p
"""


def test_broken_declaration_between_good_ones():
    result = parse_module(GOOD_BAD_GOOD)
    assert [d.code for d in result.diagnostics] == ["QVR002"]
    names = [(type(d).__name__, A.declared_names(d)[0].text) for d in result.module.statements]
    assert names == [("ObjectDecl", "Token"), ("BrokenDecl", "broken"), ("ProgramDecl", "p"),
                     ("DefineDecl", "later")]
    bad = result.diagnostics[0]
    assert at(GOOD_BAD_GOOD, bad.span) == "->"
    assert bad.span.start == GOOD_BAD_GOOD.index("-> -> ") + 3


def test_several_broken_declarations_are_all_reported():
    text = "object A : 3\nobject $ : 3\nobject B : : 3\nobject C : 3\nprogram q : A -> A\n"
    result = parse_module(text)
    assert [d.code for d in result.diagnostics] == ["QVR001", "QVR002", "QVR005"]
    # `object $` has no name to keep; `B` and `q` are kept as broken declarations
    assert [(type(d).__name__, d.names[0].text) for d in result.module.statements] == [
        ("ObjectDecl", "A"), ("BrokenDecl", "B"), ("ObjectDecl", "C"), ("BrokenDecl", "q")]


def test_a_broken_declaration_keeps_its_names_after_comments_and_blanks():
    text = "#{ note }#\n  # more\n morphism f, g : A -> -> B\n"
    result = parse_module(text)
    assert [(d.code, d.span) for d in result.diagnostics] == [("QVR002", Span(text.index("-> B"), text.index(" B")))]
    (broken,) = result.module.statements
    assert type(broken) is A.BrokenDecl
    assert [(n.text, n.span) for n in broken.names] == [
        ("f", Span(text.index("f,"), text.index(","))), ("g", Span(text.index("g :"), text.index(" :")))]


def test_a_keyword_in_a_comment_before_broken_text_declares_nothing():
    result = parse_module("# let me explain\n@@@ x\n")
    assert [(d.code, d.message, d.span) for d in result.diagnostics] == [
        ("QVR002", "syntax error: expected a declaration, found `@`", Span(17, 18))]
    assert result.module.statements == ()


@pytest.mark.parametrize("blanks", [24, 64, 4000])
def test_broken_text_after_a_long_run_of_blanks_is_read(blanks):
    # (reading a declaration's head by backtracking over the blanks would take 2**blanks steps)
    text = " " * blanks + "emission\nl it, this\n"
    result = parse_module(text)
    assert [(d.code, d.message, d.span) for d in result.diagnostics] == [
        ("QVR002", "syntax error: expected a name, found `,`", Span(text.index(","), text.index(",") + 1))]
    assert result.module.statements == ()


@pytest.mark.parametrize("text, end", [
    ("", 0),
    ("morphism f", 0),
    (" \t\n  morphism f", 5),
    ("# a comment with morphism f\nobject A", 28),
    ("#{ a block\ncomment }#object A", 21),
    ("#{}#  #{ }# \n object A", 14),
    ("#{ never closed\n#{ nor this\nobject A", 28),  # an unclosed `#{` reads as a line comment
    ("# the last line", 15),
    ("#{ a }# # b\n#{ c", 16),
])
def test_the_trivia_before_a_declaration_head(text, end):
    assert _trivia_end(text) == end


def test_split_declarations_respects_program_bodies():
    text = example_text("s7_1.qvr")
    chunks = split_declarations(text)
    starts = [text[c.start:c.start + 12] for c in chunks]
    assert len(chunks) == 14
    program = next(c for c in chunks if text[c.start:].startswith("program"))
    body = text[program.start:program.end]
    assert body.count("let ") == 5 and body.rstrip().endswith("return (c_new, h_new)")
    assert starts[-2].startswith("let lstm")  # top-level `let` after `return` splits


def test_split_ignores_keywords_in_comments_and_role_values():
    text = "object T : 3 # object U : 4\nmorphism e : T -> X [role=embed]\n#{ define z }#"
    chunks = split_declarations(text)
    assert len(chunks) == 2


@pytest.mark.parametrize("options", [
    "[role= #{ why }# embed]",
    "[role= # why\n  embed]",
    "[role=#{a}# #{b}#\n embed]",
    "[a=[embed, latent]]",
    "[a=[ #{ first }# observed]]",
    "[a=[[discretize]]]",
])
def test_a_role_word_value_after_a_comment_or_in_a_list_does_not_split(options):
    text = f"object A, B : 3\nmorphism a : A -> B {options}\nobject C : 3\n"
    chunks = split_declarations(text)
    assert [text[c.start:c.end].split()[0] for c in chunks] == ["object", "morphism", "object"]
    result = parse_module(text)
    assert result.diagnostics == ()
    assert [type(d).__name__ for d in result.module.statements] == [
        "ObjectDecl", "MorphismDecl", "ObjectDecl"]


def test_a_statement_keyword_after_a_comment_still_splits():
    text = "object A : 3 #{ x = }#\nembed e : A -> A\nobject B : 3 # =\nlatent l : A -> A\n"
    assert len(split_declarations(text)) == 4


def test_parse_declaration_gives_absolute_spans():
    text = GOOD_BAD_GOOD
    chunks = split_declarations(text)
    decl, diags, _ = parse_declaration(text, chunks[2].start, chunks[2].end)
    assert diags == ()
    assert isinstance(decl, A.ProgramDecl)
    assert at(text, decl.name.span) == "p"
    decl, diags, _ = parse_declaration(text, chunks[1].start, chunks[1].end)
    assert isinstance(decl, A.BrokenDecl) and diags[0].code == "QVR002"
    assert (at(text, decl.keyword.span), [at(text, n.span) for n in decl.names]) == (
        "morphism", ["broken"])


def test_memoised_chunks_are_shifted_when_text_moves():
    text = "object T : 3\nprogram p : T -> T\n    return x\n"
    first = parse(text).statements[1]
    moved_text = "# a new header line\n" + text
    moved = parse(moved_text).statements[1]
    delta = len("# a new header line\n")
    assert moved == shift(first, delta)
    assert at(moved_text, moved.name.span) == "p"
    assert at(moved_text, moved.ret.pattern.var.span) == "x"


def test_shift_moves_every_span():
    decl = parse("define x = f >> g").statements[0]
    moved = shift(decl, 10)
    assert moved.span.start == decl.span.start + 10
    assert moved.expr.op.span.start == decl.expr.op.span.start + 10
    assert moved.expr.right.name.span.end == decl.expr.right.name.span.end + 10
    assert shift(decl, 0) is decl


def test_a_node_class_s_shifter_is_made_on_first_use_and_then_kept():
    import qvr.syntax as syntax

    decl = parse("define x = f >> g").statements[0]
    stand_in = syntax._shifter_on_first_use(A.Compose)
    syntax._SHIFTERS[A.Compose] = stand_in
    first = shift(decl, 7)
    made = syntax._SHIFTERS[A.Compose]
    assert made is not stand_in
    assert shift(decl, 7) == first and syntax._SHIFTERS[A.Compose] is made
    assert first.expr.span.start == decl.expr.span.start + 7


def test_leading_junk_is_reported_not_dropped():
    result = parse_module("junk here\nobject T : 3\n")
    assert [d.code for d in result.diagnostics] == ["QVR002"]
    assert len(result.module.statements) == 1


def test_where_is_a_flag_and_bindings_stay_top_level():
    module = parse(example_text("s3_3_where.qvr"))
    names = [d.name.text for d in module.statements]
    assert names == ["model", "first", "second", "after"]
    assert module.statements[0].where is not None
    assert all(d.where is None for d in module.statements[1:])


def test_empty_and_comment_only_modules():
    assert parse_module("").module.statements == ()
    result = parse_module("# only a comment\n#! and a doc\n")
    assert result.diagnostics == () and len(result.module.comments) == 2
