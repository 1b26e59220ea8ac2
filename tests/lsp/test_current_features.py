"""Editor features on the current forms (spec part 2 §5.12): the outline of tier-3 blocks
and of `marginalize` bodies, folding, semantic tokens inside blocks from a lexical scan,
hover on block names, and navigation and rename of names used inside blocks; inlay hints with
plates and data names; definition, references, highlights and rename of plates, data names,
template parameters, `marginalize` variables, `factor` binders and `score` names; signature
help with alternative parameters and for builtins; and those answers over the protocol."""
from __future__ import annotations

import re

import pytest
from lsprotocol import types as lsp

from qvr.semantics.families import FAMILIES
from qvr.syntax.span import Span
from qvr_lsp import convert
from qvr_lsp.features import (hover, inlay_hints, navigation, rename, semantic_tokens, signature_help,
                              structure, symbols)

from lsp_fixtures import marked, open_doc, offset_of
from raw_client import RawServer

TEXT = """object T : FinSet 2
morphism emit : T -> T ~ Categorical
#! A chart over T.
deduction D : T -> T [semiring=LogProb]
    atoms T  # one atom
    rule step : emit "emit" 1.5 | D
signature Sig
    sorts T
effect Eff
    op go : T
loss L
    body emit
schema sw (X : T) : X -> X

object R : Real 1
program p : T -> R
    sample m <- Normal(loc=0.0, scale=1.0)
    marginalize z <- Bernoulli(probs=0.5)
        score a = m
        let b = z
    let ch = parse(D, sentence)
    return m
export p
"""


def outline(nodes, depth=0):
    out = []
    for n in nodes:
        out.append(("  " * depth + n.name, n.kind, n.detail))
        out.extend(outline(n.children, depth + 1))
    return out


def test_outline_of_blocks_and_marginalize_bodies():
    doc = open_doc(TEXT)
    assert outline(symbols.document_symbols(doc.parsed.module, TEXT)) == [
        ("T", "object", "object T : FinSet 2"),
        ("emit", "morphism", "morphism emit : T -> T ~ Categorical"),
        ("D", "block_module", "deduction D : T -> T [semiring=LogProb]"),
        ("Sig", "block_struct", "signature Sig"),
        ("Eff", "block_interface", "effect Eff"),
        ("L", "block_function", "loss L"),
        ("sw", "block_constant", "schema sw (X : T) : X -> X"),
        ("R", "object", "object R : Real 1"),
        ("p", "program", "program p : T -> R"),
        ("  m", "variable", "sample"),
        ("  z", "variable", "marginalize"),
        ("    a", "variable", "score"),
        ("    b", "variable", "let"),
        ("  ch", "variable", "let"),
        ("export", "export", "export p"),
    ]
    assert [convert.SYMBOL_KINDS[k] for k in ("block_module", "block_struct", "block_interface",
                                              "block_function", "block_constant")] == [
        lsp.SymbolKind.Module, lsp.SymbolKind.Struct, lsp.SymbolKind.Interface,
        lsp.SymbolKind.Function, lsp.SymbolKind.Constant]


def test_blocks_and_marginalize_bodies_fold():
    doc = open_doc(TEXT)
    assert structure.folding_ranges(doc) == [
        structure.Fold(3, 5), structure.Fold(6, 7), structure.Fold(8, 9),
        structure.Fold(10, 11), structure.Fold(15, 21), structure.Fold(17, 19)]


def test_semantic_tokens_inside_a_block_come_from_a_lexical_scan():
    doc = open_doc(TEXT)
    start, end = TEXT.index("deduction D"), TEXT.index("signature Sig")
    tokens = [(TEXT[t.start:t.end], semantic_tokens.TOKEN_TYPES[t.type], t.modifiers)
              for t in semantic_tokens.semantic_tokens(doc) if start <= t.start < end]
    declaration = 1
    assert tokens == [
        ("deduction", "keyword", 0), ("D", "function", declaration), ("T", "type", 0),
        ("T", "type", 0), ("atoms", "keyword", 0), ("T", "type", 0),
        ("# one atom", "comment", 0), ("rule", "keyword", 0), ("emit", "function", 0),
        ("1.5", "number", 0), ("D", "function", 0)]


