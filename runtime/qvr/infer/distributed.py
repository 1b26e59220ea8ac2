"""Data-parallel SVI over `torch.distributed`: rows sharded across processes, gradients summed.

The processes of one run (started by `qvr run --nproc N`, by `torchrun`, or by the user's own
launcher; see `qvr.launch`) each hold the whole model, guide and optimiser. Each takes its own
contiguous share of the data's rows (`shard_rows`), computes the loss on them and scales it by
its share of the rows (`n_rank / N`), so that the scaled losses add up to the loss of the
whole batch. One all-reduce (SUM) of every gradient, with the scaled loss in the same buffer,
then gives each process the gradient of the whole batch, and the same optimiser step keeps the
copies equal. Parameters are broadcast from rank 0 once, at the start, so copies that were
initialised differently agree from the first step.

Why not `DistributedDataParallel`: it wraps one module's `forward`, while an SVI step runs the
guide and the model's `log_joint` (and a character model's trace) in one loss; one flat
all-reduce per step is what DDP's buckets amount to for models of this size.

Rank-local latent parameters do not exist here: the automatic guides' parameters are shared
over rows (see `qvr.infer.guides`), so every parameter is replicated and summed.
"""
from __future__ import annotations

from collections.abc import Mapping

import torch


def is_distributed() -> bool:
    """Whether a process group with more than one process is initialised."""
    import torch.distributed as dist

    return dist.is_available() and dist.is_initialized() and dist.get_world_size() > 1


def rank() -> int:
    import torch.distributed as dist

    return dist.get_rank() if is_distributed() else 0


def world_size() -> int:
    import torch.distributed as dist

    return dist.get_world_size() if is_distributed() else 1


def shard_rows(rows: int, rank_: int, world: int) -> slice:
    """This rank's contiguous share of `rows` rows (shares differ by at most one row)."""
    return slice(rows * rank_ // world, rows * (rank_ + 1) // world)


def take_rows(value, index):
    """`value` (a tensor with rows first, or a dict/tuple/list of them) at rows `index` (a
    slice or an index tensor); anything else is returned as it is."""
    if isinstance(value, torch.Tensor):
        return value[index]
    if isinstance(value, Mapping):
        return {k: take_rows(v, index) for k, v in value.items()}
    if isinstance(value, (tuple, list)):
        return type(value)(take_rows(v, index) for v in value)
    return value


def broadcast_parameters(params, src: int = 0) -> None:
    """Give every process rank `src`'s parameter values."""
    import torch.distributed as dist

    with torch.no_grad():
        for p in params:
            dist.broadcast(p.data, src)


def all_reduce_gradients(params, scaled_loss: torch.Tensor) -> float:
    """Sum every parameter's gradient and the (already scaled) loss over the processes, in
    one flat buffer; the gradients are replaced by the sums. Returns the summed loss."""
    import torch.distributed as dist

    params = [p for p in params if p.requires_grad]
    grads = [p.grad if p.grad is not None else torch.zeros_like(p) for p in params]
    flat = torch.cat([g.reshape(-1) for g in grads] + [scaled_loss.detach().reshape(1)])
    dist.all_reduce(flat, op=dist.ReduceOp.SUM)
    offset = 0
    for p in params:
        n = p.numel()
        p.grad = flat[offset:offset + n].view_as(p).clone()
        offset += n
    return float(flat[-1])


def optimiser_parameters(optim) -> list:
    """Every parameter of an optimiser, in order, each once."""
    seen, out = set(), []
    for group in optim.param_groups:
        for p in group["params"]:
            if id(p) not in seen:
                seen.add(id(p))
                out.append(p)
    return out
