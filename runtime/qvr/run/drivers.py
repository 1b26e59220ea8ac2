"""The kinds of run and the one loop they share.

`fit` is what every run does around its kind: announce the ``start`` event, seed torch, let
the driver fit or draw (reporting progress as it goes), then write ``summary.json`` and the
curve of the kind's metric (SVI's loss, the log joint of Sample and NUTS draws) and announce
the ``result``. The drivers are `svi` (Adam on an AutoNormal guide),
`sample` (prior-predictive draws), `nuts` (NUTS over the latent sites, or the weights too with
``--lift``) and `train_corpus` (a character model trained on a text file with `qvr.charlm`). Each
returns a `Fitted`: the metric at every step or draw, the posterior summary, and what it adds
to the summary and the ``result`` event.
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from .contract import METRIC_SERIES, ResultEvent, RunError, StartEvent
from .output import compact_posterior, write_results
from .program import check_protocol


@dataclass
class Fitted:
    """What a driver returns: the kind's metric per step or draw (SVI's loss, the log joint of
    a Sample or NUTS draw), the posterior summary (site → statistics), fields for
    ``summary.json`` (before ``settings``) and for the ``result`` event."""

    losses: list
    posterior: dict
    summary: dict = field(default_factory=dict)
    result: dict = field(default_factory=dict)


@dataclass
class FitPlan:
    """Where a run's outputs go and what its summary records besides the fit itself."""

    entry: str
    kind: str
    device: str
    file: Path
    total: int
    seed: int
    out_dir: Path | None  # None: a process that writes nothing (data-parallel ranks but 0)
    data: str
    settings: dict
    title: str
    ylabel: str
    metric: str = "loss"  # qvr.run.contract.METRIC of the kind


def fit(plan: FitPlan, reporter, drive: Callable[[float], Fitted]) -> None:
    """Run `drive(started)` between the ``start`` and ``result`` events and keep its results."""
    import torch

    reporter.start(StartEvent(entry=plan.entry, kind=plan.kind, device=plan.device,
                              total=plan.total))
    started = time.perf_counter()
    torch.manual_seed(plan.seed + 2)
    fitted = drive(started)
    elapsed = time.perf_counter() - started
    if plan.out_dir is None:
        return
    final = fitted.losses[-1] if fitted.losses else None
    metric = plan.metric
    summary = {
        "entry": plan.entry, "kind": plan.kind, "device": plan.device, "file": str(plan.file),
        f"final_{metric}": final, "elapsed": elapsed, METRIC_SERIES[metric]: fitted.losses,
        "posterior": fitted.posterior, "data": plan.data, "seed": plan.seed,
        **fitted.summary, "settings": plan.settings,
    }
    summary_path, curve_path = write_results(plan.out_dir, summary, fitted.losses, plan.title,
                                             plan.ylabel, metric)
    reporter.result(ResultEvent(
        entry=plan.entry, kind=plan.kind, final=final, elapsed=elapsed, device=plan.device,
        summary_path=str(summary_path.resolve()), curve_path=str(curve_path.resolve()),
        posterior=compact_posterior(fitted.posterior),
        extra=fitted.result, metric=metric))


#: Longest pause (seconds of wall time) between two progress events of an SVI run.
PROGRESS_INTERVAL_S = 0.5


