"""Parse (+ check) throughput on a generated 10,000-line module of recurrent models.

The module mixes the three generations of QVR syntax (classic LSTM/GRU cells, 0.11 RNN
language models, current-form LSTMs), every model with its own names so that no chunk is a
repeat of another (the per-chunk memo would otherwise make parsing look free).

Run: ``python bench/parse_check.py [--lines N] [--repeat R] [--no-hostile]``. Prints lines/s (CPU time,
best of R) for parsing alone (cold memo), re-parsing after a one-line edit (warm memo),
checking a parsed module alone and parse + `qvr.semantics.analyze` (when available; with the
C lexer, also with the lexer in Python, alternating), with the Python version and a same-run
reference (a regex tokenisation of the text): on a shared,
loaded machine compare the "x reference" ratios, not the absolute figures.
Target: >= 50,000 lines/s for parse + check.

Then the hostile shapes (``--no-hostile`` skips them): a 16,000-operator `@` chain, the same
length of `>>` and of arithmetic in a program `let`, a 100,000-factor product type, a broken
first line after 100,000 blanks, and 4,000
parts of each of the tests' shapes of many misspelt names (`NAME_SHAPES`), each
checked with parse + `analyze` (cold memo, CPU time, best of R) and printed in seconds and
"x reference" (the same regex tokenisation of that text). Their cost must stay linear in
their length; target <= 2 s each.
"""
from __future__ import annotations

import argparse
import platform
import re
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "runtime"))

import qvr.syntax as syntax  # noqa: E402

CLASSIC = """object Token{i} : 256
type Embedded{i} = Euclidean 16
type State{i} = Euclidean 32
type Hidden{i} = Euclidean 16
embed tok_embed{i} : Token{i} -> Embedded{i}
continuous gate_z{i} : Embedded{i} * State{i} -> Hidden{i} ~ LogitNormal
continuous cand{i} : Embedded{i} * State{i} -> Hidden{i} ~ Normal [scale=0.1]
program cell{i}(x_t, s_prev) : Embedded{i} * State{i} -> State{i}
    draw z ~ gate_z{i}(x_t, s_prev)
    draw g ~ cand{i}(x_t, s_prev)
    h_c <- Normal(g, 0.5)
    let c_new = z * g + (1.0 - z) * h_c
    let h_new = tanh(c_new)
    return (c_new, h_new)
let model{i} = tok_embed{i} >> scan(cell{i})
"""

GEN_011 = """object Tok{i} : FinSet 128
object Emb{i} : Real 16
object Hid{i} : Real 32
object Rate{i} : Real 1 [low=0.0]
morphism tok_embed_b{i} : Tok{i} -> Emb{i} [role=embed]
morphism cell_b{i} : Emb{i} * Hid{i} -> Hid{i} [role=kernel, scale=0.1] ~ Normal
morphism head_b{i} : Hid{i} -> Tok{i} [role=kernel] ~ Categorical
morphism rate_b{i} : Hid{i} -> Rate{i} ~ Exponential
let backbone{i} = tok_embed_b{i} >> scan(cell_b{i})
program lm{i} : Tok{i} -> Tok{i}
    sample [h] <- backbone{i}
    observe next_token : Tok{i} <- head_b{i}(h)
    sample _r <- rate_b{i}(h)
    return next_token
"""

CURRENT = """#! Current-form LSTM number {i}.
object Char{i} : FinSet 28
object H{i} : Real 32
object Box{i} : Real 2 {{low=-5.0, high=5.0}}
morphism in_gate{i}, forget_gate{i}, out_gate{i} : Char{i} * H{i} -> H{i}
morphism node{i} : Char{i} * H{i} -> H{i} [hidden_dim=16] ~ Normal
morphism char_head{i} : H{i} -> Char{i} ~ Categorical
program lstm_cell{i}(x, c, h) : Char{i} * H{i} * H{i} -> H{i} * H{i}
    let i = sigmoid(in_gate{i}(x, h))
    let f = sigmoid(forget_gate{i}(x, h))
    let o = sigmoid(out_gate{i}(x, h))
    sample g <- node{i}(x, h)
    let c_new = f * c + i * tanh(g)
    let h_new = o * tanh(c_new)
    return (c_new, h_new)
define lstm{i} = scan(lstm_cell{i}, states=all) # per position
program char_lm{i} : Char{i} -> Char{i}
    sample (_c, h) <- lstm{i}
    observe next_char : Char{i} <- char_head{i}(h)
    return next_char
"""


def generate(lines: int) -> str:
    parts, count, i = [], 0, 0
    templates = (CLASSIC, GEN_011, CURRENT)
    while count < lines:
        block = templates[i % 3].format(i=i)
        parts.append(block)
        count += block.count("\n")
        i += 1
    parts.append(f"export char_lm{i - 1 if (i - 1) % 3 == 2 else 2}\n")
    return "".join(parts)


def clear_memo() -> None:
    # Measure cold parsing: neither the per-chunk memo nor the parser's per-shape programs
    # (`qvr.syntax.parser._PROGRAMS`; a fresh process records each shape once).
    syntax._memo.clear()
    syntax.parser._PROGRAMS.clear()


_TOKENS = re.compile(r"#[^\n]*|[0-9]*\.?[0-9]+(?:[eE][+-]?[0-9]+)?|\w+|->|<-|>>|\S")


def reference(text: str) -> int:
    return len(_TOKENS.findall(text))


