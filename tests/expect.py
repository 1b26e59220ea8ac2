"""Expectation tests: compare a feature's whole rendered output with a text stored next to the
test, and rewrite that text from the current output when asked (like rust-analyzer's
`expect_test`).

Two kinds of expectation:

* `expect("...")`: an inline string literal in the test file, usually triple-quoted. A literal
  that starts with a newline is read as an indented block: the first newline and the last,
  blank line are dropped and the common indentation is removed, so the expected text ends
  with a newline.
  `expect()` with no argument is an empty expectation, for writing a new test.
* `expect_file("fixtures/expect/name.txt")`: a file, relative to the directory of the test file
  that names it, compared byte for byte.

`.assert_eq(actual)` compares the whole text. On a difference it fails with a diff, unless
updating is on (`python -m pytest --update-expect`, or `UPDATE_EXPECT=1` in the environment):
then the expected text is replaced by `actual` and the test passes. A file expectation is
written at once; inline literals are rewritten in the test's source when the test run ends
(`write_pending()`, called from tests/conftest.py), so that line numbers found while the tests
ran stay valid until every literal of a file is replaced.
"""
from __future__ import annotations

import ast
import difflib
import inspect
import os
import sys
import textwrap
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

UPDATE = os.environ.get("UPDATE_EXPECT", "") not in ("", "0")
HINT = "run `python -m pytest --update-expect` (or UPDATE_EXPECT=1) to accept the new output"


def trim(literal: str) -> str:
    """The expected text that an inline literal stands for (see the module docstring)."""
    if not literal.startswith("\n"):
        return literal
    lines = literal[1:].split("\n")
    if lines and not lines[-1].strip():
        lines.pop()
    return textwrap.dedent("\n".join(lines) + "\n") if lines else ""


def _escape(text: str) -> str:
    out = []
    for ch in text:
        if ch == "\\":
            out.append("\\\\")
        elif ch == "\n" or ch.isprintable():
            out.append(ch)
        else:
            out.append(ascii(ch)[1:-1])
    return "".join(out).replace('"""', '\\"\\"\\"')


def literal_for(text: str, indent: str) -> str:
    """Python source of a string literal whose `trim()` is `text`, its lines indented by
    `indent` (the block form when `text` is several lines ending with a newline)."""
    if "\n" in text and text.endswith("\n"):
        lines = [indent + line if line else "" for line in _escape(text)[:-1].split("\n")]
        source = '"""\n' + "\n".join(lines) + "\n" + indent[:-4] + '"""'
        if trim(ast.literal_eval(source)) == text:
            return source
    source = repr(text)
    if trim(ast.literal_eval(source)) == text:
        return source
    # Any literal starting with a newline reads as a block, and a block ends with a newline.
    raise AssertionError(f"{text!r} starts with a newline but does not end with one: it "
                         "cannot be an inline expectation; use expect_file()")


@dataclass
class _Patch:
    start: tuple[int, int]  # (line, column in UTF-8 bytes) as Python's ast reports them
    end: tuple[int, int]
    text: str
    indent: str


@dataclass
class Pending:
    """Inline literals to rewrite, by source file; `write()` applies them."""

    patches: dict[Path, dict[tuple[int, int], _Patch]] = field(default_factory=dict)
    sources: dict[Path, str] = field(default_factory=dict)  # each file as its patches were found

    def add(self, path: Path, call: tuple[int, int, int, int], actual: str) -> None:
        source = self.sources.setdefault(path, path.read_text(encoding="utf-8"))
        patch = _locate(source, path, call, actual)
        known = self.patches.setdefault(path, {}).get(patch.start)
        if known is not None and known.text != actual:
            raise AssertionError(
                f"{path}:{call[0]}: one expectation asserted with two different outputs; "
                "give each case its own expectation")
        self.patches[path][patch.start] = patch

    def write(self) -> list[Path]:
        """Rewrite every pending literal; return the files changed. A file edited since its
        literals were found is left alone (the positions no longer hold): AssertionError,
        after the other files are written."""
        changed, skipped = [], []
        for path, patches in sorted(self.patches.items()):
            text = path.read_text(encoding="utf-8")
            if text != self.sources[path]:
                skipped.append(path)
                continue
            starts = [0] + [i + 1 for i, ch in enumerate(text) if ch == "\n"]

            def offset(pos: tuple[int, int]) -> int:  # ast's columns count UTF-8 bytes
                start = starts[pos[0] - 1]
                end = text.find("\n", start)
                line = text[start:] if end < 0 else text[start:end]
                return start + len(line.encode("utf-8")[:pos[1]].decode("utf-8"))

            for patch in sorted(patches.values(), key=lambda p: p.start, reverse=True):
                new = literal_for(patch.text, patch.indent)
                text = text[:offset(patch.start)] + new + text[offset(patch.end):]
            path.write_text(text, encoding="utf-8")
            changed.append(path)
        self.patches.clear()
        self.sources.clear()
        if skipped:
            raise AssertionError(f"not updated, edited while the tests ran: {', '.join(map(str, skipped))}")
        return changed


