"""Editor queries (grammar/queries/*.scm): they compile against the language with
py-tree-sitter and with Neovim 0.7's tree-sitter, use only predicates both understand, and
capture what the spec recommends (§3.5)."""
from __future__ import annotations

import re
import shutil
import subprocess

import pytest
import tree_sitter
import tree_sitter_qvr

from conftest import GRAMMAR_DIR, LANGUAGE, parse

# Predicates/directives Neovim 0.7.2 and py-tree-sitter 0.26 both implement.
ALLOWED_PREDICATES = {"eq?", "not-eq?", "match?", "not-match?", "any-of?", "set!"}

SAMPLE = """\
#! The cell.
object Token : FinSet 256  # tokens
morphism cell : Token * Hidden -> Hidden [role=kernel, scale=0.1] ~ Normal
program p(x, h) : Token * Hidden -> Hidden
    sample z <- Normal(loc=x, scale=0.5)
    let y = sigmoid(z) * 2
    return y
define m = scan(p, states=all) >> identity(Hidden)
"""


def query(name: str) -> tree_sitter.Query:
    return tree_sitter.Query(LANGUAGE, tree_sitter_qvr.query_text(name))


@pytest.mark.parametrize("name", tree_sitter_qvr.QUERY_NAMES)
def test_query_compiles_with_py_tree_sitter(name):
    assert query(name).pattern_count > 0


@pytest.mark.parametrize("name", tree_sitter_qvr.QUERY_NAMES)
def test_query_uses_only_portable_predicates(name):
    text = tree_sitter_qvr.query_text(name)
    used = set(re.findall(r"\(#([a-z-]+[?!])", text))
    assert used <= ALLOWED_PREDICATES, used - ALLOWED_PREDICATES


def test_py_tree_sitter_ignores_neovim_only_predicates():
    """`#lua-match?` is fine in Neovim; py-tree-sitter accepts it as an unknown (ignored)
    predicate, so a query using it would still compile (ours don't use it)."""
    q = tree_sitter.Query(LANGUAGE, '((identifier) @x (#lua-match? @x "^[A-Z]"))')
    captures = tree_sitter.QueryCursor(q).captures(parse("object a, B : 3").root_node)
    assert len(captures["x"]) == 2  # not filtered: the predicate is ignored


def highlight_map(text: str) -> dict[str, set[str]]:
    """text of each captured node -> capture names (all patterns that match)."""
    captures = tree_sitter.QueryCursor(query("highlights")).captures(parse(text).root_node)
    result: dict[str, set[str]] = {}
    for capture, nodes in captures.items():
        for node in nodes:
            result.setdefault(node.text.decode(), set()).add(capture)
    return result


def test_highlight_captures_follow_the_spec():
    hl = highlight_map(SAMPLE)
    for keyword in ("object", "morphism", "program", "sample", "let", "define", "scan", "identity"):
        assert "keyword" in hl[keyword], keyword
    assert "keyword.return" in hl["return"]
    assert "type" in hl["Hidden"] and "type" in hl["FinSet"]
    assert "type.builtin" in hl["Normal"]
    assert "function.builtin" in hl["sigmoid"]
    assert "property" in hl["role"] and "property" in hl["scale"] and "property" in hl["states"]
    assert "number" in hl["256"] and "number" in hl["0.1"]
    assert "comment.documentation" in hl["#! The cell."]
    assert "comment" in hl["# tokens"]
    assert "variable.parameter" in hl["h"]
    assert "function" in hl["cell"] and "function" in hl["p"]
    assert {"operator"} <= hl[">>"] and "operator" in hl["~"]
    assert "punctuation.bracket" in hl["("] and "punctuation.delimiter" in hl[","]


def test_locals_scopes_definitions_and_references():
    captures = tree_sitter.QueryCursor(query("locals")).captures(parse(SAMPLE).root_node)
    texts = {name: [n.text.decode() for n in nodes] for name, nodes in captures.items()}
    assert "program_decl" in [n.type for n in captures["local.scope"]]
    assert texts["local.definition.parameter"] == ["x", "h"]
    assert set(texts["local.definition.var"]) == {"z", "y"}
    assert {"Token", "Hidden", "z", "x", "y", "p"} <= set(texts["local.reference"])
    assert {"cell", "p", "m"} <= set(texts["local.definition.function"])


def test_textobjects_and_folds():
    root = parse(SAMPLE).root_node
    captures = tree_sitter.QueryCursor(query("textobjects")).captures(root)
    assert [n.type for n in captures["function.outer"]] == ["program_decl"]
    assert {b"x", b"h", b"loc=x", b"z"} <= {n.text for n in captures["parameter.inner"]}
    folds = tree_sitter.QueryCursor(query("folds")).captures(root)["fold"]
    assert "program_decl" in [n.type for n in folds]


