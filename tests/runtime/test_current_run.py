"""`qvr run` on plated programs (spec part 2 §6.7): named inputs as `--data` keys or simulated,
the batch rule, `--entry` for any export, and `Program.exports`."""
import json
from pathlib import Path

import pytest
import torch

import qvr
from qvr.run.command import main

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "current"
SCHOOLS = str(EXAMPLES / "e01_schools.qvr")


def _data(tmp_path, **values):
    path = tmp_path / "data.json"
    path.write_text(json.dumps(values))
    return str(path)


def test_run_reads_named_inputs_and_observations_by_key(tmp_path, capsys):
    data = _data(tmp_path, prior_scale=5.0, sd=[15, 10, 16, 11, 9, 11, 10, 18],
                 y=[28, 8, -3, 7, -1, 1, 18, 12])
    rc = main([SCHOOLS, "--svi", "--steps", "3", "--data", data, "--out", str(tmp_path / "out")])
    assert rc == 0, capsys.readouterr().err


def test_run_names_a_missing_named_input(tmp_path, capsys):
    data = _data(tmp_path, prior_scale=5.0, y=[28, 8, -3, 7, -1, 1, 18, 12])
    rc = main([SCHOOLS, "--svi", "--steps", "3", "--data", data, "--out", str(tmp_path / "out")])
    assert rc != 0
    assert "no values for named input 'sd'" in capsys.readouterr().err


def test_run_names_an_unknown_key(tmp_path, capsys):
    data = _data(tmp_path, prior_scale=5.0, sd=[1] * 8, y=[0] * 8, tau2=[1])
    rc = main([SCHOOLS, "--svi", "--steps", "3", "--data", data, "--out", str(tmp_path / "out")])
    assert rc != 0
    assert "'tau2' is not an observed site" in capsys.readouterr().err


@pytest.mark.parametrize("kind", ["--sample", "--svi"])
def test_run_simulates_named_inputs(tmp_path, kind, capsys):
    rc = main([str(EXAMPLES / "e02_radon.qvr"), kind, "--steps", "3", "--out", str(tmp_path / "out")])
    assert rc == 0, capsys.readouterr().err


def test_exports_are_ordered_and_entry_takes_any_export(tmp_path, capsys):
    program = qvr.load(EXAMPLES / "e07_counts.qvr")
    assert list(program.exports) == ["zip_closed", "zip_enum", "regime", "overdispersed"]
    assert program.exports["zip_closed"] is program.morphism
    tr = program.exports["overdispersed"].trace(None)
    assert tuple(tr.sites["sales"].value.shape) == (1, 50, 1)
    assert torch.equal(tr.sites["sales"].value, tr.sites["sales"].value.round())
    rc = main([str(EXAMPLES / "e07_counts.qvr"), "--sample", "--steps", "3", "--entry", "overdispersed",
               "--out", str(tmp_path / "out")])
    assert rc == 0, capsys.readouterr().err
