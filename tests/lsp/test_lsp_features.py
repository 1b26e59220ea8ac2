"""Feature functions on small cursor-marker fixtures (`$0` marks the cursor; rust-analyzer style).

Each case is one fixture and the feature's whole output, rendered as text (lsp_fixtures'
`render_*`) and compared with an expectation next to the test or under
fixtures/expect/ (`python -m pytest --update-expect` rewrites them); no protocol involved.
"""
from __future__ import annotations

import pytest

from qvr.syntax.span import Span
from qvr_lsp.features import (
    code_actions, completion, formatting, hover, inlay_hints, navigation, rename, semantic_tokens,
    signature_help, structure, symbols,
)

from expect import expect, expect_file
from lsp_fixtures import (
    SAMPLES, at_cursor, marked, open_doc, offset_of, render_actions, render_completion,
    render_diagnostics, render_edits, render_folds, render_hints, render_hover, render_spans,
    render_symbols, render_tokens, span_at,
)

PRELUDE = """object Token : FinSet 256
object Embedded : Real 64
object Hidden : Real 128
morphism tok_embed : Token -> Embedded [role=embed]
#! The recurrent cell.
morphism cell : Embedded * Hidden -> Hidden [scale=0.1] ~ Normal
morphism head : Hidden -> Token ~ Categorical
"""


def hover_text(fixture: str) -> str:
    doc, off = at_cursor(fixture)
    result = hover.hover(doc, off)
    assert result is not None, "expected a hover"
    return render_hover(result)


# ------------------------------------------------------------------------------- hover ----
@pytest.mark.parametrize(
    "fixture, expected",
    [
        (PRELUDE + "define rnn = tok_embed >> scan(c$0ell)\nexport rnn\n", expect("""
            ```qvr
            cell : Embedded(64) * Hidden(128) -> Hidden(128) ~ Normal
            ```

            Family `Normal(loc, scale)`, support real line ℝ → Real w

            Options: `param_source=affine`, `replicate=1`, `scale=0.1`

            The recurrent cell.
        """)),
        (PRELUDE + "define rnn = tok_embed $0>> scan(cell)\nexport rnn\n", expect("""
            ```qvr
            >> : Seq[Embedded(64)]
            ```

            Intermediate type `Seq[Embedded]`

            Composite: `Seq[Token(256)] -> Hidden(128)`
        """)),
        (PRELUDE + "define rnn = tok_embed >> scan(cell)\nexport r$0nn\n", expect("""
            ```qvr
            define rnn : Seq[Token(256)] -> Hidden(128)
            ```
        """)),
        (PRELUDE + "object Out : Real 2\nmorphism m : Hidden -> Out ~ Log$0Normal\nexport m\n", expect("""
            ```qvr
            family LogNormal(loc, scale)
            ```

            Support: positive reals (0, ∞) → Real w {low=0.0}

            Accepts the `scale` option as a kernel.
        """)),
        (PRELUDE + "program p(x, h) : Embedded * Hidden -> Hidden\n    sample y <- cell(x, h)\n    let z$0 = y * 2.0\n    return z\nexport p\n", expect("""
            ```qvr
            z : Real 128
            ```

            let variable of program `p`
        """)),
        (PRELUDE + "program p(x, h$0) : Embedded * Hidden -> Hidden\n    sample y <- cell(x, h)\n    return y\nexport p\n", expect("""
            ```qvr
            h : Hidden(128)
            ```

            parameter of program `p`
        """)),
        (PRELUDE + "program p(x, h) : Embedded * Hidden -> Hidden\n    sample y$0 <- cell(x, h)\n    return y\nexport p\n", expect("""
            ```qvr
            y : Hidden(128)
            ```

            sample variable of program `p`
        """)),
        (PRELUDE + "define enc = tok_embed >> scan(cell)\nprogram p : Token -> Token\n    sample h <- enc\n    observe t : Token <- head(h)\n    return t\nexport p$0\n", expect("""
            ```qvr
            program p : Token(256) -> Token(256)
            ```

            Promoted to `Seq[Token(256)] -> Token(256)`
        """)),
        (PRELUDE + "object O : Real 1\nprogram p(x) : Hidden -> O\n    let s = sig$0moid(x)\n    return s\nexport p\n", expect("""
            ```qvr
            builtin sigmoid(x) : Real n -> Real n
            ```

            Logistic function 1 / (1 + exp(-x)), elementwise; values in (0, 1).
        """)),
        (PRELUDE + "define e = tok_$0embed\nexport e\n", expect("""
            ```qvr
            tok_embed : Token(256) -> Embedded(64)  [role=embed]
            ```

            Options: `replicate=1`
        """)),
        ("object Tok$0en : FinSet 256\n", expect("""
            ```qvr
            object Token : FinSet 256
            ```

            finite, cardinality 256
        """)),
    ],
)
def test_hover_shows_signature_types_and_docs(fixture, expected):
    expected.assert_eq(hover_text(fixture))


