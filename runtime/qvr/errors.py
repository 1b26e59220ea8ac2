"""Exception hierarchy of the `qvr` API (spec §5.11). Imports nothing heavy."""
from __future__ import annotations


class QvrError(Exception):
    """Base of every error a documented `qvr` call raises."""


class _WithDiagnostics(QvrError):
    def __init__(self, message: str, diagnostics=(), source_name: str = "<string>"):
        super().__init__(message)
        self.diagnostics = list(diagnostics)
        self.source_name = source_name


class QvrSyntaxError(_WithDiagnostics):
    """The source does not parse; `.diagnostics` holds the located QVR001–QVR005 errors."""


class QvrCheckError(_WithDiagnostics):
    """The source parses but has Error diagnostics (or no export) and cannot be loaded."""


class ShapeError(QvrError, ValueError):
    """An input, observation or value has the wrong shape or dtype; says what was expected."""


class MissingSiteError(QvrError, KeyError):
    """`log_joint` was not given a value for a random site; names the site."""

    def __str__(self) -> str:  # KeyError quotes its argument; keep the message readable
        return str(self.args[0]) if self.args else "missing site"


class NotSupportedError(QvrError, NotImplementedError):
    """The construct is valid QVR but this runtime does not run it (e.g. grammar parsers)."""


class MissingDataError(MissingSiteError):
    """A named input (data name or scalar parameter, spec part 2 §6.7) was not supplied; names
    the input and its first use."""


def non_finite_site(site: str) -> str:
    """How a run names the site that made its loss or log joint non-finite (SVI and NUTS
    errors, the note on NaN prior draws)."""
    return f"site {site!r} has a non-finite log-density or value"


def at_site(exc: BaseException, site) -> BaseException:
    """`exc`, marked with the site whose computation raised it (`qvr_site`; the innermost one,
    which marks it first, wins), so that `qvr run` can point at the step that draws that site
    (`qvr.run.program.Locator.failures`)."""
    if site is not None and getattr(exc, "qvr_site", None) is None:
        try:
            exc.qvr_site = site
        except AttributeError:  # an exception type that takes no attributes
            pass
    return exc
