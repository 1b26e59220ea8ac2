"""The C lexer (`qvr.syntax._lexer`) is built, used, and gives exactly what the lexer in
Python (`qvr.syntax.parser._lex_regex`, one regular expression made from qvr.lark) gives; the
parser still works, with the same results, where the extension is not built."""
from __future__ import annotations

import copy
import json
import pickle
import subprocess
import sys

import pytest
from hypothesis import given, settings, strategies as st

from qvr.syntax import lalr_tables, parser, transformer
from qvr.syntax.vocabulary import OPAQUE_HEADS

from syntax_helpers import ALL_FILES, ROOT

from qvr.syntax import _lexer  # noqa: E402  (not built: these tests fail rather than skip)


def as_rows(lexed):
    """(type, value, start, end) of every token, and the types list; None stays None."""
    if lexed is None:
        return None
    tokens, types = lexed
    return [(t.type, t.value, t.start_pos, t.end_pos) for t in tokens], types


def both(text):
    return as_rows(parser._lex(text)), as_rows(parser._lex_regex(text))


def test_the_parser_uses_the_c_lexer_and_its_token_type():
    # Fails when the extension is not built, or when qvr.lark's token patterns (or lark's
    # order of them) are no longer the ones the C code implements: `_c_lexer` then falls back.
    assert isinstance(parser._lex, _lexer.Lexer)
    assert transformer.Tok is _lexer.Tok
    patterns = {name: value for name, kind, value in lalr_tables.load().terminals
                if kind == "re" and parser.fixed_strings(value) is None and name != "OPAQUE_BLOCK"}
    assert patterns == _lexer.PATTERNS
    assert parser._REGEX_ORDER == _lexer.ORDER


@pytest.mark.parametrize("path", ALL_FILES, ids=[str(p.relative_to(ROOT)) for p in ALL_FILES])
def test_same_tokens_on_every_file(path):
    text = path.read_text(encoding="utf-8")
    c, python = both(text)
    assert c is not None
    assert c == python


# Pieces that meet at every boundary the lexers decide on: numbers next to dots and words,
# Unicode word characters (letters, a superscript digit, an Arabic-Indic digit, a non-BMP
# letter), characters no token starts with (vertical tab, `$`, `"`), comments closed, unclosed
# and at the end, tier-3 blocks at and off a line start, every operator.
PIECES = (["object", "T", "x_t", "é1", "²", "٣", "𝔸x", "_", "2", "0.5", ".5", "2.", "1e-3",
           "2.5E+4", "1e", "1.e5", "3..4", "2.x", "a.b", "\x0b", "$", '"', "\ufeff", "\r\n",
           " ", "\n", "\t", "\x0c", "# c\n", "#! d\n", "#{ b }#", "#{ open\n", "}#", "#",
           "composition c\n  x y\n", "define f(\n  a)\n", "define g = f\n", "index i\n"]
          + [f"{head} h\n  body\n" for head in sorted(OPAQUE_HEADS)]
          + sorted({text for text in parser._FIXED}))


@settings(max_examples=600, deadline=None)
@given(st.lists(st.sampled_from(PIECES), max_size=25))
def test_same_tokens_on_random_text(pieces):
    text = "".join(pieces)
    c, python = both(text)
    assert c == python


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=40))
def test_same_tokens_on_arbitrary_characters(text):
    c, python = both(text)
    assert c == python


def test_a_character_no_token_starts_with_gives_none():
    assert parser._lex("object A : 2\n$") is None
    assert parser._lex("x\x0by") is None
    assert parser._lex("٣") is None  # a decimal digit, but not ASCII: no NAME, no INT


def test_many_unclosed_block_comments():
    # each `#{` without a `}#` after it is a line comment, and `}#` is looked for once, not
    # once per `#{` (the regular expression looks again each time: quadratic, so it is only
    # compared on a small text)
    small = "#{ open\n" * 300 + "object A : FinSet 2\n"
    c, python = both(small)
    assert c == python and c[1] == ["OBJECT", "NAME", "COLON", "NAME", "INT"]
    text = "#{ open\n" * 50_000 + "object A : FinSet 2 #{\n"
    at = 8 * 50_000
    assert as_rows(parser._lex(text)) == (
        [("OBJECT", "object", at, at + 6), ("NAME", "A", at + 7, at + 8),
         ("COLON", ":", at + 9, at + 10), ("NAME", "FinSet", at + 11, at + 17),
         ("INT", "2", at + 18, at + 19)],
        ["OBJECT", "NAME", "COLON", "NAME", "INT"])


