"""Training `compare`'s keep sets, one after another or in worker processes.

Every keep set is trained from the same seed on the same data (`train.train_fixed`), so the
rows are independent and their results do not depend on where or in which order they run. With
`nproc > 1` they go to a pool of `nproc` spawned processes, each loading the dataset once (mapped
from disk when `data.mmap` is set) and running one torch thread, so that N workers use N cores
without oversubscribing them. In one process the keep sets also train on one torch thread, so
that every row is the same whatever `nproc` is (a different thread count changes the order of
floating-point sums, and training amplifies it). Results come back in submission order.
"""

from __future__ import annotations

import multiprocessing
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from dynst_cli.config import FitConfig
from dynst_cli.data import SensorData, load_dataset
from dynst_cli.dense_cache import dense_key, key_inputs, store
from dynst_cli.errors import InputError
from dynst_cli.evaluate import evaluate, headline
from dynst_cli.train import evaluate_splits, train_fixed

OnScored = Callable[[int, dict, float], None]


@dataclass(frozen=True)
class KeepSetJob:
    """One row to train: a keep vector `(N,)` bool, and where to cache it if it is dense.

    `dense_cache` is the folder of dense references (`dense_cache.cache_root`); only an all-on
    keep set with a folder given is stored there, as the dense reference of its configuration.
    """

    keep: np.ndarray
    dense_cache: Path | None = None


def score_keep_set(
    data: SensorData, config: FitConfig, keep: np.ndarray, dense_cache: Path | None = None
) -> tuple[dict, float]:
    """Test-split ``{mae, rmse, mape}`` of a fresh backbone trained on `keep`, and the seconds.

    With `dense_cache` and every sensor kept, the model is also stored there as the dense
    reference of `config` (validation and test metrics, weights).
    """
    started = time.perf_counter()
    prep = train_fixed(data, config, keep)
    if dense_cache is not None and bool(np.all(keep)):
        metrics = evaluate_splits(prep)
        key = dense_key(config, data.sha256)
        store(dense_cache, key, key_inputs(config, data.sha256), metrics, prep.model.state_dict())
        test = metrics["test"]
    else:
        starts = prep.splits["test"].window_starts
        test = evaluate(prep.model, prep.source, starts, prep.scaler, prep.device)
    return headline(test), time.perf_counter() - started


def score_all(
    jobs: list[KeepSetJob],
    data: SensorData,
    config: FitConfig,
    data_path: str | Path,
    nproc: int = 1,
    on_scored: OnScored | None = None,
) -> list[tuple[dict, float]]:
    """`(metrics, seconds)` of every job, in order; `on_scored(index, metrics, seconds)` after each.

    `nproc > 1` trains them in that many worker processes (at most one per job), which read the
    dataset from `data_path` themselves; otherwise they run here on `data`.
    """
    report = on_scored or (lambda index, metrics, seconds: None)
    results = []
    if nproc <= 1 or len(jobs) <= 1:
        threads = torch.get_num_threads()
        torch.set_num_threads(1)  # as in a worker: sums in the same order, the same rows
        try:
            for index, job in enumerate(jobs):
                results.append(score_keep_set(data, config, job.keep, job.dense_cache))
                report(index, *results[-1])
        finally:
            torch.set_num_threads(threads)
        return results
    context = multiprocessing.get_context("spawn")  # no fork of a process holding torch threads
    pool = ProcessPoolExecutor(
        max_workers=min(nproc, len(jobs)),
        mp_context=context,
        initializer=_init_worker,
        initargs=(str(data_path), config.to_dict(), data.sha256),
    )
    try:
        futures = [pool.submit(_run_job, job) for job in jobs]
        for index, future in enumerate(futures):
            results.append(future.result())
            report(index, *results[-1])
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
    return results


_WORKER: dict = {}


def _init_worker(data_path: str, config: dict, sha256: str) -> None:
    """Load the dataset and configuration once per worker process; one torch thread."""
    torch.set_num_threads(1)
    config = FitConfig.from_dict(config)
    data = load_dataset(data_path, config.data.variables, mmap=config.data.mmap)
    if data.sha256 != sha256:
        raise InputError(f"{data_path} changed while compare was running (sha256 differs)")
    _WORKER.update(data=data, config=config)


def _run_job(job: KeepSetJob) -> tuple[dict, float]:
    return score_keep_set(_WORKER["data"], _WORKER["config"], job.keep, job.dense_cache)
