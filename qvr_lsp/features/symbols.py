"""Document symbols (hierarchical: programs contain their parameters and steps) and workspace
symbols over open documents and the workspace's `.qvr` files."""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Iterable, Optional

from qvr.syntax.ast import CompositionDecl, MarginalizeStep, OpaqueDecl, ProgramDecl
from qvr.syntax.span import Span
from qvr.syntax.vocabulary import DECLARATION_KINDS as KEYWORD_KIND

from .common import first_line_of, subsequence_matcher


# Outline kinds of tier-3 blocks by head word (spec part 2 §5.12).
BLOCK_KINDS = {
    "deduction": "block_module",
    "signature": "block_struct", "family": "block_struct", "index": "block_struct",
    "effect": "block_interface", "handler": "block_interface", "instance": "block_interface",
    "encoder": "block_function", "decoder": "block_function", "loss": "block_function",
    "contraction": "block_function", "define": "block_function",
    "schema": "block_constant", "bundle": "block_constant", "composition": "block_constant",
}


@dataclass(frozen=True)
class SymbolNode:
    name: str
    kind: str  # object morphism program define export category rule quantale parameter variable
    span: Span
    name_span: Span
    detail: str = ""
    children: tuple["SymbolNode", ...] = ()


def _pattern_names(pattern) -> tuple:
    if pattern is None:
        return ()
    if hasattr(pattern, "names"):
        return tuple(pattern.names)
    if hasattr(pattern, "name"):
        return (pattern.name,)
    return ()


def _step_symbols(step) -> list[SymbolNode]:
    names = ()
    if hasattr(step, "pattern"):
        names = _pattern_names(step.pattern)
    elif hasattr(step, "name"):
        names = (step.name,)
    kw = getattr(getattr(step, "keyword", None), "text", "")
    detail = kw if kw in ("let", "observe", "score", "marginalize") else "sample"
    kids: tuple = ()
    if step.__class__ is MarginalizeStep:  # the block nests its body
        kids = tuple(k for body_step in step.body for k in _step_symbols(body_step))
    return [SymbolNode(n.text, "variable", step.span, n.span, detail, kids) for n in names]


def _kind_of(decl) -> tuple[str, str]:
    """(keyword, outline kind) of a top-level statement."""
    keyword = getattr(getattr(decl, "keyword", None), "text", "")
    if decl.__class__ is OpaqueDecl:
        return keyword, BLOCK_KINDS.get(decl.head.text, "block_constant")
    if decl.__class__ is CompositionDecl:
        return keyword, "quantale"
    return keyword, KEYWORD_KIND.get(keyword, "object")


def _declared_names(decl, keyword: str, kind: str) -> tuple:
    """(text, span) of each name a top-level statement declares (an export: its keyword)."""
    if kind == "export":
        return ((keyword, decl.keyword.span),)
    names = getattr(decl, "names", None) or ((decl.name,) if getattr(decl, "name", None) else ())
    return tuple((name.text, name.span) for name in names)


def document_symbols(module, text: str) -> list[SymbolNode]:
    out: list[SymbolNode] = []
    for decl in getattr(module, "statements", ()):
        keyword, kind = _kind_of(decl)
        detail = first_line_of(text, decl.span)
        kids: list[SymbolNode] = []
        if kind == "program" and isinstance(decl, ProgramDecl):  # (not a BrokenDecl)
            for p in decl.params or ():
                kids.append(SymbolNode(p.text, "parameter", p.span, p.span, "parameter"))
            for step in decl.steps:
                kids.extend(_step_symbols(step))
        for name, name_span in _declared_names(decl, keyword, kind):
            out.append(SymbolNode(name, kind, decl.span, name_span, detail, tuple(kids)))
    return out


def top_level_names(module):
    """(name, kind, name span) of `document_symbols`' top-level nodes, in order, made as they
    are read: what workspace symbols search (the nested nodes are parameters and variables)."""
    for decl in getattr(module, "statements", ()):
        keyword, kind = _kind_of(decl)
        for name, name_span in _declared_names(decl, keyword, kind):
            yield name, kind, name_span


# ---------------------------------------------------------------- workspace symbols ----
@dataclass(frozen=True)
class WorkspaceSymbol:
    name: str
    kind: str
    uri: str
    span: Span  # name span
    text: str = field(repr=False, default="")  # the text the span indexes (for line mapping)


class WorkspaceIndex:
    """Top-level symbols of `.qvr` files on disk, re-parsed only when a file's mtime changes."""

    def __init__(self, max_files: int = 2000, max_dirs: int = 5000,
                 max_bytes: int = 4 * 1024 * 1024) -> None:
        self._cache: dict[str, tuple[float, list[SymbolNode], str]] = {}
        self.max_files = max_files
        self.max_bytes = max_bytes  # larger files are left out of the index
        self.max_dirs = max_dirs  # a workspace opened at / or ~ must not stall the server

    def files(self, roots: Iterable[str]) -> list[str]:
        out = []
        dirs = 0
        for root in roots:
            if not root or not os.path.isdir(root):
                continue
            for dirpath, dirnames, filenames in os.walk(root):
                dirs += 1
                if dirs > self.max_dirs:
                    return out
                dirnames[:] = [d for d in dirnames if not d.startswith(".") and d not in ("node_modules", "__pycache__")]
                out.extend(os.path.join(dirpath, f) for f in filenames if f.endswith(".qvr"))
                if len(out) >= self.max_files:
                    return out[: self.max_files]
        return out

    def symbols_of(self, path: str) -> tuple[list[SymbolNode], str]:
        from qvr.source import read_regular_file
        from qvr.syntax import parse_module
        from qvr.syntax.span import normalize

        try:
            mtime = os.stat(path).st_mtime
        except OSError:
            return [], ""
        cached = self._cache.get(path)
        if cached and cached[0] == mtime:
            return cached[1], cached[2]
        try:
            # only a regular file, and not a huge one: a committed symlink to /dev/stdin or
            # /dev/zero must not make the server read its own input or fill its memory
            data = read_regular_file(path, max_bytes=self.max_bytes)
            text = normalize(data.decode("utf-8", errors="replace"))
            nodes = document_symbols(parse_module(text).module, text)
        except Exception:
            nodes, text = [], ""
        self._cache[path] = (mtime, nodes, text)
        return nodes, text


def workspace_symbols(query: str, open_docs, index: Optional[WorkspaceIndex], roots: Iterable[str], limit: int = 500) -> list[WorkspaceSymbol]:
    from pygls.uris import from_fs_path

    matches = subsequence_matcher(query)
    out: list[WorkspaceSymbol] = []
    open_paths = set()
    for doc in open_docs:
        if doc.path:
            open_paths.add(os.path.normcase(os.path.abspath(doc.path)))
        if len(out) >= limit:
            continue  # (every open document's path is still noted: the index skips them)
        module = doc.parsed.module if doc.parsed is not None else None
        for name, kind, name_span in top_level_names(module):
            if matches(name):
                out.append(WorkspaceSymbol(name, kind, doc.uri, name_span, doc.text))
                if len(out) >= limit:
                    break
    if index is not None and len(out) < limit:
        for path in index.files(roots):
            if os.path.normcase(os.path.abspath(path)) in open_paths:
                continue
            nodes, text = index.symbols_of(path)
            for node in nodes:
                if matches(node.name):
                    out.append(WorkspaceSymbol(node.name, node.kind, from_fs_path(path), node.name_span, text))
            if len(out) >= limit:
                break
    return out[:limit]