def test_hover_on_promoted_program_shows_effective_type():
    doc = open_doc(SAMPLES["rnn_011"])
    expect("""
        ```qvr
        program vanilla_rnn_lm : Token(256) -> Token(256)
        ```

        Promoted to `Seq[Token(256)] -> Token(256)`
    """).assert_eq(render_hover(hover.hover(doc, offset_of(doc.text, "vanilla_rnn_lm :", delta=3))))


@pytest.mark.parametrize(
    "fixture",
    [
        PRELUDE + "# cell is mentioned in a c$0omment\n",
        PRELUDE + "   $0   \n",
        "$0",
        "object $0",
    ],
)
def test_no_hover_on_comments_blanks_and_broken_text(fixture):
    doc, off = at_cursor(fixture)
    assert hover.hover(doc, off) is None


# -------------------------------------------------------------------------- navigation ----
def test_definition_of_a_morphism_use():
    doc, off = at_cursor(PRELUDE + "define rnn = tok_embed >> scan(c$0ell)\nexport rnn\n")
    span = navigation.definition(doc, off)
    assert doc.text[span.start:span.end] == "cell"
    assert span.start == doc.text.index("morphism cell") + len("morphism ")


def test_definition_of_a_program_variable_stays_in_its_program():
    fixture = PRELUDE + (
        "program a(x, h) : Embedded * Hidden -> Hidden\n    sample y <- cell(x, h)\n    return y\n"
        "program b(x, h) : Embedded * Hidden -> Hidden\n    sample y <- cell(x, h)\n    return y$0\n"
        "define both = fan(a, b)\nexport both\n"
    )
    doc, off = at_cursor(fixture)
    span = navigation.definition(doc, off)
    assert span.start == doc.text.index("sample y", doc.text.index("program b")) + len("sample ")


def test_references_skip_comments_and_honour_include_declaration():
    fixture = PRELUDE + "# cell cell cell\ndefine rnn = tok_embed >> scan(ce$0ll)\ndefine rnn2 = scan(cell)\nexport fan(rnn, rnn2)\n"
    doc, off = at_cursor(fixture)
    expect("""
        6:10-6:14 `cell`
        9:32-9:36 `cell`
        10:20-10:24 `cell`
    """).assert_eq(render_spans(doc.text, navigation.references(doc, off, include_declaration=True)))
    expect("""
        9:32-9:36 `cell`
        10:20-10:24 `cell`
    """).assert_eq(render_spans(doc.text, navigation.references(doc, off, include_declaration=False)))


def test_local_names_do_not_match_top_level_names():
    fixture = PRELUDE + (
        "program p(cell$0_in, h) : Embedded * Hidden -> Hidden\n    sample cell_out <- cell(cell_in, h)\n    return cell_out\nexport p\n"
    )
    doc, off = at_cursor(fixture)
    refs = navigation.references(doc, off)
    assert [doc.text[s.start:s.end] for s in refs] == ["cell_in", "cell_in"]


def test_highlight_marks_the_definition_as_write():
    doc, off = at_cursor(PRELUDE + "define rnn = tok_embed >> scan(cell)\nexport r$0nn\n")
    marks = navigation.highlights(doc, off)
    expect("""
        8:8-8:11 `rnn` write
        9:8-9:11 `rnn` read
    """).assert_eq("".join(f"{span_at(doc.text, m.span)} {'write' if m.is_write else 'read'}\n"
                               for m in marks))


# ------------------------------------------------------------------------------ rename ----
RENAME_FIXTURE = PRELUDE + (
    "program a(x, h) : Embedded * Hidden -> Hidden\n    sample y$0 <- cell(x, h)\n    return y\n"
    "program b(x, h) : Embedded * Hidden -> Hidden\n    sample y <- cell(x, h)\n    return y\n"
    "define both = fan(a, b)\nexport both\n"
)


def test_rename_of_a_program_local_stays_inside_its_program():
    doc, off = at_cursor(RENAME_FIXTURE)
    expect("""
        9:12-9:13 `y` -> 'out'
        10:12-10:13 `y` -> 'out'
    """).assert_eq(render_edits(doc.text, rename.rename(doc, off, "out")))


