"""LSP wiring for model runs: the ``qvr.run.*`` commands, progress, results and settings.

``register(server)`` (called by ``qvr_lsp.server.create_server`` with the other handlers) adds:

* ``workspace/executeCommand`` commands ``qvr.run.svi``, ``qvr.run.sample``, ``qvr.run.nuts``
  (argument ``{"uri", "entry"}``), ``qvr.run.cancel`` (optional ``{"uri"?, "entry"?}``; none:
  every run), and the two commands code lenses use: ``qvr.run.check`` (summarise an entry's
  diagnostics) and ``qvr.run.disabled`` (explain why a lens is disabled);
* ``server.runs``: the `RunService`, whose ``extra_diagnostics(uri)`` the diagnostics publisher
  merges into a document's diagnostics and whose ``update_settings(values)`` the server calls
  with ``initializationOptions`` and ``workspace/didChangeConfiguration`` settings.

Each run is a worker process managed by `qvr_lsp.runs.RunManager`; this module turns its life
into LSP: a server-initiated, cancellable ``$/progress`` (``window/workDoneProgress/create``),
a ``qvr/runFinished`` notification for clients that render results (the VS Code extension), a
``window/showMessage`` summary for those that do not, and republished diagnostics when a failed
run points at a line. Settings (``qvr.run.*``) are read with ``workspace/configuration`` at each
run when the client supports it, on top of those pushed by the client.

Where settings come from, and which may name the interpreter (``qvr.run.python``, which the
worker executes; default: the server's own interpreter, ``sys.executable``):

* ``initializationOptions`` (``{"run": {...}}``): written by the user's editor configuration
  that starts the server; every setting, ``python`` included;
* ``workspace/configuration`` with a ``scopeUri`` (the document being run): the client's
  answer for that resource, folder and workspace settings included, so a folder the user
  merely opened can write it (``.vscode/settings.json``, a project-local config); every
  setting except ``python``;
* ``workspace/configuration`` without a ``scopeUri``, asked for ``qvr.run.python`` alone: the
  client's global settings (the user's own); ``python`` only;
* ``workspace/didChangeConfiguration`` pushes: the client's view of the settings, which for
  VS Code includes the workspace's; every setting except ``python``.

A value of the wrong type is ignored with a warning in the log (once per setting and value),
and so is a ``python`` from a source that may not set it (`RunSettings.merged`).

The same pushes carry ``qvr.diagnostics.codeDescriptionBaseUrl`` (``{"diagnostics":
{"codeDescriptionBaseUrl": ...}}`` in ``initializationOptions``, under ``qvr`` in
``didChangeConfiguration``): where docs/diagnostics.md is published. With it every diagnostic
with a catalogued code links to its section (LSP ``codeDescription``, `qvr_lsp.convert`);
`RunService.code_description_base` keeps it and the open documents' diagnostics are sent again
when it changes.
"""
from __future__ import annotations

import asyncio
import atexit
import logging
import os
import time
from typing import TYPE_CHECKING, Any, Callable

from lsprotocol import types
from pygls.exceptions import JsonRpcException

from qvr.syntax.ast import Var

from . import client_contract as contract

if TYPE_CHECKING:
    from .features.code_lens import Lens
    from .runs import Run, RunManager, RunOutcome, RunSettings

log = logging.getLogger(__name__)

RUN_FINISHED = contract.RUN_FINISHED_NOTIFICATION
COMMANDS = {kind: run["command"] for kind, run in contract.RUNS.items()}
CANCEL = contract.CANCEL_COMMAND
CHECK = contract.CHECK_COMMAND
DISABLED = contract.DISABLED_COMMAND

_REPORT_INTERVAL = 0.1  # seconds between two progress reports: a fast SVI loop must not flood
_CLIENT_TIMEOUT = 5.0  # seconds to wait for the client to answer a server-initiated request


class RunCommandError(JsonRpcException):
    """A run command that cannot do what was asked; the client shows the message."""

    CODE = -32803  # LSP ErrorCodes.RequestFailed
    MESSAGE = "Request failed"


