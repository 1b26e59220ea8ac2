"""Adversarial tests for the analysis engine's incremental runs (`qvr.semantics.engine.Engine`).

An incremental run must return exactly ``analyze(text).diagnostics`` (the same engine on a
fresh document: same diagnostics, same order) for every version of a document while re-using
per-declaration results between versions.
Every test here compares against a fresh `analyze` after each edit; the targeted tests also
check the reuse counters (`checked` / `replayed`) so a checker that simply re-ran everything,
or replayed something it should have re-checked, fails.

Starting texts are real: the examples (classic and current form), concatenations of them, the
catalogue programs of tests/semantics/sem_catalogue_cases.py, small programs for each construct
of spec part 2 (`CURRENT_SNIPPETS`) and the generated module of bench/lsp_latency.py. Besides
the diagnostics, the random chains compare what the language server reads from the checker
instead of a full analysis: the top-level symbols (kind and detail, for completion and hover)
and the name occurrences of its blocks (for semantic tokens).
"""
from __future__ import annotations

import importlib.util
import random
import re
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from qvr.semantics import analyze
from qvr.semantics.engine import Engine
from qvr.stepwise import finish
from qvr.syntax import ast as A
from qvr.syntax import split_declarations

from sem_catalogue_cases import CASES, P

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = [p.read_text() for p in sorted((ROOT / "examples").glob("*.qvr"))]
CURRENT = [p.read_text() for p in sorted((ROOT / "examples" / "current").glob("*.qvr"))]

# One small program per construct of spec part 2 whose results depend on other declarations.
CURRENT_SNIPPETS = [
    # several exports (the first is the primary one; the same expression twice is QVR054)
    "object A : FinSet 2\nobject B : FinSet 3\nmorphism f : A -> B [role=latent]\n"
    "morphism g : B -> B [role=latent]\nexport f\ndefine h = f >> g\nexport h\nexport f\n",
    # the algebra selector and a user-defined algebra (finite-world defines after it are ⊤)
    "composition max_plus [level=algebra]\nobject A : FinSet 2\nobject B : FinSet 3\n"
    "morphism f : A -> B [role=latent]\ndefine g = f >> f\n"
    "composition Trop [level=semiring]\n    plus = min\n    times = add\n"
    "define k = f >> f\nexport g\nexport k\n",
    # opaque blocks whose words name declarations (references, so not "never used")
    "object Cat : FinSet 3\nobject W : Real 1\nmorphism lex : Cat -> Cat\n"
    "deduction Gram : Cat -> Cat [semiring=log_prob]\n    atoms S, NP\n    rule r : NP => S\n"
    "    use lex\n\nprogram prior : Cat -> W\n    sample w <- Gamma(concentration=2.0, rate=1.0)\n"
    "    return w\ndefine parsed = Gram\nexport prior\n",
    # a template (typed parameters) and its instances at call sites
    "object Unit2 : FinSet 4\nobject Group2 : FinSet 6\nobject Val : Real 1\n"
    "morphism squash : Val -> Val\n"
    "program effects(K2 : FinSet, spread : Real, link : Mor[Val, Val]) : K2 -> Val\n"
    "    sample sd <- HalfNormal(scale=spread)\n    sample raw : K2 <- Normal(loc=0.0, scale=1.0)\n"
    "    let dev = sd * raw\n    let v <- link(dev)\n    return v\n"
    "program model : Unit2 -> Val\n    sample a <- effects(Unit2, 1.0, squash)\n"
    "    sample b <- effects(Group2, 0.5, squash)\n    let mu = a[u] + b[g]\n"
    "    observe y : Unit2 <- Normal(loc=mu, scale=1.0)\n    return mu\nexport model\n",
    # a drawn program with data names (they become the caller's named inputs)
    "object School : FinSet 8\nobject Out : Real 1\n"
    "program level : School -> Out\n    sample tau <- HalfNormal(scale=5.0)\n"
    "    observe y : School <- Normal(loc=0.0, scale=sigma)\n    return tau\n"
    "program outer : School -> Out\n    sample t <- level\n    let z = t * weight\n    return z\n"
    "export outer\n",
    # marginalize (and a score step)
    "object Comp : FinSet 3\nobject Obs : FinSet 50\nobject W : Real 3\n"
    "program mix : Obs -> W\n    sample w <- Dirichlet(concentration=2.0) [over=Comp]\n"
    "    sample loc : Comp <- Normal(loc=0.0, scale=5.0)\n"
    "    score pull = -0.5 * sum(loc) * sum(loc)\n"
    "    marginalize c : Obs <- Categorical(probs=w)\n"
    "        observe y : Obs <- Normal(loc=loc[c], scale=1.0)\n    return w\nexport mix\n",
    # comprehensions over enumerated objects
    "object Color : {red, green, blue}\nobject Size : {small, large}\nobject Obs : FinSet 10\n"
    "object Out : Real 1\nprogram table : Obs -> Out\n"
    "    sample c_eff : Color <- Normal(loc=0.0, scale=1.0)\n"
    "    let bias = factor s : Size in { 0 -> -0.5, 1 -> 0.5 }\n"
    "    let cell = factor c : Color, s : Size in c_eff[c] + bias[s]\n"
    "    observe y : Obs <- Normal(loc=cell[color_of, size_of], scale=1.0)\n"
    "    let top = cell[2, 1]\n    return top\nexport table\n",
]
SNIPPETS = sorted({c[1].replace("‸", "") for c in CASES} | {c[2] for c in CASES})


