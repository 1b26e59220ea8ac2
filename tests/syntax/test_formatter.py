"""The formatter: canonical layout, every comment kept, idempotent, meaning unchanged."""
from __future__ import annotations

import dataclasses

import pytest

from qvr.errors import QvrSyntaxError
from qvr.semantics.formatter import format_text
from qvr.syntax import ast as A
from qvr.syntax import comments, parse
from qvr.syntax.span import Span

from syntax_helpers import EXAMPLES, example_text, flatten


def shape(node):
    """The AST with every span (and number spelling) removed: what the program means."""
    if isinstance(node, tuple):
        return tuple(shape(x) for x in node)
    if isinstance(node, Span):
        return None
    if dataclasses.is_dataclass(node):
        return (type(node).__name__,) + tuple(
            shape(getattr(node, f.name)) for f in dataclasses.fields(node)
            if f.name not in ("span", "text") or not isinstance(node, A.Number)
        )
    return node


def assert_same_meaning(before: str, after: str):
    a, b = parse(before), parse(after)
    assert shape(a.statements) == shape(b.statements)
    assert [c.text for c in comments(before)] == [c.text for c in comments(after)]


MESSY = [
    "object T:3 object U : FinSet   4\nmorphism f,g:T*U->U[scale=-0.1,role=kernel]~Normal",
    "program p ( x , y ) : A*B -> B [ ]\nsample(a,b):B<-f(x,-y)[o=1] let z=-a*2+3/ -b-1\n"
    "observe o~Normal(loc=z,scale=.5) return (l:z,o)",
    "define m = f<<g>=>h @ fan(a,b,)>>scan(c,states=all).marginalize(X)",
    "continuous head[4]:H->O~Normal[scale=2.]\nembed e [2] : T -> E",
    "rule r(x,y):x/y,y\\x=>x rule s(x):x*x|-x",
    "object B : Real 1 [low=0.0] object C : Real 2{low=-1e-3,high=5}\ntype X=Euclidean(2,low=0.0)",
    "latent rel:N->V[scale=0.5]=identity(N) define g=parser(rules=[a,b] categories=[S],start=0)",
]


@pytest.mark.parametrize("path", EXAMPLES, ids=[p.stem for p in EXAMPLES])
def test_examples_round_trip(path):
    text = path.read_text(encoding="utf-8")
    once = format_text(text)
    assert format_text(once) == once
    assert_same_meaning(text, once)
    flat = format_text(flatten(text))
    assert_same_meaning(flatten(text), flat)
    assert shape(parse(flat).statements) == shape(parse(text).statements)


@pytest.mark.parametrize("text", MESSY)
def test_messy_input_round_trips(text):
    once = format_text(text)
    assert format_text(once) == once
    assert_same_meaning(text, once)


def test_seed_002_is_already_canonical_after_reindenting():
    text = example_text("s7_3.qvr")
    assert format_text(flatten(text)) == text


def test_current_form_example_is_a_fixed_point():
    text = example_text("s7_5.qvr")
    assert format_text(text) == text


def test_canonical_spacing():
    out = format_text("morphism f,g:T*U->U[scale=-0.1,role=kernel]~Normal")
    assert out == "morphism f, g : T * U -> U [scale=-0.1, role=kernel] ~ Normal\n"
    out = format_text("define m=f>>g @ h<<k")
    assert out == "define m = f >> g @ h << k\n"
    out = format_text("continuous head[4]:H->O~Normal(0.0,1.0)")
    assert out == "continuous head[4] : H -> O ~ Normal(0.0, 1.0)\n"


def test_program_steps_indented_one_per_line():
    out = format_text("program p(x):A->A sample(a,b)<-f(x) let y=-a*2-b return y")
    assert out == ("program p(x) : A -> A\n"
                   "    sample (a, b) <- f(x)\n"
                   "    let y = -a * 2 - b\n"
                   "    return y\n")


def test_comments_are_kept_in_place():
    text = ("# header\n\n\n#! Token set.\nobject T : 3   # trailing\n"
            "program p : T -> T\n  # before step\n  sample x <- f #{ inline }# (1)\n"
            "  return x\n#{ block\n   two lines }#\nexport p\n")
    out = format_text(text)
    assert out == ("# header\n\n#! Token set.\nobject T : 3  # trailing\n"
                   "program p : T -> T\n    # before step\n    sample x <- f #{ inline }# (1)\n"
                   "    return x\n#{ block\n   two lines }#\nexport p\n")
    assert parse(out).statements[0].docs[0].text == "Token set."