def _compile_parser_for_neovim(tmp_path):
    cc = shutil.which("cc") or shutil.which("gcc")
    if cc is None:
        pytest.skip("no C compiler")
    library = tmp_path / "qvr.so"
    src = GRAMMAR_DIR / "src"
    subprocess.run(
        [cc, "-shared", "-fPIC", "-O0", f"-I{src}", str(src / "parser.c"), str(src / "scanner.c"),
         "-o", str(library)],
        check=True,
    )
    return library


@pytest.mark.skipif(shutil.which("nvim") is None, reason="Neovim not installed")
def test_neovim_accepts_the_queries_and_highlights(tmp_path):
    """Load the parser into headless Neovim (0.7 API: require_language, parse_query) and
    check that every query parses and highlights.scm captures keywords and families."""
    library = _compile_parser_for_neovim(tmp_path)
    sample = tmp_path / "sample.qvr"
    sample.write_text(SAMPLE + CURRENT)
    script = tmp_path / "check.lua"
    script.write_text(f"""
local ts = vim.treesitter
ts.require_language("qvr", "{library}")
local failures = {{}}
for _, name in ipairs({{"highlights", "locals", "folds", "indents", "textobjects"}}) do
  local f = io.open("{GRAMMAR_DIR / 'queries'}/" .. name .. ".scm")
  local ok, err = pcall(ts.parse_query, "qvr", f:read("*a"))
  f:close()
  if not ok then table.insert(failures, name .. ": " .. tostring(err)) end
end
local lines = vim.fn.readfile("{sample}")
local buf = vim.api.nvim_create_buf(false, true)
vim.api.nvim_buf_set_lines(buf, 0, -1, false, lines)
local root = ts.get_parser(buf, "qvr"):parse()[1]:root()
local f = io.open("{GRAMMAR_DIR / 'queries'}/highlights.scm")
local q = ts.parse_query("qvr", f:read("*a"))
f:close()
local seen = {{}}
for id, node in q:iter_captures(root, buf, 0, -1) do
  seen[q.captures[id] .. "=" .. ts.get_node_text(node, buf)] = true
end
for _, want in ipairs({{"keyword=object", "type.builtin=Normal", "function.builtin=sigmoid",
                        "property=scale", "comment.documentation=#! The cell.",
                        "keyword=deduction", "keyword=score", "keyword=composition",
                        "string=\\"word\\"", "attribute=#[learnable]"}}) do
  if not seen[want] then table.insert(failures, "missing capture " .. want) end
end
io.stdout:write(#failures == 0 and "OK\\n" or table.concat(failures, "\\n") .. "\\n")
""")
    result = subprocess.run(
        ["nvim", "--headless", "-u", "NONE", "-c", f"luafile {script}", "-c", "qa!"],
        capture_output=True, text=True, timeout=60,
    )
    output = (result.stdout + result.stderr).strip()
    assert output.endswith("OK"), output


CURRENT = """\
composition log_prob [level=algebra]
program p(K : FinSet, f : Mor[A, B]) : K -> K
    marginalize c : K <- Categorical(probs=w) [over=G]
        score pull = -0.5 * c
    let t = factor v : K in exp(v)
    let g = x -> x
    return t
deduction D : T -> T
    rule r : "word" |- Normal #[learnable]
"""


def test_highlight_captures_of_the_current_forms():
    """Spec part 2 §3.3: soft keywords, `factor`, `marginalize` and block heads are keywords;
    strings in blocks are strings; pragmas are attributes; families inside blocks too."""
    hl = highlight_map(CURRENT)
    for keyword in ("composition", "score", "in", "factor", "marginalize", "deduction"):
        assert "keyword" in hl[keyword], keyword
    assert "string" in hl['"word"']
    assert "attribute" in hl["#[learnable]"]
    assert "type.builtin" in hl["Normal"] and "type.builtin" in hl["Categorical"]
    assert "function.builtin" in hl["exp"]
    assert {"K", "f", "x", "v"} <= {t for t, caps in hl.items() if "variable.parameter" in caps}
    assert "function" in hl["D"]
    wrong = highlight_map("compose real\nprogram p : A -> A\n    scores s = 1.0\n    return s\n")
    assert "keyword" not in wrong["compose"] and "keyword" not in wrong["scores"]


def test_locals_of_the_current_forms():
    captures = tree_sitter.QueryCursor(query("locals")).captures(parse(CURRENT).root_node)
    texts = {name: [n.text.decode() for n in nodes] for name, nodes in captures.items()}
    assert sorted(texts["local.definition.parameter"]) == ["K", "f", "x"]
    assert {"c", "pull", "t", "v", "g"} <= set(texts["local.definition.var"])
    assert {"factor_expr", "lambda"} <= {n.type for n in captures["local.scope"]}
    assert "D" in texts["local.definition.function"]


def test_folds_of_the_current_forms():
    """A block folds whole; a `marginalize` step folds with its body (the deeper steps)."""
    folds = tree_sitter.QueryCursor(query("folds")).captures(parse(CURRENT).root_node)["fold"]
    lines = {n.type: (n.start_point[0], n.end_point[0]) for n in folds}
    assert lines["opaque_decl"] == (7, 8)
    assert lines["marginalize_step"] == (2, 3)
