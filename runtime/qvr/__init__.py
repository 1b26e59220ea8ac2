"""QVR: a typed probabilistic programming language for (Bayesian) recurrent models.

`import qvr` is cheap and never imports torch: the checker and the language server use
`qvr.parse` / `qvr.check` / `qvr.analyze`. The runtime entry points (`load`, `loads`) import
torch on first use.
"""
from __future__ import annotations

from .errors import (  # noqa: F401  (re-exported API)
    MissingSiteError,
    NotSupportedError,
    QvrCheckError,
    QvrError,
    QvrSyntaxError,
    ShapeError,
)

__version__ = "0.1.0"

_LAZY = {
    "parse": ("qvr.syntax", "parse"),
    "analyze": ("qvr.semantics", "analyze"),
    "check": ("qvr.semantics", "check"),
    "load": ("qvr.compile", "load"),
    "loads": ("qvr.compile", "loads"),
    "Program": ("qvr.compile", "Program"),
}


# Subpackages reachable as attributes (`qvr.infer.SVI`), imported on first use: `qvr.compile`
# and `qvr.infer` import torch.
_SUBPACKAGES = ("syntax", "semantics", "compile", "infer", "charlm", "runner", "cli")


def __getattr__(name: str):
    # Lazy so that `import qvr` stays torch-free for the checker and the language server.
    if name in _SUBPACKAGES:
        import importlib

        return importlib.import_module(f"qvr.{name}")
    if name in _LAZY:
        import importlib

        module, attr = _LAZY[name]
        value = getattr(importlib.import_module(module), attr)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'qvr' has no attribute {name!r}")
