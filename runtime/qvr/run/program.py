"""The program a run works on: `load_program` reads and loads FILE (every failure a located
`RunError`), `pick_entry` finds the entry (the export, or a program or define by name), the
`check_*` functions refuse a model a run cannot use, and `Locator` maps a failing site back to
the program step that draws it.
"""
from __future__ import annotations

import os
import traceback
from contextlib import contextmanager
from pathlib import Path

from ..errors import NotSupportedError, QvrError, non_finite_site
from .contract import RunError


def load_program(path: Path, device, *, seed: int):
    import torch

    import qvr
    from ..errors import QvrCheckError, QvrSyntaxError
    from ..syntax.span import LineIndex, normalize

    from ..source import invalid_utf8_diagnostic

    try:
        data = path.read_bytes()
    except OSError as exc:
        raise RunError(f"cannot read {path}: {exc.strerror or exc}", "io", file=str(path)) from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:  # spec §2.1: a located QVR001, like `qvr check` gives
        diagnostic, index = invalid_utf8_diagnostic(data, exc)
        line, col = index.position(diagnostic.span.start)
        raise RunError(diagnostic.message, diagnostic.code, file=str(path),
                       line=line + 1, column=col + 1) from None
    torch.manual_seed(seed)  # parameter initialisation is part of the run's seed
    try:
        return qvr.loads(text, device=device, name=str(path)), text
    except (QvrSyntaxError, QvrCheckError) as exc:
        first = exc.diagnostics[0] if exc.diagnostics else None
        if first is None:
            raise RunError(str(exc), "load", file=str(path)) from None
        line, col = LineIndex(normalize(text)).position(first.span.start)
        raise RunError(f"{first.message} ({len(exc.diagnostics)} error(s); run `qvr check`)",
                       first.code, file=str(path), line=line + 1, column=col + 1) from None
    except NotSupportedError:
        raise  # located at the construct (a RuntimeError too, but not about the device)
    except RuntimeError as exc:  # e.g. an unknown --device
        from ..compile.loader import DeviceError

        if isinstance(exc, DeviceError):  # its message already names the device
            raise RunError(f"cannot place the model on {exc}", "device") from None
        raise RunError(f"cannot place the model on device {device!r}: {exc}", "device") from None


def pick_entry(program, name, path):
    """(entry name, runtime module, domain) of the run; a located NotSupportedError for an
    export that uses a tier-2/3 construct, an `entry` error for a finite-world tensor."""
    name, module, domain = _pick_entry(program, name, path)
    error = getattr(module, "error", None)
    if isinstance(error, NotSupportedError):  # an UnsupportedStub (spec part 2 §6.9)
        raise error
    _refuse_finite_world(name, module, path)
    return name, module, domain


def _refuse_finite_world(name, module, path) -> None:
    """A finite-world expression in an algebra other than `markov` is a tensor, not a
    distribution (spec part 2 §7.1: `qvr run` refuses it with `entry`)."""
    from ..compile.finite import quantale_of

    algebra = quantale_of(module)
    if algebra != "markov" and not getattr(module, "is_program", False):
        raise RunError(f"`{name}` is a finite-world expression in the `{algebra}` algebra (a "
                       f"tensor, not a distribution): evaluate it with "
                       f"`qvr.load(path).forward()`; `qvr run` needs a program", "entry",
                       file=str(path))


def _pick_entry(program, name, path):
    analysis = program.analysis
    exports = getattr(program, "exports", None) or {}
    if name is None and len(exports) > 1:
        # the first export that is a program (or a define whose value is one; part 2 §6.7)
        for key in exports:
            if key in analysis.programs or (key in analysis.defines and _is_program_define(program, key)):
                name = key
                break
    if name is None:
        export = analysis.export
        label = getattr(getattr(export, "expr", None), "name", None) or path.stem
        label = getattr(label, "text", label)
        return str(label), program.morphism, getattr(analysis.export_type, "dom", None)
    if name in exports and name not in analysis.programs and name not in analysis.defines:
        # an export written as an expression: its source text is its key (part 2 §6.5)
        return name, exports[name], getattr(analysis.export_type, "dom", None)
    info = analysis.programs.get(name) or analysis.defines.get(name) or analysis.morphisms.get(name)
    if info is None:
        names = sorted(set(analysis.programs) | set(analysis.defines))
        raise RunError(f"no program or define named {name!r} in {path} (available: "
                       f"{', '.join(names) or 'none'})", "entry", file=str(path))
    module = program.env[name]
    mtype = getattr(info, "effective", None) or getattr(info, "type", None)
    return name, module, mtype.dom


