"""Convergence diagnostics for MCMC draws: rank-normalised split R-hat and bulk ESS.

Both follow Vehtari, Gelman, Simpson, Carpenter and Bürkner (2021), "Rank-normalization,
folding, and localization: an improved R-hat for assessing convergence of MCMC":

* chains are split in half (so a trend within a chain shows up as disagreement);
* draws are replaced by the normal scores of their ranks over all chains;
* R-hat is the larger of the bulk value (on the rank-normalised draws) and the tail value
  (on rank-normalised |draw - median|);
* bulk ESS uses Geyer's initial monotone sequence on the combined autocorrelation.

Everything is vectorised over the elements of a site (the lifted seed 002 model has ~75k).
Following the spec, both are NaN with a single chain or fewer than 4 draws.
"""
from __future__ import annotations

import math

import torch


def _split(draws: torch.Tensor) -> torch.Tensor:
    """(C, N, E) -> (2C, N//2, E), dropping the middle draw when N is odd."""
    c, n, e = draws.shape
    half = n // 2
    return torch.cat([draws[:, :half], draws[:, n - half:]], dim=0)


def _rank_normalise(x: torch.Tensor) -> torch.Tensor:
    """Normal scores of the pooled ranks, per element: (C, N, E) -> same shape."""
    c, n, e = x.shape
    flat = x.permute(2, 0, 1).reshape(e, c * n)
    ranks = flat.argsort(dim=1).argsort(dim=1).to(torch.float64) + 1.0
    z = torch.special.ndtri((ranks - 0.375) / (c * n + 0.25))
    return z.reshape(e, c, n).permute(1, 2, 0)


def _rhat_basic(x: torch.Tensor) -> torch.Tensor:
    c, n, _ = x.shape
    chain_mean = x.mean(dim=1)
    chain_var = x.var(dim=1, unbiased=True)
    between = n * chain_mean.var(dim=0, unbiased=True)
    within = chain_var.mean(dim=0)
    var_plus = (n - 1) / n * within + between / n
    return torch.sqrt(var_plus / within)


def _as_chains(draws: torch.Tensor) -> tuple[torch.Tensor, tuple[int, ...]]:
    site_shape = tuple(draws.shape[2:])
    return draws.detach().to("cpu", torch.float64).reshape(draws.shape[0], draws.shape[1], -1), site_shape


def split_rhat(draws: torch.Tensor) -> torch.Tensor:
    """Rank-normalised split R-hat per element of ``draws`` ``(chains, draws, *site_shape)``."""
    x, site_shape = _as_chains(draws)
    if x.shape[0] < 2 or x.shape[1] < 4:
        return torch.full(site_shape, float("nan"), dtype=torch.float64)
    x = _split(x)
    bulk = _rhat_basic(_rank_normalise(x))
    median = x.reshape(-1, x.shape[2]).median(dim=0).values
    tail = _rhat_basic(_rank_normalise((x - median).abs()))
    out = torch.maximum(bulk, tail)
    return out.reshape(site_shape)


def _autocovariance(x: torch.Tensor) -> torch.Tensor:
    """Biased autocovariance along axis 1 via FFT: (C, N, E) -> (C, N, E)."""
    n = x.shape[1]
    centred = x - x.mean(dim=1, keepdim=True)
    size = 1 << (2 * n - 1).bit_length()
    f = torch.fft.rfft(centred, n=size, dim=1)
    acov = torch.fft.irfft(f * f.conj(), n=size, dim=1)[:, :n]
    return acov / n


def bulk_ess(draws: torch.Tensor) -> torch.Tensor:
    """Bulk effective sample size per element of ``draws`` ``(chains, draws, *site_shape)``."""
    x, site_shape = _as_chains(draws)
    if x.shape[0] < 2 or x.shape[1] < 4:
        return torch.full(site_shape, float("nan"), dtype=torch.float64)
    x = _rank_normalise(_split(x))
    c, n, e = x.shape
    acov = _autocovariance(x)
    mean_var = acov[:, 0].mean(dim=0) * n / (n - 1)
    var_plus = mean_var * (n - 1) / n + x.mean(dim=1).var(dim=0, unbiased=True)
    rho = 1.0 - (mean_var - acov.mean(dim=0)) / var_plus  # (n, E); rho[0] == 1
    # Geyer: sums of adjacent pairs, truncated at the first negative pair, made monotone.
    pairs_n = n // 2
    pairs = rho[: 2 * pairs_n].reshape(pairs_n, 2, e).sum(dim=1)
    positive = torch.cumprod((pairs > 0).to(pairs.dtype), dim=0)
    monotone = torch.cummin(pairs, dim=0).values
    tau = -1.0 + 2.0 * (monotone * positive).sum(dim=0)
    total = c * n
    tau = torch.clamp(tau, min=1.0 / math.log10(total))
    return (total / tau).reshape(site_shape)
