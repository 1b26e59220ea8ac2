/**
 * The HTML of the results webview: run summary, the curve of the run's metric (SVI's loss, the
 * log joint of Sample and NUTS draws; inline SVG) and posterior summary table. No scripts and no remote resources; the Content-Security-Policy says so, and styles
 * are allowed only through the per-render nonce.
 */
import { lossCurveSvg } from "./lossCurve";
import { KIND_TITLES, METRIC_TITLES, RunResult, formatNumber } from "./runResult";

export function escapeHtml(s: string): string {
  return s
    .replace(/&/g, "&amp;")
    .replace(/</g, "&lt;")
    .replace(/>/g, "&gt;")
    .replace(/"/g, "&quot;")
    .replace(/'/g, "&#39;");
}

/** Flatten nested numeric arrays (posterior summaries of any shape). */
function flatten(value: unknown): number[] {
  if (typeof value === "number") return [value];
  if (Array.isArray(value)) return value.flatMap(flatten);
  return [];
}

/** The shape of a nested array, e.g. [2, 3]; [] for a scalar. */
export function shapeOf(value: unknown): number[] {
  const shape: number[] = [];
  let v = value;
  while (Array.isArray(v)) {
    shape.push(v.length);
    v = v[0];
  }
  return shape;
}

/** At most `limit` values, then an ellipsis with the total count. */
export function previewValues(value: unknown, limit = 6): string {
  const values = flatten(value);
  if (values.length === 0) return "—";
  const shown = values.slice(0, limit).map(formatNumber).join(", ");
  return values.length > limit ? `${shown}, … (${values.length} values)` : shown;
}

function posteriorTable(result: RunResult): string {
  const sites = Object.keys(result.posterior).sort();
  if (sites.length === 0) return `<p class="muted">No posterior summary in this result.</p>`;
  const rows = sites.map((site) => {
    const { mean, std } = result.posterior[site];
    const shape = shapeOf(mean);
    return `<tr><td><code>${escapeHtml(site)}</code></td><td>${shape.length ? shape.join(" × ") : "scalar"}</td>` +
      `<td>${escapeHtml(previewValues(mean))}</td><td>${escapeHtml(previewValues(std))}</td></tr>`;
  });
  return `<table class="posterior"><thead><tr><th>site</th><th>shape</th><th>mean</th><th>std</th></tr></thead>` +
    `<tbody>${rows.join("")}</tbody></table>`;
}

/** What the values of each kind count (a NUTS run's: every chain's iterations). */
const UNITS: Record<string, string> = { svi: "steps", sample: "draws", nuts: "iterations" };

const capitalised = (s: string): string => s.charAt(0).toUpperCase() + s.slice(1);

function facts(result: RunResult): string {
  const items: Array<[string, string | undefined]> = [
    ["status", result.ok ? "finished" : result.cancelled ? "cancelled" : "failed"],
    [`final ${METRIC_TITLES[result.metric]}`, result.final === undefined ? undefined : formatNumber(result.final)],
    [UNITS[result.kind] ?? "steps", result.values.length ? String(result.values.length) : undefined],
    ["elapsed", result.elapsed === undefined ? undefined : `${result.elapsed.toFixed(2)} s`],
    ["device", result.device],
    ["summary", result.summaryPath],
    [`${METRIC_TITLES[result.metric]} curve image`, result.curvePath],
    ["message", result.message],
  ];
  return `<dl>${items
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => `<dt>${escapeHtml(k)}</dt><dd>${escapeHtml(v as string)}</dd>`)
    .join("")}</dl>`;
}

export interface RenderOptions {
  /** A fresh random nonce for the inline style. */
  nonce: string;
}

export function renderResultsHtml(result: RunResult, options: RenderOptions): string {
  const title = `${KIND_TITLES[result.kind] ?? result.kind}: ${result.entry}`;
  const csp = `default-src 'none'; img-src data:; style-src 'nonce-${options.nonce}'; script-src 'none';`;
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${csp}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<title>${escapeHtml(title)}</title>
<style nonce="${options.nonce}">
body { font-family: var(--vscode-font-family); color: var(--vscode-foreground); padding: 0 1em; }
.muted { opacity: 0.7; }
dl { display: grid; grid-template-columns: max-content auto; gap: 0.2em 1em; }
dt { font-weight: bold; }
dd { margin: 0; word-break: break-all; }
.loss-curve { max-width: 100%; height: auto; }
.loss-curve .axis { stroke: var(--vscode-foreground); stroke-width: 1; opacity: 0.6; }
.loss-curve .curve { stroke: var(--vscode-charts-blue, #3794ff); stroke-width: 2; }
.loss-curve text { fill: var(--vscode-foreground); font-size: 11px; }
table.posterior { border-collapse: collapse; }
table.posterior th, table.posterior td { border: 1px solid var(--vscode-panel-border, #8884); padding: 0.2em 0.6em; text-align: left; }
</style>
</head>
<body>
<h2>${escapeHtml(title)}</h2>
${facts(result)}
<h3>${escapeHtml(capitalised(METRIC_TITLES[result.metric]))}</h3>
${lossCurveSvg(result.values, undefined, METRIC_TITLES[result.metric])}
<h3>Posterior summary</h3>
${posteriorTable(result)}
</body>
</html>
`;
}
