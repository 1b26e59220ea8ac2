"""Lexical and syntax errors QVR001–QVR005: codes, human wording, exact line/column."""
from __future__ import annotations

import pytest

from qvr.syntax import parse_module
from qvr.syntax.span import LineIndex


def diag(text):
    result = parse_module(text)
    assert result.diagnostics, "expected a diagnostic"
    d = result.diagnostics[0]
    line, col = LineIndex(text).position(d.span.start)
    return d, line + 1, col + 1


@pytest.mark.parametrize("ch", ["$", "!", ";", '"', "'", "<", "|"])
def test_qvr001_unexpected_character(ch):
    d, line, col = diag(f"object T : 3\nobject U {ch} 4\n")
    assert d.code == "QVR001"
    assert d.message == f"unexpected character `{ch}`"
    assert (line, col) == (2, 10)
    assert d.span.end - d.span.start == 1


def test_qvr001_non_letter_word_character_in_identifier():
    d, line, col = diag("object T : 3\nobject x² : 4\n")
    assert d.code == "QVR001" and d.message == "unexpected character `²`"
    assert (line, col) == (2, 9)


def test_qvr001_invisible_character_is_named():
    d, line, col = diag("object T :\u00a03\n")
    assert d.code == "QVR001" and d.message == "unexpected character `U+00A0`"
    assert (line, col) == (1, 11)


def test_qvr001_non_ascii_digit_cannot_start_a_word():
    d, _, _ = diag("object T : \u0663\n")
    assert d.code == "QVR001"


def test_unicode_letters_and_digits_are_identifiers():
    assert parse_module("object é1 : 3\nobject _ : 2\nobject x_t : 2").diagnostics == ()


def test_qvr002_missing_arrow_names_the_declaration():
    d, line, col = diag("object A : 3\nmorphism cell : A A\n")
    assert d.code == "QVR002"
    assert d.message == "syntax error: expected `->` after the domain of `cell`, found `A`"
    assert (line, col) == (2, 19)


def test_qvr002_unclosed_option_list():
    d, line, col = diag("morphism f : A -> B [scale=0.1\nobject X : 3\n")
    assert d.code == "QVR002"
    assert d.message == ("syntax error: expected `]` to close the option list, "
                         "found the next declaration")
    assert (line, col) == (1, 31)
    assert d.span.start == d.span.end  # zero width where the declaration ran out


def test_qvr002_at_end_of_file_is_zero_width():
    text = "define x = f >>"
    d, line, col = diag(text)
    assert d.code == "QVR002"
    assert d.message == \
        "syntax error: expected a morphism expression in define `x`, found end of file"
    assert d.span.start == d.span.end == len(text)


def test_qvr002_bad_step_inside_program():
    d, line, col = diag("program p : A -> B\n    sample x <- f\n    ] \n    return x\n")
    assert d.code == "QVR002"
    assert d.message == "syntax error: expected a step or `return` in program `p`, found `]`"
    assert (line, col) == (3, 5)


def test_qvr002_unclosed_parameter_list():
    d, _, _ = diag("program p(x y : A -> B\n return x")
    assert d.message == "syntax error: expected `,`, `:` or `)` to close the parameter list, found `y`"


def test_qvr002_never_mentions_lark_internals():
    for text in ["object T : : 3", "morphism f : A -> B ~", "rule r(x) : x", "define = f",
                 "program p : A -> B sample <- f return x", "object T : Real 2 {low=}",
                 "export", "object T : 3 3"]:
        for d in parse_module(text).diagnostics:
            assert d.code in ("QVR002", "QVR004", "QVR005")
            assert "__ANON" not in d.message and "Token(" not in d.message
            assert "$END" not in d.message


def test_qvr002_step_outside_a_program():
    d, _, _ = diag("object T : 3\nsample x <- f\n")
    assert d.message == ("syntax error: expected `+` or a declaration, found `sample` "
                         "(steps belong in a `program` body)")


def test_qvr002_tuple_missing_comma():
    d, _, _ = diag("program p : A -> B\n return (a b)")
    assert d.message == \
        "syntax error: expected `,`, `:` or `)` to close the returned tuple, found `b`"


def test_qvr002_option_value_missing():
    d, _, _ = diag("morphism f : A -> B [scale=]")
    assert d.message == "syntax error: expected an option value in morphism `f`, found `]`"


def test_qvr003_unclosed_block_comment():
    text = "object T : 3\n#{ never closed\nobject U : 4\n"
    result = parse_module(text)
    codes = [d.code for d in result.diagnostics]
    assert codes == ["QVR003"]
    d = result.diagnostics[0]
    assert d.message == "block comment is not closed"
    assert (d.span.start, d.span.end) == (text.index("#{"), len(text))
    # everything after `#{` is comment: only T is declared
    assert [s.names[0].text for s in result.module.statements] == ["T"]


def test_closed_block_comment_is_fine():
    result = parse_module("object T : 3\n#{ closed\n object X : 3 }#\nobject U : 4\n")
    assert result.diagnostics == ()
    assert len(result.module.statements) == 2


@pytest.mark.parametrize("text, word", [
    ("object scan : 3", "scan"),
    ("object A, type : 3", "type"),
    ("program p(x, let) : A -> B\n return x", "let"),
    ("program p : A -> B\n sample fan <- f\n return fan", "fan"),
    ("morphism stack : A -> B", "stack"),
])
def test_qvr004_reserved_word_as_name(text, word):
    d, _, _ = diag(text)
    assert d.code == "QVR004"
    assert d.message == f"`{word}` is a reserved word and cannot be used as a name"
    assert text[d.span.start:d.span.end] == word


def test_missing_operand_before_keyword_is_not_qvr004():
    d, _, _ = diag("program p : A -> B\n let x =\n return x")
    assert d.code == "QVR002"
    assert d.message == "syntax error: expected an expression in program `p`, found `return`"


@pytest.mark.parametrize("tail", ["", "\nobject T : 3\n"])
def test_qvr005_program_without_return(tail):
    text = "program gen : A -> B\n    sample x <- f\n    let y = x" + tail
    result = parse_module(text)
    d = result.diagnostics[0]
    assert d.code == "QVR005"
    assert d.message == "program `gen` has no `return` step"
    assert text[d.span.start:d.span.end] == "gen"
    # the broken program still declares its name (a BrokenDecl); what follows parses
    assert [(type(s).__name__, s.names[0].text) for s in result.module.statements] == (
        [("BrokenDecl", "gen"), ("ObjectDecl", "T")] if tail else [("BrokenDecl", "gen")])


def test_diagnostics_format_with_one_based_line_and_column():
    text = "object T : 3\nobject U $ 4\n"
    d = parse_module(text).diagnostics[0]
    assert d.format("m.qvr", LineIndex(text)) == \
        "m.qvr:2:10: error[QVR001]: unexpected character `$`"
