"""RunManager without a language client: worker processes, events, stopping, diagnostics.

Uses the fake worker (tests/lsp/fixtures/fake_qvr_worker.py) so that crashes, hangs, stubborn
workers and NaN losses are deterministic and fast; the protocol tests (test_runs_protocol.py)
cover the same paths end to end through the language server.
"""
from __future__ import annotations

import asyncio
import os
import shlex
import subprocess
import sys
import time
from pathlib import Path

import pytest

from qvr_lsp import runs
from qvr_lsp.runs import RunManager, RunRequest, RunSettings

from lsp_fixtures import FAKE_WORKER, RUN_MODEL as MODEL  # noqa: E402

GUARD_S = 30.0  # only a hang fails on it


class Recorder:
    """A RunReporter that remembers everything it is told."""

    def __init__(self):
        self.events: list[tuple] = []
        self.outcomes: list[runs.RunOutcome] = []
        self.changed: list[str] = []
        self._reported = asyncio.Event()

    async def worker_started(self, entry: str = "lm") -> None:
        """Wait for the report of the worker's start event ("lm on cpu: 20 steps")."""
        async def wait():
            while not any(e[0] == "report" and e[1].startswith(f"{entry} on ")
                          for e in self.events):
                self._reported.clear()
                await self._reported.wait()

        await asyncio.wait_for(wait(), GUARD_S)

    async def begin(self, run, title, message):
        self.events.append(("begin", title, message))

    def report(self, run, message, percentage):
        self.events.append(("report", message, percentage))
        self._reported.set()

    def end(self, run, message):
        self.events.append(("end", message))

    def finished(self, run, outcome):
        self.outcomes.append(outcome)

    def diagnostics_changed(self, uri):
        self.changed.append(uri)


@pytest.fixture(autouse=True)
def fake_worker(monkeypatch):
    monkeypatch.setenv(runs.WORKER_ENV, f"{shlex.quote(sys.executable)} {shlex.quote(str(FAKE_WORKER))}")


def request(mode="ok", *, entry="lm", kind="svi", **settings):
    text = f"# fake-worker: {mode}\n" + MODEL
    return RunRequest(uri="file:///m.qvr", entry=entry, kind=kind, text=text,
                      settings=RunSettings(**settings), filename="m.qvr")


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


async def finish(run):
    await asyncio.wait_for(run.task, GUARD_S)
    return run.outcome


async def test_nuts_chains_side_by_side_are_reported_per_chain(tmp_path):
    rec = Recorder()
    manager = RunManager(rec, runs_root=str(tmp_path))
    outcome = await finish(await manager.start(request("chains", kind="nuts", warmup=4,
                                                       samples=4)))
    assert outcome.ok
    reports = [e[1] for e in rec.events if e[0] == "report"][1:]  # after the start report
    assert reports == [
        "step 1/8 · chains 25% 0% · log joint -100", "step 2/8 · chains 25% 25% · log joint -50",
        "step 3/8 · chains 50% 25% · log joint -33.33",
        "step 4/8 · chains 75% 25% · log joint -25",
        "step 5/8 · chains 100% 25% · log joint -20",
        "step 6/8 · chains 100% 50% · log joint -16.67",
        "step 7/8 · chains 100% 75% · log joint -14.29",
        "step 8/8 · chains 100% 100% · log joint -12.5"]
    assert outcome.message.endswith(": final log joint -12.5")


async def test_successful_run_reports_progress_and_result(tmp_path):
    rec = Recorder()
    manager = RunManager(rec, runs_root=str(tmp_path))
    run = await manager.start(request(steps=5))
    outcome = await finish(run)
    assert outcome.ok and outcome.status == "ok"
    assert outcome.values == [100.0, 50.0, 100 / 3, 25.0, 20.0]
    assert outcome.final == 20.0
    assert outcome.device == "cpu"
    assert Path(outcome.summary_path).is_file()
    assert outcome.posterior["h"]["mean"] == [0.1, 0.2]
    kinds = [e[0] for e in rec.events]
    assert kinds[0] == "begin" and kinds[-1] == "end"
    reports = [e for e in rec.events if e[0] == "report"]
    assert reports[-1] == ("report", "step 5/5 · loss 20", 100)
    assert "Run SVI lm finished on cpu" in outcome.message
    assert manager.active == {}
    # results stay in the out directory; the private snapshot is gone with the worker
    assert Path(outcome.summary_path).parent == Path(run.out_dir)
    assert not Path(run.work_dir).exists()
    assert not pid_alive(run.pid)


async def test_worker_runs_the_snapshot_of_the_editor_text(tmp_path):
    manager = RunManager(Recorder(), runs_root=str(tmp_path))
    run = await manager.start(request("hang"))
    assert Path(run.snapshot_path).read_text() == run.request.text
    assert run.process is not None
    await manager.cancel()


