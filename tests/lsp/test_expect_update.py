"""The expectation mechanism (tests/expect.py) itself: a difference fails with a diff unless
updating is on; updating rewrites inline literals and expectation files so that the next run
passes; `--update-expect` and `UPDATE_EXPECT=1` turn it on for a pytest run."""
from __future__ import annotations

import ast
import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest

import expect

TESTS = Path(__file__).resolve().parents[1]

SAMPLE = '''from expect import expect, expect_file

CASES = [
    expect("one line"),
    expect("""
        first
          indented
        last
    """),
    expect(),
]


def check(values):
    for case, value in zip(CASES, values):
        case.assert_eq(value)


def check_file(value):
    expect_file("expect/out.txt").assert_eq(value)
'''


def load(path: Path):
    spec = importlib.util.spec_from_file_location(f"expect_sample_{abs(hash(path))}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def sample(tmp_path, monkeypatch):
    path = tmp_path / "sample_expectations.py"
    path.write_text(SAMPLE, encoding="utf-8")
    monkeypatch.setattr(expect, "PENDING", expect.Pending())
    monkeypatch.setattr(expect, "UPDATE", False)
    return path


def test_inline_literals_are_read_as_indented_blocks(sample):
    load(sample).check(["one line", "first\n  indented\nlast\n", ""])


def test_a_difference_fails_with_a_diff_and_the_way_to_accept_it(sample):
    with pytest.raises(AssertionError) as failure:
        load(sample).check(["one line", "first\n  indented\nchanged\n", ""])
    assert str(failure.value) == (
        f"{sample}:5: the output differs from the expectation\n"
        "--- expected\n+++ actual\n@@ -1,3 +1,3 @@\n first\n   indented\n-last\n+changed\n"
        f"{expect.HINT}")
    assert sample.read_text(encoding="utf-8") == SAMPLE


def test_updating_rewrites_the_literals_in_place(sample, monkeypatch):
    monkeypatch.setattr(expect, "UPDATE", True)
    new = ["two\nlines\n", 'has """ quotes and \\ a backslash', "  leading\n\nblank line\n"]
    load(sample).check(new)  # passes while updating
    assert sample.read_text(encoding="utf-8") == SAMPLE  # until the session ends
    assert expect.write_pending() == [sample]
    assert sample.read_text(encoding="utf-8") == SAMPLE.replace('''    expect("one line"),
    expect("""
        first
          indented
        last
    """),
    expect(),
''', '''    expect("""
        two
        lines
    """),
    expect('has """ quotes and \\\\ a backslash'),
    expect("""
          leading

        blank line
    """),
''')
    monkeypatch.setattr(expect, "UPDATE", False)
    load(sample).check(new)  # the rewritten file now expects the new output


def test_a_file_edited_while_the_tests_ran_is_left_alone(sample, monkeypatch):
    monkeypatch.setattr(expect, "UPDATE", True)
    load(sample).check(["new", "first\n  indented\nlast\n", ""])
    edited = "# a line added meanwhile\n" + SAMPLE
    sample.write_text(edited, encoding="utf-8")
    with pytest.raises(AssertionError, match="edited while the tests ran"):
        expect.write_pending()
    assert sample.read_text(encoding="utf-8") == edited


@pytest.mark.parametrize("text", ["", "one", "a\nb", "a\nb\n", "\n", "\nx\n", "  x\n  y\n", "x\n\n",
                                  "tab\there\n", "bell\a\n", '"""\n', "\\n\n", "é → ∞\n"])
def test_every_written_literal_reads_back_as_the_text(text):
    assert expect.trim(ast.literal_eval(expect.literal_for(text, " " * 8))) == text


def test_one_expectation_cannot_take_two_outputs(sample, monkeypatch):
    monkeypatch.setattr(expect, "UPDATE", True)
    module = load(sample)
    module.CASES[0].assert_eq("a")
    with pytest.raises(AssertionError, match="two different outputs"):
        module.CASES[0].assert_eq("b")


def test_an_expectation_file_is_written_when_updating(sample, monkeypatch):
    module = load(sample)
    out = sample.parent / "expect" / "out.txt"
    with pytest.raises(AssertionError, match="does not exist"):
        module.check_file("a\n")
    monkeypatch.setattr(expect, "UPDATE", True)
    module.check_file("a\nb\n")
    assert out.read_text(encoding="utf-8") == "a\nb\n"
    monkeypatch.setattr(expect, "UPDATE", False)
    module.check_file("a\nb\n")
    with pytest.raises(AssertionError, match="-b\n\\+c\n"):
        module.check_file("a\nc\n")


RUN = '''from expect import expect


def test_output():
    expect("""
        old
    """).assert_eq("new\\n")
'''


def pytest_run(path: Path, *args: str, **env: str) -> subprocess.CompletedProcess:
    """pytest on `path` alone with this suite's conftest (its options and session hooks)."""
    environ = {k: v for k, v in os.environ.items() if k != "UPDATE_EXPECT"}
    environ.update(env, PYTHONPATH=str(TESTS))
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "conftest", "-p", "no:cacheprovider",
         "--rootdir", str(path.parent), *args, str(path)],
        cwd=path.parent, env=environ, capture_output=True, text=True, timeout=120)


@pytest.mark.slow  # a pytest subprocess per case (about 5 s each)
@pytest.mark.parametrize("how", [("--update-expect",), ("UPDATE_EXPECT=1",)])
def test_the_flag_and_the_variable_update_a_failing_run(tmp_path, how):
    path = tmp_path / "test_sample.py"
    path.write_text(RUN, encoding="utf-8")
    failed = pytest_run(path)
    assert failed.returncode == 1 and expect.HINT in failed.stdout
    assert path.read_text(encoding="utf-8") == RUN
    if how[0].startswith("--"):
        updated = pytest_run(path, *how)
    else:
        updated = pytest_run(path, UPDATE_EXPECT="1")
    assert updated.returncode == 0, updated.stdout + updated.stderr
    assert path.read_text(encoding="utf-8") == RUN.replace("old", "new")
    assert pytest_run(path).returncode == 0


def test_a_text_that_no_inline_literal_can_hold_is_refused():
    with pytest.raises(AssertionError, match="use expect_file"):
        expect.literal_for("\nno newline at the end", " " * 8)