def register(server) -> "RunService":
    """Add the run layer to a pygls `LanguageServer`; returns the service (``server.runs``).

    The run layer owns these handlers, which the server (`qvr_lsp.server.create_server`)
    leaves to it: the run commands, ``textDocument/codeLens`` (the lenses show the run state),
    ``initialize`` (settings from ``initializationOptions``), ``workspace/didChangeConfiguration``
    and ``shutdown`` (running workers are stopped politely). pygls allows one handler per
    method, so a server that registered one of these itself cannot take the run layer.
    """
    # (the lenses read the full analysis, computed in slices; they are made in the worker)
    from .scheduling import after, answer_in_worker

    service = RunService(server)
    server.runs = service

    for kind, command in COMMANDS.items():
        server.command(command)(service.command_handler(kind))

    @server.command(CANCEL)
    async def cancel_runs(ls, *args):
        return await service.cancel_command(args)

    @server.command(CHECK)
    def check_entry(ls, *args):
        return service.check_command(args)

    @server.command(DISABLED)
    def explain_disabled(ls, *args):
        return service.disabled_command(args)

    @server.feature(types.TEXT_DOCUMENT_CODE_LENS)
    @after("analysis")
    async def code_lens_handler(ls, params: types.CodeLensParams):
        try:
            uri = params.text_document.uri
            await service.settings_for(uri)  # is running allowed (workspace trust)?
            doc = service._document(uri)
            if doc is None:
                return []
            return await answer_in_worker(ls, doc, service.lsp_lens_maker(doc))
        except JsonRpcException:
            raise
        except Exception:
            log.exception("code lenses failed")
            return []

    @server.feature(types.INITIALIZE)
    def initialize_handler(ls, params: types.InitializeParams):
        service.update_settings(params.initialization_options, from_initialization=True)

    @server.feature(types.WORKSPACE_DID_CHANGE_CONFIGURATION)
    def did_change_configuration_handler(ls, params: types.DidChangeConfigurationParams):
        service.update_settings(params.settings)
        service._refresh_lenses()

    @server.feature(types.SHUTDOWN)
    async def shutdown_handler(ls, *args):
        if service.has_manager:  # (no run was ever started otherwise)
            await service.manager.cancel()

    atexit.register(service.shutdown)  # no worker outlives the server, however it exits
    return service


def _single_object(args: tuple, command: str, *, required: bool) -> dict:
    if not args:
        if required:
            raise RunCommandError(
                f"{command} needs an argument {{\"uri\": ..., \"entry\": ...}}: run it from a "
                "code lens, or pass the document uri and the program name")
        return {}
    first = args[0]
    if not isinstance(first, dict) or len(args) > 1:
        raise RunCommandError(f"{command} takes one object argument {{\"uri\", \"entry\"}}, "
                              f"got {list(args)!r}")
    return first


