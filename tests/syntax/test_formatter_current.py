"""`qvr fmt` on the current forms (spec part 2): every construct of the current syntax is
printed in canonical layout, opaque tier-3 blocks are kept byte for byte, `marginalize`
bodies keep their nesting, and formatting is idempotent and keeps the syntax tree."""
from __future__ import annotations

from pathlib import Path

import pytest

from qvr.semantics.formatter import format_text
from qvr.syntax import parse_module
from qvr.syntax.span import Span

SOURCE = """#! A module using every current form.
composition   real [level = algebra]
object Atoms : {N,NP, S}
object Cat : FreeResiduated( Atoms )
object K : FinSet 2
object G : FinSet 3
object R : Real 1
object H : Real 2
morphism n : H -> H [hidden_dim = [64, 32]] ~ Normal
morphism m : H -> H [param_source=mlp(16,8)] ~ Normal
morphism s : K -> G
morphism lat : K -> G [role=latent]
define tr = lat.dagger
define t3 = lat.trace( K )
define fc = fan(n, Normal(loc=0.0, scale=1.0))


deduction D : T -> T [semiring=LogProb]
    atoms   T   # kept as written\t
\trule "x" | y  !{ } %  <>

)
define f(x : T) : T !{} =
    return x
program tmpl(K2 : FinSet, g : Mor[H,H], a : Real) : K -> R [effects=[Sample,Score]]
    sample mu <- Normal(loc=0.0,scale=1.0)
    sample th : K <- Normal(loc=mu, scale=1.0) [iid_over=K]
    let idx = th[0]
    let sec = th [ K ]
    score pen = -50.0*mu*mu
    let h <- tmpl2(mu)
    marginalize z : G <- Categorical(probs=[0.2,0.3,0.5]) [over=K]
      observe y : K <- Normal(loc=z, scale=1.0)
      # inside the body
      marginalize w <- Bernoulli(probs=0.5)
         score q = w
      let zz = z
    let tab = factor v : K, c : G in v*c
    let cs = factor c : K in { 0 -> 1.0, 1 -> -2.0 }
    let lam = map(xs, x -> x + 1.0)
    let ch = parse(D, sentence)
    let gw = ch.goal_weight()
    let mat = [[1.0, 0.0], [0.3, 1.0]]
    return mu
program q : K -> R [over=tmpl]
    let b = 1.0
    return b
export tmpl
export q
"""

EXPECTED = """#! A module using every current form.
composition real [level=algebra]
object Atoms : {N, NP, S}
object Cat : FreeResiduated(Atoms)
object K : FinSet 2
object G : FinSet 3
object R : Real 1
object H : Real 2
morphism n : H -> H [hidden_dim=[64, 32]] ~ Normal
morphism m : H -> H [param_source=mlp(16, 8)] ~ Normal
morphism s : K -> G
morphism lat : K -> G [role=latent]
define tr = lat.dagger
define t3 = lat.trace(K)
define fc = fan(n, Normal(loc=0.0, scale=1.0))

deduction D : T -> T [semiring=LogProb]
    atoms   T   # kept as written\t
\trule "x" | y  !{ } %  <>

)
define f(x : T) : T !{} =
    return x
program tmpl(K2 : FinSet, g : Mor[H, H], a : Real) : K -> R [effects=[Sample, Score]]
    sample mu <- Normal(loc=0.0, scale=1.0)
    sample th : K <- Normal(loc=mu, scale=1.0) [iid_over=K]
    let idx = th[0]
    let sec = th[K]
    score pen = -50.0 * mu * mu
    let h <- tmpl2(mu)
    marginalize z : G <- Categorical(probs=[0.2, 0.3, 0.5]) [over=K]
        observe y : K <- Normal(loc=z, scale=1.0)
        # inside the body
        marginalize w <- Bernoulli(probs=0.5)
            score q = w
        let zz = z
    let tab = factor v : K, c : G in v * c
    let cs = factor c : K in {0 -> 1.0, 1 -> -2.0}
    let lam = map(xs, x -> x + 1.0)
    let ch = parse(D, sentence)
    let gw = ch.goal_weight()
    let mat = [[1.0, 0.0], [0.3, 1.0]]
    return mu
program q : K -> R [over=tmpl]
    let b = 1.0
    return b
export tmpl
export q
"""


def shape(node):
    """A syntax tree without positions: what the text means, not where it is."""
    if isinstance(node, tuple):
        return tuple(shape(x) for x in node)
    if isinstance(node, Span):
        return None
    slots = getattr(node.__class__, "__slots__", None)
    if not slots:
        return node
    return (node.__class__.__name__,) + tuple(
        (f, shape(getattr(node, f))) for f in slots if f != "span" and not isinstance(
            getattr(node, f), Span))


def tree(text: str):
    result = parse_module(text)
    assert result.diagnostics == ()
    return shape(result.module.statements)


def test_every_current_form_is_formatted_canonically():
    assert format_text(SOURCE) == EXPECTED


def test_formatting_keeps_the_tree_and_is_idempotent():
    formatted = format_text(SOURCE)
    assert tree(formatted) == tree(SOURCE)
    assert format_text(formatted) == formatted


def test_an_opaque_block_is_kept_byte_for_byte():
    block = SOURCE[SOURCE.index("deduction D"):SOURCE.index(")\ndefine f(x") + 1]
    assert block in format_text(SOURCE)
    blocks = [s for s in parse_module(format_text(SOURCE)).module.statements
              if s.__class__.__name__ == "OpaqueDecl"]
    assert [b.text for b in blocks] == [block, "define f(x : T) : T !{} =\n    return x"]


def test_marginalize_bodies_keep_their_nesting():
    source = """object K : FinSet 2
object R : Real 1
program p : K -> R
    sample m <- Normal(loc=0.0, scale=1.0)
    marginalize z <- Bernoulli(probs=0.5)
     marginalize w <- Bernoulli(probs=0.5)
      score a = w
     score b = z
    score c = m
    return m
export p
"""
    assert format_text(source) == """object K : FinSet 2
object R : Real 1
program p : K -> R
    sample m <- Normal(loc=0.0, scale=1.0)
    marginalize z <- Bernoulli(probs=0.5)
        marginalize w <- Bernoulli(probs=0.5)
            score a = w
        score b = z
    score c = m
    return m
export p
"""
    assert tree(format_text(source)) == tree(source)


EXAMPLES = sorted((Path(__file__).resolve().parents[2] / "examples").rglob("*.qvr"))


@pytest.mark.parametrize("path", EXAMPLES, ids=[p.name for p in EXAMPLES])
def test_every_example_formats_to_the_same_tree_idempotently(path):
    text = path.read_text(encoding="utf-8")
    if parse_module(text).diagnostics:
        pytest.skip("the example has syntax errors on purpose")
    formatted = format_text(text)
    assert tree(formatted) == tree(text)
    assert format_text(formatted) == formatted
