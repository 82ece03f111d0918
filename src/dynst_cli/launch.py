"""`dynst fit --nproc N`: N local training processes started by PyTorch's elastic launcher.

This is what `torchrun --standalone --nproc-per-node N -m dynst_cli fit ...` does, run from inside
`dynst`: the same `fit_run` in every process, joined into one process group (gloo on the CPU, NCCL
on GPUs) through the environment the launcher sets. The resolved configuration and constraints
reach the workers as objects, so every flag and recipe value arrives unchanged. Rank 0 reports
progress and writes the run; a `DynstError` in any worker becomes the launcher's own error, with
the same exit code and message and no traceback.
"""

from __future__ import annotations

import json
import logging
import os
import sys
import tempfile
import uuid
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from dynst_cli.atomic import write_text
from dynst_cli.config import FitConfig
from dynst_cli.console import is_quiet, set_quiet
from dynst_cli.errors import DynstError, UsageError
from dynst_cli.selection.constraints import SitingConstraints

ERROR_FILE = "rank{rank}.json"  # a worker's DynstError, read back by the launcher


class WorkerError(DynstError):
    """A training process failed; carries the worker's exit code."""

    def __init__(self, message: str, exit_code: int):
        super().__init__(message)
        self.exit_code = exit_code


def launch_fit(
    dataset: str | Path,
    output: str | Path,
    config: FitConfig,
    resume: bool,
    constraints: SitingConstraints | None,
    nproc: int,
) -> dict:
    """Run `fit_run` in `nproc` local processes with DistributedDataParallel; rank 0's summary.

    Raises the first failing worker's error (a `DynstError` with its exit code), or
    KeyboardInterrupt when interrupted.
    """
    from torch.distributed.elastic.multiprocessing import DefaultLogsSpecs
    from torch.distributed.elastic.multiprocessing.api import SignalException
    from torch.distributed.elastic.multiprocessing.errors import ChildFailedError
    from torch.distributed.launcher.api import LaunchConfig, elastic_launch

    if nproc < 1:
        raise UsageError(f"--nproc must be at least 1, not {nproc}")
    with tempfile.TemporaryDirectory(prefix="dynst-launch-") as tmp:
        launch = LaunchConfig(
            min_nodes=1,
            max_nodes=1,
            nproc_per_node=nproc,
            run_id=f"dynst-{uuid.uuid4().hex[:8]}",
            rdzv_backend="c10d",  # what torchrun --standalone uses: a local store, a free port
            rdzv_endpoint="localhost:0",
            max_restarts=0,  # a failed fit is reported, not retried
            start_method="spawn",
            logs_specs=DefaultLogsSpecs(log_dir=str(Path(tmp) / "logs")),
        )
        args = (str(dataset), str(output), config, resume, constraints, is_quiet(), tmp)
        try:
            with _quiet_loggers("torch.distributed.elastic", "torch.multiprocessing"):
                results = elastic_launch(launch, _worker)(*args)
        except ChildFailedError as exc:
            raise _first_error(exc, Path(tmp)) from None
        except SignalException:
            raise KeyboardInterrupt from None
    return results.get(0) or {}


@contextmanager
def _quiet_loggers(*names: str) -> Iterator[None]:
    """Silence the launcher's own logs (a failure is reported once, as a dynst error)."""
    loggers = [logging.getLogger(name) for name in names]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.setLevel(logging.CRITICAL)
    try:
        yield
    finally:
        for logger, level in zip(loggers, levels, strict=True):
            logger.setLevel(level)


def _worker(
    dataset: str,
    output: str,
    config: FitConfig,
    resume: bool,
    constraints: SitingConstraints | None,
    quiet: bool,
    error_dir: str,
) -> dict:
    """One training process: fit on its shard; a DynstError is written down, then the exit code."""
    import torch

    from dynst_cli.progress import fit_with_progress

    rank = int(os.environ.get("RANK", "0"))
    set_quiet(quiet or rank != 0)  # one voice: rank 0 logs and shows progress
    # Library warnings stay off stderr, as in the command itself (`--nproc 1 --debug` shows them).
    warnings.simplefilter("ignore")
    # Share the cores instead of each process starting a thread per core (torchrun sets
    # OMP_NUM_THREADS=1 for the same reason).
    torch.set_num_threads(max(1, (os.cpu_count() or 1) // int(os.environ["LOCAL_WORLD_SIZE"])))
    try:
        return fit_with_progress(dataset, output, config, resume=resume, constraints=constraints)
    except DynstError as exc:
        record = {"exit_code": exc.exit_code, "message": str(exc)}
        write_text(Path(error_dir) / ERROR_FILE.format(rank=rank), json.dumps(record))
        sys.exit(exc.exit_code)


def _first_error(exc, tmp: Path) -> DynstError:
    """The worker error to report: rank 0's DynstError if any, else the first failure's."""
    for rank in sorted(exc.failures):
        path = tmp / ERROR_FILE.format(rank=rank)
        if path.is_file():
            record = json.loads(path.read_text())
            return WorkerError(record["message"], record["exit_code"])
    rank, failure = exc.get_first_failure()
    message = failure.message  # the error file's record when the worker raised, else a sentence
    if isinstance(message, dict):
        message = message.get("message", "")
    return WorkerError(
        f"internal error: training process {rank} failed with exit code {failure.exitcode}: "
        f"{message} (rerun with --nproc 1 --debug for the traceback)",
        1,
    )
