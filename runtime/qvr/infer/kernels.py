"""Hamiltonian Monte Carlo kernels: static-length HMC and multinomial NUTS (spec §6.3).

A kernel object holds only its configuration; ``MCMC`` asks it for a fresh per-chain
``ChainState`` (position, energy, gradient, step size, diagonal inverse mass, adaptation state)
and then calls ``transition(chain, iteration)`` once per iteration. Both kernels:

* move in the unconstrained space of ``Potential`` with a diagonal mass matrix,
* adapt the step size by dual averaging and the mass matrix in Stan-style windows during
  warmup (``adaptation.py``),
* report the acceptance *statistic* (not the fraction of moved iterations) and a divergence
  when the energy error exceeds 1000 (or is not finite).

NUTS is the multinomial variant (Betancourt 2017, as in Stan): the trajectory doubles in a
random direction until the generalised no-U-turn criterion (with Stan's extra checks across
sub-trees) fails or ``max_tree_depth`` is reached; the next state is drawn from the trajectory
with weights ``exp(-H)``, biased towards the newest sub-tree. Tensors stay on the device; the
only host syncs are one scalar per leapfrog step (the energy, which decides divergences and
weights) and the U-turn checks at sub-tree merges.
"""
from __future__ import annotations

import math
import random
from dataclasses import dataclass, field

import torch

from .adaptation import DualAveraging, Welford, WarmupSchedule
from .potential import Potential

DIVERGENCE_THRESHOLD = 1000.0


@dataclass
class ChainState:
    potential: Potential
    q: torch.Tensor
    u: torch.Tensor
    grad: torch.Tensor
    log_joint: torch.Tensor
    step_size: float
    inv_mass: torch.Tensor
    num_warmup: int
    rng: random.Random
    dual: DualAveraging | None = None
    schedule: WarmupSchedule | None = None
    welford: Welford | None = None
    num_leapfrog: int = 0
    extra: dict = field(default_factory=dict)


def _to_float(t: torch.Tensor) -> float:
    v = float(t)
    return v if v == v else math.inf  # NaN energy is a divergence


class _HamiltonianKernel:
    def __init__(self, step_size, target_accept, adapt_step_size, adapt_mass_matrix):
        if not step_size > 0:
            raise ValueError(f"step_size must be positive, got {step_size}")
        if not 0 < target_accept < 1:
            raise ValueError(f"target_accept must lie in (0, 1), got {target_accept}")
        self.step_size = float(step_size)
        self.target_accept = float(target_accept)
        self.adapt_step_size = bool(adapt_step_size)
        self.adapt_mass_matrix = bool(adapt_mass_matrix)

    # -- per-chain set-up --------------------------------------------------------------------
    def start_chain(self, potential: Potential, q: torch.Tensor, num_warmup: int, rng) -> ChainState:
        u, grad, lj = potential(q)
        chain = ChainState(
            potential=potential, q=q.detach(), u=u, grad=grad, log_joint=lj,
            step_size=self.step_size, inv_mass=torch.ones_like(q), num_warmup=num_warmup, rng=rng,
        )
        if num_warmup > 0 and self.adapt_step_size:
            chain.step_size = self._reasonable_step_size(chain, chain.step_size)
            chain.dual = DualAveraging(chain.step_size, self.target_accept)
        if num_warmup > 0:
            chain.schedule = WarmupSchedule(num_warmup, self.adapt_mass_matrix)
            chain.welford = Welford(q.numel(), q.device, q.dtype)
        return chain

    # -- Hamiltonian pieces ------------------------------------------------------------------
    def _momentum(self, chain: ChainState) -> torch.Tensor:
        return torch.randn_like(chain.q) / chain.inv_mass.sqrt()

    @staticmethod
    def _kinetic(chain: ChainState, p: torch.Tensor) -> torch.Tensor:
        return 0.5 * (p * p * chain.inv_mass).sum()

    @staticmethod
    def _leapfrog(chain: ChainState, q, p, grad, eps: float):
        p = p - (0.5 * eps) * grad
        q = q + eps * chain.inv_mass * p
        u, grad, lj = chain.potential(q)
        chain.num_leapfrog += 1
        p = p - (0.5 * eps) * grad
        return q, p, grad, u, lj

    def _reasonable_step_size(self, chain: ChainState, eps: float) -> float:
        """Hoffman & Gelman's heuristic: double/halve until one step's acceptance crosses 1/2."""
        p = self._momentum(chain)
        h0 = _to_float(chain.u + self._kinetic(chain, p))
        if not math.isfinite(h0):
            return eps

        def log_ratio(e):
            _, p1, _, u1, _ = self._leapfrog(chain, chain.q, p, chain.grad, e)
            h1 = _to_float(u1 + self._kinetic(chain, p1))
            return h0 - h1 if math.isfinite(h1) else -math.inf

        direction = 1.0 if log_ratio(eps) > math.log(0.5) else -1.0
        for _ in range(50):
            new = eps * (2.0 ** direction)
            if not 1e-10 < new < 1e6:
                break
            lr = log_ratio(new)
            if (direction > 0 and not lr > math.log(0.5)) or (direction < 0 and lr > math.log(0.5)):
                # Crossed: keep the last step size on the acceptable side.
                if direction < 0:
                    eps = new
                break
            eps = new
        return eps

    # -- one iteration -------------------------------------------------------------------------
    def transition(self, chain: ChainState, iteration: int) -> tuple[float, bool]:
        accept_stat, diverged = self._move(chain)
        if iteration < chain.num_warmup:
            self._adapt(chain, iteration, accept_stat)
        return accept_stat, diverged

    def _adapt(self, chain: ChainState, it: int, accept_stat: float) -> None:
        if chain.dual is not None:
            chain.step_size = chain.dual.update(accept_stat)
        schedule = chain.schedule
        if schedule is not None and schedule.in_slow_window(it):
            chain.welford.add(chain.q)
            if schedule.ends_window(it):
                chain.inv_mass = chain.welford.variance()
                chain.welford = Welford(chain.q.numel(), chain.q.device, chain.q.dtype)
                if chain.dual is not None:
                    chain.step_size = self._reasonable_step_size(chain, chain.step_size)
                    chain.dual.restart(chain.step_size)
        if it == chain.num_warmup - 1 and chain.dual is not None:
            chain.step_size = chain.dual.final_step_size

    def _move(self, chain: ChainState) -> tuple[float, bool]:
        raise NotImplementedError