def _is_program_define(program, name) -> bool:
    try:
        return bool(getattr(program.env[name], "is_program", False))
    except Exception:  # a define that cannot be built is not a default entry
        return False


def check_protocol(model, entry_what: str):
    if not all(hasattr(model, a) for a in ("trace", "log_joint", "site_specs")):
        raise RunError(f"{entry_what} is not a program: `qvr run` needs a program (or a define "
                       "whose value is one) with sample/observe steps", "entry")


def check_something_to_fit(model, entry: str, kind: str, lift: bool) -> None:
    """Refuse (code ``nothing-to-fit``) an SVI/NUTS run whose objective cannot depend on
    anything: SVI needs latent sites (the guide learns them) or observed sites with parameters
    to learn; NUTS needs latent sites, or with --lift, parameters to lift."""
    if kind == "sample":
        return
    check_protocol(model, "the entry")
    from ..compile.trace import LATENT, OBSERVED

    kinds = {spec.kind for spec in model.site_specs()}
    has_params = any(p.requires_grad for p in model.parameters())
    latent, observed = LATENT in kinds, OBSERVED in kinds
    if kind == "svi" and (latent or (observed and has_params)):
        return
    if kind == "nuts" and (latent or (lift and has_params)):
        return
    what = []
    if not has_params:
        what.append("no parameters")
    if not latent:
        what.append("no latent sites")
    if not observed:
        what.append("no observed sites")
    need = ("latent sites, or observed sites and parameters" if kind == "svi" else
            "latent sites (sample steps)" + ("" if lift else ", or parameters with --lift"))
    raise RunError(f"nothing to fit: `{entry}` has {', '.join(what)}; --{kind} needs {need}",
                   "nothing-to-fit")


