"""Conformance between the normative lark grammar (`qvr.syntax.parse`) and the tree-sitter
grammar (spec §3.5, design.md): on every example and on thousands of generated programs they
agree on accept/reject and on the top-level declarations (kind, names, name spans).

Spans: lark gives code-point offsets, tree-sitter UTF-8 bytes; conftest.declarations converts.
Generated texts use `\\n` only, so the lark side's line-ending normalisation keeps offsets.
"""
from __future__ import annotations

import pytest
from hypothesis import HealthCheck, Phase, given, settings

import tree_sitter_qvr
from conftest import GRAMMAR_DIR, declarations, parse, qvr_sources
from qvr_strategies import mutated_sources, sources

syntax = pytest.importorskip("qvr.syntax")
from qvr.errors import QvrSyntaxError  # noqa: E402

SETTINGS = dict(
    deadline=None,
    # Shrinking through lark is slow (minutes); a failure prints the unshrunk text instead.
    phases=(Phase.explicit, Phase.reuse, Phase.generate),
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much],
)


def snake(name: str) -> str:
    return "".join("_" + c.lower() if c.isupper() else c for c in name).lstrip("_")


def lark_declarations(text: str):
    """None if lark rejects `text`, else the declarations in conftest.declarations' shape."""
    try:
        module = syntax.parse(text)
    except QvrSyntaxError:
        return None
    result = []
    for decl in module.statements:
        if hasattr(decl, "names"):
            names = decl.names
        elif hasattr(decl, "name"):
            names = (decl.name,)
        else:
            names = ()
        result.append(
            (snake(type(decl).__name__), tuple((n.text, (n.span.start, n.span.end)) for n in names))
        )
    return result


# Soft keywords (spec part 2 §3.2): both grammars accept any name in these places and the
# syntax layer (`qvr.syntax.parse`) rejects any other word there (QVR002), so the tree-sitter
# side applies the same rule before comparing.
SOFT_KEYWORDS = {
    ("composition_decl", "keyword"): "composition",
    ("score_step", "keyword"): "score",
    ("factor_expr", "in"): "in",
}


def wrong_soft_keyword(tree) -> bool:
    stack = [tree.root_node]
    while stack:
        node = stack.pop()
        for (kind, field), word in SOFT_KEYWORDS.items():
            if node.type == kind:
                child = node.child_by_field_name(field)
                if child is not None and child.text.decode("utf-8") != word:
                    return True
        stack.extend(node.named_children)
    return False


def tree_sitter_declarations(text: str):
    tree = parse(text)
    if tree_sitter_qvr.has_syntax_error(tree) or wrong_soft_keyword(tree):
        return None
    return declarations(text, tree)


def assert_agree(text: str):
    lark = lark_declarations(text)
    ts = tree_sitter_declarations(text)
    if lark is None or ts is None:
        assert lark is None and ts is None, (
            f"lark {'rejects' if lark is None else 'accepts'}, tree-sitter "
            f"{'rejects' if ts is None else 'accepts'}:\n{text}\n{parse(text).root_node}"
        )
        return False
    assert ts == lark, text
    return True


@pytest.mark.parametrize("path", qvr_sources(), ids=lambda p: p.name)
def test_examples_agree(path):
    assert assert_agree(path.read_text(encoding="utf-8")), "the example must be accepted"


@pytest.mark.slow
@settings(max_examples=2000, **SETTINGS)
@given(sources)
def test_generated_programs_are_accepted_by_both(text):
    assert assert_agree(text), f"both parsers reject a generated valid program:\n{text}"


@pytest.mark.slow
@settings(max_examples=600, **SETTINGS)
@given(mutated_sources)
def test_mutated_programs_get_the_same_verdict(text):
    assert_agree(text)


