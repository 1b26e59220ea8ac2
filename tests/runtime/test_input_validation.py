"""Bad token inputs to the documented calls are ShapeErrors that state the expected shape and
range (spec §5.1, §5.11): out-of-range and negative indices, extra axes, out-of-range values of
finite sites, nested Python lists. No raw IndexError/RuntimeError may escape."""
from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")

import qvr  # noqa: E402
from qvr import ShapeError  # noqa: E402

LM = """\
object Token : FinSet 16
object Embedded : Real 4
object Hidden : Real 8
morphism tok_embed : Token -> Embedded [role=embed]
morphism cell : Embedded * Hidden -> Hidden [role=kernel, scale=0.1] ~ Normal
morphism lm_head : Hidden -> Token [role=kernel] ~ Categorical
define backbone = tok_embed >> scan(cell)
program lm : Token -> Token
    sample h <- backbone
    observe next_token : Token <- lm_head(h)
    return next_token
export lm
"""

PAIR = """\
object A : FinSet 3
object C : FinSet 5
object R : Real 2
morphism f : A * C -> R
export f
"""

MIXED = """\
object A : FinSet 3
object R : Real 2
morphism g : R * A -> R
export g
"""

HEAD = """\
object X : Real 2
object Token : FinSet 4
morphism head : X -> Token [role=kernel] ~ Categorical
export head
"""


@pytest.fixture(scope="module")
def lm():
    return qvr.loads(LM, device="cpu").morphism


@pytest.fixture(scope="module")
def x():
    return torch.randint(0, 16, (2, 3))


@pytest.fixture(scope="module")
def values(lm, x):
    return {n: s.value for n, s in lm.trace(x).sites.items()}


# -- the input x ------------------------------------------------------------------------------
def test_index_above_range_names_input_range_and_largest_value(lm):
    with pytest.raises(ShapeError) as err:
        lm.rsample(torch.full((2, 3), 99))
    msg = str(err.value)
    assert "input `x` of `lm`" in msg
    assert "[0, 16)" in msg and "(B, T)" in msg and "up to 99" in msg


def test_negative_index_is_refused(lm):
    x = torch.randint(0, 16, (2, 3))
    x[1, 2] = -1
    with pytest.raises(ShapeError, match=r"\[0, 16\).*down to -1"):
        lm.rsample(x)


@pytest.mark.parametrize("call", ["trace", "log_joint"])
def test_every_entry_point_checks_the_input(lm, values, call):
    bad = torch.full((2, 3), 16)
    with pytest.raises(ShapeError, match="input `x`"):
        getattr(lm, call)(bad, values) if call == "log_joint" else lm.trace(bad)


def test_last_valid_index_is_accepted(lm):
    assert lm.rsample(torch.full((2, 3), 15)).shape == (2,)  # a Seq[Token] -> Token program


def test_extra_axis_on_a_token_input_states_the_expected_shape(lm):
    with pytest.raises(ShapeError, match=r"expected shape \(B, T\), got \(2, 3, 2\)"):
        lm.rsample(torch.randint(0, 16, (2, 3, 2)))


def test_smaller_integer_dtypes_are_widened(lm):
    x = torch.randint(0, 16, (2, 3), dtype=torch.int32)
    assert lm.rsample(x).dtype == torch.int64


def test_bool_input_for_tokens_is_refused(lm):
    with pytest.raises(ShapeError, match="int64 token indices"):
        lm.rsample(torch.ones(2, 3, dtype=torch.bool))


def test_nested_lists_are_token_indices_not_components(lm):
    torch.manual_seed(0)
    out = lm.rsample([[1, 2], [3, 4]])
    torch.manual_seed(0)
    assert torch.equal(out, lm.rsample(torch.tensor([[1, 2], [3, 4]])))


def test_nested_lists_out_of_range_are_refused(lm):
    with pytest.raises(ShapeError, match="up to 40"):
        lm.rsample([[1, 2], [3, 40]])


# -- supplied values of finite sites ----------------------------------------------------------
def test_log_joint_with_an_out_of_range_observed_token_names_the_site(lm, x, values):
    with pytest.raises(ShapeError) as err:
        lm.log_joint(x, {**values, "next_token": torch.tensor([1, 99])})
    msg = str(err.value)
    assert "`next_token`" in msg and "[0, 16)" in msg and "99" in msg


def test_negative_observation_in_rsample_is_refused(lm, x):
    with pytest.raises(ShapeError, match="`next_token`.*down to -3"):
        lm.rsample(x, observations={"next_token": torch.tensor([-3, 0])})


def test_return_label_values_are_checked_too(lm, x, values):
    good = lm.log_joint(x, values)
    assert good.shape == (2,)
    with pytest.raises(ShapeError, match="`next_token`"):
        lm.trace(x, values={"next_token": torch.tensor([16, 0])})


def test_float_value_of_a_finite_site_is_refused(lm, x, values):
    with pytest.raises(ShapeError, match="`next_token`.*float"):
        lm.log_joint(x, {**values, "next_token": torch.tensor([1.0, 2.0])})


def test_log_prob_checks_the_output_value():
    head = qvr.loads(HEAD, device="cpu").morphism
    x = torch.randn(3, 2)
    assert head.log_prob(x, torch.tensor([0, 3, 1])).shape == (3,)
    with pytest.raises(ShapeError, match=r"value `y`.*\[0, 4\).*up to 4"):
        head.log_prob(x, torch.tensor([0, 4, 1]))


# -- products -------------------------------------------------------------------------------
def test_all_finite_product_checks_each_column_against_its_own_size():
    f = qvr.loads(PAIR, device="cpu").morphism
    assert f.rsample(torch.tensor([[2, 4], [0, 0]])).shape == (2, 2)
    assert f.rsample((torch.tensor([2, 0]), torch.tensor([4, 1]))).shape == (2, 2)  # tuple = components
    assert f.rsample([torch.tensor([2, 0]), torch.tensor([4, 1])]).shape == (2, 2)  # list too (product)
    with pytest.raises(ShapeError, match=r"\[0, 3\) × \[0, 5\)"):
        f.rsample(torch.tensor([[3, 0]]))  # 3 is fine for C but not for A
    with pytest.raises(ShapeError):
        f.rsample(torch.tensor([[0, 5]]))


def test_finite_column_of_a_mixed_product_is_range_checked():
    g = qvr.loads(MIXED, device="cpu").morphism
    assert g.rsample(torch.tensor([[0.5, 0.5, 2.0]])).shape == (1, 2)
    with pytest.raises(ShapeError, match=r"\[0, 3\).*up to 3"):
        g.rsample(torch.tensor([[0.5, 0.5, 3.0]]))
    # the continuous columns are not index columns: large values there are fine
    assert g.rsample(torch.tensor([[100.0, -7.0, 1.0]])).shape == (1, 2)


def test_extra_leading_axes_still_pass_through_a_non_sequence_module():
    """§5.1: modules pass extra leading axes through; only sequence inputs are pinned to (B, T)."""
    embed = qvr.loads("object Token : FinSet 4\nobject R : Real 2\n"
                      "morphism e : Token -> R [role=embed]\nexport e\n", device="cpu").morphism
    assert embed.rsample(torch.randint(0, 4, (2, 3, 5))).shape == (2, 3, 5, 2)
    with pytest.raises(ShapeError, match=r"\[0, 4\)"):
        embed.rsample(torch.full((2, 3, 5), 4))