class Locator:
    """Maps a failing site back to the program step that draws it (file/line/column)."""

    def __init__(self, program, entry, text, file):
        self.program, self.entry, self.text, self.file = program, entry, text, file
        # named inputs this run made up as N(0, 1) data (no --data): a failure at a step that
        # reads one says so, since real values may well be valid there
        self.simulated: frozenset = frozenset()

    def nan_error(self, step, model, guide, x, observations) -> RunError:
        """The `nan` error of an SVI step whose loss is not finite: located at the first site of
        a draw from the guide whose log-density or value is not finite, where one is."""
        import torch

        from ..infer.sites import first_non_finite_site

        try:
            with torch.no_grad():
                values = guide.rsample(x)
        except Exception:  # locating is best effort; the NaN report itself must go out
            values = None
        site = None if values is None else first_non_finite_site(model, x, observations, values)
        message = f"the loss became non-finite at step {step}"
        if site is None:
            return RunError(message + " (lower --lr?)", "nan")
        line, col = self.position_of(site)
        return RunError(f"{message}: {non_finite_site(site)} (lower --lr?)",
                        "nan", file=self.file if line else None, line=line, column=col)

    def non_finite_at(self, model, x, observations, values) -> dict:
        """Where a trace with these values first has a non-finite log-density or value: the
        site and, when it is found in the source, the file and 1-based line and column (what a
        run with NaN prior draws reports in its summary); empty when no site is."""
        from ..infer.sites import first_non_finite_site

        site = first_non_finite_site(model, x, observations, values)
        if site is None:
            return {}
        line, col = self.position_of(site)
        where = {"file": self.file, "line": line, "column": col} if line else {}
        return {"site": site, **where}

    @contextmanager
    def failures(self):
        """A failure raised while a program step computes its site (marked `qvr_site` by
        `qvr.compile.program`: a literal or a family's parameters out of range, say) comes out
        as a `runtime` error located at the entry's step that draws that site."""
        try:
            yield
        except RunError:
            raise
        except Exception as exc:
            site = getattr(exc, "qvr_site", None)
            if site is None:
                raise
            if os.environ.get("QVR_DEBUG"):  # as for any other failure of a run
                traceback.print_exc()
            if isinstance(exc, NotSupportedError):  # a tier-2/3 stub: its message is located
                raise RunError.unsupported(exc) from None
            line, col = self.position_of(site)
            # (the runtime's own errors name the site already)
            where = "" if isinstance(exc, QvrError) else f"while computing site {site!r}: "
            raise RunError(f"{where}{type(exc).__name__}: {exc}{self._simulated_note(site)}",
                           "runtime", file=self.file if line else None, line=line,
                           column=col) from None

    def _simulated_note(self, site: str) -> str:
        names = self.simulated_inputs_of(site)
        if not names:
            return ""
        listed = ", ".join(f"`{n}`" for n in names)
        return (f" (this run made up {listed} as N(0, 1) data, which may be out of range there: "
                "supply real values with --data FILE)")

    def position_of(self, site: str):
        """(line, column), 1-based, of the program step that draws `site`, or (None, None)."""
        from ..syntax.span import LineIndex, normalize

        span = getattr(self.step_of(site)[1], "span", None)
        if span is None:
            return None, None
        line, col = LineIndex(normalize(self.text)).position(span.start)
        return line + 1, col + 1

    def step_of(self, site: str):
        """(the program's info, the step's AST node) of the program step that draws `site`;
        the node is None where none is found.

        A site is named by its path (spec §5.8, naming): an entry program's steps are at their
        variable; a step of a program drawn inside another, or referenced as an earlier
        component of a composite, lies below that program's name (`…/p/mu`); the steps of the
        last component of a define entry's `>>` chain lie below the define's output
        (`output/y`)."""
        from ..compile.base import ROOT_SITE

        parts = site.split("/")
        analysis = self.program.analysis
        programs = analysis.programs
        node = None
        # the innermost program named in the path, with a step of that name below it
        info = None
        for k in range(len(parts) - 1, 0, -1):
            info = programs.get(parts[k - 1])
            if info is not None and parts[k] in info.variables:
                node = info.variables[parts[k]].node
                break
        if node is None:
            entry = self.entry
            if entry is None and analysis.export is not None:
                ref = getattr(analysis.export.expr, "name", None)
                entry = getattr(ref, "text", ref)
            info, var = programs.get(entry), parts[0]
            if info is None and parts[0] == ROOT_SITE and len(parts) > 1:
                info, var = _last_program(analysis, entry), parts[1]
            node = getattr(info.variables.get(var), "node", None) if info is not None else None
        return info, node

    def simulated_inputs_of(self, site: str) -> list[str]:
        """The named inputs that the step drawing `site` reads, directly or through the `let`
        steps it uses, and that this run made up as N(0, 1) data (`simulated`, set by a run
        without --data), in the order they are met."""
        info, node = self.step_of(site)
        if node is None or not self.simulated:
            return []
        analysis = self.program.analysis
        names, seen, todo = [], {id(node)}, [node]
        while todo:
            for ref in analysis.references_within(todo.pop(0).span):
                var = info.variables.get(ref.symbol.name)
                if var is None:
                    continue
                # (a data name's first use is its definition: that use counts too)
                if var.kind == "data" and var.name in self.simulated and var.name not in names:
                    names.append(var.name)
                elif var.kind == "let" and id(var.node) not in seen:
                    seen.add(id(var.node))
                    todo.append(var.node)
        return names


def _last_program(analysis, name):
    """The program whose steps a run of the define `name` records below its output: the last
    component of its `>>` chain (`Compose.right`; the parser puts `q << p` as `p >> q`), through
    references to other defines; None when that is not a program."""
    from ..syntax import ast as A

    seen = set()
    info = analysis.defines.get(name)
    expr = info.decl.expr if info is not None else None
    while expr is not None:
        if expr.__class__ is A.Compose:
            expr = expr.right
        elif expr.__class__ is A.Ref:
            name = expr.name.text
            if name in analysis.programs:
                return analysis.programs[name]
            info = analysis.defines.get(name)
            if info is None or name in seen:
                return None
            seen.add(name)
            expr = info.decl.expr
        else:
            return None
    return None
