"""Editor features on the current forms (spec part 2 §5.12): the outline of tier-3 blocks
and of `marginalize` bodies, folding, semantic tokens inside blocks from a lexical scan,
hover on block names, and navigation and rename of names used inside blocks."""
from __future__ import annotations

from lsprotocol import types as lsp

from qvr_lsp import convert
from qvr_lsp.features import hover, navigation, rename, semantic_tokens, structure, symbols

from lsp_fixtures import open_doc, offset_of

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
