"""Feature functions on small cursor-marker fixtures (`$0` marks the cursor; rust-analyzer style).

Each case is one fixture and one expectation about behaviour a user sees; no protocol involved.
"""
from __future__ import annotations

import pytest

from qvr.syntax.span import Span
from qvr_lsp.features import (
    code_actions, completion, formatting, hover, inlay_hints, navigation, rename, semantic_tokens,
    signature_help, structure, symbols,
)

from lsp_fixtures import SAMPLES, at_cursor, marked, open_doc, offset_of

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
    return result.markdown


# ------------------------------------------------------------------------------- hover ----
@pytest.mark.parametrize(
    "fixture, expected",
    [
        (PRELUDE + "define rnn = tok_embed >> scan(c$0ell)\nexport rnn\n",
         ["cell : Embedded(64) * Hidden(128) -> Hidden(128) ~ Normal", "The recurrent cell.", "Normal(loc, scale)"]),
        (PRELUDE + "define rnn = tok_embed $0>> scan(cell)\nexport rnn\n", ["Seq[Embedded(64)]", "Seq[Embedded]"]),
        (PRELUDE + "define rnn = tok_embed >> scan(cell)\nexport r$0nn\n", ["define rnn : Seq[Token(256)] -> Hidden(128)"]),
        (PRELUDE + "object Out : Real 2\nmorphism m : Hidden -> Out ~ Log$0Normal\nexport m\n", ["family LogNormal(loc, scale)", "(0, ∞)"]),
        (PRELUDE + "program p(x, h) : Embedded * Hidden -> Hidden\n    sample y <- cell(x, h)\n    let z$0 = y * 2.0\n    return z\nexport p\n",
         ["z : Real 128", "let"]),
        (PRELUDE + "program p(x, h$0) : Embedded * Hidden -> Hidden\n    sample y <- cell(x, h)\n    return y\nexport p\n",
         ["h : Hidden(128)", "parameter of program `p`"]),
        (PRELUDE + "program p(x, h) : Embedded * Hidden -> Hidden\n    sample y$0 <- cell(x, h)\n    return y\nexport p\n",
         ["y : Hidden(128)"]),
        (PRELUDE + "define enc = tok_embed >> scan(cell)\nprogram p : Token -> Token\n    sample h <- enc\n    observe t : Token <- head(h)\n    return t\nexport p$0\n",
         ["program p : Token(256) -> Token(256)"]),
        (PRELUDE + "object O : Real 1\nprogram p(x) : Hidden -> O\n    let s = sig$0moid(x)\n    return s\nexport p\n", ["builtin sigmoid"]),
        (PRELUDE + "define e = tok_$0embed\nexport e\n", ["tok_embed : Token(256) -> Embedded(64)", "role=embed"]),
        ("object Tok$0en : FinSet 256\n", ["object Token", "cardinality 256"]),
    ],
)
def test_hover_shows_signature_types_and_docs(fixture, expected):
    text = hover_text(fixture)
    for piece in expected:
        assert piece in text, f"{piece!r} not in hover:\n{text}"


def test_hover_on_promoted_program_shows_effective_type():
    doc = open_doc(SAMPLES["rnn_011"])
    text = hover.hover(doc, offset_of(doc.text, "vanilla_rnn_lm :", delta=3)).markdown
    assert "Promoted to `Seq[Token(256)] -> Token(256)`" in text


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
    with_decl = navigation.references(doc, off, include_declaration=True)
    without = navigation.references(doc, off, include_declaration=False)
    comment = doc.text.index("# cell")
    assert len(with_decl) == 3 and len(without) == 2
    assert all(not (comment <= s.start < comment + 16) for s in with_decl)
    assert all(doc.text[s.start:s.end] == "cell" for s in with_decl)


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
    assert [m.is_write for m in marks] == [True, False]


# ------------------------------------------------------------------------------ rename ----
RENAME_FIXTURE = PRELUDE + (
    "program a(x, h) : Embedded * Hidden -> Hidden\n    sample y$0 <- cell(x, h)\n    return y\n"
    "program b(x, h) : Embedded * Hidden -> Hidden\n    sample y <- cell(x, h)\n    return y\n"
    "define both = fan(a, b)\nexport both\n"
)


