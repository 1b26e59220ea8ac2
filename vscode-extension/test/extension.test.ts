// The extension activated against a fake VS Code: commands, server start-up, trust, runs.
import { test, beforeEach } from "node:test";
import assert from "node:assert/strict";
import * as fs from "fs";
import * as path from "path";
import { FakeWorld, fakeDocument, installFakes, positionAt } from "./fakeVscode";
import { parseEntryAt } from "../src/entryAt";

const packageJson = JSON.parse(fs.readFileSync(path.join(__dirname, "..", "..", "package.json"), "utf8"));

const SOURCE = `object A : Real 2
morphism f : A -> A ~ Normal
program first(x) : A -> A
    draw y ~ f(x)
    return y
program second(x) : A -> A
    return x
`;

let world: FakeWorld;

function context() {
  const state = new Map<string, unknown>();
  return {
    subscriptions: [] as Array<{ dispose(): void }>,
    workspaceState: { get: (k: string) => state.get(k), update: async (k: string, v: unknown) => void state.set(k, v) },
  };
}

async function activate() {
  // A fresh copy of the extension per test, bound to this test's fake world.
  for (const key of Object.keys(require.cache)) if (key.includes(`${path.sep}src${path.sep}`)) delete require.cache[key];
  const ext = require("../src/extension");
  await ext.activate(context());
  return ext;
}

beforeEach(() => {
  world = installFakes();
  world.settings["qvr.server.path"] = process.execPath; // any executable file will do
});

test("activation registers exactly the commands package.json declares", async () => {
  const ext = await activate();
  const declared = packageJson.contributes.commands.map((c: { command: string }) => c.command).sort();
  assert.deepEqual([...world.commands.keys()].sort(), declared);
  // vscode-languageclient registers the server's own commands; a clash would fail at start-up.
  const serverCommands = ["qvr.run.svi", "qvr.run.sample", "qvr.run.nuts", "qvr.run.cancel", "qvr.migrateFile"];
  assert.deepEqual(declared.filter((id: string) => serverCommands.includes(id)), []);
  await ext.deactivate();
});

test("the server starts from qvr.server.path with trust in initializationOptions", async () => {
  world.trusted = false;
  const ext = await activate();
  assert.equal(world.clients.length, 1);
  const client = world.clients[0];
  assert.equal(client.id, "qvr");
  assert.equal(client.serverOptions.command, process.execPath);
  assert.equal(client.serverOptions.transport, undefined, "no --stdio flag appended");
  assert.equal(client.clientOptions.initializationOptions.run.enabled, false);
  assert.equal(client.clientOptions.initializationOptions.runFinishedNotification, true);
  assert.deepEqual(client.clientOptions.documentSelector.map((s: { language: string }) => s.language), ["qvr", "qvr"]);
  // Trust granted later: the server is told runs are now enabled.
  world.trusted = true;
  world.trustGranted.fire();
  assert.deepEqual(client.notificationsSent.at(-1), {
    method: "workspace/didChangeConfiguration",
    params: { settings: { qvr: { run: { enabled: true, steps: null, samples: null, warmup: null, device: "", data: "", python: "", maxConcurrent: 2, timeout: 120, grace: 1 }, diagnostics: { codeDescriptionBaseUrl: "" } } } },
  });
  await ext.deactivate();
});

test("a missing server gives a message with the install command and no client", async () => {
  world.settings["qvr.server.path"] = "";
  const savedPath = process.env.PATH;
  process.env.PATH = "/nonexistent-bin";
  try {
    const ext = await activate();
    assert.equal(world.clients.length, 0);
    assert.match(world.messages[0].text, /pip install -e <path to your qvr-tools checkout>/);
    assert.match(world.statusBar.text, /error/);
    await ext.deactivate();
  } finally {
    process.env.PATH = savedPath;
  }
});

