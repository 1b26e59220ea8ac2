// Workspace trust folded into what the server is told about runs.
import { test } from "node:test";
import assert from "node:assert/strict";
import { applyTrust, readSettings } from "../src/settings";
import { statusFor } from "../src/statusText";
import { ProgressState } from "../src/progressState";

const reader = (values: Record<string, unknown>) => <T>(key: string, fallback: T): T =>
  (key in values ? values[key] : fallback) as T;

test("runs are enabled only when the settings allow it and the workspace is trusted", () => {
  assert.equal(readSettings(reader({}), true).run.enabled, true);
  assert.equal(readSettings(reader({}), false).run.enabled, false);
  assert.equal(readSettings(reader({ "run.enabled": false }), true).run.enabled, false);
  const s = readSettings(reader({ "run.steps": 50, "run.samples": 30, "run.device": "cuda" }), true);
  assert.deepEqual(s.run, { enabled: true, steps: 50, samples: 30, warmup: null, device: "cuda", data: "", python: "", maxConcurrent: 2, timeout: 120, grace: 1 });
});

test("the diagnostics link base is read from qvr.diagnostics and sent with the run settings", () => {
  assert.deepEqual(readSettings(reader({}), true).diagnostics, { codeDescriptionBaseUrl: "" });
  const s = readSettings(reader({ "diagnostics.codeDescriptionBaseUrl": "https://example.org/docs" }), true);
  assert.deepEqual(s.diagnostics, { codeDescriptionBaseUrl: "https://example.org/docs" });
});

test("unset steps stay null: the server then uses the `qvr run` default of each kind", () => {
  assert.equal(readSettings(reader({}), true).run.steps, null);
});

test("configuration answers are patched in untrusted workspaces, for every section shape", () => {
  const items = [{ section: "qvr" }, { section: "qvr.run" }, { section: "qvr.run.enabled" }, { section: "editor" }];
  const answers = [{ run: { enabled: true, steps: 5 } }, { enabled: true, steps: 5 }, true, { tabSize: 4 }];
  assert.deepEqual(applyTrust(items, answers, false), [
    { run: { enabled: false, steps: 5 } },
    { enabled: false, steps: 5 },
    false,
    { tabSize: 4 },
  ]);
  assert.deepEqual(applyTrust(items, answers, true), answers);
});

test("the status bar shows the server state and the runs in progress", () => {
  assert.match(statusFor("missing", []).tooltip, /not found/);
  assert.equal(statusFor("running", []).text, "$(check) QVR");
  assert.equal(statusFor("running", [{ kind: "svi", entry: "lm" }]).text, "$(sync~spin) QVR: SVI lm");
  assert.equal(statusFor("running", [{ kind: "svi", entry: "a" }, { kind: "nuts", entry: "b" }]).text, "$(sync~spin) QVR: 2 runs");
});

test("progress percentages become increments that never go backwards or past 100", () => {
  const state = new ProgressState();
  assert.deepEqual(state.update({ kind: "begin", message: "start", percentage: 0 }), { message: "start" });
  assert.deepEqual(state.update({ kind: "report", percentage: 30 }), { increment: 30 });
  assert.deepEqual(state.update({ kind: "report", percentage: 20, message: "late" }), { message: "late" });
  assert.deepEqual(state.update({ kind: "report", percentage: 250 }), { increment: 70 });
  assert.deepEqual(state.update({ kind: "end" }), {});
});
