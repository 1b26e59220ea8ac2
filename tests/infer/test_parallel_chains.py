"""Chains in worker processes (`MCMC(chain_method="parallel")`): the same draws as one after
another for a fixed seed, progress from every chain, and failures that stop the run without
leaving workers behind."""
from __future__ import annotations

import multiprocessing

import pytest
import torch

from infer_models import correlated_gaussian
from qvr.errors import QvrError
from qvr.infer import MCMC, NUTSKernel

pytestmark = pytest.mark.skipif("fork" not in multiprocessing.get_all_start_methods(),
                                reason="parallel chains fork worker processes")


def _run(method, progress=None, seed=7, model=None):
    model = model or correlated_gaussian(std=(1.0, 2.0), rho=0.5)[0]
    return MCMC(NUTSKernel(), num_warmup=30, num_samples=40, num_chains=3, seed=seed,
                chain_method=method, progress=progress).run(model, torch.zeros(1, 1))


@pytest.mark.slow
def test_parallel_and_sequential_chains_give_the_same_draws():
    seq, par = _run("sequential"), _run("parallel")
    assert torch.equal(seq.samples["z"], par.samples["z"])
    assert torch.equal(seq.log_densities, par.log_densities)
    assert torch.equal(seq.step_sizes, par.step_sizes)
    assert torch.equal(seq.num_leapfrog, par.num_leapfrog)
    assert torch.equal(seq.r_hat["z"], par.r_hat["z"])
    # and the chains differ from one another (each has its own stream)
    assert not torch.equal(seq.samples["z"][0], seq.samples["z"][1])


@pytest.mark.process
def test_every_chain_reports_progress_up_to_its_last_iteration():
    seen = {}

    def progress(chain, it, total, accept, log_joint):
        assert it > seen.get(chain, 0) and total == 70
        assert isinstance(log_joint, torch.Tensor) and torch.isfinite(log_joint)
        seen[chain] = it

    _run("parallel", progress)
    assert seen == {0: 70, 1: 70, 2: 70}


def _live_chain_workers():
    return [p for p in multiprocessing.active_children() if p.name.startswith("qvr-chain-")]


def test_a_failing_progress_callback_stops_every_worker():
    def progress(chain, it, total, accept, log_joint):
        if it >= 5:
            raise RuntimeError("stop here")

    with pytest.raises(RuntimeError, match="stop here"):
        _run("parallel", progress)
    assert _live_chain_workers() == []


class _FailingKernel(NUTSKernel):
    """NUTS whose transitions (which run only inside the chains) raise."""

    def transition(self, chain, iteration):
        if iteration >= 2:
            raise ValueError("the kernel broke in a worker")
        return super().transition(chain, iteration)


def test_an_error_in_a_worker_is_raised_in_the_caller():
    model = correlated_gaussian(std=(1.0, 2.0), rho=0.5)[0]
    with pytest.raises(ValueError, match="the kernel broke in a worker"):
        MCMC(_FailingKernel(), num_warmup=5, num_samples=5, num_chains=2, seed=0,
             chain_method="parallel").run(model, torch.zeros(1, 1))
    assert _live_chain_workers() == []


def test_auto_is_parallel_only_for_several_chains_on_the_cpu():
    assert MCMC(NUTSKernel(), 1, 1, num_chains=1).resolved_chain_method("cpu") == "sequential"
    assert MCMC(NUTSKernel(), 1, 1, num_chains=2).resolved_chain_method("cuda") == "sequential"
    assert MCMC(NUTSKernel(), 1, 1, num_chains=2, chain_method="sequential") \
        .resolved_chain_method("cpu") == "sequential"
    with pytest.raises(ValueError, match="chain_method"):
        MCMC(NUTSKernel(), 1, 1, chain_method="vectorized")


@pytest.mark.slow
def test_a_worker_that_dies_fails_the_run():
    import os
    import signal

    def progress(chain, it, total, accept, log_joint):
        if it >= 3:
            for worker in _live_chain_workers():
                os.kill(worker.pid, signal.SIGKILL)

    with pytest.raises(QvrError, match="stopped without a result"):
        _run("parallel", progress)
    assert _live_chain_workers() == []
