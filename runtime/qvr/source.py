"""Reading QVR source files: bytes → text, with a located error for bytes that are not UTF-8.

Spec §2.1: source is UTF-8. A file that is not (a Latin-1 file, binary junk) must give the user
`file:line:col: error[QVR001]: ...` at the first offending byte, like any other unexpected
character, not a `UnicodeDecodeError` traceback. `qvr check`, `qvr fmt`, `qvr run` and
`qvr.load` all read files through `read_source`. Torch-free (the checker imports it).
"""
from __future__ import annotations

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


def read_source(path) -> str:
    """Read a QVR file as text. OSError (missing, a directory, unreadable) propagates as is;
    bytes that are not UTF-8 raise QvrSyntaxError with a located QVR001 diagnostic."""
    path = Path(path)
    return decode_source(path.read_bytes(), str(path))
