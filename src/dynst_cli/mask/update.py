"""Drop and regrow decisions of DynST, as pure functions on numpy arrays.

Every choice of a keep set is made in two parts: a priority order of sensors (most wanted first,
ties broken by sensor index through `np.lexsort`, never by hash or chance) and a `Select` function
that turns an order and a count into the keep vector: `Siting.keep_fn()` of the selection stage,
with or without siting constraints.

After a regrow the training loop should reset the score of every regrown sensor with
`regrow_init`: its old ``|m|`` was low enough to get it dropped, and restarting it there would drop
it again at once.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

Select = Callable[[np.ndarray, int], np.ndarray]
"""``select(order, n_keep) -> keep``: order (N,) int, most wanted first; keep (N,) bool."""


def priority_order(keep: np.ndarray, scores: np.ndarray) -> np.ndarray:
    """Kept sensors by ``|score|`` descending, then dropped ones by ``|score|`` descending.

    Parameters
    ----------
    keep : np.ndarray of bool, shape (N,)
    scores : np.ndarray of float, shape (N,)

    Returns
    -------
    np.ndarray of int, shape (N,)
        Sensor indices; equal keys keep index order.
    """
    keep = np.asarray(keep, dtype=bool)
    magnitude = np.abs(np.asarray(scores, dtype=np.float64))
    # np.lexsort sorts by the last key first; the index key makes ties deterministic.
    return np.lexsort((np.arange(keep.size), -magnitude, ~keep))


def prune_to(keep: np.ndarray, scores: np.ndarray, n_keep: int, select: Select) -> np.ndarray:
    """Drop the kept sensors with the smallest ``|score|`` until `n_keep` remain.

    Parameters
    ----------
    keep : np.ndarray of bool, shape (N,)
    scores : np.ndarray of float, shape (N,)
    n_keep : int
        Kept count wanted; if it is not below the current count, `keep` comes back unchanged
        (pruning never regrows).
    select : Select
        Final choice from the priority order.

    Returns
    -------
    np.ndarray of bool, shape (N,)
    """
    keep = np.asarray(keep, dtype=bool)
    if n_keep >= keep.sum():
        return keep.copy()
    return select(priority_order(keep, scores), n_keep)


def n_swaps(fraction: float, n_kept: int, n_off: int) -> int:
    """Sensors one drop-and-regrow update swaps: ``floor(fraction * n_kept)``, at least one.

    While ``fraction > 0`` and a sensor is off, at least one is swapped: otherwise an update that
    keeps fewer than ``1/fraction`` sensors (high sparsity) would never swap anything and DynST
    would reduce to gradual pruning. Never more than the sensors that are off.
    """
    if fraction <= 0 or n_off <= 0 or n_kept <= 0:
        return 0
    return min(max(math.floor(fraction * n_kept), 1), n_off)


def drop_and_regrow(
    keep: np.ndarray,
    drop_score: np.ndarray,
    regrow_score: np.ndarray,
    fraction: float,
    select: Select,
) -> tuple[np.ndarray, int, int]:
    """One DynST update at fixed sparsity: swap the weakest kept sensors for the most promising.

    ``k = n_swaps(fraction, n_kept, n_off)``. The k kept sensors with the smallest
    ``|drop_score|`` are dropped (among equal scores, the higher index goes first) and the k
    sensors that were off before this update with the largest `regrow_score` are regrown (among
    equal signals, the lower index first). The kept count is unchanged.

    Parameters
    ----------
    keep : np.ndarray of bool, shape (N,)
    drop_score : np.ndarray of float, shape (N,)
        What a kept sensor is worth: its gate score ``m`` (criterion ``magnitude``) or its
        accumulated saliency ``|g dL/dg|`` (criterion ``saliency``).
    regrow_score : np.ndarray of float, shape (N,)
        What a dropped sensor promises: the accumulated ``|dL/dg|`` (``magnitude``) or the
        saliency at its regrow gate value (``saliency``).
    fraction : float
        ``alpha_t`` of the schedule.
    select : Select
        Final choice from the priority order.

    Returns
    -------
    new_keep : np.ndarray of bool, shape (N,)
    n_dropped : int
        Sensors kept before and not after.
    n_regrown : int
        Sensors kept after and not before.
    """
    keep = np.asarray(keep, dtype=bool)
    n_kept = int(keep.sum())
    k = n_swaps(fraction, n_kept, keep.size - n_kept)
    if k == 0:
        return keep.copy(), 0, 0
    kept_order = priority_order(keep, drop_score)[:n_kept]
    survivors, dropped = kept_order[: n_kept - k], kept_order[n_kept - k :]
    off_order = _by_signal_desc(~keep, regrow_score)
    regrown, still_off = off_order[:k], off_order[k:]
    order = np.concatenate([survivors, regrown, dropped, still_off])
    new_keep = select(order, n_kept)
    return new_keep, int((keep & ~new_keep).sum()), int((new_keep & ~keep).sum())


def regrow_init(scores: np.ndarray, keep_before: np.ndarray, keep_after: np.ndarray) -> np.ndarray:
    """Scores with every regrown sensor restarted at the mean ``|score|`` of the kept ones.

    The reference is the sensors kept both before and after the update; if none survived, the
    sensors kept before; if there were none, 1.0 (the initial score).

    Parameters
    ----------
    scores : np.ndarray of float, shape (N,)
    keep_before, keep_after : np.ndarray of bool, shape (N,)

    Returns
    -------
    np.ndarray of float, shape (N,)
        A copy of `scores`; only the regrown entries differ.
    """
    scores = np.array(scores, copy=True)
    before, after = np.asarray(keep_before, dtype=bool), np.asarray(keep_after, dtype=bool)
    regrown = after & ~before
    reference = before & after if (before & after).any() else before
    level = float(np.abs(scores[reference]).mean()) if reference.any() else 1.0
    scores[regrown] = level
    return scores


def _by_signal_desc(candidates: np.ndarray, signal: np.ndarray) -> np.ndarray:
    """Indices of `candidates` by `signal` descending, ties by index; NaN counts as no signal."""
    signal = np.nan_to_num(np.asarray(signal, dtype=np.float64), nan=-np.inf)
    idx = np.flatnonzero(candidates)
    return idx[np.lexsort((idx, -signal[idx]))]