def test_rename_of_a_top_level_name_updates_every_use():
    doc, off = at_cursor(PRELUDE + "define rnn = tok_embed >> scan(cell)\nexport rnn\ndefine x = c$0ell\n")
    expect("""
        6:10-6:14 `cell` -> 'step'
        8:32-8:36 `cell` -> 'step'
        10:12-10:16 `cell` -> 'step'
    """).assert_eq(render_edits(doc.text, rename.rename(doc, off, "step")))


@pytest.mark.parametrize(
    "new_name, message",
    [("scan", expect('`scan` is a reserved word and cannot be used as a name')), ("2x", expect('`2x` is not a valid QVR identifier')), ("a-b", expect('`a-b` is not a valid QVR identifier')), ("", expect('`` is not a valid QVR identifier')), ("h", expect('`h` is already declared in program `a`')), ("x", expect('`x` is already declared in program `a`'))],
)
def test_rename_refuses_bad_names_and_collisions(new_name, message):
    doc, off = at_cursor(RENAME_FIXTURE)
    with pytest.raises(rename.RenameError) as refused:
        rename.rename(doc, off, new_name)
    message.assert_eq(str(refused.value))


def test_rename_refuses_top_level_collision():
    doc, off = at_cursor(PRELUDE + "define rnn = tok_embed >> scan(c$0ell)\nexport rnn\n")
    with pytest.raises(rename.RenameError) as refused:
        rename.rename(doc, off, "head")
    expect('`head` is already declared in this file').assert_eq(str(refused.value))


def test_prepare_rename_only_on_declared_names():
    doc, off = at_cursor(PRELUDE + "define rnn = tok_embed >> scan(cell)\nexport rnn # c$0ell\n")
    assert rename.prepare_rename(doc, off) is None
    doc, off = at_cursor(PRELUDE + "define rnn = tok_embed >> scan(ce$0ll)\nexport rnn\n")
    target = rename.prepare_rename(doc, off)
    expect("8:32-8:36 `cell` placeholder 'cell'").assert_eq(f"{span_at(doc.text, target.span)} placeholder {target.placeholder!r}")


# ----------------------------------------------------------------------------- symbols ----
def test_document_symbols_are_hierarchical():
    doc = open_doc(SAMPLES["lstm_current"])
    nodes = symbols.document_symbols(doc.parsed.module, doc.text)
    expect_file("fixtures/expect/symbols/lstm_current.txt").assert_eq(render_symbols(nodes, doc.text))


def test_workspace_symbols_include_files_on_disk(tmp_path):
    (tmp_path / "other.qvr").write_text("object Faraway : FinSet 3\n", encoding="utf-8")
    doc = open_doc(SAMPLES["rnn_011"])
    found = symbols.workspace_symbols("far", [doc], symbols.WorkspaceIndex(), [str(tmp_path)])
    assert [s.name for s in found] == ["Faraway"]
    found = symbols.workspace_symbols("vrl", [doc], symbols.WorkspaceIndex(), [str(tmp_path)])
    assert [s.name for s in found] == ["vanilla_rnn_lm"]


def test_workspace_symbols_are_the_outlines_top_level_nodes_read_up_to_the_limit(monkeypatch):
    doc = open_doc("".join(f"object T{i} : FinSet 2\nmorphism m{i} : T{i} -> T{i} ~ Categorical\n"
                           for i in range(400)) + "export m0\n")
    outline = [(n.name, n.kind, n.name_span) for n in symbols.document_symbols(doc.parsed.module, doc.text)]
    read = []
    real = symbols._kind_of
    monkeypatch.setattr(symbols, "_kind_of", lambda decl: read.append(decl) or real(decl))
    found = symbols.workspace_symbols("", [doc], None, [])
    assert [(s.name, s.kind, s.span) for s in found] == outline[:500]
    assert len(read) == 500  # (of 801 statements)
    read.clear()
    found = symbols.workspace_symbols("399", [doc], None, [])
    assert [s.name for s in found] == ["T399", "m399"]
    assert len(read) == 801


