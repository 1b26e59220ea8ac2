// Reading qvr/runFinished payloads and rendering the results view (loss curve + posterior table).
import { test } from "node:test";
import assert from "node:assert/strict";
import { curvePoints, lossCurveSvg } from "../src/lossCurve";
import { previewValues, renderResultsHtml, shapeOf } from "../src/resultsHtml";
import { describeResult, parseRunResult } from "../src/runResult";

const PAYLOAD = {
  uri: "file:///ws/lm.qvr",
  entry: "vanilla_rnn_lm",
  kind: "svi",
  ok: true,
  final_loss: 12.3456,
  elapsed: 4.12,
  device: "cpu",
  losses: [30, 20, 15, 12.3456],
  posterior: { h: { mean: [[0.1, 0.2], [0.3, 0.4]], std: [[1, 1], [1, 1]] }, "<b>": { mean: 1, std: 0 } },
  loss_curve_path: "/ws/.qvr-runs/loss.png",
  summary_path: "/ws/.qvr-runs/summary.json",
  message: "",
};

test("a payload is read field by field; junk becomes missing, not an exception", () => {
  const r = parseRunResult(PAYLOAD);
  assert.equal(r.entry, "vanilla_rnn_lm");
  assert.equal(r.metric, "loss");
  assert.equal(r.final, 12.3456);
  assert.deepEqual(r.values, [30, 20, 15, 12.3456]);
  assert.equal(r.curvePath, "/ws/.qvr-runs/loss.png");
  assert.equal(r.message, undefined);
  const junk = parseRunResult({ ok: "yes", final_loss: "NaN", losses: [1, "x", null, 2], posterior: [1] });
  assert.equal(junk.ok, false);
  assert.equal(junk.final, undefined);
  assert.deepEqual(junk.values, [1, 2]);
  assert.deepEqual(junk.posterior, {});
  assert.doesNotThrow(() => parseRunResult(null));
});

test("the one-line description says what finished, or why it failed", () => {
  assert.equal(describeResult(parseRunResult(PAYLOAD)), "SVI on vanilla_rnn_lm finished: final loss 12.35 in 4.1 s on cpu");
  const failed = parseRunResult({ entry: "m", kind: "nuts", ok: false, message: "QVR061 at 3:5" });
  assert.equal(describeResult(failed), "NUTS on m failed: QVR061 at 3:5");
  const cancelled = parseRunResult({ entry: "m", kind: "svi", ok: false, status: "cancelled", message: "Run SVI m: cancelled from the progress UI" });
  assert.equal(cancelled.cancelled, true);
  assert.equal(describeResult(cancelled), "SVI on m cancelled");
  assert.equal(parseRunResult({ entry: "m", ok: false, status: "failed" }).cancelled, false);
});

test("the loss curve goes down when the loss goes down, inside the plot area", () => {
  const size = { width: 640, height: 280 };
  const points = curvePoints([30, 20, 15, 12], size);
  assert.equal(points.length, 4);
  for (let i = 1; i < points.length; i++) {
    assert.ok(points[i][0] > points[i - 1][0], "x increases with the step");
    assert.ok(points[i][1] > points[i - 1][1], "a smaller loss is drawn lower (larger y)");
  }
  for (const [x, y] of points) assert.ok(x >= 0 && x <= 640 && y >= 0 && y <= 280);
  const flat = curvePoints([5, 5, 5], size);
  assert.ok(flat.every(([, y]) => y === flat[0][1]));
  assert.match(lossCurveSvg([]), /no loss recorded/);
  assert.match(lossCurveSvg([], undefined, "log joint"), /aria-label="log joint curve".*no log joint recorded/);
  assert.match(lossCurveSvg([3, 2]), /<polyline class="curve"[^>]*points="[\d., ]+"/);
});

const SAMPLE_PAYLOAD = {
  uri: "file:///ws/lm.qvr",
  entry: "m",
  kind: "sample",
  ok: true,
  metric: "log_joint",
  final_log_joint: -8.25,
  elapsed: 0.5,
  device: "cpu",
  log_joints: [-10, -9, -8.25],
  posterior: {},
  log_joint_curve_path: "/ws/runs/m-sample/log_joint.png",
  summary_path: "/ws/runs/m-sample/summary.json",
  message: "",
};

test("a Sample or NUTS result is its log joint, never a loss", () => {
  const r = parseRunResult(SAMPLE_PAYLOAD);
  assert.equal(r.metric, "log_joint");
  assert.equal(r.final, -8.25);
  assert.deepEqual(r.values, [-10, -9, -8.25]);
  assert.equal(r.curvePath, "/ws/runs/m-sample/log_joint.png");
  assert.equal(describeResult(r), "Sample on m finished: final log joint -8.25 in 0.5 s on cpu");
  const html = renderResultsHtml(r, { nonce: "n" });
  const facts = html.slice(html.indexOf("<dl>"), html.indexOf("</dl>") + 5);
  assert.equal(facts, "<dl><dt>status</dt><dd>finished</dd><dt>final log joint</dt><dd>-8.25</dd>" +
    "<dt>draws</dt><dd>3</dd><dt>elapsed</dt><dd>0.50 s</dd><dt>device</dt><dd>cpu</dd>" +
    "<dt>summary</dt><dd>/ws/runs/m-sample/summary.json</dd>" +
    "<dt>log joint curve image</dt><dd>/ws/runs/m-sample/log_joint.png</dd></dl>");
  assert.match(html, /<h3>Log joint<\/h3>\n<svg[^>]*aria-label="log joint curve"/);
  assert.doesNotMatch(html, /loss(?!-curve)/i);
});

test("posterior values are previewed with their shape", () => {
  assert.deepEqual(shapeOf([[1, 2, 3], [4, 5, 6]]), [2, 3]);
  assert.deepEqual(shapeOf(2), []);
  assert.equal(previewValues([[1, 2], [3, 4]], 3), "1, 2, 3, … (4 values)");
  assert.equal(previewValues(undefined), "—");
});

test("the results page: strict CSP, no scripts, escaped names, curve and table", () => {
  const html = renderResultsHtml(parseRunResult(PAYLOAD), { nonce: "abc123" });
  assert.match(html, /Content-Security-Policy" content="default-src 'none'; img-src data:; style-src 'nonce-abc123'; script-src 'none';"/);
  assert.doesNotMatch(html, /<script/i);
  assert.doesNotMatch(html, /https?:\/\/(?!www\.w3\.org\/2000\/svg)/, "no remote resources");
  assert.match(html, /<style nonce="abc123">/);
  assert.match(html, /<svg[^>]*class="loss-curve"/);
  assert.match(html, /<td><code>h<\/code><\/td><td>2 × 2<\/td><td>0.1, 0.2, 0.3, 0.4<\/td>/);
  assert.match(html, /<code>&lt;b&gt;<\/code>/);
  assert.doesNotMatch(html, /<code><b>/);
  assert.match(html, /final loss<\/dt><dd>12.35/);
});
