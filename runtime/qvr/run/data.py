"""The data a run fits: `load_data` reads ``--data`` (``.pt``, ``.npz`` or ``.json`` mapping
``x``, the observed sites' names and the entry's named inputs to arrays, spec part 2 §6.7) and
checks it site by site against one trace of the model; without ``--data``, `simulate` makes
random inputs of the entry's domain and named inputs, and forward-samples the observed sites
(as the seed 002 walkthrough does). The observations a run fits include the named inputs.

A text corpus (any other suffix) is not read here: `qvr.charlm` trains on it
(`qvr.run.drivers.run_corpus`).
"""
from __future__ import annotations

import json
from pathlib import Path

from .contract import RunError
from .program import check_protocol


def random_input(domain, batch: int, seq_len: int, device):
    """Random values of a domain type: uniform indices for finite leaves, N(0, 1) (mapped into
    bounds / the simplex) for continuous ones; sequences get ``seq_len`` positions."""
    import torch

    from ..semantics.types import SeqType

    lead = (batch, seq_len) if isinstance(domain, SeqType) else (batch,)
    elem = domain.elem if isinstance(domain, SeqType) else domain
    leaves = list(elem.leaves)
    if len(leaves) == 1 and hasattr(leaves[0], "n"):
        return torch.randint(0, leaves[0].n, lead, device=device)
    cols = []
    all_finite = all(hasattr(leaf, "n") for leaf in leaves)
    for leaf in leaves:
        if hasattr(leaf, "n"):
            cols.append(torch.randint(0, leaf.n, lead + (1,), device=device))
            continue
        v = torch.randn(lead + (leaf.d,), device=device)
        if getattr(leaf, "simplex", False):
            v = v.softmax(-1)
        elif leaf.low is not None and leaf.high is not None:
            v = leaf.low + (leaf.high - leaf.low) * torch.sigmoid(v)
        elif leaf.low is not None:
            v = leaf.low + v.exp()
        elif leaf.high is not None:
            v = leaf.high - v.exp()
        cols.append(v)
    if all_finite:
        return torch.cat(cols, -1)
    return torch.cat([c.to(torch.float32) for c in cols], -1)


def entry_batch(model, batch: int, explicit: bool) -> int:
    """The batch size of a run (spec part 2 §6.7): `|N|` for an entry with a row plate `N`
    (an explicit --batch must agree), 1 for an entry that never reads its input, else
    `batch`."""
    rows = getattr(model, "row_plates", None) or []
    if rows:
        row = rows[0]
        if explicit and batch != row.size:
            raise RunError(f"--batch {batch}: the entry has row plate `{row.name}` of {row.size} rows",
                           "usage")
        return row.size
    if getattr(model, "named_inputs", None) is not None and not getattr(model, "reads_input", True):
        return 1
    return batch


def _made_up_as_normal(spec) -> bool:
    """Whether `simulate_inputs` draws this named input from N(0, 1): real data, not index
    data and not a scalar parameter."""
    return spec.kind not in ("hyper", "index")


def normal_data_names(model) -> frozenset:
    """The named inputs `simulate_inputs` draws from N(0, 1)."""
    return frozenset(name for name, spec in (getattr(model, "named_inputs", None) or {}).items()
                     if _made_up_as_normal(spec))


def simulate_inputs(model, device) -> dict:
    """Named inputs made up for a run without --data (spec part 2 §6.7): real data N(0, 1),
    index data uniform over `[0, |N|)`, `Real` parameters 1.0, `Nat` parameters 1, open
    plates of size 10."""
    import torch

    out = {}
    for name, spec in (getattr(model, "named_inputs", None) or {}).items():
        if spec.kind == "hyper":
            out[name] = torch.tensor(1 if spec.dtype == "int64" else 1.0, device=device)
            continue
        shape = [10 if isinstance(k, tuple) else k.size for k in spec.plates]
        if _made_up_as_normal(spec):
            width = spec.type.width
            out[name] = torch.randn(shape + ([width] if width > 1 else []), device=device)
        else:
            out[name] = torch.randint(0, spec.type.cardinality, shape, device=device)
    return out


def simulate(model, domain, batch: int, seq_len: int, device):
    """Random inputs of the domain, named inputs (`simulate_inputs`) and observed sites
    forward-sampled from ``model``."""
    import torch

    check_protocol(model, "the entry")
    x = random_input(domain, batch, seq_len, device)
    named = simulate_inputs(model, device)
    with torch.no_grad():
        tr = model.trace(x, observations=named or None)
    observed = set(getattr(model, "observed_names", ()) or ())
    return x, {**named, **{n: s.value.detach() for n, s in tr.sites.items() if n in observed}}


