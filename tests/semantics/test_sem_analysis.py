"""Analysis queries the language server and the runtime rely on: references, symbols, types
of expressions, program variables, promotion, scan partitions and inline draws."""
from __future__ import annotations

import os
import subprocess
import sys

from qvr.semantics import analyze
from qvr.semantics.types import SeqType, compatible
from qvr.syntax import ast as A

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def example(name: str) -> str:
    with open(os.path.join(ROOT, "examples", name), encoding="utf-8") as f:
        return f.read()


def test_reference_at_resolves_names_and_references_to_lists_every_use():
    text = example("seed_000_bayesian_lstm.qvr")
    a = analyze(text)
    ref = a.reference_at(text.index("scan(lstm_cell)") + len("scan(") + 3)
    assert ref is not None and ref.symbol.name == "lstm_cell" and ref.symbol.kind == "program"
    refs = a.references_to(ref.symbol)
    assert [r.is_definition for r in refs] == [True, False]
    assert text[refs[0].span.start:refs[0].span.end] == "lstm_cell"
    # a local variable: definition in the draw, uses in `let`s
    off = text.index("let c_new = f_gate") + len("let c_new = ")
    local = a.reference_at(off).symbol
    assert (local.name, local.kind, local.scope) == ("f_gate", "variable", "lstm_cell")
    assert len(a.references_to(local)) == 2
    # end of a name is still on it (cursor semantics); comments never hold references
    assert a.reference_at(refs[0].span.end).symbol is ref.symbol
    assert a.reference_at(text.index("# Seed 000") + 3) is None


def test_locals_may_share_a_name_with_top_level_declarations():
    text = ("object R : Real 2\nmorphism f : R -> R ~ Normal\n"
            "program p(f) : R -> R\n    sample y <- f(f)\n    return y\nexport p\n")
    a = analyze(text)
    assert not a.errors
    target = a.reference_at(text.index("<- f(") + 3).symbol
    arg = a.reference_at(text.index("f(f)") + 2).symbol
    assert target.kind == "morphism" and arg.kind == "parameter"


def test_symbol_details_and_docs():
    a = analyze(example("lstm.qvr"))
    cell = a.top_level["lstm_cell"]
    assert cell.doc == "One LSTM step: input x, previous cell state c, previous hidden state h."
    assert cell.detail == "program lstm_cell : Embedded * Hidden * Hidden -> Hidden * Hidden"
    assert a.top_level["gate_i"].detail == "gate_i : Embedded * Hidden -> Hidden ~ LogitNormal"
    assert a.top_level["tok_embed"].detail == "tok_embed : Token -> Embedded [role=embed]"
    assert a.top_level["Hidden"].detail == "object Hidden : Real 64"
    # plural names are separate symbols sharing one declaration
    assert a.morphisms["gate_f"].decl is a.morphisms["gate_o"].decl


def test_gru_inline_candidate_is_real_128_and_bound_by_name():
    a = analyze(example("seed_001_bayesian_gru.qvr"))
    prog = a.programs["gru_cell"]
    assert str(prog.variables["h_cand"].type) == "Real 128"
    assert str(prog.variables["z"].type) == "Hidden"
    step = next(s for s in prog.decl.steps if isinstance(s, A.BindStep))
    info = a.inline_info(step)
    assert info.family == "Normal" and info.width == 128
    assert set(info.bound) == {"loc", "scale"}
    assert isinstance(info.bound["scale"], A.Lit)
    assert prog.param_binding == "factors"


def test_scan_types_and_partition():
    a = analyze(example("lstm.qvr"))
    lstm = a.defines["lstm"].decl.expr          # ((tok_embed >> scan) >> take_h) >> out_proj
    scan_node = lstm.left.left.right
    assert isinstance(scan_node, A.Scan)
    assert str(a.type_of(scan_node)) == "Seq[Embedded] -> Hidden * Hidden"
    info = a.scan_info(scan_node)
    assert len(info.input_leaves) == 1 and len(info.state_leaves) == 2
    assert (info.init, info.states, info.direction) == ("zeros", "last", "forward")
    # hover on the first `>>` shows the intermediate sequence
    inner = lstm.left.left
    assert str(a.intermediate_type(inner)) == "Seq[Embedded]"
    assert str(a.type_of(inner.left)) == "Token -> Embedded"  # as declared (lifted in use)
    assert str(a.type_of(lstm)) == "Seq[Token] -> Output"


def test_seed_000_scan_state_part_is_state():
    a = analyze(example("seed_000_bayesian_lstm.qvr"))
    assert str(a.defines["lstm"].type) == "Seq[Token] -> Output"
    assert str(a.programs["lstm_cell"].variables["h_new"].type) == "Real 64"
    assert str(a.programs["lstm_cell"].return_type) == "Real 64 * Real 64"


