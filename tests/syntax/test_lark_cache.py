"""lark's grammar cache: never in the shared temp dir, only in the user's private cache
directory (`qvr.user_cache`), and the generated tables are the same whether or not any cache
exists."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import pytest

from qvr import user_cache

# In a fresh interpreter: regenerate-and-compare the tables, then word a syntax error (the
# only path that builds lark's parser). Prints the check's exit code and the diagnostics.
PROBE = textwrap.dedent(
    """
    import json
    from qvr.syntax import lalr_build, parse_module
    check = lalr_build.main(["--check"])
    error = parse_module("object A : : FinSet 4\\n").diagnostics
    print(json.dumps({"check": check, "error": [[d.code, d.message, d.span.start, d.span.end]
                                                for d in error]}))
    """
)


def _probe(tmpdir, cache_dir) -> dict:
    env = dict(os.environ, TMPDIR=str(tmpdir), QVR_CACHE_DIR=str(cache_dir))
    out = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True,
                         env=env, timeout=120)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout.strip().splitlines()[-1])


EXPECTED_ERROR = [["QVR002", "syntax error: expected a type in object `A`, found `:`", 11, 12]]


@pytest.mark.process
def test_tables_are_the_same_with_an_empty_temp_dir_and_after_a_cached_run(tmp_path):
    tmpdir, cache = tmp_path / "tmp", tmp_path / "cache"
    tmpdir.mkdir()
    first = _probe(tmpdir, cache)  # nothing cached anywhere
    assert first == {"check": 0, "error": EXPECTED_ERROR}
    assert list(tmpdir.iterdir()) == []  # nothing written to the shared temp dir
    cached = sorted(p.name for p in cache.iterdir())
    assert len(cached) == 1 and cached[0].startswith("lark-error-parser-")
    assert (cache.stat().st_mode & 0o777) == 0o700
    second = _probe(tmpdir, cache)  # the error parser now comes from the cache
    assert second == first
    assert list(tmpdir.iterdir()) == []


@pytest.mark.process
def test_a_cache_directory_others_can_write_is_not_used(tmp_path):
    tmpdir, cache = tmp_path / "tmp", tmp_path / "shared-cache"
    tmpdir.mkdir()
    cache.mkdir()
    cache.chmod(0o777)
    try:
        assert _probe(tmpdir, cache) == {"check": 0, "error": EXPECTED_ERROR}
        assert list(cache.iterdir()) == []  # refused: nothing read or written there
        assert list(tmpdir.iterdir()) == []
    finally:
        cache.chmod(0o700)


def test_private_cache_dir_rules(tmp_path, monkeypatch):
    target = tmp_path / "made" / "qvr"
    monkeypatch.setenv("QVR_CACHE_DIR", str(target))
    assert user_cache.private_cache_dir() == target
    assert (target.stat().st_mode & 0o777) == 0o700
    target.chmod(0o755)  # readable by others is fine; writable is not
    assert user_cache.private_cache_dir() == target
    target.chmod(0o775)
    assert user_cache.private_cache_dir() is None
    target.chmod(0o700)
    link = tmp_path / "link"
    link.symlink_to(target, target_is_directory=True)
    monkeypatch.setenv("QVR_CACHE_DIR", str(link))
    assert user_cache.private_cache_dir() is None
    plain = tmp_path / "a-file"
    plain.write_text("")
    monkeypatch.setenv("QVR_CACHE_DIR", str(plain))
    assert user_cache.private_cache_dir() is None
