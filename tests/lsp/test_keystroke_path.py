"""The language server's keystroke path equals the whole-module path, and stays local.

After each edit a `Document` gets its chunk list from `resplit_declarations`, its diagnostics
from the analysis engine's incremental run, and its semantic tokens stitched from the engine's
blocks. Here
every one of them is compared with what the whole-module path computes from scratch for the same
text (`split_declarations`, `analyze`, the whole-text token pass), over random edits in all three
position encodings, and so is completion, which while typing reads the checker's symbols instead
of a full analysis; on a large file a one-character edit is shown to re-check only a block
or two; and a failing incremental run falls back to the full analysis and starts afresh.
"""
from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from qvr import semantics, syntax
from qvr.syntax.span import LineIndex, Span
from qvr_lsp.documents import Change, DocumentStore
from qvr_lsp.features import code_actions, completion, semantic_tokens, signature_help
from qvr_lsp.positions import PositionEncoder

from expect import expect
from lsp_fixtures import render_diagnostics

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = sorted((ROOT / "examples").glob("*.qvr"))
CODE_POINTS = PositionEncoder("utf-32")  # edits are given in code points below

SNIPPETS = [
    "x", " ", "\n", "\n\n", "#", "#{ c }#", "#{", "}#", "#! doc\n", "define d = f\n",
    "morphism m : A -> A\n", "program p(x) : A -> A\n    return x\n", "return ", "let ",
    "    where\n        define b = f\n", ",", "(", ")", "=", "[replicate=3]", "->", ">>",
    "~ Normal", "_", "1", "Real 4", "scan(", "object O : Real 2\n", "export ", "quantale fuzzy\n",
    "é", "≈", "𝔼",
]


def _whole_path_tokens(doc, encoder):
    return semantic_tokens.encode(doc, semantic_tokens._compute(doc), encoder)


