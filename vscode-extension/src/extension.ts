/**
 * The QVR extension's entry point: starts qvr-lsp through vscode-languageclient, registers the
 * palette commands (run on the program under the cursor, cancel, show result, migrate,
 * restart), keeps the status bar item current and shows run results.
 *
 * Everything that can be decided without VS Code lives in the pure modules next to this one
 * (serverPath, entryAt, settings, runResult, statusText, resultsHtml, lossCurve); which entry
 * the cursor is in is the server's answer to `qvr/entryAt`, the same for every client.
 */
import * as vscode from "vscode";
import {
  DidChangeConfigurationNotification,
  ExecuteCommandRequest,
  LanguageClient,
  State,
} from "vscode-languageclient/node";
import { createClient, currentSettings, locateServer } from "./client";
import {
  CANCEL_RUN_PALETTE,
  ENTRY_AT_REQUEST,
  MIGRATE_PALETTE,
  PALETTE_RUN_COMMANDS,
  RESTART_PALETTE,
  RUN_KINDS,
  SHOW_LAST_RESULT_PALETTE,
} from "./contract";
import { EntryAt, parseEntryAt } from "./entryAt";
import { ResultsPanel } from "./resultsPanel";
import {
  CANCEL_COMMAND,
  MIGRATE_COMMAND,
  RUN_COMMANDS,
  RUN_FINISHED_NOTIFICATION,
  RunKind,
  RunResult,
  describeResult,
  parseRunResult,
} from "./runResult";
import { INSTALL_COMMAND } from "./serverPath";
import { ActiveRun, ServerState, statusFor } from "./statusText";

const LAST_RESULT_KEY = "qvr.lastResult";

interface TrackedRun extends ActiveRun {
  uri: string;
}

export class QvrExtension implements vscode.Disposable {
  private client: LanguageClient | undefined;
  private clientSubscriptions: vscode.Disposable[] = [];
  private serverState: ServerState = "starting";
  private runs: TrackedRun[] = [];
  private lastResult: RunResult | undefined;
  private readonly output = vscode.window.createOutputChannel("QVR Language Server");
  private readonly status = vscode.window.createStatusBarItem(vscode.StatusBarAlignment.Left, 10);
  private readonly results = new ResultsPanel();
  private readonly subscriptions: vscode.Disposable[] = [];

  constructor(private readonly context: vscode.ExtensionContext) {
    this.lastResult = context.workspaceState.get<RunResult>(LAST_RESULT_KEY);
    const register = (id: string, fn: () => unknown) =>
      this.subscriptions.push(vscode.commands.registerCommand(id, fn));
    for (const kind of RUN_KINDS) register(PALETTE_RUN_COMMANDS[kind], () => this.run(kind));
    register(CANCEL_RUN_PALETTE, () => this.cancel());
    register(SHOW_LAST_RESULT_PALETTE, () => this.showLastResult());
    register(MIGRATE_PALETTE, () => this.migrate());
    register(RESTART_PALETTE, () => this.restart());
    this.subscriptions.push(
      this.output,
      this.status,
      this.results,
      vscode.workspace.onDidGrantWorkspaceTrust(() => this.pushSettings()),
      vscode.workspace.onDidChangeConfiguration((e) => {
        if (e.affectsConfiguration("qvr.server.path")) void this.restart();
        else if (e.affectsConfiguration("qvr")) this.pushSettings();
      }),
    );
    this.renderStatus();
    this.status.show();
  }

  /** Locate and start the server; a clear message (with the install command) when missing. */
  async start(): Promise<void> {
    const location = locateServer();
    if (!location.found) {
      this.setServerState("missing");
      // Not awaited: activation must not wait for the user to answer.
      void Promise.resolve(vscode.window.showErrorMessage(location.message, "Open Settings", "Copy Install Command")).then((choice) => {
        if (choice === "Open Settings") {
          void vscode.commands.executeCommand("workbench.action.openSettings", "qvr.server.path");
        } else if (choice === "Copy Install Command") {
          void vscode.env.clipboard.writeText(INSTALL_COMMAND);
        }
      });
      return;
    }
    this.output.appendLine(`Starting ${location.command} (found via ${location.source})`);
    const client = createClient(location.command, this.output, {
      track: (command, args, send) => this.track(command, args, send),
    });
    this.client = client;
    this.clientSubscriptions.push(
      client.onDidChangeState((e) => {
        this.setServerState(e.newState === State.Running ? "running" : e.newState === State.Starting ? "starting" : "stopped");
      }),
    );
    this.setServerState("starting");
    try {
      await client.start();
      this.clientSubscriptions.push(
        client.onNotification(RUN_FINISHED_NOTIFICATION, (params: unknown) => this.runFinished(params)),
      );
      this.setServerState("running");
    } catch (err) {
      this.setServerState("stopped");
      void vscode.window.showErrorMessage(`QVR: the language server (${location.command}) failed to start: ${String(err)}`);
    }
  }