class RunService:
    """The server's run state: settings, the run manager, and the LSP reporting of runs.

    The run machinery (`qvr_lsp.runs`, and `qvr.run.contract` through it) is loaded when the
    settings or the manager are first used (a code lens, a run command), not at start-up:
    the first diagnostics need none of it (about 8 ms of the start-up, with the tempfile and
    shutil it imports). Settings pushed before that are kept as they came and merged, in
    order, on first use."""

    def __init__(self, server):
        self.server = server
        self.client_renders_results = False
        self._settings: RunSettings | None = None
        self._pushed: list[tuple[Any, bool]] = []  # (values, from_initialization), not merged yet
        self._manager: RunManager | None = None
        self._warned: set[str] = set()
        #: qvr.diagnostics.codeDescriptionBaseUrl: None (the default) links no diagnostic
        self.code_description_base: str | None = None

    @property
    def settings(self) -> RunSettings:
        """The run settings: the defaults, updated by every push so far."""
        if self._settings is None:
            from .runs import RunSettings

            settings = RunSettings()
            for values, from_initialization in self._pushed:
                settings = settings.merged(values, allow_python=from_initialization,
                                           warn=self._warn_once)
            self._settings, self._pushed = settings, []
        return self._settings

    @property
    def manager(self) -> RunManager:
        """The run manager (made on first use)."""
        if self._manager is None:
            from .runs import RunManager

            self._manager = RunManager(_LspReporter(self),
                                       max_concurrent=self.settings.max_concurrent)
        return self._manager

    @property
    def has_manager(self) -> bool:
        """Whether the manager was made (before that, no run was started)."""
        return self._manager is not None

    # -- settings --------------------------------------------------------------------------------
    def update_settings(self, values: Any, *, from_initialization: bool = False) -> None:
        """Merge pushed settings: ``initializationOptions`` (`from_initialization`: the only
        push that may set ``qvr.run.python``) or ``didChangeConfiguration``'s ``settings``
        (``{"qvr": {"run": {...}}}``, ``{"run": {...}}`` or the run object).

        ``initializationOptions`` may also say ``"runFinishedNotification": true``: the client
        shows ``qvr/runFinished`` itself (the VS Code extension), so the summary goes to the log
        instead of a second pop-up."""
        if self._settings is None:
            self._pushed.append((values, from_initialization))  # merged on first use
        else:
            self._set_settings(self._settings.merged(values, allow_python=from_initialization,
                                                     warn=self._warn_once))
        self._update_diagnostic_settings(values)
        if isinstance(values, dict) and contract.RUN_FINISHED_OPTION in values:
            value = values[contract.RUN_FINISHED_OPTION]
            if isinstance(value, bool):
                self.client_renders_results = value
            else:
                self._warn_once(f"runFinishedNotification: {value!r} is not true or false; "
                                f"keeping {str(self.client_renders_results).lower()}")

    def _update_diagnostic_settings(self, values: Any) -> None:
        """Take ``codeDescriptionBaseUrl`` from a pushed ``diagnostics`` section (``{"qvr":
        {"diagnostics": …}}`` or ``{"diagnostics": …}``): a non-empty string is the base, null
        or "" none; anything else is ignored with a warning. A change republishes every open
        document's diagnostics, so that links appear (or go) without an edit."""
        if not isinstance(values, dict):
            return
        if isinstance(values.get("qvr"), dict):
            values = values["qvr"]
        section = values.get("diagnostics")
        key = contract.CODE_DESCRIPTION_SETTING.removeprefix("qvr.diagnostics.")
        if not isinstance(section, dict) or key not in section:
            return
        value = section[key]
        if value is not None and not isinstance(value, str):
            self._warn_once(f"{contract.CODE_DESCRIPTION_SETTING}: {value!r} is not a string; "
                            f"keeping {self.code_description_base!r}")
            return
        base = value.strip() or None if value is not None else None
        if base == self.code_description_base:
            return
        self.code_description_base = base
        store = getattr(self.server, "documents", None)
        for doc in (store.all() if store is not None else ()):
            self._republish(doc.uri)

    def _set_settings(self, settings: RunSettings) -> None:
        self._settings = settings
        if self._manager is not None and settings.max_concurrent != self._manager.max_concurrent:
            self._manager.set_max_concurrent(settings.max_concurrent)

    def _warn_once(self, message: str) -> None:
        if message not in self._warned:
            self._warned.add(message)
            log.warning("ignored setting: %s", message)

    def _capability(self, *path: str) -> Any:
        node = getattr(self.server, "client_capabilities", None)
        for name in path:
            node = getattr(node, name, None)
        return node

    async def settings_for(self, uri: str | None) -> RunSettings:
        """Pushed settings, overridden by what ``workspace/configuration`` says for `uri`, and
        the interpreter by what it says without a scope (see the module docstring)."""
        settings = self.settings
        if not self._capability("workspace", "configuration"):
            return settings
        scoped, user = await asyncio.gather(
            self._configuration(types.ConfigurationItem(scope_uri=uri, section="qvr.run")),
            self._configuration(types.ConfigurationItem(section="qvr.run.python")))
        if isinstance(scoped, dict) and scoped.get("python") in (None, "", user):
            # what the client says for every scope (VS Code answers with effective values):
            # the user's own, taken below, not a workspace's to warn about
            scoped = {k: v for k, v in scoped.items() if k != "python"}
        if scoped is not None:
            settings = settings.merged(scoped, warn=self._warn_once)
        if user is not None and user != "":  # unset (null, ""): keep initializationOptions'
            settings = settings.merged({"python": user}, allow_python=True, warn=self._warn_once)
        self._set_settings(settings)  # the latest word on the settings, pushed or pulled
        return settings

    async def _configuration(self, item: types.ConfigurationItem) -> Any:
        """The client's answer for one ``workspace/configuration`` item; None when it fails
        (the pushed settings stay)."""
        try:
            result = await asyncio.wait_for(self.server.workspace_configuration_async(
                types.ConfigurationParams(items=[item])), _CLIENT_TIMEOUT)
        except Exception as exc:
            log.info("workspace/configuration failed (%s); using pushed settings", exc)
            return None
        return result[0] if isinstance(result, (list, tuple)) and result else None

    def runs_enabled(self) -> bool:
        return self.settings.enabled

    # -- documents -------------------------------------------------------------------------------
    def _document(self, uri: str):
        store = getattr(self.server, "documents", None)
        return store.get(uri) if store is not None else None

    def _source(self, uri: str) -> tuple[str, Any, str | None]:
        """(text, analysis or None, filesystem path or None) of the document to run."""
        doc = self._document(uri)
        if doc is not None:
            return doc.text, doc.analysis, doc.path
        from .documents import uri_to_path  # a file that is not open is run from disk

        path = uri_to_path(uri)
        if not path or not os.path.isfile(path):
            raise RunCommandError(f"cannot run {uri}: it is neither open nor a readable file")
        from qvr.syntax.span import normalize

        with open(path, encoding="utf-8") as f:
            text = normalize(f.read())
        from qvr.semantics import analyze

        return text, analyze(text), path

    def _workspace_root(self) -> str | None:
        try:
            return self.server.workspace.root_path
        except Exception:
            return None

    # -- commands --------------------------------------------------------------------------------
    def command_handler(self, kind: str):
        async def run_command(ls, *args):
            return await self.run_command(kind, args)

        run_command.__name__ = f"run_{kind}"
        return run_command

    async def run_command(self, kind: str, args: tuple) -> dict:
        command = COMMANDS[kind]
        arg = _single_object(args, command, required=True)
        uri, entry = arg.get("uri"), arg.get("entry")
        if not isinstance(uri, str) or not uri or not isinstance(entry, str) or not entry:
            raise RunCommandError(f"{command} needs both \"uri\" and \"entry\" (a program or "
                                  f"definition name), got {arg!r}")
        settings = await self.settings_for(uri)
        if not settings.enabled:
            from .features.code_lens import RUNS_OFF_MESSAGE

            raise RunCommandError(RUNS_OFF_MESSAGE)
        text, analysis, path = self._source(uri)
        if analysis is not None:
            self._check_runnable(analysis, entry)
        filename = os.path.basename(path) if path else "untitled.qvr"
        cwd = self._workspace_root() or (os.path.dirname(path) if path else None)
        from .runs import RunRequest

        request = RunRequest(uri=uri, entry=entry, kind=kind, text=text, settings=settings,
                             filename=filename, cwd=cwd if cwd and os.path.isdir(cwd) else None,
                             out_dir=_results_dir(path, entry, kind))
        run = await self.manager.start(request)
        if run.request is not request:  # this entry has a run queued or in progress
            if not run.queued:
                await run.spawned.wait()  # answer with its worker's pid, as its own request did
            return {"started": False, "running": True, "queued": run.queued, "id": run.id,
                    "pid": run.pid, "uri": uri, "entry": entry, "kind": run.request.kind,
                    "token": _token(run),
                    "message": f"{run.label} is already in progress; cancel it to start again"}
        self._refresh_lenses()
        started = run.outcome is None
        return {"started": started, "queued": run.queued and started, "id": run.id,
                "pid": run.pid, "uri": uri, "entry": entry, "kind": kind,
                "token": _token(run) if started else None,
                "message": None if started else run.outcome.message}

    @staticmethod
    def _check_runnable(analysis, entry: str) -> None:
        known = set(analysis.programs) | set(analysis.defines)
        export = analysis.export
        if export is not None and export.expr.__class__ is Var:  # `export m` of a morphism
            known.add(export.expr.name.text)
        if entry not in known:
            names = ", ".join(sorted(known)) or "none"
            raise RunCommandError(f"no program or definition named {entry!r} in this file "
                                  f"(runnable: {names})")
        errors = [d for d in analysis.diagnostics if d.severity == 1]
        if errors:
            first = errors[0]
            line, col = analysis.line_index.position(first.span.start)
            raise RunCommandError(
                f"cannot run {entry}: the file has {len(errors)} error(s); first at "
                f"{line + 1}:{col + 1}: {first.code}: {first.message}")

    async def cancel_command(self, args: tuple) -> dict:
        arg = _single_object(args, CANCEL, required=False)
        uri, entry = arg.get("uri"), arg.get("entry")
        cancelled = await self.manager.cancel(uri=uri, entry=entry)
        return {"cancelled": [{"uri": r.request.uri, "entry": r.request.entry,
                               "kind": r.request.kind, "pid": r.pid} for r in cancelled]}

    def check_command(self, args: tuple) -> dict:
        arg = _single_object(args, CHECK, required=True)
        uri, entry = arg.get("uri"), arg.get("entry")
        doc = self._document(uri) if isinstance(uri, str) else None
        analysis = doc.analysis if doc is not None else None
        if analysis is None:
            raise RunCommandError(f"{CHECK}: {uri!r} is not an open, analysed QVR document")
        from .features import code_lens

        diagnostics = list(analysis.diagnostics) + self.extra_diagnostics(uri)
        scope = None
        for target in code_lens.targets(analysis):
            if target.entry == entry and target.scope is not None:
                scope = target.scope
        if scope is not None:
            diagnostics = [d for d in diagnostics if code_lens.overlaps(d.span, scope)]
        summary = code_lens.count_summary(diagnostics)
        lines = [f"{entry or 'file'}: {summary}"]
        for d in diagnostics[:5]:
            line, col = analysis.line_index.position(d.span.start)
            lines.append(f"{line + 1}:{col + 1} {d.code}: {d.message}")
        if len(diagnostics) > 5:
            lines.append(f"… and {len(diagnostics) - 5} more")
        message = "\n".join(lines)
        worst = min((int(d.severity) for d in diagnostics), default=4)
        self._show(message, types.MessageType.Error if worst == 1 else
                   types.MessageType.Warning if worst == 2 else types.MessageType.Info)
        return {"entry": entry, "summary": summary, "count": len(diagnostics)}

    def disabled_command(self, args: tuple) -> dict:
        arg = _single_object(args, DISABLED, required=False)
        reason = arg.get("reason") or "this run is not available"
        self._show(str(reason), types.MessageType.Warning)
        return {"reason": reason}

    # -- lenses and diagnostics ------------------------------------------------------------------
    def active_entries(self, uri: str) -> dict[str, str]:
        """entry → kind of the runs going on in `uri` (for the code lenses)."""
        return {entry: run.request.kind
                for (run_uri, entry), run in self.manager.active.items() if run_uri == uri}

    def code_lenses(self, doc) -> list[Lens]:
        """The lenses of an open document, with the run state folded in (the server's
        ``textDocument/codeLens`` handler converts them)."""
        return self._lens_maker(doc)()

    def _lens_maker(self, doc) -> Callable[[], list[Lens]]:
        """`code_lenses` as a function that reads the document's analysis and what is read of
        the run state here, nothing else: it may run in the worker thread."""
        from .features import code_lens

        analysis = doc.analysis
        if analysis is None:
            return list
        diagnostics = list(analysis.diagnostics) + self.extra_diagnostics(doc.uri)
        enabled, active = self.runs_enabled(), self.active_entries(doc.uri)
        return lambda: code_lens.code_lenses(analysis, doc.uri, diagnostics=diagnostics,
                                             runs_enabled=enabled, active=active)

    def lsp_code_lenses(self, doc) -> list[types.CodeLens]:
        """`code_lenses` as LSP ``CodeLens`` objects, in the negotiated position encoding."""
        return self.lsp_lens_maker(doc)()

    def lsp_lens_maker(self, doc) -> Callable[[], list[types.CodeLens]]:
        """`lsp_code_lenses` as a function that may run in the worker thread (see
        `_lens_maker`): a file of megabytes has tens of thousands of lenses."""
        lenses, encoder, index = self._lens_maker(doc), self._encoder(), doc.line_index

        def make() -> list[types.CodeLens]:
            out = []
            for lens in lenses():
                (l1, c1), (l2, c2) = encoder.span_to_lsp(index, lens.span)
                out.append(types.CodeLens(
                    range=types.Range(types.Position(l1, c1), types.Position(l2, c2)),
                    command=types.Command(title=lens.title, command=lens.command,
                                          arguments=list(lens.arguments))))
            return out

        return make

    def _encoder(self):
        encoder = getattr(self.server, "encoder", None)
        if encoder is not None:
            return encoder
        from .positions import PositionEncoder

        try:
            return PositionEncoder(self.server.workspace.position_encoding)
        except Exception:
            return PositionEncoder()

    def extra_diagnostics(self, uri: str) -> list:
        """Run diagnostics (plain `qvr.diagnostics.Diagnostic`) to publish with `uri`'s own;
        only those from a run of the document's current text."""
        if self._manager is None:
            return []  # no run was started
        doc = self._document(uri)
        return self._manager.extra_diagnostics(uri, doc.text if doc is not None else None)

    def _refresh_lenses(self) -> None:
        if self._capability("workspace", "code_lens", "refresh_support"):
            try:
                self.server.workspace_code_lens_refresh(None)
            except Exception as exc:
                log.info("codeLens/refresh failed: %s", exc)

    def _republish(self, uri: str) -> None:
        """Publish `uri`'s diagnostics again, run diagnostics included."""
        publish = getattr(self.server, "publish_diagnostics_for", None)
        if callable(publish):  # the server merges extra_diagnostics itself
            publish(uri)
            return
        doc = self._document(uri)
        if doc is None:
            return
        from . import convert
        from .features.diagnostics import document_diagnostics

        encoder = self._encoder()
        try:
            own = document_diagnostics(doc)
        except Exception:
            log.exception("diagnostics failed for %s", uri)
            own = []
        merged = [convert.diagnostic(encoder, doc, d, self.code_description_base)
                  for d in list(own) + self.extra_diagnostics(uri)]
        self.server.text_document_publish_diagnostics(types.PublishDiagnosticsParams(
            uri=uri, diagnostics=merged, version=doc.version))

    def _show(self, message: str, kind: types.MessageType) -> None:
        self.server.window_show_message(types.ShowMessageParams(type=kind, message=message))

    def shutdown(self) -> None:
        """Kill all workers (call from the server's shutdown/exit path)."""
        if self._manager is not None:
            self._manager.shutdown_now()