def svi(model, x, observations, steps, args, reporter, started, locate) -> Fitted:
    import torch

    from ..infer import ELBO, SVI, AutoNormalGuide
    from ..errors import NotSupportedError

    check_protocol(model, "the entry")
    try:
        guide = AutoNormalGuide(model, observed_names=set(observations),
                                named_inputs=named_inputs(model, observations))
    except NotSupportedError as exc:
        raise RunError.unsupported(exc) from None
    params = list(model.parameters()) + list(guide.parameters())
    if not params:
        raise RunError("nothing to fit: the entry has no parameters and no latent sites", "unsupported")
    optim = torch.optim.Adam(params, lr=args.lr)
    from ..infer.distributed import is_distributed

    try:
        svi = SVI(model, guide, optim, ELBO(num_particles=args.particles),
                  batch_size=args.batch_size, distributed=is_distributed())
    except ValueError as exc:
        raise RunError(str(exc), "usage") from None
    # A progress event every 1/500 of the steps, and whenever PROGRESS_INTERVAL_S has passed
    # since the last one: the language server counts a worker silent for `qvr.run.timeout`
    # seconds as hung, so slow steps must not make a healthy run silent.
    every = max(1, steps // 500)
    losses = []
    last_report = time.perf_counter()
    for step in range(1, steps + 1):
        loss = svi.step(x, observations)
        if not math.isfinite(loss):
            raise locate.nan_error(step, model, guide, x, observations)
        losses.append(loss)
        now = time.perf_counter()
        if step % every == 0 or step == steps or now - last_report >= PROGRESS_INTERVAL_S:
            reporter.progress(step, steps, loss, now - started)
            last_report = now
    return Fitted(losses, guide_posterior(guide, x))


def named_inputs(model, observations) -> dict:
    """The observations that are named inputs of `model` (data, scalar parameters; part 2
    §6.7): given, never drawn."""
    names = getattr(model, "named_inputs", None) or {}
    return {k: v for k, v in (observations or {}).items() if k in names}


def guide_posterior(guide, x, draws: int = 100) -> dict:
    import torch

    with torch.no_grad():
        from ..infer.sites import repeat_batch

        rows = x.shape[0]
        z = guide.rsample(repeat_batch(x, draws))
    out = {}
    for name, v in z.items():
        v = v.reshape((draws, rows) + tuple(v.shape[1:]))
        out[name] = {"mean": v.mean(0).tolist(), "std": v.std(0).tolist()}
    return out


def sample(model, x, observations, steps, reporter, started, locate) -> Fitted:
    import torch

    from ..infer import Predictive

    check_protocol(model, "the entry")
    log_joints, chunks = [], []
    # Draws are vectorised by chunk, and the chunk boundaries decide which random numbers go
    # where, so they depend on `steps` alone (a seed gives the same draws on any machine, which
    # time-sized chunks would not). A progress event follows every chunk: 1% of the draws, so
    # a run is silent for at most 1% of its time (PROGRESS_INTERVAL_S while the whole run
    # takes under 50 s).
    chunk = max(1, steps // 100)
    done = nan_draws = 0
    named = named_inputs(model, observations)  # given, not drawn
    with torch.no_grad():
        while done < steps:
            n = min(chunk, steps - done)
            draws = Predictive(model, num_samples=n)(x, named)
            values = {k: v.reshape((-1,) + tuple(v.shape[2:])) for k, v in draws.items()}
            from ..infer.sites import repeat_batch

            lj = model.log_joint(repeat_batch(x, n), {**named, **values}).reshape(n, -1).sum(1)
            # Prior draws are all kept: heavy-tailed priors overflow float32 now and then, and
            # the log joint of such a draw is NaN. The summary says how many and where the
            # first one went wrong.
            nans = torch.isnan(lj)
            if bool(nans.any()):
                if not nan_draws:  # the first such draw, alone
                    k = int(nans.nonzero()[0])
                    first = done + k + 1
                    where = locate.non_finite_at(model, x, named,
                                                 {name: v[k] for name, v in draws.items()})
                nan_draws += int(nans.sum())
            log_joints.extend(lj.tolist())
            chunks.append(draws)
            done += n
            reporter.progress(done, steps, log_joints[-1], time.perf_counter() - started,
                              metric="log_joint")
    posterior = {}
    for name in chunks[0]:
        allv = torch.cat([c[name] for c in chunks]).to(torch.float64)
        posterior[name] = {"mean": allv.mean(0).tolist(), "std": allv.std(0).tolist()}
    if not nan_draws:
        return Fitted(log_joints, posterior)
    nan = {"nan_log_joints": {"draws": nan_draws, "first_draw": first, **where}}
    return Fitted(log_joints, posterior, summary=nan, result=nan)


def nuts(model, x, observations, warmup, samples, args, reporter, started, locate) -> Fitted:
    import torch

    from ..infer import MCMC, NUTSKernel, bayesian_lift_parameters
    from ..errors import NotSupportedError

    check_protocol(model, "the entry")
    target, tx, tobs = model, x, observations
    if args.lift:
        target, tx, tobs = bayesian_lift_parameters(model, x, observations)
    per_chain = warmup + samples
    done = [0] * args.chains  # iterations done per chain (chains may run side by side)

    def progress(chain, it, total, accept, log_joint):
        done[chain] = it
        value = float(log_joint)
        if not math.isfinite(value):
            raise RunError(f"the log joint became non-finite at NUTS iteration {it} of chain "
                           f"{chain}", "nan")
        reporter.progress(sum(done), args.chains * per_chain, value, time.perf_counter() - started,
                          chains=done if args.chains > 1 else None, metric="log_joint")

    mcmc = MCMC(NUTSKernel(max_tree_depth=args.max_tree_depth), num_warmup=warmup,
                num_samples=samples, num_chains=args.chains, seed=args.seed, progress=progress,
                chain_method=args.chain_method)
    try:
        result = mcmc.run(target, tx, tobs)
    except NotSupportedError as exc:
        raise RunError.unsupported(exc) from None
    posterior = {}
    for name, s in result.summary().items():
        posterior[name] = {k: v.tolist() for k, v in s.items()}
    posterior["_diagnostics"] = {
        "acceptance_rates": result.acceptance_rates.tolist(),
        "divergence_counts": result.divergence_counts.tolist(),
        "step_sizes": result.step_sizes.tolist(),
        "chain_method": result.chain_method,
    }
    # the log joint at every iteration, chain after chain (whatever ran them)
    log_joints = result.trace_log_joint.to(torch.float64).reshape(-1).tolist()
    return Fitted(log_joints, posterior)


def open_corpus(model, args):
    """The `qvr.charlm.CorpusRun` of ``--data`` for `model` (a `RunError` with code ``data`` when
    the model or the text does not fit)."""
    from ..charlm import CorpusError, CorpusRun

    try:
        return CorpusRun(model, args.data, num_steps=args.num_steps, batch_size=args.batch)
    except CorpusError as exc:
        raise RunError(f"--data {args.data}: {exc}", "data", file=args.data) from None


def train_corpus(run, steps: int, args, reporter, started) -> Fitted:
    """Train an opened corpus run (`open_corpus`) for `steps` SGD steps with clipping at 1; the
    perplexities and, with ``--generate``, the continued prompt go into the summary and the
    ``result`` event."""
    from ..charlm import CorpusError

    try:
        history = run.train(steps, lr=args.lr, clip=1.0, seed=args.seed,
                            progress=lambda step, total, loss, _e: reporter.progress(
                                step, total, loss, time.perf_counter() - started))
        generated = run.generate(args.generate, args.chars) if args.generate is not None else None
    except CorpusError as exc:
        code = "nan" if "non-finite" in str(exc) else "data"
        raise RunError(str(exc), code) from None
    corpus_summary = run.summary()
    return Fitted(
        losses=history.losses, posterior={},
        summary={"corpus": corpus_summary, "generated": generated},
        result={"train_perplexity": corpus_summary["train_perplexity"],
                "val_perplexity": corpus_summary["val_perplexity"], "generated": generated})
