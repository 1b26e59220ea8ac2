"""The Python binding: the language capsule, queries shipped with the package, and the parse
trees of real QVR files (node names and fields the language server relies on)."""
from __future__ import annotations

import pytest
import tree_sitter
import tree_sitter_qvr

from conftest import declarations, parse, qvr_sources


def test_language_is_a_capsule_for_py_tree_sitter():
    capsule = tree_sitter_qvr.language()
    assert type(capsule).__name__ == "PyCapsule"
    language = tree_sitter.Language(capsule)
    assert language.abi_version == 14
    assert language.node_kind_for_id(language.id_for_node_kind("program_decl", True)) == "program_decl"


def test_queries_are_available_as_files_and_strings():
    path = tree_sitter_qvr.queries_path()
    for name in tree_sitter_qvr.QUERY_NAMES:
        assert (path / f"{name}.scm").is_file()
    assert tree_sitter_qvr.HIGHLIGHTS_QUERY == (path / "highlights.scm").read_text(encoding="utf-8")
    assert "@fold" in tree_sitter_qvr.FOLDS_QUERY
    with pytest.raises(ValueError):
        tree_sitter_qvr.query_text("tags")


@pytest.mark.parametrize("path", qvr_sources(), ids=lambda p: p.name)
def test_acceptance_corpus_parses_without_errors(path):
    text = path.read_text(encoding="utf-8")
    tree = parse(text)
    assert tree_sitter_qvr.syntax_errors(tree) == [], str(tree.root_node)
    assert declarations(text, tree), "no declarations found"


def test_all_indentation_removed_parses_the_same():
    """Spec §1.2: the seeds parse identically with all indentation removed."""
    for path in qvr_sources():
        text = path.read_text(encoding="utf-8")
        flat = "\n".join(line.lstrip() for line in text.split("\n"))
        assert [(k, tuple(n for n, _ in names)) for k, names in declarations(flat)] == [
            (k, tuple(n for n, _ in names)) for k, names in declarations(text)
        ]


def field_text(node, name):
    child = node.child_by_field_name(name)
    return None if child is None else child.text.decode()


def test_declaration_fields():
    text = (
        "morphism gate_i, gate_f : Embedded * Hidden -> Hidden [scale=0.1] ~ LogitNormal\n"
        "continuous head[4] : A -> B ~ Normal(loc=0.0, scale=1) [hidden_dim=8]\n"
        "program cell(x, h) : A * B -> B [flag]\n"
        "    sample (a, b) : B <- f(x, r * h) [k=1]\n"
        "    return (a: out, b)\n"
        "define lstm = tok >> scan(cell, states=all) @ g << k where\n"
    )
    root = parse(text).root_node
    morphism, continuous, program, define = root.named_children
    assert [n.text for n in morphism.children_by_field_name("name")] == [b"gate_i", b"gate_f"]
    sig = morphism.child_by_field_name("signature")
    assert sig.type == "sig"
    assert sig.child_by_field_name("domain").type == "product"
    assert field_text(sig, "codomain") == "Hidden"
    assert morphism.child_by_field_name("options").type == "options"
    option = morphism.child_by_field_name("options").named_children[0]
    assert (field_text(option, "key"), field_text(option, "value")) == ("scale", "0.1")
    assert morphism.child_by_field_name("init").type == "ref"

    assert field_text(continuous.child_by_field_name("replication"), "count") == "4"
    family = continuous.child_by_field_name("init")
    assert family.type == "family_call" and field_text(family, "family") == "Normal"
    named = family.child_by_field_name("arguments").named_children
    assert [a.type for a in named] == ["named_arg", "named_arg"]
    assert continuous.child_by_field_name("init_options") is not None

    assert [p.text for p in program.child_by_field_name("params").children_by_field_name("parameter")] == [b"x", b"h"]
    (step,) = program.children_by_field_name("step")
    assert step.type == "sample_step"
    assert step.child_by_field_name("pattern").type == "pat_tuple"
    assert field_text(step, "annotation") == "B"
    target = step.child_by_field_name("target")
    assert field_text(target, "name") == "f"
    assert [a.type for a in target.child_by_field_name("arguments").named_children] == ["var", "mul"]
    ret = program.child_by_field_name("return")
    items = ret.child_by_field_name("pattern").children_by_field_name("item")
    assert [(field_text(i, "name"), field_text(i, "label")) for i in items] == [("a", "out"), ("b", None)]

    assert field_text(define, "keyword") == "define" and field_text(define, "where") == "where"
    value = define.child_by_field_name("value")
    # `>>` is loosest and left-associative: (tok >> (scan @ g)) << k
    assert value.type == "compose" and field_text(value, "operator") == "<<"
    inner = value.child_by_field_name("left")
    assert inner.type == "compose" and field_text(inner, "operator") == ">>"
    tensor = inner.child_by_field_name("right")
    assert tensor.type == "tensor" and field_text(tensor, "operator") == "@"
    assert tensor.child_by_field_name("left").type == "scan"


