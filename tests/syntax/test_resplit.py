"""`resplit_declarations` must give exactly `split_declarations(new_text)` after one edit, while
rescanning only the chunks around the edit.

Random edits (hypothesis) on real and generated QVR texts, with snippets rich in the tokens
that move chunk boundaries (comments, `program`/`return`, `let`, option brackets, name lists),
chained so that each step's output is the next step's input; targeted cases for every piece of
state the scan carries across a chunk start; and a deterministic locality check through the
`stats` the function fills in.
"""
from __future__ import annotations

from pathlib import Path

import re

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from qvr.syntax.lexical import Chunk, resplit_declarations, split_declarations

REPO = Path(__file__).resolve().parents[2]
EXAMPLES_TEXT = "".join(p.read_text(encoding="utf-8") for p in sorted(REPO.glob("examples/*.qvr")))

MODEL = """#! Model {i}
object Tok{i} : FinSet 64
object Hid{i} : Real 16
morphism embed{i} : Tok{i} -> Hid{i} [role=embed]
morphism gate{i}, cand{i} : Hid{i} * Hid{i} -> Hid{i} ~ LogitNormal
program cell{i}(x, h) : Hid{i} * Hid{i} -> Hid{i}
    sample g <- gate{i}(x, h)
    let h_new = g * h
    return h_new
define enc{i} = embed{i} >> scan(cell{i})
"""


def edit(old_text: str, start: int, old_end: int, insert: str, stats: dict | None = None):
    """Apply one edit, check the incremental chunks against the reference, return both."""
    new_text = old_text[:start] + insert + old_text[old_end:]
    got = resplit_declarations(old_text, split_declarations(old_text), new_text,
                               start, old_end, start + len(insert), stats)
    assert got == split_declarations(new_text), (old_text, start, old_end, insert)
    return new_text, got


def replace(text: str, old: str, new: str, stats: dict | None = None, nth: int = 0):
    """Edit replacing the `nth` occurrence of `old` by `new`."""
    at = -1
    for _ in range(nth + 1):
        at = text.index(old, at + 1)
    return edit(text, at, at + len(old), new, stats)


def chunk_texts(text: str, chunks: list[Chunk]) -> list[str]:
    return [text[c.start:c.end] for c in chunks]


# --- random edits -----------------------------------------------------------------------------

DANGEROUS = ["#{", "}#", "#", "#!", "\n", "\n", " ", "program", "return", "let", "define",
             "morphism", "object", "embed", "latent", "=", "[", "]", ",", "(", ")", "where",
             "x", "h", ":", "->", "}", "{", ".", "_", "deduction D", "composition c", "\n    ",
             ")\n"]
LINES = [
    "object A : Real 2\n", "morphism f : A -> A\n", "morphism e : A -> A [role=embed]\n",
    "morphism g, h : A -> A [role= #{ why }# latent]\n", "program p(x) : A -> A\n",
    "    let y = f(x)\n", "    sample z <- g(y)\n", "    return y\n", "let w = f\n",
    "define d = e >> scan(p)\n", "export d\n", "#{ a block\nobject Hidden : Real 1\n}#\n",
    "# line comment let\n", "#! doc\n", "garbage ( let\n", "embed e2 : A -> A\n", "\n",
    "output d\n", "f(a, let)\n",
    # opaque (tier-3) blocks: one chunk each, whatever they hold; their extent depends on the
    # lines after the head
    "deduction D : A -> A\n", "    atoms S, let x\n", "    return program\n", ")\n",
    "composition mine [level=rule]\n", "composition real\n", "define q(x : A) : A = x\n",
]

snippets = st.lists(st.sampled_from(DANGEROUS), max_size=6).map("".join)
generated_texts = st.lists(st.sampled_from(LINES), max_size=25).map("".join)
texts = st.one_of(st.just(EXAMPLES_TEXT), generated_texts,
                  st.tuples(generated_texts, st.just(EXAMPLES_TEXT[:3000])).map("".join))


