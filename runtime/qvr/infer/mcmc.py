"""MCMC driver: runs a Hamiltonian kernel on a model's continuous latent sites (spec §6.3).

``MCMC(kernel, num_warmup, num_samples, num_chains=1, init_strategy="jitter", seed=None,
chain_method="auto").run(model, x, observations) -> MCMCResult``. Latent sites are the model's
random sites that are neither observed (``model.observed_names``) nor given in
``observations``; their shapes come from one trace at ``x``. Each chain has its own adaptation.

How chains run (``chain_method``):

* ``"parallel"``: one worker process per chain (at most one per CPU core at a time), each with
  one torch thread; the workers are forked, so the model is not pickled or rebuilt. Progress
  and results come back over a queue; a worker that fails or dies fails the run, and the
  workers never outlive it.
* ``"sequential"``: one chain after another in this process.
* ``"auto"`` (default): parallel when there are several chains, several CPU cores, the model
  is on the CPU and the platform can fork; sequential otherwise (CUDA cannot be used in a
  forked process, and chains on one GPU gain little from processes).

Chains do not share a random stream: chain ``c`` seeds torch and its own ``random.Random`` with
``seed + c`` (with ``seed=None``, with per-chain seeds drawn once from torch), so a fixed seed
gives the same draws whichever method runs them. NUTS chains are not vectorised into one
process: each chain builds trees of its own depth at every iteration, so chains in lockstep
would wait for the deepest tree.

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

import multiprocessing
import os
import queue as queue_module
import random
import time
from dataclasses import dataclass, field

import torch

from ..errors import QvrError, at_site, non_finite_site
from .convergence import bulk_ess, split_rhat
from .potential import Potential
from .sites import (ShapeOracle, first_non_finite_site, latent_specs, model_device, require_continuous,
                    to_device)

INIT_STRATEGIES = ("jitter", "prior", "uniform")
CHAIN_METHODS = ("auto", "parallel", "sequential")


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
    # (chains, warmup + draws): the log joint after every iteration, warmup included
    trace_log_joint: torch.Tensor = field(default=None)
    chain_method: str = "sequential"                        # how the chains ran

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
                 init_strategy: str = "jitter", seed: int | None = None, progress=None,
                 chain_method: str = "auto"):
        if int(num_samples) < 1 or int(num_warmup) < 0 or int(num_chains) < 1:
            raise ValueError("MCMC needs num_samples >= 1, num_warmup >= 0 and num_chains >= 1")
        if init_strategy not in INIT_STRATEGIES:
            raise ValueError(f"init_strategy must be one of {INIT_STRATEGIES}, got {init_strategy!r}")
        if chain_method not in CHAIN_METHODS:
            raise ValueError(f"chain_method must be one of {CHAIN_METHODS}, got {chain_method!r}")
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
        self.chain_method = chain_method

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
            seeds = [self.seed + c for c in range(self.num_chains)]
        else:
            seeds = [int(v) for v in torch.randint(0, 2**31 - 1, (self.num_chains,))]
        names = [s.name for s in specs]
        shapes = ShapeOracle(model, names).shapes(x, observations or None)
        potential = Potential(model, x, observations, shapes)
        started = time.perf_counter()
        run_chain = lambda c, progress: self._run_chain(  # noqa: E731
            model, x, observations, potential, c, seeds[c], progress)
        method = self.resolved_chain_method(device)
        if method == "parallel":
            per_chain = _run_in_processes(run_chain, self.num_chains, self.progress)
        else:
            per_chain = [run_chain(c, self.progress) for c in range(self.num_chains)]
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
            trace_log_joint=torch.stack([c["trace_log_joint"] for c in per_chain]),
            chain_method=method,
        )

    def resolved_chain_method(self, device=None) -> str:
        """"parallel" or "sequential": what `chain_method` means for this run (see the module
        docstring for "auto")."""
        if self.chain_method != "auto":
            return self.chain_method
        on_cpu = device is None or torch.device(device).type == "cpu"
        if (self.num_chains > 1 and on_cpu and _cpu_count() > 1
                and "fork" in multiprocessing.get_all_start_methods()):
            return "parallel"
        return "sequential"

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
        message = "MCMC could not find an initial point with a finite log density in 100 tries"
        # the site that made the last try's log density non-finite, for `qvr run` to point at
        site = first_non_finite_site(model, x, observations, potential.unpack(q)[0])
        if site is not None:
            raise at_site(QvrError(f"{message}: {non_finite_site(site)}"), site)
        # every density and value finite: a value on the edge of its support (an infinite
        # unconstrained coordinate), or a gradient that overflows
        site = potential.non_finite_slot(q)
        if site is None:
            raise QvrError(message)
        raise at_site(QvrError(f"{message}: site {site!r} is on the edge of its support or its "
                               "gradient is not finite"), site)

    def _run_chain(self, model, x, observations, potential, chain_index: int, seed: int,
                   progress) -> dict:
        torch.manual_seed(seed)  # the chain's own stream, whatever ran before it
        rng = random.Random(seed)
        q0 = self._initial_point(model, x, observations, potential)
        chain = self.kernel.start_chain(potential, q0, self.num_warmup, rng)
        total = self.num_warmup + self.num_samples
        qs, ljs, every = [], [], []
        accept_sum, divergences = 0.0, 0
        for it in range(total):
            accept, diverged = self.kernel.transition(chain, it)
            every.append(chain.log_joint)
            if it >= self.num_warmup:
                qs.append(chain.q)
                ljs.append(chain.log_joint)
                accept_sum += accept
                divergences += int(diverged)
            if progress is not None:
                progress(chain_index, it + 1, total, accept, chain.log_joint)
        return {
            "qs": torch.stack(qs),
            "log_joint": torch.stack(ljs).detach().cpu(),
            "trace_log_joint": torch.stack(every).detach().cpu().reshape(total),
            "accept": accept_sum / self.num_samples,
            "divergences": divergences,
            "step_size": chain.step_size,
            "inv_mass": chain.inv_mass.detach().cpu(),
            "num_leapfrog": chain.num_leapfrog,
        }


def potential_device(potential: Potential, x) -> torch.device:
    return x.device if isinstance(x, torch.Tensor) else torch.device("cpu")


# -- chains in worker processes ------------------------------------------------------------------
def _cpu_count() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


# A worker reports progress at most this often (seconds), and always on its last iteration:
# one message per iteration would cost more than a small model's transition.
_PROGRESS_EVERY_S = 0.05


def _chain_process(run_chain, chain_index: int, messages) -> None:
    """Body of one worker: run the chain, send ("progress", ...) messages and finally
    ("done", chain, result) or ("error", chain, exception)."""
    torch.set_num_threads(1)  # one core per chain; the parent's thread pool is not shared
    last = [0.0]

    def progress(chain, it, total, accept, log_joint):
        now = time.perf_counter()
        if it == total or now - last[0] >= _PROGRESS_EVERY_S:
            last[0] = now
            messages.put(("progress", chain, it, total, float(accept), float(log_joint)))

    try:
        result = run_chain(chain_index, progress)
        # as numpy arrays: torch would send tensors as shared-memory handles that die with
        # this process
        messages.put(("done", chain_index, {k: v.cpu().numpy() if isinstance(v, torch.Tensor) else v
                                            for k, v in result.items()}))
    except BaseException as exc:  # sent to the parent, which raises it
        try:
            messages.put(("error", chain_index, exc))
        except Exception:  # an exception that cannot be pickled: its words still can
            messages.put(("error", chain_index, RuntimeError(f"{type(exc).__name__}: {exc}")))
    finally:
        messages.close()
        messages.join_thread()


def _run_in_processes(run_chain, num_chains: int, progress) -> list:
    """Run `run_chain(c, progress)` for every chain in forked worker processes, at most one per
    CPU core at a time; the results in chain order. The parent relays progress (calling
    `progress` in this process, so a callback that raises stops the run) and stops every
    worker when it leaves, normally or not."""
    import numpy as np  # what the workers send arrays as (torch needs it for `.numpy()`)

    context = multiprocessing.get_context("fork")
    messages = context.Queue()
    waiting = list(range(num_chains))
    running: dict[int, multiprocessing.Process] = {}
    results: dict[int, dict] = {}
    slots = max(1, min(num_chains, _cpu_count()))
    try:
        while len(results) < num_chains:
            while waiting and len(running) < slots:
                c = waiting.pop(0)
                worker = context.Process(target=_chain_process, args=(run_chain, c, messages),
                                         name=f"qvr-chain-{c}", daemon=True)
                worker.start()
                running[c] = worker
            try:
                message = messages.get(timeout=1.0)
            except queue_module.Empty:
                for c, worker in running.items():
                    if not worker.is_alive() and c not in results:
                        raise QvrError(f"MCMC chain {c} stopped without a result "
                                       f"(its process exited with {worker.exitcode})")
                continue
            kind, c = message[0], message[1]
            if kind == "progress":
                if progress is not None:
                    _, _, it, total, accept, log_joint = message
                    progress(c, it, total, accept, torch.tensor(log_joint))
            elif kind == "done":
                results[c] = {k: torch.from_numpy(v) if isinstance(v, np.ndarray) else v
                              for k, v in message[2].items()}
                running.pop(c).join()
            else:
                raise message[2]
    finally:
        for worker in running.values():
            if worker.is_alive():
                worker.terminate()
        for worker in running.values():
            worker.join()
        messages.close()
    return [results[c] for c in range(num_chains)]
