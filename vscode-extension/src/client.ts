/**
 * Starting the language client: locating qvr-lsp, the client options (document selector,
 * trust-aware settings, middleware that notices runs started from code lenses).
 */
import * as fs from "fs";
import * as vscode from "vscode";
import {
  ConfigurationParams,
  LanguageClient,
  LanguageClientOptions,
  ServerOptions,
  WorkDoneProgressCreateRequest,
} from "vscode-languageclient/node";
import { RUN_FINISHED_OPTION } from "./contract";
import { progressCreateHandler } from "./progressNotifications";
import { findServer, ServerLocation } from "./serverPath";
import { applyTrust, readSettings, QvrSettings } from "./settings";

export function isExecutable(file: string): boolean {
  try {
    fs.accessSync(file, fs.constants.X_OK);
    return fs.statSync(file).isFile();
  } catch {
    return false;
  }
}

export function locateServer(): ServerLocation {
  return findServer({
    configured: vscode.workspace.getConfiguration("qvr").get<string>("server.path", ""),
    workspaceFolders: (vscode.workspace.workspaceFolders ?? []).map((f) => f.uri.fsPath),
    trusted: vscode.workspace.isTrusted,
    pathEnv: process.env.PATH ?? "",
    platform: process.platform,
    isExecutable,
  });
}

export function currentSettings(): QvrSettings {
  const config = vscode.workspace.getConfiguration("qvr");
  return readSettings((key, fallback) => config.get(key, fallback), vscode.workspace.isTrusted);
}

export interface ClientHooks {
  /** Send a `workspace/executeCommand` (`send`), watching it (runs show in the status bar). */
  track<T>(command: string, args: unknown[], send: () => Promise<T>): Promise<T>;
}

/**
 * The language client, except that server progress goes to notifications: the client's
 * progress feature registers its `window/workDoneProgress/create` handler on every (re)start
 * through `onRequest`, so swapping the handler here holds across restarts.
 */
class QvrLanguageClient extends LanguageClient {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  onRequest(type: any, handler: any): vscode.Disposable {
    const method = typeof type === "string" ? type : type.method;
    return super.onRequest(type, method === WorkDoneProgressCreateRequest.method ? progressCreateHandler(this) : handler);
  }
}

export function createClient(
  command: string,
  outputChannel: vscode.OutputChannel,
  hooks: ClientHooks,
): LanguageClient {
  const cwd = vscode.workspace.workspaceFolders?.[0]?.uri.fsPath;
  // No `transport`: plain stdio, so no `--stdio` flag is appended to the command line.
  const serverOptions: ServerOptions = { command, args: [], options: cwd ? { cwd } : {} };
  const clientOptions: LanguageClientOptions = {
    documentSelector: [
      { scheme: "file", language: "qvr" },
      { scheme: "untitled", language: "qvr" },
    ],
    // runFinishedNotification: this client renders qvr/runFinished itself, so the server
    // logs the summary instead of also popping up a message.
    initializationOptions: { ...currentSettings(), [RUN_FINISHED_OPTION]: true },
    outputChannel,
    middleware: {
      workspace: {
        configuration: async (params: ConfigurationParams, token, next) => {
          const results = await next(params, token);
          if (!Array.isArray(results)) return results;
          return applyTrust(params.items, results, vscode.workspace.isTrusted);
        },
      },
      // Commands run through the client (code lenses, the palette) pass here first.
      executeCommand: (cmd, args, next) => hooks.track(cmd, args, async () => next(cmd, args)),
    },
  };
  return new QvrLanguageClient("qvr", "QVR Language Server", serverOptions, clientOptions);
}