@pytest.mark.slow
@settings(max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=texts, data=st.data())
def test_chained_random_edits_match_the_full_split(text, data):
    for _ in range(data.draw(st.integers(1, 4), label="edits")):
        start = data.draw(st.integers(0, len(text)), label="start")
        old_end = data.draw(st.integers(start, min(len(text), start + 40)), label="old_end")
        insert = data.draw(st.one_of(snippets, st.sampled_from(LINES)), label="insert")
        text, _ = edit(text, start, old_end, insert)


# --- targeted cases ---------------------------------------------------------------------------

PROGRAM = """object A : Real 2
program p(x) : A -> A
    let y = f(x)
    return y
let w = f
define d = p
"""


def test_deleting_return_swallows_later_lets_into_the_body_and_restoring_it_splits_again():
    text, chunks = replace(PROGRAM, "    return y\n", "")
    assert chunk_texts(text, chunks)[-2:] == ["program p(x) : A -> A\n    let y = f(x)\n"
                                              "let w = f\n", "define d = p\n"]
    text, chunks = edit(text, text.index("let w"), text.index("let w"), "    return y\n")
    assert text == PROGRAM
    assert chunk_texts(text, chunks)[-2:] == ["let w = f\n", "define d = p\n"]


def test_typing_return_or_program_changes_what_later_lets_are():
    replace(PROGRAM, "return y", "retur y")
    replace(PROGRAM, "return", "program")
    replace(PROGRAM, "let y", "return y")  # an early `return` ends the body: the old return is moot
    # A body opened before `object A` does not reach p's `let`: `program p` starts anew.
    _, chunks = replace(PROGRAM, "object A", "program q(x) : A -> A\nobject A")
    assert len(chunks) == len(split_declarations(PROGRAM)) + 1


def test_a_define_that_comes_to_start_a_line_heads_an_opaque_block():
    """Text after the edit is the same, but a `define name(` that now starts a line heads an
    opaque block (and one that no longer does is a plain `define`): the old chunks after it
    are not reused."""
    mid_line = "object A : Real 2\nlet w = f(a)define q(x : A) : A = x\n    let y = 1\nexport w\n"
    text, chunks = replace(mid_line, "let w = f(a)", "object B : Real 2\n")
    assert chunk_texts(text, chunks)[-2:] == ["define q(x : A) : A = x\n    let y = 1\n",
                                              "export w\n"]
    replace(text, "object B : Real 2\n", "let w = f(a)")


def test_an_indented_line_after_a_composition_line_with_a_later_keyword_makes_a_block():
    """`rule` inside the options starts a chunk of its own after `composition mine`; an
    indented line typed after them turns the whole into one opaque block, which the chunk
    before the restart point (`composition`) must see."""
    text = "composition mine [level=rule]\n"
    _, chunks = edit(text, len(text), len(text), "    atoms S, let x\n")
    assert len(chunks) == 1


def test_a_keyword_after_a_block_whose_last_line_ends_in_a_parenthesis_starts_a_chunk():
    """An opaque block's body is free-form: a `(` ending it opens no parameter list, so the
    `program` on the next line starts a chunk (and its `let` step is no chunk of its own)."""
    text = "composition x\n (\nprogram g : A -> B\n    let y <- d()\n    return y\n"
    assert chunk_texts(text, split_declarations(text)) == [
        "composition x\n (\n", "program g : A -> B\n    let y <- d()\n    return y\n"]
    text, chunks = replace(text, " (\n", " f(\n")  # and incrementally, as the block changes
    assert len(chunks) == 2
    text, chunks = replace(text, "program", "object B : Real 2\nprogram")
    assert len(chunks) == 3


def test_let_inside_a_body_is_not_a_start_but_after_return_it_is():
    text, chunks = edit(PROGRAM, PROGRAM.index("    return"), PROGRAM.index("    return"),
                        "    let q = y\n")
    assert len(chunks) == len(split_declarations(PROGRAM))
    text, chunks = edit(PROGRAM, PROGRAM.index("let w"), PROGRAM.index("let w"), "let v = f\n")
    assert len(chunks) == len(split_declarations(PROGRAM)) + 1


