"""How stable DynST's choice is: refit with several seeds and compare the keep sets.

The run is refitted K times on its own dataset and configuration (without siting constraints),
with ``train.seed = 0..K-1``. Two figures summarise the K keep sets at the run's fit sparsity:

- the selection frequency of each sensor: the share of refits that kept it, in [0, 1];
- the mean pairwise Jaccard overlap ``|A & B| / |A | B|`` over all K(K-1)/2 pairs of keep sets
  (1: every refit kept the same sensors).
"""

from __future__ import annotations

import contextlib
import dataclasses
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from dynst_cli.compare.workers import RefitJob, TrainingPool
from dynst_cli.config import FitConfig
from dynst_cli.errors import InputError, UsageError
from dynst_cli.fit import fit_run
from dynst_cli.plan.schema import Plan
from dynst_cli.prune import load_for_run
from dynst_cli.run import CONFIG, RANKING, RunDir
from dynst_cli.selection import Ranking
from dynst_cli.selection.consensus import mean_pairwise_jaccard, selection_frequency

OnRefit = Callable[[int, float], None]


def summarise(keeps: np.ndarray, sensor_ids, sparsity: float) -> dict:
    """The stability record of K keep sets, shape [K, n_sensors]."""
    frequency = selection_frequency(keeps)
    return {
        "seeds": int(len(keeps)),
        "sparsity": float(sparsity),
        "n_keep": int(np.asarray(keeps[0], dtype=bool).sum()),
        "mean_jaccard": mean_pairwise_jaccard(keeps),
        "selection_frequency": {
            str(sid): float(f) for sid, f in zip(sensor_ids, frequency, strict=True)
        },
    }


def with_epochs(config: FitConfig, epochs: int | None) -> FitConfig:
    """The configuration with `epochs` (when given) replacing the training epochs."""
    if epochs is None:
        return config
    if epochs < 1:
        raise UsageError(f"--epochs must be at least 1, got {epochs}")
    return dataclasses.replace(config, train=dataclasses.replace(config.train, epochs=epochs))


def refit_config(config: FitConfig, seed: int) -> FitConfig:
    """The run's configuration with `seed`, minus the dense reference no keep set needs."""
    train = dataclasses.replace(config.train, seed=seed, dense_reference=False)
    return dataclasses.replace(config, train=train)


def refit(dataset_path, config: FitConfig, seed: int, folder: Path) -> tuple[np.ndarray, float]:
    """Fit DynST with `seed` into `folder`; its keep vector `(N,)` and the seconds it took."""
    started = time.perf_counter()
    fit_run(dataset_path, folder, refit_config(config, seed))
    return Ranking.read(Path(folder) / RANKING).kept, time.perf_counter() - started


@contextlib.contextmanager
def refit_folder(workdir: str | Path | None):
    """A temporary folder for the refits' runs inside `workdir` (None: the system's), removed
    when done."""
    if workdir is not None:
        Path(workdir).mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=".dynst-stability-", dir=workdir) as tmp:
        yield Path(tmp)


def submit_refits(pool: TrainingPool, dataset_path, seeds: int, folder: Path) -> list:
    """Refit jobs for ``train.seed = 0..seeds-1`` submitted to `pool`: their futures."""
    return [
        pool.submit(RefitJob(seed, str(dataset_path), folder / f"seed-{seed}"))
        for seed in range(seeds)
    ]


def collect_refits(
    pool: TrainingPool, futures: list, on_refit: OnRefit | None = None
) -> np.ndarray:
    """The keep sets of the refits in seed order, shape [seeds, N]; `on_refit` after each."""
    keeps = []
    for seed, future in enumerate(futures):
        keep, seconds = pool.result(future)
        keeps.append(keep)
        if on_refit:
            on_refit(seed, seconds)
    return np.stack(keeps)


def stability(
    run_path: str | Path,
    seeds: int,
    *,
    epochs: int | None = None,
    data_path: str | Path | None = None,
    workdir: str | Path | None = None,
    on_refit: OnRefit | None = None,
    nproc: int = 1,
) -> dict:
    """Refit the run's DynST `seeds` times and summarise how often each sensor was kept.

    Parameters
    ----------
    run_path : str or Path
        A finished run directory; its dataset (checked by sha256) and configuration are reused.
    seeds : int
        Number of refits K >= 2, with ``train.seed`` 0..K-1.
    epochs : int or None
        Training epochs of each refit; None keeps the run's.
    data_path, workdir : str or Path or None
        The run's dataset if it has moved; where the temporary refits go.
    on_refit : callable or None
        Called as ``on_refit(seed, seconds)`` after each refit.
    nproc : int
        Worker processes for the refits (`compare.workers`); every refit trains on one torch
        thread, so the result does not depend on it.

    Returns
    -------
    dict
        ``{"dataset_sha256", "seeds", "sparsity", "n_keep", "mean_jaccard",
        "selection_frequency": {sensor_id: f}}``, sensors in the dataset's order.
    """
    if seeds < 2:
        raise UsageError(f"stability needs --seeds of at least 2, got {seeds}")
    run = RunDir(run_path).require()
    config, data, _ = load_for_run(run, data_path)
    config = with_epochs(config, epochs)
    dataset_path = data_path or run.read_json(CONFIG)["dataset"]["path"]
    with refit_folder(workdir) as folder, TrainingPool(data, config, dataset_path, nproc) as pool:
        keeps = collect_refits(pool, submit_refits(pool, dataset_path, seeds, folder), on_refit)
    return stability_record(keeps, data, config.mask.sparsity)


def stability_record(keeps: np.ndarray, data, sparsity: float) -> dict:
    """`summarise` of the refits' keep sets on `data`, with the dataset's sha256."""
    return {"dataset_sha256": data.sha256, **summarise(keeps, data.sensor_ids, sparsity)}


def with_selection_frequency(plan: Plan, frequency: dict, seeds: int) -> Plan:
    """A copy of `plan` whose sensors carry their `selection_frequency` over `seeds` refits.

    Parameters
    ----------
    plan : Plan
    frequency : dict
        ``{sensor_id: share of refits that kept it}``, every plan sensor included.
    seeds : int
        Number of refits the frequencies come from (``selection_frequency_seeds``).

    Raises
    ------
    InputError
        If a sensor of the plan has no frequency (the plan belongs to another network).
    """
    missing = [s.sensor_id for s in plan.sensors if s.sensor_id not in frequency]
    if missing:
        raise InputError(
            f"the plan's sensor {missing[0]!r} is not in the run's network "
            f"({len(missing)} sensors missing); pass a plan made from this run"
        )
    sensors = [
        dataclasses.replace(s, selection_frequency=float(frequency[s.sensor_id]))
        for s in plan.sensors
    ]
    return plan.replace(sensors=sensors, selection_frequency_seeds=int(seeds))
