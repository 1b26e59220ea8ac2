/**
 * Just enough of the `vscode` and `vscode-languageclient/node` modules to activate the extension
 * in plain node: every call is recorded so tests can assert what the extension asked for.
 * `installFakes()` makes `require("vscode")` and `require("vscode-languageclient/node")`
 * resolve to these objects.
 */
import Module = require("module");

type Listener = (...args: any[]) => any;

class Emitter {
  listeners: Listener[] = [];
  event = (fn: Listener) => {
    this.listeners.push(fn);
    return { dispose: () => (this.listeners = this.listeners.filter((l) => l !== fn)) };
  };
  fire(...args: any[]) {
    this.listeners.forEach((l) => l(...args));
  }
}

export interface FakeDocument {
  languageId: string;
  uri: { toString(): string; fsPath: string };
  isDirty: boolean;
  getText(): string;
  offsetAt(position: FakePosition): number;
  save(): Promise<boolean>;
}

export interface FakePosition {
  line: number;
  character: number;
}

/** The position of `offset` in `text` (ASCII: columns are UTF-16 code units too). */
export function positionAt(text: string, offset: number): FakePosition {
  const line = text.slice(0, offset).split("\n").length - 1;
  return { line, character: offset - (text.lastIndexOf("\n", offset - 1) + 1) };
}

export function fakeDocument(path: string, text: string): FakeDocument {
  const lines = text.split("\n");
  return {
    languageId: "qvr",
    uri: { toString: () => `file://${path}`, fsPath: path },
    isDirty: false,
    getText: () => text,
    offsetAt: (p: FakePosition) => lines.slice(0, p.line).reduce((n, l) => n + l.length + 1, 0) + p.character,
    save: async () => true,
  };
}

export class FakeWorld {
  commands = new Map<string, Listener>();
  messages: Array<{ level: string; text: string; items: string[] }> = [];
  /** The button the next message "clicks" (undefined: dismissed). */
  answer: string | undefined;
  settings: Record<string, unknown> = {};
  trusted = true;
  activeTextEditor: { document: FakeDocument; selection: { active: FakePosition } } | undefined;
  webviews: Array<{ title: string; webview: { html: string }; options: any }> = [];
  statusBar = { text: "", tooltip: "", command: "" as string | undefined, show() {}, dispose() {} };
  clients: FakeLanguageClient[] = [];
  /** Every window.withProgress: its options, what was reported, whether its task finished. */
  progress: Array<{ options: any; reports: any[]; done: boolean; cancel: () => void }> = [];
  trustGranted = new Emitter();
  configChanged = new Emitter();

  vscode(): any {
    const world = this;
    const message = (level: string) => async (text: string, ...items: string[]) => {
      world.messages.push({ level, text, items });
      return world.answer;
    };
    return {
      StatusBarAlignment: { Left: 1, Right: 2 },
      ProgressLocation: { SourceControl: 1, Window: 10, Notification: 15 },
      ViewColumn: { Beside: -2 },
      window: {
        createOutputChannel: () => ({ appendLine() {}, append() {}, show() {}, dispose() {} }),
        createStatusBarItem: () => world.statusBar,
        createWebviewPanel: (_type: string, title: string, _column: unknown, options: unknown) => {
          const dispose = new Emitter();
          const panel = {
            title,
            options,
            webview: { html: "" },
            reveal() {},
            onDidDispose: dispose.event,
            dispose: () => dispose.fire(),
          };
          world.webviews.push(panel);
          return panel;
        },
        withProgress: (options: any, task: (progress: any, token: any) => Promise<void>) => {
          const cancelled = new Emitter();
          const record = { options, reports: [] as any[], done: false, cancel: () => cancelled.fire() };
          world.progress.push(record);
          const progress = { report: (value: unknown) => record.reports.push(value) };
          return task(progress, { onCancellationRequested: cancelled.event }).then(() => {
            record.done = true;
          });
        },
        showErrorMessage: message("error"),
        showWarningMessage: message("warning"),
        showInformationMessage: message("info"),
        showQuickPick: async (items: string[]) => items[0],
        get activeTextEditor() {
          return world.activeTextEditor;
        },
      },
      workspace: {
        getConfiguration: (section: string) => ({
          get: (key: string, fallback: unknown) => {
            const full = `${section}.${key}`;
            return full in world.settings ? world.settings[full] : fallback;
          },
        }),
        workspaceFolders: [{ uri: { fsPath: "/nonexistent-workspace" } }],
        get isTrusted() {
          return world.trusted;
        },
        onDidGrantWorkspaceTrust: world.trustGranted.event,
        onDidChangeConfiguration: world.configChanged.event,
      },
      commands: {
        registerCommand: (id: string, fn: Listener) => {
          if (world.commands.has(id)) throw new Error(`command '${id}' already exists`);
          world.commands.set(id, fn);
          return { dispose: () => world.commands.delete(id) };
        },
        executeCommand: async (id: string, ...args: unknown[]) => world.commands.get(id)?.(...args),
      },
      env: { clipboard: { writeText: async () => undefined } },
    };
  }

