"""Worker processes for `compare`, started before this process has imported the numerical stack.

A spawned worker spends about two seconds importing torch and the training code. Started here
first, by the command line before it imports the library, the workers do that while this
process imports the same and loads the run, instead of after it; `workers.TrainingPool` then
feeds them jobs. This module imports nothing heavy for that reason.
"""

from __future__ import annotations

import multiprocessing
from concurrent.futures import ProcessPoolExecutor


def start_workers(n: int) -> ProcessPoolExecutor | None:
    """`n` spawned worker processes, already starting (None when `n` < 1).

    Each imports the training code and runs one torch thread; the datasets are loaded by the
    first job that needs them (`workers.worker_data`). The caller shuts the executor down.
    """
    if n < 1:
        return None
    # spawn: never fork a process that may hold torch threads
    executor = ProcessPoolExecutor(
        max_workers=n, mp_context=multiprocessing.get_context("spawn"), initializer=_warm
    )
    for _ in range(n):  # a process is spawned per submitted task, up to max_workers
        executor.submit(_ready)
    return executor


def _warm() -> None:
    import torch

    torch.set_num_threads(1)
    import dynst_cli.compare.workers  # noqa: F401  (the import is the warm-up)


def _ready() -> None:
    return None
