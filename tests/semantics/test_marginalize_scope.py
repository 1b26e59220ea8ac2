"""The names a `marginalize` block scopes (spec part 2 §5.7): its variable and the body's
`let`s that depend on it belong to the block, so once the block has closed a later block or
step may bind the same names again, while a name bound twice inside one block, or bound again
while still in scope, is QVR016. Each test compares a program's whole diagnostic list (code,
line, column, message); what each block records is compared block by block."""
from __future__ import annotations

from qvr.semantics import analyze
from sem_helpers import diagnostics

HEAD = "object N : FinSet 5\nobject R : Real 1\nprogram p : N -> R\n"


def program(*steps: str, ret: str = "return s") -> str:
    return HEAD + "".join(f"    {s}\n" for s in steps) + f"    {ret}\nexport p\n"


FIRST = ("sample s <- HalfNormal(scale=1.0)",
         "marginalize z <- Bernoulli(probs=0.5)",
         "    let m = z * s",
         "    observe y : N <- Normal(loc=m, scale=1.0)")


def blocks(text: str) -> list:
    info = analyze(text).programs["p"]
    return [(b.name, b.family, b.atoms, b.out_of_scope, b.rebound, b.step.span.start)
            for b in info.marginal_blocks]


def test_a_second_block_may_reuse_the_names_of_a_closed_one():
    text = program(*FIRST,
                   "marginalize z <- ContinuousBernoulli(probs=0.3)",
                   "    let m = s + 1.0",
                   "    let w = z * s",
                   "    observe y2 : N <- Normal(loc=m + w, scale=1.0)")
    assert diagnostics(text) == []
    first, second = text.index("marginalize z"), text.rindex("marginalize z")
    # the second block closes only the names that depend on its own `z`
    assert blocks(text) == [
        ("z", "Bernoulli", (0, 1), ("m", "z"), ("z", "m"), first),
        ("z", "ContinuousBernoulli", (0.0, 1.0), ("w", "z"), (), second)]
    info = analyze(text).programs["p"]
    assert info.marginals["z"] is info.marginal_blocks[1]
    assert info.variables["z"].type.display() == "Real 1 {low=0.0, high=1.0}"


def test_a_closed_name_may_be_bound_again_by_an_ordinary_step():
    text = program(*FIRST, "let z = s * 2.0", "let m = z + 1.0", ret="return m")
    assert diagnostics(text) == []
    assert blocks(text) == [("z", "Bernoulli", (0, 1), ("m", "z"), ("z", "m"),
                             text.index("marginalize"))]


def test_between_the_blocks_the_names_are_out_of_scope():
    text = program(*FIRST,
                   "let between = m + z",
                   "marginalize z <- Bernoulli(probs=0.3)",
                   "    let m = z * s",
                   "    observe y2 : N <- Normal(loc=m + between, scale=1.0)")
    assert diagnostics(text) == [
        ("QVR012", 8, 18, "undefined variable `m` (out of scope after line 7)"),
        ("QVR012", 8, 22, "undefined variable `z` (out of scope after line 7)")]


def test_a_name_bound_twice_in_one_block_is_still_qvr016():
    text = program("sample s <- HalfNormal(scale=1.0)",
                   "marginalize z <- Bernoulli(probs=0.5)",
                   "    let m = z * s",
                   "    let m = z * 2.0",
                   "    observe y : N <- Normal(loc=m, scale=1.0)")
    assert diagnostics(text) == [
        ("QVR016", 7, 12, "variable `m` is already bound in program `p`")]
    related = analyze(text).diagnostics[0].related
    assert [(r.message, r.span.start) for r in related] == [
        ("`m` is first bound here", text.index("let m") + 4)]


def test_a_block_over_a_name_still_in_scope_is_qvr016():
    text = program("sample s <- HalfNormal(scale=1.0)",
                   "sample z <- Bernoulli(probs=0.5)",
                   "marginalize z <- Bernoulli(probs=0.5)",
                   "    observe y : N <- Normal(loc=s, scale=1.0)")
    assert diagnostics(text) == [
        ("QVR082", 5, 11, "`z` is sampled but never used; it still contributes to the joint "
                          "density"),
        ("QVR016", 6, 16, "variable `z` is already bound in program `p`")]


def test_an_unused_let_of_a_closed_block_is_reported_once():
    text = program("sample s <- HalfNormal(scale=1.0)",
                   "marginalize z <- Bernoulli(probs=0.5)",
                   "    let m = z * s",
                   "    observe y : N <- Normal(loc=z * s, scale=1.0)",
                   "marginalize z <- Bernoulli(probs=0.3)",
                   "    let m = z * s",
                   "    observe y2 : N <- Normal(loc=m, scale=1.0)")
    assert diagnostics(text) == [("QVR081", 6, 12, "`let m` is never used")]
