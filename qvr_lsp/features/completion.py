"""Context-aware completion.

The context is read from the text before the cursor (so it works while the line is half typed
and does not parse): after `~` families; after `<-` or `draw … ~` targets (morphisms, programs,
defines, a template's `Mor[A, B]` parameters, inline families with their parameters); in type
positions objects and type constructors (in a step annotation also a template's object
parameters); in option blocks the keys of that block (a morphism's, a step's `over`/`iid_over`,
`via` inside a grouped `marginalize`, `over`/`reduction` of a `marginalize`, `effects`/`over` of
a program, `level` of `composition NAME [`) and then their values; inside a program its
variables (the data names it already uses, `marginalize` variables only inside their body, `factor`
binders inside their comprehension) and the builtins with their arity; at the start of a line
the statement or step keywords valid there, with snippets (spec part 2 §5.2–§5.8, §5.10).
"""
from __future__ import annotations

import heapq
import re
from typing import NamedTuple, Optional

from qvr.semantics.declarations import ALGEBRA_LEVELS
from qvr.semantics.effects import EFFECTS
from qvr.semantics import marginalize, templates
from qvr.semantics.marginalize import ENUMERABLE, REDUCTIONS
from qvr.syntax import vocabulary as _vocabulary

from . import families
from .common import subsequence_matcher
from .inlay_hints import value_note
from .signature_help import family_signature

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
    "score": "score ${1:name} = ${2:expr}",
    "marginalize": "marginalize ${1:z} <- ${2:Categorical}(${3:probs}=${4:p})\n    ${0}",
}
# Steps a `marginalize` body may hold (spec part 2 §5.7): no `return`, and a nested
# `marginalize` is tier 2 (not runnable), so it is not offered.
BODY_STEPS = ("sample", "observe", "let", "score")
FACTOR_SNIPPET = "factor ${1:i} : ${2:K} in ${3:expr}"
# Kinds of typed program parameters (spec part 2 §5.5).
PARAM_KINDS = {
    "FinSet": "FinSet", "Space": "Space", "Object": "Object", "Real": "Real", "Nat": "Nat",
    "Mor": "Mor[${1:A}, ${2:B}]",
}
# Keys of option blocks by what the block belongs to (spec part 2 §5.10).
STEP_OPTION_KEYS = {"sample": ("iid_over", "over"), "observe": ("iid_over", "over"),
                    "marginalize": ("over", "reduction")}
PROGRAM_OPTION_KEYS = ("effects", "over")
COMPOSITION_OPTION_KEYS = ("level",)
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
MARGINALIZE_HEAD = re.compile(r"(\s*)marginalize\s+(\w+)")
FACTOR_BINDERS = re.compile(r"\bfactor\s+((?:\w+\s*:\s*\w+\s*,\s*)*\w+\s*:\s*\w+)\s+in\b")
BOUND_NAME = re.compile(
    r"^\s*(?:(?:sample|draw|observe)\s+(?:\(([^)]*)\)|\[([^\]]*)\]|(\w+))|(?:let|score)\s+(\w+)\s*(?:=|<-)|(\w+)\s*<-)",
    re.M
)


class Item(NamedTuple):
    """One completion candidate. (A tuple: a file of megabytes makes tens of thousands.)"""

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


def open_bodies(text: str, offset: int, header: int) -> list[tuple[str, str]]:
    """(variable, head line) of the `marginalize` steps whose body the cursor is in, innermost
    first: a body is the following lines indented deeper than its head (spec part 2 §2.3)."""
    ls = _line_start(text, offset)
    current = text[ls:offset]
    limit = len(current) - len(current.lstrip())
    out = []
    pos = ls
    while pos > header and limit > 0:
        pos = _line_start(text, pos - 1)
        end = text.find("\n", pos)
        line = text[pos:end if end >= 0 else len(text)]
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        indent = len(line) - len(line.lstrip())
        if indent >= limit:
            continue
        m = MARGINALIZE_HEAD.match(line)
        if m is not None:
            out.append((m.group(2), line))
        limit = indent
    return out


