"""Runs through the language server protocol (pytest-lsp client, server over stdio).

These tests drive the run commands end to end with the fake worker
(tests/lsp/fixtures/fake_qvr_worker.py, chosen by ``QVR_LSP_WORKER``): progress, results,
cancellation from the command and from the progress UI, crashes, hangs, NaN, settings and
trust. The server is the real ``qvr_lsp`` server when it can start, else the harness in
tests/lsp/fixtures/runs_server.py that wires the run layer the same way.
"""
from __future__ import annotations

import asyncio
import contextlib
import importlib.util
import math
import os
import re
import shlex
import sys
import time
from pathlib import Path

import pytest
from lsprotocol import types
from pytest_lsp import client_capabilities, make_test_lsp_client

from qvr_lsp import runs

pytestmark = pytest.mark.process  # every test starts a language server

FIXTURES = Path(__file__).parent / "fixtures"
from lsp_fixtures import FAKE_WORKER, RUN_MODEL as MODEL  # noqa: E402
HARNESS = FIXTURES / "runs_server.py"
PRESETS = ["visual-studio-code", "neovim"]
GUARD_S = 30.0  # a hang guard: only a test that would otherwise wait forever fails on it


def server_command() -> list[str]:
    """The real server (``python -m qvr_lsp``) if it exists, else the run harness;
    ``QVR_RUNS_TEST_SERVER=harness`` forces the harness."""
    forced = os.environ.get("QVR_RUNS_TEST_SERVER")
    real = importlib.util.find_spec("qvr_lsp.server") is not None
    if forced != "harness" and (real or forced == "real"):
        return [sys.executable, "-m", "qvr_lsp"]
    return [sys.executable, str(HARNESS)]


def fake_worker_env() -> dict:
    return {**os.environ,
            runs.WORKER_ENV: f"{shlex.quote(sys.executable)} {shlex.quote(str(FAKE_WORKER))}"}




@contextlib.asynccontextmanager
async def session(preset: str = "visual-studio-code", *, config: dict | None = None,
                  init_options: dict | None = None, env: dict | None = None,
                  workspace: Path | None = None):
    client = make_test_lsp_client()
    if config is not None:
        client.set_configuration(config)
    await client.start_io(*server_command(), env=env or fake_worker_env())
    root = workspace.as_uri() if workspace else None
    await client.initialize_session(types.InitializeParams(
        capabilities=client_capabilities(preset), initialization_options=init_options,
        root_uri=root,
        workspace_folders=[types.WorkspaceFolder(uri=root, name="ws")] if root else None))
    try:
        yield client
    finally:
        await client.shutdown_session()
        await client.stop()


def open_doc(client, uri: str, text: str, version: int = 1) -> None:
    client.text_document_did_open(types.DidOpenTextDocumentParams(
        text_document=types.TextDocumentItem(uri=uri, language_id="qvr", version=version,
                                             text=text)))


async def execute(client, command: str, *args):
    return await client.workspace_execute_command_async(
        types.ExecuteCommandParams(command=command, arguments=list(args)))


def as_dict(value):
    """Notification params as a plain dict (pygls hands unknown methods over as objects)."""
    if isinstance(value, dict):
        return value
    if hasattr(value, "_asdict"):
        return {k: as_dict(v) if hasattr(v, "_asdict") else v for k, v in value._asdict().items()}
    return dict(vars(value))


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


async def progress_until(client, token, predicate, guard: float = GUARD_S) -> list:
    """Wait until the `$/progress` values received for `token` satisfy `predicate`; return them.
    (pytest-lsp records a notification before a waiter resumes.)"""
    async def wait():
        while not predicate(client.progress_reports.get(token, [])):
            await client.wait_for_notification("$/progress")

    await asyncio.wait_for(wait(), guard)
    return client.progress_reports[token]


def reported(text: str):
    """A `progress_until` predicate: some report's message contains `text`."""
    return lambda values: any(isinstance(v, types.WorkDoneProgressReport)
                              and text in (v.message or "") for v in values)


