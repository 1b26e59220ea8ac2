"""MCMC driver: runs a Hamiltonian kernel on a model's continuous latent sites (spec §6.3).

``MCMC(kernel, num_warmup, num_samples, num_chains=1, init_strategy="jitter", seed=None)
.run(model, x, observations) -> MCMCResult``. Latent sites are the model's random sites that
are neither observed (``model.observed_names``) nor given in ``observations``; their shapes come
from one trace at ``x``. Chains run one after another, each with its own adaptation.

Initial points (``init_strategy``), all in unconstrained space, retried until the potential
is finite:

* ``"jitter"`` (default): a reference point plus Uniform(-0.1, 0.1) noise per coordinate. The
  reference is ``model.initial_values(x, observations)`` when the model offers it (the lifted
  model of ``bayesian_lift_parameters`` starts at the current weights), else one trace's
  latent values (a fresh prior draw per chain);
* ``"prior"``: one trace's latent values, no noise;
* ``"uniform"``: Uniform(-2, 2) per coordinate (Stan's default).
"""
from __future__ import annotations

import random
import time
from dataclasses import dataclass, field

import torch

from ..errors import QvrError
from .convergence import bulk_ess, split_rhat
from .potential import Potential
from .sites import ShapeOracle, latent_specs, model_device, require_continuous, to_device

INIT_STRATEGIES = ("jitter", "prior", "uniform")


@dataclass
class MCMCResult:
    samples: dict[str, torch.Tensor]          # {site: (chains, draws, *site_shape)}
    log_densities: torch.Tensor               # (chains, draws): model log joint at each draw
    acceptance_rates: torch.Tensor            # (chains,): mean acceptance statistic after warmup
    divergence_counts: torch.Tensor           # (chains,): divergent transitions after warmup
    r_hat: dict[str, torch.Tensor]
    ess: dict[str, torch.Tensor]
    num_chains: int
    num_warmup: int
    num_samples: int
    step_sizes: torch.Tensor = field(default=None)          # (chains,) after adaptation
    inverse_mass: list = field(default_factory=list)        # per chain, (D,)
    num_leapfrog: torch.Tensor = field(default=None)        # (chains,) total gradient evaluations
    elapsed: float = 0.0

    def summary(self) -> dict[str, dict[str, torch.Tensor]]:
        """Per site: mean, std over all chains and draws, R-hat and bulk ESS."""
        out = {}
        for name, draws in self.samples.items():
            flat = draws.reshape((-1,) + tuple(draws.shape[2:])).to(torch.float64)
            out[name] = {
                "mean": flat.mean(0),
                "std": flat.std(0) if flat.shape[0] > 1 else torch.zeros_like(flat[0]),
                "r_hat": self.r_hat[name],
                "ess": self.ess[name],
            }
        return out