test("Run SVI runs the entry the server finds under the cursor, tracks it, and shows the result", async () => {
  const ext = await activate();
  const client = world.clients[0];
  client.respond = (method) => (method === "qvr/entryAt" ? { name: "first", kind: "program", reason: "cursor", commands: ["qvr.run.svi"] } : null);
  world.activeTextEditor = { document: fakeDocument("/ws/m.qvr", SOURCE), selection: { active: positionAt(SOURCE, SOURCE.indexOf("draw y")) } };
  await world.commands.get("qvr.runSvi")!();
  assert.deepEqual(client.requests.at(-2), {
    method: "qvr/entryAt",
    params: { textDocument: { uri: "file:///ws/m.qvr" }, position: { line: 3, character: 4 } },
  });
  assert.deepEqual(client.requests.at(-1), {
    method: "workspace/executeCommand",
    params: { command: "qvr.run.svi", arguments: [{ uri: "file:///ws/m.qvr", entry: "first" }] },
  });
  assert.equal(world.statusBar.text, "$(sync~spin) QVR: SVI first");
  assert.equal(world.statusBar.command, "qvr.cancelRun");

  world.answer = "Show Result";
  client.notify("qvr/runFinished", { uri: "file:///ws/m.qvr", entry: "first", kind: "svi", ok: true, final_loss: 1.5, losses: [3, 2, 1.5], posterior: { y: { mean: [0.5], std: [0.1] } } });
  assert.equal(world.statusBar.text, "$(check) QVR");
  await new Promise((r) => setImmediate(r));
  assert.match(world.messages.at(-1)!.text, /SVI on first finished: final loss 1.5/);
  assert.equal(world.webviews.length, 1);
  assert.equal(world.webviews[0].options.enableScripts, false);
  assert.match(world.webviews[0].webview.html, /<polyline class="curve"/);
  assert.match(world.webviews[0].webview.html, /<code>y<\/code>/);

  // Show Last Result reuses the panel.
  await world.commands.get("qvr.showLastResult")!();
  assert.equal(world.webviews.length, 1);
  await ext.deactivate();
});

test("no entry under the cursor: a warning and no run", async () => {
  const ext = await activate();
  const client = world.clients[0];
  client.respond = () => null;
  world.activeTextEditor = { document: fakeDocument("/ws/m.qvr", SOURCE), selection: { active: positionAt(SOURCE, 0) } };
  await world.commands.get("qvr.runSample")!();
  assert.deepEqual(client.requests.map((r) => r.method), ["qvr/entryAt"]);
  assert.match(world.messages.at(-1)!.text, /no program or define under the cursor/);
  assert.equal(world.statusBar.text, "$(check) QVR");
  await ext.deactivate();
});

test("a malformed qvr/entryAt answer is no entry", () => {
  assert.equal(parseEntryAt(null), null);
  assert.equal(parseEntryAt({ kind: "program" }), null);
  assert.deepEqual(parseEntryAt({ name: "lm", commands: ["qvr.run.svi", 3] }), { name: "lm", kind: "program", reason: "cursor", commands: ["qvr.run.svi"] });
});

test("runs are refused in an untrusted workspace and the server's answers are patched", async () => {
  world.trusted = false;
  const ext = await activate();
  const client = world.clients[0];
  world.activeTextEditor = { document: fakeDocument("/ws/m.qvr", SOURCE), selection: { active: positionAt(SOURCE, 0) } };
  await world.commands.get("qvr.runNuts")!();
  assert.equal(client.requests.length, 0);
  assert.match(world.messages.at(-1)!.text, /untrusted/);
  const patched = await client.clientOptions.middleware.workspace.configuration(
    { items: [{ section: "qvr.run" }] }, undefined, async () => [{ enabled: true, steps: 3 }],
  );
  assert.deepEqual(patched, [{ enabled: false, steps: 3 }]);
  await ext.deactivate();
});

