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


def _bounds(n_steps: int, train_frac: float, val_frac: float) -> dict[str, tuple[int, int]]:
    """Time steps [start, stop) of the train, validation and test periods."""
    train_stop = int(round(n_steps * train_frac))
    val_stop = int(round(n_steps * (train_frac + val_frac)))
    return {"train": (0, train_stop), "val": (train_stop, val_stop), "test": (val_stop, n_steps)}


def _fits(n_steps: int, window: int, train_frac: float, val_frac: float) -> bool:
    """True when every period (validation only if it has a share) holds one whole window."""
    return all(
        stop - start >= window
        for name, (start, stop) in _bounds(n_steps, train_frac, val_frac).items()
        if not (name == "val" and val_frac == 0)
    )


def steps_needed(window: int, train_frac: float, val_frac: float) -> int:
    """Fewest time steps whose split gives every period one window of `window` steps."""
    n = window
    while not _fits(n, window, train_frac, val_frac):
        n += 1
    return n


def longest_window(n_steps: int, train_frac: float, val_frac: float) -> int:
    """Longest window (t_in + t_out steps) that `n_steps` split this way can hold; 0 if none."""
    window = n_steps
    while window > 0 and not _fits(n_steps, window, train_frac, val_frac):
        window -= 1
    return window


def chronological_splits(
    n_steps: int, t_in: int, t_out: int, train_frac: float, val_frac: float
) -> dict[str, Split]:
    """Cut the time axis into train, validation and test periods, in this order.

    A window of `t_in` history and `t_out` future steps belongs to a period when all its steps lie
    inside it, so no target of one period is ever seen as history or target by another.
    Raises InputError when a period cannot hold a single window; the message says how many steps
    the split needs and which window would fit.
    """
    window = t_in + t_out
    splits = {}
    for name, (start, stop) in _bounds(n_steps, train_frac, val_frac).items():
        starts = np.arange(start, max(start, stop - window + 1), dtype=np.int64)
        if starts.size == 0 and not (name == "val" and val_frac == 0):
            raise InputError(_too_short(n_steps, name, t_in, t_out, train_frac, val_frac))
        splits[name] = Split(name, start, stop, starts)
    return splits


def _too_short(n_steps, name, t_in, t_out, train_frac, val_frac) -> str:
    window = t_in + t_out
    needed = steps_needed(window, train_frac, val_frac)
    shares = f"{train_frac:.0%} / {val_frac:.0%} / {1 - train_frac - val_frac:.0%}"
    fits = longest_window(n_steps, train_frac, val_frac)
    shorter = (
        f", or shorten the windows to t_in + t_out <= {fits} (--t-in / --t-out)"
        if fits >= 2
        else ""
    )
    return (
        f"the dataset has {n_steps} time steps, too few for one {name} window of "
        f"{t_in} + {t_out} steps: with train / validation / test = {shares} the split needs at "
        f"least {needed} steps; give a longer archive{shorter}"
    )
