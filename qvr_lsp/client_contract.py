"""The one contract between the language server and its clients: commands, requests,
notifications and settings.

Everything a client must agree on with the server is written once here: the server commands
(``qvr.run.svi`` …) with their titles, the custom requests and notifications, the VS Code
palette commands, and the settings with their types and defaults. The server reads these
constants (`qvr_lsp.run_commands`, `qvr_lsp.runs`), and the clients' copies are generated from
them:

* ``vscode-extension/src/contract.ts`` (TypeScript constants),
* ``editors/neovim/lua/qvr/contract.lua`` (Lua constants),
* ``vscode-extension/package.json``: ``contributes.commands``, ``contributes.menus``,
  ``contributes.configuration`` and the workspace-trust ``restrictedConfigurations``.

    python -m qvr_lsp.client_contract           # write the generated files
    python -m qvr_lsp.client_contract --check   # exit 1 when one is out of date

Defaults are those of ``qvr run`` (`qvr.run.contract`): ``qvr.run.steps`` (SVI steps),
``qvr.run.samples`` (Sample draws, NUTS draws per chain) and ``qvr.run.warmup`` (NUTS warm-up
per chain) are null in every client, which means the runner's own default, so a run from VS
Code, from Neovim and from the command line does the same. Each setting is passed on only to
the kind it is for, as the flag of the same name.

The settings table (`SETTINGS`, `RUN_SETTING_DEFAULTS`, `DIAGNOSTICS_SETTING_DEFAULTS`) is
built on first use (`settings`): its descriptions quote the runner's defaults, and the
language server registers its handlers from the names alone, without importing
`qvr.run.contract` (about 3.5 ms of its start-up).
"""
from __future__ import annotations

import functools
import json
import sys
from pathlib import Path
from typing import Any

# ------------------------------------------------------------------------------------------------
# the contract

#: Per run kind: the server command, the kind's name in messages, the code lens title and the
#: VS Code palette command that runs the entry under the cursor.
RUNS = {
    "svi": {"command": "qvr.run.svi", "name": "SVI", "lens": "Run SVI",
            "palette": "qvr.runSvi", "palette_title": "Run SVI on Program"},
    "sample": {"command": "qvr.run.sample", "name": "Sample", "lens": "Sample",
               "palette": "qvr.runSample", "palette_title": "Sample from Program"},
    "nuts": {"command": "qvr.run.nuts", "name": "NUTS", "lens": "Run NUTS",
             "palette": "qvr.runNuts", "palette_title": "Run NUTS on Program"},
}
#: The run kinds, in the order of `qvr.run.contract.RUN_KINDS` (`settings` checks it).
RUN_KINDS = tuple(RUNS)

#: Server commands other than the runs (``workspace/executeCommand``).
CANCEL_COMMAND = "qvr.run.cancel"  # [{"uri"?, "entry"?}]; none: every run
CHECK_COMMAND = "qvr.run.check"  # a lens: summarise an entry's diagnostics
DISABLED_COMMAND = "qvr.run.disabled"  # a lens: say why runs are off
MIGRATE_COMMAND = "qvr.migrateFile"  # [{"uri"}]

#: Custom requests and notifications.
ENTRY_AT_REQUEST = "qvr/entryAt"  # {textDocument, position} -> the entry under the cursor
DEBUG_INFO_REQUEST = "qvr/debugInfo"
RUN_FINISHED_NOTIFICATION = "qvr/runFinished"

#: ``initializationOptions`` key: the client shows ``qvr/runFinished`` itself.
RUN_FINISHED_OPTION = "runFinishedNotification"

#: The setting naming where docs/diagnostics.md is published; with it each diagnostic links to
#: its code's section (LSP ``codeDescription``). Sent in ``initializationOptions`` and
#: ``didChangeConfiguration`` as ``{"diagnostics": {"codeDescriptionBaseUrl": ...}}``.
CODE_DESCRIPTION_SETTING = "qvr.diagnostics.codeDescriptionBaseUrl"

#: The VS Code palette commands other than the runs (client-side only).
PALETTE = [
    {"command": "qvr.cancelRun", "title": "Cancel Run"},
    {"command": "qvr.showLastResult", "title": "Show Last Result"},
    {"command": "qvr.migrateCurrentFile", "title": "Migrate File to Current Syntax",
     "when": "editorLangId == qvr"},
    {"command": "qvr.restartServer", "title": "Restart Server"},
]