test("a run started elsewhere (code lens) shows in the status bar; Cancel Run cancels all", async () => {
  const ext = await activate();
  const client = world.clients[0];
  const next = async (cmd: string, args: unknown[]) => ({ started: true, cmd, args });
  const answer = await client.clientOptions.middleware.executeCommand("qvr.run.sample", [{ uri: "file:///ws/m.qvr", entry: "second" }], next);
  assert.equal(answer.started, true, "the server's answer is passed through");
  assert.equal(world.statusBar.text, "$(sync~spin) QVR: Sample second");
  // A lens run the server refuses leaves no spinner behind.
  await assert.rejects(client.clientOptions.middleware.executeCommand("qvr.run.nuts", [{ uri: "file:///ws/m.qvr", entry: "first" }], async () => {
    throw new Error("runs are off");
  }));
  await client.clientOptions.middleware.executeCommand("qvr.run.svi", [{ uri: "file:///ws/m.qvr", entry: "first" }], async () => ({ started: false }));
  assert.equal(world.statusBar.text, "$(sync~spin) QVR: Sample second");
  // A second click on the same lens: the server answers that the run is in progress; it stays.
  await client.clientOptions.middleware.executeCommand("qvr.run.sample", [{ uri: "file:///ws/m.qvr", entry: "second" }], async () => ({ started: false, running: true }));
  assert.equal(world.statusBar.text, "$(sync~spin) QVR: Sample second");
  client.respond = () => ({ cancelled: [{ uri: "file:///ws/m.qvr", entry: "second", kind: "sample", pid: 1 }] });
  await world.commands.get("qvr.cancelRun")!();
  assert.deepEqual(client.requests.at(-1), { method: "workspace/executeCommand", params: { command: "qvr.run.cancel", arguments: [] } });
  assert.equal(world.statusBar.text, "$(check) QVR");
  assert.equal(world.messages.at(-1)!.text, "QVR: cancelled 1 run.");
  client.respond = () => ({ cancelled: [] });
  await world.commands.get("qvr.cancelRun")!();
  assert.equal(world.messages.at(-1)!.text, "QVR: no run in progress.");
  await ext.deactivate();
});

test("a failing server command becomes an error message and the run is forgotten", async () => {
  const ext = await activate();
  const client = world.clients[0];
  client.respond = (method) => {
    if (method === "qvr/entryAt") return { name: "second", kind: "program", reason: "cursor", commands: [] };
    throw new Error("runs are disabled");
  };
  world.activeTextEditor = { document: fakeDocument("/ws/m.qvr", SOURCE), selection: { active: positionAt(SOURCE, SOURCE.indexOf("return x")) } };
  await world.commands.get("qvr.runSample")!();
  assert.equal(client.requests.at(-1)!.params.arguments[0].entry, "second");
  assert.match(world.messages.at(-1)!.text, /qvr\.run\.sample failed: runs are disabled/);
  assert.equal(world.statusBar.text, "$(check) QVR");
  await world.commands.get("qvr.migrateCurrentFile")!();
  assert.deepEqual(client.requests.at(-1)!.params, { command: "qvr.migrateFile", arguments: [{ uri: "file:///ws/m.qvr" }] });
  await ext.deactivate();
});

test("server progress shows as a cancellable notification, not only in the status bar", async () => {
  const ext = await activate();
  const client = world.clients[0];
  // The client's own handler (registered at start) was replaced by the extension's.
  assert.equal(client.serverRequest("window/workDoneProgress/create", { token: "run-1" }), null);
  client.serverProgress("run-1", { kind: "begin", title: "QVR: Run SVI lm", cancellable: true, percentage: 0, message: "starting worker" });
  client.serverProgress("run-1", { kind: "report", message: "step 50/200, loss 12.3", percentage: 25 });
  client.serverProgress("run-1", { kind: "report", message: "step 100/200, loss 9.1", percentage: 50 });
  assert.equal(world.progress.length, 1);
  const shown = world.progress[0];
  assert.equal(shown.options.location, 15, "ProgressLocation.Notification");
  assert.equal(shown.options.title, "QVR: Run SVI lm");
  assert.equal(shown.options.cancellable, true);
  assert.deepEqual(shown.reports, [
    { message: "starting worker" },
    { message: "step 50/200, loss 12.3", increment: 25 },
    { message: "step 100/200, loss 9.1", increment: 25 },
  ]);
  shown.cancel();
  assert.deepEqual(client.notificationsSent.at(-1), { method: "window/workDoneProgress/cancel", params: { token: "run-1" } });
  client.serverProgress("run-1", { kind: "end", message: "cancelled" });
  await new Promise((r) => setImmediate(r));
  assert.equal(shown.done, true);
  assert.equal(client.progressHandlers.size, 0, "the token's subscription is released");
  await ext.deactivate();
});