def _closed_bindings(info, origin: int, offset: int, bodies: set) -> dict:
    """The bindings (`VarInfo`s by `id`) out of scope at the cursor: those of `marginalize`
    blocks that closed (a block is open when the cursor is in the body of its name, `bodies`,
    and it is the last block of that name starting before the cursor)."""
    blocks = marginalize.blocks_of(info)
    opened = set()
    for z in bodies:
        before = [b for b in blocks if b.name == z and b.step is not None
                  and b.step.span.start + origin <= offset]
        if before:
            opened.add(id(max(before, key=lambda b: b.step.span.start)))
    closed = {}
    for block in blocks:
        if id(block) in opened:
            continue
        for n in block.out_of_scope or (block.name,):
            var = block.replaced.get(n) or info.variables.get(n)
            if var is not None:
                closed[id(var)] = var
    return closed


def _bound_at(var) -> int:
    """Where a variable's binding (or a data name's first use) starts; -1 if unknown."""
    span = getattr(var.node, "span", None)  # a VarInfo's node is a step or a name node
    return span.start if span is not None else -1


def _program_variables(doc, program: tuple[str, int], offset: int) -> list[Item]:
    """The program's names in scope at the cursor: parameters, variables bound before it, the
    data names the program uses (anywhere: they are its inputs), the variables of the
    `marginalize` bodies it is in (and the lets that depend on them), the binders of a
    `factor` comprehension on its line."""
    name, header = program
    items: dict[str, Item] = {}
    info, origin = program_info(doc, name, offset)
    bodies = {z for z, _ in open_bodies(doc.text, offset, header)}
    closed = _closed_bindings(info, origin, offset, bodies)
    hidden = {v.name for v in closed.values()}  # for the names only the text shows
    if info is not None:
        from .common import dimension_note

        params = templates.object_params(info)  # a template's sizes are shown symbolically
        for pname, ptype in info.params:
            label = pname.text
            note = templates.symbolic(dimension_note(ptype), params) if ptype is not None else "?"
            items[label] = Item(label, "variable", f"parameter : {note}", sort_group=1)
        # a name several `marginalize` blocks bind: the binding nearest before the cursor
        for var in sorted(marginalize.all_variables(info), key=_bound_at, reverse=True):
            node = var.node
            # a data name is an input of the whole program: offered wherever it was used first
            if var.kind != "data" and node is not None and getattr(node, "span", None) is not None \
                    and node.span.start + origin > offset:
                continue
            if id(var) in closed:
                continue
            typ = var.type
            kind = "data input" if var.kind == "data" else var.kind
            note = templates.symbolic(value_note(typ), params) if typ is not None else "?"
            items.setdefault(var.name, Item(var.name, "variable", f"{kind} : {note}", sort_group=1))
    body = doc.text[header:_line_start(doc.text, offset)]
    header_line = body.split("\n", 1)[0]
    m = re.match(r"\s*program\s+\w+\s*\((.*)\)", header_line)
    if m:
        for p in _split_top(m.group(1)):
            p = p.split(":")[0].strip()
            if p and p not in items and p not in template_parameters(doc.text, header):
                items[p] = Item(p, "variable", "parameter", sort_group=1)
    for m in BOUND_NAME.finditer(body):
        group = next(g for g in m.groups() if g is not None)
        for n in re.findall(r"\w+", group):
            if n not in hidden:
                items.setdefault(n, Item(n, "variable", "variable", sort_group=1))
    for m in re.finditer(r"^\s*marginalize\s+(\w+)", body, re.M):
        if m.group(1) in bodies:  # in scope only inside its body
            items.setdefault(m.group(1), Item(m.group(1), "variable", "variable", sort_group=1))
    line = doc.text[_line_start(doc.text, offset):offset]
    for m in FACTOR_BINDERS.finditer(line):
        for binder in m.group(1).split(","):
            v, _, k = (part.strip() for part in binder.partition(":"))
            items[v] = Item(v, "variable", f"factor binder over {k}", sort_group=1)
    return list(items.values())


# The analysis of the text without the cursor line, so that a program that does not parse while
# a line of it is half typed still shows its locals and data names: (that text, its analysis).
# Typing on the same line keeps that text, so the analysis is made once per line edited. A
# larger text is not analysed on the typing path (60 000 characters take about 0.2 s); there the
# locals come from the scan of the body's text alone.
_REPAIRED: tuple = (None, None)
MAX_REPAIR_CHARS = 60_000


