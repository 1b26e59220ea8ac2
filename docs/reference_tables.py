"""Write the generated tables of docs/reference.md from the code that defines them.

The language reference contains tables the code already knows: the reserved words, the type
constructors, the distribution families (parameters, keyword alternatives, support, the
`scale` option, inline use, the torch class that implements them), the option keys per role
with their defaults, the builtin functions, the combinators with the `scan` options, the
quantales, and the deprecated forms with their rewrites. Each sits between a `<!-- generated: NAME -->` line and the next
`<!-- end generated -->` line; this script rewrites those regions and leaves the prose alone.

    python docs/reference_tables.py           # rewrite the regions in docs/reference.md
    python docs/reference_tables.py --check   # exit 1 (and say which) when a region is stale

Sources: `qvr.syntax.vocabulary` (word lists), `qvr.semantics.families` (family schemas,
options per role and their defaults), `qvr_lsp.features.families` and
`qvr_lsp.features.hover` (the support sentences and builtin/combinator descriptions that hover
shows, so the reference says what the editor says), `qvr.explain` (the deprecated forms
QVR090–QVR109 and their rewrites), and the source text of
`qvr.compile.families.make_distribution`, read with `ast` (the torch class of each family)
so that nothing here imports torch.
"""
from __future__ import annotations

import ast
import re
import sys
from pathlib import Path

from qvr.explain import CATALOGUE
from qvr.semantics import families as semantic_families
from qvr.syntax import vocabulary
from qvr_lsp.features import families as family_docs
from qvr_lsp.features.hover import BUILTIN_HOVERS

REFERENCE = Path(__file__).resolve().parent / "reference.md"

_REGION = re.compile(r"(<!-- generated: (?P<name>[a-z_]+) -->\n)(?P<body>.*?)(<!-- end generated -->)",
                     re.DOTALL)


def _code(text: str) -> str:
    return f"`{text}`"


def _cell(text: str) -> str:
    """Text for a markdown table cell: `|` escaped."""
    return text.replace("|", "\\|")


# ------------------------------------------------------------------------- torch classes ----
def torch_classes() -> dict[str, str]:
    """Family name -> the class `make_distribution` builds, read from the source with `ast`.

    `D.X(...)` is `torch.distributions.X`; a call of a module-level function is followed to the
    class it returns; a class defined in the module is named `qvr.compile.families.X` (a
    subclass of `torch.distributions.Distribution`)."""
    path = Path(vocabulary.__file__).resolve().parents[1] / "compile" / "families.py"
    tree = ast.parse(path.read_text(encoding="utf-8"))
    classes = {n.name for n in tree.body if isinstance(n, ast.ClassDef)}
    functions = {n.name: n for n in tree.body if isinstance(n, ast.FunctionDef)}

    def returned_class(call: ast.Call) -> str:
        func = call.func
        if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name) and func.value.id == "D":
            return f"torch.distributions.{func.attr}"
        if isinstance(func, ast.Name) and func.id in classes:
            return f"qvr.compile.families.{func.id}"
        if isinstance(func, ast.Name) and func.id in functions:
            for node in ast.walk(functions[func.id]):
                if isinstance(node, ast.Return) and isinstance(node.value, ast.Call):
                    return returned_class(node.value)
        raise ValueError(f"cannot tell which class `{ast.unparse(call)}` builds")

    found: dict[str, str] = {}
    for node in ast.walk(functions["make_distribution"]):
        if not isinstance(node, ast.If):
            continue
        test = node.test
        if not (isinstance(test, ast.Compare) and isinstance(test.comparators[0], ast.Constant)):
            continue
        name = test.comparators[0].value
        kinds = []
        for inner in ast.walk(ast.Module(body=node.body, type_ignores=[])):
            if isinstance(inner, ast.Return) and isinstance(inner.value, ast.Call):
                kinds.append(returned_class(inner.value))
        found[name] = kinds[0]
    runnable = {n for n, f in semantic_families.FAMILIES.items() if f.tier == 1}
    missing = runnable - set(found)
    if missing:
        raise ValueError(f"make_distribution has no branch for {sorted(missing)}")
    return found


# ------------------------------------------------------------------------------ regions ----
def reserved() -> str:
    words = vocabulary.RESERVED
    lines = [f"The {len(words)} reserved words, never usable as names (QVR004):", "", "```text"]
    row: list[str] = []
    for word in words:
        if len(" ".join(row + [word])) > 80:
            lines.append(" ".join(row))
            row = []
        row.append(word)
    lines += [" ".join(row), "```", ""]
    lines.append("Of these, " + ", ".join(_code(w) for w in vocabulary.ROLE_WORDS)
                 + " are also accepted as values after `role=`.")
    return "\n".join(lines) + "\n"


def constructors() -> str:
    lines = ["| constructor | status |", "|---|---|"]
    for name in vocabulary.TYPE_CONSTRUCTORS:
        status = ("deprecated (QVR092)" if name in vocabulary.DEPRECATED_TYPE_CONSTRUCTORS
                  else "current")
        lines.append(f"| {_code(name)} | {status} |")
    lines += ["", "Keyword arguments of a constructor (in braces): "
              + ", ".join(_code(k) for k in vocabulary.CONSTRUCTOR_KEYS) + "."]
    return "\n".join(lines) + "\n"


