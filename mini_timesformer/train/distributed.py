"""Multi-process training helpers (``torchrun``): a thin layer over ``torch.distributed``.

``torchrun --nproc_per_node=N`` starts N copies of the same command and sets the
environment variables ``RANK``, ``LOCAL_RANK``, ``WORLD_SIZE``, ``MASTER_ADDR`` and
``MASTER_PORT``. Each copy joins one process group (NCCL on GPUs, gloo on CPUs), wraps
its model in ``DistributedDataParallel`` (gradients are averaged across processes during
``backward``) and reads its own shard of the data. Only rank 0 logs and writes files;
metrics are summed across processes with ``all_reduce``. Without ``torchrun`` everything
below is a no-op and the same code runs as one process.
"""

from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass

import torch
import torch.distributed as torch_dist


@dataclass
class DistContext:
    rank: int = 0
    world_size: int = 1
    local_rank: int = 0

    @property
    def active(self) -> bool:
        return self.world_size > 1


@contextlib.contextmanager
def init_process_group():
    """Join the process group that ``torchrun`` describes in the environment (if any)."""
    world_size = int(os.environ.get("WORLD_SIZE", "1"))
    if world_size <= 1 or torch_dist.is_initialized():
        ctx = (
            DistContext(
                torch_dist.get_rank(),
                torch_dist.get_world_size(),
                int(os.environ.get("LOCAL_RANK", "0")),
            )
            if torch_dist.is_initialized()
            else DistContext()
        )
        yield ctx
        return
    backend = "nccl" if torch.cuda.is_available() else "gloo"
    torch_dist.init_process_group(backend)
    ctx = DistContext(
        torch_dist.get_rank(), torch_dist.get_world_size(), int(os.environ.get("LOCAL_RANK", "0"))
    )
    try:
        yield ctx
    finally:
        torch_dist.destroy_process_group()


def wrap_model(model: torch.nn.Module, device: torch.device, ctx: DistContext):
    """``DistributedDataParallel(model)`` when several processes train, else the model."""
    if not ctx.active:
        return model
    ids = [device.index] if device.type == "cuda" else None
    return torch.nn.parallel.DistributedDataParallel(model, device_ids=ids)


def no_sync(net):
    """Skip the gradient all-reduce (gradient accumulation's early micro-batches)."""
    return net.no_sync() if hasattr(net, "no_sync") else contextlib.nullcontext()


def all_reduce_sum(tensor: torch.Tensor, ctx: DistContext) -> torch.Tensor:
    """Sum ``tensor`` over all processes (in place; returned for chaining)."""
    if ctx.active:
        torch_dist.all_reduce(tensor, op=torch_dist.ReduceOp.SUM)
    return tensor


def barrier(ctx: DistContext) -> None:
    if ctx.active:
        torch_dist.barrier()