def test_workspace_symbols_of_an_open_document_use_its_line_index(monkeypatch):
    """(A big file's index is megabytes of work: made once per document, not per symbol.)"""
    from lsprotocol import types as lsp
    from qvr.syntax import span as span_module
    from qvr_lsp import handlers
    from qvr_lsp.server import create_server

    server = create_server()
    text = "".join(f"object T{i} : FinSet 2\n" for i in range(30))
    server.documents.open("file:///open.qvr", text, 1)
    made = []
    real = span_module.LineIndex

    class Counted(real):
        def __init__(self, text):
            made.append(len(text))
            super().__init__(text)

    monkeypatch.setattr(span_module, "LineIndex", Counted)
    found = handlers._workspace_symbols(server, None, lsp.WorkspaceSymbolParams(query="T2"))
    assert [(s.name, s.location.range.start.line) for s in found] == [
        ("T2", 2), ("T12", 12), ("T20", 20), ("T21", 21), ("T22", 22), ("T23", 23), ("T24", 24),
        ("T25", 25), ("T26", 26), ("T27", 27), ("T28", 28), ("T29", 29)]
    assert made == []


# -------------------------------------------------------------------------- completion ----
def completions(fixture: str) -> str:
    doc, off = at_cursor(fixture)
    return render_completion(completion.complete(doc, off))


# The whole list for each context, in fixtures/expect/completion/<case>.txt.
@pytest.mark.parametrize(
    "case, fixture",
    [
        ("family", PRELUDE + "morphism m : Hidden -> Hidden ~ $0"),
        ("family_prefix", PRELUDE + "morphism m : Hidden -> Hidden ~ Lo$0"),
        ("domain", PRELUDE + "morphism m : $0"),
        ("codomain", PRELUDE + "morphism m : Hidden -> $0"),
        ("sample_target", PRELUDE + "program p(x, h) : Embedded * Hidden -> Hidden\n    sample y <- $0"),
        ("call_argument", PRELUDE + "program p(x, h) : Embedded * Hidden -> Hidden\n    sample y <- cell($0"),
        ("let_value", PRELUDE + "program p(x, h) : Embedded * Hidden -> Hidden\n    sample y <- cell(x, h)\n    let z = $0"),
        ("step", PRELUDE + "program p(x, h) : Embedded * Hidden -> Hidden\n    $0"),
        ("declaration", PRELUDE + "$0"),
        ("composition", PRELUDE + "define rnn = tok_embed >> $0"),
        ("option_key", PRELUDE + "morphism m : Hidden -> Hidden [$0"),
        ("option_value", PRELUDE + "morphism m : Hidden -> Hidden [role=$0"),
        ("comment", PRELUDE + "# morphism m : $0"),
        ("observe_type", PRELUDE + "program p(x, h) : Embedded * Hidden -> Hidden\n    observe y : $0"),
        ("draw_target", PRELUDE + "program p(x, h) : Embedded * Hidden -> Hidden\n    draw y ~ $0"),
        ("product_factor", PRELUDE + "object Pair : Hidden * $0"),
        ("type_alias", PRELUDE + "type T = $0"),
        ("fan_argument", PRELUDE + "define d = fan($0"),
        ("nested_expression", PRELUDE + "program p(x, h) : Embedded * Hidden -> Hidden\n    let v = x * (h + $0"),
    ],
)
def test_completion_depends_on_context(case, fixture):
    expect_file(f"fixtures/expect/completion/{case}.txt").assert_eq(completions(fixture))


def test_program_variables_are_offered_only_after_they_are_bound():
    got = completions(PRELUDE + "program p(x, h) : Embedded * Hidden -> Hidden\n    let a = $0\n    sample later <- cell(x, h)\n    return later\n")
    expect_file("fixtures/expect/completion/before_binding.txt").assert_eq(got)


def test_prefix_filter_keeps_matches_and_caps_long_lists():
    items = [completion.Item(f"name{i}", "morphism") for i in range(500)] + [completion.Item("gate_i", "morphism")]
    found, cut = completion.prefix_filter(items, "gi")
    assert [i.label for i in found] == ["gate_i"] and not cut
    found, cut = completion.prefix_filter(items, "")
    # Only the length matters here: which of 500 equal-ranked names survive the cap is not
    # behaviour a user relies on.
    assert len(found) == completion.MAX_ITEMS and cut


def test_declaration_snippets_are_snippets():
    expect_file("fixtures/expect/completion/empty_file.txt").assert_eq(completions("$0"))


