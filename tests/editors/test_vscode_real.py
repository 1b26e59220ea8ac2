"""The VS Code extension in a real VS Code: code-server (VS Code 1.100 in the browser) driven
through Debian's Chromium with playwright-core (tests/editors/code_server/driver.mjs).

The stubbed unit tests in vscode-extension/test check the extension's logic; only a real host
shows whether the packaged .vsix activates, finds qvr-lsp, and whether diagnostics, hover,
completion, code lenses, runs with progress and cancel, the results webview, rename, format
and workspace trust reach the user. The driver records what the UI showed; the tests below
compare it with what the server computes for the same text (qvr_lsp's own functions).

Setup: `bash tests/editors/code_server/install.sh` (pinned code-server and playwright-core in a
cache folder) and `apt-get install chromium`. Missing: skipped locally, a failure under CI=true.
Browser traffic must stay on 127.0.0.1: the driver records any request to another host.

QVR_SCREENSHOTS=docs/images python -m pytest tests/editors/test_vscode_real.py
regenerates the README's screenshots (1280x800, palette PNG).
"""
from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from qvr_lsp.documents import Document
from qvr_lsp.features import families, formatting, rename

ROOT = Path(__file__).resolve().parents[2]
SEED = ROOT / "examples" / "seed_002_vanilla_rnn_lm.qvr"
HERE = Path(__file__).with_name("code_server")
EXTENSION = ROOT / "vscode-extension"
CODE_SERVER_HOME = Path(os.environ.get("QVR_CODE_SERVER_HOME")
                        or Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "qvr-tools" / "code-server")
SESSION_TIMEOUT_S = 600
RUN_STEPS = 30
LONG_STEPS = 1_000_000
ENTRY = "vanilla_rnn_lm"

pytestmark = pytest.mark.slow

# What code-server would otherwise fetch from the internet (extension gallery, updates,
# experiments) is switched off; the test then checks that nothing else leaves 127.0.0.1.
USER_SETTINGS = {
    "qvr.run.steps": RUN_STEPS,
    "qvr.run.device": "cpu",
    "workbench.startupEditor": "none",
    "workbench.colorTheme": "Default Dark Modern",
    "workbench.enableExperiments": False,
    "workbench.tips.enabled": False,
    "telemetry.telemetryLevel": "off",
    "extensions.autoCheckUpdates": False,
    "extensions.autoUpdate": False,
    "extensions.ignoreRecommendations": True,
    "update.mode": "none",
    "editor.minimap.enabled": False,
    # The driver saves explicitly, so an edit stays visible (dirty) until it does.
    "files.autoSave": "off",
}


def _missing(what: str, how: str):
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"{what} is missing but CI=true: {how}")
    pytest.skip(f"{what} is missing ({how})")


def _vsix() -> Path:
    """The packaged extension; rebuilt (vscode-extension/build.sh) when a source is newer."""
    package = json.loads((EXTENSION / "package.json").read_text())
    vsix = EXTENSION / f"{package['name']}-{package['version']}.vsix"
    sources = [p for d in ("src", "snippets", "scripts") for p in (EXTENSION / d).rglob("*") if p.is_file()]
    sources += [EXTENSION / "package.json", EXTENSION / "language-configuration.json", ROOT / "grammar" / "vocabulary.json"]
    if not vsix.exists() or vsix.stat().st_mtime < max(p.stat().st_mtime for p in sources):
        proc = subprocess.run(["bash", str(EXTENSION / "build.sh")], capture_output=True, text=True, timeout=600)
        assert proc.returncode == 0, f"vscode-extension/build.sh failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
    return vsix


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _apply(text: str, edits) -> str:
    for span, new in sorted(edits, key=lambda e: e[0].start, reverse=True):
        text = text[:span.start] + new + text[span.end:]
    return text


def _optimise_png(path: Path) -> None:
    """A 256-colour palette PNG: the UI has few colours, and the README images stay small."""
    from PIL import Image

    with Image.open(path) as image:
        small = image.convert("RGB").quantize(colors=256, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE)
    small.save(path, optimize=True)