def _bench_module():
    spec = importlib.util.spec_from_file_location("lsp_latency", ROOT / "bench" / "lsp_latency.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def assert_same(checker: Engine, text: str, chunks=None, *, view: bool = False) -> tuple:
    """The checker's diagnostics for `text` equal analyze's; returns them. With `view`, so does
    what the language server reads from the checker instead of a full analysis."""
    got = checker.diagnostics(text, chunks)
    analysis = analyze(text)
    expected = analysis.diagnostics
    assert got == expected, _explain(got, expected)
    # (a statement the checker failed on, `internal`, leaves what it had recorded so far)
    if view and not any(d.code == "internal" for d in got):
        assert server_view(checker) == analysis_view(analysis)
    if checker._last_blocks is not None:  # the blocks kept from the last version: as if cut anew
        units, blocks = checker._last_blocks
        assert block_cuts(blocks) == block_cuts(finish(Engine(checker.block)._blocks_steps(units)))
    return got


def block_cuts(blocks) -> list:
    """Which units (the objects) each block holds, at which indices."""
    return [(b.indices, [id(u) for u in b.units], b.where) for b in blocks]


def server_view(checker: Engine) -> tuple:
    """The top-level symbols (name -> kind, detail) and the name occurrences (offset, kind
    named, is a definition) the engine's last run leaves for the server (`top_level`,
    `layout`)."""
    symbols = {name: (sym.kind, sym.detail) for name, sym in checker.top_level.symbols().items()}
    refs = sorted((placed.origin + start, kind, is_def) for placed in checker.layout.blocks
                  for start, kind, is_def in placed.record.refs)
    return symbols, refs


def analysis_view(analysis) -> tuple:
    symbols = {name: (sym.kind, sym.detail) for name, sym in analysis.top_level.items()}
    refs = sorted((r.span.start, None if r.symbol is None else r.symbol.kind, r.is_definition)
                  for r in analysis.references)
    return symbols, refs


def _explain(got, expected) -> str:
    only_got = [d for d in got if d not in expected]
    only_expected = [d for d in expected if d not in got]
    if not only_got and not only_expected:
        return f"same diagnostics, different order: {[d.code for d in got]} vs {[d.code for d in expected]}"
    return f"only incremental: {only_got}\nonly analyze: {only_expected}"


def codes(diags) -> list:
    return [d.code for d in diags]


# ----------------------------------------------------------------------------------------------
# 1. Random edit chains, one checker per chain
# ----------------------------------------------------------------------------------------------
_DECL = re.compile(r"^[ \t]*(?:object|morphism|define|program|latent|continuous|stochastic|embed"
                   r"|deduction|composition)\s+(\w+)", re.M)

SNIPS = [
    "define ", "where\n        define ", "quantale fuzzy\n", "quantale godel\n", "export ",
    "program ", "return ", "#{", "}#", "#!", "#! doc\n", "[replicate=3]", "role=embed", "[role=embed]",
    "\n", "\n\n", "    ", "        ", " ", "x", "_0", "_2", ">>", "(", ")", ":", "=", "~ Normal",
    "morphism ", "object ", "object Q : Real 2\n", "define d = f\n", "\nexport f\n",
    "    sample y <- f(x)\n", "    let z = x\n", "scan(", "fan(",
]
# and the forms of spec part 2
SNIPS_CURRENT = SNIPS + [
    "export f\n", "export ", "composition real\n", "composition max_plus [level=algebra]\n",
    "composition Trop [level=semiring]\n    plus = min\n", "deduction D : A -> A\n    atoms S\n",
    "    use ", "    score s = 1.0 * w\n", "score ", "marginalize ",
    "    marginalize c : Obs <- Categorical(probs=w)\n        ", "factor ", "factor c : Color in ",
    " : FinSet", "(K2 : FinSet, ", "K2", "Mor[Val, Val]", "{red, green}", "[over=Comp]",
    "[effects=[Sample]]", "    call ", "    sample t <- level\n", "[c]", "[0, 1]", "sum(",
    ".dagger", "x -> x", "map(",
]


def _names(text: str) -> list:
    return sorted(set(_DECL.findall(text))) or ["f"]


def _typo(name: str, choice: int) -> str:
    if len(name) < 2:
        return name + "x"
    return [name + "2", name[:-1], name[1:] + name[0], name[0] + name,
            name[:1] + name[2:]][choice % 5]


@st.composite
def start_texts(draw):
    kind = draw(st.integers(0, 2))
    if kind == 0:
        return draw(st.sampled_from(EXAMPLES))
    if kind == 1:
        picks = draw(st.lists(st.sampled_from(EXAMPLES), min_size=2, max_size=3))
        return "".join(picks)
    return draw(st.sampled_from(SNIPPETS))


def apply_edit(data, text: str, snips=SNIPS) -> str:
    """One random edit, drawn from `data`; biased towards what keys and records depend on."""
    n = len(text)
    names = _names(text)
    lines = text.splitlines(keepends=True)
    kind = data.draw(st.integers(0, 11), label="kind")
    at = data.draw(st.integers(0, max(n, 0)), label="at")
    if kind == 0:  # insert a keyword-ish snippet
        return text[:at] + data.draw(st.sampled_from(snips)) + text[at:]
    if kind == 1:  # insert a declared name, a typo of one, or a use of one
        name = data.draw(st.sampled_from(names))
        form = data.draw(st.integers(0, 3))
        snippet = [name, " " + name, _typo(name, data.draw(st.integers(0, 4))),
                   f"define u_{name} = {name}\n"][form]
        return text[:at] + snippet + text[at:]
    if kind == 2 and n:  # delete a few characters
        return text[:at] + text[at + data.draw(st.integers(1, 12)):]
    if kind == 3:  # rename a declared name: once (a dangling use / typo) or everywhere
        name = data.draw(st.sampled_from(names))
        new = data.draw(st.one_of(st.sampled_from(names), st.builds(_typo, st.just(name), st.integers(0, 4))))
        count = data.draw(st.sampled_from([0, 1]))
        return re.sub(rf"\b{re.escape(name)}\b", new, text, count=count)
    if kind in (4, 5) and lines:  # duplicate a line, or move one (a declaration before its users)
        i = data.draw(st.integers(0, len(lines) - 1))
        line = lines[i] if lines[i].endswith("\n") else lines[i] + "\n"
        if kind == 5:
            del lines[i]
        lines.insert(data.draw(st.integers(0, len(lines))), line)
        return "".join(lines)
    if kind == 6 and lines:  # delete a line (often a declaration others use)
        del lines[data.draw(st.integers(0, len(lines) - 1))]
        return "".join(lines)
    if kind == 7 and lines:  # indentation change
        i = data.draw(st.integers(0, len(lines) - 1))
        lines[i] = ("    " + lines[i]) if data.draw(st.booleans()) else lines[i].lstrip(" ")
        return "".join(lines)
    if kind == 8 and n:  # replace one character
        return text[:at] + data.draw(st.sampled_from("abfx_0 \n=>#(),")) + text[at + 1:]
    if kind == 9:  # duplicate or move a whole declaration chunk
        chunks = split_declarations(text)
        if chunks:
            c = chunks[data.draw(st.integers(0, len(chunks) - 1))]
            body = text[c.start:c.end]
            if not body.endswith("\n"):
                body += "\n"
            rest = text if data.draw(st.booleans()) else text[:c.start] + text[c.end:]
            cut = data.draw(st.sampled_from([0, len(rest)] + [k.start for k in split_declarations(rest)]))
            return rest[:cut] + body + rest[cut:]
    if kind == 10:  # delete a whole declaration chunk
        chunks = split_declarations(text)
        if chunks:
            c = chunks[data.draw(st.integers(0, len(chunks) - 1))]
            return text[:c.start] + text[c.end:]
    if kind == 11:  # undo-like: an edit followed by its inverse is exercised by re-inserting
        return text[:at] + "\n" + text[at:]
    return text


@pytest.mark.slow
@settings(max_examples=80, deadline=None, database=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(start=start_texts(), data=st.data(), block=st.sampled_from([1, 3, 8, 16]))
def test_random_edit_chains_match_analyze(start, data, block):
    # 80 chains x 18-24 steps: >= 1,000 compared edits per run; blocks of several sizes (which
    # units share a record changes what a missed dependency would break)
    _edit_chain(Engine(block=block), start, data, SNIPS, view_first=False)


def _edit_chain(checker: Engine, text: str, data, snips, view_first: bool) -> None:
    """Check `text`, then 18-24 random edits of it (insertions drawn from `snips`), each
    compared with `analyze`, and so is what the language server reads from the checker
    (`assert_same`'s `view`): after every edit, and for `text` itself with `view_first`."""
    assert_same(checker, text, view=view_first)
    for _ in range(data.draw(st.integers(18, 24), label="steps")):
        text = apply_edit(data, text, snips)
        chunks = split_declarations(text) if data.draw(st.booleans(), label="chunks") else None
        assert_same(checker, text, chunks, view=True)


@st.composite
def current_start_texts(draw):
    kind = draw(st.integers(0, 3))
    if kind == 0:
        return draw(st.sampled_from(CURRENT))
    if kind == 1:
        return draw(st.sampled_from(CURRENT_SNIPPETS))
    # several together: more names, more exports, blocks that depend on one another
    pool = CURRENT + CURRENT_SNIPPETS if kind == 2 else CURRENT_SNIPPETS
    return "".join(draw(st.lists(st.sampled_from(pool), min_size=2, max_size=3)))


@pytest.mark.slow
@settings(max_examples=80, deadline=None, database=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(start=current_start_texts(), data=st.data(), block=st.sampled_from([1, 3, 8, 16]))
def test_random_edit_chains_over_current_forms_match_analyze(start, data, block):
    # the same chains over the forms of spec part 2 (their snippets among the insertions)
    _edit_chain(Engine(block=block), start, data, SNIPS_CURRENT, view_first=True)


@st.composite
def commented_texts(draw):
    """A starting text with comment lines (line and doc comments, blank lines) after some of
    its declarations: the lines an edit of the comments goes into."""
    text = draw(st.one_of(start_texts(), current_start_texts()))
    out, at = [], 0
    for chunk in split_declarations(text):
        out.append(text[at:chunk.end])
        at = chunk.end
        if draw(st.booleans()):
            if not out[-1].endswith("\n"):
                out.append("\n")
            out.append(draw(st.sampled_from(["# note\n", "#! doc line\n", "\n", "  # indented\n",
                                             "# a\n# b\n"])))
    out.append(text[at:])
    return "".join(out)


# what typing in a comment inserts: plain text, what makes or breaks a block comment or a doc
# comment, code-like text, characters beyond the BMP, and now and then a new line
COMMENT_TYPING = ["x", " ", "#", "{", "}", "!", "}#", "#{", "é", "😀", "define y = x", "\n", ""]


def _comment_edit(data, text: str) -> str:
    """Type (insert, delete or replace a little) somewhere in a comment line, or in a blank
    line; the text unchanged when it has none."""
    lines = text.splitlines(keepends=True)
    spots = [i for i, line in enumerate(lines) if not line.strip() or line.lstrip().startswith("#")]
    if not spots:
        return text
    i = data.draw(st.sampled_from(spots))
    line = lines[i]
    body = len(line.rstrip("\n"))
    at = data.draw(st.integers(0, body))
    cut = data.draw(st.integers(0, min(2, body - at)))
    lines[i] = line[:at] + data.draw(st.sampled_from(COMMENT_TYPING)) + line[at + cut:]
    return "".join(lines)


@pytest.mark.slow
@settings(max_examples=60, deadline=None, database=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(start=commented_texts(), data=st.data(), block=st.sampled_from([1, 3, 16]))
def test_random_typing_in_comments_matches_analyze(start, data, block):
    # Edits in comments leave every declaration as it was, and the engine then hands on the
    # last version's results moved (`Engine._quiet_steps`) without running the passes: each
    # version, and what the server reads from the engine, compared with a fresh analysis,
    # with edits of code now and then (the passes run again, on what the quiet runs left)
    checker = Engine(block=block)
    text = start
    assert_same(checker, text, view=True)
    for _ in range(data.draw(st.integers(16, 24), label="steps")):
        if data.draw(st.integers(0, 4), label="code edit") == 0:
            text = apply_edit(data, text, SNIPS_CURRENT)
        else:
            text = _comment_edit(data, text)
        assert_same(checker, text, split_declarations(text), view=True)


# ----------------------------------------------------------------------------------------------
# 2. Targeted edits: equality and the intended reuse
# ----------------------------------------------------------------------------------------------
def _models(count: int) -> str:
    model = _bench_module().MODEL
    return "".join(model.format(i=i) for i in range(count)) + "export fan(enc0, enc1)\n"


@pytest.fixture(scope="module")
def big_text():
    text = _models(40)  # 40 models x 8 statements: 320 declarations + the export
    assert len(split_declarations(text)) >= 300
    return text


def test_one_character_in_a_doc_comment_rechecks_one_unit(big_text):
    checker = Engine(block=1)  # one unit per block: exact counts
    assert_same(checker, big_text)
    units = checker.checked
    assert units >= 300 and checker.replayed == 0
    at = big_text.index("Model 20:")
    edited = big_text[:at] + "x" + big_text[at:]
    assert_same(checker, edited)
    # the comment belongs to `object Tok20`'s chunk; Tok20's users re-check only if its key
    # changed, which a comment edit does not change in what they depend on beyond that chunk
    assert checker.checked <= 1 + 2  # Tok20 and at most its users embed20
    assert checker.checked + checker.replayed == units
    assert_same(checker, big_text)  # and back (the undo)
    assert checker.checked <= 3


def test_edit_inside_a_program_body_rechecks_the_program_and_its_users(big_text):
    checker = Engine(block=1)  # one unit per block: exact counts
    assert_same(checker, big_text)
    units = checker.checked
    at = big_text.index("let h_new = f * h", big_text.index("program cell20"))
    edited = big_text[:at] + "let spare = 1.0\n    " + big_text[at:]
    diags = assert_same(checker, edited)
    assert "spare`" in " ".join(d.message for d in diags if d.code == "QVR081")
    assert 1 <= checker.checked <= 2  # cell20 and enc20, its only user
    assert checker.replayed == units - checker.checked


def test_changing_a_morphisms_type_rechecks_its_users():
    base = P("morphism h : R -> R ~ Normal\ndefine d = h >> g\n", "export d\n")
    checker = Engine(block=1)  # one unit per block: exact counts
    assert "QVR040" not in codes(assert_same(checker, base))
    broken = base.replace("morphism h : R -> R", "morphism h : R -> S")
    assert "QVR040" in codes(assert_same(checker, broken))  # S then g : R -> S mismatches
    assert checker.checked >= 2  # h and its user d
    assert "QVR040" not in codes(assert_same(checker, base))
    # an unrelated declaration's type change re-checks only it
    other = base.replace("object U : Real 1", "object U : Real 2")
    assert_same(checker, other)
    assert checker.checked == 1


def test_inserting_at_the_top_shifts_replayed_results():
    # diagnostics with fixes (did you mean) and related locations (use before declaration)
    body = ("define d = later\nmorphism later : R -> R ~ Normal\n"
            "define e = fx\ndefine q = scan(cell, init=ones)\n")
    text = P(body, "export fan(d, e, q)\n")
    checker = Engine(block=1)  # one unit per block: exact counts
    before = assert_same(checker, text)
    assert {"QVR014", "QVR011", "QVR043"} <= set(codes(before))
    assert any(d.fixes for d in before) and any(d.related for d in before)
    units = checker.checked + checker.replayed
    for prefix in ("#! a model\n", "\n\n", "object Extra : Real 2\n", "#{ block\ncomment }#\n"):
        shifted = assert_same(checker, prefix + text)
        assert checker.replayed >= units - 3  # everything but what names a line / the new one
        delta = len(prefix)
        moved = {(d.code, d.span.start - delta) for d in shifted if d.code in ("QVR011", "QVR043")}
        assert moved == {(d.code, d.span.start) for d in before if d.code in ("QVR011", "QVR043")}
        fix_starts = [e.span.start for d in shifted if d.code == "QVR011" for f in d.fixes for e in f.edits]
        assert fix_starts and all(s >= delta for s in fix_starts)
        assert_same(checker, text)


def test_duplicate_declarations_with_identical_text():
    line = "object R : Real 2\n"
    text = P(line)
    checker = Engine()
    assert codes(assert_same(checker, text)).count("QVR015") == 1
    doubled = P(line + line)
    assert codes(assert_same(checker, doubled)).count("QVR015") == 2
    assert_same(checker, P(line + "object R : Real 3\n" + line))
    assert_same(checker, P(line + line + line))
    assert_same(checker, P("object Rx : Real 2\n" + line))
    assert codes(assert_same(checker, text)).count("QVR015") == 1
    # a duplicated where-owned define: identical chunks in different places
    dup = "define m = f\n    where\n        define f2 = f\n"
    assert_same(checker, P(dup + dup, "export m\n"))
    assert_same(checker, P(dup, "export m\n"))


def test_where_owner_and_bindings_edited():
    text = next(t for t in EXAMPLES if "where" in t and "define first" in t)
    checker = Engine()
    assert_same(checker, text)
    edits = [
        text.replace("define first = f >> g", "define first = f >> gg"),  # did you mean in a binding
        text.replace("define model = first >> second", "define model = second >> first"),
        text.replace("        define second = h", "define second = h"),  # binding now top level
        text.replace("define second = h ", "define second = first "),
        text.replace("define model = first >> second", "define model = first >> third"),
        text.replace("    where\n", "").replace("        define", "define"),
        text.replace("define after = model", "define after = first"),  # a binding is local
        text,
    ]
    for version in edits:
        assert version != text or version is edits[-1]
        assert_same(checker, version)


def test_quantale_statement_added_and_removed_before_users():
    users = "latent la : T -> T\nprogram q(t) : T -> T\n    sample y <- la(t)\n    return y\n"
    without = P(users, "export q\n")
    with_q = P("quantale markov\n" + users, "export q\n")
    checker = Engine()
    assert "QVR050" in codes(assert_same(checker, without))
    assert "QVR050" not in codes(assert_same(checker, with_q))
    assert "QVR050" in codes(assert_same(checker, without))
    mixed = P("quantale godel\nlatent la : T -> T\nquantale boolean\nlatent lb : T -> T\n"
              "define d = la >> lb\n", "export d\n")
    assert "QVR049" in codes(assert_same(checker, mixed))
    assert "QVR049" not in codes(assert_same(checker, mixed.replace("quantale boolean\n", "")))
    assert "QVR049" in codes(assert_same(checker, mixed))
    assert_same(checker, mixed.replace("quantale godel\n", "quantale fuzzy\n"))


def test_export_moved_and_removed():
    text = next(t for t in EXAMPLES if t.rstrip().endswith("export gru"))
    checker = Engine()
    assert_same(checker, text)
    top = "export gru\n" + text.replace("export gru\n", "")
    assert_same(checker, top)
    middle_at = text.index("program ")
    middle = text[:middle_at] + "export gru\n" + text[middle_at:].replace("export gru\n", "")
    assert_same(checker, middle)
    assert "QVR055" in codes(assert_same(checker, text.replace("export gru\n", "")))
    assert_same(checker, text + "export gru\n")  # two exports
    assert_same(checker, text)


def test_did_you_mean_follows_a_rename_elsewhere():
    text = P("define d = hidden_mp\n", "export d\n")
    checker = Engine()

    def fix_titles(diags):
        return [f.title for d in diags if d.code == "QVR011" for f in d.fixes]

    assert not any("hidden_map" in t for t in fix_titles(assert_same(checker, text)))
    renamed = text.replace("morphism det : R -> R", "morphism hidden_map : R -> R")
    assert any("hidden_map" in t for t in fix_titles(assert_same(checker, renamed)))
    assert not any("hidden_map" in t for t in fix_titles(assert_same(checker, text)))
    # the candidate declared after the use, then removed again
    later = text.replace("export d\n", "morphism hidden_map : R -> R\nexport d\n")
    assert_same(checker, later)
    assert_same(checker, text)


def test_replicated_groups():
    base = ("object L : Real 4\nobject H : Real 2\n"
            "morphism head : L -> H [replicate=3, scale=0.1] ~ Normal\n"
            "define all_heads = fan(head)\ndefine one = head_2\nexport fan(all_heads, one)\n")
    checker = Engine()
    assert "QVR011" not in codes(assert_same(checker, base))
    fewer = base.replace("replicate=3", "replicate=2")
    assert "QVR011" in codes(assert_same(checker, fewer))  # head_2 is gone
    assert "QVR011" not in codes(assert_same(checker, base))
    assert_same(checker, base.replace("[replicate=3, scale=0.1] ", ""))
    assert_same(checker, base.replace("define one = head_2\n", "morphism head_1 : L -> H\ndefine one = head_2\n"))
    assert_same(checker, base.replace("head_2", "head_0"))
    assert_same(checker, base)


# ----------------------------------------------------------------------------------------------
# 3. The benchmark's 1,000-line module with alternating insert/delete keystrokes
# ----------------------------------------------------------------------------------------------
@pytest.mark.slow
def test_bench_module_alternating_keystrokes():
    text = _bench_module().generate(1000)
    checker = Engine(block=1)  # one unit per block: exact counts
    assert_same(checker, text)
    total = checker.checked
    rng = random.Random(7)
    current = text
    for step in range(40):
        if step % 2 == 0:
            at = rng.randrange(len(text))
            current = text[:at] + rng.choice("x_ \n(=#") + text[at:]
        else:
            current = text
        assert_same(checker, current, split_declarations(current) if step % 4 < 2 else None)
        assert checker.checked + checker.replayed >= total - 2
        if step % 2 == 1:
            assert checker.checked <= 2  # the undo replays the records of the version before


# ----------------------------------------------------------------------------------------------
# Mismatches found by the random chains, minimised
# ----------------------------------------------------------------------------------------------
def test_use_before_declaration_sees_no_stale_define_type():
    # A declaration fast path that re-uses a define's Symbol must reset its type: `tagger`
    # (checked before `lstm`) must not see the type `lstm` had in the previous version (that
    # would be a QVR061 analyze does not give).
    define = "define lstm = scan(cell)\n"
    v1 = "object C : FinSet 4\nobject H : Real 2\nprogram cell(x, h) : C * H -> H\n    return h\n" + define
    v2 = "object T : FinSet 3\nprogram tagger(t) : T -> T\n    sample h <- lstm(t)\n    return t\n" + define
    checker = Engine()
    assert_same(checker, v1)
    assert "QVR061" not in codes(assert_same(checker, v2))


@pytest.mark.parametrize("edit", ["remove", "add", "break"])
def test_schema_parser_rechecked_when_categories_change(edit):
    with_category = ("object T : FinSet 4\ncategory C\n"
                     "define gr = parser(rules=[evaluation], terminal=T)\nexport gr\n")
    without = with_category.replace("category C\n", "")
    first, second = {
        "remove": (with_category, without),  # QVR053 "need categories" must appear
        "add": (without, with_category),  # QVR053 (and `C` "never used") must go
        "break": (with_category, with_category.replace("category C\n", "category C D\n")),
    }[edit]
    # A schema `parser(...)` reads whether ANY `category` exists in the module: it must key on
    # all names (one unit per block, or the small text would be one block re-checked anyway).
    checker = Engine(block=1)
    assert_same(checker, first)
    assert_same(checker, second)


# ----------------------------------------------------------------------------------------------
# Current forms (spec part 2): what a declaration's result depends on beyond the names it uses
# ----------------------------------------------------------------------------------------------
_FINITE = ("object A : FinSet 2\nobject B : FinSet 3\nmorphism f : A -> B [role=latent]\n"
           "morphism g : B -> B [role=latent]\n")


def test_an_export_repeated_after_a_replayed_one_is_reported():
    # `export f` twice is QVR054 at the second: the first may be replayed (its record must
    # give back the expression it exported) and the second's result depends on it
    once = _FINITE + "export f\ndefine h = f >> g\nexport h\n"
    twice = once + "export f\n"
    checker = Engine(block=1)  # one unit per block: the first export is replayed
    assert "QVR054" not in codes(assert_same(checker, once))
    assert codes(assert_same(checker, twice)).count("QVR054") == 1
    assert checker.replayed >= 6
    # and the first export renamed: the second (unchanged, with the same neighbours) is no
    # longer a repeat
    assert "QVR054" not in codes(assert_same(checker, twice.replace("export f\ndefine", "export g\ndefine")))
    assert codes(assert_same(checker, twice)).count("QVR054") == 1
    assert "QVR054" not in codes(assert_same(checker, twice.replace("export h\n", "")[:-len("export f\n")]))


def test_a_composition_block_moved_past_a_define():
    # A define after a `composition` block (a user-defined algebra) with a finite world is
    # unchecked (its QVR040 dropped), though it does not mention the block; moving the block
    # changes that for the define and for the define using it.
    block = "composition Trop [level=semiring]\n    plus = min\n"
    finite = _FINITE + "morphism h : B -> A\n"
    before = block + finite + "define d = f >> f\ndefine k = d\nexport k\n"
    after = finite + "define d = f >> f\n" + block + "define k = d\nexport k\n"
    for size in (1, 3):
        checker = Engine(block=size)
        assert "QVR040" not in codes(assert_same(checker, before))
        assert "QVR040" in codes(assert_same(checker, after))
        assert "QVR040" not in codes(assert_same(checker, before))


def test_the_algebra_selector_changed_above_its_users():
    # `composition NAME` selects the algebra of the latent morphisms after it, as `quantale`
    # does; a second selector before their user hides the change from the user's own context,
    # so the latent's key must carry it
    users = ("object A : FinSet 2\nobject B : FinSet 3\nlatent la : A -> B\n"
             "composition godel\nlatent lb : B -> B\ndefine d = la >> lb\nexport d\n")
    checker = Engine(block=1)
    for selector in ("composition boolean\n", "composition godel\n", "composition bogus\n",
                     "composition boolean\n", ""):
        assert_same(checker, selector + users, view=True)


def test_template_parameters_are_no_writes_of_their_program(monkeypatch):
    # A template's object parameters are visible only while it (or an instance of it) is
    # checked; an entry a check writes and removes again, even through the logged tables,
    # must not be recorded as written by the unit (it used to raise KeyError: 'K2').
    from qvr.semantics import templates
    monkeypatch.setattr(templates, "_put", lambda table, key, value: table.__setitem__(key, value))
    text = CURRENT_SNIPPETS[3]
    assert "program effects(K2 : FinSet" in text
    for size in (1, 8):
        checker = Engine(block=size)
        assert_same(checker, text, view=True)
        edited = text.replace("scale=spread", "scale=spread * 2.0")
        assert_same(checker, edited, view=True)
        assert_same(checker, text.replace("effects(Group2", "effects(Unit2"), view=True)


@pytest.mark.parametrize("path", sorted((ROOT / "examples" / "current").glob("*.qvr")),
                         ids=lambda p: p.stem)
def test_current_examples_and_their_symbols(path):
    # every example of the current form, opened, then with a blank line inserted before each
    # declaration in turn (everything after moves; records are replayed shifted)
    text = path.read_text()
    checker = Engine(block=3)
    assert_same(checker, text, view=True)
    for chunk in split_declarations(text)[::2]:
        assert_same(checker, text[:chunk.start] + "\n" + text[chunk.start:], view=True)
    assert_same(checker, text, view=True)


def test_a_duplicate_writing_an_entry_its_block_neighbour_reads():
    # The first `object Doc` is broken (its chunk runs on into a line of prose), so it writes
    # no entry; the duplicate writes it, and `covers`, checked in the same block, reads it.
    # Removing the duplicate changes `covers` without changing its text or any key it had:
    # `affinity`, in a later block, must not replay its QVR050 (found by the random chains).
    head = ("object Doc : FinSet 5\nd example E10: algebra selector, transpose, enumerated "
            "object, family-less finite kernel, several exports.\nobject Topic : FinSet 3\n")
    rest = ("morphism covers : Doc -> Topic [role=latent]\nmorphism route : Topic -> Doc\n\n"
            "define affinity = likes >> covers.dagger\n")
    with_duplicate = head + "object Doc : FinSet 5\n" + rest
    checker = Engine(block=8)
    assert "QVR050" in codes(assert_same(checker, with_duplicate))
    assert "QVR050" not in codes(assert_same(checker, head + rest))
    assert "QVR050" in codes(assert_same(checker, with_duplicate))


@pytest.mark.parametrize("size", [1, 8, 16])
def test_a_where_binding_left_unused_in_a_later_copy_is_reported(size):
    # The same module twice: checking the first copy's `where` unit marks its bindings used,
    # and those local symbols are freed with the unit. When the second copy's owner stops
    # naming `second`, that copy's `second` is a new symbol, possibly at a freed one's address:
    # it must still get its "never used" hint.
    module = ("object V : Real 2\nmorphism a, b, c : V -> V\n\n"
              "define net = first >> second\n    where\n        define first = a >> b\n"
              "        define second = c\ndefine top = net\n\nexport top\n")
    text = module + "\n" + module
    owner = text.rindex("first >> second") + len("first >> ")
    edited = text[:owner] + "secxond" + text[owner + len("second"):]
    checker = Engine(block=size)
    assert_same(checker, text)
    assert "QVR080" in codes(assert_same(checker, edited))


def test_typing_checks_only_the_statement_typed_in(monkeypatch):
    # The block of the statement typed in is checked again at every keystroke; from the second
    # keystroke on, its other statements are replayed from their own records.
    checked = []
    check = Engine._check
    monkeypatch.setattr(Engine, "_check",
                        lambda self, checker, i, u: checked.append(A.declared_names(u.decl)[0].text) or check(self, checker, i, u))
    module = "".join(f"object T{k} : Real 2\n" for k in range(12)) + "define d = T0 >> T1\n"
    checker = Engine(block=16)
    assert_same(checker, module)
    assert len(checked) == 13  # the first run checks everything
    at = module.index("Real 2\nobject T6") + len("Real 2")
    for n, typed in enumerate(("4", "46", "467"), start=1):
        checked.clear()
        assert_same(checker, module[:at] + typed + module[at:])
        if n == 1:  # the whole block: nothing is recorded per statement yet
            assert "T5" in checked and len(checked) > 1
        else:
            assert checked == ["T5"]


def test_no_local_symbol_is_left_in_the_used_set(monkeypatch):
    # What the whole-module pass reads of `ctx.used` are top-level symbols; a unit's local
    # symbols are freed with the unit, so their ids must be gone from it by then. Every local
    # symbol is kept alive here, so that no id is reused and each can be looked for.
    from qvr.semantics import checker as checker_module
    from qvr.semantics import context as context_module

    made = []
    add_symbol = context_module.Context.add_symbol
    monkeypatch.setattr(context_module.Context, "add_symbol",
                        lambda self, sym: made.append(sym) or add_symbol(self, sym))
    seen = {}
    finish_steps = checker_module.Checker.finish_steps

    def finish_and_look(self, top):
        seen["used"], seen["top"] = set(self.ctx.used), set(map(id, self.ctx.top.values()))
        return (yield from finish_steps(self, top))

    monkeypatch.setattr(checker_module.Checker, "finish_steps", finish_and_look)
    module = ("object V : Real 2\nmorphism a, b : V -> V\n\n"
              "define net = first >> second\n    where\n        define first = a\n"
              "        define second = b\n\nprogram p(x) : V -> V\n    let y = a(x)\n    return y\n"
              "export net\n")
    checker = Engine()
    for text in (module, module.replace("let y = a(x)", "let y = b(x)")):
        made.clear()
        got = checker.diagnostics(text)
        local = {id(sym) for sym in made} - seen["top"]
        assert local and not seen["used"] & local
        assert got == analyze(text).diagnostics


def test_a_tier3_block_named_by_a_reserved_word():
    # A tier-3 block may be named by a reserved word; a broken declaration mentioning that
    # word refers to it once it is declared (its key must look the word up).
    before = "object A : FinSet 2\ndefine d = fan\nexport A\n"
    after = before + "deduction fan : A -> A\n    atoms S\n"
    checker = Engine(block=1)
    for text in (before, after, before, after):
        assert_same(checker, text, view=True)
    assert (31, "opaque", False) in server_view(checker)[1]


def test_a_chunk_pushed_off_the_start_of_its_line_is_parsed_again():
    # Typing a keyword before the first declaration makes a chunk of its own and moves the
    # old first chunk, unchanged, to the middle of a line: it parses differently there (a
    # chunk that starts mid-line is parsed with a blank before it), so it is not kept.
    text = "define A[x]\nobject B : FinSet 3\nexport B\n"
    for typed in ("define ", "object "):
        checker = Engine(block=1)
        assert_same(checker, text)
        assert_same(checker, typed + text)
        assert_same(checker, text)