@functools.cache
def settings() -> list[dict[str, Any]]:
    """Every setting: key, JSON type(s), default, VS Code scope, description; ``server``: the
    language server reads it (section ``qvr.run``); ``restricted``: off limits to an untrusted
    workspace. The module attribute `SETTINGS` is this list."""
    from qvr.run.contract import DEFAULT_SAMPLES, DEFAULT_STEPS, DEFAULT_WARMUP
    from qvr.run.contract import RUN_KINDS as RUNNER_KINDS

    assert RUN_KINDS == RUNNER_KINDS
    return [
        {"key": "qvr.server.path", "type": "string", "default": "", "scope": "machine-overridable",
         "restricted": True, "server": False,
         "description": "Path to the `qvr-lsp` executable. Empty: use `.venv/bin/qvr-lsp` or "
                        "`venv/bin/qvr-lsp` in the workspace, else `qvr-lsp` on `PATH`. Install it "
                        "with `pip install -e <path to your qvr-tools checkout>`. In a remote "
                        "window, set it in the Remote settings."},
        {"key": "qvr.run.enabled", "type": "boolean", "default": True, "scope": "resource",
         "restricted": True, "server": True,
         "description": "Allow model runs (Run SVI / Sample / Run NUTS) from the editor. Runs are "
                        "always disabled in untrusted workspaces."},
        {"key": "qvr.run.steps", "type": ["integer", "null"], "default": None, "minimum": 1,
         "scope": "resource", "server": True,
         "description": "Optimisation steps of an SVI run started from the editor (`--steps`). "
                        f"Empty (null): the default of `qvr run` ({DEFAULT_STEPS})."},
        {"key": "qvr.run.samples", "type": ["integer", "null"], "default": None, "minimum": 1,
         "scope": "resource", "server": True,
         "description": "Draws of a Sample run, and draws per chain after warm-up of a NUTS run, "
                        "started from the editor (`--samples`). Empty (null): the default of `qvr "
                        f"run` (Sample {DEFAULT_SAMPLES['sample']}, "
                        f"NUTS {DEFAULT_SAMPLES['nuts']})."},
        {"key": "qvr.run.warmup", "type": ["integer", "null"], "default": None, "minimum": 0,
         "scope": "resource", "server": True,
         "description": "Warm-up iterations per chain of a NUTS run started from the editor "
                        f"(`--warmup`). Empty (null): the default of `qvr run` "
                        f"({DEFAULT_WARMUP})."},
        {"key": "qvr.run.device", "type": "string", "default": "", "scope": "resource",
         "server": True,
         "description": "Torch device for runs (`cpu`, `cuda`, `cuda:1`, `mps`). Empty: the "
                        "runtime's default (CUDA when available, else CPU)."},
        {"key": "qvr.run.data", "type": "string", "default": "", "scope": "resource",
         "restricted": True, "server": True,
         "description": "Data file for runs (relative to the workspace). Empty: synthetic data "
                        "sampled from the model."},
        {"key": "qvr.run.python", "type": "string", "default": "", "scope": "machine-overridable",
         "restricted": True, "server": True,
         "description": "Python interpreter that runs `python -m qvr run` (needs `torch`). Empty: "
                        "the interpreter the language server runs under."},
        {"key": "qvr.run.maxConcurrent", "type": "integer", "default": 2, "minimum": 1,
         "scope": "window", "server": True,
         "description": "How many runs may go on at once; later ones wait in a queue."},
        {"key": "qvr.run.timeout", "type": "number", "default": 120.0, "exclusiveMinimum": 0,
         "scope": "window", "server": True,
         "description": "Seconds a run may stay silent (model loading included) before it counts "
                        "as hung and is stopped."},
        {"key": "qvr.run.grace", "type": "number", "default": 1.0, "exclusiveMinimum": 0,
         "scope": "window", "server": True,
         "description": "Seconds between asking a stopped run's worker to end (SIGTERM) and "
                        "killing it."},
        {"key": CODE_DESCRIPTION_SETTING, "type": "string", "default": "", "scope": "window",
         "restricted": True, "server": True,
         "description": "Where `docs/diagnostics.md` is published (the URL of the folder holding "
                        "it, e.g. `https://example.org/qvr-tools/docs`). Set: each diagnostic "
                        "links to its code's section (`<base>/diagnostics.md#qvr013`). Empty: no "
                        "links."},
        {"key": "qvr.trace.server", "type": "string", "default": "off",
         "enum": ["off", "messages", "verbose"], "scope": "window", "server": False,
         "description": "Trace the communication between VS Code and the QVR language server "
                        "(shown in the *QVR Language Server* output channel)."},
    ]


