"""The start-up cache of code that attrs/cattrs generate (qvr_lsp.code_cache).

What must hold: a cached code object is the one the generating module would have compiled
itself (same `__future__` flags), a second start reuses what the first saved, and a damaged,
foreign or unwritable cache is never an error, only a miss.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import types

import pytest

from qvr_lsp import code_cache
from qvr_lsp.code_cache import CodeCache

from lsp_fixtures import frame

# A generator module in the style of attrs: `from __future__ import annotations` and a call to
# `compile(source, filename, "exec")` in its own code.
GENERATOR = textwrap.dedent(
    """
    from __future__ import annotations

    def generate(source):
        namespace = {}
        eval(compile(source, "<generated>", "exec"), namespace)
        return namespace
    """
)
SOURCE = "def f(x: NotDefinedAnywhere) -> int:\n    return x + 1\n"


def _generator_module(cache: CodeCache | None = None) -> types.ModuleType:
    module = types.ModuleType("fake_generator")
    exec(compile(GENERATOR, "fake_generator.py", "exec", dont_inherit=True), vars(module))
    if cache is not None:
        module.compile = cache.compiler(code_cache._future_flags(vars(module)))
    return module


def test_cached_code_is_what_the_module_itself_compiles(tmp_path):
    plain = _generator_module().generate(SOURCE)["f"]
    cache = CodeCache(tmp_path / "c.marshal")
    cached = _generator_module(cache).generate(SOURCE)["f"]
    assert cache.misses == 1
    assert cached.__code__ == plain.__code__
    assert cached.__code__.co_flags == plain.__code__.co_flags
    # the generator's `from __future__ import annotations` carried over: nothing was evaluated
    assert cached.__annotations__ == {"x": "NotDefinedAnywhere", "return": "int"}
    assert cached(1) == 2


def test_a_later_start_reuses_the_saved_code(tmp_path):
    path = tmp_path / "sub" / "c.marshal"
    first = CodeCache(path)
    code = _generator_module(first).generate(SOURCE)["f"].__code__
    assert first.save() is True and path.exists()
    assert first.save() is False  # nothing new since
    second = CodeCache(path)
    again = _generator_module(second).generate(SOURCE)["f"]
    assert (second.hits, second.misses) == (1, 0)
    assert again.__code__ == code and again(2) == 3
    # a different source is compiled, not confused with the cached one
    other = _generator_module(second).generate(SOURCE.replace("+ 1", "+ 2"))["f"]
    assert second.misses == 1 and other(2) == 4


def test_unused_entries_are_kept_up_to_a_bound(tmp_path, monkeypatch):
    # Entries another run used stay (up to MAX_UNUSED), so that sessions answering other
    # requests share the file; past the bound only what the last run used is written, so a
    # source that differs at every start (attrs' salted __hash__) cannot grow the file forever.
    monkeypatch.setattr(code_cache, "MAX_UNUSED", 3)
    path = tmp_path / "c.marshal"
    for k in range(3):  # three runs, each compiling a source of its own
        run = CodeCache(path)
        _generator_module(run).generate(SOURCE.replace("+ 1", f"+ {k}"))
        assert run.save() is True
    assert len(CodeCache(path).code) == 3  # two unused entries kept
    run = CodeCache(path)
    _generator_module(run).generate(SOURCE.replace("+ 1", "+ 3"))
    _generator_module(run).generate(SOURCE.replace("+ 1", "+ 2"))  # reused
    assert (run.hits, run.misses) == (1, 1) and run.save() is True
    assert len(CodeCache(path).code) == 4  # two unused: still kept
    run = CodeCache(path)
    _generator_module(run).generate(SOURCE.replace("+ 1", "+ 4"))
    assert run.save() is True
    assert len(CodeCache(path).code) == 1  # four unused: only this run's entry is written


def test_damaged_or_foreign_files_are_ignored_and_replaced(tmp_path):
    path = tmp_path / "c.marshal"
    writer = CodeCache(path)
    _generator_module(writer).generate(SOURCE)
    writer.save()
    good = path.read_bytes()
    damaged = {
        "junk": os.urandom(4096),
        "empty": b"",
        "truncated": good[: len(good) // 2],
        "one byte flipped": good[:-10] + bytes([good[-10] ^ 0xFF]) + good[-9:],
        "other python": good.replace(good[17:21], b"\x00\x00\x00\x00", 1),
    }
    for what, data in damaged.items():
        path.write_bytes(data)
        cache = CodeCache(path)
        assert cache.code == {}, what
        assert _generator_module(cache).generate(SOURCE)["f"](1) == 2, what
        assert cache.save() is True, what
        assert CodeCache(path).code.keys() == cache.code.keys(), what


def test_an_unwritable_directory_means_no_cache_not_an_error(tmp_path):
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("a file where the cache directory should be")
    cache = CodeCache(blocker / "c.marshal")
    assert _generator_module(cache).generate(SOURCE)["f"](1) == 2
    assert cache.save() is False
    assert cache.save() is False  # and it does not try again and again


def test_other_calls_go_to_the_builtin(tmp_path):
    cache = CodeCache(tmp_path / "c.marshal")
    shim = cache.compiler(0)
    assert eval(shim("1 + 2", "<x>", "eval")) == 3  # cached like exec
    tree = compile("a = 1", "<ast>", "exec", flags=0x400)  # ast.PyCF_ONLY_AST
    namespace: dict = {}
    exec(shim(tree, "<ast>", "exec"), namespace)  # an AST object is not cached
    assert namespace["a"] == 1
    exec(shim("b = 2", "<kw>", "exec", dont_inherit=True), namespace)  # extra arguments: builtin
    assert namespace["b"] == 2
    assert cache.misses == 1


# In a fresh interpreter: install the cache, build lsprotocol's types and pygls' converter, and
# convert an initialize request and result both ways (what the server does before the first
# diagnostics).
LSPROTOCOL_ROUND_TRIP = textwrap.dedent(
    """
    import json, sys
    from qvr_lsp import code_cache
    cache = code_cache.install()
    from lsprotocol import types as lsp
    from pygls.protocol import default_converter
    converter = default_converter()
    params = converter.structure(
        {"processId": 7, "capabilities": {"textDocument": {"hover": {"contentFormat": ["markdown"]}},
         "general": {"positionEncodings": ["utf-8", "utf-16"]}}}, lsp.InitializeParams)
    result = lsp.InitializeResult(capabilities=lsp.ServerCapabilities(
        hover_provider=True, position_encoding=lsp.PositionEncodingKind.Utf8))
    report = {"params": converter.unstructure(params), "result": converter.unstructure(result),
              "equal": params == converter.structure(converter.unstructure(params), lsp.InitializeParams)}
    if cache is not None:
        cache.save()
        report.update(hits=cache.hits, misses=cache.misses)
    print(json.dumps(report))
    """
)


def _run(code: str, env: dict) -> dict:
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env,
                         timeout=120)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout.strip().splitlines()[-1])


@pytest.mark.slow
def test_lsprotocol_built_from_the_cache_behaves_the_same(tmp_path):
    env = dict(os.environ, QVR_CACHE_DIR=str(tmp_path))
    cold = _run(LSPROTOCOL_ROUND_TRIP, env)
    warm = _run(LSPROTOCOL_ROUND_TRIP, env)
    off = _run(LSPROTOCOL_ROUND_TRIP, dict(env, QVR_CODE_CACHE="off"))
    assert cold["misses"] > 500  # lsprotocol's classes, compiled once
    # the second start compiles almost nothing (attrs writes a per-process hash of the class into
    # the `__hash__` of hashable classes, so a few sources differ from run to run)
    assert warm["hits"] >= cold["misses"] - 5 and warm["misses"] <= 5, warm
    assert "hits" not in off  # turned off: no cache at all
    for run in (cold, warm, off):
        assert run["equal"] is True
        assert run["params"] == off["params"] and run["result"] == off["result"]
    assert warm["params"]["capabilities"]["general"]["positionEncodings"] == ["utf-8", "utf-16"]


def test_turned_off_installs_nothing(monkeypatch, tmp_path):
    monkeypatch.setenv("QVR_CODE_CACHE", "off")
    assert code_cache.install(tmp_path) is None
    assert not list(tmp_path.iterdir())


def test_cache_dir_follows_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("QVR_CACHE_DIR", str(tmp_path / "explicit"))
    assert code_cache.cache_dir() == tmp_path / "explicit"
    monkeypatch.delenv("QVR_CACHE_DIR")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert code_cache.cache_dir() == tmp_path / "xdg" / "qvr"


def _serve_once(env: dict) -> str:
    """Start `python -m qvr_lsp`, initialize, shut down and (once that is answered, as a client
    does) exit; its stderr (debug log)."""
    server = subprocess.Popen([sys.executable, "-m", "qvr_lsp", "--log-level", "DEBUG"], env=env,
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        for message in (
            {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {"processId": None, "capabilities": {}}},
            {"jsonrpc": "2.0", "method": "initialized", "params": {}},
            {"jsonrpc": "2.0", "id": 2, "method": "shutdown"},
        ):
            server.stdin.write(frame(message))
        server.stdin.flush()
        answered = set()
        while 2 not in answered:  # read responses until the one to `shutdown`
            length = 0
            while (line := server.stdout.readline().strip()):
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":")[1])
            answered.add(json.loads(server.stdout.read(length)).get("id"))
        _, err = server.communicate(frame({"jsonrpc": "2.0", "method": "exit"}), timeout=120)
    finally:
        if server.poll() is None:
            server.kill()
    assert server.returncode == 0, err.decode()
    return err.decode()


@pytest.mark.slow
def test_the_server_saves_at_exit_and_reuses_at_the_next_start(tmp_path):
    env = dict(os.environ, QVR_CACHE_DIR=str(tmp_path))
    env.pop("QVR_CODE_CACHE", None)
    first = _serve_once(env)
    files = list(tmp_path.iterdir())
    assert len(files) == 1 and files[0].name.startswith("generated-code-")
    second = _serve_once(env)
    reused_first, compiled_first = _counts(first)
    reused, compiled = _counts(second)
    assert compiled_first > 500
    assert reused >= compiled_first - 5 and compiled <= 5


def _counts(log: str) -> tuple[int, int]:
    import re

    found = re.findall(r"code cache .*: (\d+) reused, (\d+) compiled", log)
    assert found, log
    return int(found[-1][0]), int(found[-1][1])


def test_a_cache_directory_others_can_write_is_not_used(monkeypatch, tmp_path):
    """The cached code is executed: a directory that is not private to the user means no
    cache, and nothing is read from or written to it."""
    shared = tmp_path / "shared"
    shared.mkdir()
    shared.chmod(0o777)
    monkeypatch.setenv("QVR_CACHE_DIR", str(shared))
    monkeypatch.delenv("QVR_CODE_CACHE", raising=False)
    try:
        assert code_cache.install() is None
        assert list(shared.iterdir()) == []
        shared.chmod(0o700)
        assert code_cache.install() is not None
    finally:
        shared.chmod(0o700)
        for name in code_cache.GENERATORS:  # leave the generators' `compile` as it was
            module = sys.modules.get(name)
            if module is not None and "compile" in vars(module):
                del module.compile