def test_arithmetic_precedence():
    """Spec §3.2: `-x * 2 + 3 / x - 1` is `(((-x)*2) + (3/x)) - 1`."""
    root = parse("program p(x) : A -> A let y = -x * 2 + 3 / x - 1 return y").root_node
    value = root.named_children[0].child_by_field_name("step").child_by_field_name("value")

    def shape(node):
        if node.type in ("add", "sub", "mul", "div"):
            return (node.type, shape(node.child_by_field_name("left")), shape(node.child_by_field_name("right")))
        if node.type == "neg":
            return ("neg", shape(node.child_by_field_name("operand")))
        return node.text.decode()

    assert shape(value) == ("sub", ("add", ("mul", ("neg", "x"), "2"), ("div", "3", "x")), "1")


@pytest.mark.parametrize(
    "source",
    [
        "object objects : 3",  # words that merely start with a keyword are names
        "morphism letter : A -> B ~ returned",
        "define scanner = fan_in >> define2",
        "object é1, naïve, _ : FinSet 2",
    ],
)
def test_names_that_look_like_keywords(source):
    tree = parse(source)
    assert not tree_sitter_qvr.has_syntax_error(tree), str(tree.root_node)


@pytest.mark.parametrize(
    "source",
    [
        "object type : 3",  # reserved words are never names (QVR004), as in lark
        "define scan = f",
        "program p(let) : A -> A return let",
        "object X² : 3",  # U+00B2 is not an identifier character (QVR001)
        "object A : 3 $",
    ],
)
def test_invalid_words_are_syntax_errors(source):
    assert tree_sitter_qvr.has_syntax_error(parse(source))


def test_line_terminators_cr_and_crlf():
    text = "object A : 3 # c\robject B : 4\r\n#! doc\r\nobject C : 5"
    tree = parse(text)
    assert not tree_sitter_qvr.has_syntax_error(tree)
    assert [k for k, _ in declarations(text, tree)] == ["object_decl"] * 3


def test_opaque_block_is_a_flat_run_of_tokens():
    """Part 2 §3.3: inside a block, word, number, string, comment and punctuation nodes (for
    highlighting); the block ends before the next line at column 0."""
    text = 'deduction D : T [depth=6]\n    "the" : x |- y #[learnable]\n)\nobject A : 3\n'
    block, obj = parse(text).root_node.named_children
    assert (field_text(block, "head"), field_text(block, "name")) == ("deduction", "D")
    assert [(n.type, n.text.decode()) for n in block.named_children[2:]] == [
        ("punctuation", ":"), ("word", "T"), ("punctuation", "["), ("word", "depth"),
        ("punctuation", "="), ("number", "6"), ("punctuation", "]"), ("string", '"the"'),
        ("punctuation", ":"), ("word", "x"), ("punctuation", "|-"), ("word", "y"),
        ("comment", "#[learnable]"), ("punctuation", ")"),
    ]
    assert block.end_byte == text.index("\nobject") and obj.type == "object_decl"