class MCMC:
    def __init__(self, kernel, num_warmup: int, num_samples: int, num_chains: int = 1,
                 init_strategy: str = "jitter", seed: int | None = None, progress=None):
        if int(num_samples) < 1 or int(num_warmup) < 0 or int(num_chains) < 1:
            raise ValueError("MCMC needs num_samples >= 1, num_warmup >= 0 and num_chains >= 1")
        if init_strategy not in INIT_STRATEGIES:
            raise ValueError(f"init_strategy must be one of {INIT_STRATEGIES}, got {init_strategy!r}")
        self.kernel = kernel
        self.num_warmup = int(num_warmup)
        self.num_samples = int(num_samples)
        self.num_chains = int(num_chains)
        self.init_strategy = init_strategy
        self.seed = seed
        # progress(chain, iteration, total_iterations, accept_stat, log_joint) after every
        # iteration (log_joint a 0-d tensor: reading it is the caller's sync); the runner uses
        # it for progress bars and JSON events.
        self.progress = progress

    def run(self, model, x, observations=None) -> MCMCResult:
        device = model_device(model)
        x = to_device(x, device)
        observations = to_device(dict(observations or {}), device)
        model_observed = set(getattr(model, "observed_names", ()) or ())
        missing = sorted(model_observed - set(observations))
        if missing:
            raise ValueError(f"MCMC needs a value for every observed site; missing: {', '.join(missing)}")
        specs = latent_specs(model, model_observed | set(observations))
        require_continuous(specs, "MCMC")
        if self.seed is not None:
            torch.manual_seed(self.seed)
        names = [s.name for s in specs]
        shapes = ShapeOracle(model, names).shapes(x, observations or None)
        potential = Potential(model, x, observations, shapes)
        started = time.perf_counter()
        per_chain = [self._run_chain(model, x, observations, potential, c) for c in range(self.num_chains)]
        qs = torch.stack([c["qs"] for c in per_chain])                     # (C, N, D)
        flat = qs.reshape(-1, potential.dim)
        constrained = potential.constrain_draws(flat)
        samples = {k: v.reshape((self.num_chains, self.num_samples) + tuple(v.shape[1:]))
                   for k, v in constrained.items()}
        return MCMCResult(
            samples=samples,
            log_densities=torch.stack([c["log_joint"] for c in per_chain]),
            acceptance_rates=torch.tensor([c["accept"] for c in per_chain]),
            divergence_counts=torch.tensor([c["divergences"] for c in per_chain], dtype=torch.int64),
            r_hat={k: split_rhat(v) for k, v in samples.items()},
            ess={k: bulk_ess(v) for k, v in samples.items()},
            num_chains=self.num_chains, num_warmup=self.num_warmup, num_samples=self.num_samples,
            step_sizes=torch.tensor([c["step_size"] for c in per_chain]),
            inverse_mass=[c["inv_mass"] for c in per_chain],
            num_leapfrog=torch.tensor([c["num_leapfrog"] for c in per_chain]),
            elapsed=time.perf_counter() - started,
        )

    # -- one chain -----------------------------------------------------------------------------
    def _initial_point(self, model, x, observations, potential) -> torch.Tensor:
        for _ in range(100):
            if self.init_strategy == "uniform":
                q = torch.rand(potential.dim, device=potential_device(potential, x)) * 4 - 2
            else:
                with torch.no_grad():
                    if self.init_strategy == "jitter" and hasattr(model, "initial_values"):
                        ref = model.initial_values(x, observations)
                    else:
                        tr = model.trace(x, observations=observations or None)
                        ref = {n: s.value for n, s in tr.sites.items()}
                    q = potential.pack({s.name: ref[s.name] for s in potential.slots})
                if self.init_strategy == "jitter":
                    q = q + (torch.rand_like(q) * 0.2 - 0.1)
            u, _, _ = potential(q)
            if torch.isfinite(u):
                return q
        raise QvrError("MCMC could not find an initial point with a finite log density in 100 tries")

    def _run_chain(self, model, x, observations, potential, chain_index: int) -> dict:
        seed = self.seed + chain_index if self.seed is not None else int(torch.randint(0, 2**31 - 1, ()))
        rng = random.Random(seed)
        q0 = self._initial_point(model, x, observations, potential)
        chain = self.kernel.start_chain(potential, q0, self.num_warmup, rng)
        total = self.num_warmup + self.num_samples
        qs, ljs = [], []
        accept_sum, divergences = 0.0, 0
        for it in range(total):
            accept, diverged = self.kernel.transition(chain, it)
            if it >= self.num_warmup:
                qs.append(chain.q)
                ljs.append(chain.log_joint)
                accept_sum += accept
                divergences += int(diverged)
            if self.progress is not None:
                self.progress(chain_index, it + 1, total, accept, chain.log_joint)
        return {
            "qs": torch.stack(qs),
            "log_joint": torch.stack(ljs).detach().cpu(),
            "accept": accept_sum / self.num_samples,
            "divergences": divergences,
            "step_size": chain.step_size,
            "inv_mass": chain.inv_mass.detach().cpu(),
            "num_leapfrog": chain.num_leapfrog,
        }


def potential_device(potential: Potential, x) -> torch.device:
    return x.device if isinstance(x, torch.Tensor) else torch.device("cpu")
