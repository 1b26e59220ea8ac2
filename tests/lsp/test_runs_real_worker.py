"""Runs with the real worker (``python -m qvr run ... --json``) through the language server.

Seed 002 (examples/seed_002_vanilla_rnn_lm.qvr) is fitted with SVI from a code-lens command:
progress streams with a falling loss, the result arrives as ``qvr/runFinished``, the server
never imports torch, and a long run is cancelled with its process gone. Sampling from it
reports the log joint of each draw. A variant
whose noise scale underflows (``scale=1e-30``) makes the worker report a NaN loss, which ends
the run with an error message and a diagnostic on the offending line. Skipped while the runner
(runtime/qvr/runner.py) is not there. The Neovim preset is covered with the fake worker
(test_runs_protocol.py); each real run costs a torch start-up.
"""
from __future__ import annotations

import asyncio
import importlib.util
import math
import os
import re
from pathlib import Path

import pytest
from lsprotocol import types

from qvr_lsp import runs

from test_runs_protocol import (  # noqa: E402  (shared pytest-lsp session helpers)
    as_dict, execute, losses_from, open_doc, pid_alive, progress_until, reported, run_diagnostics,
    run_to_end, session)

pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(importlib.util.find_spec("qvr.runner") is None,
                                 reason="qvr run (runtime/qvr/runner.py) is not available")]

SEED_002 = Path(__file__).resolve().parents[2] / "examples" / "seed_002_vanilla_rnn_lm.qvr"


def real_worker_env() -> dict:
    return {k: v for k, v in os.environ.items() if k != runs.WORKER_ENV}


def mean(xs):
    return sum(xs) / len(xs)


