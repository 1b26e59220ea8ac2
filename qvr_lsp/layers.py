"""Access to the layers the server builds on, which may be missing or broken in a checkout.

The parser (`qvr.syntax`), the checker (`qvr.semantics`) and the tree-sitter binding
(`tree_sitter_qvr`) are developed separately. The server must still start, keep the user's text
and answer (with empty results) when one of them cannot be imported, so every import of them
goes through this module, which logs the failure once and returns None.
"""
from __future__ import annotations

import functools
import importlib
import logging

log = logging.getLogger(__name__)


@functools.cache
def optional_module(name: str):
    """Import `name`, or return None (logged once) when it is absent or fails to import."""
    try:
        return importlib.import_module(name)
    except Exception as exc:  # a half-written layer can raise anything at import time
        log.warning("qvr-lsp: %s is unavailable (%s); features that need it are off", name, exc)
        return None


def syntax():
    return optional_module("qvr.syntax")


def semantics():
    return optional_module("qvr.semantics")


def vocabulary():
    return optional_module("qvr.syntax.vocabulary")


@functools.cache
def tree_sitter_language():
    """The tree-sitter `Language` for QVR, or None when the binding is not built."""
    binding = optional_module("tree_sitter_qvr")
    ts = optional_module("tree_sitter")
    if binding is None or ts is None:
        return None
    try:
        return ts.Language(binding.language())
    except Exception as exc:
        log.warning("qvr-lsp: cannot load the tree-sitter language (%s)", exc)
        return None


def new_tree_sitter_parser():
    language = tree_sitter_language()
    if language is None:
        return None
    import tree_sitter

    return tree_sitter.Parser(language)
