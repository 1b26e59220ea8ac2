"""Warmup adaptation for Hamiltonian kernels: dual-averaging step size, windowed diagonal mass.

* ``DualAveraging`` is Nesterov dual averaging as used by Hoffman & Gelman (2014) for NUTS
  (gamma = 0.05, t0 = 10, kappa = 0.75, shrinkage point mu = log(10 * eps0)).
* ``WarmupSchedule`` follows Stan's windows: an initial fast interval (step size only), a
  sequence of doubling slow windows (each ends with a new diagonal mass matrix estimated from
  that window's draws, then a restart of the step-size adaptation), and a terminal fast
  interval. Short warmups are scaled (15% / 75% / 10%) as Stan does, except that the terminal
  interval keeps at least ``MIN_TERMINAL_WINDOW`` iterations and the slow window at least
  ``MIN_SLOW_WINDOW`` draws; a warmup too short for both adapts only the step size. Why: after
  a metric update the dual averaging restarts with its shrinkage point at 10x the step size,
  and its averaged step size needs a dozen or so iterations to come down. With Stan's 10% the
  terminal interval of a 20-25 iteration warmup is 2 iterations, the final step size is still
  the exploratory one, and the post-warmup chain freezes (acceptance ~0).
* ``Welford`` accumulates a running variance on the device without host syncs; the estimate is
  regularised towards 1e-3 as in Stan: ``(n / (n + 5)) var + 1e-3 (5 / (n + 5))``.
"""
from __future__ import annotations

import math

import torch


class DualAveraging:
    def __init__(self, step_size: float, target_accept: float, gamma=0.05, t0=10.0, kappa=0.75):
        self.target = target_accept
        self.gamma, self.t0, self.kappa = gamma, t0, kappa
        self.restart(step_size)

    def restart(self, step_size: float) -> None:
        self.mu = math.log(10.0 * step_size)
        self.t = 0
        self.h_bar = 0.0
        self.log_eps_bar = 0.0

    def update(self, accept_stat: float) -> float:
        """Feed one iteration's acceptance statistic; returns the step size to use next."""
        self.t += 1
        eta = 1.0 / (self.t + self.t0)
        self.h_bar = (1 - eta) * self.h_bar + eta * (self.target - accept_stat)
        log_eps = self.mu - math.sqrt(self.t) / self.gamma * self.h_bar
        w = self.t ** (-self.kappa)
        self.log_eps_bar = w * log_eps + (1 - w) * self.log_eps_bar
        return math.exp(log_eps)

    @property
    def final_step_size(self) -> float:
        return math.exp(self.log_eps_bar)


class Welford:
    def __init__(self, dim: int, device, dtype):
        self.n = 0
        self.mean = torch.zeros(dim, device=device, dtype=dtype)
        self.m2 = torch.zeros(dim, device=device, dtype=dtype)

    def add(self, q: torch.Tensor) -> None:
        self.n += 1
        delta = q - self.mean
        self.mean += delta / self.n
        self.m2 += delta * (q - self.mean)

    def variance(self) -> torch.Tensor:
        n = self.n
        var = self.m2 / max(n - 1, 1)
        return (n / (n + 5.0)) * var + 1e-3 * (5.0 / (n + 5.0))


MIN_TERMINAL_WINDOW = 15  # step-size-only iterations after the last metric update
MIN_SLOW_WINDOW = 10      # draws behind a metric estimate


class WarmupSchedule:
    """Which warmup iterations end a slow (mass-matrix) window."""

    def __init__(self, num_warmup: int, adapt_mass_matrix: bool):
        self.window_ends: set[int] = set()
        self.window_start = 0
        self.starts: dict[int, int] = {}
        if not adapt_mass_matrix:
            return
        init, term, base = 75, 50, 25
        if init + term + base > num_warmup:
            init = int(0.15 * num_warmup)
            term = max(int(0.1 * num_warmup), MIN_TERMINAL_WINDOW)
            base = num_warmup - init - term
            if base < MIN_SLOW_WINDOW:  # too short for a metric: step size only
                return
        start, size = init, base
        last = num_warmup - term
        while start < last:
            end = start + size
            # Stretch the window to the terminal buffer when the next one would not fit.
            if end + 2 * size > last:
                end = last
            self.starts[end - 1] = start
            self.window_ends.add(end - 1)
            start, size = end, 2 * size

    def in_slow_window(self, it: int) -> bool:
        return any(s <= it <= e for e, s in self.starts.items())

    def ends_window(self, it: int) -> bool:
        return it in self.window_ends
