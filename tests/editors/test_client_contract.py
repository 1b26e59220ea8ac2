"""The one client contract (qvr_lsp.client_contract) and the files generated from it.

* The generated TypeScript constants, Lua constants and package.json blocks are current: a
  contract change without `python -m qvr_lsp.client_contract` fails here (and `--check` says
  which file).
* The server uses the contract's names and defaults: its run commands, its code lens
  commands, its settings defaults.
* The clients agree on the defaults with `qvr run`: unset `qvr.run.steps`, `qvr.run.samples`
  and `qvr.run.warmup` are null everywhere, which the server passes on as no count at all; a
  count set goes to the kind it is for only.
* The Lua file is valid Lua with the contract's values (read by nvim, when installed).
"""
from __future__ import annotations

import json
import subprocess
import sys

import pytest

from qvr.run.contract import DEFAULT_SAMPLES, DEFAULT_STEPS, DEFAULT_WARMUP, RUN_KINDS
from qvr_lsp import client_contract as contract
from qvr_lsp.features import code_lens
from qvr_lsp.run_commands import CANCEL, CHECK, COMMANDS, DISABLED, RUN_FINISHED
from qvr_lsp.runs import RunSettings, worker_command


def test_the_generated_files_are_current():
    assert contract.stale() == []
    done = subprocess.run([sys.executable, "-m", "qvr_lsp.client_contract", "--check"],
                          capture_output=True, text=True, timeout=60)
    assert (done.returncode, done.stderr) == (0, "")


def test_check_names_a_stale_file(tmp_path, monkeypatch):
    # copies of the generated files, one of them stale
    for name in ("TS_FILE", "LUA_FILE", "PACKAGE_JSON"):
        copy = tmp_path / getattr(contract, name).name
        copy.write_text(getattr(contract, name).read_text(encoding="utf-8"), encoding="utf-8")
        monkeypatch.setattr(contract, name, copy)
    monkeypatch.setattr(contract, "ROOT", tmp_path)
    stale_ts = contract.TS_FILE
    stale_ts.write_text(contract.typescript().replace('"qvr.run.svi"', '"qvr.run.fit"'))
    assert contract.stale() == [stale_ts]
    assert contract.main(["--check"]) == 1
    assert contract.main([]) == 0  # regenerates it
    assert contract.stale() == []


def test_package_json_carries_the_contract_settings_and_commands():
    package = json.loads(contract.PACKAGE_JSON.read_text(encoding="utf-8"))
    properties = package["contributes"]["configuration"]["properties"]
    assert list(properties) == [s["key"] for s in contract.SETTINGS]
    assert {k: p["default"] for k, p in properties.items()} == {
        s["key"]: s["default"] for s in contract.SETTINGS}
    assert properties["qvr.run.steps"]["default"] is None
    assert package["capabilities"]["untrustedWorkspaces"]["restrictedConfigurations"] == [
        "qvr.server.path", "qvr.run.enabled", "qvr.run.data", "qvr.run.python",
        "qvr.diagnostics.codeDescriptionBaseUrl"]
    palette = [c["command"] for c in package["contributes"]["commands"]]
    assert palette == [contract.RUNS[k]["palette"] for k in RUN_KINDS] + [
        c["command"] for c in contract.PALETTE]


def test_the_server_uses_the_contract():
    assert COMMANDS == {k: contract.RUNS[k]["command"] for k in RUN_KINDS}
    assert (CANCEL, CHECK, DISABLED, RUN_FINISHED) == (
        contract.CANCEL_COMMAND, contract.CHECK_COMMAND, contract.DISABLED_COMMAND,
        contract.RUN_FINISHED_NOTIFICATION)
    # the code lenses (a feature module) name the same commands with the same titles
    assert code_lens.RUN_COMMANDS == tuple(
        (k, contract.RUNS[k]["lens"], contract.RUNS[k]["command"]) for k in RUN_KINDS)
    assert (code_lens.CANCEL_COMMAND, code_lens.CHECK_COMMAND, code_lens.DISABLED_COMMAND) == (
        contract.CANCEL_COMMAND, contract.CHECK_COMMAND, contract.DISABLED_COMMAND)
    defaults = RunSettings()
    assert (defaults.enabled, defaults.steps, defaults.samples, defaults.warmup, defaults.device,
            defaults.data, defaults.python, defaults.max_concurrent, defaults.timeout,
            defaults.grace) == (True, None, None, None, None, None, None, 2, 120.0, 1.0)
    assert contract.RUN_SETTING_DEFAULTS == {
        "enabled": True, "steps": None, "samples": None, "warmup": None, "device": "",
        "data": "", "python": "", "maxConcurrent": 2, "timeout": 120.0, "grace": 1.0}