class Workspace:
    """The files the driver opens, and what the server says they should become."""

    def __init__(self, root: Path):
        seed = SEED.read_text()
        self.trusted = root / "trusted"
        self.untrusted = root / "untrusted"
        self.long = root / "long"
        for folder in (self.trusted, self.untrusted, self.long):
            folder.mkdir()
            (folder / "lm.qvr").write_text(seed)
        # The long run (cancelled) takes its step count from this folder's settings.
        (self.long / ".vscode").mkdir()
        (self.long / ".vscode" / "settings.json").write_text(json.dumps({"qvr.run.steps": LONG_STEPS}))
        # broken.qvr: a call of a name that is not declared.
        self.broken_text = seed.replace("lm_head(h)", "lm_headd(h)")
        (self.trusted / "broken.qvr").write_text(self.broken_text)
        doc = Document("file:///broken.qvr", self.broken_text, 1)
        errors = [d for d in doc.analysis.diagnostics if int(d.severity) == 1]
        assert errors, "the broken copy must have an error"
        line, col = doc.line_index.position(errors[0].span.start)
        self.broken = {"code": errors[0].code, "line": line + 1, "col": col + 1, "message": errors[0].message}
        # complete.qvr: a morphism declaration stopped before its family.
        partial = "morphism extra : Hidden -> Token "
        (self.trusted / "complete.qvr").write_text(seed + partial + "\n")
        self.complete_at = [seed.count("\n") + 1, len(partial) + 1]
        # rename.qvr: the morphism `cell` renamed at its declaration.
        (self.trusted / "rename.qvr").write_text(seed)
        offset = seed.index("morphism cell") + len("morphism ")
        line, col = Document("file:///r.qvr", seed, 1).line_index.position(offset)
        self.rename_at = [line + 1, col + 1]
        self.renamed = _apply(seed, rename.rename(Document("file:///r.qvr", seed, 1), offset, "rnn_cell"))
        # format.qvr: the seed with its spacing and indentation spoiled.
        messy = (seed.replace("object Token : FinSet 256", "object   Token:FinSet 256")
                 .replace("    observe next_token", "      observe   next_token")
                 .replace("Hidden -> Token [role=kernel]", "Hidden->Token  [role=kernel]"))
        (self.trusted / "format.qvr").write_text(messy)
        result = formatting.format_document(Document("file:///f.qvr", messy, 1))
        assert result.message is None and result.edits, result
        self.formatted = _apply(messy, result.edits)


@pytest.fixture(scope="module")
def record(tmp_path_factory, require_tool) -> dict:
    node = require_tool("node", "install node 20")
    require_tool("npm", "install node 20 with npm")
    chromium = require_tool("chromium", "apt-get install -y chromium")
    code_server = CODE_SERVER_HOME / "node_modules" / ".bin" / "code-server"
    if not code_server.exists():
        _missing(f"code-server ({code_server})", "bash tests/editors/code_server/install.sh")
    server = Path(sys.executable).with_name("qvr-lsp")
    assert server.exists(), f"qvr-lsp is not installed next to {sys.executable}"
    vsix = _vsix()

    work = tmp_path_factory.mktemp("code-server")
    ws = Workspace(work)
    home, user_data, extensions = work / "home", work / "user-data", work / "extensions"
    for d in (home, user_data / "User", extensions):
        d.mkdir(parents=True)
    env = dict(os.environ, HOME=str(home), XDG_CONFIG_HOME=str(home / ".config"),
               XDG_DATA_HOME=str(home / ".local/share"), XDG_CACHE_HOME=str(home / ".cache"),
               TMPDIR=str(work))
    env.pop("VSCODE_IPC_HOOK_CLI", None)
    common = ["--user-data-dir", str(user_data), "--extensions-dir", str(extensions)]
    proc = subprocess.run([str(code_server), *common, "--install-extension", str(vsix)],
                          env=env, capture_output=True, text=True, timeout=180)
    assert proc.returncode == 0 and "successfully installed" in proc.stdout, proc.stdout + proc.stderr
    settings = user_data / "User" / "settings.json"
    settings.write_text(json.dumps(USER_SETTINGS, indent=2))
    # `qvr.server.path` is machine-overridable: a remote window (code-server is one) applies it
    # from the remote machine's settings, and drops it from the user's own once it knows the
    # setting's scope, which is a matter of timing. PATH is no fallback: the extension host
    # takes its environment from a login shell, without this virtual environment.
    machine = user_data / "Machine"
    machine.mkdir(exist_ok=True)
    (machine / "settings.json").write_text(json.dumps({"qvr.server.path": str(server)}, indent=2))

    port = _free_port()
    log = (work / "code-server.log").open("w+")
    cs = subprocess.Popen(
        [str(code_server), *common, "--auth", "none", "--bind-addr", f"127.0.0.1:{port}",
         "--disable-telemetry", "--disable-update-check"],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True)
    try:
        # Ready when it says it listens (read line by line: no polling, no sleep).
        for line in cs.stdout:
            log.write(line)
            if "HTTP server listening" in line:
                break
        else:
            pytest.fail(f"code-server exited ({cs.wait()}) before listening:\n{log.name}")
        screenshots = os.environ.get("QVR_SCREENSHOTS")
        if screenshots:
            Path(screenshots).mkdir(parents=True, exist_ok=True)
        config = {
            "url": f"http://127.0.0.1:{port}",
            "trustedFolder": str(ws.trusted),
            "untrustedFolder": str(ws.untrusted),
            "longFolder": str(ws.long),
            "files": {"model": "lm.qvr", "broken": "broken.qvr", "complete": "complete.qvr",
                      "rename": "rename.qvr", "format": "format.qvr"},
            "inlayHint": "h: Hidden(128)",
            "positions": {"hoverWord": "cell", "brokenCode": ws.broken["code"], "completeAt": ws.complete_at,
                          "renameAt": ws.rename_at, "renameTo": "rnn_cell"},
            "longSteps": LONG_STEPS,
            "out": str(work / "observed.json"),
            "screenshots": str(Path(screenshots).resolve()) if screenshots else None,
            "debug": str(work),
            "modules": str(CODE_SERVER_HOME),
            "chromium": chromium,
        }
        (work / "config.json").write_text(json.dumps(config, indent=2))
        driver = subprocess.run([node, str(HERE / "driver.mjs"), str(work / "config.json")],
                                capture_output=True, text=True, timeout=SESSION_TIMEOUT_S, env=dict(os.environ, HOME=str(home)))
    finally:
        os.killpg(cs.pid, signal.SIGTERM)
        try:
            cs.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(cs.pid, signal.SIGKILL)
            cs.wait()
        log.write(cs.stdout.read() if cs.stdout else "")
        log.close()
    observed_path = work / "observed.json"
    if not observed_path.exists():
        pytest.fail(f"the driver wrote no record (exit {driver.returncode}):\n{driver.stdout}\n{driver.stderr}")
    observed = json.loads(observed_path.read_text())
    if screenshots:
        for shot in observed["shots"]:
            _optimise_png(Path(shot))
    observed["_ws"] = ws
    observed["_debug"] = f"driver exit {driver.returncode}; record, failure screenshots and logs in {work}\n{driver.stderr[-2000:]}"
    return observed