def program_info(doc, name: str, offset: int):
    """(ProgramInfo, shift) of program `name`, where a node of it is bound after the cursor when
    its start plus shift is past `offset`. While the cursor line breaks the program (it does
    not parse), the program as it reads without that line."""
    global _REPAIRED
    _, programs, origins = _names(doc)
    info = programs.get(name)
    if info is not None or len(doc.text) > MAX_REPAIR_CHARS:
        return info, origins.get(name, 0)
    text = doc.text
    ls = _line_start(text, offset)
    le = text.find("\n", offset)
    repaired = text[:ls] + (text[le + 1:] if le >= 0 else "")
    cached_text, analysis = _REPAIRED
    if cached_text != repaired:
        from qvr.semantics import analyze

        analysis = analyze(repaired)
        _REPAIRED = (repaired, analysis)
    # the lines after the cursor line start at `ls` in the repaired text: move them past `offset`
    return analysis.programs.get(name), offset - ls + 1


def _split_top(text: str) -> list[str]:
    """`text` split at commas outside brackets (`Mor[A, B]` stays whole)."""
    parts, depth, start = [], 0, 0
    for i, ch in enumerate(text):
        if ch in "([":
            depth += 1
        elif ch in ")]":
            depth -= 1
        elif ch == "," and depth == 0:
            parts.append(text[start:i])
            start = i + 1
    parts.append(text[start:])
    return [p.strip() for p in parts if p.strip()]


def template_parameters(text: str, header: int) -> dict[str, str]:
    """The object (`FinSet`, `Space`, `Object`) and morphism (`Mor[A, B]`) parameters of the
    program whose header starts at `header`, name -> kind as written (spec part 2 §5.5); read
    from the text, so a body that does not parse still has them."""
    m = re.compile(r"\s*program\s+\w+\s*\(").match(text, header)
    if m is None:
        return {}
    depth, i = 1, m.end()
    while i < len(text) and depth:
        depth += {"(": 1, ")": -1}.get(text[i], 0)
        i += 1
    out = {}
    for param in _split_top(text[m.end(): i - 1]):
        pname, _, kind = (part.strip() for part in param.partition(":"))
        if kind in ("FinSet", "Space", "Object") or kind.startswith("Mor"):
            out[pname] = kind
    return out


def _names(doc) -> tuple[dict, dict, dict]:
    """Top-level symbols, program infos and program frame offsets
    (`Document.top_level_names`)."""
    return doc.top_level_names()


def _top_level(doc, kinds: set[str]) -> list[Item]:
    out = []
    for name, sym in (_names(doc)[0] or {}).items():
        if sym.kind in kinds:
            out.append(Item(name, sym.kind, sym.detail or sym.kind, sort_group=2))
    return out


def _family_detail(name: str) -> str:
    """`Binomial(total_count, probs | logits)`, and for a tier-2 family that it does not run."""
    sig = family_signature(name)
    fam = families.family(name)
    detail = sig.label if sig is not None else (fam.signature() if fam else "family")
    if fam is not None and fam.tier == 2:
        detail += " (not runnable: tier 2)"
    return detail


def _families(inline: bool) -> list[Item]:
    out = []
    for name in families.family_names():
        fam = families.family(name)
        if inline:
            if fam is not None and not fam.inline:
                continue
            params = fam.params if fam else ()
            snippet = f"{name}(" + ", ".join(f"{p}=${{{i + 1}:{p}}}" for i, p in enumerate(params)) + ")"
            out.append(Item(name, "family", _family_detail(name), snippet, True, 3))
        else:
            out.append(Item(name, "family", _family_detail(name), sort_group=3))
    return out


def _objects(doc, finite_only: bool = False) -> list[Item]:
    out = []
    for name, sym in (_names(doc)[0] or {}).items():
        if sym.kind == "object" and (not finite_only or (sym.type is not None
                                                         and sym.type.is_finite)):
            out.append(Item(name, "object", sym.detail or "object", sort_group=2))
    return out


def _object_parameters(doc, program, finite_only: bool = False) -> list[Item]:
    """A template's object parameters (a `FinSet` one can be a plate)."""
    if program is None:
        return []
    return [Item(name, "object", f"template parameter : {kind}", sort_group=1)
            for name, kind in template_parameters(doc.text, program[1]).items()
            if kind == "FinSet" or (not finite_only and not kind.startswith("Mor"))]


def _types(doc, program=None) -> list[Item]:
    items = _object_parameters(doc, program) + _top_level(doc, {"object"})
    items += [Item(c, "constructor", "type constructor", sort_group=3) for c in families.type_constructors()]
    return items