def test_initials_of_the_tier3_pattern_cover_every_head():
    opaque = next(value for name, _, value in lalr_tables.load().terminals
                  if name == "OPAQUE_BLOCK")
    initials = parser._initials(opaque)
    assert initials == "".join(sorted({head[0] for head in OPAQUE_HEADS} | {"d", "c"}))
    assert parser._initials("(?:a|b)?c") is None  # not a simple start: no filter at all


def test_tokens_are_read_only_values_that_copy_and_pickle():
    (tok, *_), _ = parser._lex("scan(f)")
    assert (tok.type, tok.value, tok.start_pos, tok.end_pos) == ("SCAN", "scan", 0, 4)
    assert repr(tok) == "Tok('SCAN', 'scan', 0, 4)"
    with pytest.raises(AttributeError):
        tok.value = "other"
    for clone in (pickle.loads(pickle.dumps(tok)), copy.copy(tok), copy.deepcopy(tok)):
        assert clone.__class__ is _lexer.Tok
        assert (clone.type, clone.value, clone.start_pos, clone.end_pos) == ("SCAN", "scan", 0, 4)
    made = _lexer.Tok("NAME", "x", 1, 2)
    assert (made.type, made.value, made.start_pos, made.end_pos) == ("NAME", "x", 1, 2)


def test_the_lexer_checks_its_arguments():
    good = dict(fixed={":": "COLON"}, operators=(":",), opaque_match=None, initials=None,
                kinds=("OPAQUE_BLOCK", "FLOAT", "NAME", "INT"))
    lexer = _lexer.Lexer(**good)
    assert as_rows(lexer("a:1")) == ([("NAME", "a", 0, 1), ("COLON", ":", 1, 2), ("INT", "1", 2, 3)],
                                     ["NAME", "COLON", "INT"])
    with pytest.raises(TypeError):
        lexer(b"bytes")
    for bad in (dict(operators=[":"]), dict(operators=(1,)), dict(opaque_match=3),
                dict(initials=3), dict(fixed=[])):
        with pytest.raises(TypeError):
            _lexer.Lexer(**{**good, **bad})
    with pytest.raises(ValueError):
        _lexer.Lexer(**{**good, "kinds": ("A",)})
    missing = _lexer.Lexer(**{**good, "fixed": {}})  # an operator without a terminal
    with pytest.raises(KeyError):
        missing("a:1")


PROBE = """
import json, sys
sys.modules["qvr.syntax._lexer"] = None  # as if the extension were not built
from qvr.semantics import analyze
from qvr.syntax import parser, transformer
text = open(sys.argv[1], encoding="utf-8").read()
print(json.dumps({"python lexer": parser._lex is parser._lex_regex,
                  "tok": transformer.Tok.__module__,
                  "diagnostics": [[d.code, d.message, d.span.start, d.span.end]
                                  for d in analyze(text).diagnostics]}))
"""


@pytest.mark.process
def test_without_the_extension_the_parser_lexes_in_python_with_the_same_results(tmp_path):
    from qvr.semantics import analyze

    # the classic model (deprecation hints) twice and two statements that do not parse
    model = (ROOT / "tests" / "programs" / "classic_model.txt").read_text(encoding="utf-8")
    text = (model.format(i=0) + model.format(i=1)
            + "object Broken : \nprogram p(x) : A -> B $\n")
    path = tmp_path / "model.qvr"
    path.write_text(text, encoding="utf-8")
    out = subprocess.run([sys.executable, "-c", PROBE, str(path)], capture_output=True,
                         text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    probe = json.loads(out.stdout)
    assert probe["python lexer"] is True and probe["tok"] == "qvr.syntax.transformer"
    expected = [[d.code, d.message, d.span.start, d.span.end] for d in analyze(text).diagnostics]
    assert {"QVR001", "QVR002", "QVR090"} <= {code for code, *_ in expected}
    assert probe["diagnostics"] == expected
