"""Automatic guides (variational families) over a model's continuous latent sites (spec §6.3).

A guide is an ``nn.Module`` with ``rsample(x) -> {site: value}``, ``log_prob(x, sites) -> (B,)``
and ``latent_names``. Both guides here work in *unconstrained* space and push values through
each site's support bijection (``biject_to(support)``: identity, exp, scaled sigmoid,
stick-breaking), so positive or bounded sites never receive invalid values; the Normal
guide's density includes the log-det-Jacobian of that push-forward.

Parameters exist from construction. By default each has the site's per-element
(unconstrained) event shape and is broadcast over batch and time, so one guide serves every
batch size and sequence length. With ``example_input`` they take the full site shapes of one
trace at that input instead (one variational factor per row and time step); a batch that is a
whole multiple of that size (particles folded into the batch) reuses them per copy. For a
plated program (spec part 2 §6.8) each plate element has its own parameters: their shape is the
site's plate sizes followed by its unconstrained event shape, taken from the site specs (no
trace, since the model may read named inputs the guide never sees), broadcast over the batch.
"""
from __future__ import annotations

import math

import torch
from torch import nn

from ..errors import ShapeError, at_site
from .sites import (
    LatentShape,
    ShapeOracle,
    _shape_key,
    batch_size,
    is_real_support,
    latent_specs,
    model_device,
    require_continuous,
    sum_to_rows,
    to_device,
)
from torch.distributions import biject_to


def _key(name: str) -> str:
    # nn.Module forbids "." in parameter names; site names like "theta/parts.0.weight" have one.
    key = name.replace(".", ":")
    # a site named like an attribute of the dictionary module (`parameters`, `forward`, `to`)
    # cannot be a key of it; no site name holds ":", so the suffix is the site's alone
    return key + ":site" if hasattr(nn.ParameterDict, key) else key


def _rows(x) -> int:
    """Rows of a guide draw: a program that never reads its input runs with x=None (B = 1)."""
    return 1 if x is None else batch_size(x)


def _open_plate_sizes(model, named) -> dict:
    """`?name` -> the length of the open plate (data rows) a named input supplies: its axis
    for that plate (named data have no batch axis, part 2 §6.7)."""
    sizes = {}
    for spec in (getattr(model, "named_inputs", None) or {}).values():
        value = (named or {}).get(spec.name)
        if value is None:
            continue
        for axis, plate in enumerate(spec.plates):
            if isinstance(plate, tuple) and axis < value.dim():
                sizes[f"?{plate[1]}"] = int(value.shape[axis])
    return sizes


