"""compare's keep sets in worker processes: the same rows as in one process."""

from __future__ import annotations

import os
import shutil
import time
from dataclasses import dataclass

import numpy as np
import pytest
import torch

from dynst_cli.compare.runner import compare_run
from dynst_cli.compare.workers import KeepSetJob, TrainingPool, score_all
from dynst_cli.fit import fit_run
from dynst_cli.prune import load_for_run, prune_run
from dynst_cli.run import RunDir
from synthetic import tiny_config


@pytest.fixture(scope="module")
def mapped_run(tmp_path_factory, planted):
    """A tiny run fitted with `data.mmap`, its value copy in a private cache folder."""
    cache = tmp_path_factory.mktemp("value-cache")
    patch = pytest.MonkeyPatch()
    patch.setenv("DYNST_CACHE_DIR", str(cache))
    config = tiny_config()
    config.data.mmap = True
    run = tmp_path_factory.mktemp("mapped") / "run"
    fit_run(planted[0], run, config)
    yield run
    patch.undo()


def test_prune_and_compare_read_a_mapped_run_from_disk(mapped_run):
    _, data, _ = load_for_run(RunDir(mapped_run))
    assert isinstance(data.values, np.memmap)
    plan = prune_run(mapped_run, 0.5, finetune_epochs=0)
    assert plan.n_keep == sum(entry.keep for entry in plan.sensors)


@pytest.mark.slow
def test_two_workers_give_the_rows_of_one_process(mapped_run, tmp_path):
    # separate folders, so that each call trains (and caches) its own dense reference
    one, two = tmp_path / "one" / "run", tmp_path / "two" / "run"
    shutil.copytree(mapped_run, one)
    shutil.copytree(mapped_run, two)
    threads = torch.get_num_threads()
    torch.set_num_threads(2)  # one process trains on one thread anyway, like each worker
    args = ([0.3, 0.7], ["dynst", "random", "variance", "qr"])
    try:
        serial = compare_run(one, *args, seeds=1, epochs=1, nproc=1)
        assert torch.get_num_threads() == 2  # and gives the caller its threads back
        parallel = compare_run(two, *args, seeds=1, epochs=1, nproc=2)
    finally:
        torch.set_num_threads(threads)
    assert len(serial.results) == 2 * 4
    assert parallel.results == serial.results
    assert parallel.dense == serial.dense
    assert (tmp_path / "two" / ".dynst-cache" / "dense").is_dir()
    again = compare_run(two, *args, seeds=1, epochs=1, nproc=2)  # the dense row from the cache
    assert again.dense == parallel.dense and again.dense_seconds is None


@pytest.mark.slow
def test_stability_refits_in_workers_match_one_process(fitted_run, tmp_path):
    args = ([0.5], ["random"])
    serial = compare_run(fitted_run, *args, seeds=2, epochs=1, nproc=1, workdir=tmp_path)
    parallel = compare_run(fitted_run, *args, seeds=2, epochs=1, nproc=2, workdir=tmp_path)
    assert serial.stability["seeds"] == 2
    assert parallel.stability == serial.stability
    assert parallel.results == serial.results
    assert len(parallel.refit_seconds) == 2
    assert list(tmp_path.iterdir()) == []  # the refits' temporary runs are gone


def test_a_generator_of_jobs_is_submitted_as_it_yields(fitted_run):
    _, data, _ = load_for_run(RunDir(fitted_run))
    yielded = []

    def jobs():
        for k in (3, 5):
            yielded.append(k)
            yield KeepSetJob(np.arange(data.n_sensors) < k)

    path = RunDir(fitted_run).read_json("config.json")["dataset"]["path"]
    results = score_all(jobs(), data, tiny_config(epochs=1), path, nproc=1)
    assert yielded == [3, 5] and len(results) == 2
    assert results[0][0]["mae"] != results[1][0]["mae"]


def test_results_come_back_in_submission_order(fitted_run):
    _, data, _ = load_for_run(RunDir(fitted_run))
    config = tiny_config(epochs=1)
    keeps = [np.arange(data.n_sensors) < k for k in (3, data.n_sensors, 5)]
    seen = []
    results = score_all(
        [KeepSetJob(keep) for keep in keeps],
        data,
        config,
        RunDir(fitted_run).read_json("config.json")["dataset"]["path"],
        nproc=1,
        on_scored=lambda index, metrics, seconds: seen.append(index),
    )
    assert seen == [0, 1, 2]
    assert len({r[0]["mae"] for r in results}) == 3


@dataclass(frozen=True)
class WhereJob:
    """A job that takes a while and says which process ran it (or fails, if asked)."""

    fail: bool = False

    def run(self, data, config):
        time.sleep(0.3)
        if self.fail:
            raise ValueError("this job fails")
        return os.getpid()


@pytest.mark.slow
def test_this_process_trains_beside_its_workers_and_errors_reach_the_caller(planted):
    from dynst_cli.data import load_dataset

    data = load_dataset(planted[0])
    with TrainingPool(data, tiny_config(), planted[0], nproc=2) as pool:
        futures = [pool.submit(WhereJob()) for _ in range(8)]
        failing = pool.submit(WhereJob(fail=True))
        pids = [pool.result(f) for f in futures]
        with pytest.raises(ValueError, match="this job fails"):
            pool.result(failing)
    assert os.getpid() in pids  # the caller took jobs while it waited
    assert len(set(pids)) == 2  # and so did the one worker
    with TrainingPool(data, tiny_config(), planted[0], nproc=1) as pool:
        future = pool.submit(WhereJob())
        assert not future.done()  # queued until someone waits for it
        assert pool.result(future) == os.getpid()
