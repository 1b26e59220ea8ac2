"""Shared fixtures for the tree-sitter grammar tests: the QVR language, a parser, and helpers
that turn a tree into plain data (top-level declarations with code-point name spans)."""
from __future__ import annotations

from pathlib import Path

import pytest
import tree_sitter
import tree_sitter_qvr

REPO = Path(__file__).resolve().parents[2]
GRAMMAR_DIR = REPO / "grammar"
DATA_DIR = Path(__file__).resolve().parent / "data"

LANGUAGE = tree_sitter.Language(tree_sitter_qvr.language())

COMMENT_TYPES = {"comment", "doc_comment", "block_comment"}


def parse(text: str) -> tree_sitter.Tree:
    return tree_sitter.Parser(LANGUAGE).parse(text.encode("utf-8"))


def byte_to_codepoint(text: str):
    """A function mapping UTF-8 byte offsets of `text` to code-point offsets."""
    table = {}
    offset = 0
    for index, char in enumerate(text):
        table[offset] = index
        offset += len(char.encode("utf-8"))
    table[offset] = len(text)
    return table.__getitem__


def declarations(text: str, tree: tree_sitter.Tree | None = None) -> list[tuple]:
    """[(kind, ((name, (start, end)), ...)), ...] for every top-level node that is not a
    comment; spans are code-point offsets, as in the lark AST."""
    tree = tree or parse(text)
    to_cp = byte_to_codepoint(text)
    result = []
    for node in tree.root_node.named_children:
        if node.type in COMMENT_TYPES:
            continue
        names = tuple(
            (n.text.decode("utf-8"), (to_cp(n.start_byte), to_cp(n.end_byte)))
            for n in node.children_by_field_name("name")
        )
        result.append((node.type, names))
    return result


def qvr_sources() -> list[Path]:
    """Every QVR file the grammar must accept: examples/ and the spec/seed extracts."""
    return sorted((REPO / "examples").glob("*.qvr")) + sorted(DATA_DIR.glob("*.qvr"))


@pytest.fixture(scope="session")
def language() -> tree_sitter.Language:
    return LANGUAGE
