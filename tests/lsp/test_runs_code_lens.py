"""Code lenses for runs (qvr_lsp.features.code_lens): a pure function of the real Analysis."""
from __future__ import annotations

from pathlib import Path

import pytest

qvr = pytest.importorskip("qvr")
from qvr_lsp.features.code_lens import code_lenses, count_summary  # noqa: E402

from expect import expect  # noqa: E402

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
URI = "file:///w/model.qvr"

SEED_002 = """object Token : FinSet 256
object Embedded : Real 64
object Hidden : Real 128
morphism tok_embed : Token -> Embedded [role=embed]
morphism cell : Embedded * Hidden -> Hidden [role=kernel, scale=0.1] ~ Normal
morphism lm_head : Hidden -> Token [role=kernel] ~ Categorical
define backbone = tok_embed >> scan(cell)
program vanilla_rnn_lm : Token -> Token
    sample h <- backbone
    observe next_token : Token <- lm_head(h)
    return next_token
export vanilla_rnn_lm
"""


def lenses_of(text, **kwargs):
    analysis = qvr.analyze(text)
    rows = []
    for lens in code_lenses(analysis, URI, **kwargs):
        line, col = analysis.line_index.position(lens.span.start)
        rows.append((line, lens.title, lens.command, lens.arguments))
    return rows


def test_program_and_export_get_run_sample_nuts_and_check():
    rows = lenses_of(SEED_002)
    args = ({"uri": URI, "entry": "vanilla_rnn_lm"},)
    assert rows == [
        (7, "Run SVI", "qvr.run.svi", args),
        (7, "Sample", "qvr.run.sample", args),
        (7, "Run NUTS", "qvr.run.nuts", args),
        (7, "Check: no problems", "qvr.run.check", args),
        (11, "Run SVI", "qvr.run.svi", args),
        (11, "Sample", "qvr.run.sample", args),
        (11, "Run NUTS", "qvr.run.nuts", args),
        (11, "Check: no problems", "qvr.run.check", args),
    ]


def test_seed_002_example_file_counts_its_deprecation_hint():
    path = EXAMPLES / "seed_002_vanilla_rnn_lm.qvr"
    if not path.exists():
        pytest.skip("examples/seed_002_vanilla_rnn_lm.qvr not present")
    rows = lenses_of(path.read_text())
    checks = [r[1] for r in rows if r[2] == "qvr.run.check"]
    # `let backbone` is outside the program: the program is clean, the export counts the file
    assert checks == ["Check: no problems", "Check: 1 hint"]
    assert all(r[2] != "qvr.run.disabled" for r in rows)


def test_every_program_gets_lenses_in_source_order():
    text = SEED_002.replace("export vanilla_rnn_lm", """program take(_a, b) : Hidden * Hidden -> Hidden
    return b
export vanilla_rnn_lm""")
    rows = lenses_of(text)
    entries = [(r[0], r[3][0]["entry"]) for r in rows if r[2] == "qvr.run.svi"]
    assert entries == [(7, "vanilla_rnn_lm"), (11, "take"), (13, "vanilla_rnn_lm")]


def test_program_with_errors_has_disabled_lenses_with_reason():
    text = SEED_002.replace("lm_head(h)", "lm_head(h, h)").replace("return next_token",
                                                                    "return missing")
    rows = lenses_of(text)
    program = [r for r in rows if r[0] == 7]
    assert [r[1] for r in program] == [
        "Run SVI (disabled: 2 errors)", "Sample (disabled: 2 errors)",
        "Run NUTS (disabled: 2 errors)", "Check: 2 errors"]
    disabled = program[0]
    assert disabled[2] == "qvr.run.disabled"
    arg = disabled[3][0]
    assert (arg["uri"], arg["entry"], arg["kind"]) == (URI, "vanilla_rnn_lm", "svi")
    expect('vanilla_rnn_lm has 2 errors; fix them to run it.').assert_eq(arg["reason"])
    # the export cannot run either: the module does not load
    assert [r[1] for r in rows if r[0] == 11][0] == "Run SVI (disabled: 2 errors)"


def test_error_elsewhere_disables_a_clean_program():
    text = SEED_002.replace("morphism lm_head : Hidden -> Token",
                            "morphism unused_bad : Nowhere -> Token [role=kernel] ~ Categorical\n"
                            "morphism lm_head : Hidden -> Token")
    rows = lenses_of(text)
    program = [r for r in rows if r[3][0]["entry"] == "vanilla_rnn_lm" and r[0] == 8]
    assert program[0][1] == "Run SVI (disabled: 1 error in file)"
    assert program[-1][1] == "Check: no problems"
    expect('The file has 1 error; a module with errors cannot be loaded, so nothing in it can run.').assert_eq(program[0][3][0]["reason"])


def test_runs_disabled_in_workspace_shows_reason():
    rows = lenses_of(SEED_002, runs_enabled=False)
    titles = [r[1] for r in rows if r[0] == 7]
    assert titles == ["Run SVI (disabled: runs disabled)", "Sample (disabled: runs disabled)",
                      "Run NUTS (disabled: runs disabled)", "Check: no problems"]
    expect('Model runs are disabled in this workspace (setting qvr.run.enabled is false; the VS Code extension turns it off in untrusted workspaces).').assert_eq(rows[0][3][0]["reason"])


def test_running_entry_offers_cancel():
    rows = lenses_of(SEED_002, active={"vanilla_rnn_lm": "nuts"})
    program = [r for r in rows if r[0] == 7]
    assert [r[1] for r in program] == ["Run SVI", "Sample", "Run NUTS: running… (cancel)",
                                       "Check: no problems"]
    assert program[2][2] == "qvr.run.cancel"
    assert program[2][3] == ({"uri": URI, "entry": "vanilla_rnn_lm"},)


def test_export_of_an_expression_is_shown_but_not_runnable():
    text = SEED_002.replace("export vanilla_rnn_lm", "export tok_embed >> scan(cell)")
    rows = [r for r in lenses_of(text) if r[0] == 11]
    assert [r[1] for r in rows] == [
        "Run SVI (disabled: export is not a plain name)",
        "Sample (disabled: export is not a plain name)",
        "Run NUTS (disabled: export is not a plain name)",
        "Check: 1 hint"]  # the program is no longer used (QVR080)


def test_diagnostics_argument_adds_run_failures_to_the_count():
    from qvr.diagnostics import Diagnostic, Severity
    from qvr.syntax.span import Span

    analysis = qvr.analyze(SEED_002)
    start = SEED_002.index("observe")
    extra = Diagnostic("QVR-run", Severity.ERROR, "loss is NaN", Span(start, start + 7))
    lenses = code_lenses(analysis, URI, diagnostics=list(analysis.diagnostics) + [extra])
    assert lenses[0].title == "Run SVI (disabled: 1 error)"
    assert lenses[3].title == "Check: 1 error"


def test_no_analysis_no_lenses():
    assert code_lenses(None, URI) == []


def test_count_summary_wording():
    from qvr.diagnostics import Diagnostic, Severity
    from qvr.syntax.span import Span

    def d(sev):
        return Diagnostic("X", sev, "m", Span(0, 1))

    assert count_summary([]) == "no problems"
    assert count_summary([d(Severity.ERROR)]) == "1 error"
    assert count_summary([d(Severity.ERROR)] * 2 + [d(Severity.WARNING)] + [d(Severity.HINT)] * 3) \
        == "2 errors, 1 warning, 3 hints"
