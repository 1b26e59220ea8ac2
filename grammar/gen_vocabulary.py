"""Write grammar/vocabulary.json and the generated `#any-of?` lists in queries/highlights.scm.

The word lists (reserved words, distribution families, builtins, type constructors, option keys
and values) have one source of truth: `qvr.syntax.vocabulary` (spec §2.5, §4.3, §4.4, §5.2, §5.7).
grammar.js reads vocabulary.json (it checks that its keywords are exactly the reserved words) and
highlights.scm carries the lists inside `#any-of?` predicates between `; BEGIN GENERATED <name>`
and `; END GENERATED <name>` markers.  If `qvr.syntax.vocabulary` cannot be imported (the syntax
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

# Transcribed from the spec; used only when qvr.syntax.vocabulary is unavailable.
SPEC_VOCABULARY = {
    # §2.5: exactly 32 reserved words
    "RESERVED": (
        "object type space quantale category rule morphism continuous stochastic latent observed "
        "embed discretize program let define where output export draw sample observe return "
        "identity marginalize fan repeat stack scan parser ccg lambek"
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
    "type_constructors": "TYPE_CONSTRUCTORS",
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


def render_highlights(text: str, vocab: dict[str, list[str]]) -> str:
    """Replace the body of every generated block with the current word list."""
    for block, key in GENERATED_BLOCKS.items():
        pattern = re.compile(
            rf"(; BEGIN GENERATED {block}\n)(.*?)(\s*; END GENERATED {block})", re.S
        )
        if not pattern.search(text):
            raise SystemExit(f"highlights.scm: missing generated block {block!r}")
        text = pattern.sub(lambda m: m.group(1) + "  " + any_of_line(vocab[key]) + m.group(3), text)
    return text


def main(argv: list[str]) -> int:
    check = "--check" in argv
    vocab = load_vocabulary()
    outputs = {
        VOCABULARY_JSON: json.dumps(vocab, indent=2) + "\n",
        HIGHLIGHTS: render_highlights(HIGHLIGHTS.read_text(encoding="utf-8"), vocab),
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