def timed(fn, repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        clear_memo()
        start = time.process_time()  # CPU time: the figures survive a busy machine better
        fn()
        best = min(best, time.process_time() - start)
    return best


HOSTILE_HEADER = "object X : Real 2\nmorphism f : X -> X\n"


def hostile_shapes() -> list[tuple[str, str]]:
    """(what, module text) for each hostile shape: one construct of many parts."""
    ops = 16_000
    factors = 100_000
    return [
        (f"{ops:,}-operator `@` chain",
         HOSTILE_HEADER + "define a = " + " @ ".join(["f"] * (ops + 1)) + "\nexport a\n"),
        (f"{ops:,}-operator `>>` chain",
         HOSTILE_HEADER + "define a = " + " >> ".join(["f"] * (ops + 1)) + "\nexport a\n"),
        (f"{ops:,}-operator arithmetic",
         "object X : Real 2\nprogram p(x) : X -> X\n    let y = "
         + " + ".join(["x"] * (ops + 1)) + "\n    return y\nexport p\n"),
        (f"{factors:,}-factor product type",
         "object X : Real 2\nobject P : " + " * ".join(["X"] * factors)
         + "\nmorphism h : P -> X\nexport h\n"),
        (f"broken text after {factors:,} blanks", " " * factors + "emission\nl it, this\n"),
    ]


# Shapes of many misspelt names and of per-program look-ups, from the tests' own generators
# (tests/semantics/hostile_shapes.py), at this many parts each.
NAME_SHAPES = ("undefined returns", "misspelt families", "misspelt functions",
               "posterior consumers", "schema parsers")
NAME_PARTS = 4_000


def hostile(repeat: int) -> None:
    from qvr.semantics import analyze

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "semantics"))
    from hostile_shapes import SHAPES

    shapes = hostile_shapes() + [(f"{name} ({NAME_PARTS:,})", SHAPES[name](NAME_PARTS))
                                 for name in NAME_SHAPES]
    print("hostile input (parse + check, seconds; target <= 2 s each):")
    for what, text in shapes:
        ref_s = timed(lambda: reference(text), repeat)
        check_s = timed(lambda: analyze(text), repeat)
        print(f"  {what:32} {check_s:7.3f} s = {check_s / ref_s:6.1f} x reference "
              f"({len(text):,} characters)")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--lines", type=int, default=10_000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--no-hostile", action="store_true",
                    help="skip the long chains and the long product type")
    args = ap.parse_args()
    text = generate(args.lines)
    n_lines = text.count("\n")
    c_lexer = syntax.parser._lex
    lexer = "Python" if c_lexer is syntax.parser._lex_regex else "C"
    result = syntax.parse_module(text)
    assert not result.diagnostics, result.diagnostics[:3]
    print(f"Python {platform.python_version()} ({platform.python_implementation()}), "
          f"{n_lines} lines, {len(result.module.statements)} declarations")

    ref_s = timed(lambda: reference(text), args.repeat)
    print(f"reference:     {ref_s * 1000:8.1f} ms  {n_lines / ref_s:10,.0f} lines/s "
          f"(re.findall tokenisation only, {reference(text)} tokens)")

    parse_s = timed(lambda: syntax.parse_module(text), args.repeat)
    print(f"parse:         {parse_s * 1000:8.1f} ms  {n_lines / parse_s:10,.0f} lines/s "
          f"= {parse_s / ref_s:5.1f} x reference")

    # Warm the memo, then edit one line in the middle (a different edit each time, so the
    # edited chunk is always new): one chunk is parsed, the later ones are shifted.
    middle = text.index("let h_new", len(text) // 2)
    line_end = text.index("\n", middle)
    edit_s = float("inf")
    for k in range(args.repeat):
        syntax.parse_module(text)
        edited = text[:middle] + f"let h_new = tanh(c_new) * {k + 1}.0" + text[line_end:]
        start = time.process_time()
        syntax.parse_module(edited)
        edit_s = min(edit_s, time.process_time() - start)
    print(f"re-parse after a one-line edit: {edit_s * 1000:8.1f} ms "
          f"{n_lines / edit_s:10,.0f} lines/s")

    try:
        from qvr.semantics import analyze
    except ImportError:
        print("parse + check: qvr.semantics.analyze not available")
        return
    analysis = analyze(text)
    errors = [d for d in analysis.diagnostics if d.severity == 1]
    if errors:
        print(f"note: the generated module has {len(errors)} check errors, first: "
              f"{errors[0].code} {errors[0].message}")
    check_s = timed(lambda: analyze(text, parsed=result), args.repeat)
    print(f"check alone:   {check_s * 1000:8.1f} ms  {n_lines / check_s:10,.0f} lines/s "
          f"= {check_s / ref_s:5.1f} x reference (analyze(text, parsed=...))")
    both_s = timed(lambda: analyze(text), args.repeat)
    print(f"parse + check: {both_s * 1000:8.1f} ms  {n_lines / both_s:10,.0f} lines/s "
          f"= {both_s / ref_s:5.1f} x reference (target >= 50,000 lines/s; lexer: {lexer})")
    if lexer == "C":
        # the same with the lexer in Python (what runs where the extension is not built),
        # alternating with the C lexer so that both see the same machine
        c_s = python_s = float("inf")
        for _ in range(args.repeat):
            c_s = min(c_s, timed(lambda: analyze(text), 1))
            syntax.parser._lex = syntax.parser._lex_regex
            try:
                python_s = min(python_s, timed(lambda: analyze(text), 1))
            finally:
                syntax.parser._lex = c_lexer
        print(f"  lexer in Python: {python_s * 1000:8.1f} ms against {c_s * 1000:.1f} ms "
              f"with the C lexer ({python_s / c_s:.2f} x, alternating)")
    if not args.no_hostile:
        hostile(args.repeat)


if __name__ == "__main__":
    main()
