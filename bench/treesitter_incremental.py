"""Benchmark: full parse versus single-keystroke incremental reparse with the QVR tree-sitter
grammar on a ~5,000-line file.

The file is built by repeating the worked examples (each copy with its names suffixed so the
file stays valid).  For each of many random positions inside identifiers, one character is
inserted (a keystroke), the old tree is edited (`Tree.edit`) and the text is re-parsed with
`parser.parse(new, old_tree)`; the median of those times is reported as a ratio to the median
full parse of the same text.  Ratios, not absolute times, are the result: they are comparable
across machines.

    python bench/treesitter_incremental.py [--lines 5000] [--edits 300] [--seed 0]
"""
from __future__ import annotations

import argparse
import random
import re
import statistics
import time
from pathlib import Path

import tree_sitter
import tree_sitter_qvr

REPO = Path(__file__).resolve().parents[1]


def build_source(target_lines: int) -> bytes:
    """Concatenate renamed copies of examples/*.qvr until the text has `target_lines` lines."""
    examples = [p.read_text(encoding="utf-8") for p in sorted((REPO / "examples").glob("*.qvr"))]
    if not examples:
        raise SystemExit("bench: no examples/*.qvr to build the input from")
    parts: list[str] = []
    lines = 0
    copy = 0
    while lines < target_lines:
        for text in examples:
            # suffix lower-case names so copies do not redeclare each other
            renamed = re.sub(r"\b([a-z_][a-z0-9_]*)\b", lambda m: _rename(m.group(1), copy), text)
            parts.append(renamed)
            lines += renamed.count("\n") + 1
            copy += 1
            if lines >= target_lines:
                break
    return "\n".join(parts).encode("utf-8")


_KEYWORDS = set(
    "object type space quantale category rule morphism continuous stochastic latent observed "
    "embed discretize program let define where output export draw sample observe return "
    "identity marginalize fan repeat stack scan parser ccg lambek".split()
)
_KEEP = {"role", "kernel", "scale", "states", "all", "direction", "backward", "forward", "init",
         "sigmoid", "tanh", "exp", "log", "softplus", "relu", "softmax", "sqrt", "abs", "logit"}


def _rename(word: str, copy: int) -> str:
    return word if word in _KEYWORDS or word in _KEEP else f"{word}_{copy}"


def point_at(text: bytes, byte: int) -> tuple[int, int]:
    row = text.count(b"\n", 0, byte)
    column = byte - (text.rfind(b"\n", 0, byte) + 1)
    return row, column


def time_call(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--lines", type=int, default=5000)
    ap.add_argument("--edits", type=int, default=300)
    ap.add_argument("--full-parses", type=int, default=20)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()

    language = tree_sitter.Language(tree_sitter_qvr.language())
    parser = tree_sitter.Parser(language)
    text = build_source(args.lines)
    tree = parser.parse(text)
    if tree_sitter_qvr.has_syntax_error(tree):
        raise SystemExit("bench: the generated input does not parse cleanly")

    full = [time_call(lambda: parser.parse(text)) for _ in range(args.full_parses)]

    rng = random.Random(args.seed)
    # keystrokes extend names (never keywords, which would become names and break the file)
    identifier_ends = [
        m.end() for m in re.finditer(rb"[a-z_][a-z0-9_]*", text) if m.group().decode() not in _KEYWORDS
    ]
    incremental = []
    errors_after_edit = 0
    for _ in range(args.edits):
        old_tree = parser.parse(text)
        at = rng.choice(identifier_ends)
        new_text = text[:at] + b"x" + text[at:]
        start_point = point_at(text, at)
        old_tree.edit(
            start_byte=at, old_end_byte=at, new_end_byte=at + 1,
            start_point=start_point, old_end_point=start_point,
            new_end_point=(start_point[0], start_point[1] + 1),
        )
        result = {}
        incremental.append(time_call(lambda: result.setdefault("tree", parser.parse(new_text, old_tree))))
        errors_after_edit += tree_sitter_qvr.has_syntax_error(result["tree"])

    # reparse of an unchanged text with its own old tree: the floor of incremental parsing
    old = parser.parse(text)
    unchanged = [time_call(lambda: parser.parse(text, old)) for _ in range(args.full_parses)]

    full_median = statistics.median(full)
    incremental_median = statistics.median(incremental)
    line_count = text.count(b"\n") + 1
    print(f"input: {line_count} lines, {len(text)} bytes")
    print(f"full parse:         median {full_median * 1e3:8.3f} ms over {len(full)} parses")
    print(f"incremental reparse: median {incremental_median * 1e3:8.3f} ms over {len(incremental)} keystrokes"
          f" ({errors_after_edit} left a syntax error)")
    print(f"unchanged reparse:  median {statistics.median(unchanged) * 1e3:8.3f} ms")
    print(f"ratio incremental / full: {incremental_median / full_median:.4f}"
          f"  (full parse is {full_median / incremental_median:.1f}x slower)")


if __name__ == "__main__":
    main()
