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

export interface RunResult {
  uri: string;
  entry: string;
  kind: string;
  ok: boolean;
  /** Set when the user stopped the run (the payload's optional `status: "cancelled"`). */
  cancelled: boolean;
  finalLoss?: number;
  elapsed?: number;
  device?: string;
  losses: number[];
  posterior: Record<string, PosteriorSite>;
  lossCurvePath?: string;
  summaryPath?: string;
  message?: string;
}

const finite = (v: unknown): number | undefined => (typeof v === "number" && Number.isFinite(v) ? v : undefined);
const text = (v: unknown): string | undefined => (typeof v === "string" && v !== "" ? v : undefined);

/** Read a `qvr/runFinished` payload; unknown or malformed fields are dropped. */
export function parseRunResult(raw: unknown): RunResult {
  const r = (raw && typeof raw === "object" ? raw : {}) as Record<string, unknown>;
  const losses = Array.isArray(r.losses) ? r.losses.filter((x): x is number => typeof x === "number" && Number.isFinite(x)) : [];
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
    finalLoss: finite(r.final_loss),
    elapsed: finite(r.elapsed),
    device: text(r.device),
    losses,
    posterior,
    lossCurvePath: text(r.loss_curve_path),
    summaryPath: text(r.summary_path),
    message: text(r.message),
  };
}

/** One line for a notification: "SVI on lm finished: final loss 12.3 in 4.1 s on cpu". */
export function describeResult(result: RunResult): string {
  const what = `${KIND_TITLES[result.kind] ?? result.kind} on ${result.entry}`;
  if (result.cancelled) return `${what} cancelled`;
  if (!result.ok) return `${what} failed${result.message ? `: ${result.message}` : ""}`;
  const parts = [`${what} finished`];
  if (result.finalLoss !== undefined) parts.push(`: final loss ${formatNumber(result.finalLoss)}`);
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
