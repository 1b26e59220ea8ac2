"""Context-aware completion.

The context is read from the text before the cursor (so it works while the line is half typed
and does not parse): after `~` families; after `<-` or `draw … ~` targets (morphisms, programs,
defines, inline families); in type positions objects and type constructors; in option blocks the
option keys; inside a program its variables and builtins; at the start of a line the statement
keywords, with snippets for whole declarations.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Optional

from qvr.syntax import vocabulary as _vocabulary

from . import families

TOP_LEVEL_SNIPPETS = {
    "object": "object ${1:Name} : ${2|FinSet,Real|} ${3:1}",
    "morphism": "morphism ${1:name} : ${2:Domain} -> ${3:Codomain} ~ ${4:Normal}",
    "program": "program ${1:name}(${2:x}) : ${3:Domain} -> ${4:Codomain}\n    sample ${5:y} <- ${6:target}(${2:x})\n    return ${5:y}",
    "define": "define ${1:name} = ${2:expr}",
    "export": "export ${1:name}",
    "quantale": "quantale ${1:product_fuzzy}",
    "category": "category ${1:S}",
    "rule": "rule ${1:name}(${2:X}) : ${3:X} |- ${4:X}",
}
STEP_SNIPPETS = {
    "sample": "sample ${1:x} <- ${2:target}(${3})",
    "observe": "observe ${1:y} : ${2:Type} <- ${3:target}(${4})",
    "let": "let ${1:v} = ${2:expr}",
    "return": "return ${1:x}",
}
COMBINATORS = {
    "scan": "scan(${1:cell})",
    "fan": "fan(${1:f}, ${2:g})",
    "repeat": "repeat(${1:f})",
    "stack": "stack(${1:f}, ${2:1})",
    "identity": "identity(${1:X})",
}
OPTION_KEYS = tuple(_vocabulary.OPTION_KEYS)  # key -> value description in the vocabulary
DECL_KEYWORDS = {
    "object", "type", "space", "morphism", "continuous", "stochastic", "latent", "observed", "embed",
    "discretize", "program", "define", "export", "output", "quantale", "category", "rule",
}
STEP_START = re.compile(r"^\s*(sample|observe|draw|let|return|\w+\s*<-)")
BOUND_NAME = re.compile(
    r"^\s*(?:(?:sample|draw|observe)\s+(?:\(([^)]*)\)|\[([^\]]*)\]|(\w+))|let\s+(\w+)\s*=|(\w+)\s*<-)", re.M
)


@dataclass(frozen=True)
class Item:
    label: str
    kind: str  # keyword snippet family object morphism program define variable builtin option constructor
    detail: str = ""
    insert_text: Optional[str] = None
    is_snippet: bool = False
    sort_group: int = 5


def _line_start(text: str, offset: int) -> int:
    return text.rfind("\n", 0, offset) + 1


def _first_word(line: str) -> str:
    m = re.match(r"\s*(\w+)", line)
    return m.group(1) if m else ""


def enclosing_program(text: str, offset: int) -> Optional[tuple[str, int]]:
    """(name, header offset) of the program whose body the cursor is in, by scanning lines back.

    Works on broken text: a `program` header line is found before any `return` or other
    declaration keyword (program `let` steps are ambiguous with top-level `let` and skipped).
    """
    pos = _line_start(text, offset)
    first = True
    while pos >= 0:
        end = text.find("\n", pos)
        line = text[pos: end if end >= 0 else len(text)]
        if first:
            line = text[pos:offset]
        word = _first_word(line)
        if word == "program":
            m = re.match(r"\s*program\s+(\w+)", line)
            return (m.group(1), pos) if m else ("", pos)
        if not first and word == "return":
            return None
        if word in DECL_KEYWORDS and word != "program":
            return None
        first = False
        if pos == 0:
            return None
        pos = _line_start(text, pos - 1)
    return None


def _unclosed(text: str, opener: str, closer: str) -> int:
    depth = 0
    for i in range(len(text) - 1, -1, -1):
        ch = text[i]
        if ch == closer:
            depth += 1
        elif ch == opener:
            if depth == 0:
                return i
            depth -= 1
    return -1


def _program_variables(doc, program: tuple[str, int], offset: int) -> list[Item]:
    name, header = program
    items: dict[str, Item] = {}
    _, programs, origins = _names(doc)
    info = programs.get(name)
    origin = origins.get(name, 0)  # program nodes from the incremental checker are relative
    if info is not None:
        from .common import dimension_note

        for pname, ptype in getattr(info, "params", ()) or ():
            label = getattr(pname, "text", str(pname))
            items[label] = Item(label, "variable", f"parameter : {dimension_note(ptype) if ptype is not None else '?'}", sort_group=1)
        for var in getattr(info, "variables", {}).values():
            node = getattr(var, "node", None)
            if node is not None and getattr(node, "span", None) is not None and node.span.start + origin > offset:
                continue
            typ = getattr(var, "type", None)
            items.setdefault(var.name, Item(var.name, "variable", f"{var.kind} : {dimension_note(typ) if typ is not None else '?'}", sort_group=1))
    body = doc.text[header:_line_start(doc.text, offset)]
    header_line = body.split("\n", 1)[0]
    m = re.match(r"\s*program\s+\w+\s*\(([^)]*)\)", header_line)
    if m:
        for p in m.group(1).split(","):
            p = p.strip()
            if p:
                items.setdefault(p, Item(p, "variable", "parameter", sort_group=1))
    for m in BOUND_NAME.finditer(body):
        group = next(g for g in m.groups() if g is not None)
        for n in re.findall(r"\w+", group):
            items.setdefault(n, Item(n, "variable", "variable", sort_group=1))
    return list(items.values())


def _names(doc) -> tuple[dict, dict, dict]:
    """Top-level symbols, program infos and program frame offsets (see
    `Document.top_level_names`; plain test documents only have an analysis)."""
    names = getattr(doc, "top_level_names", None)
    if names is not None:
        return names()
    analysis = doc.analysis
    if analysis is None:
        return {}, {}, {}
    return analysis.top_level, analysis.programs, {}


def _top_level(doc, kinds: set[str]) -> list[Item]:
    out = []
    for name, sym in (_names(doc)[0] or {}).items():
        if sym.kind in kinds:
            out.append(Item(name, sym.kind, getattr(sym, "detail", "") or sym.kind, sort_group=2))
    return out


def _families(inline: bool) -> list[Item]:
    out = []
    for name in families.family_names():
        fam = families.family(name)
        if inline:
            if fam is not None and not fam.inline:
                continue
            params = fam.params if fam else ()
            snippet = f"{name}(" + ", ".join(f"{p}=${{{i + 1}:{p}}}" for i, p in enumerate(params)) + ")"
            out.append(Item(name, "family", fam.signature() if fam else "family", snippet, True, 3))
        else:
            out.append(Item(name, "family", fam.signature() if fam else "family", sort_group=3))
    return out


def _types(doc) -> list[Item]:
    items = _top_level(doc, {"object"})
    items += [Item(c, "constructor", "type constructor", sort_group=3) for c in families.type_constructors()]
    return items


def _targets(doc) -> list[Item]:
    return _top_level(doc, {"morphism", "program", "define"}) + _families(inline=True)


def _expressions(doc) -> list[Item]:
    items = _top_level(doc, {"morphism", "program", "define"})
    items += [Item(k, "keyword", "combinator", v, True, 4) for k, v in COMBINATORS.items()]
    return items


MAX_ITEMS = 200


def prefix_filter(items: list[Item], prefix: str, limit: int = MAX_ITEMS) -> tuple[list[Item], bool]:
    """Items whose label contains the typed prefix as a case-insensitive subsequence, best
    groups first, at most `limit` (and whether the list was cut, so the client asks again)."""
    if prefix:
        low = prefix.lower()

        def ok(label: str) -> bool:
            it = iter(label.lower())
            return all(ch in it for ch in low)

        items = [i for i in items if ok(i.label)]
    items = sorted(items, key=lambda i: (i.sort_group, not i.label.startswith(prefix), i.label))
    return items[:limit], len(items) > limit


def typed_prefix(doc, offset: int) -> str:
    ls = _line_start(doc.text, offset)
    return re.search(r"\w*$", doc.text[ls:offset]).group(0)


def complete(doc, offset: int) -> list[Item]:
    text = doc.text
    offset = max(0, min(offset, len(text)))
    ls = _line_start(text, offset)
    line_prefix = text[ls:offset]
    if "#" in line_prefix:
        return []
    word = re.search(r"\w*$", line_prefix).group(0)
    before = line_prefix[: len(line_prefix) - len(word)].rstrip()
    first = _first_word(line_prefix) if before else ""
    program = enclosing_program(text, offset)
    in_program = program is not None and first != "program"

    if not before:  # start of a statement: current-form keywords only (no deprecated ones)
        if in_program:
            return [Item(k, "snippet", "step", v, True, 0) for k, v in STEP_SNIPPETS.items()]
        return [Item(k, "snippet", "declaration", v, True, 0) for k, v in TOP_LEVEL_SNIPPETS.items()]

    # option block after a signature or target: `[key=…`
    bracket = _unclosed(line_prefix, "[", "]")
    if bracket >= 0 and first in DECL_KEYWORDS | {"sample", "observe"}:
        inside = line_prefix[bracket + 1: len(line_prefix) - len(word)].rstrip()
        if not inside or inside.endswith(","):
            return [Item(k, "option", "option", f"{k}=", False, 1) for k in OPTION_KEYS]
        if inside.endswith("role="):
            return [Item(r, "keyword", "role", sort_group=1) for r in _vocabulary.ROLES]
        return []

    if before.endswith("<-") or (before.endswith("~") and first in ("draw", "observe")):
        return _targets(doc)
    if before.endswith("~"):
        return _families(inline=False) + _top_level(doc, {"morphism", "define"})

    # type positions: declaration headers before `~`/`=`/`[`, and step annotations
    if first in DECL_KEYWORDS - {"define", "export", "output", "quantale", "category", "rule"} or first in ("sample", "observe"):
        header = before
        if "~" not in header and "<-" not in header and re.search(r"(:|->|\*|\+|\(|=)$", header):
            if first in ("sample", "observe") and not header.endswith(":"):
                pass
            elif first == "program" and header.endswith("("):
                return []
            else:
                return _types(doc)

    if in_program:
        # arguments, let right-hand sides and arithmetic: variables first, then callables
        items = _program_variables(doc, program, offset)
        items += [Item(b, "builtin", "builtin function", sort_group=3) for b in families.builtin_names()]
        items += _top_level(doc, {"morphism"})
        return items
    if first in ("define", "let", "export", "output") or re.search(r"(>>|<<|>=>|@|\(|,|=)$", before):
        return _expressions(doc)
    return _top_level(doc, {"object", "morphism", "program", "define"})
