"""Long `>>`/`<<` chains, which the checker accepts, also build and run (no recursion limit)."""
import pytest
import torch

import qvr


def _module(chain: str) -> str:
    return ("object X : Real 2\nmorphism f : X -> X [scale=0.1] ~ Normal\n"
            f"define a = {chain}\nexport a\n")


@pytest.mark.slow
def test_three_thousand_compositions_load_and_sample():
    program = qvr.loads(_module(" >> ".join(["f"] * 3000)), device="cpu")
    assert tuple(program.rsample(torch.zeros(3, 2)).shape) == (3, 2)
    # every `f` is one shared module applied 3,000 times
    assert len(list(program.morphism.parts)) == 3000


def test_long_reverse_composition_loads():
    program = qvr.loads(_module(" << ".join(["f"] * 2000)), device="cpu")
    assert tuple(program.rsample(torch.zeros(2, 2)).shape) == (2, 2)
