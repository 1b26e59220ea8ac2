"""Finite-world expressions (spec §5.9): exact relation tensors over the six quantales and the
five algebras of spec part 2 §5.10."""
from __future__ import annotations

import pytest
import torch

import qvr
from qvr.compile import finite as FW


def load(src):
    return qvr.loads(src, name="f.qvr")


@pytest.mark.parametrize("q", FW.QUANTALES)
def test_latent_composition_follows_the_quantale(q):
    src = f"""
quantale {q}
object A : FinSet 3
object B : FinSet 2
object C : FinSet 4
latent f : A -> B
latent g : B -> C
define h = f >> g
export h
"""
    prog = load(src)
    f, g = torch.sigmoid(prog.env["f"].raw), torch.sigmoid(prog.env["g"].raw)
    # reference: the definition (f;g)[a,c] = ⨁_b f[a,b] ⊗ g[b,c], written out per element
    want = torch.empty(3, 4)
    for a in range(3):
        for c in range(4):
            terms = [FW.q_tensor(q, f[a, b], g[b, c]) for b in range(2)]
            if q == "product_fuzzy":
                want[a, c] = 1 - (1 - terms[0]) * (1 - terms[1])
            elif q in ("markov", "real", "counting"):
                want[a, c] = terms[0] + terms[1]
            elif q in ("boolean", "godel", "max_plus"):
                want[a, c] = torch.maximum(terms[0], terms[1])
            elif q in ("lukasiewicz", "probability"):
                want[a, c] = torch.clamp(terms[0] + terms[1], max=1)
            elif q == "log_prob":
                want[a, c] = torch.log(torch.exp(terms[0]) + torch.exp(terms[1]))
            else:
                want[a, c] = torch.minimum(terms[0], terms[1])
    torch.testing.assert_close(prog(), want)
    assert prog().shape == (3, 4)


def test_tensor_product_identity_and_marginalize():
    src = """
quantale godel
object A : FinSet 2
object B : FinSet 3
latent f : A -> B
latent g : B -> A
define both = f @ g
define marg = (f @ g).marginalize(A)
export marg
"""
    prog = load(src)
    f, g = torch.sigmoid(prog.env["f"].raw), torch.sigmoid(prog.env["g"].raw)
    both = FW.finite_tensor(prog.env["both"])
    assert both.shape == (6, 6)
    torch.testing.assert_close(both[1 * 3 + 2, 0 * 2 + 1], torch.minimum(f[1, 0], g[2, 1]))
    marg = prog()
    assert marg.shape == (6, 3)
    torch.testing.assert_close(marg, both.reshape(6, 3, 2).amax(-1))


def test_identity_is_the_quantale_unit():
    src = """
quantale tropical
object A : FinSet 3
latent f : A -> A
export identity(A) >> f
"""
    prog = load(src)
    f = torch.sigmoid(prog.env["f"].raw)
    torch.testing.assert_close(prog(), f)   # unit 0, zero +inf under (min, +)


def test_markov_kernels_are_stochastic_matrices_and_sample():
    src = """
object A : FinSet 3
object B : FinSet 4
stochastic k : A -> B
stochastic m : B -> A
define loop = repeat(k >> m)
export loop
"""
    prog = load(src)
    k = prog.env["k"]
    assert [n for n, _ in k.named_parameters()] == ["table"]
    K = torch.softmax(k.table, -1)
    M = torch.softmax(prog.env["m"].table, -1)
    torch.testing.assert_close(prog(n_steps=1), K @ M)
    torch.testing.assert_close(prog(n_steps=3), torch.linalg.matrix_power(K @ M, 3))
    torch.testing.assert_close(prog(n_steps=2).sum(-1), torch.ones(3))
    y = prog.rsample(torch.tensor([0, 1, 2, 2]), n_steps=2)
    assert y.shape == (4,) and y.dtype == torch.int64


def test_latent_scale_option_sets_initial_spread():
    src = """
object A : FinSet 40
latent f : A -> A [scale=2.0]
export f
"""
    raw = load(src).env["f"].raw
    assert 1.6 < float(raw.detach().std()) < 2.4


def test_observed_relation_is_its_initializers_tensor_and_not_trained():
    src = """
object A : FinSet 3
object B : FinSet 2
stochastic k : A -> B
observed o : A -> B = k
export o
"""
    prog = load(src)
    k = prog.env["k"]
    torch.testing.assert_close(prog(), torch.softmax(k.table, -1).detach())
    assert list(prog.morphism.parameters()) == []
    y = prog.rsample(torch.tensor([0, 2, 1]))
    assert y.shape == (3,) and y.dtype == torch.int64
