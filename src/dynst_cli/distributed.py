"""What the training loop needs from torch.distributed, as no-ops in a single process.

Under `torchrun` (or `dynst fit --nproc N`) every rank runs the same loop: DistributedDataParallel
averages the gradients of the backbone and the mask scores, the regrow signal is summed across
ranks, mask decisions are taken on rank 0 and broadcast, and only rank 0 writes files.
"""

from __future__ import annotations

import os

import torch
import torch.distributed as dist


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


def init_from_environment(device: str) -> None:
    """Join the process group torchrun describes: gloo on the CPU, NCCL on GPUs."""
    if launched_by_torchrun() and not is_distributed():
        backend = "nccl" if device == "cuda" else "gloo"
        dist.init_process_group(backend=backend)
        if device == "cuda":
            torch.cuda.set_device(int(os.environ["LOCAL_RANK"]))


def shutdown() -> None:
    if is_distributed():
        dist.destroy_process_group()


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


def barrier() -> None:
    if is_distributed():
        dist.barrier()