def test_hover_on_a_block_name_says_it_is_unchecked():
    doc = open_doc(TEXT)
    use = hover.hover(doc, offset_of(TEXT, "D, sentence"))
    assert use.markdown == ("```qvr\ndeduction D : unchecked (tier 3: deduction)\n```\n\n"
                            "A chart over T.")


def test_names_inside_blocks_are_found_and_renamed():
    doc = open_doc(TEXT)
    decl = offset_of(TEXT, "emit :")
    in_block = offset_of(TEXT, "emit \"emit\"")
    in_loss = offset_of(TEXT, "emit\nschema")
    assert [s.start for s in navigation.references(doc, decl, True)] == [decl, in_block, in_loss]
    assert navigation.definition(doc, in_block).start == decl
    assert [(s.start, new) for s, new in rename.rename(doc, in_block, "emitter")] == [
        (decl, "emitter"), (in_block, "emitter"), (in_loss, "emitter")]
    # the block's own name: its head, its use inside itself and in the program
    d_edits = [s.start for s, _ in rename.rename(doc, offset_of(TEXT, "D :"), "Chart")]
    assert d_edits == [offset_of(TEXT, "D :"), offset_of(TEXT, "D\nsignature"),
                       offset_of(TEXT, "D, sentence")]


def test_the_keystroke_path_encodes_blocks_like_the_whole_text_path():
    from qvr_lsp.positions import PositionEncoder

    doc = open_doc(TEXT)
    doc.diagnostics  # the incremental check, which gives the per-block layout
    whole = semantic_tokens.encode(doc, semantic_tokens.semantic_tokens(doc), PositionEncoder())
    assert semantic_tokens.encoded(doc, PositionEncoder()) == whole
    assert getattr(doc, "layout", None) is not None


def test_soft_keywords_and_enumerated_objects():
    text = """composition real [level=algebra]
object A : {red, green}
object R : Real 1
program p : A -> R
    sample score <- Normal(loc=0.0, scale=1.0)
    score s = score
    return score
export p
"""
    doc = open_doc(text)
    words = [(text[t.start:t.end], semantic_tokens.TOKEN_TYPES[t.type])
             for t in semantic_tokens.semantic_tokens(doc)
             if text[t.start:t.end] in ("composition", "score")]
    # `score` is a keyword only as the first word of a step; elsewhere it is a name
    assert words == [("composition", "keyword"), ("score", "variable"), ("score", "keyword"),
                     ("score", "variable"), ("score", "variable")]
    assert hover.hover(doc, offset_of(text, "A -> R")).markdown == (
        "```qvr\nobject A : {red, green}\n```\n\nfinite, cardinality 2")


# ------------------------------------------- plates, data names, templates, local scopes ----
NAV = """object School : FinSet 8
object Two : FinSet 2
object Effect : Real 1
morphism squash : Effect -> Effect

program pooled(G : FinSet, spread : Real, link : Mor[Effect, Effect]) : G -> Effect
    sample raw : G <- Normal(loc=0.0, scale=spread)
    let v <- link(raw)
    return v

program schools(prior_scale : Real) : School -> Effect
    sample mu <- Normal(loc=0.0, scale=prior_scale)
    sample z <- Normal(loc=0.0, scale=1.0) [iid_over=School]
    sample bias : Two <- Normal(loc=0.0, scale=1.0)
    sample u <- pooled(School, 1.0, squash)
    let theta = mu + z + u
    observe y : School <- Normal(loc=theta[School], scale=sd)
    marginalize k : School <- Bernoulli(probs=0.3)
        observe y2 : School <- Normal(loc=theta + bias[k], scale=sd)
    let a = factor s : School in theta[s]
    let b = factor s : School in z[s] + a[s]
    score tight = -1.0 * sum(sd * sd) + sum(b)
    return theta

program other : School -> Effect
    sample e : School <- Normal(loc=0.0, scale=sd)
    return e
export schools
export other
"""


def where(text: str, spans) -> list[tuple[int, int, str]]:
    """(line, column, text) of each span, lines from 1."""
    return [(text.count("\n", 0, s.start) + 1, s.start - text.rfind("\n", 0, s.start) - 1,
             text[s.start:s.end]) for s in spans]