def families() -> str:
    classes = torch_classes()
    lines = [
        "| family | parameters, in positional order | other keyword names | support → value type "
        "| `scale` option | inline in a step | torch class |",
        "|---|---|---|---|---|---|---|",
    ]
    for name, schema in semantic_families.FAMILIES.items():
        doc = family_docs.family(name)
        params = ", ".join(_code(p) for p in schema.params)
        if schema.one_of:
            params += " (exactly one of " + " or ".join(_code(p) for p in schema.one_of) + ")"
        alternatives = ", ".join(
            f"{_code(alt)} = {_code(target)}" for alt, target in schema.aliases.items())
        alternatives = alternatives or "—"
        support = doc.support.replace(" (kernel and fixed only)", "")
        lines.append("| " + " | ".join([
            _code(name), params, alternatives, _cell(support),
            "yes" if schema.has_scale else "—",
            "yes" if schema.inline else "no (kernels and fixed only)",
            _code(classes[name]) if name in classes else "none: not runnable (tier 2)",
        ]) + " |")
    return "\n".join(lines) + "\n"


def options() -> str:
    defaults = semantic_families.OPTION_DEFAULTS
    lines = ["| role | option keys it accepts (default) |", "|---|---|"]
    for role in vocabulary.ROLES:
        keys = semantic_families.OPTIONS_BY_ROLE[role]
        shown = [f"{_code(k)} ({defaults[k]})" if k in defaults else _code(k) for k in keys]
        lines.append(f"| {_code(role)} | {', '.join(shown) if shown else 'none'} |")
    lines += ["", "| key | value |", "|---|---|"]
    for key, value in vocabulary.OPTION_KEYS.items():
        lines.append(f"| {_code(key)} | {_cell(value)} |")
    return "\n".join(lines) + "\n"


def builtins() -> str:
    lines = ["| function | signature | what it computes |", "|---|---|---|"]
    for name in vocabulary.BUILTINS:
        signature, sentence = BUILTIN_HOVERS[name]
        signature = signature.removeprefix("builtin ")
        lines.append(f"| {_code(name)} | {_code(_cell(signature))} | {_cell(sentence)} |")
    return "\n".join(lines) + "\n"


def combinators() -> str:
    lines = ["| combinator | form | what it does |", "|---|---|---|",
             f"| `>>` | {_code('f >> g')} | runs `f`, then `g` on its output (also written "
             "`g << f`) |",
             f"| `@` | {_code('f @ g')} | runs `f` and `g` side by side on the two halves of a "
             "product input |"]
    for name in vocabulary.EXPRESSION_KEYWORDS:
        if name not in BUILTIN_HOVERS:
            continue
        signature, sentence = BUILTIN_HOVERS[name]
        if name == "marginalize":  # hover writes it as a call; in source it is a postfix
            signature = signature.replace("marginalize(f, ", "f.marginalize(")
        lines.append(f"| {_code(name)} | {_code(_cell(signature))} | {_cell(sentence)} |")
    lines += ["", "Options of `scan` (the first value of each is the default):", "",
              "| option | values |", "|---|---|"]
    for key, values in vocabulary.SCAN_OPTIONS.items():
        lines.append(f"| {_code(key)} | " + ", ".join(_code(v) for v in values) + " |")
    return "\n".join(lines) + "\n"


def quantales() -> str:
    default = semantic_families.DEFAULT_QUANTALE
    names = [f"{_code(q)} (default)" if q == default else _code(q) for q in vocabulary.QUANTALES]
    return "Quantale names (matched without regard to case): " + ", ".join(names) + ".\n"


def deprecations() -> str:
    lines = ["| code | deprecated form | current form |", "|---|---|---|"]
    for code, entry in CATALOGUE.items():
        if entry.old_form is None:
            continue
        link = f"[{code}](diagnostics.md#{code.lower()})"
        lines.append(f"| {link} | {_code(_cell(entry.old_form))} | {_code(_cell(entry.rewrite))} |")
    return "\n".join(lines) + "\n"


GENERATORS = {
    "reserved": reserved,
    "constructors": constructors,
    "families": families,
    "options": options,
    "builtins": builtins,
    "combinators": combinators,
    "quantales": quantales,
    "deprecations": deprecations,
}


def render(text: str) -> str:
    """`text` with every generated region rewritten. Unknown region names raise ValueError."""
    def replace(match: re.Match) -> str:
        name = match.group("name")
        if name not in GENERATORS:
            raise ValueError(f"unknown generated region `{name}`")
        return match.group(1) + GENERATORS[name]() + match.group(4)
    return _REGION.sub(replace, text)


def region_names(text: str) -> list[str]:
    return [m.group("name") for m in _REGION.finditer(text)]


def main(argv: list[str]) -> int:
    check = "--check" in argv
    text = REFERENCE.read_text(encoding="utf-8")
    new = render(text)
    if check:
        if new != text:
            stale = [n for n, (a, b) in zip(region_names(text),
                                            zip(_REGION.finditer(text), _REGION.finditer(new)))
                     if a.group(0) != b.group(0)]
            print(f"{REFERENCE}: stale generated regions: {', '.join(stale)}; "
                  f"run `python docs/reference_tables.py`", file=sys.stderr)
            return 1
        return 0
    if new != text:
        REFERENCE.write_text(new, encoding="utf-8")
        print(f"wrote {REFERENCE}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
