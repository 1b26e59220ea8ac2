"""Hover on the locals of part-2 step forms (spec part 2 §5.12): a `marginalize` variable says
it is summed out and over which atoms, a `score` name is a log-density factor, and typed
parameters (object, morphism and scalar) are template parameters. Whole hover texts are
compared."""
from __future__ import annotations

from lsp_fixtures import at_cursor

from qvr_lsp.features import hover

TEMPLATE = """object Subject : FinSet 20
object Val : Real 1
morphism squash : Val -> Val
program intercepts($1G : FinSet, $2spread : Real, $3link : Mor[Val, Val]) : G -> Val
    sample sd <- HalfNormal(scale=spread)
    sample raw : G <- Normal(loc=0.0, scale=1.0)
    let dev = sd * raw
    let v <- link(dev)
    return v
program main : Subject -> Val
    sample by_subject <- intercepts(Subject, 1.0, squash)
    observe y : Subject <- Normal(loc=by_subject, scale=1.0)
    return by_subject
export main
"""

BLOCK = """object N : FinSet 5
object R : Real 1
program p : N -> R
    sample s <- HalfNormal(scale=1.0)
    marginalize $1z <- Bernoulli(probs=0.5)
        observe y : N <- Normal(loc=z * s, scale=1.0)
    score $2pen = -1.0 * s
    return s
export p
"""


def plain(text: str, marker: str) -> str:
    for m in ("$1", "$2", "$3"):
        text = text.replace(m, "$0" if m == marker else "")
    doc, offset = at_cursor(text)
    return hover.hover(doc, offset).plaintext


def test_typed_parameters_are_template_parameters():
    assert plain(TEMPLATE, "$1") == "G : FinSet\n\ntemplate parameter of program intercepts"
    assert plain(TEMPLATE, "$2") == "spread : Real 1\n\ntemplate parameter of program intercepts"
    assert plain(TEMPLATE, "$3") == "link : Val -> Val\n\ntemplate parameter of program intercepts"


def test_a_marginalize_variable_and_a_score_name():
    assert plain(BLOCK, "$1") == ("z : FinSet 2\n\nsummed out (atoms 0, 1) with logsumexp of "
                                  "program p")
    assert plain(BLOCK, "$2") == "pen : Real 1\n\nlog-density factor of program p"
