"""Error tolerance: a broken or half-typed declaration must not swallow its neighbours.

Each case has one broken spot; the declarations around it must come out as intact nodes
(no ERROR/MISSING inside them, right kind and name), and the error must be reported."""
from __future__ import annotations

import pytest
import tree_sitter_qvr

# Module-level only: at run time `conftest` may name another directory's conftest.
from conftest import LANGUAGE, parse

AFTER = "\nobject B : 4\nmorphism g : A -> B ~ Normal\nexport g\n"
BEFORE = "object A : 3\n"

BROKEN = {
    "program without return": "program p(x) : A -> A\n    sample y <- f(x)\n    let z = y * 2\n",
    "program header only": "program p(x) : A -> A\n",
    "half-typed step": "program p(x) : A -> A\n    sample y <-\n",
    "half-typed let": "program p(x) : A -> A\n    let z = x *\n",
    "half-typed signature": "morphism f : A ->\n",
    "half-typed options": "morphism f : A -> B ~ Normal [scale=\n",
    "unclosed call": "define d = fan(f, g\n",
    "unexpected character": "morphism f $ : A -> B\n",
    "keyword only": "morphism\n",
    "unclosed block comment in between": "#{ not closed\n",
    "reserved word as a name": "object type : 3\n",
    "stray operator": "define d = f >> >> g\n",
    "broken factor comprehension": "program p : A -> A\n    let t = factor v : K in\n",
    "program without return before a block": "program p : A -> A\n    sample x <- f\ndeduction D : T\n    atoms a\n",
    "block head not at column 0": "  deduction D : T -> T\n",
}


def intact(node) -> bool:
    return not node.has_error and not tree_sitter_qvr.has_syntax_error(node)


def summary(node):
    names = [n.text.decode() for n in node.children_by_field_name("name")]
    return (node.type, names)


@pytest.mark.parametrize("case", sorted(BROKEN), ids=str)
def test_broken_declaration_does_not_swallow_its_neighbours(case):
    text = BEFORE + BROKEN[case] + AFTER
    tree = parse(text)
    assert tree_sitter_qvr.has_syntax_error(tree), "the error must be visible"
    decls = [n for n in tree.root_node.named_children if n.type not in ("comment", "ERROR")]
    first, *rest = decls
    assert summary(first) == ("object_decl", ["A"]) and intact(first)
    tail = rest[-3:]
    assert [summary(n) for n in tail] == [
        ("object_decl", ["B"]),
        ("morphism_decl", ["g"]),
        ("export_decl", []),
    ], str(tree.root_node)
    assert all(intact(n) for n in tail), str(tree.root_node)


def test_missing_return_is_marked_where_the_body_ends():
    text = "program p(x) : A -> A\n    sample y <- f(x)\n\nobject B : 4\n"
    tree = parse(text)
    program, obj = tree.root_node.named_children
    assert program.type == "program_decl" and program.child_by_field_name("return") is None
    marker = program.child_by_field_name("missing_return")
    # zero width, right after the last step: the program's range does not cover the blank line
    end_of_step = text.index("f(x)") + len("f(x)")
    assert marker is not None and marker.start_byte == marker.end_byte == end_of_step
    assert program.end_byte == end_of_step
    assert [n.type for n in tree_sitter_qvr.syntax_errors(tree)] == ["missing_return"]
    assert intact(obj)


def test_half_typed_block_keeps_its_neighbours():
    """A block accepts any text (lark's token does too), so a half-typed one is no error; it
    ends before the next line at column 0."""
    text = BEFORE + "deduction D : T -> T [semiring=\n    rule r : span(I,\n" + AFTER
    tree = parse(text)
    assert not tree_sitter_qvr.has_syntax_error(tree)
    assert [summary(n) for n in tree.root_node.named_children] == [
        ("object_decl", ["A"]), ("opaque_decl", ["D"]), ("object_decl", ["B"]),
        ("morphism_decl", ["g"]), ("export_decl", []),
    ]


def test_missing_return_at_end_of_file():
    tree = parse("program p : A -> A\n    sample y <- f\n")
    assert [n.type for n in tree_sitter_qvr.syntax_errors(tree)] == ["missing_return"]


def test_let_after_a_body_is_a_step_not_a_new_statement():
    """Layout is insignificant: a `let` after steps continues the body, as in lark."""
    tree = parse("program p : A -> A\n    sample y <- f\nlet z = y\nreturn z\n")
    (program,) = tree.root_node.named_children
    assert [s.type for s in program.children_by_field_name("step")] == ["sample_step", "let_step"]
    assert program.child_by_field_name("return") is not None


def test_errors_inside_a_body_keep_the_body():
    text = "program p(x) : A -> A\n    sample y <-\n    let z = x\n    return z\nobject B : 2\n"
    tree = parse(text)
    program, obj = tree.root_node.named_children
    assert program.type == "program_decl"
    assert program.child_by_field_name("return") is not None
    assert [n.is_missing for n in tree_sitter_qvr.syntax_errors(tree)] == [True]
    assert intact(obj)


def test_incremental_reparse_recovers_after_the_fix():
    """Typing the missing `return` turns the marker into a return step."""
    import tree_sitter


    text = b"program p : A -> A\n    sample y <- f\nobject B : 4\n"
    parser = tree_sitter.Parser(LANGUAGE)
    old = parser.parse(text)
    insert_at = text.index(b"object")
    addition = b"return y\n"
    new_text = text[:insert_at] + addition + text[insert_at:]
    old.edit(
        start_byte=insert_at, old_end_byte=insert_at, new_end_byte=insert_at + len(addition),
        start_point=(2, 0), old_end_point=(2, 0), new_end_point=(3, 0),
    )
    new = parser.parse(new_text, old)
    assert not tree_sitter_qvr.has_syntax_error(new)
    assert str(new.root_node) == str(parser.parse(new_text).root_node)


def test_declaration_ranges_end_at_their_last_token():
    """Blank lines and comments after a declaration belong to neither neighbour."""
    text = "object A : 3   # about A\n\n#! doc of f\nmorphism f : A -> A\n\n"
    tree = parse(text)
    kinds = [(n.type, n.start_byte, n.end_byte) for n in tree.root_node.named_children]
    assert kinds == [
        ("object_decl", 0, text.index("   #")),
        ("comment", text.index("# about"), text.index("\n\n#!")),
        ("doc_comment", text.index("#! doc"), text.index("\nmorphism")),
        ("morphism_decl", text.index("morphism"), len(text.rstrip())),
    ]


@pytest.mark.parametrize(
    "broken",
    ["morphism f : A ->\n", "define d = fan(f, g\n", "program p : A -> A\n    sample y <-\n",
     "object A : 3 $\n"],
)
def test_block_after_a_broken_declaration_is_intact(broken):
    """Error recovery resumes at a block head at column 0, as at a statement keyword."""
    tree = parse(broken + "deduction D : T\n    atoms a\nobject B : 4\n")
    assert tree_sitter_qvr.has_syntax_error(tree)
    block, obj = [n for n in tree.root_node.named_children if n.type != "ERROR"][-2:]
    assert summary(block) == ("opaque_decl", ["D"]) and intact(block)
    assert summary(obj) == ("object_decl", ["B"]) and intact(obj)
