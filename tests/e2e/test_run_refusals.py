"""What `qvr run` refuses in a current-form module, and how: an export that uses a tier-3 or
tier-2 construct is an `unsupported` error located at the construct (not a device or internal
error), and a finite-world expression in a non-Markov algebra (a tensor, not a distribution) is
an `entry` error that says to evaluate it with `forward()`. The whole error line is compared."""
from __future__ import annotations

import json

import pytest

pytest.importorskip("torch")

from qvr.cli import main  # noqa: E402

CONTRACTION = """object Item : FinSet 4
object Side : FinSet 2
morphism left, right : Item -> Side [role=latent]
contraction pair (p : Item -> Side, q : Item -> Side) : Item -> Side [rule=real]
define both = pair(left, right)
export both
"""

PARSER = """object Word : FinSet 5
category S, N
rule fwd(X, Y) : X / Y, Y => X
define p = parser(rules=[fwd], categories=[S, N], start=S, terminal=Word)
export p
"""

TENSOR = """composition real [level=algebra]
object Row : FinSet 3
object Col : FinSet 4
object Mid : FinSet 2
morphism a : Mid -> Row [role=latent]
morphism b : Mid -> Col [role=latent]
define product = a.dagger >> b
export product
"""


def run(capsys, tmp_path, text):
    path = tmp_path / "m.qvr"
    path.write_text(text, encoding="utf-8")
    status = main(["run", str(path), "--sample", "--samples", "2", "--out", str(tmp_path / "o")])
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    return status, err.strip().splitlines()[-1].replace(str(path), "m.qvr")


def test_a_tier_3_export_is_refused_at_the_construct(capsys, tmp_path):
    assert run(capsys, tmp_path, CONTRACTION) == (1, (
        "qvr run: m.qvr:5:15: error[unsupported]: `pair(left, right)` is not "
        "supported by the torch runtime (tier 3)"))


def test_a_grammar_parser_is_refused_as_such_not_as_a_device_problem(capsys, tmp_path):
    status, line = run(capsys, tmp_path, PARSER)
    assert (status, line) == (1, "qvr run: m.qvr:4:12: error[unsupported]: "
                                 "grammar parsers are not supported by this runtime")


LAMBDA = """object Obs : FinSet 1
program p : Obs -> Obs
    sample x <- Normal(loc=0.0, scale->10.0)
    return x
export p
"""


def test_a_tier_3_form_among_a_draws_arguments_is_refused_where_it_is(capsys, tmp_path):
    # `scale->10.0` is a lambda (unchecked, QVR110), not the argument `scale=10.0`
    assert run(capsys, tmp_path, LAMBDA) == (1, (
        "qvr run: m.qvr:3:33: error[unsupported]: `scale->10.0` is not supported by the torch "
        "runtime (tier 3)"))
    path = tmp_path / "m.qvr"
    assert main(["run", str(path), "--sample", "--json", "--out", str(tmp_path / "o")]) == 1
    event = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert event == {"event": "error", "code": "unsupported", "file": str(path), "line": 3,
                     "column": 33, "message": "`scale->10.0` is not supported by the torch "
                     "runtime (tier 3)"}


def test_a_finite_world_tensor_is_not_an_entry(capsys, tmp_path):
    assert run(capsys, tmp_path, TENSOR) == (1, (
        "qvr run: error[entry]: `product` is a finite-world expression in the `real` algebra (a "
        "tensor, not a distribution): evaluate it with `qvr.load(path).forward()`; `qvr run` "
        "needs a program"))


DEDUCTION_OBJECT = """object Out : Real 1
deduction Rows : FinSet 40
program {header}
    sample a <- Normal(loc=0.0, scale=1.0)
    {observe} <- Normal(loc=a, scale=1.0)
    return a
program other : Out -> Out
    sample b <- Normal(loc=0.0, scale=1.0)
    return b
export main
export other
"""


@pytest.mark.parametrize("header, observe", [
    ("main : Rows -> Out", "observe y"),  # in the signature
    ("main : Out -> Out", "observe y : Rows"),  # as a step's plate
])
def test_a_program_naming_a_tier_3_block_is_refused_at_the_block(capsys, tmp_path, header, observe):
    # the name of an opaque block has no checked type (QVR110): the program using it is a
    # stub (the other export still runs)
    text = DEDUCTION_OBJECT.format(header=header, observe=observe)
    assert run(capsys, tmp_path, text) == (1, (
        "qvr run: m.qvr:2:1: error[unsupported]: `deduction Rows` is not supported by the torch "
        "runtime (tier 3)"))
    path = tmp_path / "m.qvr"
    assert main(["run", str(path), "--entry", "other", "--sample", "--samples", "2",
                 "--out", str(tmp_path / "o")]) == 0
