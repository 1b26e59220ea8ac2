// Where the extension looks for qvr-lsp, in order, and what it says when it is missing.
import { test } from "node:test";
import assert from "node:assert/strict";
import * as path from "path";
import { findServer, ServerSearch } from "../src/serverPath";

function search(executables: string[], overrides: Partial<ServerSearch> = {}): ServerSearch {
  const set = new Set(executables);
  return {
    configured: "",
    workspaceFolders: ["/ws"],
    trusted: true,
    pathEnv: "/usr/local/bin:/usr/bin",
    platform: "linux",
    isExecutable: (f) => set.has(f),
    ...overrides,
  };
}

test("the setting wins when it names an executable", () => {
  const hit = findServer(search(["/opt/qvr-lsp", "/ws/.venv/bin/qvr-lsp"], { configured: "/opt/qvr-lsp" }));
  assert.deepEqual(hit, { found: true, command: "/opt/qvr-lsp", source: "setting" });
});

test("a setting that is not executable is reported, not silently skipped", () => {
  const miss = findServer(search(["/usr/bin/qvr-lsp"], { configured: "/nope/qvr-lsp" }));
  assert.equal(miss.found, false);
  assert.match((miss as { message: string }).message, /qvr\.server\.path \(\/nope\/qvr-lsp\)/);
});

test("the workspace .venv comes before venv and before PATH", () => {
  const all = ["/ws/.venv/bin/qvr-lsp", "/ws/venv/bin/qvr-lsp", "/usr/bin/qvr-lsp"];
  assert.deepEqual(findServer(search(all)), { found: true, command: path.join("/ws", ".venv", "bin", "qvr-lsp"), source: "venv" });
  assert.deepEqual(findServer(search(all.slice(1))), { found: true, command: path.join("/ws", "venv", "bin", "qvr-lsp"), source: "venv" });
});

test("an untrusted workspace's own venv is never used", () => {
  const hit = findServer(search(["/ws/.venv/bin/qvr-lsp", "/usr/bin/qvr-lsp"], { trusted: false }));
  assert.deepEqual(hit, { found: true, command: path.join("/usr/bin", "qvr-lsp"), source: "PATH" });
});

test("PATH is searched in order", () => {
  const hit = findServer(search(["/usr/bin/qvr-lsp", "/usr/local/bin/qvr-lsp"]));
  assert.deepEqual(hit, { found: true, command: path.join("/usr/local/bin", "qvr-lsp"), source: "PATH" });
});

test("missing everywhere: the message carries the install command", () => {
  const miss = findServer(search([]));
  assert.equal(miss.found, false);
  assert.match((miss as { message: string }).message, /pip install -e <path to your qvr-tools checkout>/);
});
