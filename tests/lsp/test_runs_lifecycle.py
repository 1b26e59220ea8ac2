"""Runs that cannot escape: one run per entry under concurrent requests, a cap on concurrent
workers with a queue, no files left behind, strict settings, who may choose the interpreter,
workers that die with the server however it dies, and the worker's progress cadence.

Most tests use the fake worker (tests/lsp/fixtures/fake_qvr_worker.py). They wait on events
(a report, an answer, a process's exit); time appears only in hang guards.
"""
from __future__ import annotations

import asyncio
import json
import logging
import os
import shlex
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from types import SimpleNamespace

import pytest
from raw_client import RawServer
from test_runs_protocol import as_dict, execute, fake_worker_env, open_doc, session

from qvr_lsp import runs
from qvr_lsp.run_commands import RunService
from qvr_lsp.runs import RunManager, RunRequest, RunSettings

from lsp_fixtures import FAKE_WORKER, RUN_MODEL as MODEL  # noqa: E402
GUARD_S = 30.0



@pytest.fixture(autouse=True)
def fake_worker(monkeypatch):
    monkeypatch.setenv(runs.WORKER_ENV, f"{shlex.quote(sys.executable)} {shlex.quote(str(FAKE_WORKER))}")


class Recorder:
    """A RunReporter that remembers what it is told and lets a test wait for it."""

    def __init__(self):
        self.events: list[tuple] = []
        self._changed = asyncio.Event()

    def _note(self, event: tuple) -> None:
        self.events.append(event)
        self._changed.set()

    async def until(self, predicate) -> None:
        async def wait():
            while not predicate():
                self._changed.clear()
                await self._changed.wait()

        await asyncio.wait_for(wait(), GUARD_S)

    async def begin(self, run, title, message):
        self._note(("begin", run.request.entry, message))

    def report(self, run, message, percentage):
        self._note(("report", run.request.entry, message))

    def end(self, run, message):
        self._note(("end", run.request.entry, message))

    def finished(self, run, outcome):
        self._note(("finished", run.request.entry, outcome.status))

    def diagnostics_changed(self, uri):
        pass


def request(mode="hang", *, entry="lm", uri="file:///m.qvr", out_dir=None, **settings):
    return RunRequest(uri=uri, entry=entry, kind="svi", text=f"# fake-worker: {mode}\n" + MODEL,
                      settings=RunSettings(**settings), filename="m.qvr", out_dir=out_dir)


