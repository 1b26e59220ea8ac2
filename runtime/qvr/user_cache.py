"""The user's own cache directory for qvr, refused unless it is private.

What qvr caches between processes (lark's tables for the error parser, see
`qvr.syntax.parser.error_parser`) is read back with `pickle`, so whoever can write the file
can run code as the user who reads it. The directory is therefore the user's own:
``$QVR_CACHE_DIR``, else ``$XDG_CACHE_HOME/qvr``, else ``~/.cache/qvr``, created with mode
0700, and used only while it is a real directory (not a symlink) owned by the current user
that neither group nor others can write. Anything else means "no cache": slower, never unsafe.
The shared temp dir is never used (lark's default there has a predictable name).
"""
from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import Optional


def cache_dir() -> Path:
    """Where the cache lives: QVR_CACHE_DIR, else $XDG_CACHE_HOME/qvr, else ~/.cache/qvr."""
    explicit = os.environ.get("QVR_CACHE_DIR")
    if explicit:
        return Path(explicit)
    xdg = os.environ.get("XDG_CACHE_HOME")
    return (Path(xdg) if xdg else Path.home() / ".cache") / "qvr"


def is_private(path: Path) -> bool:
    """Whether `path` is a directory (not a symlink to one) of the current user's that no
    one else may write."""
    try:
        st = os.lstat(path)
    except OSError:
        return False
    if not stat.S_ISDIR(st.st_mode) or st.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
        return False
    return not hasattr(os, "getuid") or st.st_uid == os.getuid()


def private_cache_dir() -> Optional[Path]:
    """The cache directory, created 0700 when missing; None when it cannot be made or is not
    private (see `is_private`)."""
    path = cache_dir()
    try:
        path.mkdir(mode=0o700, parents=True, exist_ok=True)
    except OSError:
        return None
    return path if is_private(path) else None
