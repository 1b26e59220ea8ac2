"""Keep the code that attrs and cattrs generate at start-up on disk, so later starts skip compiling it.

Why: `import lsprotocol.types` builds about 570 attrs classes, and attrs writes out the source of
each class' `__init__`, `__eq__`, `__repr__`... and compiles it; cattrs does the same for each
converter it generates. Compiling those sources is about half of that import (~130 of ~280 ms
here), which is the largest single cost between starting the server and the first diagnostics.
The sources are identical from one start to the next, so their compiled code objects are kept in
a file and reused (as Python keeps the bytecode of modules in `__pycache__`).

How: `install()` puts a `compile` into the globals of the generating modules (`attr._make`,
`cattrs.gen`, `cattrs.gen.typeddicts`). Python looks a name up in a module's globals before the
builtins, so their ``compile(source, filename, "exec")`` calls come here. A call with exactly
those three arguments is looked up by a digest of (flags, mode, filename, source); any other call
goes straight to the builtin. The builtin `compile` inherits the `__future__` flags of its caller,
so each module gets a shim that passes that module's flags explicitly: a cached code object is
the very one the builtin would have made there (tests/lsp/test_code_cache.py compares them).

Safety:
* The file carries Python's bytecode magic number and a checksum of its contents; a file from
  another Python, a truncated or corrupted one, or anything else unreadable is ignored (the
  cache starts empty) and replaced at the next save.
* A new version of lsprotocol/attrs/cattrs writes new sources, which simply miss.
* Saving writes a temporary file and renames it, so servers starting side by side never read
  half a file; a directory that cannot be written just means no cache.
* If a library stops calling `compile` by that name, the shim is never called and nothing changes.

`QVR_CODE_CACHE=off` turns it off; `QVR_CACHE_DIR` chooses the directory (default
``$XDG_CACHE_HOME/qvr``, else ``~/.cache/qvr``: `qvr.user_cache.cache_dir`). The cached code is
executed, so the directory is used only while it is private to the user (created 0700, owned by
them, writable by nobody else: `qvr.user_cache.private_cache_dir`); otherwise there is no cache.
The server saves at its first idle pause and at exit, and only when something new was compiled.
"""
from __future__ import annotations

import __future__
import builtins
import hashlib
import importlib.util
import logging
import marshal
import os
import sys
import zlib
from pathlib import Path
from typing import Optional

from qvr.user_cache import cache_dir, private_cache_dir  # noqa: F401  (cache_dir re-exported)

log = logging.getLogger(__name__)

# The modules whose generated code is cached: attrs builds classes, cattrs builds converters.
GENERATORS = ("attr._make", "cattrs.gen", "cattrs.gen.typeddicts")
_HEADER = b"qvr-code-cache 1\n" + importlib.util.MAGIC_NUMBER
# Entries kept beyond the ones a run used: other sessions generate other code (the requests
# they answered), and some sources differ from run to run (attrs salts the `__hash__` of a
# frozen class with `hash()` of a string, which changes with every process, so one class of
# cattrs misses at every start and adds an entry). Past this many unused entries the file is
# rewritten with only what the run used: each entry costs about 11 us of loading at every start.
MAX_UNUSED = 100


def _future_flags(namespace: dict) -> int:
    """The `__future__` flags a module's own calls to `compile` inherit."""
    flags = 0
    for name in __future__.all_feature_names:
        feature = getattr(__future__, name)
        if namespace.get(name) is feature:
            flags |= feature.compiler_flag
    return flags


class CodeCache:
    """Compiled code objects by digest of what was compiled, loaded from and saved to `path`."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.code: dict[bytes, object] = self._load(path)
        self.used: set[bytes] = set()
        self.hits = 0
        self.misses = 0
        self._dirty = False

    @staticmethod
    def _load(path: Path) -> dict:
        try:
            data = path.read_bytes()
        except OSError:
            return {}
        head = len(_HEADER)
        if not data.startswith(_HEADER) or len(data) < head + 4:
            return {}
        payload = data[head + 4:]
        if int.from_bytes(data[head:head + 4], "little") != zlib.crc32(payload):
            log.debug("code cache %s: checksum mismatch, ignored", path)
            return {}
        try:
            code = marshal.loads(payload)
        except (ValueError, EOFError, TypeError):
            return {}
        if not isinstance(code, dict):
            return {}
        return code

    def compiler(self, flags: int):
        """A `compile` for a module whose own calls would use `flags`."""
        code_table, used, real_compile = self.code, self.used, builtins.compile

        def compile(source, filename, mode, *more, **options):  # noqa: A001 (the shim's name)
            if more or options or not isinstance(source, str) or not isinstance(filename, str):
                return real_compile(source, filename, mode, *more, **options)
            key = hashlib.blake2b(f"{flags}\0{mode}\0{filename}\0{source}".encode(),
                                  digest_size=16).digest()
            code = code_table.get(key)
            if code is None:
                code = real_compile(source, filename, mode, flags, True)
                code_table[key] = code
                self.misses += 1
                self._dirty = True
            else:
                self.hits += 1
            used.add(key)
            return code

        return compile

    def save(self) -> bool:
        """Write the cache if this run compiled anything new; True when written."""
        log.debug("code cache %s: %d reused, %d compiled", self.path, self.hits, self.misses)
        if not self._dirty:
            return False
        table = self.code
        if len(table) - len(self.used) > MAX_UNUSED:
            table = {k: v for k, v in table.items() if k in self.used}
        import tempfile  # (with the shutil and random it loads) needed only here, after start-up

        try:
            payload = marshal.dumps(table)
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=".code-cache-", dir=self.path.parent)
            try:
                with os.fdopen(fd, "wb") as out:
                    out.write(_HEADER + zlib.crc32(payload).to_bytes(4, "little") + payload)
                os.replace(tmp, self.path)
            except BaseException:
                os.unlink(tmp)
                raise
        except (OSError, ValueError) as exc:
            log.debug("code cache %s not written: %s", self.path, exc)
            self._dirty = False  # do not retry on every idle pause
            return False
        self._dirty = False
        return True


def install(directory: Optional[Path] = None) -> Optional[CodeCache]:
    """Load the cache and route the generators' `compile` calls through it (before
    `lsprotocol.types` is imported). None when turned off by QVR_CODE_CACHE=off."""
    if os.environ.get("QVR_CODE_CACHE", "").lower() in ("0", "off", "no", "false"):
        return None
    if directory is None:
        # Code objects from this file are executed: only the user's own private directory
        # (`qvr.user_cache`) is trusted, never one that others can write.
        directory = private_cache_dir()
        if directory is None:
            return None
    tag = f"{sys.implementation.cache_tag}-{sys.version_info.releaselevel}"
    cache = CodeCache(directory / f"generated-code-{tag}.marshal")
    for name in GENERATORS:
        try:
            module = importlib.import_module(name)
        except ImportError:
            continue
        module.compile = cache.compiler(_future_flags(vars(module)))
    return cache
