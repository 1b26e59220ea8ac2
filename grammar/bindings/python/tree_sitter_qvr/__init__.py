"""QVR grammar for tree-sitter: the compiled parser and its editor queries.

    import tree_sitter, tree_sitter_qvr
    language = tree_sitter.Language(tree_sitter_qvr.language())
    parser = tree_sitter.Parser(language)
    tree = parser.parse(source_bytes)

`language()` returns the PyCapsule that py-tree-sitter's `Language` expects.  The queries
(highlights, locals, folds, indents, textobjects; nvim-treesitter capture names) are available
as strings (`HIGHLIGHTS_QUERY`, ...), by name (`query_text("folds")`) and as files
(`queries_path()`).  `syntax_errors(node)` lists every syntax error in a tree: ERROR and
MISSING nodes, and `missing_return` nodes (a program body that ends without its `return`,
QVR005; the grammar marks it instead of failing so that the next declaration still parses).
The canonical .scm files live in grammar/queries/; a regular install
copies them into this package, an editable install reads them from the source tree.
"""
from __future__ import annotations

from pathlib import Path

from ._binding import language

__all__ = [
    "language",
    "syntax_errors",
    "has_syntax_error",
    "queries_path",
    "query_text",
    "QUERY_NAMES",
    "HIGHLIGHTS_QUERY",
    "LOCALS_QUERY",
    "FOLDS_QUERY",
    "INDENTS_QUERY",
    "TEXTOBJECTS_QUERY",
]

QUERY_NAMES = ("highlights", "locals", "folds", "indents", "textobjects")

_PACKAGE_DIR = Path(__file__).resolve().parent


def syntax_errors(node) -> list:
    """Every syntax-error node under `node` (a tree_sitter.Node or Tree), in document order:
    ERROR nodes, MISSING nodes and `missing_return` markers.  Errors nested inside an ERROR
    node are not listed separately."""
    root = getattr(node, "root_node", node)
    if not root.has_error:
        # Fast path: no ERROR/MISSING anywhere, so only program bodies can carry a marker.
        programs = [root] if root.type == "program_decl" else root.children
        return [
            marker
            for program in programs
            if program.type == "program_decl"
            and (marker := program.child_by_field_name("missing_return")) is not None
        ]
    found = []
    cursor = root.walk()
    while True:
        current = cursor.node
        is_error = current.is_error or current.is_missing or current.type == "missing_return"
        if is_error:
            found.append(current)
        if not is_error and cursor.goto_first_child():
            continue
        while not cursor.goto_next_sibling():
            if not cursor.goto_parent():
                return found


def has_syntax_error(node) -> bool:
    """True if `node` (or tree) contains an ERROR, a MISSING node or a `missing_return`."""
    return bool(syntax_errors(node))


def queries_path() -> Path:
    """The directory holding highlights.scm, locals.scm, folds.scm, indents.scm, textobjects.scm."""
    installed = _PACKAGE_DIR / "queries"
    if (installed / "highlights.scm").is_file():
        return installed
    # Editable install: this file is grammar/bindings/python/tree_sitter_qvr/__init__.py.
    source = _PACKAGE_DIR.parents[2] / "queries"
    if (source / "highlights.scm").is_file():
        return source
    raise FileNotFoundError(f"tree_sitter_qvr: no queries next to {_PACKAGE_DIR} or in {source}")


def query_text(name: str) -> str:
    """The text of one query file, e.g. ``query_text("highlights")``."""
    if name not in QUERY_NAMES:
        raise ValueError(f"unknown query {name!r}; expected one of {', '.join(QUERY_NAMES)}")
    return (queries_path() / f"{name}.scm").read_text(encoding="utf-8")


def __getattr__(attr: str) -> str:
    # HIGHLIGHTS_QUERY etc. are read on first use so importing the package stays cheap.
    if attr.endswith("_QUERY") and attr[: -len("_QUERY")].lower() in QUERY_NAMES:
        return query_text(attr[: -len("_QUERY")].lower())
    raise AttributeError(f"module 'tree_sitter_qvr' has no attribute {attr!r}")
