"""Every example in examples/current/ that the runtime runs: it loads, samples and traces with
simulated named inputs (the §7.2 site names and shapes where the spec gives them, spec part 2
§7.2), and `qvr run --sample` / `--svi` succeed on simulated data (§6.7)."""
from pathlib import Path

import pytest
import torch

import qvr
from qvr.run.command import main
from qvr.run.data import simulate_inputs

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "current"

# e10 exports finite-world defines (no program entry): tested on its own below.
NOT_RUN = {"e10_algebra"}
RUNS = sorted(p.stem for p in EXAMPLES.glob("*.qvr") if p.stem not in NOT_RUN)

# §7.2: the primary export's sites (kind, shape) at B = 1 with simulated data
WORKED = {
    "e01_schools": [("mu", "latent", (1, 1)), ("tau", "latent", (1, 1)), ("z", "latent", (1, 8, 1)),
                    ("theta", "deterministic", (1, 8, 1)), ("y", "observed", (1, 8, 1))],
    "e02_radon": [("a_mu", "latent", (1, 1)), ("a_sd", "latent", (1, 1)), ("a", "latent", (1, 12, 1)),
                  ("b", "latent", (1, 1)), ("noise", "latent", (1, 1)),
                  ("mu", "deterministic", (1, 300, 1)), ("log_radon", "observed", (1, 300, 1)),
                  ("a_bar", "deterministic", (1, 1))],
    "e05_mixtures": [("w", "latent", (1, 3)), ("loc", "latent", (1, 3, 1)), ("sd", "latent", (1, 3, 1)),
                     ("y", "observed", (1, 200, 1))],
    "e07_counts": [("rate", "latent", (1, 1)), ("p_zero", "latent", (1, 1)),
                   ("sales", "observed", (1, 50, 1))],
    "e08_tables": [("c_eff", "latent", (1, 3, 1)), ("s_eff", "latent", (1, 2, 1)),
                   ("s_bias", "deterministic", (1, 2, 1)), ("cell", "deterministic", (1, 3, 2, 1)),
                   ("centred", "factor", (1, 1)), ("y", "observed", (1, 40, 1)),
                   ("top", "deterministic", (1, 1))],
    "e09_correlations": [("L", "latent", (1, 3, 3)), ("sigma", "latent", (1, 1)),
                         ("mu", "latent", (1, 3)), ("S", "deterministic", (1, 3, 3)),
                         ("y", "observed", (1, 100, 3))],
}


def _input(program):
    model = program.morphism
    if not model.reads_input:
        return None
    rows = model._rows[0].size if model._rows else 4
    tokens = program.domain.leaves[0].n  # the examples that read their input read tokens
    return torch.randint(0, tokens, (rows, 6))


@pytest.mark.parametrize("name", RUNS)
def test_example_loads_samples_and_traces(name):
    torch.manual_seed(0)
    program = qvr.load(EXAMPLES / f"{name}.qvr")
    model = program.morphism
    named = simulate_inputs(model, torch.device("cpu"))
    x = _input(program)
    model.rsample(x, observations=named)
    tr = model.trace(x, observations=named)
    assert [s.name for s in model.site_specs()] == list(tr.sites)
    if name in WORKED:
        assert [(n, s.kind, tuple(s.value.shape)) for n, s in tr.sites.items()] == WORKED[name]


@pytest.mark.parametrize("kind", ["--sample", "--svi"])
@pytest.mark.parametrize("name", RUNS)
def test_qvr_run_on_simulated_data(name, kind, tmp_path, capsys):
    rc = main([str(EXAMPLES / f"{name}.qvr"), kind, "--steps", "2", "--out", str(tmp_path)])
    assert rc == 0, capsys.readouterr().err


def test_e10_affinity_is_a_product_with_a_transpose_in_the_real_algebra():
    # §7.2 E10: forward() is Σ_t sigmoid(likes.raw)[u, t] · sigmoid(covers.raw)[d, t]
    torch.manual_seed(0)
    program = qvr.load(EXAMPLES / "e10_algebra.qvr")
    likes, covers = [m for _, m in program.morphism.named_modules()
                     if type(m).__name__ == "LatentRelation"]
    expected = torch.sigmoid(likes.raw) @ torch.sigmoid(covers.raw).T
    torch.testing.assert_close(program.forward(), expected)
    walk = program.exports["walk"]
    y = walk.rsample(torch.tensor([0, 1, 2, 2]))
    assert y.dtype == torch.int64 and y.shape == (4,) and bool(((0 <= y) & (y < 5)).all())
