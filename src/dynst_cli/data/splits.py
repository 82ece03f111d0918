"""Chronological train / validation / test splits, as window start indices."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from dynst_cli.errors import InputError


@dataclass(frozen=True)
class Split:
    """Time steps [start, stop) of one period and the window starts that lie wholly inside it."""

    name: str
    start: int
    stop: int
    window_starts: np.ndarray


def chronological_splits(
    n_steps: int, t_in: int, t_out: int, train_frac: float, val_frac: float
) -> dict[str, Split]:
    """Cut the time axis into train, validation and test periods, in this order.

    A window of `t_in` history and `t_out` future steps belongs to a period when all its steps lie
    inside it, so no target of one period is ever seen as history or target by another.
    Raises InputError when a period cannot hold a single window.
    """
    window = t_in + t_out
    train_stop = int(round(n_steps * train_frac))
    val_stop = int(round(n_steps * (train_frac + val_frac)))
    bounds = {"train": (0, train_stop), "val": (train_stop, val_stop), "test": (val_stop, n_steps)}
    splits = {}
    for name, (start, stop) in bounds.items():
        starts = np.arange(start, max(start, stop - window + 1), dtype=np.int64)
        if starts.size == 0 and not (name == "val" and val_frac == 0):
            needed = int(np.ceil(window / min(train_frac, 1 - train_frac - val_frac)))
            raise InputError(
                f"the dataset has {n_steps} time steps, too few for one {name} window of "
                f"{t_in} + {t_out} steps; give at least {needed} steps or shorten t_in / t_out"
            )
        splits[name] = Split(name, start, stop, starts)
    return splits