# ---------------------------------------------------------------------- signature help ----
@pytest.mark.parametrize(
    "fixture, expected",
    [
        (PRELUDE + "program p(x, h) : Embedded * Hidden -> Hidden\n    sample y <- cell(x, $0", expect("""
            cell(Embedded(64), Hidden(128)) -> Hidden(128)
            parameters ['Embedded(64)', 'Hidden(128)'], active 1

        """)),
        (PRELUDE + "program p(x, h) : Embedded * Hidden -> Hidden\n    sample y <- cell($0", expect("""
            cell(Embedded(64), Hidden(128)) -> Hidden(128)
            parameters ['Embedded(64)', 'Hidden(128)'], active 0

        """)),
        (PRELUDE + "program p(x, h) : Embedded * Hidden -> Hidden\n    sample y <- Normal(x, $0", expect("""
            Normal(loc, scale)
            parameters ['loc', 'scale'], active 1
            support: real line ℝ → Real w
        """)),
        (PRELUDE + "program p(x, h) : Embedded * Hidden -> Hidden\n    sample y <- StudentT(1.0, x, $0", expect("""
            StudentT(df, loc, scale)
            parameters ['df', 'loc', 'scale'], active 2
            support: real line ℝ → Real w
        """)),
    ],
)
def test_signature_help(fixture, expected):
    doc, off = at_cursor(fixture)
    sig = signature_help.signature_help(doc, off)
    expected.assert_eq(f"{sig.label}\nparameters {list(sig.parameters)}, active {sig.active_parameter}\n"
                       f"{sig.documentation}\n")


def test_no_signature_help_outside_calls():
    doc, off = at_cursor(PRELUDE + "define x = cell $0\n")
    assert signature_help.signature_help(doc, off) is None


# ------------------------------------------------------------------------- inlay hints ----
def test_inlay_hints_show_dimensions_of_variables_and_compositions():
    doc = open_doc(SAMPLES["gru_classic"])
    # h_cand is `Real 128`: the width of reset_hidden (spec §7.2).
    expect("""
        13:11 draw z|: Hidden(128)
        14:11 draw r|: Hidden(128)
        16:21 let reset_hidden|: Real 128
        18:11 h_cand|: Real 128
        20:21 let z_complement|: Real 128
        21:14 let h_new|: Real 128
        27:8 let gru|: Seq[Token(256)] -> Output(64)
    """).assert_eq(render_hints(doc.text, inlay_hints.inlay_hints(doc, Span(0, len(doc.text)))))


def test_inlay_hints_respect_the_requested_range():
    doc = open_doc(SAMPLES["gru_classic"])
    start = doc.text.index("let gru")
    hints = inlay_hints.inlay_hints(doc, Span(start, len(doc.text)))
    expect("""
        27:8 let gru|: Seq[Token(256)] -> Output(64)
    """).assert_eq(render_hints(doc.text, hints))


def test_inlay_hints_for_a_few_lines_read_the_programs_there_only(generated_module, monkeypatch):
    """Editors ask for the visible lines: on a big file that costs the programs there."""
    from qvr.semantics import marginalize

    text = generated_module(3000)
    doc = open_doc(text)
    start = text.index("program cell100(")
    read = []
    real = marginalize.all_variables
    monkeypatch.setattr(marginalize, "all_variables", lambda info: read.append(info.name) or real(info))
    hints = inlay_hints.inlay_hints(doc, Span(start, text.index("define enc100")))
    assert read == ["cell100"]
    expect("""
        1409:13 sample i|: Hid100(16)
        1410:13 sample f|: Hid100(16)
        1411:13 sample g|: Hid100(16)
        1412:14 let h_new|: Real 16
    """).assert_eq(render_hints(doc.text, hints))


# --------------------------------------------------------------------- semantic tokens ----
def test_semantic_tokens_classify_names_by_what_they_resolve_to():
    doc = open_doc(PRELUDE + "# cell\ndefine rnn = tok_embed >> scan(cell)\nexport rnn\n")
    expect_file("fixtures/expect/semantic_tokens/prelude.txt").assert_eq(
        render_tokens(doc.text, semantic_tokens.semantic_tokens(doc)))


def test_semantic_tokens_encoding_splits_block_comments_per_line():
    from qvr_lsp.positions import PositionEncoder

    doc = open_doc("#{ one\ntwo }#\nobject A : FinSet 2\n")
    data = semantic_tokens.encode(doc, semantic_tokens.semantic_tokens(doc), PositionEncoder())
    # The protocol's quintuples: line delta, start delta, length, type, modifiers.
    expect("""
        [0, 0, 6, 7, 0]
        [1, 0, 6, 7, 0]
        [1, 0, 6, 0, 0]
        [0, 7, 1, 1, 1]
        [0, 4, 6, 1, 4]
        [0, 7, 1, 6, 0]
    """).assert_eq("".join(f"{data[i:i + 5]}\n" for i in range(0, len(data), 5)))