def test_comment_inside_a_statement_forces_a_continuation_line():
    text = "morphism f : A -> B [  # options follow\n scale=0.1]\nobject T : 3"
    out = format_text(text)
    assert out == ("morphism f : A -> B [  # options follow\n    scale=0.1]\nobject T : 3\n")
    assert format_text(out) == out


def test_where_bindings_keep_their_grouping():
    text = ("define model = first >> second\n    where\n        define first = f\n"
            "        define second = h where\n            define h = k\ndefine after = model\n")
    out = format_text(text)
    assert out == ("define model = first >> second where\n    define first = f\n"
                   "    define second = h where\n        define h = k\ndefine after = model\n")


def test_blank_lines_collapse_to_one():
    out = format_text("\n\nobject A : 3\n\n\n\nobject B : 3\nobject C : 3\n\n")
    assert out == "object A : 3\n\nobject B : 3\nobject C : 3\n"


def test_deprecated_syntax_is_not_migrated():
    text = "object T : 256\ntype E = Euclidean 4\nlet m = f >=> g\noutput m\n"
    assert format_text(text) == text


def test_syntax_errors_are_refused_with_diagnostics():
    with pytest.raises(QvrSyntaxError) as info:
        format_text("object T : : 3\n")
    assert info.value.diagnostics[0].code == "QVR002"


def test_crlf_input_gives_lf_output():
    assert format_text("object T : 3\r\nobject U : 4\r\n") == "object T : 3\nobject U : 4\n"


def _perturb(text: str, rng) -> str:
    """Same tokens, same line-initial columns (so `where` grouping is unchanged), random
    spacing inside lines and random blank lines."""
    import re

    def gap(m):
        ws = m.group()
        if "\n" not in ws:
            return " " * rng.randint(1, 3)
        indent = ws[ws.rindex("\n") + 1:]
        return "\n" * rng.randint(1, 3) + indent

    # whitespace between tokens, but never inside comments
    pieces = re.split(r"(#\{.*?\}#|#[^\n]*)", text, flags=re.S)
    out = []
    for i, piece in enumerate(pieces):
        out.append(piece if i % 2 else re.sub(r"(?<=\S)[ \t]*(\n[ \t]*)*(?=\S)|(?<=\S) +(?=\S)",
                                              lambda m: gap(m) if m.group() else "", piece))
    return "".join(out)


@pytest.mark.parametrize("path", EXAMPLES, ids=[p.stem for p in EXAMPLES])
def test_formatting_is_independent_of_spacing(path):
    import random

    text = path.read_text(encoding="utf-8")
    canonical = format_text(text)
    rng = random.Random(path.stem)
    for _ in range(3):
        messy = _perturb(text, rng)
        assert shape(parse(messy).statements) == shape(parse(text).statements)
        out = format_text(messy)
        assert_same_meaning(messy, out)
        assert format_text(out) == out
        # only blank lines may differ from the canonical form of the original
        assert [ln for ln in out.splitlines() if ln] == \
            [ln for ln in canonical.splitlines() if ln]


def test_one_line_program_formats_like_the_multi_line_one():
    text = example_text("s7_5.qvr")
    one_line = " ".join(text.split())
    assert [ln for ln in format_text(one_line).splitlines() if ln] == \
        [ln for ln in format_text(text).splitlines() if ln]


@pytest.mark.parametrize("text", [
    example_text("s3_3_where.qvr"),
    "define a = b where define c = d where\n   define e = f\n  define g = h\ndefine i = j\n",
    "define a = b\n  where\n    define b = c where\n        define c = d\n    define e = b\n",
])
def test_checker_groups_where_bindings_the_same_after_formatting(text):
    semantics = pytest.importorskip("qvr.semantics")

    def owners(source):
        return {name: getattr(info, "owner", None)
                for name, info in semantics.analyze(source).defines.items()}

    assert owners(format_text(text)) == owners(text)
