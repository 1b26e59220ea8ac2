"""Start-up work of the language server: what runs before the first diagnostics.

Each check runs in a fresh interpreter (what `python -m qvr_lsp` does) so that modules the
test process already imported cannot hide an eager import.
"""
from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import pytest

pytestmark = pytest.mark.process  # every test starts a fresh interpreter running the server

# Feature modules that answer requests only; none of their code may run before the first publish.
REQUEST_ONLY = ["completion", "hover", "inlay_hints", "navigation", "rename", "signature_help", "structure"]

START_AND_PUBLISH = textwrap.dedent(
    """
    import json, os, sys

    executed = set()

    def audit(event, args):
        # module bodies run through exec(); record which files were executed
        if event == "exec" and hasattr(args[0], "co_filename"):
            executed.add(os.path.basename(args[0].co_filename))

    sys.addaudithook(audit)

    from qvr_lsp.server import create_server, tune_gc
    import qvr.syntax.parser as parser

    server = create_server()
    tune_gc()
    sent = []
    server.text_document_publish_diagnostics = sent.append
    doc = server.documents.open("file:///a.qvr", TEXT, 1)
    server.publish(doc)
    report = {
        "published": [len(p.diagnostics) for p in sent],
        "executed": sorted(executed),
        "tree_built": doc._tree is not None,  # the tree-sitter tree is for other requests
        "error_parser_built": parser._ERROR_LARK is not None,
        "lark_loaded": "lark" in sys.modules,  # valid text parses with the generated tables
        "gc_enabled": __import__("gc").isenabled(),
        "frozen": __import__("gc").get_freeze_count(),
    }
    import qvr_lsp.handlers as module  # the handlers hold the lazily loaded features
    report["hover_callable"] = callable(module.f_hover.hover)  # lazy modules load on use
    server.idle_gc.collect()  # what the first idle pause does
    report["frozen_after_idle"] = __import__("gc").get_freeze_count()
    report["executed_after_use"] = sorted(executed)
    print(json.dumps(report))
    """
)

VALID = "object A : FinSet 4\nobject B : Real 3\nmorphism f : A -> B [role=embed]\nexport f\n"  # no findings


def _start(text: str) -> dict:
    code = f"TEXT = {text!r}\n" + START_AND_PUBLISH
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_first_publish_runs_no_request_only_code():
    report = _start(VALID)
    assert report["published"] == [0]
    assert not [m for m in REQUEST_ONLY if f"{m}.py" in report["executed"]]
    # nothing on the diagnostics path builds the tree-sitter tree or lark's error parser
    assert report["tree_built"] is False
    assert report["error_parser_built"] is False
    assert report["lark_loaded"] is False
    # a lazily imported module still works when a request needs it
    assert report["hover_callable"] is True
    assert "hover.py" in report["executed_after_use"]


def test_syntax_error_is_still_reported_at_start():
    report = _start("object A : : FinSet 4\n")
    assert report["published"] and report["published"][0] >= 1
    assert report["error_parser_built"] is True  # wording a syntax error needs lark's parser


def test_server_gc_settings_after_start():
    report = _start(VALID)
    # automatic collection is off (IdleCollector collects); nothing was scanned before the
    # first publish, and the first idle collection freezes the long-lived heap
    assert report["gc_enabled"] is False
    assert report["frozen"] == 0
    assert report["frozen_after_idle"] > 10_000