@functools.cache
def _defaults(section: str) -> dict[str, Any]:
    """The defaults of the settings in `section` (``qvr.run.``) by their name in it."""
    return {s["key"].removeprefix(section): s["default"]
            for s in settings() if s["key"].startswith(section)}


def __getattr__(name: str) -> Any:
    """`SETTINGS`, and the defaults by name: ``RUN_SETTING_DEFAULTS`` (``qvr.run.*``,
    ``maxConcurrent``…) and ``DIAGNOSTICS_SETTING_DEFAULTS`` (``qvr.diagnostics.*``)."""
    if name == "SETTINGS":
        return settings()
    if name == "RUN_SETTING_DEFAULTS":
        return _defaults("qvr.run.")
    if name == "DIAGNOSTICS_SETTING_DEFAULTS":
        return _defaults("qvr.diagnostics.")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


# ------------------------------------------------------------------------------------------------
# generated files

ROOT = Path(__file__).resolve().parents[1]
TS_FILE = ROOT / "vscode-extension" / "src" / "contract.ts"
LUA_FILE = ROOT / "editors" / "neovim" / "lua" / "qvr" / "contract.lua"
PACKAGE_JSON = ROOT / "vscode-extension" / "package.json"
_BANNER = "Generated by `python -m qvr_lsp.client_contract` from qvr_lsp/client_contract.py: do not edit."


def _ts_type(setting: dict) -> str:
    names = setting["type"] if isinstance(setting["type"], list) else [setting["type"]]
    return " | ".join({"integer": "number", "null": "null"}.get(n, n) for n in names)


def typescript() -> str:
    """``vscode-extension/src/contract.ts``."""
    q = json.dumps
    kinds = " | ".join(q(k) for k in RUN_KINDS)

    def record(field: str) -> str:
        return "{ " + ", ".join(f"{k}: {q(RUNS[k][field])}" for k in RUN_KINDS) + " }"

    run_settings = [s for s in settings() if s["key"].startswith("qvr.run.")]
    fields = "\n".join(f"  {s['key'].removeprefix('qvr.run.')}: {_ts_type(s)};" for s in run_settings)
    defaults = "\n".join(f"  {name}: {q(value)}," for name, value in _defaults("qvr.run.").items())
    diagnostic_settings = [s for s in settings() if s["key"].startswith("qvr.diagnostics.")]
    diagnostic_fields = "\n".join(f"  {s['key'].removeprefix('qvr.diagnostics.')}: {_ts_type(s)};"
                                  for s in diagnostic_settings)
    diagnostic_defaults = "\n".join(f"  {name}: {q(value)},"
                                    for name, value in _defaults("qvr.diagnostics.").items())
    return f"""// {_BANNER}
// The commands, requests, notifications and settings the extension shares with qvr-lsp.

export type RunKind = {kinds};
export const RUN_KINDS: readonly RunKind[] = [{", ".join(q(k) for k in RUN_KINDS)}];
/** The server command for each run kind (workspace/executeCommand, argument {{ uri, entry }}). */
export const RUN_COMMANDS: Record<RunKind, string> = {record("command")};
/** Each kind's name in messages ("SVI on lm finished"). */
export const KIND_TITLES: Record<string, string> = {record("name")};
/** The palette command that runs the entry under the cursor. */
export const PALETTE_RUN_COMMANDS: Record<RunKind, string> = {record("palette")};
export const CANCEL_COMMAND = {q(CANCEL_COMMAND)};
export const CHECK_COMMAND = {q(CHECK_COMMAND)};
export const DISABLED_COMMAND = {q(DISABLED_COMMAND)};
export const MIGRATE_COMMAND = {q(MIGRATE_COMMAND)};
export const ENTRY_AT_REQUEST = {q(ENTRY_AT_REQUEST)};
export const RUN_FINISHED_NOTIFICATION = {q(RUN_FINISHED_NOTIFICATION)};
export const RUN_FINISHED_OPTION = {q(RUN_FINISHED_OPTION)};
export const CANCEL_RUN_PALETTE = "qvr.cancelRun";
export const SHOW_LAST_RESULT_PALETTE = "qvr.showLastResult";
export const MIGRATE_PALETTE = "qvr.migrateCurrentFile";
export const RESTART_PALETTE = "qvr.restartServer";

/** The `qvr.run` settings section. */
export interface RunSettings {{
{fields}
}}

/** Their defaults (`steps`, `samples`, `warmup` null: the `qvr run` defaults). */
export const RUN_SETTING_DEFAULTS: RunSettings = {{
{defaults}
}};

/** The `qvr.diagnostics` settings section (`codeDescriptionBaseUrl` empty: no links). */
export interface DiagnosticsSettings {{
{diagnostic_fields}
}}

export const DIAGNOSTICS_SETTING_DEFAULTS: DiagnosticsSettings = {{
{diagnostic_defaults}
}};
"""


