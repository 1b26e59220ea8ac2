"""Signature help for family calls (`Normal(loc, scale)`) and morphism/program calls (one
parameter per top-level domain factor)."""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Optional

from . import families
from .common import render_type


@dataclass(frozen=True)
class Signature:
    label: str
    parameters: tuple[str, ...]
    active_parameter: int
    documentation: str = ""


def _call_context(text: str, offset: int) -> Optional[tuple[str, int]]:
    """(callee name, index of the argument under the cursor) for the innermost open call."""
    start = max(0, offset - 2000)
    depth, commas = 0, 0
    i = offset - 1
    while i >= start:
        ch = text[i]
        if ch == "\n" and text[i + 1: offset].lstrip().startswith(("sample", "observe", "draw", "let", "return", "morphism", "program")):
            return None
        if ch in ")]":
            depth += 1
        elif ch in "([":
            if depth == 0:
                if ch == "[":
                    return None
                m = re.search(r"(\w+)\s*$", text[max(0, i - 200):i])
                return (m.group(1), commas) if m else None
            depth -= 1
        elif ch == "," and depth == 0:
            commas += 1
        i -= 1
    return None


def signature_help(doc, offset: int) -> Optional[Signature]:
    ctx = _call_context(doc.text, offset)
    if ctx is None:
        return None
    name, index = ctx
    analysis = doc.analysis
    if analysis is not None:
        info = analysis.morphisms.get(name)
        program = analysis.programs.get(name)
        typ = getattr(info, "type", None) or getattr(program, "declared", None)
        if typ is not None:
            dom = typ.dom
            factors = tuple(getattr(dom, "factors", ()) or ())
            parts = [render_type(f) for f in factors] if len(factors) > 1 else [render_type(dom)]
            label = f"{name}({', '.join(parts)}) -> {render_type(typ.cod)}"
            return Signature(label, tuple(parts), min(index, len(parts) - 1))
    fam = families.family(name)
    if fam is not None and fam.params:
        params = fam.params
        return Signature(fam.signature(), params, min(index, len(params) - 1), f"support: {fam.support}")
    return None