def _results_dir(path: str | None, entry: str, kind: str) -> str | None:
    """``runs/<entry>-<kind>-<UTC time>`` next to the document, the folder ``qvr run`` itself
    would choose (`qvr.run.contract.results_dir`); None (a temporary directory) for a document
    that is not a file in an existing folder."""
    folder = os.path.dirname(path) if path else None
    if not folder or not os.path.isdir(folder):
        return None
    from qvr.run.contract import results_dir

    return str(results_dir(folder, entry, kind))


def _token(run: Run) -> str:
    return f"qvr-run-{run.id}"


class _LspReporter:
    """`RunReporter` over LSP: work-done progress, messages, notifications, diagnostics."""

    def __init__(self, service: RunService):
        self.service = service
        self._last_report: dict[str, float] = {}
        self._progress: set[str] = set()  # tokens the client accepted

    @property
    def server(self):
        return self.service.server

    async def begin(self, run: Run, title: str, message: str) -> None:
        token = _token(run)
        if not self.service._capability("window", "work_done_progress"):
            self.server.window_log_message(types.LogMessageParams(
                type=types.MessageType.Info, message=f"{title}: {message}"))
            return
        progress = self.server.work_done_progress
        try:
            await asyncio.wait_for(progress.create_async(token), _CLIENT_TIMEOUT)
        except Exception as exc:
            log.info("window/workDoneProgress/create failed (%s); no progress shown", exc)
            return
        self._progress.add(token)
        progress.begin(token, types.WorkDoneProgressBegin(
            title=title, message=message, cancellable=True, percentage=0))
        # pygls cancels this future when the client sends window/workDoneProgress/cancel
        future = progress.tokens.get(token)
        if future is not None:
            loop = asyncio.get_running_loop()
            manager = self.service.manager

            def on_cancel(fut, run=run):
                if fut.cancelled() and run.outcome is None:
                    loop.call_soon_threadsafe(
                        lambda: asyncio.ensure_future(
                            manager.stop(run, "cancelled from the progress UI",
                                         status="cancelled")))

            future.add_done_callback(on_cancel)

    def report(self, run: Run, message: str, percentage: int | None) -> None:
        token = _token(run)
        if token not in self._progress:
            return
        now = time.monotonic()
        if now - self._last_report.get(token, 0.0) < _REPORT_INTERVAL and percentage != 100:
            return
        self._last_report[token] = now
        self.server.work_done_progress.report(
            token, types.WorkDoneProgressReport(message=message, percentage=percentage))

    def end(self, run: Run, message: str) -> None:
        token = _token(run)
        self._last_report.pop(token, None)
        if token not in self._progress:
            return
        self._progress.discard(token)
        progress = self.server.work_done_progress
        progress.end(token, types.WorkDoneProgressEnd(message=message))
        progress.tokens.pop(token, None)

    def finished(self, run: Run, outcome: RunOutcome) -> None:
        kind = (types.MessageType.Info if outcome.status in ("ok", "cancelled")
                else types.MessageType.Error)
        message = outcome.message
        if outcome.ok and outcome.curve_path:
            from qvr.run.contract import METRIC_TITLES

            message += f" ({METRIC_TITLES[outcome.metric]} curve: {outcome.curve_path})"
        # the message first: a client that sees qvr/runFinished has everything by then
        if self.service.client_renders_results:
            self.server.window_log_message(types.LogMessageParams(type=kind, message=message))
        else:
            self.service._show(message, kind)
        self.server.protocol.notify(RUN_FINISHED, outcome.to_notification())
        self.service._refresh_lenses()

    def diagnostics_changed(self, uri: str) -> None:
        self.service._republish(uri)
