"""The evidence lower bound and stochastic variational inference (spec §6.3).

``ELBO(num_particles=K)`` estimates ``E_q[log p(x, z, obs) - log q(z)]`` with K particles. The
particles are vectorised, not looped: the input and observations are repeated K times along
the batch axis (copy-major), the guide draws one latent per row of that folded batch, and one
``model.log_joint`` call scores them all. The loss is minus the mean over particles and rows.
A program that never reads its input (``x`` is None: one row) gets a placeholder input of K
rows instead; its observations with that one row are repeated and those without a batch axis
are shared by every row.

``SVI(model, guide, optim, loss, batch_size=None, distributed=False)``. Both options change
which rows one step sees, never what it estimates:

* ``batch_size=B``: each step scores B rows drawn without replacement from the N given. The
  loss is a mean over rows, so the minibatch mean is an unbiased estimate of the full one (the
  sum over all rows scaled by N/B, divided by N).
* ``distributed=True``: the processes of a `torch.distributed` group each score their own
  share of the rows (of the minibatch, with ``batch_size``) and sum their gradients
  (`qvr.infer.distributed`); every process passes the same, whole data to ``step``.
"""
from __future__ import annotations


import torch

from ..compile.base import RuntimeModule
from . import distributed as dist_
from .sites import batch_size as rows_of
from .sites import model_device, repeat_batch, to_device


class ELBO:
    """Negative ELBO loss; ``loss(model, guide, x, observations)`` (also callable)."""

    def __init__(self, num_particles: int = 1):
        if int(num_particles) < 1:
            raise ValueError(f"num_particles must be at least 1, got {num_particles}")
        self.num_particles = int(num_particles)
        self._scorer = None  # (key, the objects it names, scorer): see `_log_joint`

    def loss(self, model, guide, x, observations=None) -> torch.Tensor:
        scorer = self._cached_scorer(model, x, observations)
        if scorer is not None:  # the same data as the last step: already moved and checked
            z, log_q = _guide_draw(guide, scorer[1])
            return -(scorer[0](z) - log_q).mean()
        given = (x, observations)  # what the next step's data are compared with
        device = model_device(model)
        x = to_device(x, device)
        # Observations are data: a value that still carries a graph (e.g. straight from
        # model.rsample) must not make backward() walk through its history.
        observations = {k: v.detach() if isinstance(v, torch.Tensor) else v
                        for k, v in to_device(dict(observations or {}), device).items()}
        k = self.num_particles
        # named inputs (data, scalar parameters; part 2 §6.7) have no batch axis: not repeated
        named = getattr(model, "named_inputs", None) or {}
        if x is None and k > 1 and hasattr(model, "placeholder_input"):
            # A program that never reads its input runs on one row (x is None); its particles
            # need rows of their own. A value with that one row is repeated; one without a
            # batch axis (spec part 2 §6.7 lets it be left out) is shared by every row.
            xk = model.placeholder_input(k, device)
            obs_k = {n: (repeat_batch(v, k) if n not in named and isinstance(v, torch.Tensor)
                         and v.dim() and v.shape[0] == 1 else v) for n, v in observations.items()}
        else:
            xk = repeat_batch(x, k)
            obs_k = {n: (v if n in named else repeat_batch(v, k)) for n, v in observations.items()}
        z, log_q = _guide_draw(guide, xk)
        if type(model).log_joint is RuntimeModule.log_joint:
            # A compiled model: check the input and the data once, and reuse that while the
            # same (unmodified) tensors come back step after step.
            score = model.joint_scorer(xk, obs_k)
            self._remember(model, *given, (score, xk))
            log_p = score(z)
        else:
            log_p = model.log_joint(xk, {**z, **obs_k})
        return -(log_p - log_q).mean()

    __call__ = loss

    # -- the data of the last step, checked -----------------------------------------------------
    def _key(self, model, x, observations):
        """What decides whether the last step's checked data still apply: the model (and where
        its parameters live), the particle count, and each data tensor's identity and in-place
        version. None when something is not a tensor (nothing is reused then)."""
        items = [("", x)] + sorted((observations or {}).items(), key=lambda kv: kv[0])
        if not all(isinstance(v, torch.Tensor) for _, v in items):
            return None, None
        key = (id(model), model_device(model), getattr(model, "dtype", None), self.num_particles,
               tuple((k, id(v), v._version) for k, v in items))
        return key, [model] + [v for _, v in items]

    def __getstate__(self):  # the remembered scorer is a closure: never copied or pickled
        return {**self.__dict__, "_scorer": None}

    def _remember(self, model, x, observations, scorer) -> None:
        key, objects = self._key(model, x, observations)
        self._scorer = None if key is None else (key, objects, scorer)

    def _cached_scorer(self, model, x, observations):
        if self._scorer is None:
            return None
        key, _ = self._key(model, x, observations)
        # the stored objects are kept alive, so an equal id is the same object
        return self._scorer[2] if key == self._scorer[0] else None