async def worker_started(client, token, entry: str = "lm") -> None:
    """Wait for the report of the worker's start event ("lm on cpu: 20 steps")."""
    await progress_until(client, token, reported(f"{entry} on "))


async def run_to_end(client, command: str, arg: dict, timeout: float = GUARD_S):
    finished = asyncio.ensure_future(client.wait_for_notification("qvr/runFinished"))
    try:
        started = await execute(client, command, arg)
    except BaseException:
        finished.cancel()
        raise
    result = as_dict(await asyncio.wait_for(finished, timeout))
    return started, result


async def run_diagnostics(client, uri: str) -> list:
    """The run diagnostics for `uri`: pulled, or (for a client that cannot pull) the first
    publish that has some (the republish follows qvr/runFinished)."""
    pulls = getattr(getattr(client.capabilities, "text_document", None), "diagnostic", None) is not None
    if pulls:  # a client that can pull gets no pushes: the pulled report has them
        report = await client.text_document_diagnostic_async(types.DocumentDiagnosticParams(
            text_document=types.TextDocumentIdentifier(uri=uri)))
        return [d for d in report.items if d.code == runs.RUN_ERROR_CODE]

    def found():
        return [d for d in client.diagnostics.get(uri, []) if d.code == runs.RUN_ERROR_CODE]

    async def wait():
        while not found():
            await client.wait_for_notification(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)

    await asyncio.wait_for(wait(), GUARD_S)
    return found()


def losses_from(reports) -> list[float]:
    out = []
    for value in reports:
        found = re.search(r"loss ([-+0-9.eE]+|nan|inf)", getattr(value, "message", "") or "")
        if found:
            out.append(float(found.group(1)))
    return out


@pytest.mark.slow
@pytest.mark.parametrize("preset", PRESETS)
async def test_run_streams_progress_and_reports_result(preset, tmp_path):
    uri = (tmp_path / "model.qvr").as_uri()
    async with session(preset, config={"qvr": {"run": {"steps": 8}}}) as client:
        open_doc(client, uri, "# fake-worker: ok delay=0.12\n" + MODEL)
        started, result = await run_to_end(client, "qvr.run.svi", {"uri": uri, "entry": "lm"})
        started = as_dict(started)
        assert started["started"] and started["kind"] == "svi" and started["entry"] == "lm"
        assert not pid_alive(started["pid"])

        values = client.progress_reports[started["token"]]
        begin, *reports, end = values
        assert isinstance(begin, types.WorkDoneProgressBegin) and begin.cancellable
        assert "lm" in begin.title and "Run SVI" in begin.title
        assert isinstance(end, types.WorkDoneProgressEnd) and "final loss 12.5" in end.message
        losses = losses_from(reports)
        assert len(losses) >= 2 and losses == sorted(losses, reverse=True) and losses[0] > losses[-1]
        assert reports[-1].percentage == 100
        assert any("lm on cpu" in (r.message or "") for r in reports)

        assert result["ok"] is True and result["uri"] == uri and result["entry"] == "lm"
        assert result["kind"] == "svi" and result["final_loss"] == 12.5
        assert result["losses"] == [100 / s for s in range(1, 9)]
        assert result["device"] == "cpu" and Path(result["summary_path"]).is_file()
        # results are kept next to the document, as `qvr run` does: runs/<entry>-<kind>-<time>
        out_dir = Path(result["summary_path"]).parent
        assert out_dir.parent == tmp_path / "runs" and out_dir.name.startswith("lm-svi-")
        assert set(result) >= {"elapsed", "posterior", "loss_curve_path", "message"}
        # clients that know nothing of qvr/runFinished get a message
        assert any("Run SVI lm finished" in m.message and "final loss 12.5" in m.message
                   for m in client.messages)


