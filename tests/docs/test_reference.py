"""docs/reference.md cannot rot: its generated tables match the code, and its complete programs check.

* Every region between `<!-- generated: NAME -->` and `<!-- end generated -->` must equal what
  `docs/reference_tables.py` writes now (whole text compared); after changing a table in the
  code, run `python docs/reference_tables.py`.
* Every code block fenced as ```` ```qvr complete ```` is a whole program: `qvr.semantics.analyze`
  must report no error and no warning for it (hints, such as unused names or deprecated
  syntax in the dialect examples, are allowed).

Torch is never imported: the generator and the checker are torch-free.
"""
from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

from qvr.semantics import analyze

ROOT = Path(__file__).resolve().parents[2]
REFERENCE = ROOT / "docs" / "reference.md"


def _generator():
    spec = importlib.util.spec_from_file_location("reference_tables", ROOT / "docs" / "reference_tables.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _complete_blocks(text: str) -> list[tuple[int, str]]:
    """(1-based line of the fence, program text) for every ```qvr complete block."""
    blocks = []
    lines = text.split("\n")
    i = 0
    while i < len(lines):
        if lines[i].strip() == "```qvr complete":
            start = i
            i += 1
            body = []
            while lines[i].strip() != "```":
                body.append(lines[i])
                i += 1
            blocks.append((start + 1, "\n".join(body) + "\n"))
        i += 1
    return blocks


def test_generated_regions_are_up_to_date():
    generator = _generator()
    text = REFERENCE.read_text(encoding="utf-8")
    assert sorted(generator.region_names(text)) == sorted(generator.GENERATORS)
    assert generator.render(text) == text, "run `python docs/reference_tables.py`"


def test_generator_does_not_import_torch():
    """The generator runs in a fresh interpreter without importing torch."""
    script = (
        "import runpy, sys\n"
        f"g = runpy.run_path({str(ROOT / 'docs' / 'reference_tables.py')!r})\n"
        "g['render'](g['REFERENCE'].read_text(encoding='utf-8'))\n"
        "assert 'torch' not in sys.modules, 'torch was imported'\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr


def test_every_family_has_its_torch_class():
    classes = _generator().torch_classes()
    from qvr.semantics.families import FAMILIES
    assert set(classes) == {name for name, f in FAMILIES.items() if f.tier == 1}
    assert classes["Normal"] == "torch.distributions.Normal"
    assert classes["LogitNormal"] == "qvr.compile.families.LogitNormal"


BLOCKS = _complete_blocks(REFERENCE.read_text(encoding="utf-8"))


def test_there_are_complete_programs():
    assert len(BLOCKS) >= 10


@pytest.mark.parametrize("line,program", BLOCKS, ids=[f"line{line}" for line, _ in BLOCKS])
def test_complete_program_checks(line, program):
    problems = [f"{d.code} {d.severity.label}: {d.message}" for d in analyze(program).diagnostics
                if d.severity.label in ("error", "warning")]
    assert problems == [], f"docs/reference.md block at line {line}"