@pytest.mark.parametrize(
    "text",
    [
        "program p : A -> A sample y <- f",                # no return (QVR005)
        "program p : A -> A sample y <- f object B : 4",   # no return before the next statement
        "object type : 3",                                 # reserved word as a name (QVR004)
        "object A : 3 #{ never closed",                    # QVR003
        "object A² : 3",                                   # QVR001
        "object A : 3 ; object B : 4",                     # QVR001
        "morphism f : A -> ",                              # QVR002
        "define d = f >> ",
        "define d = scan(f, states)",
        "define d = stack(f)",
        "rule r(X) : X",
        "morphism f : A -> B [a=1,,]",
        "object X : Real 3 [low=0] * A",                   # bracket options only on a whole value
        "program p : A -> B observe (a, b) ~ f return a",  # observe (a, b) parses; lark too
    ],
)
def test_known_cases_agree(text):
    assert_agree(text)


@pytest.mark.parametrize(
    "text",
    [
        # opaque blocks (part 2 §2.2): extent, hanging closers, blank lines, column 0
        "deduction D : T -> T\n    atoms a, b\n\n  \n    rule r : a |- b\n)\nobject A : 3\n",
        "deduction D : T\n    a\n\n\n",
        "deduction D\nobject A : 3\n",
        "deduction\tD\n\tx \"s|%<>!\" #[learnable]\n]\n}\nexport A\n",
        "object A : 3\n  deduction D : T\n",        # not at column 0: not a block
        "object A : 3\ndeduction : T\n",            # no name after the head
        "define f(x : T) : U !{E} = x\ndefine g = f\n",
        "define f [A] = x\n",
        "define g = f\n",
        "composition X [level=algebra]\n    plus = min\nobject A : 3\n",
        "composition X [level=algebra]\n\n    plus = min\n",
        "composition real [level=algebra]\nobject A : 3\n",
        "composition real\n    # a comment, not a body\nobject A : 3\n",
        "composition real\n#c\n    x\n",
        "deduction D : T\n \fx\nobject A : 3\n",     # `[ \t]+\\S`: a form feed is not a body line
        "program p : A -> A\nloss <- f\nreturn loss\n",       # a head word as a step variable
        "program p : A -> A\nsample x <- f\nloss x\n    y\n",  # a body ended by a block
        "program p : A -> A\nsample x <- f\ncomposition c = 1.0\nreturn x\n",
        "program p : A -> A\nsample x <- f\ncomposition c = 1.0\n    return x\n",
        # marginalize bodies and the other current forms
        "program p : A -> A\n    marginalize c <- f\n        score s = c\n    return c\n",
        "program p : A -> A\n    let t = factor v : K, c : L in v[c, 0]\n    return t\n",
        "program p(K : FinSet, f : Mor[A, B]) : K -> K\n    let g <- f(h) [k=1]\n    return g\n",
        "foo bar\n",                                   # any word pair parses; only `composition` checks
        "program p : A -> A\n    scores s = 1.0\n    return s\n",
        "program p : A -> A\n    let t = factor v : K inn v\n    return t\n",
    ],
)
def test_layout_and_current_forms_agree(text):
    assert_agree(text)


@pytest.mark.parametrize(
    "text",
    [
        "program p : A -> A sample y <- f",
        "object type : 3",
        "object A : 3 #{ never closed",
        "object A² : 3",
        "morphism f : A -> ",
    ],
)
def test_invalid_programs_are_rejected_by_both(text):
    assert lark_declarations(text) is None
    assert tree_sitter_declarations(text) is None


@pytest.mark.parametrize(
    "text",
    [
        "morphism a : A -> B [role= #{ why }# embed]",
        "morphism a : A -> B [a=[embed, latent]]",
    ],
)
def test_known_syntax_layer_divergences(text):
    assert assert_agree(text)


def test_generator_covers_every_node_kind():
    """The generated programs exercise every named node and every token of the grammar
    (except the error marker `missing_return`), so agreement above means something."""
    import json
    import random

    from qvr_strategies import QvrWriter

    seen = set()
    for seed in range(300):
        writer = QvrWriter(random.Random(seed))
        stack = [parse(writer.join(writer.program())).root_node]
        while stack:
            node = stack.pop()
            seen.add(node.type)
            stack.extend(node.children)
    node_types = json.loads((GRAMMAR_DIR / "src" / "node-types.json").read_text())
    expected = {t["type"] for t in node_types if not t["type"].startswith("_")} - {"missing_return"}
    assert expected - seen == set()
