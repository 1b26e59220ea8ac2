"""`score` steps (spec part 2 §5.6, QVR124), call steps `let g <- f(a)` (§1.2 row 15: no
options, QVR028; a random target is QVR070) and program effects (§5.10, QVR127). Each test
compares a program's whole diagnostic list (code, line, column, message)."""
from __future__ import annotations

from qvr.semantics import analyze
from sem_helpers import diagnostics

HEAD = "object N : FinSet 4\nobject R : Real 1\n"


def program(*steps: str, ret: str = "return m", head: str = "program p : N -> R",
            before: str = "") -> str:
    return (HEAD + before + head + "\n" + "".join(f"    {s}\n" for s in steps)
            + f"    {ret}\nexport p\n")


# ------------------------------------------------------------------------------ score ----
def test_score_of_a_width_1_value_is_clean_and_never_unused():
    text = program("sample m <- Normal(loc=0.0, scale=1.0)",
                   "score centering = -50.0 * m * m")
    assert diagnostics(text) == []
    a = analyze(text)
    assert a.programs["p"].variables["centering"].kind == "score"
    assert a.programs["p"].effects == {"Sample", "Score"}


def test_score_over_plates_is_allowed():
    text = program("sample m : N <- Normal(loc=0.0, scale=1.0)",
                   "score s = m * 2.0", ret="return m")
    assert diagnostics(text) == []
    assert analyze(text).programs["p"].variables["s"].type.display() == "Real 1 over N"


def test_score_of_a_vector_is_qvr124():
    text = program("sample m <- Normal(loc=0.0, scale=1.0)",
                   "score t = [m, m]")
    assert diagnostics(text) == [
        ("QVR124", 5, 14, "`score t` needs a real value of width 1, got `Real 2`")]


def test_score_of_a_finite_value_is_qvr124():
    text = program("sample m <- Normal(loc=0.0, scale=1.0)",
                   "sample k <- Categorical(probs=[0.5, 0.5])",
                   "score t = k")
    assert diagnostics(text) == [
        ("QVR124", 6, 14, "`score t` needs a real value of width 1, got `FinSet 2`")]


# ------------------------------------------------------------------------- call steps ----
KERNEL = "morphism k : R -> R ~ Normal\n"
MAP = "morphism d : R -> R\n"
PROGRAM = ("program q(h) : R -> R\n"
           "    let g = tanh(h)\n"
           "    return g\n")


def test_call_steps_apply_programs_and_deterministic_maps():
    text = program("sample m <- Normal(loc=0.0, scale=1.0)",
                   "let g <- q(m)",
                   "let e <- d(g)",
                   "observe y : N <- Normal(loc=e, scale=1.0)", before=MAP + PROGRAM)
    assert diagnostics(text) == []
    info = analyze(text).programs["p"]
    assert info.variables["g"].type.display() == "R"
    assert info.effects == {"Sample", "Score"}  # `q` itself performs nothing


def test_a_call_step_takes_no_options():
    text = program("sample m <- Normal(loc=0.0, scale=1.0)",
                   "let g <- q(m) [over=N]",
                   "observe y : N <- Normal(loc=g, scale=1.0)", before=PROGRAM)
    assert diagnostics(text) == [
        ("QVR028", 8, 19, "unknown option `over` for a call step; allowed: (none)")]


def test_a_call_step_on_a_kernel_or_family_is_qvr070():
    text = program("sample m <- Normal(loc=0.0, scale=1.0)",
                   "let g <- k(m)",
                   "let h <- Normal(loc=g, scale=1.0)",
                   "observe y : N <- Normal(loc=h, scale=1.0)", before=KERNEL)
    assert diagnostics(text) == [
        ("QVR070", 6, 13, "`k` is stochastic; bind it with `sample`"),
        ("QVR070", 7, 13, "`Normal` is stochastic; bind it with `sample`")]


# ---------------------------------------------------------------------------- effects ----
def test_declared_effects_that_cover_the_body_are_clean():
    text = program("sample m <- Normal(loc=0.0, scale=1.0)",
                   "observe y : N <- Normal(loc=m, scale=1.0)",
                   head="program p : N -> R [effects=[Sample, Score]]")
    assert diagnostics(text) == []


def test_an_effect_outside_the_declared_ones_is_qvr127():
    text = program("sample m <- Normal(loc=0.0, scale=1.0)",
                   "observe y : N <- Normal(loc=m, scale=1.0)",
                   head="program p : N -> R [effects=[Sample]]")
    assert diagnostics(text) == [
        ("QVR127", 5, 4, "`p` declares effects [Sample] but `y` (line 5) performs `Score`")]
    d = next(d for d in analyze(text).diagnostics if d.code == "QVR127")
    assert [r.message for r in d.related] == ["effects declared here"]


def test_pure_allows_nothing_and_stands_alone():
    pure = program("let m = 1.0", head="program p : N -> R [effects=[Pure]]")
    assert diagnostics(pure) == []
    drawn = program("sample m <- Normal(loc=0.0, scale=1.0)",
                    head="program p : N -> R [effects=[Pure]]")
    assert diagnostics(drawn) == [
        ("QVR127", 4, 4, "`p` declares effects [Pure] but `m` (line 4) performs `Sample`")]
    mixed = program("let m = 1.0", head="program p : N -> R [effects=[Pure, Score]]")
    assert diagnostics(mixed) == [
        ("QVR127", 3, 28, "`Pure` must stand alone in `effects`")]


def test_a_callee_s_effects_count_for_the_caller():
    callee = ("program noisy(h) : R -> R\n"
              "    sample e <- Normal(loc=h, scale=1.0)\n"
              "    return e\n")
    text = program("let a = 1.0", "let m <- noisy(a)",
                   head="program p : N -> R [effects=[Score]]", before=callee)
    assert diagnostics(text) == [
        ("QVR127", 8, 4, "`p` declares effects [Score] but `m` (line 8) performs `Sample`")]


def test_other_program_options_and_unknown_effects():
    text = program("let m = 1.0", head="program p : N -> R [effects=[Random], seed=3]")
    assert diagnostics(text) == [
        ("QVR029", 3, 29, "option `effects` expects a list of Sample, Score, Marginal, Pure, "
                          "got `Random`"),
        ("QVR028", 3, 38, "unknown option `seed` for a program; allowed: effects")]
