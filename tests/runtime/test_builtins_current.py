"""The builtins of spec part 2 §5.8 at run time (`qvr.compile.builtins`): every form the
checker accepts has one torch function; elementwise, last-axis and two-argument forms; the
reductions' axis rule; and a program whose `let` steps use them."""
from __future__ import annotations

import math

import pytest
import torch

import qvr
from qvr.compile.builtins import FORMS
from qvr.semantics.families import BUILTIN_SCHEMAS


def test_every_checked_form_has_a_torch_function():
    assert {name: sorted(forms) for name, forms in FORMS.items()} == \
        {name: sorted(schema.arities) for name, schema in BUILTIN_SCHEMAS.items()}


@pytest.mark.parametrize("name,x,want", [
    ("log1p", 1e-8, math.log1p(1e-8)),
    ("expm1", 1e-8, math.expm1(1e-8)),
    ("square", -3.0, 9.0),
    ("rsqrt", 4.0, 0.5),
    ("reciprocal", -4.0, -0.25),
    ("sign", -2.5, -1.0),
    ("floor", -1.5, -2.0),
    ("ceil", -1.5, -1.0),
    ("round", 2.5, 2.0),          # half to even, as torch rounds
    ("trunc", -1.7, -1.0),
    ("atanh", 0.5, math.atanh(0.5)),
    ("erf", 0.3, math.erf(0.3)),
    ("erfc", 0.3, math.erfc(0.3)),
    ("erfinv", math.erf(0.3), 0.3),
    ("lgamma", 4.5, math.lgamma(4.5)),
    ("digamma", 1.0, -0.5772156649015329),
    ("log2", 8.0, 3.0),
    ("log10", 1000.0, 3.0),
    ("logsigmoid", -50.0, -50.0),
    ("softsign", 3.0, 0.75),
    ("relu6", 7.5, 6.0),
    ("elu", -1.0, math.expm1(-1.0)),
    ("selu", 1.0, 1.0507009873554805),
    ("silu", 1.0, 1 / (1 + math.exp(-1.0))),
    ("mish", 1.0, math.tanh(math.log1p(math.e))),
])
def test_elementwise(name, x, want):
    got = FORMS[name][1](torch.tensor([[x]], dtype=torch.float64))
    assert got.shape == (1, 1)
    assert abs(got.item() - want) < 1e-9 * max(1.0, abs(want))


def test_last_axis_forms_keep_the_width():
    t = torch.tensor([[3.0, -1.0, 4.0, 0.0]])
    assert FORMS["sort"][1](t).tolist() == [[-1.0, 0.0, 3.0, 4.0]]
    assert FORMS["cumsum"][1](t).tolist() == [[3.0, 2.0, 6.0, 6.0]]
    assert torch.allclose(FORMS["normalize"][1](t), t / math.sqrt(26.0))
    assert torch.allclose(FORMS["log_softmax"][1](t).exp().sum(-1), torch.ones(1))


def test_reductions_take_the_width_then_the_axis_before_it():
    wide = torch.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])          # (B, w): the width
    assert FORMS["sum"][1](wide).tolist() == [[6.0], [15.0]]
    plated = torch.tensor([[[1.0], [2.0], [4.0]]])                   # (B, |N|, 1): the plate
    assert FORMS["max"][1](plated).tolist() == [[4.0]]
    assert torch.allclose(FORMS["mean"][1](plated), torch.tensor([[7.0 / 3.0]]))
    assert torch.allclose(FORMS["logsumexp"][1](plated), torch.log(torch.tensor([[math.e + math.e ** 2 + math.e ** 4]])))
    single = torch.tensor([[5.0]])                                   # nothing to reduce
    assert FORMS["prod"][1](single).tolist() == [[5.0]]


def test_two_argument_forms():
    a, b = torch.tensor([[1.0, 5.0]]), torch.tensor([[3.0]])
    assert FORMS["min"][2](a, b).tolist() == [[1.0, 3.0]]
    assert FORMS["max"][2](a, b).tolist() == [[3.0, 5.0]]
    assert FORMS["pow"][2](a, b).tolist() == [[1.0, 125.0]]


SRC = """
object A : Real 3
object R : Real 1
program p(a) : A -> R
    let lo = min(a, 0.5)
    let z = pow(a, 2.0) + log1p(a) + normalize(a) + sort(a)
    let s = sum(z) + max(lo)
    return s
export p
"""


def test_a_program_uses_them():
    model = qvr.loads(SRC, name="b.qvr").morphism
    a = torch.tensor([[0.25, 1.0, 3.0], [2.0, 0.1, 0.7]])
    sites = model.trace(a).sites
    z = a ** 2 + torch.log1p(a) + a / a.norm(dim=-1, keepdim=True) + a.sort(-1).values
    torch.testing.assert_close(sites["z"].value, z)
    want = z.sum(-1, keepdim=True) + torch.minimum(a, torch.tensor(0.5)).amax(-1, keepdim=True)
    torch.testing.assert_close(sites["s"].value, want)
