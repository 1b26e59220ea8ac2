"""`qvr run MODEL --svi --data corpus.txt`: trains a character model on a text file with a
progress bar, reports training and validation perplexity and generates from a prompt."""
from __future__ import annotations

import json
import math

import pytest

from qvr import runner

from lstm_paths import EXAMPLES

CHAR_LM = str(EXAMPLES / "char_lstm_lm.qvr")


@pytest.mark.slow
def test_run_trains_reports_perplexity_and_generates(capsys, tmp_path, time_machine):
    rc = runner.main([CHAR_LM, "--svi", "--data", str(time_machine), "--steps", "12",
                      "--batch", "256", "--generate", "it has", "--chars", "20",
                      "--out", str(tmp_path)])
    out = capsys.readouterr()
    assert rc == 0, out.err
    assert "Traceback" not in out.err
    assert "[" in out.err and "12/12" in out.err                      # the progress bar
    assert "validation perplexity" in out.out and "training perplexity" in out.out
    line = next(l for l in out.out.splitlines() if l.startswith("generated:"))
    text = json.loads(line.split(":", 1)[1])
    assert text.startswith("it has") and len(text) >= 26
    summary = json.loads((tmp_path / "summary.json").read_text())
    corpus = summary["corpus"]
    assert len(corpus["vocabulary"]) == 28 and corpus["num_steps"] == 32
    assert (corpus["train_windows"], corpus["val_windows"]) == (10_000, 5_000)
    assert 1 < corpus["val_perplexity"] < 28 and math.isfinite(corpus["train_perplexity"])
    assert summary["generated"] == text
    assert (tmp_path / "loss.png").exists()


def test_json_events_carry_perplexity(capsys, tmp_path, time_machine):
    rc = runner.main([CHAR_LM, "--svi", "--data", str(time_machine), "--steps", "3", "--batch", "128",
                      "--num-steps", "16", "--generate", "the", "--chars", "5", "--json",
                      "--out", str(tmp_path)])
    out = capsys.readouterr()
    events = [json.loads(l) for l in out.out.splitlines() if l.strip()]
    assert rc == 0, out.err
    assert events[0]["event"] == "start" and events[0]["total"] == 3
    assert [e["step"] for e in events if e["event"] == "progress"][-1] == 3
    result = events[-1]
    assert result["event"] == "result"
    assert result["val_perplexity"] > 1 and result["train_perplexity"] > 1
    assert result["generated"].startswith("the") and len(result["generated"]) >= 8


def test_a_model_that_does_not_fit_the_corpus_is_a_data_error(capsys, tmp_path, time_machine):
    seed = str(EXAMPLES / "seed_002_vanilla_rnn_lm.qvr")
    rc = runner.main([seed, "--svi", "--data", str(time_machine), "--json", "--out", str(tmp_path)])
    out = capsys.readouterr()
    event = json.loads(out.out.splitlines()[-1])
    assert rc == 1 and event["event"] == "error" and event["code"] == "data"
    assert "28 symbols" in event["message"]


def test_generate_without_a_corpus_is_a_usage_error(capsys, tmp_path):
    rc = runner.main([CHAR_LM, "--svi", "--generate", "it", "--out", str(tmp_path)])
    err = capsys.readouterr().err
    assert rc == 1 and "--generate" in err and "text" in err


def test_short_corpus_is_a_located_data_error(capsys, tmp_path):
    short = tmp_path / "short.txt"
    short.write_text("Cwm fjord bank glyphs vext quiz.", encoding="utf-8")   # 26 letters, 31 characters
    rc = runner.main([CHAR_LM, "--svi", "--data", str(short), "--out", str(tmp_path)])
    err = capsys.readouterr().err
    assert rc == 1 and "error[data]" in err and "windows" in err