def test_worker_arguments_follow_settings():
    settings = RunSettings(steps=7, samples=9, warmup=0, device="cuda:1", data="d.pt")
    commands = {kind: runs.worker_command(settings, "/x/m.qvr", "lm", kind, "/out")
                for kind in ("svi", "sample", "nuts")}
    counts = {"svi": ["--steps", "7"], "sample": ["--samples", "9"],
              "nuts": ["--samples", "9", "--warmup", "0"]}
    for kind, cmd in commands.items():
        assert cmd[cmd.index("run"):] == ["run", "/x/m.qvr", "--entry", "lm", f"--{kind}",
                                          "--json", *counts[kind], "--device", "cuda:1",
                                          "--data", "d.pt", "--out", "/out"]


def test_real_worker_prefix_uses_configured_python(monkeypatch):
    monkeypatch.delenv(runs.WORKER_ENV)
    assert runs.worker_prefix(RunSettings(python="/opt/py")) == ["/opt/py", "-P", "-m", "qvr"]
    assert runs.worker_prefix(RunSettings()) == [sys.executable, "-P", "-m", "qvr"]


def test_workspace_module_named_qvr_cannot_shadow_the_worker(tmp_path, monkeypatch):
    """The worker runs in the workspace; a qvr.py there must not be what `-m qvr` imports."""
    monkeypatch.delenv(runs.WORKER_ENV)
    (tmp_path / "qvr.py").write_text("print('hijacked')\n")
    prefix = runs.worker_prefix(RunSettings())
    done = subprocess.run(prefix + ["check", "--help"], cwd=tmp_path, capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 0 and "usage: qvr check" in done.stdout
    assert "hijacked" not in done.stdout
    # and the check is meaningful: without -P the workspace module wins
    plain = [p for p in prefix if p != "-P"]
    done = subprocess.run(plain + ["check", "--help"], cwd=tmp_path, capture_output=True,
                          text=True, timeout=60)
    assert "hijacked" in done.stdout


async def test_cancel_stops_worker_and_reports_cancelled(tmp_path):
    rec = Recorder()
    manager = RunManager(rec, runs_root=str(tmp_path))
    run = await manager.start(request("hang"))
    await rec.worker_started()
    assert pid_alive(run.pid)
    cancelled = await asyncio.wait_for(manager.cancel(uri="file:///m.qvr"), GUARD_S)
    assert cancelled == [run]
    assert run.outcome.status == "cancelled" and not run.outcome.ok
    assert run.process.returncode == -15  # SIGTERM was enough: no kill after the grace period
    assert not pid_alive(run.pid)
    assert rec.events[-1][0] == "end" and rec.outcomes == [run.outcome]


async def test_stubborn_worker_is_killed_after_grace(tmp_path):
    rec = Recorder()
    manager = RunManager(rec, runs_root=str(tmp_path))
    run = await manager.start(request("stubborn", grace=0.3))
    await rec.worker_started()  # its SIGTERM handler is in place before it starts
    t0 = time.monotonic()
    await asyncio.wait_for(manager.cancel(), GUARD_S)
    # the grace period is a minimum (SIGTERM first, SIGKILL only after it), not a speed bound
    assert time.monotonic() - t0 >= 0.3 - 0.05
    assert "fake worker: SIGTERM ignored" in run.stderr_tail  # it got SIGTERM first ...
    assert run.process.returncode == -9  # ... and SIGKILL after the grace period
    assert not pid_alive(run.pid)
    assert run.outcome.status == "cancelled"


async def test_silent_worker_counts_as_hung(tmp_path):
    rec = Recorder()
    manager = RunManager(rec, runs_root=str(tmp_path))
    run = await manager.start(request("hang", timeout=0.5))
    outcome = await finish(run)
    assert outcome.status == "failed"
    assert "no output from the worker for 0.5 s" in outcome.message
    assert not pid_alive(run.pid)


async def test_crash_reports_exit_status_and_stderr(tmp_path):
    rec = Recorder()
    manager = RunManager(rec, runs_root=str(tmp_path))
    outcome = await finish(await manager.start(request("crash")))
    assert not outcome.ok
    assert "crashed (exit status 1)" in outcome.message
    assert "RuntimeError: simulated worker crash" in outcome.message
    assert outcome.values == [100.0]


async def test_usage_error_is_reported_as_such(tmp_path):
    manager = RunManager(Recorder(), runs_root=str(tmp_path))
    outcome = await finish(await manager.start(request("usage")))
    assert "rejected its arguments (exit status 2)" in outcome.message


async def test_nan_loss_stops_the_run(tmp_path):
    rec = Recorder()
    manager = RunManager(rec, runs_root=str(tmp_path))
    run = await manager.start(request("nan-progress", steps=50, timeout=5))
    outcome = await finish(run)
    assert outcome.status == "failed"
    assert "loss became nan at step 3" in outcome.message
    assert outcome.values == [100.0, 50.0]
    assert not pid_alive(run.pid)
    # NaN never reaches the JSON payload
    assert all(x is not None for x in outcome.to_notification()["losses"])


async def test_a_sample_run_reports_its_log_joint(tmp_path):
    rec = Recorder()
    manager = RunManager(rec, runs_root=str(tmp_path))
    outcome = await finish(await manager.start(request(kind="sample", samples=3)))
    assert outcome.ok
    reports = [e[1] for e in rec.events if e[0] == "report"]
    assert reports == ["lm on cpu: 3 draws", "step 1/3 · log joint -100", "step 2/3 · log joint -50",
                       "step 3/3 · log joint -33.33"]
    assert outcome.message.endswith("finished on cpu in "
                                    f"{outcome.elapsed:.1f} s: final log joint -33.33")
    assert rec.events[-1][0] == "end" and rec.events[-1][1].startswith("final log joint -33.33 in ")
    note = outcome.to_notification()
    assert {k: note[k] for k in ("metric", "final_log_joint", "log_joints")} == {
        "metric": "log_joint", "final_log_joint": -100 / 3, "log_joints": [-100.0, -50.0, -100 / 3]}
    assert note["log_joint_curve_path"].endswith("log_joint.png")
    assert not {"final_loss", "losses", "loss_curve_path"} & set(note)


async def test_a_non_finite_nuts_log_joint_stops_the_run(tmp_path):
    rec = Recorder()
    manager = RunManager(rec, runs_root=str(tmp_path))
    outcome = await finish(await manager.start(request("nan-progress", kind="nuts", samples=40,
                                                       timeout=5)))
    assert outcome.status == "failed"
    assert outcome.message.endswith("log joint became nan at step 3; stopped")
    assert outcome.values == [-100.0, -50.0]


async def test_a_sample_run_keeps_its_nan_draws_and_counts_them(tmp_path):
    rec = Recorder()
    manager = RunManager(rec, runs_root=str(tmp_path))
    outcome = await finish(await manager.start(request("nan-progress", kind="sample", samples=6,
                                                       timeout=5)))
    assert (outcome.status, outcome.values) == ("ok", [-100.0, -50.0])
    line = next(i + 1 for i, l in enumerate(request("nan-progress").text.splitlines()) if "observe" in l)
    assert outcome.message.endswith(
        f"final log joint nan; 4 draw(s) with a NaN log joint, the first at site 'y' (line {line})")


async def test_error_event_becomes_a_diagnostic_on_its_line(tmp_path):
    rec = Recorder()
    manager = RunManager(rec, runs_root=str(tmp_path))
    req = request("nan")
    outcome = await finish(await manager.start(req))
    assert "produced NaN (line 5)" in outcome.message
    assert rec.changed == ["file:///m.qvr"]
    [diag] = manager.extra_diagnostics("file:///m.qvr")
    from qvr.syntax.span import LineIndex
    index = LineIndex(req.text)
    assert index.position(diag.span.start) == (4, 4)  # line 5, column 5 (1-based)
    assert req.text[diag.span.start:diag.span.end] == "observe y : Token <- head"
    assert diag.code == runs.RUN_ERROR_CODE and diag.severity == 1
    # kept while the text is unchanged, dropped for an edited text
    assert manager.extra_diagnostics("file:///m.qvr", req.text) == [diag]
    assert manager.extra_diagnostics("file:///m.qvr", req.text + "\n") == []
    assert manager.extra_diagnostics("file:///other.qvr") == []
    # a new run of the entry clears it
    run = await manager.start(request("ok", steps=2))
    assert manager.extra_diagnostics("file:///m.qvr") == []
    await finish(run)


async def test_second_run_of_same_entry_gets_the_run_in_progress(tmp_path):
    rec = Recorder()
    manager = RunManager(rec, runs_root=str(tmp_path))
    first = await manager.start(request("hang"))
    second = await manager.start(request("ok", steps=3))
    assert second is first and first.outcome is None and pid_alive(first.pid)
    assert manager.active == {("file:///m.qvr", "lm"): first}
    await manager.cancel()
    assert first.outcome.status == "cancelled" and not pid_alive(first.pid)
    third = await manager.start(request("ok", steps=3))  # once it is over, the entry runs again
    assert third is not first and (await finish(third)).ok


async def test_missing_interpreter_is_a_clear_failure(tmp_path, monkeypatch):
    monkeypatch.delenv(runs.WORKER_ENV)
    manager = RunManager(Recorder(), runs_root=str(tmp_path))
    run = await manager.start(request(python=str(tmp_path / "no-such-python")))
    assert run.task is None and run.outcome.status == "failed"
    assert "could not start the worker" in run.outcome.message


async def test_error_in_another_file_gives_no_diagnostic(tmp_path):
    rec = Recorder()
    manager = RunManager(rec, runs_root=str(tmp_path))
    outcome = await finish(await manager.start(request("data-error")))
    assert outcome.status == "failed"
    assert "failed (data.pt:3): token 300 out of range" in outcome.message
    assert outcome.error_line == 3
    assert manager.extra_diagnostics("file:///m.qvr") == [] and rec.changed == []