  async stop(): Promise<void> {
    const client = this.client;
    this.client = undefined;
    this.clientSubscriptions.forEach((d) => d.dispose());
    this.clientSubscriptions = [];
    this.runs = [];
    if (client) {
      try {
        await client.stop();
      } catch {
        // A server that already died cannot be stopped; it is gone either way.
      }
    }
  }

  async restart(): Promise<void> {
    await this.stop();
    await this.start();
  }

  dispose(): void {
    void this.stop();
    this.subscriptions.forEach((d) => d.dispose());
  }

  /** The run commands: ask the server which entry the cursor is in, then to run it. */
  private async run(kind: RunKind): Promise<void> {
    if (!vscode.workspace.isTrusted) {
      void vscode.window.showWarningMessage("QVR: model runs are disabled in untrusted workspaces.");
      return;
    }
    const editor = vscode.window.activeTextEditor;
    if (!editor || editor.document.languageId !== "qvr") {
      void vscode.window.showWarningMessage("QVR: open a .qvr file and put the cursor in a program to run it.");
      return;
    }
    const document = editor.document;
    const uri = document.uri.toString();
    const found = await this.entryAt(uri, editor.selection.active);
    if (found === undefined) return; // the request failed; the user has been told
    if (found === null) {
      void vscode.window.showWarningMessage(
        "QVR: no program or define under the cursor, and no export or single program to run instead.",
      );
      return;
    }
    // No save needed: the server runs the text it has, unsaved edits included.
    await this.executeOnServer(RUN_COMMANDS[kind], [{ uri, entry: found.name }]);
  }

  /** Ask the server which entry the cursor is in (`qvr/entryAt`); undefined after an error. */
  private async entryAt(uri: string, cursor: vscode.Position): Promise<EntryAt | null | undefined> {
    const client = this.client;
    if (!client || this.serverState !== "running") {
      void vscode.window.showErrorMessage("QVR: the language server is not running (QVR: Restart Server).");
      return undefined;
    }
    try {
      const answer = await client.sendRequest(ENTRY_AT_REQUEST, {
        textDocument: { uri },
        position: { line: cursor.line, character: cursor.character },
      });
      return parseEntryAt(answer);
    } catch (err) {
      void vscode.window.showErrorMessage(`QVR: ${ENTRY_AT_REQUEST} failed: ${err instanceof Error ? err.message : String(err)}`);
      return undefined;
    }
  }

  private async cancel(): Promise<void> {
    // Ask the server even when no run is tracked here: it knows every run, ours or not.
    const answer = await this.executeOnServer(CANCEL_COMMAND, []);
    if (answer === undefined) return;
    const cancelled = (answer as { cancelled?: unknown[] } | null)?.cancelled;
    const n = Array.isArray(cancelled) ? cancelled.length : 0;
    void vscode.window.showInformationMessage(n === 0 ? "QVR: no run in progress." : `QVR: cancelled ${n} run${n === 1 ? "" : "s"}.`);
  }

  private async migrate(): Promise<void> {
    const editor = vscode.window.activeTextEditor;
    if (!editor || editor.document.languageId !== "qvr") {
      void vscode.window.showWarningMessage("QVR: open a .qvr file to migrate it.");
      return;
    }
    await this.executeOnServer(MIGRATE_COMMAND, [{ uri: editor.document.uri.toString() }]);
  }

  private showLastResult(): void {
    if (!this.lastResult) {
      void vscode.window.showInformationMessage("QVR: no run has finished yet.");
      return;
    }
    this.results.show(this.lastResult);
  }

