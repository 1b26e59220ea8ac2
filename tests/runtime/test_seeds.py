"""The seed programs and the spec §7 examples load, sample with the stated shapes, have the
§6.2 parameter counts, and their gradients reach every parameter."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import torch

import qvr
from qvr.compile.trace import DETERMINISTIC, LATENT, OBSERVED

PROGRAMS = Path(__file__).parent / "programs"


def program_path(name: str) -> Path:
    return PROGRAMS / f"{name}.qvr"


REPO = Path(__file__).resolve().parents[2]


def n_params(module) -> int:
    return sum(p.numel() for p in module.parameters())


@pytest.mark.parametrize("name,count", [
    ("seed000_lstm", 106_976), ("seed001_gru", 123_456),
    ("seed002_vanilla_rnn_lm", 74_112), ("char_lm", 8_732),
])
def test_parameter_counts(name, count):
    assert n_params(qvr.load(program_path(name)).morphism) == count


def test_seed000_lstm_samples_32_wide_outputs():
    model = qvr.load(program_path("seed000_lstm")).morphism
    y = model.rsample(torch.randint(0, 256, (5, 7)))
    assert y.shape == (5, 32) and y.dtype == torch.float32


def test_seed001_gru_candidate_is_128_wide():
    model = qvr.load(program_path("seed001_gru")).morphism
    tr = model.trace(torch.randint(0, 256, (3, 4)))
    site = tr.sites["output/scan/scan/h_cand"]
    assert site.kind == LATENT and site.value.shape == (3, 4, 128)
    assert tr.output.shape == (3, 64)


def test_seed002_shapes_and_site_names():
    model = qvr.load(program_path("seed002_vanilla_rnn_lm")).morphism
    prompts = torch.randint(0, 256, (4, 8))
    targets = model.rsample(prompts)
    assert targets.shape == (4,) and targets.dtype == torch.int64
    assert ((targets >= 0) & (targets < 256)).all()
    assert [s.name for s in model.site_specs()] == ["h", "h/scan", "next_token"]
    assert [s.kind for s in model.site_specs()] == [LATENT, LATENT, OBSERVED]
    assert model._step_h.rsample(prompts).shape == (4, 128)
    assert model.observed_names == {"next_token"}
    tr = model.trace(prompts)
    assert [(n, tuple(s.value.shape)) for n, s in tr.sites.items()] == [
        ("h", (4, 128)), ("h/scan", (4, 7, 128)), ("next_token", (4,))]
    assert all(s.log_prob.shape == (4,) for s in tr.sites.values())


def test_seed002_snippet_generating_synthetic_data(tmp_path, monkeypatch, capsys):
    """Seed 002 "Generating synthetic data", verbatim except the import and the path."""
    (tmp_path / "docs/examples/source").mkdir(parents=True)
    shutil.copy(program_path("seed002_vanilla_rnn_lm"), tmp_path / "docs/examples/source/vanilla_rnn_lm.qvr")
    monkeypatch.chdir(tmp_path)
    # --- snippet ---
    import torch
    from qvr import load
    torch.manual_seed(0)
    prog = load("docs/examples/source/vanilla_rnn_lm.qvr")
    model = prog.morphism
    # Fix the model's stochastic weights to a chosen draw, then
    # forward-sample next-token targets for a corpus of random prompts.
    for _, p in model.named_parameters():
        p.data.copy_(torch.randn_like(p) * 0.3)
    batch, seq_len, vocab = 4, 8, 256
    prompts = torch.randint(0, vocab, (batch, seq_len))
    targets = model.rsample(prompts)
    print("prompts:", prompts.shape, prompts.dtype)
    print("targets:", targets.shape, targets.dtype)
    # --- end ---
    out = capsys.readouterr().out
    assert "prompts: torch.Size([4, 8]) torch.int64" in out
    assert "targets: torch.Size([4]) torch.int64" in out


def test_spec_6_5_step_1_synthetic_data():
    def fresh(seed):
        torch.manual_seed(seed)
        model = qvr.load(program_path("seed002_vanilla_rnn_lm")).morphism
        for _, p in model.named_parameters():
            p.data.copy_(torch.randn_like(p) * 0.3)
        return model

    model = fresh(0)
    prompts = torch.randint(0, 256, (4, 8))
    targets = model.rsample(prompts)
    observations = {"next_token": targets}
    assert [s.name for s in model.site_specs()] == ["h", "h/scan", "next_token"]
    lj = model.log_joint(prompts, {**{n: s.value for n, s in model.trace(prompts).sites.items()}, **observations})
    assert lj.shape == (4,) and torch.isfinite(lj).all()
    # same seed, same weights, same data
    again = fresh(0)
    torch.testing.assert_close(torch.randint(0, 256, (4, 8)), prompts)
    for (_, p), (_, q) in zip(model.named_parameters(), again.named_parameters()):
        torch.testing.assert_close(p, q)


@pytest.mark.parametrize("path", sorted(PROGRAMS.glob("*.qvr")) + sorted((REPO / "examples").glob("*.qvr")),
                         ids=lambda p: p.stem)
def test_every_example_loads_samples_and_scores(path):
    torch.manual_seed(0)
    prog = qvr.load(path)
    model = prog.morphism
    dom = prog.domain
    leaves = dom.leaves
    if len(leaves) == 1 and hasattr(leaves[0], "n"):
        x = torch.randint(0, leaves[0].n, (3, 5) if hasattr(dom, "elem") else (3,))
    else:
        shape = (3, 5, dom.width) if hasattr(dom, "elem") else (3, dom.width)
        x = torch.rand(*shape)
    y = model.rsample(x)
    assert y.shape[0] == 3
    tr = model.trace(x)
    assert [s.name for s in model.site_specs()] == list(tr.sites)
    values = {n: s.value for n, s in tr.sites.items()}
    lj = model.log_joint(x, values)
    assert lj.shape == (3,) and torch.isfinite(lj).all()
    torch.testing.assert_close(lj, tr.log_joint)


@pytest.mark.parametrize("name", ["seed000_lstm", "seed001_gru", "seed002_vanilla_rnn_lm", "char_lm",
                                  "bilstm", "stacked_lstm"])
def test_gradients_reach_every_parameter(name):
    torch.manual_seed(0)
    prog = qvr.load(program_path(name))
    model = prog.morphism
    vocab = prog.domain.leaves[0].n
    x = torch.randint(0, vocab, (3, 4))
    tr = model.trace(x)
    lj = model.log_joint(x, {n: s.value.detach() for n, s in tr.sites.items()})
    lj.sum().backward()
    missing = [n for n, p in model.named_parameters() if p.grad is None or not torch.isfinite(p.grad).all()]
    assert not missing


def test_char_lm_loss_as_in_spec():
    model = qvr.load(program_path("char_lm")).morphism
    X = torch.randint(0, 28, (2, 32))
    Y = torch.randint(0, 28, (2, 32))
    nll = -model.log_joint(X, {"next_char": Y}).mean() / X.shape[1]
    nll.backward()
    assert torch.isfinite(nll) and 0 < nll.exp() < 1000
    # per token it is the Categorical cross-entropy of the head over the states
    tr = model.trace(X, observations={"next_char": Y})
    assert tr.sites["h"].kind == DETERMINISTIC and tr.sites["h"].value.shape == (2, 32, 32)
    assert tr.sites["next_char"].value.shape == (2, 32)


def test_program_env_and_metadata():
    prog = qvr.load(program_path("seed002_vanilla_rnn_lm"))
    assert prog.domain.display() == "Seq[Token]" and prog.codomain.display() == "Token"
    assert prog.device == torch.device("cpu")
    cell = prog.env["cell"]
    assert any(cell is m for m in prog.morphism.modules())   # shares parameters with .morphism
    assert prog.rsample(torch.randint(0, 256, (2, 3))).shape == (2,)
    assert not [d for d in prog.diagnostics if d.is_error]
    assert "backbone" in prog.env and set(prog.env) >= {"tok_embed", "cell", "lm_head", "vanilla_rnn_lm"}


def test_unexported_modules_are_not_submodules():
    # seed 001: `candidate` is declared but never reached from the export
    prog = qvr.load(program_path("seed001_gru"))
    assert n_params(prog.env["candidate"]) > 0
    assert all(m is not prog.env["candidate"] for m in prog.morphism.modules())


def test_seed002_bad_inputs_raise_shape_errors_with_the_expected_shape():
    model = qvr.load(program_path("seed002_vanilla_rnn_lm")).morphism
    with pytest.raises(qvr.ShapeError, match=r"\(B, T\)"):
        model.rsample(torch.randint(0, 256, (4,)))
    with pytest.raises(qvr.ShapeError, match="int64"):
        model.rsample(torch.rand(4, 8))
    with pytest.raises(qvr.ShapeError, match="next_token"):
        model.log_joint(torch.randint(0, 256, (4, 8)), {"h": torch.zeros(4, 128), "h/scan": torch.zeros(4, 7, 128),
                                                        "next_token": torch.zeros(4, 3)})
