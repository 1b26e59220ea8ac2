"""`qvr.load` / `qvr.loads` and the `Program` they return (spec §6.1, §6.4).

Loading analyses the text (the same `analyze()` the checker and the language server use),
refuses a module with Error diagnostics or without an export (the message lists the located
diagnostics exactly as `qvr check` prints them), builds the exported runtime module and moves
it to the device: `device=None` means `$QVR_DEVICE`, else cuda when available, else cpu.
"""
from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Optional

import torch
from torch import nn

from ..syntax.span import Span, normalize  # noqa: I001  (qvr.syntax before qvr.diagnostics: import cycle)
from ..diagnostics import Diagnostic, Severity
from ..errors import NotSupportedError, QvrCheckError, QvrError, QvrSyntaxError


class UnknownNameError(QvrError, KeyError):
    """`Program.env[name]` for a name the module does not declare."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else "unknown name"
from ..syntax.ast import ExportDecl, Ref
from .build import Builder
from .finite import finite_tensor

_SYNTAX_CODES = {"QVR001", "QVR002", "QVR003", "QVR004", "QVR005", "QVR006"}


class DeviceError(QvrError, RuntimeError):
    """An unknown device string, or CUDA asked for where there is none (a RuntimeError, as torch's)."""


def resolve_device(device=None) -> torch.device:
    if device is None:
        device = os.environ.get("QVR_DEVICE") or ("cuda" if torch.cuda.is_available() else "cpu")
    try:
        resolved = torch.device(device)
    except (RuntimeError, TypeError):
        raise DeviceError(f"unknown device {device!r} (expected e.g. 'cpu', 'cuda' or 'cuda:0')") from None
    if resolved.type == "cuda" and not torch.cuda.is_available():
        raise DeviceError(f"device {device!r}: CUDA is not available on this machine") from None
    return resolved


def _place(module: nn.Module, device: torch.device, dtype: torch.dtype) -> None:
    module.to(device=device)
    for p in module.parameters():
        if p.dtype.is_floating_point and p.dtype != dtype:
            p.data = p.data.to(dtype)
    for m in module.modules():
        m._qvr_device = device
        m._qvr_dtype = dtype
        for name, b in list(m._buffers.items()):
            if b is not None and b.dtype.is_floating_point:
                m._buffers[name] = b.to(dtype)


class _Env(Mapping):
    """`Program.env[name]`: the runtime module of any declared or defined name, built on first
    access with the program's builder (so it shares parameters with `.morphism`)."""

    def __init__(self, program: "Program"):
        self._program = program

    def _names(self):
        a = self._program.analysis
        return list(a.morphisms) + list(a.programs) + list(a.defines)

    def __getitem__(self, name):
        if name not in self._names():
            raise UnknownNameError(f"`{name}` is not a morphism, program or define of this module")
        p = self._program
        module = p._builder.named(name)
        _place(module, p.device, p.dtype)
        return module

    def __iter__(self):
        return iter(self._names())

    def __len__(self):
        return len(self._names())


class UnsupportedStub(nn.Module):
    """The runtime module of an export that uses a tier-2 or tier-3 construct (spec part 2
    §6.9): loading succeeds, and its first `rsample`, `trace`, `log_joint`, `forward` (or any
    other use) raises the located NotSupportedError found while building it."""

    def __init__(self, error: NotSupportedError):
        super().__init__()
        self.error = error

    def _raise(self, *args, **kwargs):
        raise self.error

    rsample = trace = log_joint = forward = site_specs = log_prob = _raise

    @property
    def observed_names(self):
        raise self.error


def build_or_stub(builder, expr):
    try:
        return builder.expr(expr)
    except NotSupportedError as error:
        if getattr(error, "tier", None) is None:  # not a tier-2/3 construct: refused at load (P1)
            raise
        return UnsupportedStub(error)


class _Exports(Mapping):
    """`Program.exports` (spec part 2 §6.5): each export's key (its name, or its source text
    when it is not a single name) to its runtime module, in source order; the first is the
    primary export (`Program.morphism`). Modules are built on first access."""

    def __init__(self, program: "Program"):
        self._program = program
        a = program.analysis
        self._decls = {}
        for st in a.module.statements:
            if isinstance(st, ExportDecl) and st.expr is not None:
                ref = getattr(st.expr, "name", None)
                key = ref.text if isinstance(st.expr, Ref) else a.text[st.expr.span.start:st.expr.span.end]
                self._decls.setdefault(key, st)
        self._built: dict = {}

    def __getitem__(self, key):
        if key not in self._decls:
            raise UnknownNameError(f"`{key}` is not an export of this module "
                                   f"(exports: {', '.join(self._decls) or 'none'})")
        if key not in self._built:
            p = self._program
            decl = self._decls[key]
            module = p.morphism if decl is p.analysis.export else build_or_stub(p._builder, decl.expr)
            _place(module, p.device, p.dtype)
            self._built[key] = module
        return self._built[key]

    def __iter__(self):
        return iter(self._decls)

    def __len__(self):
        return len(self._decls)


class Program(nn.Module):
    """A loaded QVR module: `.morphism` is the primary exported runtime module, `.exports`
    every export by name."""

    def __init__(self, analysis, *, source_name: str = "<string>", device=None,
                 dtype: torch.dtype = torch.float32):
        super().__init__()
        self.analysis = analysis
        self.source_name = source_name
        self.diagnostics = list(analysis.diagnostics)
        self._device = resolve_device(device)
        self.dtype = dtype
        self._builder = Builder(analysis, source_name=source_name)
        morphism = build_or_stub(self._builder, analysis.export.expr)
        _place(morphism, self._device, dtype)
        self.morphism = morphism
        self.env = _Env(self)
        self.exports = _Exports(self)

    @property
    def device(self) -> torch.device:
        return self._device

    @property
    def domain(self):
        return self.analysis.export_type.dom

    @property
    def codomain(self):
        return self.analysis.export_type.cod

    def forward(self, n_steps: Optional[int] = None) -> torch.Tensor:
        """The finite-world tensor of the exported expression (spec §5.9)."""
        return finite_tensor(self.morphism, n_steps)

    def rsample(self, x, **kwargs):
        return self.morphism.rsample(x, **kwargs)


def _refuse(analysis, source_name: str):
    """Raise QvrSyntaxError/QvrCheckError listing located Error diagnostics (qvr check format)."""
    errors = [d for d in analysis.diagnostics if d.severity == Severity.ERROR]
    if not errors and analysis.export is None:
        # the checker's own QVR055 (Information) says why; keep its wording and position
        errors = [d for d in analysis.diagnostics if d.code == "QVR055"] or [
            Diagnostic("QVR055", Severity.INFORMATION, "no `export`; `qvr.load` cannot run this module",
                       Span(0, 0))]
    if not errors:
        return
    lines = [d.format(source_name, analysis.line_index) for d in errors]
    cls = QvrSyntaxError if any(d.code in _SYNTAX_CODES for d in errors) else QvrCheckError
    raise cls("\n".join(lines), errors, source_name)


def loads(text: str, *, device=None, dtype: torch.dtype = torch.float32, name: str = "<string>") -> Program:
    from ..semantics import analyze
    from ..source import decode_source

    if isinstance(text, (bytes, bytearray)):
        text = decode_source(bytes(text), name)  # not UTF-8: a located QvrSyntaxError
    if not isinstance(text, str):
        raise TypeError(f"qvr.loads expects QVR source text (str), got {type(text).__name__}")
    if not (isinstance(dtype, torch.dtype) and dtype.is_floating_point):
        raise TypeError(f"dtype must be a floating-point torch dtype (e.g. torch.float32), got {dtype}")
    analysis = analyze(normalize(text))
    _refuse(analysis, name)
    return Program(analysis, source_name=name, device=device, dtype=dtype)


def load(path, *, device=None, dtype: torch.dtype = torch.float32) -> Program:
    from ..source import read_source  # bytes that are not UTF-8: a located QVR001, not UnicodeDecodeError

    path = Path(path)
    text = read_source(path)
    return loads(text, device=device, dtype=dtype, name=str(path))