def _targets(doc, program=None) -> list[Item]:
    items = _top_level(doc, {"morphism", "program", "define"})
    if program is not None:
        items += [Item(n, "define", f"template parameter : {kind}", sort_group=1)
                  for n, kind in template_parameters(doc.text, program[1]).items() if kind.startswith("Mor")]
    return items + _families(inline=True)


def _marginalize_targets(doc, program) -> list[Item]:
    """Targets of a `marginalize`: the families it sums over first (spec part 2 §5.7); any
    other family makes the variable a latent scoped to the body (QVR121)."""
    out = []
    for item in _targets(doc, program):
        if item.kind == "family" and item.label in ENUMERABLE:
            item = item._replace(detail=item.detail + " (summed out)", sort_group=2)
        elif item.kind == "family":
            item = item._replace(detail=item.detail + " (not summed: a latent of the body)")
        out.append(item)
    return out


def _builtins() -> list[Item]:
    out = []
    for b in families.builtin_names():
        described = families.builtin_doc(b)
        out.append(Item(b, "builtin", described[0] if described else "builtin function", sort_group=3))
    return out


def _expressions(doc) -> list[Item]:
    items = _top_level(doc, {"morphism", "program", "define"})
    items += [Item(k, "keyword", "combinator", v, True, 4) for k, v in COMBINATORS.items()]
    return items


def _option_context(line_prefix: str, word: str) -> Optional[tuple[int, str, Optional[str]]]:
    """(column of `[`, key, value text) when the cursor is in an option block (a `[` after a
    blank, outside any open parenthesis); key is "" in a key position."""
    stack = []
    for i, ch in enumerate(line_prefix):
        if ch in "([{":
            stack.append(i)
        elif ch in ")]}" and stack:
            stack.pop()
    for i in stack:
        ch = line_prefix[i]
        if ch != "[":
            if ch == "(":
                return None  # inside arguments: `theta[` is an index
            continue
        if i == 0 or not line_prefix[i - 1].isspace():
            continue  # `Mor[`, `Seq[`, `theta[`: not an option block
        inside = line_prefix[i + 1: len(line_prefix) - len(word)]
        depth, seg_start = 0, 0
        for j, ch in enumerate(inside):
            if ch in "([":
                depth += 1
            elif ch in ")]":
                depth -= 1
            elif ch == "," and depth == 0:
                seg_start = j + 1
        segment = inside[seg_start:]
        if "=" not in segment:
            return i, "", None
        key, _, value = segment.partition("=")
        return i, key.strip(), value
    return None


def _option_items(doc, offset: int, first: str, key: str, value: str, program, bodies) -> list[Item]:
    """Keys of the option block of a `first` line, or the values of `key`."""
    if key == "":
        if first in STEP_OPTION_KEYS:
            keys = STEP_OPTION_KEYS[first]
            if first == "observe" and any(re.search(r"\bover\s*=", head) for _, head in bodies):
                keys = keys + ("via",)  # only inside a grouped `marginalize` (spec part 2 §5.10)
            return [Item(k, "option", "step option", f"{k}=", False, 1) for k in keys]
        if first == "program":
            return [Item(k, "option", "program option", f"{k}=", False, 1) for k in PROGRAM_OPTION_KEYS]
        if first == "composition":
            return [Item(k, "option", "algebra option", f"{k}=", False, 1) for k in COMPOSITION_OPTION_KEYS]
        return [Item(k, "option", "option", f"{k}=", False, 1) for k in OPTION_KEYS]
    if key == "role":
        return [Item(r, "keyword", "role", sort_group=1) for r in _vocabulary.ROLES]
    if key == "reduction":
        return [Item(r, "keyword", "reduction over the atoms", sort_group=1) for r in REDUCTIONS]
    if key == "effects":
        listed = set(re.findall(r"\w+", value))
        return [Item(e, "keyword", "effect", sort_group=1) for e in EFFECTS if e not in listed]
    if key == "level":
        return [Item(lv, "keyword", "algebra level", sort_group=1) for lv in ALGEBRA_LEVELS]
    if key in ("over", "iid_over") and first != "program":
        items = _object_parameters(doc, program, finite_only=True) + _objects(doc, finite_only=True)
        if not value.strip():
            items.append(Item("product", "keyword", "product of plates", "product(${1:A}, ${2:B})", True, 4))
        return items
    if key == "over":
        return _top_level(doc, {"program"})
    if key == "via" and program is not None:
        return _data_names(doc, program, offset)
    return []