def test_ascii_fast_path_encodes_like_the_general_path():
    from qvr_lsp.positions import PositionEncoder

    doc = open_doc(SAMPLES["lstm_current"] + "#{ block\ncomment }#\nobject Z : FinSet 2\n")
    tokens = semantic_tokens.semantic_tokens(doc)
    fast = semantic_tokens._encode_ascii(doc.text, doc.line_index.line_starts, tokens)
    assert fast == semantic_tokens._encode_general(doc, tokens, PositionEncoder()) and fast


@pytest.mark.parametrize("seed", range(20))
def test_semantic_token_delta_on_random_changes(seed):
    import random

    rng = random.Random(seed)
    old = [rng.randrange(10) for _ in range(rng.randrange(0, 3000))]
    new = old[:]
    at = rng.randrange(len(new) + 1)
    new[at:at + rng.randrange(30)] = [rng.randrange(10) for _ in range(rng.randrange(30))]
    start, delete, insert = semantic_tokens.delta(old, new)
    assert old[:start] + insert + old[start + delete:] == new and start % 5 == 0


def test_semantic_token_delta_reproduces_the_new_data():
    before = open_doc(PRELUDE + "define rnn = tok_embed >> scan(cell)\nexport rnn\n")
    after = open_doc(PRELUDE + "# a new comment line\ndefine rnn = tok_embed >> scan(cell)\nexport rnn\n")
    from qvr_lsp.positions import PositionEncoder

    old = semantic_tokens.encode(before, semantic_tokens.semantic_tokens(before), PositionEncoder())
    new = semantic_tokens.encode(after, semantic_tokens.semantic_tokens(after), PositionEncoder())
    start, delete, insert = semantic_tokens.delta(old, new)
    assert start % 5 == 0 and len(insert) < len(new)
    assert old[:start] + insert + old[start + delete:] == new


# --------------------------------------------------------------- folding and selection ----
def test_folding_ranges_cover_programs_and_comment_runs():
    doc = open_doc("# a\n# b\n# c\n" + SAMPLES["lstm_current"])
    expect("""
        1-4 comment | # a
        14-21 region | program lstm_cell(x, c, h) : Embedded * Hidden * Hidden -> Hidden * Hidden
        24-25 region | program take_h(_c, h) : Hidden * Hidden -> Hidden
    """).assert_eq(render_folds(doc.text, structure.folding_ranges(doc)))


def test_selection_chain_grows_from_word_to_document():
    doc, off = at_cursor(PRELUDE + "define rnn = tok_embed >> scan(ce$0ll)\nexport rnn\n")
    chain = structure.selection_chain(doc, off)
    assert all(b.covers(a) for a, b in zip(chain, chain[1:]))
    # The chain in its own order (innermost first); the last is the whole document.
    expect("""
        8:32-8:36 `cell`
        8:27-8:37 `scan(cell)`
        8:14-8:37 `tok_embed >> scan(cell)`
        8:1-8:37 `define rnn = tok_embed >> scan(cell)`
    """).assert_eq("".join(span_at(doc.text, s) + "\n" for s in chain[:-1]))
    assert chain[-1] == Span(0, len(doc.text))


# ------------------------------------------------------------------ formatting, actions ----
def test_formatting_refuses_when_there_are_syntax_errors():
    doc = open_doc("object A : : FinSet 2\n# keep me\n")
    result = formatting.format_document(doc)
    assert result.edits == ()
    expect('not formatting: syntax error at 1:12 (QVR002: syntax error: expected a type in object `A`, found `:`)').assert_eq(result.message)


def test_formatting_keeps_comments_and_is_idempotent():
    from qvr.diagnostics import apply_edits, TextEdit

    text = "object   A : FinSet 2   # trailing\n#{ block }#\nmorphism  f : A -> A ~ Categorical\nexport f\n"
    doc = open_doc(text)
    result = formatting.format_document(doc)
    once = apply_edits(text, [TextEdit(s, t) for s, t in result.edits])
    expect("""
        object A : FinSet 2  # trailing
        #{ block }#
        morphism f : A -> A ~ Categorical
        export f
    """).assert_eq(once)
    again = formatting.format_document(open_doc(once))
    assert again.edits == ()


def test_quick_fixes_come_from_the_checker():
    doc = open_doc(SAMPLES["lstm_classic"])
    line_end = doc.text.index("\n")
    actions = code_actions.code_actions(doc, Span(0, line_end), ["quickfix"])
    expect("""
        Rewrite as `object Token : FinSet 256` [quickfix, preferred] fixes QVR090
          1:16-1:19 `256` -> 'FinSet 256'
    """).assert_eq(render_actions(doc.text, actions))


