"""prepareRename and rename.

A rename refuses (raises `RenameError` with a message for the user) when the new name is not an
identifier, is a reserved word, or collides with a name visible in the same scope, or would make
a program local read a top-level declaration (a data name may never take a top-level name: it
would stop being a data name, spec part 2 §5.3). Program locals (data names, `marginalize`
variables, `factor` binders, `score` names, template parameters among them) are renamed only
inside their program; top-level names everywhere they are referenced.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

from qvr.syntax.span import Span

from . import families
from .common import is_identifier

RENAMEABLE = {"object", "morphism", "program", "define", "category", "rule", "parameter", "variable", "rule_variable",
              "opaque"}


class RenameError(Exception):
    """A rename the user asked for that we refuse; the message says why."""


@dataclass(frozen=True)
class RenameTarget:
    span: Span
    placeholder: str


def _target(doc, offset: int):
    analysis = doc.analysis
    if analysis is None:
        return None, None
    ref = analysis.reference_at(offset)
    if ref is None or ref.symbol is None or ref.symbol.kind not in RENAMEABLE:
        return analysis, None
    return analysis, ref


def prepare_rename(doc, offset: int) -> Optional[RenameTarget]:
    _, ref = _target(doc, offset)
    if ref is None:
        return None
    return RenameTarget(ref.span, doc.text[ref.span.start:ref.span.end])


def _names_in_scope(analysis, symbol) -> set[str]:
    if symbol.scope is None:
        return set(analysis.top_level)
    return {s.name for s in analysis.symbols if s.scope == symbol.scope}


def _is_data_name(analysis, symbol) -> bool:
    info = analysis.programs.get(symbol.scope)
    var = info.variables.get(symbol.name) if info is not None else None
    return var is not None and var.kind == "data"


def _uses_top_level(analysis, symbol, name: str) -> bool:
    """Whether the program of local `symbol` refers to the top-level `name`."""
    info = analysis.programs.get(symbol.scope)
    span = info.decl.span if info is not None and info.decl is not None else None
    target = analysis.top_level[name]
    return span is not None and any(r.symbol is target and not r.is_definition
                                    and span.start <= r.span.start < span.end
                                    for r in analysis.references)


def rename(doc, offset: int, new_name: str) -> list[tuple[Span, str]]:
    """Edits (span, new text) that rename the symbol under the cursor; raises `RenameError`."""
    analysis, ref = _target(doc, offset)
    if ref is None:
        raise RenameError("nothing to rename here: place the cursor on a declared name")
    symbol = ref.symbol
    if not is_identifier(new_name):
        raise RenameError(f"`{new_name}` is not a valid QVR identifier")
    if new_name in families.reserved_words():
        raise RenameError(f"`{new_name}` is a reserved word and cannot be used as a name")
    if new_name == symbol.name:
        return []
    if new_name in _names_in_scope(analysis, symbol):
        where = f"program `{symbol.scope}`" if symbol.scope else "this file"
        raise RenameError(f"`{new_name}` is already declared in {where}")
    if symbol.scope is not None and new_name in analysis.top_level:
        if _is_data_name(analysis, symbol):
            raise RenameError(f"`{new_name}` is a top-level name: a data name cannot take it "
                              f"(program `{symbol.scope}` would read the declaration instead)")
        if _uses_top_level(analysis, symbol, new_name):
            raise RenameError(f"`{new_name}` is a top-level name that program `{symbol.scope}` uses; "
                              f"the renamed local would hide it")
    spans = {(r.span.start, r.span.end) for r in analysis.references_to(symbol)}
    spans.add((symbol.name_span.start, symbol.name_span.end))
    return [(Span(a, b), new_name) for a, b in sorted(spans)]