def _completion_offsets(text: str) -> list[int]:
    """Where completion is asked: after each `<- ` and `~ `, inside program bodies, and a few
    other places."""
    found = [m.end() for m in re.finditer(r"<- |~ |\n    ", text)][:12]
    return found + [len(text) * k // 5 for k in range(6)]


def _call_offsets(text: str) -> list[int]:
    """Where signature help is asked: just inside each call's parenthesis and after its first
    comma (the first dozen of each)."""
    return ([m.end() for m in re.finditer(r"\w\(", text)][:12]
            + [m.end() for m in re.finditer(r"\w\([^(),\n]*, ", text)][:12])


def _assert_matches_whole_path(doc, encoder):
    assert doc.line_index.line_starts == LineIndex(doc.text).line_starts  # updated edit by edit
    assert doc.chunks == syntax.split_declarations(doc.text)
    fresh = semantics.analyze(doc.text)
    assert doc.diagnostics == fresh.diagnostics
    assert doc.layout is not None  # from the engine's incremental run, not its fallback
    fast = semantic_tokens.encoded(doc, encoder)
    offsets = _completion_offsets(doc.text)
    # no full analysis yet (unless the edit left the text as it was: then it carries over)
    typing = [completion.complete(doc, at) for at in offsets]
    calls = _call_offsets(doc.text)
    signatures = [signature_help.signature_help(doc, at) for at in calls]
    doc._analysis = fresh  # the whole-text paths read the full analysis
    assert fast == _whole_path_tokens(doc, encoder)
    assert typing == [completion.complete(doc, at) for at in offsets]
    assert signatures == [signature_help.signature_help(doc, at) for at in calls]


edits = st.lists(
    st.tuples(st.floats(0, 1), st.integers(0, 6), st.sampled_from(SNIPPETS), st.booleans()),
    min_size=1, max_size=12)


@pytest.mark.slow
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(first=st.sampled_from(EXAMPLES), second=st.sampled_from(EXAMPLES), steps=edits,
       encoding=st.sampled_from(["utf-16", "utf-8", "utf-32"]))
def test_every_keystroke_result_equals_the_whole_module_path(first, second, steps, encoding):
    store = DocumentStore()
    encoder = PositionEncoder(encoding)
    doc = store.open("file:///edit.qvr", first.read_text() + "\n" + second.read_text(), 1)
    doc.diagnostics
    for version, (where, delete, snippet, insert) in enumerate(steps, start=2):
        at = int(where * len(doc.text))
        line = doc.text.count("\n", 0, at)
        col = at - (doc.text.rfind("\n", 0, at) + 1)
        end_col = col if insert else min(col + delete, len(doc.text.split("\n")[line]))
        doc = store.change(doc.uri, version, [Change(((line, col), (line, end_col)),
                                                     snippet if insert else "")], CODE_POINTS)
        _assert_matches_whole_path(doc, encoder)


@pytest.mark.slow
def test_a_keystroke_in_a_large_file_rechecks_only_its_block(generated_module):
    store = DocumentStore()
    encoder = PositionEncoder("utf-16")
    doc = store.open("file:///large.qvr", generated_module(3000), 1)
    doc.diagnostics
    checker = store._checkers[doc.uri]
    units = checker.checked
    assert units > 1000  # the first version checks everything
    line = doc.text.split("\n").index("#! Model 100: an LSTM-style cell.")
    for version in range(2, 6):  # type and delete a character in a doc comment mid-file
        change = Change(((line, 3), (line, 3 if version % 2 == 0 else 4)), "x" if version % 2 == 0 else "")
        doc = store.change(doc.uri, version, [change], CODE_POINTS)
        # completion while typing needs no full analysis
        at = doc.text.index("sample i <- ", doc.text.index("program cell100")) + len("sample i <- ")
        labels = {item.label for item in completion.complete(doc, at)}
        # A subset on purpose: the whole list names the morphisms of all 3000 lines' models;
        # what matters here is that the edited block's own names are offered without analysis.
        assert {"gate100", "cand100", "Normal"} <= labels
        assert not doc.has_analysis
        _assert_matches_whole_path(doc, encoder)
        assert checker.checked <= 2 * 32  # the edited block (and at most its neighbour)
        assert checker.replayed >= units - 2 * 32


TEMPLATE_CALLS = """object Effect : Real 1
object Group : FinSet 3
morphism squash : Effect -> Effect
morphism gate : Effect * Effect -> Effect ~ LogitNormal
program pooled(G : FinSet, spread : Real, link : Mor[Effect, Effect]) : G -> Effect
    sample e : G <- Normal(loc=0.0, scale=spread)
    let f <- link(e)
    return f
program model : Group -> Effect
    # a comment to type in
    sample u <- pooled(Group, 2.0, squash)
    sample v <- gate(u, u)
    return v
export model
"""


def _typed_versions(text: str, code_column: int):
    """The documents after typing into `text`'s line `    # a comment to type in` and then
    into the code line below it (at `code_column`), the first version diagnosed first."""
    store = DocumentStore()
    doc = store.open("file:///typed.qvr", text, 1)
    doc.diagnostics
    line = text.split("\n").index("    # a comment to type in")
    for version, change in enumerate([Change(((line, 5), (line, 5)), "x"),
                                      Change(((line + 1, code_column), (line + 1, code_column)), " ")],
                                     start=2):
        doc = store.change(doc.uri, version, [change], CODE_POINTS)
        yield doc


def test_signature_help_while_typing_needs_no_full_analysis():
    """Signature help reads the top-level names, which typing gets from the engine's run: a
    template's typed parameters (their spans in the program's own frame) and a morphism's
    domain factors, as the whole-module path gives them."""
    for doc in _typed_versions(TEMPLATE_CALLS, 4):
        doc.diagnostics
        at_template = doc.text.index("2.0, squash") + len("2.0, ")
        at_gate = doc.text.index("gate(u, ") + len("gate(u, ")
        typing = [signature_help.signature_help(doc, at) for at in (at_template, at_gate)]
        assert not doc.has_analysis
        assert typing == [
            signature_help.Signature("pooled(G : FinSet, spread : Real, link : Mor[Effect, Effect]) : G -> Effect",
                                     ("G : FinSet", "spread : Real", "link : Mor[Effect, Effect]"), 2,
                                     "template: the arguments bind the parameters in order"),
            signature_help.Signature("gate(Effect(1), Effect(1)) -> Effect(1)", ("Effect(1)", "Effect(1)"), 1)]
        doc._analysis = semantics.analyze(doc.text)
        assert typing == [signature_help.signature_help(doc, at) for at in (at_template, at_gate)]


CLASSIC_LINES = """object Token : 64
type Hidden = Euclidean 8
continuous cell : Token * Hidden -> Hidden ~ Normal [scale=0.1]
program step(x, h) : Token * Hidden -> Hidden
    # a comment to type in
    draw g ~ cell(x, h)
    return g
output step
"""


def test_code_actions_while_typing_need_no_full_analysis():
    """Editors ask for code actions whenever the cursor moves: they come from the document's
    diagnostics (the engine's, while typing) with the fixes `analyze` gives, and the migration
    is offered from them too."""
    for doc in _typed_versions(CLASSIC_LINES, 11):
        at = doc.text.index("draw g")
        actions = code_actions.code_actions(doc, Span(at, at))
        assert not doc.has_analysis
        fixes = [(fix.title, tuple((e.span, e.new_text) for e in fix.edits))
                 for d in semantics.analyze(doc.text).diagnostics
                 if d.span.start <= at <= d.span.end for fix in d.fixes]
        assert [title for title, _ in fixes] == ["Rewrite as `sample g <- cell(x, h)`"]
        assert [(a.title, a.edits) for a in actions if a.kind == "quickfix"] == fixes
        assert [a.title for a in actions if a.kind == code_actions.MIGRATE_KIND] == [code_actions.MIGRATE_TITLE]


def test_a_changed_declaration_rechecks_its_users_and_their_diagnostics_follow(generated_module):
    text = generated_module(600)
    store = DocumentStore()
    doc = store.open("file:///users.qvr", text, 1)
    assert not [d for d in doc.diagnostics if d.is_error]
    # `cand5` now returns a finite object: the program of model 5 that uses it is wrong
    line = doc.text.split("\n").index("morphism cand5 : Emb5 * Hid5 -> Hid5 [scale=0.1] ~ Normal")
    new = "morphism cand5 : Emb5 * Hid5 -> Tok5 [scale=0.1] ~ Normal"
    doc = store.change(doc.uri, 2, [Change(((line, 0), (line, len(new))), new)], CODE_POINTS)
    fresh = semantics.analyze(doc.text)
    assert doc.diagnostics == fresh.diagnostics
    # the program using it is now wrong
    expect("""
        77:52-77:58 error[QVR032] `Normal` cannot produce values in `Tok5`: Normal produces continuous values, the codomain is finite
    """).assert_eq(render_diagnostics(doc.text, [d for d in doc.diagnostics if d.is_error]))
    old = "morphism cand5 : Emb5 * Hid5 -> Hid5 [scale=0.1] ~ Normal"
    doc = store.change(doc.uri, 3, [Change(((line, 0), (line, len(new))), old)], CODE_POINTS)
    assert store._checkers[doc.uri].checked < 100  # the edited block and the users' blocks
    assert doc.diagnostics == semantics.analyze(doc.text).diagnostics
    assert not [d for d in doc.diagnostics if d.is_error]


def test_a_failing_incremental_run_falls_back_to_the_full_analysis_and_starts_afresh(
        monkeypatch, caplog):
    store = DocumentStore()
    uri = "file:///check.qvr"
    text = EXAMPLES[0].read_text()
    store.open(uri, text, 1).diagnostics
    engine = store._checkers[uri]
    assert engine.layout is not None

    def failing(*args, **kwargs):
        raise RuntimeError("engine bug")

    monkeypatch.setattr(engine, "placed_diagnostics", failing)
    edited = text + "define d = missing\n"
    doc = store.change(uri, 2, [Change(None, edited)], PositionEncoder())
    with caplog.at_level("ERROR"):
        got = doc.diagnostics
    assert "incremental check failed" in caplog.text
    assert got == semantics.analyze(edited).diagnostics
    assert "QVR011" in [d.code for d in got]
    assert engine.layout is None  # reset: the next version is checked from scratch


def test_declarations_sharing_a_chunk_stay_in_one_block():
    # `64morphism` lexes as `64` then `morphism`, but the chunk splitter needs a word boundary:
    # one chunk, two declarations. Cutting blocks between them made two overlapping regions
    # of stitched tokens (found by the fuzz test). One unit per block forces the question.
    from qvr.semantics.engine import Engine

    text = ("object A : Real 4\nobject B : Real 64morphism f : B -> A [scale=0.1] ~ Normal\n"
            "define d = f\nexport d\n")
    store = DocumentStore()
    store._checkers["file:///two.qvr"] = Engine(block=1)
    doc = store.open("file:///two.qvr", text, 1)
    assert len(doc.chunks) == 4 and len(syntax.parse_chunk_local(
        text[doc.chunks[1].start:doc.chunks[1].end], False)[0]) == 2
    _assert_matches_whole_path(doc, PositionEncoder("utf-16"))
    doc = store.change(doc.uri, 2, [Change(((0, 0), (0, 0)), "#! doc\n")], CODE_POINTS)
    _assert_matches_whole_path(doc, PositionEncoder("utf-16"))


def test_a_block_that_begins_mid_line_is_lexed_as_in_the_whole_text():
    # A keyword in the middle of a line begins a chunk, hence a block. Lexed from the block's
    # own text, where it would begin a line, `define NAME(` would read as the head of a tier-3
    # block (which must begin its line), unlike in the whole text.
    text = ("object A : Real 2\nmorphism f : A -> A\n"
            "let lstm = f >> define  scan(f) >> f\nexport lstm\n")
    store = DocumentStore()
    doc = store.open("file:///mid.qvr", text, 1)
    assert any(c.start == text.index("define") for c in doc.chunks)
    _assert_matches_whole_path(doc, PositionEncoder("utf-16"))


REGION_MODULE = """#! A module whose tokens the first version makes from its analysis: 𝛼 and ü in comments
object Token : FinSet 4
object H : Real 2
#{ a block comment
object Hidden : Real 2
}#
morphism emb : Token -> H [role=embed]
morphism cell : H * H -> H ~ Normal
define lm = emb >> scan(cell)
    where
        define inner = cell
program p(x) : H -> H
    sample y <- cell(x, x)
    return y
schema rules : Cat = FreeResiduated(atoms=[n, s])
export lm
"""


@pytest.mark.parametrize("encoding", ["utf-16", "utf-8", "utf-32"])
def test_tokens_made_from_the_analysis_go_by_regions_of_statements_in_steps(monkeypatch, encoding):
    """A first version's diagnostics come from the full analysis, so the engine has no layout
    of blocks for it: its tokens are made from runs of the analysis' statements, a run per
    step (the server makes them between other messages), and equal the whole-text path's."""
    monkeypatch.setattr(semantic_tokens, "STEP_REGIONS", 2)
    text = "".join(REGION_MODULE.replace("lm", f"lm{i}").replace(" p(", f" p{i}(")
                   for i in range(6))
    store = DocumentStore(first_from_analysis=True)
    doc = store.open("file:///regions.qvr", text, 1)
    doc.diagnostics
    assert doc.layout is None
    encoder = PositionEncoder(encoding)
    steps, yields = semantic_tokens.encoded_steps(doc, encoder), 0
    while True:
        try:
            next(steps)
            yields += 1
        except StopIteration as stop:
            data = stop.value
            break
    assert yields > 10
    assert data == semantic_tokens.encode(doc, semantic_tokens.semantic_tokens(doc), encoder)


def _whole_then_filtered(doc, span):
    return [t for t in semantic_tokens._compute(doc) if t.end >= span.start and t.start <= span.end]


@pytest.mark.parametrize("path", [None, *EXAMPLES], ids=lambda p: "regions" if p is None else p.name)
def test_range_tokens_equal_the_whole_texts_in_that_range(path):
    """A range request lexes only the statements around the range; its tokens are those of
    the whole-text pass that overlap it, wherever the range begins and ends (line starts, mid
    line, statement starts, empty ranges, the whole text), and so is their encoding."""
    text = REGION_MODULE if path is None else path.read_text()
    doc = DocumentStore().open("file:///range.qvr", text, 1)
    starts = sorted({s.span.start for s in doc.analysis.module.statements}
                    | set(doc.line_index.line_starts) | {len(text) // 3, len(text) // 2 + 1})
    spans = [(a, b) for a in starts[::3] for b in (a, a + 1, a + 17, a + 400, len(text)) if b <= len(text)]
    spans += [(0, len(text)), (len(text), len(text))]
    encoder = PositionEncoder("utf-16")
    for a, b in spans:
        span = Span(a, b)
        doc.cache.pop("semantic_tokens", None)
        assert semantic_tokens.semantic_tokens(doc, span) == _whole_then_filtered(doc, span), (a, b)
        assert "semantic_tokens" not in doc.cache  # (the whole document's were not made)
        assert (semantic_tokens.encode(doc, semantic_tokens.semantic_tokens(doc, span), encoder)
                == semantic_tokens.encode(doc, _whole_then_filtered(doc, span), encoder)), (a, b)


def test_a_range_request_lexes_the_statements_around_it_not_the_file(generated_module, monkeypatch):
    text = generated_module(3000)
    doc = DocumentStore().open("file:///big.qvr", text, 1)
    lexed = []
    real_lex = semantic_tokens._lex

    def lex(text, refs, start=0, end=None):
        lexed.append((end if end is not None else len(text)) - start)
        return real_lex(text, refs, start, end)

    monkeypatch.setattr(semantic_tokens, "_lex", lex)
    middle = doc.line_index.line_starts[len(doc.line_index.line_starts) // 2]
    tokens = semantic_tokens.semantic_tokens(doc, Span(middle, middle + 200))
    assert tokens and sum(lexed) < len(text) // 100