def test_rename_of_a_program_local_stays_inside_its_program():
    doc, off = at_cursor(RENAME_FIXTURE)
    edits = rename.rename(doc, off, "out")
    end_of_a = doc.text.index("program b")
    assert len(edits) == 2 and all(span.end <= end_of_a for span, _ in edits)


def test_rename_of_a_top_level_name_updates_every_use():
    doc, off = at_cursor(PRELUDE + "define rnn = tok_embed >> scan(cell)\nexport rnn\ndefine x = c$0ell\n")
    from qvr.diagnostics import apply_edits, TextEdit

    edits = rename.rename(doc, off, "step")
    new = apply_edits(doc.text, [TextEdit(s, t) for s, t in edits])
    assert "morphism step :" in new and "scan(step)" in new and "define x = step" in new
    assert "cell" not in new.replace("#! The recurrent cell.", "")


@pytest.mark.parametrize(
    "new_name, message",
    [("scan", "reserved"), ("2x", "not a valid"), ("a-b", "not a valid"), ("", "not a valid"), ("h", "already declared"), ("x", "already declared")],
)
def test_rename_refuses_bad_names_and_collisions(new_name, message):
    doc, off = at_cursor(RENAME_FIXTURE)
    with pytest.raises(rename.RenameError, match=message):
        rename.rename(doc, off, new_name)


def test_rename_refuses_top_level_collision():
    doc, off = at_cursor(PRELUDE + "define rnn = tok_embed >> scan(c$0ell)\nexport rnn\n")
    with pytest.raises(rename.RenameError, match="already declared"):
        rename.rename(doc, off, "head")


def test_prepare_rename_only_on_declared_names():
    doc, off = at_cursor(PRELUDE + "define rnn = tok_embed >> scan(cell)\nexport rnn # c$0ell\n")
    assert rename.prepare_rename(doc, off) is None
    doc, off = at_cursor(PRELUDE + "define rnn = tok_embed >> scan(ce$0ll)\nexport rnn\n")
    target = rename.prepare_rename(doc, off)
    assert target.placeholder == "cell"


# ----------------------------------------------------------------------------- symbols ----
def test_document_symbols_are_hierarchical():
    doc = open_doc(SAMPLES["lstm_current"])
    nodes = symbols.document_symbols(doc.parsed.module, doc.text)
    by_name = {n.name: n for n in nodes}
    assert by_name["gate_f"].kind == "morphism" and by_name["Token"].kind == "object"
    assert [c.name for c in by_name["lstm_cell"].children] == ["x", "c", "h", "i", "f", "o", "g", "c_new", "h_new"]
    assert by_name["lstm"].kind == "define"


def test_workspace_symbols_include_files_on_disk(tmp_path):
    (tmp_path / "other.qvr").write_text("object Faraway : FinSet 3\n", encoding="utf-8")
    doc = open_doc(SAMPLES["rnn_011"])
    found = symbols.workspace_symbols("far", [doc], symbols.WorkspaceIndex(), [str(tmp_path)])
    assert [s.name for s in found] == ["Faraway"]
    found = symbols.workspace_symbols("vrl", [doc], symbols.WorkspaceIndex(), [str(tmp_path)])
    assert [s.name for s in found] == ["vanilla_rnn_lm"]


# -------------------------------------------------------------------------- completion ----
def labels(fixture: str) -> set[str]:
    doc, off = at_cursor(fixture)
    return {item.label for item in completion.complete(doc, off)}