class HMCKernel(_HamiltonianKernel):
    """Static-length HMC: ``num_steps`` leapfrog steps, then a Metropolis correction."""

    def __init__(self, step_size=0.1, num_steps=10, target_accept=0.65,
                 adapt_step_size=True, adapt_mass_matrix=True):
        super().__init__(step_size, target_accept, adapt_step_size, adapt_mass_matrix)
        if int(num_steps) < 1:
            raise ValueError(f"num_steps must be at least 1, got {num_steps}")
        self.num_steps = int(num_steps)

    def _move(self, chain):
        p = self._momentum(chain)
        h0 = chain.u + self._kinetic(chain, p)
        q, grad, u, lj = chain.q, chain.grad, chain.u, chain.log_joint
        for _ in range(self.num_steps):  # no host sync inside the trajectory
            q, p, grad, u, lj = self._leapfrog(chain, q, p, grad, chain.step_size)
        delta = _to_float(u + self._kinetic(chain, p) - h0)
        diverged = not delta < DIVERGENCE_THRESHOLD
        accept = 0.0 if diverged else math.exp(min(0.0, -delta))
        if not diverged and chain.rng.random() < accept:
            chain.q, chain.u, chain.grad, chain.log_joint = q, u, grad, lj
        return accept, diverged


@dataclass
class _Tree:
    """A NUTS (sub)trajectory. ``near``/``far`` are its ends relative to the growing direction."""

    q_far: torch.Tensor
    p_far: torch.Tensor
    grad_far: torch.Tensor
    p_near: torch.Tensor
    rho: torch.Tensor          # sum of momenta over the trajectory
    q_prop: torch.Tensor       # multinomial proposal drawn from this trajectory
    u_prop: torch.Tensor
    grad_prop: torch.Tensor
    lj_prop: torch.Tensor
    log_weight: float          # log sum of exp(H0 - H) over the trajectory
    turning: bool = False
    diverged: bool = False
    sum_accept: float = 0.0
    num_steps: int = 0


def _logaddexp(a: float, b: float) -> float:
    if a == -math.inf:
        return b
    if b == -math.inf:
        return a
    m = max(a, b)
    return m + math.log(math.exp(a - m) + math.exp(b - m))


