"""The semantic layer of QVR: types, name resolution, inference and the checker.

`analyze(text)` returns an immutable `Analysis` (symbols, references, inferred types and every
diagnostic of spec §4.8), and `analyze_steps` does the same as a generator (`qvr.stepwise`);
both run the one analysis engine (`qvr.semantics.engine`) on a fresh document, which the
language server also runs incrementally, version after version;
`check(text)` returns just the diagnostics; `migrate(text)` rewrites every deprecated form to
the current one. Never imports torch.
"""
from __future__ import annotations

# qvr.syntax must initialise before qvr.diagnostics (the latter imports qvr.syntax.span, and
# qvr.syntax imports qvr.diagnostics); importing it first keeps either entry order working.
from .. import syntax as _syntax  # noqa: F401


def analyze(text, *, parsed=None):
    from .engine import analyze as _analyze
    return _analyze(text, parsed=parsed)


def analyze_steps(text, parsed):
    """`analyze` as a generator that yields now and then (`qvr.stepwise`)."""
    from .engine import analyze_steps as _analyze_steps
    return _analyze_steps(text, parsed)


def check(text, uri: str = "<string>"):
    from .engine import check as _check
    return _check(text, uri=uri)


def migrate(text):
    from .migration import migrate as _migrate
    return _migrate(text)