@pytest.mark.slow
async def test_cancel_command_ends_a_stubborn_run(tmp_path):
    """A worker that ignores SIGTERM is killed after the grace period; the cancel answers once
    it is gone."""
    uri = (tmp_path / "model.qvr").as_uri()
    async with session() as client:
        open_doc(client, uri, "# fake-worker: stubborn\n" + MODEL)
        finished = asyncio.ensure_future(client.wait_for_notification("qvr/runFinished"))
        started = as_dict(await execute(client, "qvr.run.nuts", {"uri": uri, "entry": "lm"}))
        await worker_started(client, started["token"])  # (it ignores SIGTERM from then on)
        assert pid_alive(started["pid"])
        cancelled = as_dict(await execute(client, "qvr.run.cancel", {"uri": uri}))
        assert not pid_alive(started["pid"])  # gone by the time the cancel answers
        result = as_dict(await asyncio.wait_for(finished, GUARD_S))
        assert [as_dict(c)["pid"] for c in cancelled["cancelled"]] == [started["pid"]]
        assert not pid_alive(started["pid"])
        assert result["ok"] is False and "cancelled" in result["message"]
        assert result["status"] == "cancelled"  # clients tell a cancel from a failure by it
        end = client.progress_reports[started["token"]][-1]
        assert isinstance(end, types.WorkDoneProgressEnd)


@pytest.mark.parametrize("preset", PRESETS)
async def test_cancel_from_progress_ui(preset, tmp_path):
    uri = (tmp_path / "model.qvr").as_uri()
    async with session(preset) as client:
        open_doc(client, uri, "# fake-worker: hang\n" + MODEL)
        finished = asyncio.ensure_future(client.wait_for_notification("qvr/runFinished"))
        started = as_dict(await execute(client, "qvr.run.sample", {"uri": uri, "entry": "lm"}))
        await worker_started(client, started["token"])
        assert pid_alive(started["pid"])
        client.window_work_done_progress_cancel(
            types.WorkDoneProgressCancelParams(token=started["token"]))
        result = as_dict(await asyncio.wait_for(finished, GUARD_S))
        assert "cancelled from the progress UI" in result["message"]
        assert result["status"] == "cancelled"
        assert not pid_alive(started["pid"])


async def test_cancel_with_no_argument_cancels_everything(tmp_path):
    a, b = (tmp_path / "a.qvr").as_uri(), (tmp_path / "b.qvr").as_uri()
    async with session() as client:
        open_doc(client, a, "# fake-worker: hang\n" + MODEL)
        open_doc(client, b, "# fake-worker: hang\n" + MODEL)
        pa = as_dict(await execute(client, "qvr.run.svi", {"uri": a, "entry": "lm"}))["pid"]
        pb = as_dict(await execute(client, "qvr.run.svi", {"uri": b, "entry": "lm"}))["pid"]
        cancelled = as_dict(await execute(client, "qvr.run.cancel"))
        assert sorted(as_dict(c)["pid"] for c in cancelled["cancelled"]) == sorted([pa, pb])
        assert not pid_alive(pa) and not pid_alive(pb)


async def test_second_run_of_a_running_entry_gets_the_first(tmp_path):
    uri = (tmp_path / "model.qvr").as_uri()
    async with session() as client:
        open_doc(client, uri, "# fake-worker: hang\n" + MODEL)
        first = as_dict(await execute(client, "qvr.run.svi", {"uri": uri, "entry": "lm"}))
        second = as_dict(await execute(client, "qvr.run.svi", {"uri": uri, "entry": "lm"}))
        assert second["started"] is False and second["running"] is True
        assert second["pid"] == first["pid"] and pid_alive(first["pid"])
        await execute(client, "qvr.run.cancel", {"uri": uri, "entry": "lm"})
        assert not pid_alive(first["pid"])