def test_backbone_and_promotion_of_vanilla_rnn_lm():
    a = analyze(example("seed_002_vanilla_rnn_lm.qvr"))
    assert str(a.defines["backbone"].type) == "Seq[Token] -> Hidden"
    p = a.programs["vanilla_rnn_lm"]
    assert p.promoted and p.param_binding == "none"
    assert str(p.declared) == "Token -> Token"
    assert str(p.effective) == "Seq[Token] -> Token"
    assert str(p.variables["h"].type) == "Hidden"
    assert str(a.export_type) == "Seq[Token] -> Token"
    assert a.morphisms["cell"].options["scale"] == 0.1
    assert a.morphisms["lm_head"].family == "Categorical"
    assert not [d for d in a.diagnostics if d.severity <= 2]


def test_promoted_parameters_get_sequence_types():
    text = ("object T : FinSet 4\nobject E : Real 2\nobject H : Real 3\n"
            "morphism emb : T -> E [role=embed]\nmorphism cell : E * H -> H ~ Normal\n"
            "define enc = emb >> scan(cell)\n"
            "program p(x) : T -> H\n    sample h <- enc(x)\n    return h\nexport p\n")
    a = analyze(text)
    assert not a.errors
    p = a.programs["p"]
    assert p.promoted and isinstance(p.params[0][1], SeqType)
    assert str(p.effective) == "Seq[T] -> H"


def test_tagger_returns_a_sequence_and_lifted_head():
    prelude = example("lstm.qvr").rsplit("object Output", 1)[0]
    text = prelude + ("object Tag : FinSet 17\nmorphism tag_head : Hidden -> Tag ~ Categorical\n"
                      "define states = tok_embed >> scan(lstm_cell, states=all) >> take_h\n"
                      "program tagger : Token -> Tag\n    sample hs <- states\n"
                      "    observe tags : Tag <- tag_head(hs)\n    return tags\nexport tagger\n")
    a = analyze(text)
    assert not a.errors
    assert str(a.defines["states"].type) == "Seq[Token] -> Seq[Hidden]"
    assert str(a.programs["tagger"].variables["tags"].type) == "Seq[Tag]"
    assert str(a.programs["tagger"].effective) == "Seq[Token] -> Seq[Tag]"


def test_bidirectional_fan_and_per_position_variant():
    a = analyze(example("bilstm.qvr"))
    assert str(a.defines["encoder"].type) == "Seq[Token] -> Hidden * Hidden"
    prelude = example("lstm.qvr").rsplit("object Output", 1)[0]
    text = prelude + ("define pp = fan(scan(lstm_cell, states=all) >> take_h, scan(stack(lstm_cell, 1), "
                      "states=all, direction=backward) >> take_h)\nexport pp\n")
    b = analyze(text)
    assert not b.errors
    assert str(b.export_type) == "Seq[Embedded] -> Seq[Hidden * Hidden]"


def test_char_lm_destructures_sequence_pairs():
    a = analyze(example("char_lstm_lm.qvr"))
    p = a.programs["char_lm"]
    assert str(p.variables["h"].type) == "Seq[Hidden]"
    assert str(a.export_type) == "Seq[Char] -> Seq[Char]"
    assert a.morphisms["in_gate"].role == "deterministic"


def test_compatibility_examples_of_the_spec():
    text = ("object FwdHidden : Real 64\nobject BwdHidden : Real 64\nobject Combined : Real 128\n"
            "object Embedded : Real 64\nobject Hidden : Real 128\nobject R192 : Real 192\n"
            "object Token : FinSet 256\nobject R256 : Real 256\nobject N : FinSet 10\n"
            "object F100 : FinSet 100\nobject P1 : FwdHidden * BwdHidden\nobject P2 : Embedded * Hidden\n"
            "object NN : N * N\n")
    o = analyze(text).objects
    assert compatible(o["P1"], o["Combined"])
    assert compatible(o["P2"], o["R192"])
    assert not compatible(o["Token"], o["R256"])
    assert not compatible(o["NN"], o["F100"])


def test_replicated_members_and_groups():
    text = ("object L : Real 4\nobject H : Real 2\n"
            "morphism head : L -> H [replicate=3, scale=0.1] ~ Normal\n"
            "define all_heads = fan(head)\ndefine one = head_1\nexport all_heads\n")
    a = analyze(text)
    assert [m for m, i in a.morphisms.items() if i.member_of == "head"] == ["head_0", "head_1", "head_2"]
    assert a.morphisms["head"].replicate == 3
    assert str(a.export_type) == "L -> H * H * H"
    assert "head_1" in a.top_level
    assert not [d for d in a.diagnostics if d.code == "QVR080" and "head" in d.message]
    # a group used through one member only is used; an unused group is reported once
    b = analyze(text.replace("define all_heads = fan(head)\n", "").replace("export all_heads", "export one"))
    assert not [d for d in b.diagnostics if d.code == "QVR080" and "head" in d.message]
    c = analyze("object L : Real 4\nmorphism head : L -> L [replicate=2] ~ Normal\n")
    assert [d.message for d in c.diagnostics if d.code == "QVR080"] == ["`head` is declared but never used"]


def test_analysis_never_imports_torch():
    code = ("import sys, qvr.semantics as s; s.analyze(open(sys.argv[1]).read()); "
            "print('torch' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code, os.path.join(ROOT, "examples", "gru.qvr")],
                         capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