@pytest.mark.parametrize(
    "fixture, present, absent",
    [
        (PRELUDE + "morphism m : Hidden -> Hidden ~ $0", {"Normal", "LogitNormal", "Categorical"}, {"Token", "sample"}),
        (PRELUDE + "morphism m : Hidden -> Hidden ~ Lo$0", {"LogNormal", "LogitNormal"}, {"Token"}),
        (PRELUDE + "morphism m : $0", {"Token", "Embedded", "Hidden", "FinSet", "Real"}, {"cell", "Normal"}),
        (PRELUDE + "morphism m : Hidden -> $0", {"Token", "Hidden"}, {"cell"}),
        (PRELUDE + "program p(x, h) : Embedded * Hidden -> Hidden\n    sample y <- $0", {"cell", "tok_embed", "Normal"}, {"Token", "x"}),
        (PRELUDE + "program p(x, h) : Embedded * Hidden -> Hidden\n    sample y <- cell($0", {"x", "h", "sigmoid"}, {"Token"}),
        (PRELUDE + "program p(x, h) : Embedded * Hidden -> Hidden\n    sample y <- cell(x, h)\n    let z = $0", {"x", "h", "y", "tanh"}, {"Token"}),
        (PRELUDE + "program p(x, h) : Embedded * Hidden -> Hidden\n    $0", {"sample", "observe", "let", "return"}, {"Token"}),
        (PRELUDE + "$0", {"object", "morphism", "program", "define", "export"}, {"sample", "Token"}),
        (PRELUDE + "define rnn = tok_embed >> $0", {"cell", "tok_embed", "scan", "fan"}, {"Token", "Normal"}),
        (PRELUDE + "morphism m : Hidden -> Hidden [$0", {"scale", "role", "replicate"}, {"Token"}),
        (PRELUDE + "morphism m : Hidden -> Hidden [role=$0", {"kernel", "embed"}, {"scale"}),
        (PRELUDE + "# morphism m : $0", set(), {"Token"}),
    ],
)
def test_completion_depends_on_context(fixture, present, absent):
    got = labels(fixture)
    assert present <= got, f"missing {present - got}"
    assert not (absent & got), f"unexpected {absent & got}"


def test_program_variables_are_offered_only_after_they_are_bound():
    got = labels(PRELUDE + "program p(x, h) : Embedded * Hidden -> Hidden\n    let a = $0\n    sample later <- cell(x, h)\n    return later\n")
    assert {"x", "h"} <= got and "later" not in got


def test_prefix_filter_keeps_matches_and_caps_long_lists():
    items = [completion.Item(f"name{i}", "morphism") for i in range(500)] + [completion.Item("gate_i", "morphism")]
    found, cut = completion.prefix_filter(items, "gi")
    assert [i.label for i in found] == ["gate_i"] and not cut
    found, cut = completion.prefix_filter(items, "")
    assert len(found) == completion.MAX_ITEMS and cut


def test_declaration_snippets_are_snippets():
    doc, off = at_cursor("$0")
    items = {i.label: i for i in completion.complete(doc, off)}
    assert items["program"].is_snippet and "return" in items["program"].insert_text


# ---------------------------------------------------------------------- signature help ----
@pytest.mark.parametrize(
    "fixture, label_piece, active",
    [
        (PRELUDE + "program p(x, h) : Embedded * Hidden -> Hidden\n    sample y <- cell(x, $0", "cell(Embedded(64), Hidden(128))", 1),
        (PRELUDE + "program p(x, h) : Embedded * Hidden -> Hidden\n    sample y <- cell($0", "cell(Embedded(64), Hidden(128))", 0),
        (PRELUDE + "program p(x, h) : Embedded * Hidden -> Hidden\n    sample y <- Normal(x, $0", "Normal(loc, scale)", 1),
        (PRELUDE + "program p(x, h) : Embedded * Hidden -> Hidden\n    sample y <- StudentT(1.0, x, $0", "StudentT(df, loc, scale)", 2),
    ],
)
def test_signature_help(fixture, label_piece, active):
    doc, off = at_cursor(fixture)
    sig = signature_help.signature_help(doc, off)
    assert label_piece in sig.label and sig.active_parameter == active


def test_no_signature_help_outside_calls():
    doc, off = at_cursor(PRELUDE + "define x = cell $0\n")
    assert signature_help.signature_help(doc, off) is None


# ------------------------------------------------------------------------- inlay hints ----
def test_inlay_hints_show_dimensions_of_variables_and_compositions():
    doc = open_doc(SAMPLES["gru_classic"])
    hints = {doc.text[: h.offset].rsplit("\n", 1)[-1].strip(): h.label for h in inlay_hints.inlay_hints(doc, Span(0, len(doc.text)))}
    assert hints["h_cand"] == ": Real 128"  # width of reset_hidden (spec §7.2)
    assert hints["draw z"] == ": Hidden(128)"
    assert hints["let gru"] == ": Seq[Token(256)] -> Output(64)"


