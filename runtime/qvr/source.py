"""Reading QVR source files: bytes → text, with a located error for bytes that are not UTF-8.

Spec §2.1: source is UTF-8. A file that is not (a Latin-1 file, binary junk) must give the user
`file:line:col: error[QVR001]: ...` at the first offending byte, like any other unexpected
character, not a `UnicodeDecodeError` traceback. `qvr check`, `qvr fmt`, `qvr run` and
`qvr.load` all read files through `read_source`. Torch-free (the checker imports it).
"""
from __future__ import annotations

import errno
import os
import stat
from pathlib import Path

from .syntax.span import LineIndex, Span, normalize  # noqa: I001  (qvr.syntax before qvr.diagnostics)
from .diagnostics import Diagnostic, Severity
from .errors import QvrSyntaxError


def invalid_utf8_diagnostic(data: bytes, exc: UnicodeDecodeError) -> tuple[Diagnostic, LineIndex]:
    """The QVR001 diagnostic for the first undecodable byte, and the LineIndex it refers to.

    The position is computed in the normalised text (what every other diagnostic uses), with
    undecodable bytes shown as U+FFFD, so line and column are those an editor shows.
    """
    replaced = normalize(data.decode("utf-8", errors="replace"))
    # Everything before exc.start decodes; normalising it gives the offset in `replaced`.
    start = len(normalize(data[:exc.start].decode("utf-8")))
    bad = data[exc.start:exc.end]
    shown = " ".join(f"0x{b:02x}" for b in bad[:4])
    message = f"unexpected byte {shown}: QVR source must be UTF-8 text"
    return Diagnostic("QVR001", Severity.ERROR, message, Span(start, start + 1)), LineIndex(replaced)


def decode_source(data: bytes, name: str = "<bytes>") -> str:
    """Decode UTF-8 source bytes; raise QvrSyntaxError (located QVR001) if they are not UTF-8.

    The text is returned as written (BOM and line terminators kept); callers normalise.
    """
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        diagnostic, index = invalid_utf8_diagnostic(data, exc)
        raise QvrSyntaxError(diagnostic.format(name, index), [diagnostic], name) from None


def read_regular_file(path, max_bytes: int | None = None) -> bytes:
    """The bytes of `path`, which must be a regular file (a symlink to one is fine).

    A FIFO, a device (`/dev/zero`, `/dev/stdin`), a socket or a directory raises OSError with
    "not a regular file" (or "Is a directory") instead of blocking or reading without end: the
    file is opened non-blocking and checked with `fstat` before anything is read. With
    `max_bytes`, a larger file raises OSError (EFBIG) without being read."""
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)
    fd = os.open(path, flags)
    try:
        st = os.fstat(fd)
        if stat.S_ISDIR(st.st_mode):
            raise IsADirectoryError(errno.EISDIR, os.strerror(errno.EISDIR), str(path))
        if not stat.S_ISREG(st.st_mode):
            raise OSError(errno.EINVAL, "not a regular file", str(path))
        if max_bytes is not None and st.st_size > max_bytes:
            raise OSError(errno.EFBIG, f"larger than {max_bytes} bytes", str(path))
        os.set_blocking(fd, True)
        with os.fdopen(fd, "rb") as f:
            fd = -1  # the file object owns it now
            if max_bytes is None:
                return f.read()
            data = f.read(max_bytes + 1)  # it may have grown since `fstat`
    finally:
        if fd >= 0:
            os.close(fd)
    if len(data) > max_bytes:
        raise OSError(errno.EFBIG, f"larger than {max_bytes} bytes", str(path))
    return data


def read_source(path) -> str:
    """Read a QVR file as text. OSError (missing, a directory, not a regular file, unreadable)
    propagates; bytes that are not UTF-8 raise QvrSyntaxError with a located QVR001 diagnostic."""
    path = Path(path)
    return decode_source(read_regular_file(path), str(path))
