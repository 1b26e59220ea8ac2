"""Helpers shared by feature modules: walking the AST, words under the cursor, type display."""
from __future__ import annotations

import dataclasses
import re
from typing import Iterator, Optional

from qvr.semantics.types import count_text
from qvr.syntax.span import Span

WORD_RE = re.compile(r"\w+")


def is_identifier(text: str) -> bool:
    """Spec §2.4: starts with `_` or a letter, continues with letters, decimal digits, `_`."""
    if not text or not (text[0] == "_" or text[0].isalpha()):
        return False
    return all(ch == "_" or ch.isalpha() or ch.isdecimal() for ch in text)


def word_at(text: str, offset: int) -> Optional[tuple[str, Span]]:
    """The identifier-like word touching `offset` (end inclusive), if any."""
    n = len(text)
    offset = max(0, min(offset, n))
    start = offset
    while start > 0 and (text[start - 1].isalnum() or text[start - 1] == "_"):
        start -= 1
    end = offset
    while end < n and (text[end].isalnum() or text[end] == "_"):
        end += 1
    if start == end:
        return None
    return text[start:end], Span(start, end)


def children(node) -> Iterator:
    """Direct child nodes of an AST node (any dataclass with a `span`), in field order."""
    if not dataclasses.is_dataclass(node):
        return
    for f in dataclasses.fields(node):
        value = getattr(node, f.name, None)
        if isinstance(value, tuple):
            for item in value:
                if dataclasses.is_dataclass(item) and hasattr(item, "span"):
                    yield item
        elif dataclasses.is_dataclass(value) and hasattr(value, "span") and not isinstance(value, Span):
            yield value


def walk(node) -> Iterator:
    """Pre-order walk over an AST subtree."""
    stack = [node]
    while stack:
        current = stack.pop()
        yield current
        stack.extend(reversed(list(children(current))))


def nodes_containing(module, offset: int) -> list:
    """Nodes whose span contains `offset`, outermost first (end inclusive)."""
    out = []
    candidates = [s for s in getattr(module, "statements", ()) if s.span.start <= offset <= s.span.end]
    while candidates:
        node = candidates[0]
        out.append(node)
        candidates = [c for c in children(node) if c.span.start <= offset <= c.span.end]
    return out


def statement_at(module, offset: int):
    for stmt in getattr(module, "statements", ()):
        if stmt.span.start <= offset <= stmt.span.end:
            return stmt
    return None


# ------------------------------------------------------------------------ type display ----
def _dim(t) -> Optional[str]:
    """The dimension (or cardinality) shown after a name; a huge cardinality as a bound."""
    try:
        if getattr(t, "is_finite", False):
            return count_text(t.cardinality)
        return str(t.width)
    except Exception:
        return None


def render_type(t) -> str:
    """`Embedded(64) * State(128) -> Hidden(64)`: names with their dimension (or cardinality)."""
    if t is None:
        return "?"
    cls = type(t).__name__
    if cls == "MorphType":
        return f"{render_type(t.dom)} -> {render_type(t.cod)}"
    if cls == "SeqType":
        return f"Seq[{render_type(t.elem)}]"
    if cls != "ObjType":
        return display_type(t)
    # Anonymous products print flat (`A(2) * B(3) * C(2)`) however they nest; an `f @ f @ ...`
    # chain nests them as deep as it is long, so walk with a stack rather than recursing.
    parts: list[str] = []
    stack = [t]
    while stack:
        x = stack.pop()
        if type(x).__name__ != "ObjType":  # a leaf factor
            parts.append(display_type(x))
            continue
        name = getattr(x, "name", None)
        if name:
            dim = _dim(x)
            parts.append(f"{name}({dim})" if dim is not None else name)
            continue
        factors = tuple(getattr(x, "factors", ()) or ())
        if len(factors) > 1 or (len(factors) == 1 and factors[0] is not x):
            stack.extend(reversed(factors))
        else:
            parts.append(display_type(x))
    return " * ".join(parts)


def display_type(t) -> str:
    """The checker's own display (`Seq[Embedded]`, `Real 1 {low=0.0}`)."""
    if t is None:
        return "?"
    display = getattr(t, "display", None)
    try:
        return display() if callable(display) else str(t)
    except Exception:
        return str(t)


def dimension_note(t) -> str:
    """`FinSet 256` / `Real 64` / `Seq[Real 64]` summary of a value type, for inlay hints."""
    cls = type(t).__name__
    if cls == "SeqType":
        return f"Seq[{dimension_note(t.elem)}]"
    if cls == "MorphType":
        return f"{render_type(t.dom)} -> {render_type(t.cod)}"
    name = getattr(t, "name", None)
    dim = _dim(t)
    if name and dim is not None:
        return f"{name}({dim})"
    return display_type(t)


def subsequence_matcher(query: str):
    """A test of names: whether `query` is a case-insensitive subsequence of the name (`gi`
    matches `gate_i`). The query is lowered once: a search reads every name of a file."""
    low = query.lower()
    if not low:
        return lambda name: True

    def match(name: str) -> bool:
        lowered, at = name.lower(), 0
        for ch in low:  # (each character found after the last: linear in the name)
            at = lowered.find(ch, at) + 1
            if not at:
                return False
        return True

    return match


def first_line_of(text: str, span: Span) -> str:
    end = text.find("\n", span.start, span.end)
    return text[span.start: span.end if end < 0 else end].strip()