class _AutoGuide(nn.Module):
    """Shared machinery: latent discovery, per-site parameter shapes, broadcasting."""

    def __init__(self, model, observed_names=None, example_input=None, *, what: str,
                 named_inputs=None):
        super().__init__()
        specs = latent_specs(model, observed_names)
        require_continuous(specs, what)
        # The model is not a submodule: guide.parameters() must list only the guide's own.
        self._model = [model]
        # the data the model reads by name (part 2 §6.7): a trace that finds the latent
        # shapes needs them as the model's fit does
        self._named = dict(named_inputs) if named_inputs else None
        self.latent_names = [s.name for s in specs]
        self._device = model_device(model)
        self._oracle = ShapeOracle(model, self.latent_names)
        self._real_sites = {s.name for s in specs if is_real_support(s.support)}
        self._full_shapes = example_input is not None
        # plated latents (part 2 §6.8): one parameter per plate element, shapes from the
        # site specs (no trace: the model may need named inputs the guide never sees); an
        # open plate (data rows) has the length of the named input that carries it
        opened = _open_plate_sizes(model, self._named)
        sizes = {s.name: tuple(opened.get(plate) if size is None else size
                               for plate, size in getattr(s, "plates", ())) for s in specs}
        self._plated = (not self._full_shapes
                        and (any(getattr(s, "plates", ()) for s in specs) or getattr(model, "named_inputs", None))
                        and not any(s.is_sequence for s in specs)
                        and all(size is not None for s in specs for size in sizes[s.name]))
        if self._plated:
            self._sites = {s.name: LatentShape(s.name, sizes[s.name] + tuple(s.event_shape),
                                               s.support) for s in specs}
            self._param_shapes = {n: self._sites[n].unconstrained_shape for n in self.latent_names}
        elif self._full_shapes:
            example_input = to_device(example_input, self._device)
            shapes = self._oracle.shapes(example_input, self._named)
            self._sites = {n: shapes[n] for n in self.latent_names}
            self._param_shapes = {n: shapes[n].unconstrained_shape for n in self.latent_names}
        else:
            self._sites = {s.name: LatentShape(s.name, tuple(s.event_shape), s.support) for s in specs}
            self._param_shapes = {n: self._sites[n].unconstrained_shape for n in self.latent_names}

    @property
    def model(self):
        return self._model[0]

    def _site_shapes(self, x) -> dict[str, LatentShape]:
        if self._plated:
            rows = _rows(x)
            return {n: LatentShape(n, (rows,) + s.shape, s.support) for n, s in self._sites.items()}
        return self._oracle.shapes(x, self._named)

    def _layout(self, x) -> list:
        """``[(site, full unconstrained shape, support, its bijection or None for the identity)]``
        at input ``x``, in latent order; memoised by what decides the shapes (the row count of a
        plated guide, else the input's shape), since every step asks again."""
        key = _rows(x) if self._plated else _shape_key(x)
        cache = self.__dict__.setdefault("_layouts", {})
        layout = cache.get(key)
        if layout is None:
            shapes = self._site_shapes(x)
            layout = []
            for name in self.latent_names:
                site = shapes[name]
                bij = None if name in self._real_sites else biject_to(site.support)
                layout.append((name, site.unconstrained_shape, site.support, bij))
            cache[key] = layout
        return layout

    def _expand(self, name: str, param: torch.Tensor, full_shape: tuple[int, ...]) -> torch.Tensor:
        """Broadcast a per-element or per-row parameter to a site's full unconstrained shape."""
        if self._full_shapes:
            rows = full_shape[0]
            if param.shape[1:] != torch.Size(full_shape[1:]) or rows % param.shape[0]:
                raise ShapeError(
                    f"guide for site {name!r} was built for shape {tuple(param.shape)} "
                    f"(example_input) but the model now gives {full_shape}"
                )
            copies = rows // param.shape[0]
            return param.repeat((copies,) + (1,) * (param.dim() - 1)) if copies > 1 else param
        return param.expand(full_shape)

    def _unconstrained_shapes(self, x) -> dict[str, tuple[int, ...]]:
        shapes = self._site_shapes(x)
        return {n: shapes[n].unconstrained_shape for n in self.latent_names}


