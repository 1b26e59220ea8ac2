/**
 * Finding the qvr-lsp executable. Pure logic: the file system and the environment are passed in,
 * so the search order is unit-tested without VS Code.
 *
 * Order: the `qvr.server.path` setting, then a virtual environment in a workspace folder
 * (`.venv`, `venv`; only in a trusted workspace, because a folder's own venv is code the
 * folder ships), then `qvr-lsp` on PATH.
 */
import * as path from "path";

export const SERVER_EXECUTABLE = "qvr-lsp";
export const INSTALL_COMMAND = "pip install -e <path to your qvr-tools checkout>";

export interface ServerSearch {
  /** The `qvr.server.path` setting ("" when unset). */
  configured: string;
  /** Workspace folder paths, in order. */
  workspaceFolders: string[];
  /** Whether the workspace is trusted (untrusted workspaces never run their own venv). */
  trusted: boolean;
  /** The PATH environment variable. */
  pathEnv: string;
  platform: NodeJS.Platform;
  /** Whether a file exists and is executable. */
  isExecutable: (file: string) => boolean;
}

export type ServerLocation =
  | { found: true; command: string; source: "setting" | "venv" | "PATH" }
  | { found: false; message: string };

function executableNames(platform: NodeJS.Platform): string[] {
  return platform === "win32" ? [`${SERVER_EXECUTABLE}.exe`, `${SERVER_EXECUTABLE}.cmd`] : [SERVER_EXECUTABLE];
}

/** The venv locations searched in one workspace folder, in order. */
export function venvCandidates(folder: string, platform: NodeJS.Platform): string[] {
  const binDir = platform === "win32" ? "Scripts" : "bin";
  return [".venv", "venv"].flatMap((venv) =>
    executableNames(platform).map((exe) => path.join(folder, venv, binDir, exe)),
  );
}

export function findServer(search: ServerSearch): ServerLocation {
  const configured = search.configured.trim();
  if (configured) {
    if (search.isExecutable(configured)) return { found: true, command: configured, source: "setting" };
    return {
      found: false,
      message: `The QVR language server set in qvr.server.path (${configured}) is not an executable file. ` +
        `Fix the setting, or clear it to use ${SERVER_EXECUTABLE} from the workspace venv or PATH.`,
    };
  }
  if (search.trusted) {
    for (const folder of search.workspaceFolders) {
      const hit = venvCandidates(folder, search.platform).find(search.isExecutable);
      if (hit) return { found: true, command: hit, source: "venv" };
    }
  }
  const separator = search.platform === "win32" ? ";" : ":";
  for (const dir of search.pathEnv.split(separator).filter(Boolean)) {
    const hit = executableNames(search.platform)
      .map((exe) => path.join(dir, exe))
      .find(search.isExecutable);
    if (hit) return { found: true, command: hit, source: "PATH" };
  }
  return {
    found: false,
    message: `The QVR language server (${SERVER_EXECUTABLE}) was not found in the workspace venv or on PATH. ` +
      `Install it with \`${INSTALL_COMMAND}\` (in the environment you use for this workspace), ` +
      `or set qvr.server.path to the qvr-lsp executable.`,
  };
}