def test_did_you_mean_and_declare_missing_object():
    text, marks = marked("object Hidden : Real 8\nmorphism f : Hid$0en -> Miss$1ing ~ Normal\nexport f\n")
    doc = open_doc(text)
    expect("""
        Change to `Hidden` [quickfix] fixes QVR010
          2:14-2:19 `Hiden` -> 'Hidden'
        Declare object `Hiden` [quickfix] fixes QVR010
          2:1-2:1 `` -> 'object Hiden : Real 1\\n'
    """).assert_eq(render_actions(text, code_actions.quick_fixes(doc, Span(marks[0], marks[0]))))
    expect("""
        Declare object `Missing` [quickfix, preferred] fixes QVR010
          2:1-2:1 `` -> 'object Missing : Real 1\\n'
    """).assert_eq(render_actions(text, code_actions.quick_fixes(doc, Span(marks[1], marks[1]))))


def test_declare_missing_object_for_a_where_binding_goes_before_its_owner():
    text, marks = marked("object Hidden : Real 8\nmorphism f : Hidden -> Hidden\n"
                         "define a = f >> g\n    where\n        define g = identity(Miss$0ng)\nexport a\n")
    doc = open_doc(text)
    expect("""
        Declare object `Missng` [quickfix] fixes QVR010
          3:1-3:1 `` -> 'object Missng : Real 1\\n'
    """).assert_eq(render_actions(text, code_actions.quick_fixes(doc, Span(marks[0], marks[0]))))


def test_migrate_source_action_rewrites_the_whole_file():
    doc = open_doc(SAMPLES["gru_classic"])
    actions = code_actions.code_actions(doc, Span(0, 0), ["source"])
    assert [(a.kind, a.deferred, a.edits) for a in actions] == [(code_actions.MIGRATE_KIND, True, ())]
    from qvr.diagnostics import apply_edits, TextEdit

    action = code_actions.migrate_action(doc)  # what picking it makes (the server's command)
    new = apply_edits(doc.text, [TextEdit(s, t) for s, t in action.edits])
    expect_file("fixtures/expect/migrate/gru_classic.qvr").assert_eq(new)
    expect("""
        10:10-10:19 hint[QVR080] `candidate` is declared but never used [unnecessary]
    """).assert_eq(render_diagnostics(new, open_doc(new).analysis.diagnostics))


def test_offering_the_migration_costs_no_analysis(monkeypatch):
    """Editors ask for code actions on every move of the cursor: the migration is offered from
    the analysis at hand, where the file has a deprecated form, and made only when picked."""
    from qvr.semantics import migration

    classic = open_doc(SAMPLES["gru_classic"])
    current = open_doc(migration.migrate(classic.text))
    classic.analysis, current.analysis
    analysed = []
    monkeypatch.setattr(migration, "analyze", lambda text: analysed.append(text))
    assert [a.title for a in code_actions.code_actions(classic, Span(0, 0))
            if a.kind == code_actions.MIGRATE_KIND] == [code_actions.MIGRATE_TITLE]
    assert [a for a in code_actions.code_actions(current, Span(0, 0))
            if a.kind == code_actions.MIGRATE_KIND] == []
    assert analysed == []


def test_the_migration_is_sent_as_a_code_action_that_runs_the_command():
    """Picking it runs `qvr.migrateFile` on the document, which makes the edit then."""
    from types import SimpleNamespace

    from lsprotocol.converters import get_converter
    from qvr_lsp import handlers

    doc = open_doc(SAMPLES["gru_classic"])
    offered = [a for a in code_actions.code_actions(doc, Span(0, 0)) if a.deferred]
    sent = get_converter().unstructure(handlers._lsp_code_actions(SimpleNamespace(), doc, offered))
    assert sent == [{"title": "Migrate file to current QVR syntax", "kind": "source.migrate.qvr",
                     "command": {"title": "Migrate file to current QVR syntax",
                                 "command": "qvr.migrateFile", "arguments": [{"uri": doc.uri}]}}]