class AutoNormalGuide(_AutoGuide):
    """Mean-field Normal in unconstrained space, pushed through each site's support bijection."""

    def __init__(self, model, observed_names=None, init_scale: float = 0.1, example_input=None,
                 named_inputs=None):
        super().__init__(model, observed_names, example_input, what="AutoNormalGuide",
                         named_inputs=named_inputs)
        if not init_scale > 0:
            raise ValueError(f"init_scale must be positive, got {init_scale}")
        self.locs = nn.ParameterDict()
        self.log_scales = nn.ParameterDict()
        for name in self.latent_names:
            shape = self._param_shapes[name]
            self.locs[_key(name)] = nn.Parameter(torch.zeros(shape, device=self._device))
            self.log_scales[_key(name)] = nn.Parameter(
                torch.full(shape, math.log(init_scale), device=self._device)
            )

    def loc(self, name: str) -> torch.Tensor:
        return self.locs[_key(name)]

    def scale(self, name: str) -> torch.Tensor:
        return self.log_scales[_key(name)].exp()

    def rsample_with_log_prob(self, x) -> tuple[dict[str, torch.Tensor], torch.Tensor]:
        """One reparameterised draw of every latent and its guide log-density ``(B,)``."""
        x = to_device(x, self._device)
        rows = _rows(x)
        values, log_q = {}, None
        locs, log_scales = self.locs, self.log_scales
        for name, full, _, bij in self._layout(x):
            key = _key(name)
            loc = self._expand(name, locs[key], full)
            log_scale = self._expand(name, log_scales[key], full)
            eps = torch.randn(full, device=loc.device, dtype=loc.dtype)
            u = loc + log_scale.exp() * eps
            # log N(u; loc, scale) with eps = (u - loc)/scale known exactly, minus log|dz/du|.
            lp = -0.5 * eps * eps - log_scale - 0.5 * math.log(2 * math.pi)
            term = sum_to_rows(lp, rows)
            if bij is None:
                z = u  # identity bijection: no transform, no Jacobian (most RNN states)
            else:
                try:  # (an empty support, `Uniform(low=0.0, high=0.0)`, has no bijection)
                    z = bij(u)
                    term = term - sum_to_rows(bij.log_abs_det_jacobian(u, z), rows)
                except Exception as exc:
                    at_site(exc, name)
                    raise
            values[name] = z
            log_q = term if log_q is None else log_q + term
        if log_q is None:
            log_q = torch.zeros(rows, device=self._device)
        return values, log_q

    def rsample(self, x) -> dict[str, torch.Tensor]:
        return self.rsample_with_log_prob(x)[0]

    def forward(self, x):
        return self.rsample(x)

    def log_prob(self, x, sites) -> torch.Tensor:
        """Guide log-density ``(B,)`` of given constrained latent values (Jacobian included)."""
        x = to_device(x, self._device)
        rows = _rows(x)
        shapes = self._site_shapes(x)
        total = torch.zeros(rows, device=self._device)
        for name in self.latent_names:
            bij = biject_to(shapes[name].support)
            z = to_device(sites[name], self._device)
            u = bij.inv(z)
            full = tuple(u.shape)
            loc = self._expand(name, self.locs[_key(name)], full)
            log_scale = self._expand(name, self.log_scales[_key(name)], full)
            eps = (u - loc) / log_scale.exp()
            lp = -0.5 * eps * eps - log_scale - 0.5 * math.log(2 * math.pi)
            total = total + sum_to_rows(lp, rows) - sum_to_rows(bij.log_abs_det_jacobian(u, z), rows)
        return total

    @torch.no_grad()
    def median(self, x) -> dict[str, torch.Tensor]:
        """The push-forward of the guide's loc: the median of each site's marginal."""
        x = to_device(x, self._device)
        shapes = self._site_shapes(x)
        out = {}
        for name in self.latent_names:
            full = shapes[name].unconstrained_shape
            out[name] = biject_to(shapes[name].support)(self._expand(name, self.loc(name), full))
        return out


class AutoDeltaGuide(_AutoGuide):
    """Point estimates (MAP when fitted with ELBO): a learned value per site, density 0."""

    def __init__(self, model, observed_names=None, example_input=None, named_inputs=None):
        super().__init__(model, observed_names, example_input, what="AutoDeltaGuide",
                         named_inputs=named_inputs)
        self.values = nn.ParameterDict()
        for name in self.latent_names:
            shape = self._param_shapes[name]
            self.values[_key(name)] = nn.Parameter(0.1 * torch.randn(shape, device=self._device))

    def rsample(self, x) -> dict[str, torch.Tensor]:
        x = to_device(x, self._device)
        shapes = self._site_shapes(x)
        out = {}
        for name in self.latent_names:
            full = shapes[name].unconstrained_shape
            u = self._expand(name, self.values[_key(name)], full)
            out[name] = biject_to(shapes[name].support)(u)
        return out

    def rsample_with_log_prob(self, x):
        values = self.rsample(x)
        return values, torch.zeros(_rows(x), device=self._device)

    def forward(self, x):
        return self.rsample(x)

    def median(self, x):
        with torch.no_grad():
            return self.rsample(x)

    def log_prob(self, x, sites) -> torch.Tensor:
        return torch.zeros(_rows(x), device=self._device)