OPTIONS = "object A : Real 2\nmorphism g : A -> A [role= #{ c }# embed]\ndefine d = g\n"


def test_a_comment_between_option_equals_and_role_keeps_the_role_inside():
    assert len(split_declarations(OPTIONS)) == 3
    # Edits inside the comment, of the `=`, and of the comment's delimiters.
    replace(OPTIONS, "{ c }", "{ cc }")
    _, chunks = replace(OPTIONS, "role=", "role ")
    assert len(chunks) == 4  # no `=` before `embed` any more: it starts a declaration
    replace(OPTIONS, "#{ c }#", "")
    replace(OPTIONS, "}#", "}")  # the block is now unclosed: the rest is a comment
    replace(OPTIONS, "#{", "#")  # a line comment hides `embed]`
    text, _ = replace(OPTIONS, "= #{ c }#", "=")
    edit(text, text.index("=") + 1, text.index("=") + 1, " #{ c }#")


def test_a_block_comment_over_many_chunks_opened_and_closed_by_edits():
    text = "".join(MODEL.format(i=i) for i in range(6))
    n = len(split_declarations(text))
    at = text.index("object Tok1")
    before = sum(1 for c in split_declarations(text) if c.start < at)
    text, chunks = edit(text, at, at, "#{ ")
    assert len(chunks) == before and chunks[-1].end == len(text)  # the rest is swallowed
    close = text.index("define enc3")
    text, chunks = edit(text, close, close, "}# ")
    assert n > len(chunks) > 10
    # Remove the opener: `}# define enc3` is now `}` and a line comment hiding `define enc3`.
    text, chunks = edit(text, at, at + 3, "")
    assert len(chunks) == n - 1
    assert chunk_texts(text, chunks)[-1].startswith("define enc5")


def test_an_unclosed_block_swallows_the_rest_and_closing_it_restores_the_chunks():
    text = "".join(MODEL.format(i=i) for i in range(4))
    n = len(split_declarations(text))
    mid = text.index("program cell2")
    opened, chunks = edit(text, mid, mid, "#{")
    assert chunks[-1].end == len(opened) and len(chunks) < n
    assert opened[chunks[-1].start:].startswith("morphism gate2")
    closed, chunks = edit(opened, mid + 2, mid + 2, "}#")
    assert len(chunks) == n


def test_the_leading_chunk_before_the_first_keyword():
    text = "garbage here\nobject A : Real 2\nobject B : Real 2\n"
    assert chunk_texts(text, split_declarations(text))[0] == "garbage here\n"
    edit(text, 3, 4, "")  # inside the leading chunk
    edit(text, 0, len("garbage here\n"), "")  # the leading chunk disappears
    edit(text, 0, len("garbage here"), "# only a comment")  # becomes comment-only: no chunk
    _, chunks = edit("object A : Real 2\n", 0, 0, "junk ")
    assert len(chunks) == 2
    _, chunks = edit("#{ x }#\nobject A : Real 2\n", 3, 4, "y")  # comments before the first keyword
    assert len(chunks) == 1
    edit("let x = 1\n", 0, 0, "return ")  # a `return` at the top is not a start


@pytest.mark.parametrize("old, start, old_end, insert", [
    ("object A : Real 2\n", 0, 18, ""),  # everything deleted
    ("object A : Real 2\n", 0, 18, "  \n\t\n"),  # whitespace only
    ("object A : Real 2\n", 0, 18, "# just a comment\n#{ and a block }#"),
    ("object A : Real 2\n", 0, 18, "#{ unclosed"),
    ("", 0, 0, "object A : Real 2\n"),  # typing into an empty file
    ("", 0, 0, "x"),
    ("   \n", 4, 4, "#"),
])
def test_files_that_become_or_start_empty(old, start, old_end, insert):
    edit(old, start, old_end, insert)