# ------------------------------------------------------------- the three dialects ----
@pytest.mark.parametrize(
    "sample, needle, delta, expected",
    [
        ("lstm_classic", "gate_i(x_t", 0, expect("""
            ```qvr
            gate_i : Embedded(64) * State(128) -> Hidden(64) ~ LogitNormal
            ```

            Family `LogitNormal(loc, scale)`, support unit interval (0, 1) → Real w {low=0.0, high=1.0}

            Options: `param_source=affine`, `replicate=1`
        """)),
        ("lstm_classic", "cell_cand(x_t", 2, expect("""
            ```qvr
            cell_cand : Embedded(64) * State(128) -> Hidden(64) ~ Normal
            ```

            Family `Normal(loc, scale)`, support real line ℝ → Real w

            Options: `param_source=affine`, `replicate=1`, `scale=0.5`
        """)),
        ("lstm_classic", "draw i_gate", 5, expect("""
            ```qvr
            i_gate : Hidden(64)
            ```

            sample variable of program `lstm_cell`
        """)),
        ("lstm_classic", "let two_c", 5, expect("""
            ```qvr
            two_c : Real 64
            ```

            let variable of program `lstm_cell`
        """)),      # f_gate * g_cand: Hidden is 64 wide
        ("lstm_classic", "sigmoid(two_c)", 9, expect("""
            ```qvr
            two_c : Real 64
            ```

            let variable of program `lstm_cell`
        """)),
        ("lstm_classic", "output lstm", 8, expect("""
            ```qvr
            define lstm : Seq[Token(256)] -> Output(32)
            ```
        """)),
        ("lstm_classic", "embed tok_embed", 7, expect("""
            ```qvr
            tok_embed : Token(256) -> Embedded(64)  [role=embed]
            ```

            Options: `replicate=1`
        """)),
        ("gru_classic", "h_cand <-", 0, expect("""
            ```qvr
            h_cand : Real 128
            ```

            sample variable of program `gru_cell`
        """)),
        ("gru_classic", "z * h_cand", 0, expect("""
            ```qvr
            z : Hidden(128)
            ```

            sample variable of program `gru_cell`
        """)),
        ("gru_classic", "scan(gru_cell)", 6, expect("""
            ```qvr
            program gru_cell(x_t, h_prev) : Embedded(64) * Hidden(128) -> Hidden(128)
            ```
        """)),
        ("rnn_011", "lm_head(h)", 1, expect("""
            ```qvr
            lm_head : Hidden(128) -> Token(256) ~ Categorical
            ```

            Family `Categorical(probs)`, support finite set → FinSet K

            Options: `param_source=affine`, `replicate=1`
        """)),
        ("rnn_011", "observe next_token", 9, expect("""
            ```qvr
            next_token : Token(256)
            ```

            observe variable of program `vanilla_rnn_lm`
        """)),
        ("rnn_011", "let backbone", 5, expect("""
            ```qvr
            define backbone : Seq[Token(256)] -> Hidden(128)
            ```
        """)),
        ("lstm_current", "take_h >>", 1, expect("""
            ```qvr
            program take_h(_c, h) : Hidden(64) * Hidden(64) -> Hidden(64)
            ```

            Keep the hidden half of an LSTM state.
        """)),
        ("lstm_current", "out_proj\n", 1, expect("""
            ```qvr
            out_proj : Hidden(64) -> Output(32) ~ Normal
            ```

            Family `Normal(loc, scale)`, support real line ℝ → Real w

            Options: `param_source=affine`, `replicate=1`, `scale=0.1`
        """)),
    ],
)
def test_hover_across_dialects(sample, needle, delta, expected):
    doc = open_doc(SAMPLES[sample])
    result = hover.hover(doc, offset_of(doc.text, needle, delta=delta))
    assert result is not None
    expected.assert_eq(render_hover(result))


@pytest.mark.parametrize(
    "sample, needle",
    [("lstm_classic", "State"), ("lstm_classic", "x_t"), ("gru_classic", "h_prev"), ("rnn_011", "Token"),
     ("lstm_classic", "tok_embed"), ("gru_classic", "gru_cell")],
)
def test_references_find_every_whole_word_occurrence(sample, needle):
    """These samples have no comments, and each name has one scope: every whole-word
    occurrence is a reference."""
    import re

    doc = open_doc(SAMPLES[sample])
    refs = navigation.references(doc, offset_of(doc.text, needle, delta=1))
    assert len(refs) == len(re.findall(rf"\b{needle}\b", doc.text))
    assert all(doc.text[s.start:s.end] == needle for s in refs)


@pytest.mark.parametrize("sample", sorted(SAMPLES))
def test_every_name_in_every_sample_resolves_to_its_definition(sample):
    """Definition of every reference is the declared name; rename round-trips leave the file
    checking the same way."""
    doc = open_doc(SAMPLES[sample])
    analysis = doc.analysis
    for ref in analysis.references:
        span = navigation.definition(doc, ref.span.start)
        assert span == ref.symbol.name_span
        assert doc.text[span.start:span.end] == ref.symbol.name