def test_unset_counts_run_the_cli_default_of_each_kind():
    # what every client sends for unset counts (null, or nothing) ...
    settings = RunSettings().merged({"qvr": {"run": {"steps": None, "samples": None,
                                                     "warmup": None}}})
    for kind in RUN_KINDS:
        cmd = worker_command(settings, "m.qvr", "lm", kind, "out")
        # ... leaves the counts to `qvr run`
        assert not {"--steps", "--samples", "--warmup"} & set(cmd)
    descriptions = {s["key"]: s["description"] for s in contract.SETTINGS}
    assert f"(`--steps`). Empty (null): the default of `qvr run` ({DEFAULT_STEPS})." in \
        descriptions["qvr.run.steps"]
    assert (f"(Sample {DEFAULT_SAMPLES['sample']}, NUTS {DEFAULT_SAMPLES['nuts']})"
            in descriptions["qvr.run.samples"])
    assert f"({DEFAULT_WARMUP})" in descriptions["qvr.run.warmup"]


def test_each_count_setting_goes_to_its_kind_only():
    settings = RunSettings().merged({"qvr": {"run": {"steps": 30, "samples": 40, "warmup": 0}}})
    counts = {}
    for kind in RUN_KINDS:
        cmd = worker_command(settings, "m.qvr", "lm", kind, "out")
        counts[kind] = [(flag, cmd[i + 1]) for i, flag in enumerate(cmd)
                        if flag in ("--steps", "--samples", "--warmup")]
    assert counts == {"svi": [("--steps", "30")], "sample": [("--samples", "40")],
                      "nuts": [("--samples", "40"), ("--warmup", "0")]}


def test_count_settings_refuse_what_qvr_run_refuses():
    warnings = []
    settings = RunSettings().merged({"qvr": {"run": {"samples": 0, "warmup": -1, "steps": 2.5}}},
                                    warn=warnings.append)
    assert (settings.steps, settings.samples, settings.warmup) == (None, None, None)
    assert warnings == ["qvr.run.steps: 2.5 is not a positive integer; keeping null",
                        "qvr.run.samples: 0 is not a positive integer; keeping null",
                        "qvr.run.warmup: -1 is not a non-negative integer; keeping null"]


def test_the_lua_contract_is_valid_lua(require_tool, tmp_path):
    nvim = require_tool("nvim", "install Neovim 0.7 or newer")
    script, out = tmp_path / "read.lua", tmp_path / "out.json"
    script.write_text(
        f"local c = dofile({json.dumps(str(contract.LUA_FILE))})\n"
        f"vim.fn.writefile({{vim.fn.json_encode({{c.run_commands, c.kind_titles, c.cancel_command,"
        f" c.run_finished_notification, c.run_setting_defaults}})}}, {json.dumps(str(out))})\n")
    done = subprocess.run([nvim, "--headless", "--clean", "-c", f"luafile {script}", "-c", "qa!"],
                          stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and out.exists(), done.stderr
    commands, titles, cancel, finished, defaults = json.loads(out.read_text())
    assert commands == {k: contract.RUNS[k]["command"] for k in RUN_KINDS}
    assert titles == {k: contract.RUNS[k]["name"] for k in RUN_KINDS}
    assert (cancel, finished) == (contract.CANCEL_COMMAND, contract.RUN_FINISHED_NOTIFICATION)
    assert defaults == contract.RUN_SETTING_DEFAULTS