def test_edits_at_offset_zero_and_at_the_very_end():
    text = PROGRAM
    for insert in ("", "x", "object Z : Real 1\n", "#{", "\n", "let"):
        edit(text, 0, 0, insert)
        edit(text, len(text), len(text), insert)
    edit(text, 0, 1, "")  # `bject`
    edit(text, len(text) - 1, len(text), "")
    edit(text, text.rindex("define"), len(text), "")


@pytest.mark.parametrize("target, insert", [
    ("let w", "letx w"),  # the keyword of the chunk the edit touches stops being one
    ("object A", "objects A"),
    ("define d", "define_ d"),
    ("define d", "define. d"),
    ("let w", "x let w"),
    ("\nlet w", "let w"),  # `f\nlet` joined to `flet`
])
def test_edits_touching_a_chunk_keyword(target, insert):
    at = PROGRAM.index(target)
    edit(PROGRAM, at, at + len(target), insert)


@pytest.mark.parametrize("offset_in_keyword", range(0, 7))
def test_single_characters_typed_and_deleted_around_every_keyword(offset_in_keyword):
    text = "".join(MODEL.format(i=i) for i in range(2))
    for m in re.finditer(r"\b(object|morphism|program|let|return|define)\b", text):
        at = m.start() + offset_in_keyword
        if at <= len(text):
            for ch in ("x", " ", "\n", ".", "#"):
                edit(text, at, at, ch)
            edit(text, at, min(at + 1, len(text)), "")


def test_name_and_parameter_lists_with_keywords():
    text = "morphism f, g : A -> A\ndefine d = f\n"
    _, chunks = replace(text, "g :", "embed :")
    assert len(chunks) == 2  # `, embed` is a name (QVR004), not a start
    _, chunks = replace(text, ", g", " g\nembed")
    assert len(chunks) == 3


def test_inconsistent_arguments_are_refused():
    with pytest.raises(ValueError, match="does not turn"):
        resplit_declarations("abc", [], "abcd", 0, 1, 1)
    with pytest.raises(ValueError):
        resplit_declarations("abc", [], "abc", 2, 1, 2)


def test_a_same_length_edit_reuses_the_old_chunk_objects_after_it():
    text = "".join(MODEL.format(i=i) for i in range(3))
    old = split_declarations(text)
    at = text.index("Real 16")
    new_text = text[:at] + "Reel" + text[at + 4:]
    got = resplit_declarations(text, old, new_text, at, at + 4, at + 4)
    assert got == split_declarations(new_text)
    assert got[-1] is old[-1]


# --- locality ---------------------------------------------------------------------------------

BIG = "".join(MODEL.format(i=i) for i in range(510))
BIG_CHUNKS = split_declarations(BIG)


@pytest.mark.parametrize("name, target, insert", [
    ("character in a morphism", "Hid215 * Hid215", "Hid215 ** Hid215"),
    ("character in a program step", "g <- gate215(x, h)", "g <- gate215(x, hh)"),
    ("newline", "scan(cell215)\n", "scan(cell215)\n\n"),
    ("deleted line", "object Hid215 : Real 16\n", ""),
    ("pasted declaration", "define enc215", "object New : Real 3\ndefine enc215"),
    ("pasted program", "define enc215", "program q(x) : A -> A\n    let y = x\n    return y\n"
                                          "define enc215"),
])
def test_an_edit_inside_one_declaration_rescans_only_a_few_chunks(name, target, insert):
    assert len(BIG_CHUNKS) > 3000
    at = BIG.index(target)
    new_text = BIG[:at] + insert + BIG[at + len(target):]
    stats: dict = {}
    got = resplit_declarations(BIG, BIG_CHUNKS, new_text, at, at + len(target),
                               at + len(insert), stats)
    assert got == split_declarations(new_text)
    assert stats["rescanned"] <= 4, stats
    assert stats["reused"] >= len(got) - 4, stats
    assert stats["restart"] > len(BIG) // 3  # the scan did not start from the top
