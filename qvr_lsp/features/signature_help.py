"""Signature help for family calls (`Normal(loc, scale)`, `Binomial(total_count, probs | logits)`),
builtin calls (`pow(x, y)`), calls of programs with typed parameters (templates: the parameters
as written in the header) and other morphism/program calls (one parameter per top-level domain
factor).

An alternative group of a family (`probs | logits`, spec part 2 §5.9) is one parameter whose
label shows every member; a keyword argument makes the parameter it names active (through the
checker's alternative names, so `eta=` in `OrderedLogistic` is `predictor`), a positional one
the parameter at its position.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Optional

from qvr.semantics.families import BUILTIN_SCHEMAS as _BUILTIN_SCHEMAS
from qvr.semantics.families import FAMILIES as _FAMILY_SCHEMAS
from qvr.semantics.templates import OBJECT_KINDS

from . import families
from .common import render_type

# A line starting with one of these begins a new step or statement: a call never spans it.
_STATEMENT_STARTS = ("sample", "observe", "draw", "let", "return", "morphism", "program",
                     "marginalize", "score")
_KEYWORD_ARG = re.compile(r"\s*(\w+)\s*=(?!=)")


@dataclass(frozen=True)
class Signature:
    label: str
    parameters: tuple[str, ...]
    active_parameter: int
    documentation: str = ""


@dataclass(frozen=True)
class _Call:
    name: str
    index: int      # the argument under the cursor, counted by commas
    keyword: str    # the keyword of that argument (`probs` in `probs=0.5`), or ""


def _call_context(text: str, offset: int) -> Optional[_Call]:
    """The innermost open call around the cursor."""
    start = max(0, offset - 2000)
    depth, commas = 0, 0
    arg_start = offset
    i = offset - 1
    while i >= start:
        ch = text[i]
        if ch == "\n" and text[i + 1: offset].lstrip().startswith(_STATEMENT_STARTS):
            return None
        if ch in ")]}":
            depth += 1
        elif ch in "([{":
            if depth == 0:
                if ch != "(":
                    return None
                m = re.search(r"(\w+)\s*$", text[max(0, i - 200):i])
                if m is None:
                    return None
                if arg_start == offset:
                    arg_start = i + 1
                kw = _KEYWORD_ARG.match(text, arg_start, offset)
                return _Call(m.group(1), commas, kw.group(1) if kw else "")
            depth -= 1
        elif ch == "," and depth == 0:
            if commas == 0:
                arg_start = i + 1
            commas += 1
        i -= 1
    return None


def family_signature(name: str, index: int = 0, keyword: str = "") -> Optional[Signature]:
    """The signature of family `name` with its alternative groups as single parameters."""
    schema = _FAMILY_SCHEMAS.get(name)
    doc = families.family(name)
    if schema is None or doc is None or not schema.params:
        return None
    params = tuple(" | ".join(schema.one_of) if schema.one_of and p == schema.one_of[0] else p
                   for p in schema.params)
    active = min(index, len(params) - 1)
    if keyword:
        canonical = schema.canonical(keyword)
        if canonical in schema.one_of:
            canonical = schema.one_of[0]
        if canonical in schema.params:
            active = schema.params.index(canonical)
    documentation = f"support: {doc.support}"
    if schema.aliases:
        documentation += "; also " + ", ".join(f"{a}= for {c}" for a, c in schema.aliases.items())
    return Signature(f"{name}({', '.join(params)})", params, active, documentation)


def builtin_signature(name: str, index: int = 0) -> Optional[Signature]:
    """`pow(x, y)`; a builtin with one- and two-argument forms (`min`, `max`) shows the form
    with two, and its documentation says what each form does."""
    schema = _BUILTIN_SCHEMAS.get(name)
    described = families.builtin_doc(name)
    if schema is None or described is None:
        return None
    params = ("x", "y")[: max(schema.arities)]
    return Signature(f"{name}({', '.join(params)})", params, min(index, len(params) - 1), described[1])


def _template_signature(text: str, program, frame: int, name: str, index: int) -> Optional[Signature]:
    """A program with typed parameters is called with its parameters as written
    (`pooled(G : FinSet, spread : Real, link : Mor[Effect, Effect])`, spec part 2 §5.5), not
    with the factors of its (abstract) domain. `frame`: the offset of the program's spans in
    `text`."""
    decl = program.decl if program is not None else None
    kinds = (decl.param_kinds or ()) if decl is not None else ()
    if not any(k is not None for k in kinds):
        return None
    params = tuple(text[frame + k.span.start:frame + k.span.end] if k is not None else p.text
                   for p, k in zip(decl.params, kinds))
    sig = decl.sig
    result = f" : {text[frame + sig.span.start:frame + sig.span.end]}" if sig is not None else ""
    typed = sum(k is not None for k in kinds)
    documentation = ("the arguments bind the parameters in order" if typed == len(params) else
                     f"{len(params)} arguments bind the parameters in order; {typed} "
                     + ("arguments bind only the typed ones" if typed > 1 else "argument binds only the typed one"))
    if any(k is not None and (k.kind.__class__.__name__ == "KindMor" or k.kind.name.text in OBJECT_KINDS)
           for k in kinds):
        documentation = "template: " + documentation
    return Signature(f"{name}({', '.join(params)}){result}", params, min(index, len(params) - 1), documentation)


def signature_help(doc, offset: int) -> Optional[Signature]:
    """The signature of the call around `offset`. It reads the top-level names only
    (`Document.top_level_names`): while the user types, those come from the engine's run for
    the diagnostics, so the answer does not wait for a full analysis of the document."""
    call = _call_context(doc.text, offset)
    if call is None:
        return None
    name, index = call.name, call.index
    symbols, programs, frames = doc.top_level_names()
    program = programs.get(name)
    template = _template_signature(doc.text, program, frames.get(name, 0), name, index)
    if template is not None:
        return template
    symbol = symbols.get(name)
    if symbol is not None or program is not None:
        # (a morphism's symbol carries its type; a program's info its declared signature)
        typ = (symbol.type if symbol is not None and symbol.kind == "morphism" else None) or (
            program.declared if program is not None else None)
        if typ is not None:
            dom = typ.dom
            factors = tuple(getattr(dom, "factors", ()) or ())
            parts = [render_type(f) for f in factors] if len(factors) > 1 else [render_type(dom)]
            label = f"{name}({', '.join(parts)}) -> {render_type(typ.cod)}"
            return Signature(label, tuple(parts), min(index, len(parts) - 1))
    return family_signature(name, index, call.keyword) or builtin_signature(name, index)