async def test_svi_on_seed_002_streams_falling_loss_and_finishes(tmp_path):
    text = SEED_002.read_text(encoding="utf-8")
    uri = (tmp_path / "vanilla_rnn_lm.qvr").as_uri()
    config = {"qvr": {"run": {"steps": 20, "device": "cpu"}}}
    async with session("visual-studio-code", config=config, env=real_worker_env(),
                       workspace=tmp_path) as client:
        open_doc(client, uri, text)
        lenses = await client.text_document_code_lens_async(
            types.CodeLensParams(text_document=types.TextDocumentIdentifier(uri=uri)))
        svi = next(l.command for l in lenses if l.command.command == "qvr.run.svi")
        started, result = await run_to_end(client, svi.command, *svi.arguments, timeout=240)
        started = as_dict(started)
        assert result["ok"] is True, result["message"]
        assert result["entry"] == "vanilla_rnn_lm" and result["kind"] == "svi"
        assert result["device"] == "cpu" and math.isfinite(result["final_loss"])
        assert result["summary_path"] and Path(result["summary_path"]).is_file()

        values = client.progress_reports[started["token"]]
        assert isinstance(values[0], types.WorkDoneProgressBegin)
        assert "vanilla_rnn_lm" in values[0].title
        assert isinstance(values[-1], types.WorkDoneProgressEnd)
        streamed = losses_from(values[1:-1])
        assert len(streamed) >= 2
        assert streamed[-1] < streamed[0]
        losses = result["losses"]
        k = max(1, len(losses) // 5)
        assert mean(losses[-k:]) < mean(losses[:k])  # SVI fitted: the loss went down

        info = await client.protocol.send_request_async("qvr/debugInfo", {})
        assert as_dict(info)["torch_loaded"] is False


async def test_sample_on_seed_002_reports_the_log_joint_of_its_draws(tmp_path):
    """A Sample run takes qvr.run.samples (not qvr.run.steps, which is SVI's) and reports the
    log joint of each draw under that name, from the progress to qvr/runFinished."""
    text = SEED_002.read_text(encoding="utf-8")
    uri = (tmp_path / "vanilla_rnn_lm.qvr").as_uri()
    config = {"qvr": {"run": {"steps": 999, "samples": 4, "device": "cpu"}}}
    async with session("visual-studio-code", config=config, env=real_worker_env(),
                       workspace=tmp_path) as client:
        open_doc(client, uri, text)
        started, result = await run_to_end(client, "qvr.run.sample",
                                           {"uri": uri, "entry": "vanilla_rnn_lm"}, timeout=240)
        assert result["ok"] is True, result["message"]
        assert result["metric"] == "log_joint" and len(result["log_joints"]) == 4
        # the densities of the model's continuous sites are far above 1: a positive log joint
        assert result["final_log_joint"] == result["log_joints"][-1] > 0
        assert Path(result["log_joint_curve_path"]).name == "log_joint.png"
        assert not {"final_loss", "losses", "loss_curve_path"} & set(result)
        values = client.progress_reports[as_dict(started)["token"]]
        messages = [v.message for v in values[1:] if isinstance(v, types.WorkDoneProgressReport)]
        assert messages[0] == "vanilla_rnn_lm on cpu: 4 draws"
        # the server passes progress on at most every so often (the last step always), so
        # which draws before the last are reported depends on the machine's speed
        steps = [int(m.split(" · ")[0].split()[1].split("/")[0]) for m in messages[1:]]
        assert steps == sorted(set(steps)) and steps[-1] == 4
        assert all(re.fullmatch(r"step \d/4 · log joint [\d.]+", m) for m in messages[1:])
        assert re.match(r"final log joint [\d.]+ in ", values[-1].message)


async def test_long_real_run_is_cancelled(tmp_path):
    text = SEED_002.read_text(encoding="utf-8")
    uri = (tmp_path / "vanilla_rnn_lm.qvr").as_uri()
    # long (minutes), yet the runner still reports every few steps (it reports ~500 times)
    async with session(config={"qvr": {"run": {"steps": 2000, "device": "cpu"}}},
                       env=real_worker_env(), workspace=tmp_path) as client:
        open_doc(client, uri, text)
        finished = asyncio.ensure_future(client.wait_for_notification("qvr/runFinished"))
        started = as_dict(await execute(client, "qvr.run.svi",
                                        {"uri": uri, "entry": "vanilla_rnn_lm"}))
        # the worker is really fitting (torch loaded): its first step is reported
        await progress_until(client, started["token"], reported("step "), guard=240)
        assert pid_alive(started["pid"])
        cancelled = as_dict(await execute(client, "qvr.run.cancel",
                                          {"uri": uri, "entry": "vanilla_rnn_lm"}))
        assert [as_dict(c)["pid"] for c in cancelled["cancelled"]] == [started["pid"]]
        assert not pid_alive(started["pid"])  # gone by the time the cancel answers
        result = as_dict(await asyncio.wait_for(finished, 240))
        assert result["ok"] is False and "cancelled" in result["message"]
        assert result["status"] == "cancelled"
        assert not any("step 2000/2000" in (v.message or "")
                       for v in client.progress_reports[started["token"]][1:-1])


async def test_nan_from_the_real_worker_is_reported_on_its_line(tmp_path):
    text = SEED_002.read_text(encoding="utf-8").replace("scale=0.1]", "scale=1e-30]")
    assert "scale=1e-30" in text
    uri = (tmp_path / "nan.qvr").as_uri()
    async with session("neovim", config={"qvr": {"run": {"steps": 5, "device": "cpu"}}},
                       env=real_worker_env(), workspace=tmp_path) as client:
        open_doc(client, uri, text)
        _, result = await run_to_end(client, "qvr.run.svi",
                                     {"uri": uri, "entry": "vanilla_rnn_lm"}, timeout=240)
        assert result["ok"] is False
        assert "produced NaN" in result["message"] and "non-finite" in result["message"], \
            result["message"]
        assert any(m.type == types.MessageType.Error and "NaN" in m.message
                   for m in client.messages)
        sample_line = next(i for i, l in enumerate(text.splitlines()) if "sample h" in l)
        run_diags = await run_diagnostics(client, uri)
        assert [d.range.start.line for d in run_diags] == [sample_line], \
            (result["message"], client.diagnostics.get(uri))