def gone(pid: int) -> bool:
    """Whether process `pid` has ended (a zombie waiting for a parent to reap it counts)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rpartition(")")[2].split()[0] == "Z"
    except OSError:
        return True


def wait_until_gone(pid: int) -> bool:
    deadline = time.monotonic() + GUARD_S
    while not gone(pid):
        if time.monotonic() > deadline:
            return False
        os.sched_yield()
    return True


# --------------------------------------------------------------------- one run per entry ----
async def test_concurrent_requests_for_one_entry_start_one_worker(tmp_path):
    manager = RunManager(Recorder(), runs_root=str(tmp_path))
    first, second = await asyncio.gather(manager.start(request()), manager.start(request("ok")))
    assert second is first and first.request.text.startswith("# fake-worker: hang")
    assert list(manager.active.values()) == [first]
    assert first.pid is not None and not gone(first.pid)
    [cancelled] = await manager.cancel()
    assert cancelled is first and gone(first.pid)


@pytest.mark.process
async def test_a_second_command_for_a_running_entry_answers_with_the_run_in_progress(tmp_path):
    uri = (tmp_path / "model.qvr").as_uri()
    async with session() as client:
        open_doc(client, uri, "# fake-worker: hang\n" + MODEL)
        first, second = await asyncio.gather(
            execute(client, "qvr.run.svi", {"uri": uri, "entry": "lm"}),
            execute(client, "qvr.run.nuts", {"uri": uri, "entry": "lm"}))
        first, second = as_dict(first), as_dict(second)
        assert first["started"] is True and first["queued"] is False
        assert second == {"started": False, "running": True, "queued": False, "id": first["id"],
                          "pid": first["pid"], "uri": uri, "entry": "lm", "kind": "svi",
                          "token": first["token"],
                          "message": "Run SVI lm is already in progress; cancel it to start again"}
        cancelled = as_dict(await execute(client, "qvr.run.cancel"))["cancelled"]
        assert [as_dict(c)["pid"] for c in cancelled] == [first["pid"]]
        assert gone(first["pid"])


# ------------------------------------------------------------------ cap and queue ----
async def test_runs_beyond_the_cap_are_queued_and_start_when_a_slot_frees(tmp_path):
    rec = Recorder()
    manager = RunManager(rec, runs_root=str(tmp_path), max_concurrent=2)
    a = await manager.start(request(entry="a"))
    b = await manager.start(request(entry="b"))
    c = await manager.start(request(entry="c"))
    assert [r.queued for r in (a, b, c)] == [False, False, True]
    assert a.pid and b.pid and c.pid is None
    assert ("begin", "c", runs.QUEUED_MESSAGE) in rec.events
    await manager.stop(a, "cancelled", status="cancelled")
    await rec.until(lambda: ("report", "c", "c on cpu: 20 steps") in rec.events)
    assert not c.queued and c.pid is not None and not gone(c.pid)
    assert [e for e in rec.events if e[1] == "c"][:3] == [
        ("begin", "c", "queued"), ("report", "c", "starting worker (default device)"),
        ("report", "c", "c on cpu: 20 steps")]
    cancelled = await manager.cancel()
    assert sorted(r.request.entry for r in cancelled) == ["b", "c"]
    assert gone(b.pid) and gone(c.pid)


async def test_a_queued_run_cancelled_never_starts(tmp_path):
    rec = Recorder()
    manager = RunManager(rec, runs_root=str(tmp_path), max_concurrent=1)
    a = await manager.start(request(entry="a"))
    b = await manager.start(request(entry="b"))
    await manager.stop(b, "cancelled", status="cancelled")
    assert b.outcome.status == "cancelled" and b.process is None and manager.active == {("file:///m.qvr", "a"): a}
    await manager.cancel()
    assert [e for e in rec.events if e[1] == "b"] == [
        ("begin", "b", "queued"), ("end", "b", "Run SVI b: cancelled"), ("finished", "b", "cancelled")]


@pytest.mark.process
async def test_the_cap_is_the_max_concurrent_setting_and_queued_runs_are_reported(tmp_path):
    uri = (tmp_path / "model.qvr").as_uri()
    async with session(config={"qvr": {"run": {"maxConcurrent": 1}}}) as client:
        text = "# fake-worker: hang\n" + MODEL + "program other : Token -> Token\n    observe z : Token <- head\n    return z\n"
        open_doc(client, uri, text)
        first = as_dict(await execute(client, "qvr.run.svi", {"uri": uri, "entry": "lm"}))
        second = as_dict(await execute(client, "qvr.run.svi", {"uri": uri, "entry": "other"}))
        assert (first["started"], first["queued"]) == (True, False) and first["pid"]
        assert (second["started"], second["queued"], second["pid"]) == (True, True, None)
        assert client.progress_reports[second["token"]][0].message == "queued"
        await execute(client, "qvr.run.cancel")


# ---------------------------------------------------------------------- cleanup ----
async def test_a_cancelled_run_leaves_no_snapshot_and_no_empty_results_folder(tmp_path):
    project = tmp_path / "project"
    project.mkdir()
    out_dir = project / "runs" / "lm-svi-20260101-000000"
    manager = RunManager(Recorder(), runs_root=str(tmp_path / "tmp"))
    run = await manager.start(request(out_dir=str(out_dir)))
    assert Path(run.snapshot_path).is_file() and out_dir.is_dir()
    await manager.cancel()
    assert not Path(run.work_dir).exists()
    assert sorted(p.name for p in project.iterdir()) == []  # runs/ and the run's folder
    assert list((tmp_path / "tmp").iterdir()) == []


async def test_results_are_kept_and_a_folder_that_was_there_stays(tmp_path):
    (tmp_path / "runs").mkdir()
    out_dir = tmp_path / "runs" / "done"
    manager = RunManager(Recorder(), runs_root=str(tmp_path / "tmp"))
    run = await manager.start(request("ok", out_dir=str(out_dir), steps=2))
    await asyncio.wait_for(run.finished.wait(), GUARD_S)
    assert run.outcome.ok and sorted(p.name for p in out_dir.iterdir()) == ["summary.json"]
    cancelled = await manager.start(request(out_dir=str(tmp_path / "runs" / "cancelled")))
    await manager.cancel()
    assert not Path(cancelled.out_dir).exists() and (tmp_path / "runs").is_dir()


# ---------------------------------------------------------------------- settings ----
def service() -> RunService:
    return RunService(SimpleNamespace(client_capabilities=None))


def test_boolean_settings_are_strict_and_warn_once(caplog):
    runs_service = service()
    caplog.set_level(logging.WARNING, logger="qvr_lsp.run_commands")
    for value in ("false", 0, None, "false"):
        runs_service.update_settings({"qvr": {"run": {"enabled": value}}})
        assert runs_service.settings.enabled is True  # the default, kept
    runs_service.update_settings({"runFinishedNotification": "yes"})
    assert runs_service.client_renders_results is False
    assert [r.getMessage() for r in caplog.records] == [
        'ignored setting: qvr.run.enabled: "false" is not true or false; keeping true',
        "ignored setting: qvr.run.enabled: 0 is not true or false; keeping true",
        "ignored setting: qvr.run.enabled: null is not true or false; keeping true",
        "ignored setting: runFinishedNotification: 'yes' is not true or false; keeping false"]
    runs_service.update_settings({"run": {"enabled": False}})
    runs_service.update_settings({"run": {"enabled": "true"}})  # ignored: stays off
    assert runs_service.settings.enabled is False


def test_number_settings_take_positive_numbers_only(caplog):
    runs_service = service()
    runs_service.update_settings({"run": {"maxConcurrent": 3, "steps": 1.5, "timeout": "9"}})
    assert (runs_service.settings.max_concurrent, runs_service.settings.steps,
            runs_service.settings.timeout) == (3, None, 120.0)
    assert runs_service.manager.max_concurrent == 3
    assert [r.getMessage() for r in caplog.records] == [
        "ignored setting: qvr.run.steps: 1.5 is not a positive integer; keeping null",
        'ignored setting: qvr.run.timeout: "9" is not a positive number; keeping 120.0']


def test_only_initialization_options_may_push_the_interpreter(caplog):
    runs_service = service()
    runs_service.update_settings({"qvr": {"run": {"python": "/workspace/.venv/bin/python"}}})
    assert runs_service.settings.python is None  # didChangeConfiguration: refused
    assert runs.worker_prefix(runs_service.settings)[0] != "/workspace/.venv/bin/python"
    runs_service.update_settings({"run": {"python": "/usr/bin/python3"}}, from_initialization=True)
    assert runs_service.settings.python == "/usr/bin/python3"
    assert [r.getMessage() for r in caplog.records] == [
        'ignored setting: qvr.run.python "/workspace/.venv/bin/python" is ignored: the '
        "interpreter is taken only from initializationOptions or the user's global settings, "
        "never from a workspace's"]


class ConfiguringServer(SimpleNamespace):
    """Answers workspace/configuration like a client with user and folder settings."""

    def __init__(self, user: dict, folder: dict):
        capabilities = SimpleNamespace(workspace=SimpleNamespace(configuration=True))
        super().__init__(client_capabilities=capabilities, asked=[])
        self.user, self.folder = user, folder

    async def workspace_configuration_async(self, params):
        [item] = params.items
        self.asked.append((item.scope_uri, item.section))
        settings = {**self.user, **self.folder} if item.scope_uri else self.user
        value = {"qvr": {"run": settings}}
        for part in item.section.split("."):
            value = value.get(part) if isinstance(value, dict) else None
        return [value]


@pytest.mark.parametrize("user, folder, python", [
    ({}, {"python": "/folder/evil"}, None),
    ({"python": "/home/me/py"}, {"python": "/folder/evil"}, "/home/me/py"),
    ({"python": "/home/me/py"}, {}, "/home/me/py"),
])
async def test_the_interpreter_comes_from_the_users_settings_never_a_folders(user, folder, python):
    server = ConfiguringServer(user, {**folder, "steps": 7})
    runs_service = RunService(server)
    settings = await runs_service.settings_for("file:///folder/model.qvr")
    assert (settings.python, settings.steps) == (python, 7)
    assert sorted(server.asked, key=str) == [("file:///folder/model.qvr", "qvr.run"), (None, "qvr.run.python")]


# ------------------------------------------------------------------- parent death ----
def start_hanging_run(server: RawServer, tmp_path: Path) -> int:
    """Start a run whose worker hangs once it has said `start`; its pid once it has."""
    server.initialize({"window": {"workDoneProgress": True}})
    uri = (tmp_path / "model.qvr").as_uri()
    server.send({"jsonrpc": "2.0", "method": "textDocument/didOpen", "params": {"textDocument": {
        "uri": uri, "languageId": "qvr", "version": 1, "text": "# fake-worker: hang\n" + MODEL}}})
    server.send({"jsonrpc": "2.0", "id": 2, "method": "workspace/executeCommand", "params": {
        "command": "qvr.run.svi", "arguments": [{"uri": uri, "entry": "lm"}]}})
    answer, started = None, False
    while answer is None or not started:  # the answer, and the progress of the start event
        message = server.message()
        assert message is not None, "the server's output ended"
        if message.get("method") == "window/workDoneProgress/create":
            server.send({"jsonrpc": "2.0", "id": message["id"], "result": None})
        elif message.get("id") == 2:
            answer = message["result"]
        elif message.get("method") == "$/progress":
            started = started or "lm on cpu" in (message["params"]["value"].get("message") or "")
    assert answer["started"] is True and not gone(answer["pid"])
    return answer["pid"]


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGKILL])
@pytest.mark.process
def test_workers_die_with_the_server(tmp_path, sig):
    temp = tmp_path / "tmp"
    temp.mkdir()
    server = RawServer(env={**fake_worker_env(), "TMPDIR": str(temp)})
    try:
        worker = start_hanging_run(server, tmp_path)
        assert [p.name[:8] for p in temp.iterdir()] == ["qvr-run-"]  # the snapshot
        os.kill(server.process.pid, sig)
        status, stderr = server.wait()
        assert status == -sig or status == 128 + sig, stderr
        assert wait_until_gone(worker), f"worker {worker} outlived the server ({sig.name})"
        if sig == signal.SIGTERM:  # the server could still clean up
            assert list(temp.iterdir()) == []
            assert stderr.splitlines() == ["WARNING:qvr_lsp:terminated by SIGTERM"]
    finally:
        server.kill()


# ------------------------------------------------------------------- hang timeout ----
@pytest.mark.slow
async def test_the_hang_timeout_counts_from_the_last_event_not_the_start(tmp_path):
    # 12 steps of 0.2 s: 2.4 s in all, far beyond the 1 s timeout, never 1 s silent
    manager = RunManager(Recorder(), runs_root=str(tmp_path))
    run = await manager.start(request("ok delay=0.2", steps=12, timeout=1.0))
    await asyncio.wait_for(run.finished.wait(), GUARD_S)
    assert run.outcome.status == "ok", run.outcome.message


# -------------------------------------------------------- the worker's progress cadence ----
CADENCE = textwrap.dedent("""
    import contextlib, io, json, sys, time as real_time
    from qvr.run import command, drivers

    class SlowClock:
        # every reading is 0.6 s after the last: each step of a loop looks slow
        now = 0.0
        def perf_counter(self):
            SlowClock.now += 0.6
            return SlowClock.now
        def __getattr__(self, name):
            return getattr(real_time, name)

    drivers.time = SlowClock()  # the fit loop's clock
    found = {}
    for kind, count, steps in (("--svi", "--steps", 1000), ("--sample", "--samples", 300)):
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            code = command.main([sys.argv[1], kind, count, str(steps), "--batch", "4",
                                "--json", "--out", sys.argv[2] + kind])
        events = [json.loads(line) for line in out.getvalue().splitlines()]
        found[kind] = [code, [e["step"] for e in events if e["event"] == "progress"]]
    print(json.dumps(found))
""")


@pytest.mark.slow
def test_the_worker_reports_progress_whenever_half_a_second_passed(tmp_path):
    pytest.importorskip("torch")
    model = Path(__file__).parents[1] / "infer" / "data" / "latent_regression.qvr"
    done = subprocess.run([sys.executable, "-c", CADENCE, str(model), str(tmp_path / "out")],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    found = json.loads(done.stdout)
    # SVI: 1000 steps report every 2nd step by count, and every step once 0.5 s has passed
    assert found["--svi"] == [0, list(range(1, 1001))]
    # sampling: chunks of 1% of the draws, each followed by a report
    assert found["--sample"] == [0, list(range(3, 301, 3))]
