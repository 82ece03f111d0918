"""What the classical selectors are fitted on, and fitting them by name.

`training_snapshots` gives the training period as PySensors-shaped snapshots, `periods_of` the
training and validation periods in time order (for the selectors that forecast, greedy), and
`rankings` fits each named selector on them. `compare` ranks its rival keep sets this way, and a
fit's challengers (`mask.challengers`, challenge.py) are chosen the same way.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from dynst_cli.data import SensorData
from dynst_cli.selection.registry import SELECTORS, make_selector


def training_snapshots(data: SensorData, train_stop: int) -> np.ndarray:
    """Training-period values as snapshots, shape [T*C, N] (channels stacked as samples)."""
    values = data.values[:train_stop]  # [T, N, C]
    return values.transpose(0, 2, 1).reshape(-1, data.n_sensors)


def rankings(methods, seeds: int, run: str | Path | None, snapshots: np.ndarray, temporal=None):
    """Yield ``(method, seed, ranking)`` for every keep set to train (seed None if unseeded).

    `ranking` is the selector's ``ranked_sensors_``, shape [N]; seeded selectors yield one per
    seed 0..seeds-1. Every selector is fitted on the training snapshots; those that forecast
    (greedy) also get `periods`, the training and validation values in time order, and the
    forecast `horizon`.
    """
    periods, horizon = temporal or (None, None)
    for method in methods:
        for seed in range(seeds) if SELECTORS[method].seeded else [None]:
            selector = make_selector(method, seed=seed or 0, run=run)
            selector.fit(snapshots, periods=periods, horizon=horizon)
            yield method, seed, selector.ranked_sensors_


def periods_of(data: SensorData, splits) -> tuple[np.ndarray, np.ndarray]:
    """Training and validation values in time order, shape [T, N, C] each."""
    val = splits["val"]
    return data.values[: splits["train"].stop], data.values[val.start : val.stop]
