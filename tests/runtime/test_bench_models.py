"""The hand-written torch models of bench/runtime_step.py compute the same joint density as
the runtime for the three seeds (an independent check of `log_joint` on program cells,
LogitNormal gates, inline draws and scans); the bench itself only measures speed."""
from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest
import torch

import qvr

BENCH = Path(__file__).resolve().parents[2] / "bench" / "runtime_step.py"


def bench_module():
    spec = importlib.util.spec_from_file_location("runtime_step", BENCH)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


@pytest.mark.parametrize("name", ["seed000_lstm", "seed001_gru", "seed002_vanilla_rnn_lm"])
def test_hand_written_models_match_log_joint(name):
    bench = bench_module()
    torch.manual_seed(0)
    model = qvr.load(bench.PROGRAMS / f"{name}.qvr").morphism
    x = torch.randint(0, 256, (3, 5))
    with torch.no_grad():
        values = {k: s.value for k, s in model.trace(x).sites.items()}
        torch.testing.assert_close(model.log_joint(x, values), bench.MODELS[name](model, x, values),
                                   rtol=1e-4, atol=1e-3)