def test_inlay_hints_show_plates_and_each_data_names_type_at_its_first_use():
    doc = open_doc(NAV)
    got = [(NAV.count("\n", 0, h.offset) + 1, re.search(r"\w+$", NAV[:h.offset]).group(0), h.label)
           for h in inlay_hints.inlay_hints(doc, Span(0, len(NAV)))]
    assert got == [
        (7, "raw", ": Real 1 over G"),
        (8, "v", ": Effect(1) over G"),
        (12, "mu", ": Real 1"),
        (13, "z", ": Real 1 over School"),
        (14, "bias", ": Real 1 over Two"),
        (15, "u", ": Effect(1) over School"),  # a template's return over its plate argument
        (16, "theta", ": Real 1 over School"),
        (17, "y", ": Real 1 over School"),
        (17, "sd", ": Real 1 over School"),  # the data name, at its first use only
        (18, "k", ": FinSet 2 over School"),
        (19, "y2", ": Real 1 over School"),
        (20, "a", ": Real 1 over School"),
        (21, "b", ": Real 1 over School"),
        (22, "tight", ": Real 1"),
        (26, "e", ": Real 1 over School"),
        (26, "sd", ": Real 1 over School"),  # another program's data name of the same name
    ]


def test_a_row_plate_shows_in_the_inlay_hint():
    text = """object Tok : FinSet 5
object Resp : FinSet 32
morphism head : Tok -> Tok ~ Categorical
program lm : Tok -> Tok
    observe y : Resp <- head
    return y
export lm
"""
    hints = inlay_hints.inlay_hints(open_doc(text), Span(0, len(text)))
    assert [(h.offset, h.label) for h in hints] == [
        (offset_of(text, "y : Resp", delta=1), ": Tok(5) (row plate Resp, 32 rows)")]


SCHOOL_USES = [(1, 7, "School"), (11, 38, "School"), (13, 53, "School"), (15, 23, "School"),
               (17, 16, "School"), (17, 43, "School"), (18, 20, "School"), (19, 21, "School"),
               (20, 23, "School"), (21, 23, "School"), (25, 16, "School"), (26, 15, "School")]


def test_plate_names_in_annotations_iid_over_and_sections_go_to_the_object():
    doc = open_doc(NAV)
    for needle in ("School]", "School <- Normal(loc=theta[", "School, 1.0", "School <- Bernoulli"):
        at = offset_of(NAV, needle)
        assert where(NAV, [navigation.definition(doc, at)]) == [(1, 7, "School")]
        assert where(NAV, navigation.references(doc, at)) == SCHOOL_USES


def test_a_data_name_is_a_local_of_its_program_defined_at_its_first_use():
    doc = open_doc(NAV)
    later = offset_of(NAV, "sd * sd")
    assert where(NAV, [navigation.definition(doc, later)]) == [(17, 58, "sd")]
    uses = [(17, 58, "sd"), (19, 65, "sd"), (22, 29, "sd"), (22, 34, "sd")]
    assert where(NAV, navigation.references(doc, later)) == uses
    assert where(NAV, navigation.references(doc, later, include_declaration=False)) == uses[1:]
    assert [(where(NAV, [h.span])[0], h.is_write) for h in navigation.highlights(doc, later)] == [
        (uses[0], True), (uses[1], False), (uses[2], False), (uses[3], False)]
    # renaming changes the key the input is supplied under, in this program only
    edits = rename.rename(doc, later, "se")
    assert [(where(NAV, [s])[0], new) for s, new in edits] == [(u, "se") for u in uses]
    other = offset_of(NAV, "sd)\n    return e")
    assert where(NAV, navigation.references(doc, other)) == [(26, 47, "sd")]


def test_a_data_name_cannot_be_renamed_to_a_top_level_name():
    doc = open_doc(NAV)
    with pytest.raises(rename.RenameError, match="`Two` is a top-level name: a data name cannot take it"):
        rename.rename(doc, offset_of(NAV, "sd * sd"), "Two")
    # another local may take a top-level name its program does not use, not one it uses
    assert len(rename.rename(doc, offset_of(NAV, "tight"), "squash2")) == 1
    with pytest.raises(rename.RenameError, match="`School` is a top-level name that program `schools` uses"):
        rename.rename(doc, offset_of(NAV, "tight"), "School")


