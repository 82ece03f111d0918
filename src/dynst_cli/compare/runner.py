"""Put DynST's keep set and the rival ones on equal footing, and measure each on the test split.

For every sparsity S and method, a keep set of ``N - round(S*N)`` sensors is chosen, a fresh
backbone is trained on it with `train.train_fixed` (the run's backbone, epochs, data and seed) and
scored on the test split. Only the choice of sensors differs between the rows; a dense model
(every sensor kept) trained the same way is the reference.

Keep sets come from the selectors of `selection.SELECTORS`, each fitted on the training period only
(the rows up to the end of the training split), and go through `Siting.select` without
constraints (the first ``N - round(S*N)`` of each ranking):

- ``dynst``: the run's own ranking (``RUN/ranking.json``), top of the list first;
- ``random``: one random permutation per seed 0..K-1 (every ``seeded`` selector gets K seeds);
- ``greedy``: forward greedy selection for a ridge forecaster fitted on the training period and
  scored on the validation period (it alone also reads the validation period);
- ``variance``, ``qr``: channels are stacked as extra samples: ``[T, N, C] -> [T*C, N]``, each
  channel in its own units, so a multi-channel archive ranks a sensor by all its variables at once.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from dynst_cli.compare.stability import (
    OnRefit,
    collect_refits,
    refit_folder,
    stability_record,
    submit_refits,
    with_epochs,
)
from dynst_cli.compare.workers import KeepSetJob, TrainingPool, score_keep_set  # noqa: F401
from dynst_cli.data import SensorData
from dynst_cli.dense_cache import cache_root, dense_key, lookup
from dynst_cli.errors import UsageError
from dynst_cli.evaluate import headline
from dynst_cli.mask import check_keeps_some
from dynst_cli.prune import check_sparsity, load_for_run
from dynst_cli.run import CONFIG, RunDir
from dynst_cli.selection import SELECTORS, Siting
from dynst_cli.selection.snapshots import periods_of, rankings, training_snapshots

METHODS = tuple(SELECTORS)
DEFAULT_METHODS = ("dynst", "random", "variance", "qr", "greedy")

OnResult = Callable[[dict, float], None]


@dataclass
class CompareResult:
    """What `compare_run` measured.

    Attributes
    ----------
    results : list of dict
        One ``{"method", "sparsity", "n_keep", "seed", "mae", "rmse", "mape"}`` per keep set,
        test-split errors in the variables' units (``mape`` in percent); ``seed`` is None for
        deterministic methods.
    dense : dict
        ``{"n_keep", "mae", "rmse", "mape"}`` of the dense model trained the same way.
    seconds : list of float
        Wall-clock training and evaluation time of each row of `results`.
    dense_seconds : float or None
        The same for the dense model (None until it is trained).
    stability : dict or None
        What `stability.stability` returns, when several seeds were asked for.
    refit_seconds : list of float
        Wall-clock time of each stability refit.
    """

    results: list[dict]
    dense: dict
    seconds: list[float] = field(default_factory=list)
    dense_seconds: float | None = None
    stability: dict | None = None
    refit_seconds: list[float] = field(default_factory=list)


def check_methods(methods) -> list[str]:
    """Return `methods` without repeats, or raise a UsageError listing the valid ones."""
    methods = list(dict.fromkeys(methods))
    valid = ", ".join(METHODS)
    if not methods:
        raise UsageError(f"--methods needs at least one of {valid}")
    for method in methods:
        if method not in METHODS:
            raise UsageError(f"unknown method {method!r} in --methods: choose from {valid}")
    return methods


def n_trainings(methods, n_sparsities: int, seeds: int) -> int:
    """How many models `compare_run` trains: every keep set, the dense one, the refits."""
    per_sparsity = sum(seeds if SELECTORS[m].seeded else 1 for m in check_methods(methods))
    return per_sparsity * n_sparsities + 1 + (seeds if seeds > 1 else 0)


def compare_run(
    run_path: str | Path,
    sparsities,
    methods=DEFAULT_METHODS,
    seeds: int = 3,
    epochs: int | None = None,
    *,
    data_path: str | Path | None = None,
    workdir: str | Path | None = None,
    on_result: OnResult | None = None,
    on_refit: OnRefit | None = None,
    nproc: int = 1,
    executor=None,
) -> CompareResult:
    """Train and score every method's keep set at every sparsity, and a dense reference.

    Parameters
    ----------
    run_path : str or Path
        A finished run directory (`dynst fit`).
    sparsities : iterable of float
        Fractions of sensors switched off, each in [0, 1).
    methods : iterable of str
        Any of ``dynst``, ``random``, ``variance``, ``qr``, ``greedy``.
    seeds : int
        Seeds of ``random`` (0..seeds-1). With more than one, DynST is also refitted with seeds
        0..seeds-1 and the stability of its keep set reported (see `stability.stability`).
    epochs : int or None
        Training epochs of every keep set (and refit); None keeps the run's.
    data_path : str or Path or None
        The run's dataset, if it has moved (checked by sha256).
    workdir : str or Path or None
        Where the refits' temporary run directories go (default: the system's temporary folder).
    on_result : callable or None
        Called as ``on_result(row, seconds)`` after each keep set (progress reporting).
    on_refit : callable or None
        Called as ``on_refit(seed, seconds)`` after each stability refit.
    nproc : int
        Processes training the keep sets and the refits, this one included
        (`compare.workers`); the results equal those of one process.
    executor : concurrent.futures.ProcessPoolExecutor or None
        ``nproc - 1`` workers started earlier by `processes.start_workers` (the command line
        does, before it imports the library); None starts them here. The caller shuts down
        the executor it passes.

    Returns
    -------
    CompareResult
    """
    methods = check_methods(methods)
    sparsities = [check_sparsity(s) for s in sparsities]
    if seeds < 1:
        raise UsageError(f"--seeds must be at least 1, got {seeds}")
    run = RunDir(run_path).require()
    config, data, prep = load_for_run(run, data_path)
    n_keeps = {s: check_keeps_some(data.n_sensors, s) for s in sparsities}  # before any training
    config = with_epochs(config, epochs)
    snapshots = training_snapshots(data, prep.splits["train"].stop)
    siting = Siting.free(data.n_sensors)
    result = CompareResult(results=[], dense={})
    report = on_result or (lambda row, seconds: None)
    temporal = (periods_of(data, prep.splits), config.data.t_out)
    dense_root = cache_root(run.path)
    cached = lookup(dense_root, dense_key(config, data.sha256))
    path = dataset_path(run, data_path)
    # Submitted longest first (refits, then the dense model), and each method's keep sets as soon
    # as its selector is fitted, so that the workers train while the next selector fits.
    with refit_folder(workdir) as folder, TrainingPool(data, config, path, nproc, executor) as pool:
        refits = submit_refits(pool, path, seeds, folder) if seeds > 1 else []
        dense = None
        if cached is None:  # trained with the rows, and cached for the next fit or compare
            dense = pool.submit(KeepSetJob(np.ones(data.n_sensors, dtype=bool), dense_root))
        rows = {}
        for m, (method, seed, ranking) in enumerate(
            rankings(methods, seeds, run.path, snapshots, temporal)
        ):
            for s, sparsity in enumerate(sparsities):
                job = KeepSetJob(siting.select(ranking, n_keeps[sparsity]).keep)
                row = {"method": method, "sparsity": sparsity, "n_keep": n_keeps[sparsity]}
                rows[s, m] = ({**row, "seed": seed}, pool.submit(job))
        for key in sorted(rows):  # sparsity by sparsity, methods in the order asked for
            row, future = rows[key]
            metrics, seconds = pool.result(future)
            result.results.append({**row, **metrics})
            result.seconds.append(seconds)
            report(result.results[-1], seconds)
        if dense is not None:
            _dense_row(result, data, *pool.result(dense), report)
        else:
            _dense_row(result, data, headline(cached.metrics["test"]), None, report)
        if refits:
            keeps = collect_refits(
                pool, refits, lambda seed, seconds: _refitted(result, on_refit, seed, seconds)
            )
            result.stability = stability_record(keeps, data, config.mask.sparsity)
    return result


def _dense_row(result: CompareResult, data: SensorData, metrics, seconds, report) -> None:
    """Record the dense model's row; `seconds` is None when it came from the cache."""
    result.dense = {"n_keep": data.n_sensors, **metrics}
    result.dense_seconds = seconds
    row = {"method": "dense", "sparsity": 0.0, "seed": None, **result.dense}
    report(row, 0.0 if seconds is None else seconds)


def dataset_path(run: RunDir, data_path: str | Path | None) -> Path:
    """The run's dataset: `data_path` when given, else the path its fit recorded."""
    return Path(data_path or run.read_json(CONFIG)["dataset"]["path"])


def _refitted(result: CompareResult, on_refit: OnRefit | None, seed: int, seconds: float) -> None:
    result.refit_seconds.append(seconds)
    if on_refit:
        on_refit(seed, seconds)