async def test_nan_is_reported_with_a_diagnostic_on_its_line(tmp_path):
    uri = (tmp_path / "model.qvr").as_uri()
    text = "# fake-worker: nan\n" + MODEL
    async with session("neovim") as client:
        open_doc(client, uri, text)
        _, result = await run_to_end(client, "qvr.run.svi", {"uri": uri, "entry": "lm"})
        assert result["ok"] is False and "NaN" in result["message"]
        assert any(m.type == types.MessageType.Error and "NaN" in m.message
                   for m in client.messages)
        run_diags = await run_diagnostics(client, uri)
        assert len(run_diags) == 1, (result, run_diags)
        [diag] = run_diags
        observe_line = next(i for i, l in enumerate(text.splitlines()) if "observe" in l)
        assert diag.range.start.line == observe_line
        assert diag.severity == types.DiagnosticSeverity.Error and "NaN" in diag.message


async def test_nan_loss_in_progress_stops_the_worker(tmp_path):
    uri = (tmp_path / "model.qvr").as_uri()
    async with session(config={"qvr": {"run": {"steps": 200}}}) as client:
        open_doc(client, uri, "# fake-worker: nan-progress delay=0.05\n" + MODEL)
        started, result = await run_to_end(client, "qvr.run.svi", {"uri": uri, "entry": "lm"})
        assert "loss became nan at step 3" in result["message"]
        assert result["losses"] == [100.0, 50.0]
        assert not pid_alive(as_dict(started)["pid"])


@pytest.mark.slow
async def test_crash_and_hang_end_with_clear_messages(tmp_path):
    crash, hang = (tmp_path / "crash.qvr").as_uri(), (tmp_path / "hang.qvr").as_uri()
    async with session(config={"qvr": {"run": {"timeout": 0.5}}}) as client:
        open_doc(client, crash, "# fake-worker: crash\n" + MODEL)
        open_doc(client, hang, "# fake-worker: hang\n" + MODEL)
        _, crashed = await run_to_end(client, "qvr.run.svi", {"uri": crash, "entry": "lm"})
        assert "crashed (exit status 1)" in crashed["message"]
        assert "simulated worker crash" in crashed["message"]
        started, hung = await run_to_end(client, "qvr.run.svi", {"uri": hang, "entry": "lm"})
        assert "no output from the worker for 0.5 s" in hung["message"]
        assert not pid_alive(as_dict(started)["pid"])
        errors = [m.message for m in client.messages if m.type == types.MessageType.Error]
        assert any("crashed" in m for m in errors) and any("no output" in m for m in errors)


