"""What the checker keeps between runs, and what it leaves behind after one.

* `checker._tier3_object_value` remembers, per object declaration node, whether its value
  calls a tier-3 constructor (`Checker.unchecked_names` asks it of every object declaration
  on every engine run). The engine's incremental runs reuse the nodes of unchanged chunks,
  so the answer must follow a declaration edited into and out of a tier-3 object, and the
  memo must stay bounded.
* A fresh analysis makes no reference cycles: what it allocated is freed with the last
  reference to it, not left to the cyclic garbage collector (which would walk the whole heap
  to find it).
"""
from __future__ import annotations

import gc

from qvr.semantics import analyze, checker
from qvr.semantics.engine import Engine

TIER3 = """object Atoms : {N, NP, S}
object R : Real 1
object Cat : Atoms * FreeMonoid(Atoms)
morphism f : Cat -> R ~ Normal
define g = f
export g
"""
PLAIN = TIER3.replace("Atoms * FreeMonoid(Atoms)", "Atoms * Atoms")


def _same_as_fresh(engine: Engine, text: str) -> tuple:
    got = engine.diagnostics(text)
    assert got == analyze(text).diagnostics
    return got


def test_an_object_edited_into_and_out_of_tier_3_is_answered_afresh():
    engine = Engine()
    tier3 = _same_as_fresh(engine, TIER3)
    assert "QVR110" in [d.code for d in tier3]
    plain = _same_as_fresh(engine, PLAIN)
    assert "QVR110" not in [d.code for d in plain]
    # back and forth, and with the other declarations moving under an unchanged object
    for text in (TIER3, PLAIN, "object Extra : Real 2\n" + TIER3, TIER3, PLAIN, TIER3):
        _same_as_fresh(engine, text)


def test_the_memo_answers_for_the_node_it_was_asked_about():
    decl = analyze(TIER3).module.statements[2]
    assert checker._tier3_object_value(decl)
    other = analyze(PLAIN).module.statements[2]
    assert not checker._tier3_object_value(other)
    assert checker._tier3_object_value(decl)


def test_the_memo_is_bounded(monkeypatch):
    monkeypatch.setattr(checker, "_TIER3_VALUE_MEMO_LIMIT", 2)
    monkeypatch.setattr(checker, "_TIER3_VALUE_MEMO", {})
    engine = Engine()
    for k in range(6):
        _same_as_fresh(engine, TIER3.replace("Cat", f"Cat{k}"))
        _same_as_fresh(engine, PLAIN.replace("Cat", f"Cat{k}"))
        assert len(checker._TIER3_VALUE_MEMO) <= 2


WHERE = """object A : FinSet 2
object R : Real 2
morphism f : R -> R ~ Normal
morphism g : R -> R ~ Normal
define model = first >> second
    where
        define first = f >> g
        define second = g
            where
                define inner = f
program p(x) : R -> R
    sample y <- f(x)
    let z = y + x
    return z
define t = f.trace(A)
export model
"""


def test_a_fresh_analysis_leaves_no_reference_cycles():
    analyze(WHERE)  # anything built once per process (tables, compiled patterns) is built
    gc.collect()
    analysis = analyze(WHERE)
    assert analysis.defines["first"].owner == "model"
    del analysis
    assert gc.collect() == 0
