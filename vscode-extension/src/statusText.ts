/**
 * What the status bar item says: the server's state and, while one is going, the run in
 * progress. Pure, so the wording is tested without VS Code.
 */
import { KIND_TITLES } from "./runResult";

export type ServerState = "starting" | "running" | "stopped" | "missing";

export interface ActiveRun {
  kind: string;
  entry: string;
}

export interface StatusView {
  text: string;
  tooltip: string;
}

export function statusFor(server: ServerState, runs: ActiveRun[]): StatusView {
  if (server === "missing") {
    return { text: "$(error) QVR", tooltip: "QVR: language server not found (see qvr.server.path)" };
  }
  if (server === "stopped") return { text: "$(warning) QVR", tooltip: "QVR: language server stopped — run “QVR: Restart Server”" };
  if (server === "starting") return { text: "$(loading~spin) QVR", tooltip: "QVR: language server starting" };
  if (runs.length === 0) return { text: "$(check) QVR", tooltip: "QVR: language server running" };
  const names = runs.map((r) => `${KIND_TITLES[r.kind] ?? r.kind} ${r.entry}`);
  const text = runs.length === 1 ? `$(sync~spin) QVR: ${names[0]}` : `$(sync~spin) QVR: ${runs.length} runs`;
  return { text, tooltip: `QVR: running ${names.join(", ")} — “QVR: Cancel Run” stops it` };
}