async def hover_median(client, params, n=10, *, between_progress=False) -> float:
    """The median time of `n` hovers; with `between_progress`, each one right after a `$/progress`
    notification (so each is asked while the worker streams)."""
    timings = []
    for _ in range(n):
        if between_progress:
            await asyncio.wait_for(client.wait_for_notification("$/progress"), GUARD_S)
        t0 = time.perf_counter()
        hover = await client.text_document_hover_async(params)
        timings.append(time.perf_counter() - t0)
        assert hover is not None
    return sorted(timings)[n // 2]


@pytest.mark.slow
async def test_hover_stays_responsive_during_a_run(tmp_path):
    uri = (tmp_path / "model.qvr").as_uri()
    async with session(config={"qvr": {"run": {"steps": 400}}}) as client:
        open_doc(client, uri, "# fake-worker: ok delay=0.005\n" + MODEL)
        params = types.HoverParams(text_document=types.TextDocumentIdentifier(uri=uri),
                                   position=types.Position(line=3, character=9))
        await client.text_document_hover_async(params)  # warm up: analysis of this version
        idle = await hover_median(client, params)
        started = as_dict(await execute(client, "qvr.run.svi", {"uri": uri, "entry": "lm"}))
        await progress_until(client, started["token"], reported("step "))  # streaming now
        during = await hover_median(client, params, between_progress=True)
        assert pid_alive(started["pid"]), "the run should still be going"
        # 50 ms (the bound), relaxed only when the machine is so loaded that an idle
        # hover is slow too; a server blocked by the run would take seconds either way
        assert during < max(0.05, 3 * idle), (during, idle)
        await execute(client, "qvr.run.cancel")


async def test_commands_reject_missing_arguments(tmp_path):
    async with session() as client:
        with pytest.raises(Exception, match="needs an argument"):
            await execute(client, "qvr.run.svi")
        with pytest.raises(Exception, match="needs both \"uri\" and \"entry\""):
            await execute(client, "qvr.run.nuts", {"uri": (tmp_path / "m.qvr").as_uri()})
        with pytest.raises(Exception, match="neither open nor a readable file"):
            await execute(client, "qvr.run.sample",
                          {"uri": (tmp_path / "missing.qvr").as_uri(), "entry": "lm"})


@pytest.mark.parametrize("how", ["configuration", "initialization_options"])
async def test_runs_disabled_in_untrusted_workspace(how, tmp_path):
    uri = (tmp_path / "model.qvr").as_uri()
    off = {"qvr": {"run": {"enabled": False}}}
    if how == "configuration":
        ctx = session("visual-studio-code", config=off)
    else:  # neovim 0.7 has no workspace/configuration: settings come with initialize
        ctx = session("neovim@v0.7.0", init_options=off)
    async with ctx as client:
        open_doc(client, uri, "# fake-worker: ok\n" + MODEL)
        with pytest.raises(Exception, match="runs are disabled"):
            await execute(client, "qvr.run.svi", {"uri": uri, "entry": "lm"})
        assert client.progress_reports == {}


async def test_settings_pushed_by_did_change_configuration(tmp_path):
    uri = (tmp_path / "model.qvr").as_uri()
    async with session("neovim@v0.7.0") as client:
        open_doc(client, uri, "# fake-worker: ok\n" + MODEL)
        client.workspace_did_change_configuration(types.DidChangeConfigurationParams(
            settings={"qvr": {"run": {"steps": 3, "device": "cuda:7"}}}))
        _, result = await run_to_end(client, "qvr.run.svi", {"uri": uri, "entry": "lm"})
        assert result["losses"] == [100.0, 50.0, 100 / 3] and result["device"] == "cuda:7"


SEED_002 = """object Token : FinSet 256
object Embedded : Real 64
object Hidden : Real 128
morphism tok_embed : Token -> Embedded [role=embed]
morphism cell : Embedded * Hidden -> Hidden [role=kernel, scale=0.1] ~ Normal
morphism lm_head : Hidden -> Token [role=kernel] ~ Categorical
define backbone = tok_embed >> scan(cell)
program vanilla_rnn_lm : Token -> Token
    sample h <- backbone
    observe next_token : Token <- lm_head(h)
    return next_token
export vanilla_rnn_lm
"""


async def code_lenses(client, uri):
    return await client.text_document_code_lens_async(
        types.CodeLensParams(text_document=types.TextDocumentIdentifier(uri=uri)))


@pytest.mark.parametrize("preset", PRESETS)
async def test_code_lenses_over_the_protocol(preset, tmp_path):
    uri = (tmp_path / "lm.qvr").as_uri()
    async with session(preset) as client:
        open_doc(client, uri, SEED_002)
        lenses = await code_lenses(client, uri)
        rows = [(l.range.start.line, l.command.title, l.command.command, list(l.command.arguments))
                for l in lenses]
        args = [{"uri": uri, "entry": "vanilla_rnn_lm"}]
        assert rows == [(line, title, command, args) for line in (7, 11) for title, command in (
            ("Run SVI", "qvr.run.svi"), ("Sample", "qvr.run.sample"),
            ("Run NUTS", "qvr.run.nuts"), ("Check: no problems", "qvr.run.check"))]
        # the arguments of a lens run it as they are
        finished = asyncio.ensure_future(client.wait_for_notification("qvr/runFinished"))
        started = as_dict(await execute(client, lenses[0].command.command,
                                        *lenses[0].command.arguments))
        assert started["started"] and started["entry"] == "vanilla_rnn_lm"
        await execute(client, "qvr.run.cancel")
        await asyncio.wait_for(finished, 10)


async def test_disabled_lenses_explain_themselves(tmp_path):
    uri = (tmp_path / "lm.qvr").as_uri()
    broken = SEED_002.replace("lm_head(h)", "lm_head(h, h)")
    async with session() as client:
        open_doc(client, uri, broken)
        lenses = await code_lenses(client, uri)
        first = lenses[0].command
        assert first.title == "Run SVI (disabled: 1 error)"
        assert first.command == "qvr.run.disabled"
        await execute(client, first.command, *first.arguments)
        assert any("vanilla_rnn_lm has 1 error" in m.message for m in client.messages)
        # the command itself refuses too, naming the first error
        with pytest.raises(Exception, match=r"1 error\(s\); first at 10:\d+: QVR061"):
            await execute(client, "qvr.run.svi", {"uri": uri, "entry": "vanilla_rnn_lm"})
        check = lenses[3].command
        assert check.title == "Check: 1 error"
        summary = as_dict(await execute(client, check.command, *check.arguments))
        assert summary["count"] == 1
        assert any("QVR061" in m.message for m in client.messages)


@pytest.mark.parametrize("preset", ["visual-studio-code", "neovim@v0.7.0"])
async def test_lenses_disabled_when_runs_are_off(preset, tmp_path):
    uri = (tmp_path / "lm.qvr").as_uri()
    off = {"qvr": {"run": {"enabled": False}}}
    if preset == "visual-studio-code":  # pulled with workspace/configuration
        ctx = session(preset, config=off)
    else:  # pushed with initializationOptions
        ctx = session(preset, init_options={"run": {"enabled": False}})
    async with ctx as client:
        open_doc(client, uri, SEED_002)
        titles = [l.command.title for l in await code_lenses(client, uri)]
        assert titles[:3] == ["Run SVI (disabled: runs disabled)",
                              "Sample (disabled: runs disabled)",
                              "Run NUTS (disabled: runs disabled)"]


async def test_unknown_entry_is_refused(tmp_path):
    uri = (tmp_path / "lm.qvr").as_uri()
    async with session() as client:
        open_doc(client, uri, SEED_002)
        with pytest.raises(Exception, match="no program or definition named 'nope'"):
            await execute(client, "qvr.run.svi", {"uri": uri, "entry": "nope"})


async def test_client_that_renders_results_gets_no_duplicate_popup(tmp_path):
    uri = (tmp_path / "model.qvr").as_uri()
    init = {"run": {"steps": 2}, "runFinishedNotification": True}
    async with session(init_options=init) as client:
        open_doc(client, uri, "# fake-worker: ok\n" + MODEL)
        _, result = await run_to_end(client, "qvr.run.svi", {"uri": uri, "entry": "lm"})
        assert result["ok"] and result["losses"] == [100.0, 50.0]
        assert not any("finished" in m.message for m in client.messages)
        assert any("Run SVI lm finished" in m.message for m in client.log_messages)


@pytest.mark.slow
async def test_shutdown_leaves_no_worker_behind(tmp_path):
    uri = (tmp_path / "model.qvr").as_uri()
    async with session() as client:
        open_doc(client, uri, "# fake-worker: stubborn\n" + MODEL)
        started = as_dict(await execute(client, "qvr.run.svi", {"uri": uri, "entry": "lm"}))
        await worker_started(client, started["token"])  # (it ignores SIGTERM from then on)
        assert pid_alive(started["pid"])
    # the session's exit shut the server down: the worker goes (polled against a hang guard)
    deadline = time.monotonic() + GUARD_S
    while pid_alive(started["pid"]) and time.monotonic() < deadline:
        await asyncio.sleep(0.01)
    assert not pid_alive(started["pid"])