def test_inlay_hints_respect_the_requested_range():
    doc = open_doc(SAMPLES["gru_classic"])
    start = doc.text.index("let gru")
    hints = inlay_hints.inlay_hints(doc, Span(start, len(doc.text)))
    assert [h.label for h in hints] == [": Seq[Token(256)] -> Output(64)"]


# --------------------------------------------------------------------- semantic tokens ----
def token_at(doc, needle: str, nth: int = 0):
    start = offset_of(doc.text, needle, nth)
    for tok in semantic_tokens.semantic_tokens(doc):
        if tok.start == start:
            return semantic_tokens.TOKEN_TYPES[tok.type], tok.modifiers
    return None


def test_semantic_tokens_classify_names_by_what_they_resolve_to():
    doc = open_doc(PRELUDE + "# cell\ndefine rnn = tok_embed >> scan(cell)\nexport rnn\n")
    decl = semantic_tokens._M["declaration"]
    lib = semantic_tokens._M["defaultLibrary"]
    assert token_at(doc, "morphism") == ("keyword", 0)
    assert token_at(doc, "Token", 1) == ("type", 0)
    assert token_at(doc, "cell :") == ("function", decl)
    assert token_at(doc, "Normal") == ("type", lib)
    assert token_at(doc, "FinSet") == ("type", lib)
    assert token_at(doc, "scale") == ("property", 0)
    assert token_at(doc, "256") == ("number", 0)
    assert token_at(doc, "# cell") == ("comment", 0)
    assert token_at(doc, "#! The") == ("comment", semantic_tokens._M["documentation"])


def test_semantic_tokens_encoding_splits_block_comments_per_line():
    from qvr_lsp.positions import PositionEncoder

    doc = open_doc("#{ one\ntwo }#\nobject A : FinSet 2\n")
    data = semantic_tokens.encode(doc, semantic_tokens.semantic_tokens(doc), PositionEncoder())
    quintuples = [data[i:i + 5] for i in range(0, len(data), 5)]
    assert quintuples[0][:3] == [0, 0, 6] and quintuples[1][:3] == [1, 0, 6]


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
    folds = structure.folding_ranges(doc)
    program_line = doc.text[: doc.text.index("program lstm_cell")].count("\n")
    assert structure.Fold(0, 3, "comment") in folds
    assert any(f.start_line == program_line and f.end_line == program_line + 7 for f in folds)


def test_selection_chain_grows_from_word_to_document():
    doc, off = at_cursor(PRELUDE + "define rnn = tok_embed >> scan(ce$0ll)\nexport rnn\n")
    chain = structure.selection_chain(doc, off)
    texts = [doc.text[s.start:s.end] for s in chain]
    assert texts[0] == "cell"
    assert "scan(cell)" in texts
    assert texts[-1] == doc.text
    assert all(b.covers(a) for a, b in zip(chain, chain[1:]))


# ------------------------------------------------------------------ formatting, actions ----
def test_formatting_refuses_when_there_are_syntax_errors():
    doc = open_doc("object A : : FinSet 2\n# keep me\n")
    result = formatting.format_document(doc)
    assert result.edits == () and "syntax error" in result.message


def test_formatting_keeps_comments_and_is_idempotent():
    from qvr.diagnostics import apply_edits, TextEdit

    text = "object   A : FinSet 2   # trailing\n#{ block }#\nmorphism  f : A -> A ~ Categorical\nexport f\n"
    doc = open_doc(text)
    result = formatting.format_document(doc)
    once = apply_edits(text, [TextEdit(s, t) for s, t in result.edits])
    for comment in ("# trailing", "#{ block }#"):
        assert comment in once
    again = formatting.format_document(open_doc(once))
    assert again.edits == ()


def test_quick_fixes_come_from_the_checker():
    doc = open_doc(SAMPLES["lstm_classic"])
    line_end = doc.text.index("\n")
    actions = code_actions.code_actions(doc, Span(0, line_end), ["quickfix"])
    assert any("FinSet 256" in a.title for a in actions)
    assert all(a.kind == "quickfix" and a.diagnostic is not None for a in actions)


