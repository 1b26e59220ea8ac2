"""Behaviour a new user hit in the first end-to-end pass, one test per bug (nested parentheses,
deep chains, out-of-range indices, runner internal errors). All are fixed; each test asserts the
correct behaviour so the bugs stay fixed.
"""
from __future__ import annotations

from pathlib import Path

import pytest

torch = pytest.importorskip("torch")

import qvr  # noqa: E402
from qvr import QvrError, ShapeError  # noqa: E402
from qvr.cli import main  # noqa: E402

TINY = (Path(__file__).resolve().parents[1] / "programs" / "tiny_lm.qvr").read_text(encoding="utf-8")  # seed 002 in miniature
NESTED_PARENS = "object X : Real 2\nmorphism f : X -> X\ndefine a = ((f))\nexport a\n"


def long_chain(n: int) -> str:
    return "object X : Real 2\nmorphism f : X -> X\ndefine a = " + " >> ".join(["f"] * n) + "\nexport a\n"


@pytest.fixture(scope="module")
def model():
    return qvr.loads(TINY, device="cpu").morphism


def test_nested_parentheses_check_and_load():
    assert [d.code for d in qvr.check(NESTED_PARENS)] == []
    program = qvr.loads(NESTED_PARENS, device="cpu")
    assert program.morphism.rsample(torch.randn(2, 2)).shape == (2, 2)


def test_a_chain_of_300_compositions_loads():
    program = qvr.loads(long_chain(300), device="cpu")
    assert program.morphism.rsample(torch.randn(2, 2)).shape == (2, 2)


def test_a_chain_of_400_compositions_is_checked_or_refused_with_a_located_error():
    text = long_chain(400)
    errors = [d for d in qvr.check(text) if d.is_error]
    if errors:
        return  # a located refusal is fine
    assert [d.code for d in qvr.check(text)] == []  # no "`f` is declared but never used"
    qvr.loads(text, device="cpu")


def test_out_of_range_token_input_is_a_shape_error(model):
    with pytest.raises(ShapeError):
        model.rsample(torch.full((2, 3), 99))


def test_input_with_an_extra_axis_is_a_shape_error(model):
    with pytest.raises(ShapeError):
        model.rsample(torch.randint(0, 16, (2, 3, 2)))


def test_out_of_range_site_value_is_a_clear_error(model):
    x = torch.randint(0, 16, (2, 3))
    values = {n: s.value for n, s in model.trace(x).sites.items()}
    with pytest.raises((ShapeError, ValueError)):
        model.log_joint(x, {**values, "next_token": torch.tensor([1, 99])})


def test_sampling_a_nan_model_is_a_nan_error(capsys, tmp_path):
    path = tmp_path / "nan.qvr"
    path.write_text(TINY.replace("scale=0.1", "scale=1e-30"), encoding="utf-8")
    status = main(["run", str(path), "--sample", "--samples", "2", "--out", str(tmp_path / "out")])
    err = capsys.readouterr().err
    assert "error[internal]" not in err
    assert status in (0, 1)


def test_svi_on_a_model_without_random_sites_says_so(capsys, tmp_path):
    path = tmp_path / "det.qvr"
    path.write_text("object X : Real 4\nmorphism f : X -> X\nexport f\n", encoding="utf-8")
    status = main(["run", str(path), "--svi", "--steps", "2", "--out", str(tmp_path / "out")])
    err = capsys.readouterr().err
    assert status == 1 and "error[internal]" not in err
    assert "error[nothing-to-fit]" in err and "nothing to fit: `f`" in err


def test_errors_above_are_qvr_errors_where_they_already_are(model):
    """Guard for the fixed neighbours of the bugs above (non-tensor input, unknown device)."""
    with pytest.raises(ShapeError):
        model.rsample(None)
    with pytest.raises(QvrError):
        qvr.loads(TINY, device="nonsense")
