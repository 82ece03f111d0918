"""Training `compare`'s models, here or in worker processes, as soon as each is known.

Every model of a comparison is independent of the others: a keep set trained from the same seed
on the same data (`train.train_fixed`), or a stability refit of DynST with its own seed. A
`TrainingPool` runs them one after another in this process (``nproc <= 1``) or in ``nproc``
spawned processes, each loading the dataset once (mapped from disk when `data.mmap` is set) and
running one torch thread, so that N workers use N cores without oversubscribing them. In one
process every model also trains on one torch thread, so that every result is the same whatever
`nproc` is (a different thread count changes the order of floating-point sums, and training
amplifies it).

Jobs are submitted while the caller is still preparing the next ones (fitting the rival
selectors, greedy above all, takes seconds), so the workers start, load the data and train the
first models meanwhile; the caller collects the results in whatever order it wants.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ProcessPoolExecutor, wait
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from dynst_cli.compare.processes import start_workers
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

    def run(self, data: SensorData, config: FitConfig) -> tuple[dict, float]:
        return score_keep_set(data, config, self.keep, self.dense_cache)


@dataclass(frozen=True)
class RefitJob:
    """A stability refit: DynST fitted with `seed` into the run folder `folder`.

    Its result is the refit's keep vector `(N,)` bool and the seconds it took.
    """

    seed: int
    dataset_path: str
    folder: Path

    def run(self, data: SensorData, config: FitConfig) -> tuple[np.ndarray, float]:
        from dynst_cli.compare.stability import refit  # stability imports this module

        return refit(self.dataset_path, config, self.seed, self.folder)


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


class TrainingPool:
    """Run jobs (`KeepSetJob`, `RefitJob`) in `nproc` processes in all: this one and
    ``nproc - 1`` spawned workers.

    Use as a context manager. `submit` queues a job and returns a `concurrent.futures.Future`;
    `result(future)` waits for it, and while it waits this process trains queued jobs itself,
    so that it is one of the `nproc` trainers rather than a bystander, and it starts at once
    while the workers are still importing torch and reading the dataset (from `data_path`,
    checked against `data`'s sha256). Each worker has a feeder thread here that hands it the
    next queued job as soon as it is free, one at a time, so no job waits behind a busy worker
    while another process is idle.
    """

    def __init__(
        self,
        data: SensorData,
        config: FitConfig,
        data_path: str | Path,
        nproc: int = 1,
        executor: ProcessPoolExecutor | None = None,
    ):
        self.data, self.config, self.data_path = data, config, data_path
        self.n_workers = max(nproc, 1) - 1
        self._executor = executor  # workers started earlier (`processes.start_workers`), or None
        self._owns_executor = executor is None
        self._source = (str(data_path), config.to_dict(), data.sha256)
        self._queue: deque[tuple[KeepSetJob | RefitJob, Future]] = deque()
        self._ready = threading.Condition()  # guards _queue and _closed
        self._closed = False
        self._feeders: list[threading.Thread] = []
        self._threads = 1

    def __enter__(self) -> TrainingPool:
        self._threads = torch.get_num_threads()
        torch.set_num_threads(1)  # as in a worker: sums in the same order, the same results
        if self.n_workers:
            if self._executor is None:
                self._executor = start_workers(self.n_workers)
            for _ in range(self.n_workers):
                feeder = threading.Thread(target=self._feed, daemon=True)
                feeder.start()
                self._feeders.append(feeder)
        return self

    def __exit__(self, exc_type, *exc) -> None:
        with self._ready:
            self._closed = True
            for _, future in self._queue:  # left over after an error: never started
                future.cancel()
            self._queue.clear()
            self._ready.notify_all()
        for feeder in self._feeders:
            feeder.join()
        if self._executor is not None and self._owns_executor:
            # Every job is settled by now and the workers are idle. On success they are left to
            # exit while the caller writes its results (the interpreter joins them at exit);
            # after an error they are waited for, so nothing outlives the failure.
            self._executor.shutdown(wait=exc_type is not None, cancel_futures=True)
        torch.set_num_threads(self._threads)

    def submit(self, job: KeepSetJob | RefitJob) -> Future:
        future: Future = Future()
        with self._ready:
            self._queue.append((job, future))
            self._ready.notify()
        return future

    def result(self, future: Future):
        """The result of `future` (one of `submit`'s), training queued jobs here meanwhile."""
        while not future.done():
            item = self._next()
            if item is None:  # every job left is on a worker
                wait([future])
            elif item[1].set_running_or_notify_cancel():
                _settle(item[1], lambda job=item[0]: job.run(self.data, self.config))
        return future.result()

    def _next(self) -> tuple[KeepSetJob | RefitJob, Future] | None:
        with self._ready:
            return self._queue.popleft() if self._queue else None

    def _feed(self) -> None:
        """One worker's feeder: hand it the next queued job whenever it is free."""
        while True:
            with self._ready:
                while not self._queue and not self._closed:
                    self._ready.wait()
                if self._closed:
                    return
                job, future = self._queue.popleft()
            if future.set_running_or_notify_cancel():
                _settle(
                    future,
                    lambda job=job: self._executor.submit(_run_job, job, self._source).result(),
                )


def _settle(future: Future, work: Callable[[], object]) -> None:
    """Run `work` and put its result, or the exception it raised, into `future`."""
    try:
        future.set_result(work())
    except Exception as error:  # raised again by result(), where the caller waits
        future.set_exception(error)


def score_all(
    jobs: Iterable[KeepSetJob],
    data: SensorData,
    config: FitConfig,
    data_path: str | Path,
    nproc: int = 1,
    on_scored: OnScored | None = None,
) -> list[tuple[dict, float]]:
    """`(metrics, seconds)` of every job, in order; `on_scored(index, metrics, seconds)` after each.

    `jobs` may be a generator: each job is submitted as soon as it is yielded, so that the
    workers (``nproc > 1``, at most one per job when `jobs` is a list) train while the next
    keep sets are being chosen.
    """
    report = on_scored or (lambda index, metrics, seconds: None)
    if isinstance(jobs, list | tuple):
        nproc = min(nproc, len(jobs))
    with TrainingPool(data, config, data_path, nproc) as pool:
        futures = [pool.submit(job) for job in jobs]
        results = []
        for index, future in enumerate(futures):
            results.append(pool.result(future))
            report(index, *results[-1])
    return results


_LOADED: dict = {}  # in a worker process: (path, sha256, variables, mmap) -> SensorData


def worker_data(data_path: str, config: FitConfig, sha256: str) -> SensorData:
    """The dataset in a worker process, loaded by its first job and kept for the next ones."""
    key = (data_path, sha256, tuple(config.data.variables or ()), config.data.mmap)
    if key not in _LOADED:
        data = load_dataset(data_path, config.data.variables, mmap=config.data.mmap)
        if data.sha256 != sha256:
            raise InputError(f"{data_path} changed while compare was running (sha256 differs)")
        _LOADED.clear()  # one dataset at a time
        _LOADED[key] = data
    return _LOADED[key]


def _run_job(job: KeepSetJob | RefitJob, source: tuple[str, dict, str]):
    """Run `job` in a worker process on the dataset and configuration of `source`."""
    data_path, config, sha256 = source
    torch.set_num_threads(1)
    config = FitConfig.from_dict(config)
    return job.run(worker_data(data_path, config, sha256), config)