def test_template_parameters_go_to_the_header():
    doc = open_doc(NAV)
    cases = {
        "G <- Normal": [(6, 15, "G"), (6, 72, "G"), (7, 17, "G")],
        "spread)": [(6, 27, "spread"), (7, 44, "spread")],
        "link(raw)": [(6, 42, "link"), (8, 13, "link")],
    }
    for needle, uses in cases.items():
        at = offset_of(NAV, needle)
        assert where(NAV, [navigation.definition(doc, at)]) == uses[:1]
        assert where(NAV, navigation.references(doc, at)) == uses
    edits = rename.rename(doc, offset_of(NAV, "G <- Normal"), "Group")
    assert [(where(NAV, [s])[0][:2], new) for s, new in edits] == [
        ((6, 15), "Group"), ((6, 72), "Group"), ((7, 17), "Group")]
    # a template call goes to the template
    assert where(NAV, [navigation.definition(doc, offset_of(NAV, "pooled(School"))]) == [(6, 8, "pooled")]


def test_marginalize_variables_factor_binders_and_score_names_are_scoped_locals():
    doc = open_doc(NAV)
    k = offset_of(NAV, "k]")
    assert where(NAV, navigation.references(doc, k)) == [(18, 16, "k"), (19, 55, "k")]
    assert [(where(NAV, [s])[0][:2], new) for s, new in rename.rename(doc, k, "j")] == [
        ((18, 16), "j"), ((19, 55), "j")]
    # each comprehension's `s` is its own binder
    first, second = offset_of(NAV, "s]\n"), offset_of(NAV, "s] + a")
    assert where(NAV, navigation.references(doc, first)) == [(20, 19, "s"), (20, 39, "s")]
    assert where(NAV, navigation.references(doc, second)) == [(21, 19, "s"), (21, 35, "s"), (21, 42, "s")]
    assert where(NAV, [navigation.definition(doc, offset_of(NAV, "s]", nth=2))]) == [(21, 19, "s")]
    assert [(where(NAV, [s])[0][:2], new) for s, new in rename.rename(doc, first, "i")] == [
        ((20, 19), "i"), ((20, 39), "i")]
    tight = offset_of(NAV, "tight")
    assert where(NAV, navigation.references(doc, tight)) == [(22, 10, "tight")]
    assert rename.prepare_rename(doc, tight) == rename.RenameTarget(
        navigation.definition(doc, tight), "tight")


# --------------------------------------------------------------------- signature help ----
def test_signature_help_shows_alternatives_and_follows_keywords():
    def at(call: str):
        fixture = f"object R : Real 1\nprogram p : R -> R\n    sample y <- {call}\n    return y\n"
        text = fixture.replace("$0", "")
        doc = open_doc(text)
        return signature_help.signature_help(doc, fixture.index("$0"))

    binomial = signature_help.Signature("Binomial(total_count, probs | logits)", ("total_count", "probs | logits"), 1,
                            "support: counts {0, 1, 2, …} → Count w (inline and fixed only)")
    assert at("Binomial(total_count=10, $0") == binomial
    assert at("Binomial(logits=$0") == binomial  # the keyword names the alternative group
    assert at("Binomial(probs=0.5, total_count=$0") == signature_help.Signature(
        binomial.label, binomial.parameters, 0, binomial.documentation)
    assert at("OrderedLogistic(cutpoints=c, eta=$0") == signature_help.Signature(
        "OrderedLogistic(predictor, cutpoints)", ("predictor", "cutpoints"), 0,
        "support: ordered categories, one more than the c cutpoints → FinSet (c+1) (not runnable: tier 2)"
        "; also eta= for predictor")
    assert at("MultivariateNormal(0.0, $0") == signature_help.Signature(
        "MultivariateNormal(loc, scale_tril | covariance_matrix | precision_matrix)",
        ("loc", "scale_tril | covariance_matrix | precision_matrix"), 1,
        "support: real line ℝ → Real w")
    assert at("Normal(loc=pow(2.0, $0") == signature_help.Signature("pow(x, y)", ("x", "y"), 1, "Elementwise.")
    assert at("Normal(loc=max($0") == signature_help.Signature(
        "max(x, y)", ("x", "y"), 0,
        "With 1 argument: reduces the last axis (the width, else the innermost plate); "
        "with 2 arguments: elementwise.")


