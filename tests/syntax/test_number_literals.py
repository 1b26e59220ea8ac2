"""A number literal that cannot become a value is a located syntax error (QVR002), and the
rest of the file is still parsed and checked.

Python refuses to convert an integer of more than 4300 digits (its default limit), and a
float literal such as `1e999` overflows to infinity. Either is reported on the literal itself;
the declaration holding it is dropped like any declaration with a syntax error, and every
other declaration is checked as usual.
"""
from __future__ import annotations

import re
import sys

import pytest

import qvr.syntax as syntax
from qvr.cli import main
from qvr.semantics import analyze
from qvr.semantics.engine import Engine
from qvr.syntax import parse_module
from qvr.syntax.span import LineIndex
from qvr.syntax.transformer import MAX_INT_DIGITS

TOO_LONG = "9" * (MAX_INT_DIGITS + 1)

PROGRAM = (
    "object X : Real 2\n"
    "morphism f : X -> X ~ Nromal\n"  # a misspelt family, on another line
    "object Y : FinSet " + TOO_LONG + "\n"
    "morphism g : X -> X [scale=1e999] ~ Normal\n"
    "program p(x) : X -> X\n"
    "    let y = x * 1" + "0" * 4400 + " +\n"  # a long literal and a syntax error in one step
    "    return y\n"
    "export f\n"
)


def located(text: str, diagnostics) -> list[tuple]:
    """(code, line, column, end line, end column), 1-based as `qvr check` prints them."""
    index = LineIndex(text)
    out = []
    for d in diagnostics:
        (l1, c1), (l2, c2) = index.position(d.span.start), index.position(d.span.end)
        out.append((d.code, l1 + 1, c1 + 1, l2 + 1, c2 + 1))
    return out


EXPECTED = [
    ("QVR031", 2, 23, 2, 29),  # `Nromal`
    ("QVR002", 3, 19, 3, 19 + MAX_INT_DIGITS + 1),  # the 4301-digit integer
    ("QVR002", 4, 28, 4, 33),  # `1e999`
    ("QVR002", 6, 17, 6, 17 + 4401),  # the 4401-digit integer
    ("QVR002", 7, 5, 7, 11),  # `return` where the `+` wants an operand
]


def test_every_bad_literal_is_located_and_the_rest_is_checked():
    a = analyze(PROGRAM)
    assert located(PROGRAM, a.diagnostics) == EXPECTED
    messages = [d.message for d in a.diagnostics if d.code == "QVR002"]
    assert messages[:3] == [
        "syntax error: number `99999999…9999` has 4301 digits; an integer may have at most 4300",
        "syntax error: number `1e999` is too large for a 64-bit float",
        "syntax error: number `10000000…0000` has 4401 digits; an integer may have at most 4300",
    ]
    # the declarations around them are checked and listed (whether a declaration that does
    # not parse is listed too is the business of the parser's recovery, not of this test)
    assert {"X", "f"} <= {s.name for s in a.symbols}


def test_the_keystroke_checker_reports_the_same():
    checker = Engine()
    assert located(PROGRAM, checker.diagnostics(PROGRAM)) == EXPECTED
    edited = PROGRAM.replace("Nromal", "Normal")  # the file stays checkable while edited
    assert located(edited, checker.diagnostics(edited)) == EXPECTED[1:]


def test_qvr_check_prints_each_error_and_fails(tmp_path, capsys):
    path = tmp_path / "numbers.qvr"
    path.write_text(PROGRAM, encoding="utf-8")
    assert main(["check", str(path)]) == 1
    lines = capsys.readouterr().out.splitlines()
    printed = [re.match(r".*:(\d+):(\d+): error\[(\w+)\]: ", line).groups() for line in lines]
    assert printed == [(str(l), str(c), code) for code, l, c, _, _ in EXPECTED]


def test_the_longest_integer_and_float_literals_are_accepted():
    text = ("object Y : FinSet " + "9" * MAX_INT_DIGITS + "\nobject X : Real 1\n"
            "morphism g : X -> X [scale=1e308] ~ Normal\nexport g\n")
    a = analyze(text)
    assert located(text, a.diagnostics) == [("QVR080", 1, 8, 1, 9)]  # `Y` is never used
    assert a.objects["Y"].factors[0].display() == "FinSet more than 10^4299"


def test_a_bad_literal_after_an_edit_above_it_moves_with_its_chunk():
    parse_module(PROGRAM)
    moved = "# one more line\n" + PROGRAM
    assert located(moved, parse_module(moved).diagnostics) == [
        (code, l1 + 1, c1, l2 + 1, c2) for code, l1, c1, l2, c2 in EXPECTED if code == "QVR002"]


def test_a_lower_interpreter_digit_limit_is_reported_as_the_limit():
    text = "object Y : FinSet " + "7" * 700 + "\nobject X : Real 1\nexport X\n"
    old = sys.get_int_max_str_digits()
    sys.set_int_max_str_digits(640)
    syntax._memo.clear()
    try:
        result = parse_module(text)
    finally:
        sys.set_int_max_str_digits(old)
        syntax._memo.clear()
    assert [(d.code, d.span.start, d.span.end, d.message) for d in result.diagnostics] == [
        ("QVR002", 18, 718,
         "syntax error: number `77777777…7777` has 700 digits; an integer may have at most 640")]


@pytest.mark.parametrize("literal", ["1e999", "1" + "0" * 400 + ".5", TOO_LONG])
def test_a_negative_bad_literal_is_located_on_its_digits(literal):
    text = f"object X : Real 1 {{low=-{literal}}}\nexport X\n"
    result = parse_module(text)
    start = text.index("-") + 1  # the token is the digits; the sign is an operator
    assert [(d.code, d.span.start, d.span.end) for d in result.diagnostics] == [
        ("QVR002", start, start + len(literal))]
