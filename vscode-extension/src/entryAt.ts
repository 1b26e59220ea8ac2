/**
 * The answer to `qvr/entryAt` (docs/internals.md): the program or define a run command runs
 * for the cursor, as the server decides it for every client. A malformed answer counts as "no
 * entry", never as an exception in the extension.
 */

export interface EntryAt {
  name: string;
  /** "program", "define", or "export" (an exported name that is neither). */
  kind: string;
  /** Why this entry: "cursor", "export" or "only program". */
  reason: string;
  /** The run commands it supports (`qvr.run.svi`, ...). */
  commands: string[];
}

/** Read the server's answer; null when there is no single entry (or the answer is not one). */
export function parseEntryAt(raw: unknown): EntryAt | null {
  if (!raw || typeof raw !== "object") return null;
  const r = raw as Record<string, unknown>;
  if (typeof r.name !== "string" || r.name === "") return null;
  return {
    name: r.name,
    kind: typeof r.kind === "string" ? r.kind : "program",
    reason: typeof r.reason === "string" ? r.reason : "cursor",
    commands: Array.isArray(r.commands) ? r.commands.filter((c): c is string => typeof c === "string") : [],
  };
}
