"""Helpers shared by the syntax tests (imported by name: pytest puts this folder on sys.path)."""
from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES_DIR = Path(__file__).with_name("examples")
EXAMPLES = sorted(EXAMPLES_DIR.glob("*.qvr"))
# every QVR file of the repository: the spec's examples, the shipped examples, test programs
ALL_FILES = EXAMPLES + sorted((ROOT / "examples").glob("*.qvr")) + sorted(
    (ROOT / "tests" / "programs").glob("*.qvr"))


def example_text(name: str) -> str:
    return (EXAMPLES_DIR / name).read_text(encoding="utf-8")


def flatten(text: str) -> str:
    """The same program with every line's indentation removed (spec §1.2)."""
    return "\n".join(line.strip() for line in text.splitlines()) + "\n"


def at(text: str, span) -> str:
    """The source text a span covers."""
    return text[span.start:span.end]
