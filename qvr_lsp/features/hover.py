"""Hover: what a name means, with resolved types and dimensions, docs and family details."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

from qvr.semantics.types import count_text
from qvr.syntax.span import Span

from . import families
from .common import display_type, nodes_containing, render_type, word_at


@dataclass(frozen=True)
class HoverResult:
    markdown: str
    span: Span


def _code(text: str) -> str:
    return f"```qvr\n{text}\n```"


def _docs(symbol) -> str:
    doc = getattr(symbol, "doc", None)
    if not doc:
        return ""
    if isinstance(doc, str):
        return doc
    return "\n".join(getattr(d, "text", str(d)) for d in doc)


def family_markdown(name: str) -> Optional[str]:
    fam = families.family(name)
    if fam is None:
        return None
    lines = [_code(f"family {fam.signature()}"), f"Support: {fam.support}"]
    if fam.alt_names:
        lines.append(f"Alternative parameter names: {', '.join(fam.alt_names)}")
    if fam.has_scale:
        lines.append("Accepts the `scale` option as a kernel.")
    if not fam.inline:
        lines.append("Kernel and fixed distribution only (not inline).")
    return "\n\n".join(lines)


def _morphism_signature(analysis, name: str, symbol) -> str:
    info = getattr(analysis, "morphisms", {}).get(name)
    if info is None or getattr(info, "type", None) is None:
        return getattr(symbol, "detail", None) or name
    text = f"{name} : {render_type(info.type)}"
    fam = getattr(info, "family", None)
    if fam:
        fixed = getattr(info, "fixed_args", None)
        text += f" ~ {fam}" + ("(…)" if fixed else "")
    role = getattr(info, "role", None)
    if role and not fam:
        text += f"  [role={role}]"
    return text


def symbol_markdown(analysis, symbol) -> str:
    kind, name = symbol.kind, symbol.name
    parts: list[str] = []
    if kind == "morphism":
        parts.append(_code(_morphism_signature(analysis, name, symbol)))
        info = getattr(analysis, "morphisms", {}).get(name)
        fam = getattr(info, "family", None) if info else None
        if fam and families.family(fam):
            f = families.family(fam)
            parts.append(f"Family `{f.signature()}`, support {f.support}")
        options = getattr(info, "options", None) if info else None
        shown = {k: v for k, v in (options or {}).items() if v is not None}
        if shown:
            parts.append("Options: " + ", ".join(f"`{k}={v}`" for k, v in shown.items()))
    elif kind == "program":
        info = getattr(analysis, "programs", {}).get(name)
        if info is not None:
            params = ", ".join(p.text if hasattr(p, "text") else str(p) for p, _ in getattr(info, "params", ()) or ())
            head = f"program {name}" + (f"({params})" if params else "")
            parts.append(_code(f"{head} : {render_type(info.declared)}"))
            if getattr(info, "promoted", False):
                parts.append(f"Promoted to `{render_type(info.effective)}`")
        else:
            parts.append(_code(symbol.detail or f"program {name}"))
    elif kind == "define":
        info = getattr(analysis, "defines", {}).get(name)
        typ = getattr(info, "type", None) if info else symbol.type
        parts.append(_code(f"define {name} : {render_type(typ)}" if typ is not None else (symbol.detail or name)))
    elif kind == "object":
        obj = getattr(analysis, "objects", {}).get(name) or symbol.type
        parts.append(_code(symbol.detail or f"object {name}"))
        if obj is not None:
            try:
                if obj.is_finite:
                    parts.append(f"finite, cardinality {count_text(obj.cardinality)}")
                else:
                    parts.append(f"value width {obj.width}, feature width {obj.feature_width}")
            except Exception:
                pass
    elif kind in ("parameter", "variable"):
        typ = symbol.type
        what = "parameter" if kind == "parameter" else "variable"
        scope = getattr(symbol, "scope", None)
        info = getattr(analysis, "programs", {}).get(scope) if scope else None
        var = getattr(info, "variables", {}).get(name) if info else None
        if var is not None and getattr(var, "kind", None):
            what = f"{var.kind} variable" if kind == "variable" else what
            typ = typ or getattr(var, "type", None)
        shown = render_type(typ) if typ is not None else "?"
        plain = display_type(typ) if typ is not None else "?"
        line = f"{name} : {shown}"
        if plain not in shown and plain != "?":
            line += f"  // {plain}"
        parts.append(_code(line))
        parts.append(f"{what}" + (f" of program `{scope}`" if scope else ""))
    else:
        parts.append(_code(symbol.detail or f"{kind} {name}"))
    doc = _docs(symbol)
    if doc:
        parts.append(doc)
    return "\n\n".join(parts)


def _is_seq(t) -> bool:
    return type(t).__name__ == "SeqType"


def _compose_hover(analysis, offset: int) -> Optional[HoverResult]:
    for node in reversed(nodes_containing(analysis.module, offset)):
        if type(node).__name__ != "Compose":
            continue
        op = node.op
        if not (op.span.start <= offset <= op.span.end):
            continue
        left = analysis.type_of(node.left)
        right = analysis.type_of(node.right)
        whole = analysis.type_of(node)
        middle = getattr(left, "cod", None)
        lines = []
        if middle is not None:
            shown, plain = render_type(middle), display_type(middle)
            # a per-element left side feeding a sequence consumer is lifted: values are Seq[...]
            if _is_seq(getattr(right, "dom", None)) and not _is_seq(middle):
                shown, plain = f"Seq[{shown}]", f"Seq[{plain}]"
            lines.append(_code(f"{op.text} : {shown}"))
            lines.append(f"Intermediate type `{plain}`")
        if whole is not None:
            lines.append(f"Composite: `{render_type(whole)}`")
        if lines:
            return HoverResult("\n\n".join(lines), op.span)
    return None


def hover(doc, offset: int) -> Optional[HoverResult]:
    analysis = doc.analysis
    if analysis is None:
        return None
    ref = analysis.reference_at(offset)
    if ref is not None and ref.symbol is not None:
        return HoverResult(symbol_markdown(analysis, ref.symbol), ref.span)
    composed = _compose_hover(analysis, offset)
    if composed is not None:
        return composed
    word = word_at(doc.text, offset)
    if word is None or _in_comment(analysis, offset):
        return None
    text, span = word
    md = family_markdown(text)
    if md:
        return HoverResult(md, span)
    if text in families.builtin_names():
        return HoverResult(_code(f"builtin {text}(x)") + "\n\nElementwise, width-preserving builtin function.", span)
    return None


def _in_comment(analysis, offset: int) -> bool:
    return any(c.span.start <= offset < c.span.end for c in getattr(analysis.module, "comments", ()))