def test_did_you_mean_and_declare_missing_object():
    text, marks = marked("object Hidden : Real 8\nmorphism f : Hid$0en -> Miss$1ing ~ Normal\nexport f\n")
    doc = open_doc(text)
    fixes = code_actions.quick_fixes(doc, Span(marks[0], marks[0]))
    assert any(edit == "Hidden" for a in fixes for _, edit in a.edits)
    declare = code_actions.quick_fixes(doc, Span(marks[1], marks[1]))
    assert [a.title for a in declare] == ["Declare object `Missing`"]
    span, new = declare[0].edits[0]
    assert span.start == text.index("morphism f") and new == "object Missing : Real 1\n"


def test_migrate_source_action_rewrites_the_whole_file():
    doc = open_doc(SAMPLES["gru_classic"])
    actions = code_actions.code_actions(doc, Span(0, 0), ["source"])
    assert [a.kind for a in actions] == [code_actions.MIGRATE_KIND]
    from qvr.diagnostics import apply_edits, TextEdit

    new = apply_edits(doc.text, [TextEdit(s, t) for s, t in actions[0].edits])
    assert "draw " not in new and "output gru" not in new and "export gru" in new
    assert not [d for d in open_doc(new).analysis.diagnostics if "deprecated" in d.tags]


# ------------------------------------------------------------- the three dialects ----
@pytest.mark.parametrize(
    "sample, needle, delta, expected",
    [
        ("lstm_classic", "gate_i(x_t", 0, "gate_i : Embedded(64) * State(128) -> Hidden(64) ~ LogitNormal"),
        ("lstm_classic", "cell_cand(x_t", 2, "Normal"),
        ("lstm_classic", "draw i_gate", 5, "i_gate : Hidden(64)"),
        ("lstm_classic", "let two_c", 5, "two_c : Real 64"),      # f_gate * g_cand: Hidden is 64 wide
        ("lstm_classic", "sigmoid(two_c)", 9, "two_c : Real 64"),
        ("lstm_classic", "output lstm", 8, "define lstm : Seq[Token(256)] -> Output(32)"),
        ("lstm_classic", "embed tok_embed", 7, "tok_embed : Token(256) -> Embedded(64)"),
        ("gru_classic", "h_cand <-", 0, "h_cand : Real 128"),
        ("gru_classic", "z * h_cand", 0, "z : Hidden(128)"),
        ("gru_classic", "scan(gru_cell)", 6, "program gru_cell(x_t, h_prev) : Embedded(64) * Hidden(128) -> Hidden(128)"),
        ("rnn_011", "lm_head(h)", 1, "lm_head : Hidden(128) -> Token(256) ~ Categorical"),
        ("rnn_011", "observe next_token", 9, "next_token : Token(256)"),
        ("rnn_011", "let backbone", 5, "define backbone : Seq[Token(256)] -> Hidden(128)"),
        ("lstm_current", "take_h >>", 1, "program take_h(_c, h) : Hidden(64) * Hidden(64) -> Hidden(64)"),
        ("lstm_current", "take_h >>", 1, "Keep the hidden half of an LSTM state."),
        ("lstm_current", "out_proj\n", 1, "out_proj : Hidden(64) -> Output(32) ~ Normal"),
    ],
)
def test_hover_across_dialects(sample, needle, delta, expected):
    doc = open_doc(SAMPLES[sample])
    result = hover.hover(doc, offset_of(doc.text, needle, delta=delta))
    assert result is not None and expected in result.markdown, result and result.markdown


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


@pytest.mark.parametrize(
    "fixture, present",
    [
        (PRELUDE + "program p(x, h) : Embedded * Hidden -> Hidden\n    observe y : $0", {"Hidden", "Token", "Real"}),
        (PRELUDE + "program p(x, h) : Embedded * Hidden -> Hidden\n    draw y ~ $0", {"cell", "Normal"}),
        (PRELUDE + "object Pair : Hidden * $0", {"Hidden", "Embedded"}),
        (PRELUDE + "type T = $0", {"FinSet", "Real", "Hidden"}),
        (PRELUDE + "define d = fan($0", {"cell", "tok_embed"}),
        (PRELUDE + "program p(x, h) : Embedded * Hidden -> Hidden\n    let v = x * (h + $0", {"x", "h"}),
    ],
)
def test_more_completion_contexts(fixture, present):
    got = labels(fixture)
    assert present <= got, f"missing {present - got}"
