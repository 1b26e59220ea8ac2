/**
 * The `qvr/runFinished` notification payload (docs/internals.md, "Language server commands and
 * notifications") and the read-side checks that turn whatever the server sent into a value the
 * views can trust: a malformed field becomes "missing", never an exception in the extension.
 */

import { KIND_TITLES } from "./contract";

// The command and notification names live in the generated contract (one list with the server).
export { CANCEL_COMMAND, KIND_TITLES, MIGRATE_COMMAND, RUN_COMMANDS, RUN_FINISHED_NOTIFICATION } from "./contract";
export type { RunKind } from "./contract";

export interface PosteriorSite {
  mean: unknown;
  std: unknown;
}

/**
 * What a run reports at every step or draw: SVI its loss (the negative ELBO), Sample and NUTS
 * the log joint of the draw. The payload names the fields after it (`final_loss`, `losses`,
 * `loss_curve_path`; `final_log_joint`, `log_joints`, `log_joint_curve_path`).
 */
export type Metric = "loss" | "log_joint";
/** How the views name each metric. */
export const METRIC_TITLES: Record<Metric, string> = { loss: "loss", log_joint: "log joint" };
const SERIES: Record<Metric, string> = { loss: "losses", log_joint: "log_joints" };

export interface RunResult {
  uri: string;
  entry: string;
  kind: string;
  ok: boolean;
  /** Set when the user stopped the run (the payload's optional `status: "cancelled"`). */
  cancelled: boolean;
  metric: Metric;
  /** The metric's last value. */
  final?: number;
  elapsed?: number;
  device?: string;
  /** The metric at every step or draw. */
  values: number[];
  posterior: Record<string, PosteriorSite>;
  curvePath?: string;
  summaryPath?: string;
  message?: string;
}

const finite = (v: unknown): number | undefined => (typeof v === "number" && Number.isFinite(v) ? v : undefined);
const text = (v: unknown): string | undefined => (typeof v === "string" && v !== "" ? v : undefined);

/** Read a `qvr/runFinished` payload; unknown or malformed fields are dropped. */
export function parseRunResult(raw: unknown): RunResult {
  const r = (raw && typeof raw === "object" ? raw : {}) as Record<string, unknown>;
  const metric: Metric = r.metric === "log_joint" ? "log_joint" : "loss";
  const series = r[SERIES[metric]];
  const values = Array.isArray(series) ? series.filter((x): x is number => typeof x === "number" && Number.isFinite(x)) : [];
  const posterior: Record<string, PosteriorSite> = {};
  if (r.posterior && typeof r.posterior === "object" && !Array.isArray(r.posterior)) {
    for (const [site, summary] of Object.entries(r.posterior as Record<string, unknown>)) {
      if (summary && typeof summary === "object") {
        const s = summary as Record<string, unknown>;
        posterior[site] = { mean: s.mean, std: s.std };
      }
    }
  }
  return {
    uri: text(r.uri) ?? "",
    entry: text(r.entry) ?? "?",
    kind: text(r.kind) ?? "svi",
    ok: r.ok === true,
    cancelled: r.ok !== true && r.status === "cancelled",
    metric,
    final: finite(r[`final_${metric}`]),
    elapsed: finite(r.elapsed),
    device: text(r.device),
    values,
    posterior,
    curvePath: text(r[`${metric}_curve_path`]),
    summaryPath: text(r.summary_path),
    message: text(r.message),
  };
}

/**
 * One line for a notification: "SVI on lm finished: final loss 12.3 in 4.1 s on cpu" ("final
 * log joint -8.2" for Sample and NUTS).
 */
export function describeResult(result: RunResult): string {
  const what = `${KIND_TITLES[result.kind] ?? result.kind} on ${result.entry}`;
  if (result.cancelled) return `${what} cancelled`;
  if (!result.ok) return `${what} failed${result.message ? `: ${result.message}` : ""}`;
  const parts = [`${what} finished`];
  if (result.final !== undefined) parts.push(`: final ${METRIC_TITLES[result.metric]} ${formatNumber(result.final)}`);
  if (result.elapsed !== undefined) parts.push(` in ${result.elapsed.toFixed(1)} s`);
  if (result.device) parts.push(` on ${result.device}`);
  return parts.join("");
}

/** Four significant digits, no exponent for ordinary magnitudes. */
export function formatNumber(x: number): string {
  if (x === 0) return "0";
  const magnitude = Math.abs(x);
  if (magnitude >= 1e-3 && magnitude < 1e6) return String(Number(x.toPrecision(4)));
  return x.toExponential(3);
}
