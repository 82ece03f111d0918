"""Rank every sensor from the final mask of a DynST fit.

Kept sensors rank above dropped ones. Kept sensors are ordered by their gate magnitude ``|m|``.
Dropped sensors are ordered by when they were dropped, latest first: the ramp switches off the
least important sensors first, and drop-and-regrow drops the weakest of its time, so a sensor
that survived longer earned a higher rank; then by ``|m|``. Ties break by sensor index.
A plan at any sparsity keeps a prefix of this one ranking.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from dynst_cli.mask.counts import n_keep_for
from dynst_cli.mask.update import Select, take_first

__all__ = ["Ranking", "keep_top", "n_keep_for", "rank_sensors"]


@dataclass
class Ranking:
    """A ranking of N sensors.

    Attributes
    ----------
    order : np.ndarray of int, shape (N,)
        Sensor indices, most important first.
    rank : np.ndarray of int, shape (N,)
        Rank of each sensor, 1 (most important) to N; ``rank[order[i]] == i + 1``.
    score : np.ndarray of float, shape (N,)
        Gate magnitude ``|m|`` of each sensor.
    """

    order: np.ndarray
    rank: np.ndarray
    score: np.ndarray


def rank_sensors(keep: np.ndarray, scores: np.ndarray, dropped_at: np.ndarray) -> Ranking:
    """Rank sensors: kept by ``|m|`` desc, then dropped by `dropped_at` desc and ``|m|`` desc.

    Parameters
    ----------
    keep : np.ndarray of bool, shape (N,)
    scores : np.ndarray of float, shape (N,)
        Gate scores ``m``.
    dropped_at : np.ndarray of int, shape (N,)
        Step at which each sensor was last dropped (-1: never); only read for dropped sensors.

    Returns
    -------
    Ranking
    """
    keep = np.asarray(keep, dtype=bool)
    magnitude = np.abs(np.asarray(scores, dtype=np.float64))
    dropped_key = np.where(keep, 0, -np.asarray(dropped_at, dtype=np.int64))
    index = np.arange(keep.size)
    # np.lexsort sorts by the last key first.
    order = np.lexsort((index, -magnitude, dropped_key, ~keep))
    rank = np.empty(keep.size, dtype=np.int64)
    rank[order] = index + 1
    return Ranking(order=order, rank=rank, score=magnitude)


def keep_top(ranking: Ranking, n_keep: int, select: Select = take_first) -> np.ndarray:
    """Keep vector of the `n_keep` best-ranked sensors (through `select` when constrained).

    Returns
    -------
    np.ndarray of bool, shape (N,)
    """
    return select(ranking.order, n_keep)