def _lua(value: Any) -> str:
    if value is None:
        return "vim.NIL"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    return json.dumps(value)


def lua() -> str:
    """``editors/neovim/lua/qvr/contract.lua``."""
    def table(field: str) -> str:
        return "{ " + ", ".join(f"{k} = {_lua(RUNS[k][field])}" for k in RUN_KINDS) + " }"

    defaults = "\n".join(f"    {name} = {_lua(value)}," for name, value in _defaults("qvr.run.").items())
    diagnostic_defaults = "\n".join(
        f"    {name} = {_lua(value)}," for name, value in _defaults("qvr.diagnostics.").items())
    return f"""-- {_BANNER}
-- The commands, requests, notifications and settings the plugin shares with qvr-lsp.
return {{
  run_kinds = {{ {", ".join(_lua(k) for k in RUN_KINDS)} }},
  run_commands = {table("command")},
  kind_titles = {table("name")},
  cancel_command = {_lua(CANCEL_COMMAND)},
  check_command = {_lua(CHECK_COMMAND)},
  disabled_command = {_lua(DISABLED_COMMAND)},
  migrate_command = {_lua(MIGRATE_COMMAND)},
  entry_at_request = {_lua(ENTRY_AT_REQUEST)},
  run_finished_notification = {_lua(RUN_FINISHED_NOTIFICATION)},
  run_finished_option = {_lua(RUN_FINISHED_OPTION)},
  -- qvr.run.* defaults (steps, samples, warmup vim.NIL: the `qvr run` defaults)
  run_setting_defaults = {{
{defaults}
  }},
  -- qvr.diagnostics.* defaults (codeDescriptionBaseUrl "": diagnostics carry no links)
  diagnostics_setting_defaults = {{
{diagnostic_defaults}
  }},
}}
"""


def package_json(current: dict) -> dict:
    """`current` (package.json) with the generated parts replaced."""
    out = json.loads(json.dumps(current))
    contributes = out.setdefault("contributes", {})
    run_palette = [{"command": RUNS[k]["palette"], "title": RUNS[k]["palette_title"],
                    "when": "editorLangId == qvr", "trusted": True} for k in RUN_KINDS]
    palette = run_palette + PALETTE
    commands = []
    for c in palette:
        entry = {"command": c["command"], "title": c["title"], "category": "QVR"}
        if c.get("trusted"):
            entry["enablement"] = "isWorkspaceTrusted"
        commands.append(entry)
    contributes["commands"] = commands
    contributes["menus"] = {"commandPalette": [{"command": c["command"], "when": c["when"]}
                                               for c in palette if c.get("when")]}
    properties = {}
    for s in settings():
        prop: dict[str, Any] = {"type": s["type"], "default": s["default"]}
        for key in ("minimum", "exclusiveMinimum", "enum"):
            if key in s:
                prop[key] = s[key]
        prop["scope"] = s["scope"]
        prop["markdownDescription"] = s["description"]
        properties[s["key"]] = prop
    contributes["configuration"] = {"title": "QVR", "properties": properties}
    trust = out.setdefault("capabilities", {}).setdefault("untrustedWorkspaces", {})
    trust["restrictedConfigurations"] = [s["key"] for s in settings() if s.get("restricted")]
    return out


def generated() -> dict[Path, str]:
    """Every generated file's path and wanted text."""
    package = package_json(json.loads(PACKAGE_JSON.read_text(encoding="utf-8")))
    return {
        TS_FILE: typescript(),
        LUA_FILE: lua(),
        PACKAGE_JSON: json.dumps(package, indent=2, ensure_ascii=False) + "\n",
    }


def stale() -> list[Path]:
    """The generated files whose text is not what the contract gives."""
    return [path for path, text in generated().items()
            if not path.exists() or path.read_text(encoding="utf-8") != text]


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv != ["--check"]:
        print("usage: python -m qvr_lsp.client_contract [--check]", file=sys.stderr)
        return 2
    if argv == ["--check"]:
        old = stale()
        for path in old:
            print(f"{path.relative_to(ROOT)} is out of date: run python -m qvr_lsp.client_contract",
                  file=sys.stderr)
        return 1 if old else 0
    for path, text in generated().items():
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            path.write_text(text, encoding="utf-8")
            print(f"wrote {path.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