  /** Send `workspace/executeCommand` to the server: its answer, or undefined after an error message. */
  private async executeOnServer(command: string, args: unknown[]): Promise<unknown> {
    const client = this.client;
    if (!client || this.serverState !== "running") {
      void vscode.window.showErrorMessage("QVR: the language server is not running (QVR: Restart Server).");
      return undefined;
    }
    try {
      return await this.track(command, args, () => client.sendRequest(ExecuteCommandRequest.type, { command, arguments: args }));
    } catch (err) {
      void vscode.window.showErrorMessage(`QVR: ${command} failed: ${err instanceof Error ? err.message : String(err)}`);
      return undefined;
    }
  }

  /**
   * Send a server command, tracking runs (however they were started: palette or code lens) for
   * the status bar. A run the server refused (an error, or `started: false`) is forgotten; a
   * started one stays until its `qvr/runFinished`. A second request for a run already in
   * progress (`started: false, running: true`, e.g. a double click on a lens) drops only the
   * entry it added: the run it found goes on.
   */
  private async track<T>(command: string, args: unknown[], send: () => Promise<T>): Promise<T> {
    this.noteCommand(command, args);
    try {
      const result = await send();
      const answer = result as { started?: unknown; running?: unknown } | null;
      if (answer?.started === false) {
        if (answer.running === true) this.forgetLastRun(command, args);
        else this.forgetRuns(command, args);
      }
      return result;
    } catch (err) {
      this.forgetRuns(command, args);
      throw err;
    }
  }

  private noteCommand(command: string, args: unknown[]): void {
    const kind = (Object.keys(RUN_COMMANDS) as RunKind[]).find((k) => RUN_COMMANDS[k] === command);
    if (kind) {
      const { uri, entry } = (args[0] ?? {}) as { uri?: string; entry?: string };
      this.runs.push({ kind, entry: entry ?? "?", uri: uri ?? "" });
    } else if (command === CANCEL_COMMAND && args.length === 0) {
      this.runs = [];
    }
    this.renderStatus();
  }

  private forgetRuns(command: string, args: unknown[]): void {
    const { entry } = (args[0] ?? {}) as { entry?: string };
    this.runs = this.runs.filter((r) => !(RUN_COMMANDS[r.kind as RunKind] === command && r.entry === (entry ?? "?")));
    this.renderStatus();
  }

  private forgetLastRun(command: string, args: unknown[]): void {
    const { entry } = (args[0] ?? {}) as { entry?: string };
    for (let i = this.runs.length - 1; i >= 0; i--) {
      const r = this.runs[i];
      if (RUN_COMMANDS[r.kind as RunKind] === command && r.entry === (entry ?? "?")) {
        this.runs.splice(i, 1);
        break;
      }
    }
    this.renderStatus();
  }

  private runFinished(params: unknown): void {
    const result = parseRunResult(params);
    const i = this.runs.findIndex((r) => r.entry === result.entry && r.kind === result.kind);
    if (i >= 0) this.runs.splice(i, 1);
    this.renderStatus();
    this.lastResult = result;
    void this.context.workspaceState.update(LAST_RESULT_KEY, result);
    this.results.update(result);
    const message = `QVR: ${describeResult(result)}`;
    // A run the user cancelled is not an error (servers that send `status` say which it was).
    const show = result.ok || result.cancelled ? vscode.window.showInformationMessage : vscode.window.showErrorMessage;
    void Promise.resolve(show(message, "Show Result")).then((choice) => {
      if (choice === "Show Result") this.results.show(result);
    });
  }

  /** Send the trust-adjusted settings to the server (trust granted, or settings changed). */
  private pushSettings(): void {
    if (this.client && this.serverState === "running") {
      void this.client.sendNotification(DidChangeConfigurationNotification.type, { settings: { qvr: currentSettings() } });
    }
  }

  private setServerState(state: ServerState): void {
    this.serverState = state;
    if (state !== "running") this.runs = [];
    this.renderStatus();
  }

  private renderStatus(): void {
    const view = statusFor(this.serverState, this.runs);
    this.status.text = view.text;
    this.status.tooltip = view.tooltip;
    this.status.command = this.runs.length > 0 ? CANCEL_RUN_PALETTE : this.serverState === "running" ? SHOW_LAST_RESULT_PALETTE : RESTART_PALETTE;
  }
}

let extension: QvrExtension | undefined;

export async function activate(context: vscode.ExtensionContext): Promise<QvrExtension> {
  extension = new QvrExtension(context);
  context.subscriptions.push(extension);
  await extension.start();
  return extension;
}

export async function deactivate(): Promise<void> {
  await extension?.stop();
  extension = undefined;
}