def _step(record: dict, name: str):
    value = record.get(name)
    if not value:
        errors = [e for e in record["errors"] if e.startswith(f"{name}:")]
        pytest.fail(f"{name} did not complete: {errors}\n{record['_debug']}")
    return value


def test_no_request_leaves_localhost(record):
    assert record["foreign"] == []


def test_editor_shows_highlighting_inlay_hints_and_lenses(record):
    opened = _step(record, "trusted_open")
    assert any(lens.startswith("Run SVI | Sample | Run NUTS") for lens in opened["lenses"]), opened["lenses"]
    assert "sample h: Hidden(128) <- backbone" in opened["text"]
    classes = opened["classes"]
    # Keywords, names, numbers and families are coloured apart (TextMate and semantic tokens).
    assert len({classes["morphism"], classes["cell"], classes["256"], classes["Normal"]}) >= 3, classes
    assert len(opened["colours"]) >= 5


def test_hover_over_a_morphism(record):
    hover = _step(record, "hover")["text"]
    assert "cell : Embedded" in hover
    assert "Normal" in hover


def test_problems_panel_lists_the_error_with_code_and_line(record):
    rows = _step(record, "problems")["rows"]
    broken = record["_ws"].broken
    where = f"[Ln {broken['line']}, Col {broken['col']}]"
    assert any(broken["code"] in row and where in row for row in rows), (broken, rows)


def test_completion_after_tilde_lists_families(record):
    labels = _step(record, "completion")["labels"]
    # The widget shows its first dozen rows: the declared morphisms, then families A-Z.
    assert len(set(labels) & set(families.family_names())) >= 5, labels


def test_run_svi_from_the_lens_shows_progress_and_the_result(record):
    run = _step(record, "run_svi")
    assert "Run SVI" in run["progressText"]
    assert f"SVI on {ENTRY} finished: final loss" in run["finishedText"], run
    assert "Show Result" in run["finishedText"]


def test_show_result_opens_the_loss_curve(record):
    view = _step(record, "results_view")
    assert view["heading"] == f"SVI: {ENTRY}"
    assert view["nPoints"] == RUN_STEPS
    assert re.search(r"steps\s+%d" % RUN_STEPS, view["facts"]), view["facts"]


def test_cancel_stops_a_long_run(record):
    cancel = _step(record, "cancel")
    assert f"/{LONG_STEPS}" in cancel["progressText"]
    assert "cancel" in cancel["outcomeText"].lower(), cancel
    assert "finished" not in cancel["outcomeText"], cancel


def test_rename_changes_the_text_as_the_server_says(record):
    _step(record, "rename")
    assert (record["_ws"].trusted / "rename.qvr").read_text() == record["_ws"].renamed


def test_format_document_changes_the_text_as_the_server_says(record):
    _step(record, "format")
    assert (record["_ws"].trusted / "format.qvr").read_text() == record["_ws"].formatted


def test_untrusted_workspace_lenses_say_why_runs_are_disabled(record):
    untrusted = _step(record, "untrusted")
    assert any("Run SVI (disabled: runs disabled)" in lens for lens in untrusted["lenses"]), untrusted["lenses"]
    assert "disabled" in untrusted["message"]


def test_every_step_completed(record):
    assert record["errors"] == [], record["_debug"]
