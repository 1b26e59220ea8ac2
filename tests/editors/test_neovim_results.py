"""The Neovim plugin's result display (`describe`, `:QvrShowResult`) for each kind of run.

SVI reports its loss; Sample and NUTS report the log joint of their draws, and the plugin
names it so (the fields of `qvr/runFinished` follow `metric`). Runs the plugin's Lua in a real
headless Neovim, without a language server.
"""
from __future__ import annotations

import json
import subprocess
from pathlib import Path

PLUGIN = Path(__file__).resolve().parents[2] / "editors" / "neovim"

SCRIPT = """
vim.opt.runtimepath:prepend(%(plugin)s)
local qvr = require("qvr")
local out = {}
for _, payload in ipairs(vim.fn.json_decode(%(payloads)s)) do
  qvr.last_result = payload
  table.insert(out, { describe = qvr.describe(payload), lines = qvr.show_result() })
end
vim.fn.writefile({ vim.fn.json_encode(out) }, %(out)s)
"""

SAMPLE = {"uri": "file:///m.qvr", "entry": "m", "kind": "sample", "ok": True, "status": "ok",
          "metric": "log_joint", "final_log_joint": -8.25, "elapsed": 0.5, "device": "cpu",
          "log_joints": [-10, -9, -8.25], "posterior": {},
          "log_joint_curve_path": "/r/log_joint.png", "summary_path": "/r/summary.json",
          "message": ""}
SVI = {"uri": "file:///m.qvr", "entry": "m", "kind": "svi", "ok": True, "status": "ok",
       "metric": "loss", "final_loss": 1.5, "elapsed": 2.0, "device": "cpu",
       "losses": [3, 2, 1.5], "posterior": {}, "loss_curve_path": "/r/loss.png",
       "summary_path": "/r/summary.json", "message": ""}


def test_results_name_the_log_joint_of_sample_runs_and_the_loss_of_svi(require_tool, tmp_path):
    nvim = require_tool("nvim", "install Neovim 0.7 or newer")
    script, out = tmp_path / "show.lua", tmp_path / "out.json"
    script.write_text(SCRIPT % {"plugin": json.dumps(str(PLUGIN)),
                                "payloads": json.dumps(json.dumps([SAMPLE, SVI])),
                                "out": json.dumps(str(out))})
    done = subprocess.run([nvim, "--headless", "--clean", "-c", f"luafile {script}", "-c", "qa!"],
                          stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and out.exists(), done.stderr
    sample, svi = json.loads(out.read_text())
    assert sample == {
        "describe": "Sample on m finished: final log joint -8.25 in 0.5 s on cpu",
        "lines": ["Sample on m finished: final log joint -8.25 in 0.5 s on cpu", "",
                  "log joint  ▁▅█", "           3 draws, -10 → -8.25",
                  "log joint curve path: /r/log_joint.png", "summary path: /r/summary.json"]}
    assert svi == {
        "describe": "SVI on m finished: final loss 1.5 in 2.0 s on cpu",
        "lines": ["SVI on m finished: final loss 1.5 in 2.0 s on cpu", "",
                  "loss  █▃▁", "      3 steps, 3 → 1.5",
                  "loss curve path: /r/loss.png", "summary path: /r/summary.json"]}
