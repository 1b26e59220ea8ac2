"""A template's object parameters have no size until a call binds them (spec part 2 §5.5):
what the editor shows inside a template (hover, inlay hints, completion details) names the
parameter (`S`, `Real |S|`) and never shows the size the checker uses for an unknown one.
Whole texts and lists are compared."""
from __future__ import annotations

from pathlib import Path

from qvr.syntax import vocabulary
from qvr.syntax.span import Span
from qvr_lsp.features import completion, hover, inlay_hints

from lsp_fixtures import at_cursor

TEMPLATE = """object Subject : FinSet 20
object W : Real 3
program $1t(S : Space, G : FinSet, $2x, $3i) : S * G -> S
    let $4y = x * 2.0
    let z = x + y
    $6
    return z
program main : W * Subject -> W
    sample r <- $5t(W, Subject)
    return r
export main
"""


def doc_at(marker: str, line: str = ""):
    text = TEMPLATE.replace("$6", line)
    for m in ("$1", "$2", "$3", "$4", "$5"):
        text = text.replace(m, "$0" if m == marker else "")
    return at_cursor(text)


def plain(marker: str) -> str:
    doc, offset = doc_at(marker)
    return hover.hover(doc, offset).plaintext


def test_hover_names_the_parameters_instead_of_a_size():
    assert plain("$1") == "program t(x, i) : S * G -> S"
    assert plain("$5") == "program t(x, i) : S * G -> S"  # at a call
    assert plain("$2") == "x : S\n\nparameter of program t"
    assert plain("$3") == "i : G\n\nparameter of program t"
    assert plain("$4") == "y : Real |S|\n\nlet variable of program t"


def test_inlay_hints_show_the_width_of_a_parameter_symbolically():
    doc, _ = doc_at("$1")
    text = doc.text
    assert [(h.offset, h.label) for h in inlay_hints.inlay_hints(doc, Span(0, len(text)))] == [
        (text.index("let y") + 5, ": Real |S|"),
        (text.index("let z") + 5, ": Real |S|"),
        (text.index("sample r") + 8, ": Real 3")]


def test_completion_details_inside_a_template():
    doc, offset = doc_at("$1", "    let q = z * $0")
    items, cut = completion.prefix_filter(completion.complete(doc, offset), "")
    builtins = [(b, {"min": "builtin min(x) | min(x, y)", "max": "builtin max(x) | max(x, y)",
                     "pow": "builtin pow(x, y)"}.get(b, f"builtin {b}(x)"))
                for b in sorted(vocabulary.BUILTINS)]
    assert not cut
    assert [(i.label, i.detail) for i in items] == [
        ("i", "parameter : G"), ("x", "parameter : S"),
        ("y", "let : Real |S|"), ("z", "let : Real |S|"), *builtins]


# tests/programs/template_kernel.qvr with the cursor on the name its `marginalize` binds
KERNEL = (Path(__file__).resolve().parents[1] / "programs" / "template_kernel.qvr").read_text(
    encoding="utf-8").replace("marginalize k", "marginalize $0k")


def test_a_block_over_the_elements_of_a_parameter():
    doc, offset = at_cursor(KERNEL)
    assert hover.hover(doc, offset).plaintext == (
        "k : G\n\nsummed out (atoms 0 … |G| − 1) with logsumexp of program t")


def test_a_large_size_outside_a_template_is_shown_as_it_is():
    doc, offset = at_cursor("object $0Vocab : FinSet 1000000\nobject R : Real 1\n"
                            "morphism f : Vocab -> R\nexport f\n")
    assert hover.hover(doc, offset).plaintext == (
        "object Vocab : FinSet 1000000\n\nfinite, cardinality 1000000")
