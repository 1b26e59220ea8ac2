"""Deprecation fixes rewrite each deprecated form to its current form (spec §4.8 QVR090–109),
and `migrate` applies them all until none remain without changing the analysed types."""
from __future__ import annotations

import glob
import os
import re

import pytest

from qvr.semantics import analyze, migrate
from qvr.diagnostics import apply_edits

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
EXAMPLES = sorted(glob.glob(os.path.join(ROOT, "examples", "*.qvr")))
DEPRECATED = {f"QVR{n:03d}" for n in range(90, 110)}

PRE = "object T : FinSet 4\nobject R : Real 2\nobject U : Real 1 {low=0.0, high=1.0}\n"

# (code, line as written, line after the fix); the line is appended to PRE.
REWRITES = [
    ("QVR090", "object X : 5", "object X : FinSet 5"),
    ("QVR090", "morphism m : R -> 3 ~ Categorical", "morphism m : R -> FinSet 3 ~ Categorical"),
    ("QVR091", "type X = Real 2", "object X : Real 2"),
    ("QVR091", "space X : Real 2", "object X : Real 2"),
    ("QVR092", "object X : Euclidean 3", "object X : Real 3"),
    ("QVR092", "object X : Euclidean(3, low=-1.0, high=1.0)", "object X : Real 3 {low=-1.0, high=1.0}"),
    ("QVR092", "object X : PositiveReals 2", "object X : Real 2 {low=0.0}"),
    ("QVR092", "object X : UnitInterval", "object X : Real 1 {low=0.0, high=1.0}"),
    ("QVR092", "object X : FinSet(7)", "object X : FinSet 7"),
    ("QVR092", "object X : Real(4)", "object X : Real 4"),
    ("QVR093", "embed e[3] : T -> R", "morphism e : T -> R [role=embed, replicate=3]"),
    ("QVR094", "continuous c[2] : R -> R ~ Normal [scale=0.5]",
     "morphism c : R -> R [scale=0.5, replicate=2] ~ Normal"),
    ("QVR095", "stochastic s[2] : T -> T", "morphism s : T -> T [replicate=2] ~ Categorical"),
    ("QVR096", "latent l : T -> T [scale=0.2]", "morphism l : T -> T [role=latent, scale=0.2]"),
    ("QVR097", "observed o : R -> R = c0", "morphism o : R -> R [role=observed] ~ c0"),
    ("QVR098", "discretize d : U -> 5 [temperature=0.2]",
     "morphism d : U -> FinSet 5 [role=discretize, temperature=0.2]"),
    ("QVR099", "let z = c0", "define z = c0"),
    ("QVR100", "output c0", "export c0"),
    ("QVR106", "object X : Real 1 [low=0.0]", "object X : Real 1 {low=0.0}"),
    ("QVR107", "define z = c0 >=> c0", "define z = c0 >> c0"),
    ("QVR108", "category C\nrule r1(X) : X => X", "category C\nrule r1(X) : X |- X"),
    ("QVR109", "morphism h : R -> R ~ Normal [scale=0.1]", "morphism h : R -> R [scale=0.1] ~ Normal"),
    ("QVR109", "morphism h : R -> R [hidden_dim=8] ~ Normal [scale=0.1]",
     "morphism h : R -> R [hidden_dim=8, scale=0.1] ~ Normal"),
]

STEP_REWRITES = [
    ("QVR101", "draw y ~ c0(x)", "sample y <- c0(x)"),
    ("QVR102", "y <- c0(x)", "sample y <- c0(x)"),
    ("QVR103", "observe y ~ c0(x)", "observe y <- c0(x)"),
    ("QVR104", "y2 <- Normal(x, 0.5)", "y2 <- Normal(loc=x, scale=0.5)"),
    ("QVR104", "sample y2 <- Normal(x, scale=0.5)", "sample y2 <- Normal(loc=x, scale=0.5)"),
    ("QVR105", "sample [a, b] <- pair(x)", "sample (a, b) <- pair(x)"),
]

C0 = "morphism c0 : R -> R ~ Normal\nmorphism pair : R -> R * R ~ Normal\n"


def _fix(text: str, code: str) -> str:
    analysis = analyze(text)
    diags = [d for d in analysis.diagnostics if d.code == code]
    assert diags, f"{code} not reported for {text!r}"
    return apply_edits(analysis.text, diags[0].fixes[0].edits)


@pytest.mark.parametrize("code,before,after", REWRITES)
def test_statement_fix_rewrites_to_current_form(code, before, after):
    assert _fix(PRE + C0 + before + "\n", code) == PRE + C0 + after + "\n"


@pytest.mark.parametrize("code,before,after", STEP_REWRITES)
def test_step_fix_rewrites_to_current_form(code, before, after):
    head = PRE + C0 + "program p(x) : R -> R\n    "
    tail = "\n    sample y9 <- c0(x)\n    return y9\nexport p\n"
    assert _fix(head + before + tail, code) == head + after + tail


def _types(analysis) -> dict:
    out = {n: str(o) for n, o in analysis.objects.items()}
    out.update({n: str(m.type) for n, m in analysis.morphisms.items()})
    out.update({n: (str(p.declared), str(p.effective)) for n, p in analysis.programs.items()})
    out.update({n: str(d.type) for n, d in analysis.defines.items()})
    out["<export>"] = str(analysis.export_type)
    return out


@pytest.mark.parametrize("path", EXAMPLES, ids=[os.path.basename(p) for p in EXAMPLES])
def test_migrating_an_example_removes_every_deprecation_and_keeps_types(path):
    text = open(path, encoding="utf-8").read()
    before = analyze(text)
    migrated = migrate(text)
    after = analyze(migrated)
    assert not [d for d in after.diagnostics if d.code in DEPRECATED]
    assert not after.errors
    assert _types(after) == _types(before)
    assert migrate(migrated) == migrated  # idempotent


def test_migrate_classic_seed_gives_current_form_text():
    text = open(os.path.join(ROOT, "examples", "seed_000_bayesian_lstm.qvr")).read()
    out = migrate(text)
    assert "object Token : FinSet 256" in out
    assert "object Embedded : Real 64" in out
    assert "morphism tok_embed : Token -> Embedded [role=embed]" in out
    assert "morphism cell_cand : Embedded * State -> Hidden [scale=0.5] ~ Normal" in out
    assert "    sample i_gate <- gate_i(x_t, state_prev)" in out
    assert "define lstm = tok_embed >> scan(lstm_cell) >> output_proj" in out
    assert re.search(r"^export lstm$", out, re.M)
    # comments survive: fixes only touch the deprecated tokens
    assert out.startswith("# Seed 000")


def test_migrate_replicated_group_keeps_fan_valid():
    text = ("object L : Real 4\nobject H : Real 2\ncontinuous head[2] : L -> H ~ Normal [scale=0.1]\n"
            "let layer = fan(head)\noutput layer\n")
    out = migrate(text)
    assert "morphism head : L -> H [scale=0.1, replicate=2] ~ Normal" in out
    a = analyze(out)
    assert not a.errors
    assert str(a.export_type) == "L -> H * H"