def _data_names(doc, program, offset: int) -> list[Item]:
    """The data names of `program` (spec part 2 §5.3) with their inferred types."""
    info, _ = program_info(doc, program[0], offset)
    out = []
    for var in (info.variables if info is not None else {}).values():
        if var.kind == "data":
            typ = var.type
            out.append(Item(var.name, "variable", f"data input : {value_note(typ) if typ is not None else '?'}", sort_group=1))
    return out


MAX_ITEMS = 200


def prefix_filter(items: list[Item], prefix: str, limit: int = MAX_ITEMS) -> tuple[list[Item], bool]:
    """Items whose label contains the typed prefix as a case-insensitive subsequence, best
    groups first, at most `limit` (and whether the list was cut, so the client asks again)."""
    if prefix:
        ok = subsequence_matcher(prefix)
        items = [i for i in items if ok(i.label)]
    # the best `limit` (a file of megabytes has tens of thousands of names: no full sort)
    best = heapq.nsmallest(limit + 1, items, key=lambda i: (i.sort_group, not i.label.startswith(prefix), i.label))
    return best[:limit], len(best) > limit


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
    bodies = open_bodies(text, offset, program[1]) if in_program else []

    if not before:  # start of a statement: current-form keywords only (no deprecated ones)
        if in_program:
            steps = BODY_STEPS if bodies else tuple(STEP_SNIPPETS)
            return [Item(k, "snippet", "step", STEP_SNIPPETS[k], True, 0) for k in steps]
        return [Item(k, "snippet", "declaration", v, True, 0) for k, v in TOP_LEVEL_SNIPPETS.items()]

    # option block after a signature or target: `[key=…`
    options = _option_context(line_prefix, word)
    if options is not None and first in DECL_KEYWORDS | {"sample", "observe", "marginalize", "composition"}:
        _, key, value = options
        return _option_items(doc, offset, first, key, value or "", program, bodies)
    if first == "composition" and re.fullmatch(r"\s*composition", before):
        return [Item(q, "keyword", "algebra", sort_group=1) for q in _vocabulary.QUANTALES]

    if before.endswith("<-") and first == "marginalize":
        return _marginalize_targets(doc, program if in_program else None)
    if before.endswith("<-") or (before.endswith("~") and first in ("draw", "observe")):
        return _targets(doc, program if in_program else None)
    if before.endswith("~"):
        declared = re.match(r"\s*\w+\s+(\w+)", line_prefix)  # not the morphism being declared
        own = declared.group(1) if declared and first in DECL_KEYWORDS else None
        return _families(inline=False) + [i for i in _top_level(doc, {"morphism", "define"}) if i.label != own]

    # typed parameters of a program header: `program p(G : `
    if first == "program" and before.endswith(":") and _unclosed(before, "(", ")") >= 0:
        return [Item(k, "keyword", "parameter kind", v if v != k else None, v != k, 1) for k, v in PARAM_KINDS.items()]
    # the binders of a comprehension range over finite objects: `factor s : `
    if in_program and re.search(r"\bfactor\s+(?:\w+\s*:\s*\w+\s*,\s*)*\w+\s*:$", before):
        return _object_parameters(doc, program, finite_only=True) + _objects(doc, finite_only=True)

    # type positions: declaration headers before `~`/`=`/`[`, and step annotations
    if first in DECL_KEYWORDS - {"define", "export", "output", "quantale", "category", "rule"} or first in ("sample", "observe", "marginalize"):
        header = before
        if "~" not in header and "<-" not in header and re.search(r"(:|->|\*|\+|\(|=)$", header):
            if first in ("sample", "observe", "marginalize") and not header.endswith(":"):
                pass
            elif first == "program" and header.endswith("("):
                return []
            else:
                return _types(doc, program if in_program else None)

    if in_program:
        # arguments, let right-hand sides and arithmetic: variables first, then callables
        items = _program_variables(doc, program, offset)
        items += _builtins()
        items += _top_level(doc, {"morphism"})
        if re.fullmatch(r"\s*let\s+\w+\s*=", before):  # a comprehension starts a let's right-hand side
            items.append(Item("factor", "snippet", "comprehension", FACTOR_SNIPPET, True, 4))
        return items
    if first in ("define", "let", "export", "output") or re.search(r"(>>|<<|>=>|@|\(|,|=)$", before):
        return _expressions(doc)
    return _top_level(doc, {"object", "morphism", "program", "define"})
