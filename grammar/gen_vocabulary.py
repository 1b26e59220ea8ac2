"""Write grammar/vocabulary.json, src/scanner_tables.h and the `#any-of?` lists in highlights.scm.

The word lists (reserved words, distribution families, builtins, type constructors, option keys
and values) have one source of truth: `qvr.syntax.vocabulary` (spec §2.5, §4.3, §4.4, §5.2, §5.7).
grammar.js reads vocabulary.json (it checks that its keywords are exactly the reserved words) and
highlights.scm carries the lists inside `#any-of?` predicates between `; BEGIN GENERATED <name>`
and `; END GENERATED <name>` markers.  src/scanner_tables.h gives the external scanner
(src/scanner.c) the reserved words and the Unicode identifier characters.  If `qvr.syntax.vocabulary` cannot be imported (the syntax
layer is not installed), the lists below, transcribed from the spec, are used instead;
tests/grammar/test_vocabulary.py checks that the two agree.

Usage (from the repository root or from grammar/):  python grammar/gen_vocabulary.py [--check]
With --check nothing is written; the exit status is 1 if a generated file is out of date.
"""
from __future__ import annotations

import json
import re
import sys
from pathlib import Path

GRAMMAR_DIR = Path(__file__).resolve().parent
VOCABULARY_JSON = GRAMMAR_DIR / "vocabulary.json"
HIGHLIGHTS = GRAMMAR_DIR / "queries" / "highlights.scm"
SCANNER_TABLES = GRAMMAR_DIR / "src" / "scanner_tables.h"

# Transcribed from the spec; used only when qvr.syntax.vocabulary is unavailable.
SPEC_VOCABULARY = {
    # §2.5: 32 reserved words, and `factor` (part 2 §2.1)
    "RESERVED": (
        "object type space quantale category rule morphism continuous stochastic latent observed "
        "embed discretize program let define where output export draw sample observe return "
        "identity marginalize fan repeat stack scan parser ccg lambek factor"
    ).split(),
    # §5.2
    "FAMILIES": (
        "Normal LogitNormal LogNormal Laplace Cauchy StudentT HalfNormal HalfCauchy Exponential "
        "Gamma Beta Uniform TruncatedNormal Dirichlet MultivariateNormal Bernoulli Categorical"
    ).split(),
    # §5.7
    "BUILTINS": "sigmoid tanh exp log abs softplus relu sqrt logit softmax".split(),
    # §2.5 / §4.3
    "TYPE_CONSTRUCTORS": "FinSet Real Simplex Euclidean PositiveReals UnitInterval".split(),
}

# Which vocabulary lists feed which generated block of highlights.scm.
GENERATED_BLOCKS = {
    "families": "FAMILIES",
    "builtins": "BUILTINS",
}


def load_vocabulary() -> dict[str, list[str]]:
    """The word lists, from qvr.syntax.vocabulary when importable, else from the spec."""
    try:
        from qvr.syntax import vocabulary  # type: ignore[attr-defined]
    except Exception:  # noqa: BLE001 - any failure means "not available yet"
        return {k: list(v) for k, v in SPEC_VOCABULARY.items()}
    return {key: list(getattr(vocabulary, key)) for key in SPEC_VOCABULARY}


def any_of_line(words: list[str]) -> str:
    return " ".join(f'"{w}"' for w in words)


def _indent_of(text: str, marker_start: int) -> str:
    line_start = text.rfind("\n", 0, marker_start) + 1
    line = text[line_start:marker_start]
    return line if not line.strip() else ""


def render_highlights(text: str, vocab: dict[str, list[str]]) -> str:
    """Replace the body of every generated block with the current word list."""
    for block, key in GENERATED_BLOCKS.items():
        pattern = re.compile(rf"; BEGIN GENERATED {block}\n.*?; END GENERATED {block}", re.S)
        if not pattern.search(text):
            raise SystemExit(f"highlights.scm: missing generated block {block!r}")

        def fill(match: re.Match, key: str = key, block: str = block) -> str:
            indent = _indent_of(text, match.start())  # keep the BEGIN marker's indentation
            return (
                f"; BEGIN GENERATED {block}\n{indent}{any_of_line(vocab[key])}\n"
                f"{indent}; END GENERATED {block}"
            )

        text = pattern.sub(fill, text)
    return text


def char_ranges(predicate) -> list[tuple[int, int]]:
    """Maximal runs [lo, hi] of non-ASCII code points for which predicate(chr(c)) holds."""
    ranges: list[tuple[int, int]] = []
    start = None
    for code in range(0x80, 0x110000):
        ok = predicate(chr(code))
        if ok and start is None:
            start = code
        elif not ok and start is not None:
            ranges.append((start, code - 1))
            start = None
    if start is not None:
        ranges.append((start, 0x10FFFF))
    return ranges


def render_scanner_tables(vocab: dict[str, list[str]]) -> str:
    """C header for src/scanner.c: the reserved words (in grammar.js `externals` order) and the
    non-ASCII identifier characters of spec §2.4 (str.isalpha / str.isdecimal)."""
    def table(name: str, ranges: list[tuple[int, int]]) -> str:
        rows = "".join(f"  {{0x{lo:X}, 0x{hi:X}}},\n" for lo, hi in ranges)
        return f"static const QvrCharRange {name}[] = {{\n{rows}}};\n"

    words = "".join(f'  "{w}",\n' for w in vocab["RESERVED"])
    indices = "".join(f"#define QVR_KW_{w.upper()} {i}\n" for i, w in enumerate(vocab["RESERVED"]))
    return (
        "/* Generated by grammar/gen_vocabulary.py from vocabulary.json and Python's Unicode\n"
        "   database; do not edit. */\n"
        "#ifndef QVR_SCANNER_TABLES_H\n#define QVR_SCANNER_TABLES_H\n\n"
        "#include <stdint.h>\n\n"
        "typedef struct { int32_t lo, hi; } QvrCharRange;\n\n"
        f"#define QVR_RESERVED_COUNT {len(vocab['RESERVED'])}\n"
        f"static const char *const QVR_RESERVED[QVR_RESERVED_COUNT] = {{\n{words}}};\n\n"
        f"{indices}\n"
        + table("QVR_ALPHA", char_ranges(str.isalpha))
        + "\n"
        + table("QVR_DECIMAL", char_ranges(str.isdecimal))
        + "\n#endif\n"
    )


def main(argv: list[str]) -> int:
    check = "--check" in argv
    vocab = load_vocabulary()
    outputs = {
        VOCABULARY_JSON: json.dumps(vocab, indent=2) + "\n",
        HIGHLIGHTS: render_highlights(HIGHLIGHTS.read_text(encoding="utf-8"), vocab),
        SCANNER_TABLES: render_scanner_tables(vocab),
    }
    stale = [p for p, text in outputs.items() if not p.exists() or p.read_text(encoding="utf-8") != text]
    if check:
        for p in stale:
            print(f"{p} is out of date; run python grammar/gen_vocabulary.py", file=sys.stderr)
        return 1 if stale else 0
    for p in stale:
        p.write_text(outputs[p], encoding="utf-8")
        print(f"wrote {p}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