def test_signature_help_for_a_template_call_shows_the_typed_parameters():
    doc = open_doc(NAV)
    assert signature_help.signature_help(doc, offset_of(NAV, "squash)\n")) == signature_help.Signature(
        "pooled(G : FinSet, spread : Real, link : Mor[Effect, Effect]) : G -> Effect",
        ("G : FinSet", "spread : Real", "link : Mor[Effect, Effect]"), 2,
        "template: the arguments bind the parameters in order")
    mixed = "object A : FinSet 2\nobject R : Real 1\nprogram f(x, w : Real) : R -> R\n" \
            "    sample y <- Normal(loc=x, scale=w)\n    return y\n" \
            "program g : R -> R\n    sample z <- f(1.0)\n    return z\nexport g\n"
    assert signature_help.signature_help(open_doc(mixed), offset_of(mixed, "1.0)")) == signature_help.Signature(
        "f(x, w : Real) : R -> R", ("x", "w : Real"), 0,
        "2 arguments bind the parameters in order; 1 argument binds only the typed one")


def test_signature_help_for_every_family():
    text = "object R : Real 1\n"
    for name, schema in FAMILIES.items():
        doc = open_doc(text + f"morphism m : R -> R ~ {name}(")
        sig = signature_help.signature_help(doc, len(doc.text))
        assert (sig.label, sig.active_parameter) == (f"{name}({schema.schema_text()})", 0), name
        assert ", ".join(sig.parameters) == schema.schema_text()


# -------------------------------------------------------------------------- protocol ----
@pytest.mark.process
def test_current_navigation_signature_help_and_hints_over_the_protocol():
    text, offsets = marked(NAV.replace("Bernoulli(probs=0.3)", "Bernoulli(probs=$10.3)")
                           .replace("sd * sd", "s$0d * sd"))
    uri = "file:///tmp/current_features.qvr"

    def pos(offset):
        return {"line": text.count("\n", 0, offset), "character": offset - text.rfind("\n", 0, offset) - 1}

    def rng(line, col, word):
        return {"start": {"line": line - 1, "character": col},
                "end": {"line": line - 1, "character": col + len(word)}}

    server = RawServer()
    try:
        server.initialize()
        server.send({"jsonrpc": "2.0", "method": "textDocument/didOpen",
                     "params": {"textDocument": {"uri": uri, "languageId": "qvr", "version": 1, "text": text}}})
        doc = {"textDocument": {"uri": uri}}
        requests = [
            ("textDocument/definition", {**doc, "position": pos(offsets[0])}),
            ("textDocument/references", {**doc, "position": pos(offsets[0]),
                                         "context": {"includeDeclaration": True}}),
            ("textDocument/rename", {**doc, "position": pos(offsets[0]), "newName": "se"}),
            ("textDocument/signatureHelp", {**doc, "position": pos(offsets[1])}),
            ("textDocument/inlayHint", {**doc, "range": {"start": {"line": 16, "character": 0},
                                                         "end": {"line": 18, "character": 0}}}),
        ]
        answers = []
        for msg_id, (method, params) in enumerate(requests, start=2):
            server.send({"jsonrpc": "2.0", "id": msg_id, "method": method, "params": params})
            answers.append(server.response(msg_id)["result"])
    finally:
        server.kill()
    uses = [(17, 58, "sd"), (19, 65, "sd"), (22, 29, "sd"), (22, 34, "sd")]
    definition, references, edit, signature, hints = answers
    assert definition == {"uri": uri, "range": rng(*uses[0])}
    assert references == [{"uri": uri, "range": rng(*u)} for u in uses]
    assert edit == {"changes": {uri: [{"range": rng(*u), "newText": "se"} for u in uses]}}
    assert signature == {"signatures": [{
        "label": "Bernoulli(probs | logits)", "documentation": "support: {0, 1} → FinSet 2",
        "parameters": [{"label": "probs | logits"}], "activeParameter": None}],
        "activeSignature": 0, "activeParameter": 0}
    assert hints == [
        {"position": {"line": 16, "character": 13}, "label": ": Real 1 over School", "kind": 1, "paddingLeft": False},
        {"position": {"line": 16, "character": 60}, "label": ": Real 1 over School", "kind": 1, "paddingLeft": False},
        {"position": {"line": 17, "character": 17}, "label": ": FinSet 2 over School", "kind": 1, "paddingLeft": False},
    ]