def _read_data_file(path: str) -> dict:
    import torch

    suffix = Path(path).suffix.lower()
    try:
        if suffix == ".pt":
            raw = torch.load(path, map_location="cpu", weights_only=True)
        elif suffix == ".npz":
            import numpy as np

            with np.load(path, allow_pickle=False) as f:
                raw = {k: f[k] for k in f.files}
        elif suffix == ".json":
            with open(path, encoding="utf-8") as f:
                raw = json.load(f)
        else:
            raise RunError(f"--data {path}: expected a .pt, .npz or .json file, or a .txt text corpus",
                           "data", file=path)
    except RunError:
        raise
    except FileNotFoundError:
        raise RunError(f"--data {path}: no such file", "data", file=path) from None
    except Exception as exc:  # a corrupt or foreign file: say so, no traceback
        raise RunError(f"--data {path}: cannot read it ({type(exc).__name__}: {exc})", "data",
                       file=path) from None
    if not isinstance(raw, dict):
        raise RunError(f"--data {path}: expected a mapping from names (x and observed sites) to "
                       f"arrays, got {type(raw).__name__}", "data", file=path)
    return raw


def _as_tensor(name, value, path):
    import torch

    try:
        t = torch.as_tensor(value)
    except Exception:
        raise RunError(f"--data {path}: {name!r} is not a numeric array", "data", file=path) from None
    if t.dtype == torch.bool:
        t = t.to(torch.int64)
    elif not t.is_floating_point() and t.dtype != torch.int64:
        if t.is_complex():
            raise RunError(f"--data {path}: {name!r} is complex", "data", file=path)
        t = t.to(torch.int64)
    elif t.dtype == torch.float64:
        t = t.to(torch.float32)
    return t


def load_data(path: str, model, device):
    """``x`` and observations from a file, checked site by site against one model trace."""
    import torch

    from ..errors import QvrError

    check_protocol(model, "the entry")
    raw = _read_data_file(path)
    observed = sorted(getattr(model, "observed_names", ()) or ())
    inputs = list(getattr(model, "named_inputs", None) or {})
    reads_input = getattr(model, "reads_input", True)
    if "x" not in raw and reads_input:
        raise RunError(f"--data {path}: no 'x' (the model inputs); keys: {', '.join(map(str, raw))}",
                       "data", file=path)
    for name in inputs:
        if name not in raw:
            raise RunError(f"--data {path}: no values for named input {name!r}", "data", file=path)
    unknown = sorted(set(map(str, raw)) - {"x"} - set(observed) - set(inputs))
    if unknown:
        raise RunError(f"--data {path}: {', '.join(map(repr, unknown))} "
                       f"{'is not an observed site' if len(unknown) == 1 else 'are not observed sites'} "
                       f"(observed sites: {', '.join(observed) or 'none'})", "data", file=path)
    missing = [n for n in observed if n not in raw]
    if missing:
        raise RunError(f"--data {path}: no values for observed site {missing[0]!r}", "data", file=path)
    if "x" in raw:
        x = _as_tensor("x", raw["x"], path).to(device)
    else:  # the entry never reads its input: one row (spec part 2 §6.7)
        x = random_input(model.dom, 1, 1, device)
    named = {n: _as_tensor(n, raw[n], path).to(device) for n in inputs}
    try:
        with torch.no_grad():
            tr = model.trace(x, observations=named or None)
    except QvrError as exc:
        raise RunError(f"--data {path}: 'x' does not fit the model: {exc}", "data", file=path) from None
    observations = {}
    for name in observed:
        value = _as_tensor(name, raw[name], path).to(device)
        site = tr.sites[name]
        expected = tuple(site.value.shape)
        shape = tuple(value.shape)
        if len(expected) > 1 and shape in (expected[1:], expected[1:-1] if expected[-1] == 1 else None):
            # a plated site's values without the batch axis: shared by all rows (part 2 §6.7)
            value = value.reshape(expected[1:]).unsqueeze(0).expand(expected)
            shape = expected
        if shape != expected and not (len(expected) >= 1 and expected[-1] == 1 and shape == expected[:-1]):
            raise RunError(f"--data {path}: site {name!r} expects shape {expected} for this x, "
                           f"got {shape}", "data", file=path)
        discrete = bool(getattr(site.support, "is_discrete", False))
        if discrete and value.is_floating_point():
            raise RunError(f"--data {path}: site {name!r} is finite and needs integer values, "
                           f"got {value.dtype}", "data", file=path)
        if not discrete:
            value = value.to(site.value.dtype)
        check_value = value.reshape(expected)
        if not bool(site.support.check(check_value).all()):
            raise RunError(f"--data {path}: site {name!r} has values outside its support "
                           f"{site.support}", "data", file=path)
        observations[name] = value
    return x, {**named, **observations}
