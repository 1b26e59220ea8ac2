/**
 * The `qvr` settings as the server sees them. Workspace trust is folded in here: in an
 * untrusted workspace `qvr.run.enabled` is always false, whatever the settings say, both in
 * the initializationOptions and in every `workspace/configuration` answer.
 */

export interface RunSettings {
  enabled: boolean;
  steps: number;
  device: string;
  data: string;
  python: string;
}

export interface QvrSettings {
  run: RunSettings;
}

/** Reads one setting below `qvr.` (VS Code's WorkspaceConfiguration.get, injected). */
export type SettingReader = <T>(key: string, fallback: T) => T;

export function readSettings(get: SettingReader, trusted: boolean): QvrSettings {
  return {
    run: {
      enabled: get("run.enabled", true) && trusted,
      steps: get("run.steps", 200),
      device: get("run.device", ""),
      data: get("run.data", ""),
      python: get("run.python", ""),
    },
  };
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
