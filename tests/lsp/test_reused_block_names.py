"""Editor features on two `marginalize` blocks that bind the same names one after the other
(spec part 2 §5.7: a block's variable and the lets that depend on it are scoped to it): hover
describes each block's own variable, completion offers the binding in scope at the cursor, and
every binding has its inlay hint. Whole texts and lists are compared."""
from __future__ import annotations

from lsp_fixtures import at_cursor

from qvr.syntax.span import Span
from qvr_lsp.features import completion, hover, inlay_hints

BLOCKS = """object N : FinSet 5
object R : Real 1
program p : N -> R
    sample s <- HalfNormal(scale=1.0)
    marginalize $1z <- Bernoulli(probs=0.5)
        let m = $2z * s
        $4
        observe y : N <- Normal(loc=m, scale=1.0)
    marginalize $3z <- Categorical(probs=[0.2, 0.3, 0.5]) [reduction=sum]
        let m = s + 1.0
        $5
        observe y2 : N <- Normal(loc=m, scale=1.0)
    $6
    return s
export p
"""


def doc_at(marker: str, insert: str = ""):
    text = BLOCKS
    for m in ("$1", "$2", "$3", "$4", "$5", "$6"):
        text = text.replace(m, (insert or "$0") if m == marker else "")
    return at_cursor(text)


def plain(marker: str) -> str:
    doc, offset = doc_at(marker)
    return hover.hover(doc, offset).plaintext


def locals_offered(marker: str) -> list:
    doc, offset = doc_at(marker, "let t = $0")
    items, _ = completion.prefix_filter(completion.complete(doc, offset), "")
    return [(i.label, i.detail) for i in items if i.sort_group == 1]


def test_each_block_of_a_reused_name_is_described():
    assert plain("$1") == "z : FinSet 2\n\nsummed out (atoms 0, 1) with logsumexp of program p"
    assert plain("$2") == "z : FinSet 2\n\nsummed out (atoms 0, 1) with logsumexp of program p"
    assert plain("$3") == "z : FinSet 3\n\nsummed out (atoms 0, 1, 2) with sum of program p"


def test_completion_offers_the_binding_in_scope():
    s = ("s", "sample : Real 1 {low=0.0}")
    y, y2 = ("y", "observe : Real 1 over N"), ("y2", "observe : Real 1 over N")
    assert locals_offered("$4") == [("m", "let : Real 1"), s, ("z", "marginalize : FinSet 2")]
    assert locals_offered("$5") == [("m", "let : Real 1"), s, y, ("z", "marginalize : FinSet 3")]
    # after both blocks: the second block's `m` does not depend on its `z`, so it stays
    assert locals_offered("$6") == [("m", "let : Real 1"), s, y, y2]


def test_every_binding_has_its_inlay_hint():
    doc, _ = doc_at("$1")
    text = doc.text
    first, second = text.index("marginalize z"), text.rindex("marginalize z")
    assert [(h.offset, h.label) for h in inlay_hints.inlay_hints(doc, Span(0, len(text)))] == [
        (text.index("sample s") + 8, ": Real 1 {low=0.0}"),
        (first + 13, ": FinSet 2"),
        (text.index("let m") + 5, ": Real 1"),
        (text.index("observe y ") + 9, ": Real 1 over N"),
        (second + 13, ": FinSet 3"),
        (text.rindex("let m") + 5, ": Real 1"),
        (text.index("observe y2") + 10, ": Real 1 over N")]
