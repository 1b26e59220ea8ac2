"""A declaration with a syntax error still declares its names (`ast.BrokenDecl`): the rest of
the module uses them without an "undefined" error per use, the names its text mentions count as
used, and the engine's incremental runs agree with `analyze` while declarations break and heal."""
from __future__ import annotations

from qvr.semantics import analyze
from qvr.semantics.engine import Engine
from qvr.syntax import ast as A
from qvr.syntax import parse_module

MODULE = """object A : FinSet 3
object R : Real 2
morphism f, g : A ->
continuous enc : A -> R ~ Normal [scale=
program p(x) : A -> A
    sample z <- f(x)
    sample h <- enc(x)
    return z
define m = f >> g
define q = p >> f
export m
"""


def located(text: str) -> list[tuple[str, int, int]]:
    analysis = analyze(text)
    out = []
    for d in analysis.diagnostics:
        line, col = analysis.line_index.position(d.span.start)
        out.append((d.code, line + 1, col + 1))
    return out


def test_broken_declarations_keep_their_names_and_nothing_cascades():
    assert located(MODULE) == [
        ("QVR002", 3, 21),   # morphism f, g : A ->   (the type is missing)
        ("QVR002", 4, 41),   # continuous enc ... [scale=   (the option value is missing)
        ("QVR082", 7, 12),   # h is sampled but never used (its own hint, not a cascade)
        ("QVR080", 10, 8),   # q is never used
    ]
    statements = parse_module(MODULE).module.statements
    broken = [(s.keyword.text, [n.text for n in s.names]) for s in statements
              if isinstance(s, A.BrokenDecl)]
    assert broken == [("morphism", ["f", "g"]), ("continuous", ["enc"])]
    analysis = analyze(MODULE)
    assert analysis.top_level["f"].kind == "morphism"
    assert analysis.top_level["enc"].detail == "continuous enc (not checked: it has a syntax error)"
    # `A` and `R` are used by the broken declarations' text: references, not "never used"
    r_uses = [r for r in analysis.references_to(analysis.top_level["R"]) if not r.is_definition]
    assert [MODULE[r.span.start:r.span.end] for r in r_uses] == ["R"]


def test_a_head_without_a_name_declares_nothing():
    text = "object A : FinSet 3\nmorphism : A -> A ~ Categorical\ndefine m = f\nexport m\n"
    assert [s.__class__.__name__ for s in parse_module(text).module.statements] == [
        "ObjectDecl", "DefineDecl", "ExportDecl"]
    # nothing declared: `A` counts as unused (the broken text is not read) and `f` is undefined
    assert [code for code, _, _ in located(text)] == ["QVR080", "QVR002", "QVR011"]


def test_the_incremental_checker_agrees_while_a_declaration_breaks_and_heals():
    healthy = MODULE.replace("morphism f, g : A ->\n", "morphism f, g : A -> A ~ Categorical\n") \
                    .replace("[scale=\n", "[scale=0.5]\n")
    checker = Engine()
    for text in (healthy, MODULE, healthy, MODULE.replace("program p(x)", "program p(x) :")):
        assert checker.diagnostics(text) == analyze(text).diagnostics
    assert [code for code, _, _ in located(healthy)] == ["QVR094", "QVR082", "QVR080"]
