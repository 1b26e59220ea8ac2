/**
 * The `qvr` settings as the server sees them. Workspace trust is folded in here: in an
 * untrusted workspace `qvr.run.enabled` is always false, whatever the settings say, both in
 * the initializationOptions and in every `workspace/configuration` answer.
 */

import { DIAGNOSTICS_SETTING_DEFAULTS, DiagnosticsSettings, RUN_SETTING_DEFAULTS, RunSettings } from "./contract";

export type { DiagnosticsSettings, RunSettings } from "./contract";

export interface QvrSettings {
  run: RunSettings;
  /** `codeDescriptionBaseUrl`: where docs/diagnostics.md is published; diagnostics link to it. */
  diagnostics: DiagnosticsSettings;
}

/** Reads one setting below `qvr.` (VS Code's WorkspaceConfiguration.get, injected). */
export type SettingReader = <T>(key: string, fallback: T) => T;

/**
 * Every `qvr.run` and `qvr.diagnostics` setting of the contract, its default where unset
 * (`steps`, `samples`, `warmup` null: the `qvr run` defaults, as in every client and the CLI).
 */
export function readSettings(get: SettingReader, trusted: boolean): QvrSettings {
  const run = { ...RUN_SETTING_DEFAULTS };
  for (const key of Object.keys(RUN_SETTING_DEFAULTS) as Array<keyof RunSettings>) {
    (run as Record<string, unknown>)[key] = get(`run.${key}`, RUN_SETTING_DEFAULTS[key]);
  }
  run.enabled = run.enabled && trusted;
  const diagnostics = { ...DIAGNOSTICS_SETTING_DEFAULTS };
  for (const key of Object.keys(DIAGNOSTICS_SETTING_DEFAULTS) as Array<keyof DiagnosticsSettings>) {
    diagnostics[key] = get(`diagnostics.${key}`, DIAGNOSTICS_SETTING_DEFAULTS[key]);
  }
  return { run, diagnostics };
}

/**
 * Apply trust to the answer of a `workspace/configuration` request: `items[i].section` asked,
 * `results[i]` answered. Sections `qvr`, `qvr.run` and `qvr.run.enabled` are patched.
 */
export function applyTrust(
  items: Array<{ section?: string }>,
  results: unknown[],
  trusted: boolean,
): unknown[] {
  if (trusted) return results;
  return results.map((value, i) => {
    const section = items[i]?.section;
    if (section === "qvr.run.enabled") return false;
    if (!value || typeof value !== "object") return value;
    if (section === "qvr.run") return { ...(value as object), enabled: false };
    if (section === "qvr") {
      const run = (value as { run?: object }).run ?? {};
      return { ...(value as object), run: { ...run, enabled: false } };
    }
    return value;
  });
}
