"""A program whose later step binds a name a closed `marginalize` block scoped (accepted by the
checker, spec part 2 §5.7) is refused when built: the trace names a block's `factor` site, and
the program its values, by variable (§6.6), so the two bindings would share a site. Programs
that give each block its own names still run."""
from __future__ import annotations

import math

import pytest
import torch
import torch.distributions as D

import qvr
from qvr.errors import NotSupportedError

HEAD = """object N : FinSet 5
object R : Real 1
program p : N -> R
    sample s <- HalfNormal(scale=1.0)
    marginalize z <- Bernoulli(probs=0.5)
        let m = z * s
        observe y : N <- Normal(loc=m, scale=1.0)
"""


def second(var: str, let: str) -> str:
    return (f"    marginalize {var} <- Bernoulli(probs=0.2)\n"
            f"        let {let} = {var} * s + 1.0\n"
            f"        observe y2 : N <- Normal(loc={let}, scale=1.0)\n"
            "    return s\nexport p\n")


def test_reused_block_names_are_refused_at_the_first_block():
    with pytest.raises(NotSupportedError) as caught:
        qvr.loads(HEAD + second("z", "m"), name="reused.qvr")
    assert str(caught.value) == (
        "reused.qvr:5:17: `z`, `m` of `marginalize z` are bound again after its block: running "
        "a program that reuses a block's names is not supported (their sites and values would "
        "share a name); rename them")


def test_distinct_block_names_still_run():
    model = qvr.loads(HEAD + second("w", "q"), name="renamed.qvr").morphism
    torch.manual_seed(0)
    y, y2, s = torch.randn(5), torch.randn(5), torch.tensor(0.7)

    def block(probs, shift, data):  # log Σ_z π(z) Π_n N(data_n; z·s + shift, 1)
        return torch.logsumexp(torch.stack([
            math.log(p) + D.Normal(z * s + shift, 1.0).log_prob(data).sum()
            for z, p in ((0.0, 1 - probs), (1.0, probs))]), 0)

    want = block(0.5, 0.0, y) + block(0.2, 1.0, y2) + D.HalfNormal(1.0).log_prob(s)
    got = model.log_joint(None, {"s": s.view(1, 1), "y": y, "y2": y2})
    torch.testing.assert_close(got, want.view(1), rtol=1e-5, atol=1e-5)
