"""The project's LALR driver against lark's standalone parser and lark_cython, side by side.

Every path parses the same generated module (`parse_check.generate`, the 10,000-line mix of
recurrent models) in one parse and builds the same AST with the project's `AstBuilder`:

* ``custom``: `qvr.syntax.parser.parse_chunk` (our lexer, in C where it is built + our LALR driver
  `_drive` over the committed tables, the builder's callbacks run on each reduction; one
  chunk this long has its parse program recorded from the table and run, never kept, so no
  replay helps it: `parse_module` below splits the module and replays the shapes it has seen);
* ``lark standalone``: the module `python -m lark.tools.standalone` writes for qvr.lark
  (basic lexer, ``--keep_all_tokens --maybe_placeholders``, as the fast path's tables are
  built), generated into a temporary directory here and never committed, with the builder as
  lark's inline transformer (lark passes it the children our driver passes, as lists);
* ``lark_cython``: lark with lark_cython's Cython lexer and parser (``_plugins``), same
  options and transformer; skipped with a note when it is not installed.

The builder tests ``x.__class__ is Tok``; for the lark paths it runs from a second copy of
`qvr.syntax.transformer` whose ``Tok`` is that path's token class, so no path pays for a token
conversion. Each path's AST is compared with the custom one before anything is timed.

Also printed: each lexer alone, lark's standalone parser building its own `Tree` (no
transformer), and `parse_module` (the whole parse: chunking, comments, per-chunk memo cleared)
next to `qvr.semantics.analyze` (parse + check), to put the parser's share in context.

Run: ``python bench/parser_compare.py [--lines N] [--repeat R]``. CPU time, best of R rounds,
the paths alternating within each round; on a shared machine read the ratios against the
custom driver (same run), not the absolute figures.
"""
from __future__ import annotations

import argparse
import gc
import importlib.util
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))

from parse_check import clear_memo, generate  # noqa: E402  (puts runtime/ on sys.path)

import qvr.syntax as syntax  # noqa: E402
from qvr.syntax import parser as qvr_parser  # noqa: E402
from qvr.syntax import transformer  # noqa: E402


def builder_for(token_class) -> object:
    """An `AstBuilder` from a fresh copy of `qvr.syntax.transformer` whose ``Tok`` is
    `token_class` (the builder's methods read ``Tok`` from their module's globals)."""
    spec = importlib.util.spec_from_file_location(
        f"qvr.syntax._transformer_for_{token_class.__module__.replace('.', '_')}",
        transformer.__file__)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.Tok = token_class
    return module.AstBuilder()


def standalone_module(directory: Path):
    """Generate lark's standalone parser of qvr.lark into `directory` and import it."""
    out = directory / "qvr_lark_standalone.py"
    subprocess.run([sys.executable, "-m", "lark.tools.standalone", "-l", "basic",
                    "--keep_all_tokens", "--maybe_placeholders", "-o", str(out),
                    str(qvr_parser.GRAMMAR_PATH)], check=True)
    spec = importlib.util.spec_from_file_location("qvr_lark_standalone", out)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def best_of(fn, repeat: int) -> float:
    """CPU seconds of `fn()`, best of `repeat` (memo cleared, garbage collector off as in
    `parse_module`)."""
    best = float("inf")
    for _ in range(repeat):
        clear_memo()
        gc.disable()
        try:
            start = time.process_time()
            fn()
            best = min(best, time.process_time() - start)
        finally:
            gc.enable()
    return best


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--lines", type=int, default=10_000)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    text = generate(args.lines)
    n_lines = text.count("\n")

    # what each path runs: name -> (function, description)
    paths: dict[str, tuple] = {}

    def custom():
        decls, _, error = qvr_parser.parse_chunk(text)
        assert error is None
        return decls

    paths["custom"] = (custom, "own lexer + own LALR driver + AstBuilder")
    reference_ast = custom()
    notes = []

    tmp = tempfile.TemporaryDirectory(prefix="qvr-lark-standalone-")
    standalone = standalone_module(Path(tmp.name))
    sa_parser = standalone.Lark_StandAlone(transformer=builder_for(standalone.Token))
    sa_tree_parser = standalone.Lark_StandAlone()
    paths["lark standalone"] = (lambda: sa_parser.parse(text),
                                "lark's lexer + LALR parser, AstBuilder inline")
    paths["lark standalone, Tree"] = (lambda: sa_tree_parser.parse(text),
                                      "the same building lark Trees, no AST")

    from lark import Lark  # the pip package (lark_cython plugs into it)

    options = dict(parser="lalr", lexer="basic", keep_all_tokens=True, maybe_placeholders=True)
    try:
        import lark_cython
    except ImportError:
        notes.append("lark_cython: not installed (pip install lark_cython), skipped")
    else:
        cy_parser = Lark(qvr_parser.GRAMMAR_PATH.read_text(encoding="utf-8"),
                         _plugins=lark_cython.plugins,
                         transformer=builder_for(lark_cython.Token), **options)
        paths["lark_cython"] = (lambda: cy_parser.parse(text),
                                "lark_cython's lexer + LALR parser, AstBuilder inline")

    for name, (fn, _) in paths.items():
        if not name.endswith("Tree"):
            # the same declarations, field for field, spans included
            assert tuple(fn()) == tuple(reference_ast), f"{name} builds a different AST"

    lark_lexer = Lark(qvr_parser.GRAMMAR_PATH.read_text(encoding="utf-8"), **options)
    paths["lexer alone: custom"] = (lambda: qvr_parser._lex(text),
                                    "the C lexer" if qvr_parser._lex is not qvr_parser._lex_regex
                                    else "the lexer in Python (the C one is not built)")
    paths["lexer alone: Python"] = (lambda: qvr_parser._lex_regex(text),
                                    "the lexer in Python (`_lex_regex`)")
    paths["lexer alone: lark"] = (lambda: list(lark_lexer.lex(text)), "lark's basic lexer")
    paths["parse_module"] = (lambda: syntax.parse_module(text),
                             "the whole parse: chunks, comments, memo (cleared)")
    try:
        from qvr.semantics import analyze
    except ImportError:
        notes.append("qvr.semantics.analyze not available: no parse + check line")
    else:
        paths["analyze (parse + check)"] = (lambda: analyze(text), "qvr.semantics.analyze")

    seconds = {name: float("inf") for name in paths}
    for _ in range(args.repeat):  # alternate: every path sees the same machine
        for name, (fn, _) in paths.items():
            seconds[name] = min(seconds[name], best_of(fn, 1))
    tmp.cleanup()

    print(f"Python {platform.python_version()} ({platform.python_implementation()}), "
          f"{n_lines} lines, {len(reference_ast)} declarations, best of {args.repeat}, "
          "CPU time")
    base = seconds["custom"]
    for name, (_, what) in paths.items():
        s = seconds[name]
        print(f"{name:26s} {s * 1000:8.1f} ms {n_lines / s:10,.0f} lines/s "
              f"{s / base:6.2f} x custom  ({what})")
    if "analyze (parse + check)" in seconds:
        share = seconds["parse_module"] / seconds["analyze (parse + check)"]
        print(f"parse_module / analyze: {share:.0%} of parse + check is parsing")
    for note in notes:
        print(note)


if __name__ == "__main__":
    main()
