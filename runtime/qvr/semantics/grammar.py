"""Checks for the grammar world (spec §4.5 "Grammar parsers"): `rule` declarations (QVR052)
and `parser(...)`/`ccg(...)`/`lambek(...)` expressions (QVR053). The runtime may refuse to run
parsers, but they must check."""
from __future__ import annotations

from typing import Optional

from ..syntax import ast as A
from .context import Context
from .families import PARSER_CONSTRUCTORS, PARSER_DEFAULT_RULES, PARSER_KEYS, SCHEMA_RULES
from .types import MorphType, ObjType, SeqType


def cat_refs(p):
    """Every `CatRef` of a category pattern, left to right.

    An explicit stack, not recursion: `x / y / y / ...` is a left spine as deep as it is long."""
    todo = [p]
    while todo:
        node = todo.pop()
        if isinstance(node, A.CatRef):
            yield node
        elif isinstance(node, (A.CatSlash, A.CatProduct)):
            todo.append(node.right)
            todo.append(node.left)


def check_parser(ctx: Context, e: A.ParserExpr) -> Optional[MorphType]:
    kind = e.keyword.text
    args: dict[str, A.ParserArg] = {}
    ok = True
    for a in e.args:
        if a.key.text not in PARSER_KEYS:
            ctx.error("QVR053", f"{kind}: unknown argument `{a.key.text}`; allowed: "
                      f"{', '.join(PARSER_KEYS)}", a.key.span)
            ok = False
            continue
        if a.key.text in args:
            ctx.error("QVR053", f"{kind}: argument `{a.key.text}` is given twice", a.key.span)
            ok = False
        args[a.key.text] = a

    def names_of(key):
        a = args.get(key)
        if a is None:
            return None
        if isinstance(a.value, A.IdList):
            return list(a.value.names)
        if isinstance(a.value, A.Name):
            return [a.value]
        ctx.error("QVR053", f"{kind}: `{key}` expects a list of names", a.value.span)
        return []

    rules = names_of("rules")
    if rules is None and kind == "parser":
        ctx.error("QVR053", "parser: `rules=[…]` is required", e.keyword.span)
        return None
    schema_mode = morphism_mode = False
    morphism_rules = []
    for r in rules or []:
        if r.text in SCHEMA_RULES:
            schema_mode = True
            continue
        sym = ctx.top.get(r.text)
        if sym is None:
            ctx.undefined(r, "QVR053", f"{kind}: unknown rule `{r.text}`", ("rule", "morphism"))
            ok = False
            continue
        ctx.add_reference(r.span, sym)
        if sym.kind == "rule":
            schema_mode = True
        elif sym.kind == "morphism" and ctx.morphisms.get(r.text) is not None:
            morphism_mode = True
            morphism_rules.append((r, ctx.morphisms[r.text]))
        else:
            ctx.error("QVR053", f"{kind}: `{r.text}` is neither a rule nor a finite kernel", r.span)
            ok = False
    if rules is None:
        schema_mode = True
    if schema_mode and morphism_mode:
        ctx.error("QVR053", f"{kind}: rules mix schema rules and morphism rules",
                  args["rules"].span)
        return None

    for c in names_of("categories") or []:
        sym = ctx.top.get(c.text)
        if sym is None or sym.kind != "category":
            ctx.error("QVR053", f"{kind}: `{c.text}` is not a declared category", c.span)
            ok = False
        else:
            ctx.add_reference(c.span, sym)
    for c in names_of("constructors") or []:
        if c.text not in PARSER_CONSTRUCTORS:
            ctx.error("QVR053", f"{kind}: unknown constructor `{c.text}`; allowed: "
                      f"{', '.join(PARSER_CONSTRUCTORS)}", c.span)
            ok = False
    terminal: Optional[ObjType] = None
    if "terminal" in args:
        v = args["terminal"].value
        if isinstance(v, A.Name):
            sym = ctx.top.get(v.text)
            if sym is None or sym.kind != "object":
                ctx.error("QVR053", f"{kind}: terminal `{v.text}` is not a declared object", v.span)
                ok = False
            else:
                ctx.add_reference(v.span, sym)
                terminal = ctx.objects.get(v.text)
                if terminal is not None and not terminal.is_finite:
                    ctx.error("QVR053", f"{kind}: terminal `{v.text}` must be finite", v.span)
                    ok = False
        else:
            ctx.error("QVR053", f"{kind}: `terminal` expects an object name", v.span)
            ok = False
    if "start" in args:
        v = args["start"].value
        if isinstance(v, A.Name) and not morphism_mode:
            sym = ctx.top.get(v.text)
            if sym is not None and sym.kind == "category":
                ctx.add_reference(v.span, sym)
    if "depth" in args and not isinstance(args["depth"].value, A.Number):
        ctx.error("QVR053", f"{kind}: `depth` expects an integer", args["depth"].value.span)
        ok = False

    if schema_mode:
        ctx.uses_all_names = True  # whether any `category` exists anywhere in the module
        if ctx.categories_declared is None:  # (read once: per use, quadratic in a file)
            ctx.categories_declared = any(s.kind == "category" for s in ctx.top.values())
        has_categories = "categories" in args or ctx.categories_declared
        if not has_categories:
            ctx.error("QVR053", f"{kind}: schema rules need categories (`categories=[…]` or "
                      "`category` statements)", e.keyword.span)
            return None
        if terminal is None:
            if "terminal" not in args:
                ctx.error("QVR053", f"{kind}: schema rules need `terminal=` naming a finite "
                          "object", e.keyword.span)
            return None
        ctx.schema_parser = True
        return MorphType(SeqType(terminal), ObjType.real(1)) if ok else None

    # morphism mode: one binary rule N -> N * N and one lexical rule N -> T
    binary = [m for _, m in morphism_rules if m.type is not None
              and len(m.type.cod.factor_types) == 2 if not isinstance(m.type.cod, SeqType)]
    lexical = [m for _, m in morphism_rules if m not in binary]
    if len(binary) != 1 or len(lexical) != 1:
        ctx.error("QVR053", f"{kind}: morphism rules need exactly one binary rule (`N -> N * N`) "
                  "and one lexical rule (`N -> T`)", args["rules"].span)
        return None
    lex = lexical[0].type
    if lex is None or isinstance(lex.cod, SeqType):
        return None
    return MorphType(SeqType(lex.cod), ObjType.real(1)) if ok else None


def check_rule(ctx: Context, d: A.RuleDecl) -> None:
    if d.name.text in SCHEMA_RULES:
        ctx.error("QVR052", f"rule `{d.name.text}`: it must not be named like a built-in schema",
                  d.name.span)
    if not 1 <= len(d.premises) <= 2:
        ctx.error("QVR052", f"rule `{d.name.text}`: a rule has one or two premises, not "
                  f"{len(d.premises)}", d.name.span)
    if d.arrow.text == "=>":
        ctx.deprecated("QVR108", "=>", "|-", d.arrow.span, [(d.arrow.span, "|-")])
