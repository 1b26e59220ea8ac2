"""`qvr explain`: one code's page, the list, unknown codes, `--json`, and docs/diagnostics.md
generated from the same entries (stale when it differs from what the generator prints now).

Whole outputs are compared with the fixtures in tests/cli/data/; regenerate them with
`qvr explain QVR013 > tests/cli/data/explain_QVR013.txt` and `qvr explain >
tests/cli/data/explain_list.txt` after an intended change, and read the diff.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from qvr.cli import main
from qvr.explain import CATALOGUE, render_markdown

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DATA = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data")


def _fixture(name: str) -> str:
    with open(os.path.join(DATA, name), encoding="utf-8") as f:
        return f.read()


def test_one_code_prints_its_whole_page(capsys):
    assert main(["explain", "QVR013"]) == 0
    out, err = capsys.readouterr()
    assert out == _fixture("explain_QVR013.txt")
    assert err == ""


def test_no_code_lists_every_code_with_its_title(capsys):
    assert main(["explain"]) == 0
    out, err = capsys.readouterr()
    assert out == _fixture("explain_list.txt")
    assert err == ""
    assert [line.split()[0] for line in out.splitlines()] == list(CATALOGUE)


def test_internal_has_a_page_without_an_example(capsys):
    assert main(["explain", "internal"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("internal: The checker failed on a statement\nSeverity: error\n\n")
    assert out.endswith("\n\nNo example: a correct program cannot produce this code.\n")


@pytest.mark.parametrize("given, message", [
    ("QVR13", "qvr: unknown diagnostic code `QVR13`; did you mean QVR013?\n"),
    ("qvr013", "qvr: unknown diagnostic code `qvr013`; did you mean QVR013?\n"),
    ("13", "qvr: unknown diagnostic code `13`; did you mean QVR013?\n"),
    ("QVR051", "qvr: unknown diagnostic code `QVR051`; did you mean QVR050 or QVR052?\n"),
    ("INTERNAL", "qvr: unknown diagnostic code `INTERNAL`; did you mean internal?\n"),
    ("QVR999", "qvr: unknown diagnostic code `QVR999`; `qvr explain` lists them\n"),
    ("E0308", "qvr: unknown diagnostic code `E0308`; `qvr explain` lists them\n"),
])
def test_unknown_code_is_a_usage_error_with_near_misses(capsys, given, message):
    assert main(["explain", given]) == 2
    out, err = capsys.readouterr()
    assert (out, err) == ("", message)


JSON_KEYS = {"code", "title", "severity", "explanation", "example", "example_diagnostics",
             "fix", "deprecated_form", "rewrite"}


def test_json_for_one_code(capsys):
    assert main(["explain", "QVR104", "--json"]) == 0
    entry = json.loads(capsys.readouterr().out)
    assert entry == {
        "code": "QVR104",
        "title": "Positional family arguments",
        "severity": "hint",
        "explanation": CATALOGUE["QVR104"].explanation,
        "example": "object X : Real 1\nprogram p(a) : X -> X\n    sample z <- Normal(a, 1.0)\n"
                   "    return z\nexport p\n",
        "example_diagnostics": [
            "example.qvr:3:24: hint[QVR104]: `Normal(a, 1.0)` is deprecated; write "
            "`Normal(loc=a, scale=1.0)`"],
        "fix": "object X : Real 1\nprogram p(a) : X -> X\n    sample z <- Normal(loc=a, scale=1.0)\n"
               "    return z\nexport p\n",
        "deprecated_form": "F(a, b)",
        "rewrite": "F(p1=a, p2=b)",
    }


def test_json_without_a_code_lists_every_entry(capsys):
    assert main(["explain", "--json"]) == 0
    entries = json.loads(capsys.readouterr().out)
    assert [e["code"] for e in entries] == list(CATALOGUE)
    for e in entries:
        assert set(e) == JSON_KEYS
        assert all(isinstance(e[k], str) for k in ("code", "title", "severity", "explanation"))
        if e["code"] == "internal":
            assert (e["example"], e["example_diagnostics"], e["fix"]) == (None, [], None)
        else:
            assert f"[{e['code']}]" in "\n".join(e["example_diagnostics"])
            assert isinstance(e["example"], str) and isinstance(e["fix"], str)
    by_code = {e["code"]: e for e in entries}
    assert by_code["QVR013"]["deprecated_form"] is None and by_code["QVR013"]["rewrite"] is None


def test_docs_diagnostics_md_is_generated_from_the_entries():
    with open(os.path.join(ROOT, "docs", "diagnostics.md"), encoding="utf-8") as f:
        committed = f.read()
    # Stale? Regenerate: python -m qvr.explain --markdown > docs/diagnostics.md
    assert committed == render_markdown()


def test_explain_runs_as_a_command_without_torch():
    # `qvr explain` belongs with `qvr check`: the checker only, never the runtime.
    code = ("import sys; from qvr.cli import main; status = main(['explain', 'QVR046']); "
            "print(status, 'torch' in sys.modules)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=60, cwd=ROOT)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[-1] == "0 False"
    assert "example.qvr:4:24: warning[QVR046]:" in done.stdout
