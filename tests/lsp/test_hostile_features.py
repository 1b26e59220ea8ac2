"""Editor features on hostile files: long operator chains, huge products, unconvertible
number literals.

The feature functions run in process on a `Document`, as the server calls them. Their work
is counted for `n` and `4 * n` parts (`tests/semantics/hostile_shapes.py`: linear cost gives
a ratio of about 4, quadratic about 16), never timed; and what they show on such files is
checked whole.
"""
from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

import qvr.syntax as syntax
from qvr.syntax.span import Span
from qvr_lsp.features import hover, inlay_hints, semantic_tokens, structure, symbols

from expect import expect
from lsp_fixtures import open_doc

_spec = importlib.util.spec_from_file_location(
    "hostile_shapes", Path(__file__).resolve().parents[1] / "semantics" / "hostile_shapes.py")
shapes = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(shapes)

N = 300
LINEAR = 5.0


def _declared_name(text: str) -> int:
    """Offset inside the name the long construct is declared as (its hover shows the type)."""
    for needle in ("define a", "let y", "object P", "rule r", "morphism h"):
        if needle in text:
            return text.index(needle) + len(needle) - 1
    raise AssertionError("no declared name")


def _middle(text: str) -> int:
    """Offset of a name in the middle of the long construct (the AST is deepest there)."""
    at = len(text) // 2
    while not text[at].isalpha():
        at += 1
    return at


FEATURES = {
    "semantic tokens": lambda doc: semantic_tokens.semantic_tokens(doc),
    "semantic tokens of a range": lambda doc: semantic_tokens.semantic_tokens(
        doc, Span(_middle(doc.text), _middle(doc.text) + 80)),
    "inlay hints": lambda doc: inlay_hints.inlay_hints(doc, Span(0, len(doc.text))),
    "hover on the name": lambda doc: hover.hover(doc, _declared_name(doc.text)),
    "hover in the middle": lambda doc: hover.hover(doc, _middle(doc.text)),
    "document symbols": lambda doc: symbols.document_symbols(doc.parsed.module, doc.text),
    "folding ranges": lambda doc: structure.folding_ranges(doc),
    "selection": lambda doc: structure.selection_chain(doc, _middle(doc.text)),
}


@pytest.mark.slow  # 40 growth measurements, each tracing runs over 300 and 1,200 parts
@pytest.mark.parametrize("feature", sorted(FEATURES))
@pytest.mark.parametrize("shape", ["@", ">>", "object product", "let +", "rule *"])
def test_feature_work_grows_linearly(shape, feature):
    def work(n):
        syntax._memo.clear()
        doc = open_doc(shapes.SHAPES[shape](n))
        assert doc.analysis is not None  # analysed outside the count: only the feature counts
        return shapes.line_events(lambda: FEATURES[feature](doc))

    assert work(4 * N) / work(N) <= LINEAR


def test_hover_and_inlay_hint_show_the_type_of_a_long_tensor_chain():
    """The product it builds nests once per `@`: far deeper than recursion allows."""
    n = 3000
    doc = open_doc(shapes.chain("@", n))
    side = " * ".join(["X(2)"] * (n + 1))
    assert hover.hover(doc, _declared_name(doc.text)).markdown == (
        f"```qvr\ndefine a : {side} -> {side}\n```")
    assert inlay_hints.inlay_hints(doc, Span(0, len(doc.text))) == [
        inlay_hints.Hint(doc.text.index(" = f @"), f": {side} -> {side}")]


def test_hover_on_a_huge_finite_product_shows_its_size_as_a_bound():
    text = ("object B : FinSet 2\nobject P : " + " * ".join(["B"] * 16000)
            + "\nmorphism h : P -> B ~ Categorical\nexport h\n")
    doc = open_doc(text)
    shown = hover.hover(doc, text.index("morphism h") + len("morphism h") - 1).markdown
    expect("""
        ```qvr
        h : P(more than 10^4816) -> B(2) ~ Categorical
        ```

        Family `Categorical(probs)`, support finite set → FinSet K

        Options: `param_source=affine`, `replicate=1`
    """).assert_eq(shown + "\n")
    shown = hover.hover(doc, text.index("object P") + len("object P") - 1).markdown
    # Only the end: the hover's first line is the declaration as written, 16000 factors long.
    assert shown.endswith("```\n\nfinite, cardinality more than 10^4816")


def test_a_file_with_an_unconvertible_literal_keeps_its_diagnostics_and_symbols():
    text = ("object X : Real 2\nmorphism f : X -> X ~ Nromal\nobject Y : FinSet "
            + "9" * 4301 + "\nexport f\n")
    doc = open_doc(text)
    y = text.index("9" * 4301)
    assert [(d.code, d.span.start, d.span.end) for d in doc.analysis.diagnostics] == [
        ("QVR031", text.index("Nromal"), text.index("Nromal") + 6),
        ("QVR002", y, y + 4301),
    ]
    # Kinds and names only: the details repeat the declarations, 4301 digits among them.
    expect("""
        object X
        morphism f
        export export
    """).assert_eq("".join(f"{s.kind} {s.name}\n" for s in symbols.document_symbols(doc.parsed.module, text)))