PENDING = Pending()


def _locate(source: str, path: Path, call: tuple[int, int, int, int], actual: str) -> _Patch:
    """The source range of the literal argument of the `expect(...)` call at `call` in
    `source`, the text of `path` (or, for `expect()`, the empty range inside its parentheses)."""
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Call) and (
                node.lineno, node.col_offset, node.end_lineno, node.end_col_offset) == call:
            break
    else:
        raise AssertionError(f"{path}:{call[0]}: cannot find the expect(...) call to update")
    line = source.splitlines()[node.lineno - 1]
    indent = line[: len(line) - len(line.lstrip())] + " " * 4
    if node.args:
        arg = node.args[0]
        if not (isinstance(arg, ast.Constant) and isinstance(arg.value, str)):
            raise AssertionError(f"{path}:{call[0]}: expect() needs a plain string literal to update")
        return _Patch((arg.lineno, arg.col_offset), (arg.end_lineno, arg.end_col_offset), actual, indent)
    end = (node.end_lineno, node.end_col_offset - 1)  # just before the closing parenthesis
    return _Patch(end, end, actual, indent)


def _diff(expected: str, actual: str, where: str) -> str:
    diff = difflib.unified_diff(expected.splitlines(keepends=True), actual.splitlines(keepends=True),
                                "expected", "actual")
    shown = "".join(line if line.endswith("\n") else line + "\n\\ no newline at end\n" for line in diff)
    return f"{where}: the output differs from the expectation\n{shown}{HINT}"


@dataclass
class Expect:
    """An inline expectation (see the module docstring); built by `expect()`."""

    literal: Optional[str]
    path: Path
    call: tuple[int, int, int, int]  # the expect(...) call: start and end line, UTF-8 column

    @property
    def text(self) -> str:
        return "" if self.literal is None else trim(self.literal)

    def assert_eq(self, actual: str) -> None:
        if actual == self.text:
            return
        if UPDATE:
            PENDING.add(self.path, self.call, actual)
            return
        raise AssertionError(_diff(self.text, actual, f"{self.path}:{self.call[0]}"))


def expect(literal: Optional[str] = None) -> Expect:
    """An inline expectation whose text is `literal`; it records where it is written, so that
    updating can rewrite the literal in place."""
    frame = sys._getframe(1)
    positions = inspect.getframeinfo(frame).positions
    return Expect(literal, Path(frame.f_code.co_filename), (
        positions.lineno, positions.col_offset, positions.end_lineno, positions.end_col_offset))


_WRITTEN: dict[Path, str] = {}  # expectation files rewritten by this test run, with their text


@dataclass
class ExpectFile:
    """A file expectation (see the module docstring); built by `expect_file()`."""

    path: Path

    def assert_eq(self, actual: str) -> None:
        expected = self.path.read_text(encoding="utf-8") if self.path.exists() else None
        if UPDATE and _WRITTEN.get(self.path, actual) != actual:
            raise AssertionError(f"{self.path}: one expectation asserted with two different "
                                 "outputs; give each case its own expectation")
        if actual == expected:
            return
        if UPDATE:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self.path.write_text(actual, encoding="utf-8")
            _WRITTEN[self.path] = actual
            return
        if expected is None:
            raise AssertionError(f"{self.path} does not exist; {HINT}")
        raise AssertionError(_diff(expected, actual, str(self.path)))


def expect_file(relative: str) -> ExpectFile:
    """An expectation stored in the file `relative` to the calling test file's directory."""
    caller = Path(sys._getframe(1).f_code.co_filename)
    return ExpectFile(caller.parent / relative)


def write_pending() -> list[Path]:
    """Rewrite the inline literals collected while updating; the files changed."""
    return PENDING.write()
