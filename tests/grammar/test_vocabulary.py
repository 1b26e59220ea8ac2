"""The grammar's word lists agree with qvr.syntax.vocabulary, the single source of truth:
vocabulary.json, the scanner's keyword table, the highlights `#any-of?` lists and the
keywords the grammar actually defines."""
from __future__ import annotations

import json
import subprocess
import sys

import pytest

from conftest import GRAMMAR_DIR

vocabulary = pytest.importorskip("qvr.syntax.vocabulary")


def test_vocabulary_json_matches_qvr_syntax_vocabulary():
    data = json.loads((GRAMMAR_DIR / "vocabulary.json").read_text())
    assert data["RESERVED"] == list(vocabulary.RESERVED)
    assert data["FAMILIES"] == list(vocabulary.FAMILIES)
    assert data["BUILTINS"] == list(vocabulary.BUILTINS)
    assert data["TYPE_CONSTRUCTORS"] == list(vocabulary.TYPE_CONSTRUCTORS)


def test_generated_files_are_up_to_date():
    """vocabulary.json, src/scanner_tables.h and the highlights lists (gen_vocabulary --check)."""
    result = subprocess.run(
        [sys.executable, str(GRAMMAR_DIR / "gen_vocabulary.py"), "--check"],
        capture_output=True, text=True,
    )
    assert result.returncode == 0, result.stderr


def test_grammar_keywords_are_exactly_the_reserved_words():
    node_types = json.loads((GRAMMAR_DIR / "src" / "node-types.json").read_text())
    anonymous_words = {
        t["type"] for t in node_types if not t["named"] and t["type"].isidentifier()
    }
    assert anonymous_words == set(vocabulary.RESERVED)


def test_highlights_lists_every_family_and_builtin():
    text = (GRAMMAR_DIR / "queries" / "highlights.scm").read_text()
    for word in list(vocabulary.FAMILIES) + list(vocabulary.BUILTINS):
        assert f'"{word}"' in text, word
