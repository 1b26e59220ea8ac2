"""The Python API's error contract (spec §5.11) on a new user's bad input.

`qvr.load`/`qvr.loads` of broken or odd text raise QvrSyntaxError/QvrCheckError with located
`.diagnostics`; bad inputs and site values to `rsample`/`trace`/`log_joint` raise ShapeError
(stating the expected shape) or MissingSiteError (naming the site); wrong argument types are a
TypeError with a sentence, and devices that do not exist a QvrError. No raw KeyError,
AttributeError, IndexError or RuntimeError from torch internals.
"""
from __future__ import annotations

import os

from pathlib import Path

import pytest

torch = pytest.importorskip("torch")

import qvr  # noqa: E402
from qvr import MissingSiteError, QvrCheckError, QvrError, QvrSyntaxError, ShapeError  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SEED_002 = os.path.join(ROOT, "examples", "seed_002_vanilla_rnn_lm.qvr")

TINY = (Path(__file__).resolve().parents[1] / "programs" / "tiny_lm.qvr").read_text(encoding="utf-8")  # seed 002 in miniature


@pytest.fixture(scope="module")
def model():
    return qvr.loads(TINY, device="cpu").morphism


@pytest.fixture(scope="module")
def x():
    torch.manual_seed(0)
    return torch.randint(0, 16, (3, 5))


# ------------------------------------------------------------------------------------------------
# loading


def test_loads_syntax_error_is_located_with_diagnostics():
    with pytest.raises(QvrSyntaxError) as info:
        qvr.loads("object A : FinSet 3\nmorphism f : A ->\nexport f\n", name="m.qvr")
    err = info.value
    assert str(err).startswith("m.qvr:2:") and "error[QVR002]" in str(err)
    assert err.diagnostics and err.diagnostics[0].code == "QVR002"


def test_loads_check_error_is_located_with_diagnostics():
    with pytest.raises(QvrCheckError) as info:
        qvr.loads("object A : FinSet 3\nmorphism f : A -> B ~ Categorical\nexport f\n")
    assert "<string>:2:19: error[QVR010]: undefined type `B`" in str(info.value)
    assert [d.code for d in info.value.diagnostics] == ["QVR010"]


def test_load_of_invalid_utf8_is_a_located_syntax_error(tmp_path):
    path = tmp_path / "latin1.qvr"
    path.write_bytes("object A : FinSet 3\n# caf\xe9\n".encode("latin-1"))
    with pytest.raises(QvrSyntaxError) as info:
        qvr.load(path)
    assert str(info.value) == f"{path}:2:6: error[QVR001]: unexpected byte 0xe9: QVR source must be UTF-8 text"
    assert info.value.diagnostics[0].code == "QVR001"


def test_load_with_crlf_and_bom_loads(tmp_path):
    path = tmp_path / "crlf.qvr"
    path.write_bytes(("\ufeff" + TINY).replace("\n", "\r\n").encode("utf-8"))
    program = qvr.load(path, device="cpu")
    assert [s.name for s in program.morphism.site_specs()] == ["h", "h/scan", "next_token"]


def test_loads_accepts_utf8_bytes_and_refuses_non_text():
    assert qvr.loads(TINY.encode("utf-8"), device="cpu").morphism is not None
    with pytest.raises(QvrSyntaxError):
        qvr.loads(b"object A : FinSet 3\n\xff\n")
    with pytest.raises(TypeError, match="expects QVR source text"):
        qvr.loads(None)


def test_bad_device_and_dtype_are_clear_errors():
    with pytest.raises(QvrError, match="unknown device 'nonsense'"):
        qvr.loads(TINY, device="nonsense")
    if not torch.cuda.is_available():
        with pytest.raises(QvrError, match="CUDA is not available"):
            qvr.loads(TINY, device="cuda")
    with pytest.raises(TypeError, match="floating-point"):
        qvr.loads(TINY, device="cpu", dtype=torch.int64)


def test_unknown_env_name_is_a_qvr_error():
    program = qvr.loads(TINY, device="cpu")
    with pytest.raises(QvrError, match="`nope` is not a morphism"):
        program.env["nope"]


# ------------------------------------------------------------------------------------------------
# inputs and site values


def test_float_input_for_token_indices_states_the_expected_shape(model):
    with pytest.raises(ShapeError, match=r"expected int64 indices of shape \(B, T\)"):
        model.rsample(torch.randn(3, 5))


def test_input_without_time_axis_states_the_expected_shape(model):
    with pytest.raises(ShapeError, match=r"expected a sequence \(B, T\), got \(5,\)"):
        model.rsample(torch.randint(0, 16, (5,)))


@pytest.mark.parametrize("bad", [None, "tokens"], ids=["none", "string"])
def test_non_tensor_input_is_a_shape_error(model, bad):
    with pytest.raises(ShapeError, match="expected a tensor"):
        model.rsample(bad)


def test_missing_site_is_named(model, x):
    values = {n: s.value for n, s in model.trace(x).sites.items()}
    for name in ("h", "next_token"):
        with pytest.raises(MissingSiteError, match=f"`{name}`"):
            model.log_joint(x, {k: v for k, v in values.items() if k != name})


def test_wrong_site_shapes_are_shape_errors(model, x):
    values = {n: s.value for n, s in model.trace(x).sites.items()}
    with pytest.raises(ShapeError, match="site `h`: expected shape"):
        model.log_joint(x, {**values, "h": torch.zeros(3, 7)})
    with pytest.raises(ShapeError, match="site `next_token`: expected batch size 3"):
        model.log_joint(x, {**values, "next_token": torch.zeros(4, dtype=torch.long)})
    with pytest.raises(ShapeError, match="site `next_token`"):
        model.trace(x, observations={"next_token": torch.zeros(2, 2, dtype=torch.long)})


def test_values_that_are_not_a_mapping_are_a_type_error(model, x):
    with pytest.raises(TypeError, match="mapping from site names"):
        model.log_joint(x, [1, 2])


def test_inference_on_bad_observations_keeps_the_contract(model, x):
    from qvr.infer import ELBO, AutoNormalGuide

    guide = AutoNormalGuide(model, observed_names={"next_token"})
    with pytest.raises(MissingSiteError, match="next_token"):
        ELBO()(model, guide, x, {})
    with pytest.raises(ShapeError, match="next_token"):
        ELBO()(model, guide, x, {"next_token": torch.zeros(7, dtype=torch.long)})
