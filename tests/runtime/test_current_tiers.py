"""Tier 2 and tier 3 at run time (spec part 2 §6.9): loading succeeds, the other exports run,
and the first use of an export built on such a construct raises a located NotSupportedError
naming the construct, with `construct`, `range` and `tier`."""
from pathlib import Path

import pytest

import qvr
from qvr.errors import NotSupportedError

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "current"

TIER2_FAMILY = """object V : Real 1

program shrink : V -> V
    sample b <- Horseshoe(scale=1.0)
    return b

program plain : V -> V
    sample a <- Normal(loc=0.0, scale=1.0)
    return a

export shrink
export plain
"""


def test_a_tier2_family_is_refused_at_first_use_and_the_other_export_runs():
    program = qvr.loads(TIER2_FAMILY, name="m.qvr")
    with pytest.raises(NotSupportedError) as info:
        program.morphism.rsample(None)
    error = info.value
    assert str(error) == "m.qvr:4:17: a `Horseshoe` draw is not supported by the torch runtime (tier 2)"
    assert (error.construct, error.tier) == ("a `Horseshoe` draw", 2)
    assert TIER2_FAMILY[error.range.start:error.range.end] == "Horseshoe(scale=1.0)"
    with pytest.raises(NotSupportedError):
        program.morphism.trace(None)
    assert tuple(program.exports["plain"].rsample(None).shape) == (1, 1)


def test_a_program_beside_a_tier3_block_runs():
    program = qvr.load(EXAMPLES / "tier3_beside_prior.qvr")
    assert tuple(program.morphism.rsample(None).shape) == (1, 1)


TIER3_DEFINE = """object Cat : FinSet 3

deduction Grammar : Cat -> Cat [semiring=log_prob]
    atoms S, NP, VP
    rule combine : NP, VP => S

define chart_of = Grammar

export chart_of
"""


def test_a_define_of_a_tier3_block_is_a_stub():
    program = qvr.loads(TIER3_DEFINE, name="g.qvr")
    with pytest.raises(NotSupportedError, match=r"^g.qvr:3:1: `deduction Grammar` is not supported "
                                                r"by the torch runtime \(tier 3\)$") as info:
        program.morphism.rsample(None)
    assert info.value.tier == 3


MEASURE_ALGEBRA = """object V : Real 1

program clipped : V -> V
    sample b <- Truncated(base=Normal(loc=0.0, scale=1.0), low=0.0, high=2.0)
    return b

program blend : V -> V
    sample m <- Mixture(weights=[0.3, 0.7],
                        components=[Normal(loc=0.0, scale=1.0), Normal(loc=3.0, scale=0.5)])
    return m

program plain : V -> V
    sample a <- Normal(loc=0.0, scale=1.0)
    return a

export clipped
export blend
export plain
"""


def test_measure_algebra_families_take_distributions_check_clean_and_refuse_at_run_time():
    from qvr.semantics import analyze

    assert analyze(MEASURE_ALGEBRA).diagnostics == ()
    program = qvr.loads(MEASURE_ALGEBRA, name="m.qvr")
    refused = []
    for name, start in (("clipped", "Truncated(base="), ("blend", "Mixture(weights=")):
        with pytest.raises(NotSupportedError) as info:
            program.exports[name].rsample(None)
        error = info.value
        refused.append(str(error))
        assert MEASURE_ALGEBRA[error.range.start:].startswith(start)
    assert refused == [
        "m.qvr:4:17: a `Truncated` draw is not supported by the torch runtime (tier 2)",
        "m.qvr:8:17: a `Mixture` draw is not supported by the torch runtime (tier 2)",
    ]
    assert tuple(program.exports["plain"].rsample(None).shape) == (1, 1)


def test_a_family_call_outside_a_measure_algebra_argument_is_still_unknown():
    from qvr.semantics import analyze

    text = ("object V : Real 1\nprogram p : V -> V\n"
            "    sample z <- Normal(loc=Normal(loc=0.0, scale=1.0), scale=1.0)\n"
            "    return z\nexport p\n")
    assert [(d.code, d.span.start) for d in analyze(text).diagnostics] == [
        ("QVR013", text.index("Normal(loc=0.0"))]
