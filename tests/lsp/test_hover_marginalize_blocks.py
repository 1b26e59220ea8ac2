"""Hover on the variables of two `marginalize` blocks that bind the same name one after the
other (spec part 2 §5.7: the name is scoped to its block): each occurrence describes its own
block. Whole hover texts are compared."""
from __future__ import annotations

from lsp_fixtures import at_cursor

from qvr_lsp.features import hover

BLOCKS = """object N : FinSet 5
object R : Real 1
program p : N -> R
    sample s <- HalfNormal(scale=1.0)
    marginalize $1z <- Bernoulli(probs=0.5)
        let m = $2z * s
        observe y : N <- Normal(loc=m, scale=1.0)
    marginalize $3z <- Categorical(probs=[0.2, 0.3, 0.5]) [reduction=sum]
        let w = s + 1.0
        observe y2 : N <- Normal(loc=w, scale=1.0)
    return s
export p
"""


def plain(marker: str) -> str:
    text = BLOCKS
    for m in ("$1", "$2", "$3"):
        text = text.replace(m, "$0" if m == marker else "")
    doc, offset = at_cursor(text)
    return hover.hover(doc, offset).plaintext


def test_each_block_of_a_reused_name_is_described():
    assert plain("$1") == "z : FinSet 2\n\nsummed out (atoms 0, 1) with logsumexp of program p"
    assert plain("$2") == "z : FinSet 2\n\nsummed out (atoms 0, 1) with logsumexp of program p"
    assert plain("$3") == "z : FinSet 3\n\nsummed out (atoms 0, 1, 2) with sum of program p"
