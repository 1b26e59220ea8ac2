"""A template is checked with its object parameters abstract (spec part 2 §5.5): a size the
checker stands in for an unknown one is never shown. A diagnostic that needed a real size
(one that shows the stand-in or a size made from it) is left to the calls, which report it
with the arguments' sizes; the template's locals are described with the parameters' names;
`templates.symbolic` is the one rewriting of a type's text for display."""
from __future__ import annotations

from pathlib import Path

from qvr.semantics import analyze
from qvr.semantics.templates import ABSTRACT, mentions_abstract, symbolic
from sem_helpers import diagnostics

WIDTHS = """object Val : Real 1
object W : Real 2
program t(S : Space, x) : S * Val -> Val
    sample w <- Normal(loc=x, scale=[1.0, 2.0])
    let y = w * 2.0
    return y
program main : W * Val -> Val
    sample r <- t(W)
    return r
export main
"""


def test_a_width_made_from_a_parameter_is_checked_at_the_call():
    # in the template, `x : S * Val` has the width of S plus one: the check needs S's width
    assert diagnostics(WIDTHS) == [
        ("QVR064", 8, 18, "`t(W)`: `Normal`: argument widths 3 and 2 cannot be broadcast")]
    related = analyze(WIDTHS).diagnostics[0].related
    assert [(r.message, r.span.start) for r in related] == [
        ("in template `t`", WIDTHS.index("[1.0, 2.0]"))]


LOCALS = """object W : Real 2
object N : FinSet 4
program u(S : Space, G : FinSet, x, i) : S * G -> W
    let d = x * 2.0
    let e = sum(d)
    sample j : G <- Normal(loc=e, scale=1.0)
    return d
program main : W * N -> W
    sample r <- u(W, N)
    return r
export main
"""


def test_the_locals_of_a_template_are_described_with_the_parameters():
    a = analyze(LOCALS)
    assert [(s.name, s.detail) for s in a.symbols if s.scope == "u"] == [
        ("S", "S : Space (template parameter of u)"),
        ("G", "G : FinSet (template parameter of u)"),
        ("x", "x : S"), ("i", "i : G"), ("d", "d : Real |S|"), ("e", "e : Real 1"),
        ("j", "j : Real 1 (row plate G, |G| rows)")]


def test_symbolic_forms():
    params = [("S", "Space"), ("G", "FinSet")]
    n = ABSTRACT
    cases = {
        f"G({n}) * S({n}) -> Val(1)": "G * S -> Val(1)",
        f"Real {n}": "Real |S|",
        f"FinSet {n}": "FinSet |G|",
        f"Real {n + 1}": "Real |S| + 1",
        f"Real {3 * n} {{low=0.0}}": "Real 3·|S| {low=0.0}",
        f"Seq[Real {n}] over G": "Seq[Real |S|] over G",
        f"FinSet {n * n}": "FinSet ?",  # a product of sizes has no linear form
        f"Real 1 (row plate G, {n} rows)": "Real 1 (row plate G, |G| rows)",
        f"x{n} : Real 1000000.0": f"x{n} : Real 1000000.0",  # a name, a float: not sizes
        "Real 3 (row plate Resp, 32 rows)": "Real 3 (row plate Resp, 32 rows)"}
    assert {t: symbolic(t, params) for t in cases} == cases
    # with two parameters that fit, a size is unknown; outside a template a size is a size
    assert symbolic(f"Real {n}", [("S", "Space"), ("O", "Object")]) == "Real ?"
    assert symbolic(f"Real {n}") == f"Real {n}"
    assert [mentions_abstract(t) for t in (f"widths {n + 1} and 2", "widths 3 and 2",
                                           f"`x{n}`")] == [True, False, False]


# a template whose `marginalize` sums over the atoms of its `FinSet` parameter `G`
KERNEL = (Path(__file__).resolve().parents[1] / "programs" / "template_kernel.qvr").read_text(
    encoding="utf-8")


def test_a_block_over_the_elements_of_a_parameter_has_no_list_of_atoms():
    a = analyze(KERNEL)
    assert diagnostics(KERNEL) == []
    block = a.programs["t"].marginal_blocks[0]
    assert (block.atoms, block.atoms_of, block.describe()) == (
        (), "G", "summed out (atoms 0 … |G| − 1) with logsumexp")
    # each call is checked with the argument: its atoms are K's
    call = a.programs["main"].decl.steps[0].target
    instance = a.template_instance(call)[0]
    assert instance.marginal_blocks[0].atoms == (0, 1, 2)