def _guide_draw(guide, xk):
    if hasattr(guide, "rsample_with_log_prob"):
        return guide.rsample_with_log_prob(xk)
    z = guide.rsample(xk)  # any guide honouring the documented protocol
    return z, guide.log_prob(xk, z)


class SVI:
    """Stochastic variational inference: one optimiser step per ``step`` call."""

    def __init__(self, model, guide, optim, loss=None, *, batch_size: int | None = None,
                 distributed: bool = False):
        self.model = model
        self.guide = guide
        self.optim = optim
        self.loss = loss if loss is not None else ELBO()
        if batch_size is not None and int(batch_size) < 1:
            raise ValueError(f"batch_size must be at least 1, got {batch_size}")
        self.batch_size = None if batch_size is None else int(batch_size)
        self.distributed = bool(distributed)
        if self.distributed:
            import torch.distributed as dist

            if not (dist.is_available() and dist.is_initialized()):
                raise ValueError("SVI(distributed=True) needs an initialised torch.distributed "
                                 "process group (qvr run --nproc N, or torchrun)")
            # copies initialised differently (another seed, another process) agree from here
            dist_.broadcast_parameters(dist_.optimiser_parameters(optim))

    def _loss(self, x, observations) -> torch.Tensor:
        fn = self.loss.loss if hasattr(self.loss, "loss") else self.loss
        return fn(self.model, self.guide, x, observations)

    def _rows(self, rows: int):
        """(rows this process scores this step, its share of all rows scored this step)."""
        rank, world = (dist_.rank(), dist_.world_size()) if self.distributed else (0, 1)
        if world > rows:
            raise ValueError(f"{rows} rows cannot be shared by {world} processes")
        mine = dist_.shard_rows(rows, rank, world)
        share = (mine.stop - mine.start) / rows
        if self.batch_size is None:
            return mine, share
        # a minibatch of each process's own rows: its mean estimates the mean of those rows,
        # weighted by their share of all rows, so the sum estimates the full mean unbiasedly
        total = min(self.batch_size, rows)
        take = dist_.shard_rows(total, rank, world)
        count = take.stop - take.start
        if count < 1:
            raise ValueError(f"a batch of {total} rows cannot be shared by {world} processes")
        index = mine.start + torch.randperm(mine.stop - mine.start)[:count]
        return index, share

    def step(self, x, observations=None) -> float:
        """zero_grad, loss, backward, ``optim.step()``; returns the loss as a float (with
        ``distributed``, the loss of all processes' rows together)."""
        self.optim.zero_grad(set_to_none=True)
        if self.batch_size is None and not self.distributed:
            loss = self._loss(x, observations)
            loss.backward()
            self.optim.step()
            # One host sync per step is the price of the documented float return value.
            return float(loss.detach())
        index, share = self._rows(rows_of(x))
        rows = index.to(model_device(self.model)) if isinstance(index, torch.Tensor) else index
        scaled = self._loss(dist_.take_rows(to_device(x, model_device(self.model)), rows),
                            dist_.take_rows(to_device(dict(observations or {}),
                                                      model_device(self.model)), rows)) * share
        scaled.backward()
        if self.distributed:
            total = dist_.all_reduce_gradients(dist_.optimiser_parameters(self.optim), scaled)
        else:
            total = float(scaled.detach())
        self.optim.step()
        return total

    def evaluate_loss(self, x, observations=None) -> float:
        with torch.no_grad():
            return float(self._loss(x, observations))
