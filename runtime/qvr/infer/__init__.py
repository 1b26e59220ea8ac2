"""Inference for QVR programs (spec §6.3): SVI with automatic guides, Predictive, HMC/NUTS.

Everything here works on any model implementing the program protocol
(docs/internals.md "Runtime"): ``trace``, ``log_joint``, ``site_specs``, ``observed_names``,
``named_parameters`` and ``device``. Module map:

* ``sites``       — latent-site discovery, shapes per input, support bijections
* ``guides``      — ``AutoNormalGuide``, ``AutoDeltaGuide``
* ``elbo``        — ``ELBO`` (vectorised particles), ``SVI`` (minibatches, data parallel)
* ``distributed`` — rows shared among torch.distributed processes, gradients summed
* ``predictive``  — ``Predictive``
* ``potential``   — latents flattened to one unconstrained vector; potential energy + gradient
* ``adaptation``  — dual averaging, Stan-style mass-matrix windows
* ``kernels``     — ``HMCKernel``, ``NUTSKernel``
* ``mcmc``        — ``MCMC``, ``MCMCResult`` (chains in parallel worker processes)
* ``convergence`` — rank-normalised split R-hat, bulk ESS
* ``lift``        — ``bayesian_lift_parameters``
"""
from __future__ import annotations

from .convergence import bulk_ess, split_rhat
from .elbo import ELBO, SVI
from .guides import AutoDeltaGuide, AutoNormalGuide
from .kernels import HMCKernel, NUTSKernel
from .lift import bayesian_lift_parameters
from .mcmc import MCMC, MCMCResult
from .predictive import Predictive
from .sites import model_device, to_device


def trace(model, x, observations=None, values=None):
    """``model.trace(x, observations=..., values=...)`` with inputs moved to the model's device."""
    device = model_device(model)
    return model.trace(
        to_device(x, device),
        observations=to_device(observations, device) if observations is not None else None,
        values=to_device(values, device) if values is not None else None,
    )


__all__ = [
    "trace", "AutoNormalGuide", "AutoDeltaGuide", "ELBO", "SVI", "Predictive",
    "MCMC", "MCMCResult", "NUTSKernel", "HMCKernel", "bayesian_lift_parameters",
    "split_rhat", "bulk_ess",
]