  languageClient(): any {
    const world = this;
    return {
      State: { Stopped: 1, Running: 2, Starting: 3 },
      ExecuteCommandRequest: { type: { method: "workspace/executeCommand" } },
      WorkDoneProgressCreateRequest: { type: { method: "window/workDoneProgress/create" }, method: "window/workDoneProgress/create" },
      WorkDoneProgressCancelNotification: { type: { method: "window/workDoneProgress/cancel" } },
      WorkDoneProgress: { type: { method: "$/progress" } },
      DidChangeConfigurationNotification: { type: { method: "workspace/didChangeConfiguration" } },
      LanguageClient: class extends FakeLanguageClient {
        constructor(id: string, name: string, serverOptions: any, clientOptions: any) {
          super(id, name, serverOptions, clientOptions);
          world.clients.push(this);
        }
      },
    };
  }
}

export class FakeLanguageClient {
  requests: Array<{ method: string; params: any }> = [];
  notificationsSent: Array<{ method: string; params: any }> = [];
  handlers = new Map<string, Listener>();
  requestHandlers = new Map<string, Listener>();
  progressHandlers = new Map<string | number, Listener>();
  state = new Emitter();
  started = false;
  /** What the server answers to a request (or throws). */
  respond: (method: string, params: any) => unknown = () => null;

  constructor(
    public id: string,
    public name: string,
    public serverOptions: any,
    public clientOptions: any,
  ) {}

  onDidChangeState = this.state.event;
  async start() {
    this.state.fire({ oldState: 1, newState: 3 });
    // As vscode-languageclient's progress feature does at every start: its own (status bar)
    // handler for server-created progress.
    this.onRequest({ method: "window/workDoneProgress/create" }, () => "builtin status-bar progress");
    this.started = true;
    this.state.fire({ oldState: 3, newState: 2 });
  }
  async stop() {
    this.started = false;
    this.state.fire({ oldState: 2, newState: 1 });
  }
  onRequest(type: { method: string } | string, handler: Listener) {
    this.requestHandlers.set(typeof type === "string" ? type : type.method, handler);
    return { dispose: () => undefined };
  }
  onProgress(_type: unknown, token: string | number, handler: Listener) {
    this.progressHandlers.set(token, handler);
    return { dispose: () => this.progressHandlers.delete(token) };
  }
  /** The server sends a request to the client; the client's handler's answer. */
  serverRequest(method: string, params: unknown) {
    return this.requestHandlers.get(method)?.(params);
  }
  /** The server sends `$/progress` for a token. */
  serverProgress(token: string | number, value: unknown) {
    this.progressHandlers.get(token)?.(value);
  }
  onNotification(method: string, handler: Listener) {
    this.handlers.set(method, handler);
    return { dispose: () => this.handlers.delete(method) };
  }
  async sendRequest(type: { method: string } | string, params: any) {
    const method = typeof type === "string" ? type : type.method;
    this.requests.push({ method, params });
    return this.respond(method, params);
  }
  async sendNotification(type: { method: string }, params: any) {
    this.notificationsSent.push({ method: type.method, params });
  }
  /** The server sends a notification to the client. */
  notify(method: string, params: unknown) {
    this.handlers.get(method)?.(params);
  }
}

let installed: FakeWorld | undefined;

/** Route `vscode` and `vscode-languageclient/node` to a fresh FakeWorld; returns it. */
export function installFakes(): FakeWorld {
  const world = new FakeWorld();
  const fakes: Record<string, unknown> = {
    vscode: world.vscode(),
    "vscode-languageclient/node": world.languageClient(),
  };
  if (!installed) {
    const mod = Module as any;
    const originalLoad = mod._load;
    mod._load = function (request: string, ...rest: unknown[]) {
      if (installed && request in fakes) return (installed as any).__modules[request];
      return originalLoad.call(this, request, ...rest);
    };
  }
  (world as any).__modules = fakes;
  installed = world;
  return world;
}
