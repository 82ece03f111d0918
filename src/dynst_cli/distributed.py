"""What the training loop needs from torch.distributed, as no-ops in a single process.

Under `torchrun` (or `dynst fit --nproc N`) every rank runs the same loop: DistributedDataParallel
averages the gradients of the backbone and the mask scores, the regrow signal is summed across
ranks, mask decisions are taken on rank 0 and broadcast, and only rank 0 writes files.
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

import torch
import torch.distributed as dist

# How long a rank waits in a collective. Rank 0 alone evaluates the model and writes the run while
# the others wait at a barrier, which on a large dataset takes longer than PyTorch's 10-30 minutes.
COLLECTIVE_TIMEOUT = timedelta(hours=2)


def is_distributed() -> bool:
    return dist.is_available() and dist.is_initialized()


def rank() -> int:
    return dist.get_rank() if is_distributed() else 0


def world_size() -> int:
    return dist.get_world_size() if is_distributed() else 1


def is_main() -> bool:
    return rank() == 0


def launched_by_torchrun() -> bool:
    """True inside a process started by torch.distributed.run (it sets these variables)."""
    return "LOCAL_RANK" in os.environ and "WORLD_SIZE" in os.environ


def launch_rank() -> int:
    """The global rank torchrun gave this process (0 outside torchrun), before joining a group."""
    return int(os.environ.get("RANK", "0")) if launched_by_torchrun() else 0


def init_from_environment(device: str) -> None:
    """Join the process group torchrun describes: gloo on the CPU, NCCL on GPUs."""
    if launched_by_torchrun() and not is_distributed():
        backend = "nccl" if device == "cuda" else "gloo"
        if device == "cuda":
            torch.cuda.set_device(int(os.environ["LOCAL_RANK"]))
        dist.init_process_group(backend=backend, timeout=COLLECTIVE_TIMEOUT)


def shutdown() -> None:
    if is_distributed():
        dist.destroy_process_group()


@contextmanager
def process_group(device: str) -> Iterator[None]:
    """Inside torchrun, join its process group for the duration of the block, then leave it.

    Outside torchrun, or when a group is already up (a caller joined it), nothing happens.
    """
    joining = launched_by_torchrun() and not is_distributed()
    if joining:
        init_from_environment(device)
    try:
        yield
    finally:
        if joining:
            shutdown()


def wrap_ddp(model: torch.nn.Module, device: torch.device) -> torch.nn.Module | None:
    """`model` in DistributedDataParallel when in a process group, else None.

    DDP averages the gradients of the parameters that require one when it is built: build it
    again after freezing the gate scores. forward_sync_buffers=False: the keep vector is already
    broadcast at every mask update, and the regrow signal `grad_accum` is a per-rank sum that
    update_mask reduces; overwriting it with rank 0's copy at every forward would lose the other
    ranks' share (buffers are still made equal once, when DDP is built).
    """
    if not is_distributed():
        return None
    device_ids = [torch.cuda.current_device()] if device.type == "cuda" else None
    return torch.nn.parallel.DistributedDataParallel(
        model, device_ids=device_ids, forward_sync_buffers=False
    )


def all_reduce_sum(tensor: torch.Tensor) -> torch.Tensor:
    """Sum `tensor` over ranks in place (returned for convenience)."""
    if is_distributed():
        dist.all_reduce(tensor, op=dist.ReduceOp.SUM)
    return tensor


def broadcast_from_main(tensor: torch.Tensor) -> torch.Tensor:
    """Overwrite `tensor` on every rank with rank 0's value."""
    if is_distributed():
        dist.broadcast(tensor, src=0)
    return tensor


def main_value(value: float | None, device: torch.device) -> float:
    """Rank 0's `value` on every rank (NaN for None), for a decision taken on rank 0's
    validation error, which only rank 0 evaluates."""
    tensor = torch.tensor([math.nan if value is None else float(value)], dtype=torch.float64)
    return float(broadcast_from_main(tensor.to(device))[0])


def broadcast_module(module: torch.nn.Module) -> None:
    """Overwrite `module`'s parameters and buffers on every rank with rank 0's.

    For a decision taken on rank 0 alone, such as the best-validation weights (only rank 0
    evaluates, `train.BestWeights`), so that every rank goes on with the model rank 0 writes.
    """
    if is_distributed():
        with torch.no_grad():
            for tensor in module.state_dict().values():
                dist.broadcast(tensor, src=0)


def barrier() -> None:
    if is_distributed():
        dist.barrier()