class NUTSKernel(_HamiltonianKernel):
    """Multinomial No-U-Turn sampler with the generalised U-turn criterion."""

    def __init__(self, step_size=0.1, max_tree_depth=10, target_accept=0.8,
                 adapt_step_size=True, adapt_mass_matrix=True):
        super().__init__(step_size, target_accept, adapt_step_size, adapt_mass_matrix)
        if int(max_tree_depth) < 1:
            raise ValueError(f"max_tree_depth must be at least 1, got {max_tree_depth}")
        self.max_tree_depth = int(max_tree_depth)

    @staticmethod
    def _turning(chain, *checks) -> bool:
        """Generalised no-U-turn criterion for each ``(rho, p_a, p_b)``: both end velocities
        must still point along the summed momentum. All checks cost one host sync."""
        dots = []
        for rho, p_a, p_b in checks:
            v = rho * chain.inv_mass
            dots += [(v * p_a).sum(), (v * p_b).sum()]
        values = torch.stack(dots).tolist()
        return not all(d > 0 for d in values)

    def _build(self, chain, q, p, grad, direction, depth, h0) -> _Tree:
        if depth == 0:
            q, p, grad, u, lj = self._leapfrog(chain, q, p, grad, direction * chain.step_size)
            h = _to_float(u + self._kinetic(chain, p))
            delta = h - h0
            diverged = not delta < DIVERGENCE_THRESHOLD
            accept = 0.0 if not math.isfinite(delta) else math.exp(min(0.0, -delta))
            return _Tree(q, p, grad, p, p, q, u, grad, lj,
                         log_weight=-delta if math.isfinite(delta) else -math.inf,
                         diverged=diverged, sum_accept=accept, num_steps=1)
        first = self._build(chain, q, p, grad, direction, depth - 1, h0)
        if first.turning or first.diverged:
            return first
        second = self._build(chain, first.q_far, first.p_far, first.grad_far, direction, depth - 1, h0)
        tree = _Tree(
            second.q_far, second.p_far, second.grad_far, first.p_near, first.rho + second.rho,
            first.q_prop, first.u_prop, first.grad_prop, first.lj_prop,
            log_weight=_logaddexp(first.log_weight, second.log_weight),
            sum_accept=first.sum_accept + second.sum_accept,
            num_steps=first.num_steps + second.num_steps,
        )
        if second.turning or second.diverged:
            tree.turning, tree.diverged = second.turning, second.diverged
            return tree
        # Uniform multinomial choice inside a sub-tree.
        if chain.rng.random() < math.exp(second.log_weight - tree.log_weight):
            tree.q_prop, tree.u_prop, tree.grad_prop, tree.lj_prop = (
                second.q_prop, second.u_prop, second.grad_prop, second.lj_prop)
        tree.turning = self._turning(
            chain,
            (tree.rho, first.p_near, second.p_far),
            # Stan's extra checks across the two halves catch U-turns the outer check misses.
            (first.rho + second.p_near, first.p_near, second.p_near),
            (second.rho + first.p_far, first.p_far, second.p_far),
        )
        return tree

    def _move(self, chain):
        p0 = self._momentum(chain)
        h0 = _to_float(chain.u + self._kinetic(chain, p0))
        if not math.isfinite(h0):
            return 0.0, True
        # Ends of the whole trajectory: index 0 = backward end, 1 = forward end.
        q_end = [chain.q, chain.q]
        p_end = [p0, p0]
        g_end = [chain.grad, chain.grad]
        rho = p0
        log_weight = 0.0
        prop = (chain.q, chain.u, chain.grad, chain.log_joint)
        sum_accept, steps, diverged = 0.0, 0, False
        for depth in range(self.max_tree_depth):
            direction = 1 if chain.rng.random() < 0.5 else -1
            side = 1 if direction > 0 else 0
            sub = self._build(chain, q_end[side], p_end[side], g_end[side], direction, depth, h0)
            sum_accept += sub.sum_accept
            steps += sub.num_steps
            if sub.diverged:
                diverged = True
                break
            if sub.turning:
                break
            # Biased progressive sampling: favour the new sub-tree.
            if chain.rng.random() < math.exp(min(0.0, sub.log_weight - log_weight)):
                prop = (sub.q_prop, sub.u_prop, sub.grad_prop, sub.lj_prop)
            log_weight = _logaddexp(log_weight, sub.log_weight)
            p_old_side, p_other = p_end[side], p_end[1 - side]
            turning = self._turning(
                chain,
                (rho + sub.rho, p_other, sub.p_far),
                (rho + sub.p_near, p_other, sub.p_near),
                (sub.rho + p_old_side, p_old_side, sub.p_far),
            )
            q_end[side], p_end[side], g_end[side] = sub.q_far, sub.p_far, sub.grad_far
            rho = rho + sub.rho
            if turning:
                break
        chain.q, chain.u, chain.grad, chain.log_joint = prop
        chain.extra["tree_steps"] = steps
        return (sum_accept / steps if steps else 0.0), diverged
