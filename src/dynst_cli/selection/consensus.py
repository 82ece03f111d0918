"""One ranking from several refits (seeds), and how much their keep sets agree.

- selection frequency: the share of refits that kept each sensor, in [0, 1];
- mean pairwise Jaccard ``|A & B| / |A | B|`` over all pairs of keep sets (1: always the same),
  what it is for keep sets drawn at random, and how often random keep sets agree as much;
- the consensus ranking: by mean rank over the refits, ties by selection frequency (higher first),
  then by sensor index.
"""

from __future__ import annotations

from itertools import combinations

import numpy as np
from scipy.stats import hypergeom

from dynst_cli.errors import UsageError
from dynst_cli.selection.ranking import Ranking


def jaccard(a: np.ndarray, b: np.ndarray) -> float:
    """Jaccard overlap ``|a & b| / |a | b|`` of two boolean keep vectors (1.0 if both empty).

    Parameters
    ----------
    a, b : numpy.ndarray of bool, shape [n_sensors]
    """
    return float(_jaccard_rows(np.asarray(a, dtype=bool), np.asarray(b, dtype=bool)))


def mean_pairwise_jaccard(keeps: np.ndarray) -> float:
    """Mean Jaccard overlap over all pairs of rows of `keeps`, shape [K, n_sensors], K >= 2."""
    return float(_mean_pairwise(np.asarray(keeps, dtype=bool)))


def _mean_pairwise(keeps: np.ndarray) -> np.ndarray:
    """`jaccard` averaged over all pairs of `keeps[k]`, shape [K, ..., n_sensors] bool; the
    result has the shape between (a scalar array for [K, n_sensors])."""
    pairs = list(combinations(range(len(keeps)), 2))
    if not pairs:
        raise UsageError("the Jaccard overlap needs at least two keep sets")
    return np.mean([_jaccard_rows(keeps[i], keeps[j]) for i, j in pairs], axis=0)


def _jaccard_rows(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """`jaccard` along the last axis of `a` and `b` (boolean, same shape)."""
    union = (a | b).sum(axis=-1)
    return np.where(union == 0, 1.0, (a & b).sum(axis=-1) / np.maximum(union, 1))


def random_jaccard(n_keep: int, n_sensors: int) -> float:
    """Expected Jaccard overlap of two keep sets of `n_keep` sensors drawn at random from
    `n_sensors`: what `mean_pairwise_jaccard` is when the keep sets have nothing in common
    but their size.

    The overlap ``i`` of two random k-subsets of N is hypergeometric (N, k, k), and their
    Jaccard is ``i / (2k - i)``; 1.0 when every sensor (or none) is kept.
    """
    if n_keep <= 0 or n_keep >= n_sensors:
        return 1.0
    overlap = np.arange(max(0, 2 * n_keep - n_sensors), n_keep + 1)
    weights = hypergeom.pmf(overlap, n_sensors, n_keep, n_keep)
    return float(np.sum(weights * overlap / (2 * n_keep - overlap)))


def chance_of_agreement(keeps: np.ndarray, draws: int = 2000, seed: int = 0) -> float:
    """How often keep sets drawn at random agree as much as the rows of `keeps` do: the
    p-value of a permutation test of their `mean_pairwise_jaccard`, in (0, 1].

    Each draw replaces every row by as many sensors drawn at random (without replacement, from
    all `n_sensors`), seeded, so the same keep sets always give the same value. Small when the
    keep sets share more than their sizes make likely.

    Parameters
    ----------
    keeps : numpy.ndarray of bool, shape [K, n_sensors], K >= 2
    """
    keeps = np.asarray(keeps, dtype=bool)
    observed = mean_pairwise_jaccard(keeps)
    return chance_of_overlap(observed, keeps.sum(axis=1), keeps.shape[1], draws, seed)


def chance_of_overlap(
    observed: float, sizes, n_sensors: int, draws: int = 2000, seed: int = 0
) -> float:
    """``(1 + hits) / (1 + draws)``: hits counts the draws of one random keep set of each of
    `sizes` sensors (of `n_sensors`) whose mean pairwise Jaccard is at least `observed`."""
    rng = np.random.default_rng(seed)
    drawn = np.zeros((len(sizes), draws, n_sensors), dtype=bool)
    for rows, size in zip(drawn, sizes, strict=True):  # random keep vectors of each size
        order = np.argsort(rng.random((draws, n_sensors)), axis=1)
        np.put_along_axis(rows, order[:, : int(size)], True, axis=1)
    hits = int(np.sum(_mean_pairwise(drawn) >= observed - 1e-12))
    return (1 + hits) / (1 + draws)


def selection_frequency(keeps: np.ndarray) -> np.ndarray:
    """Share of keep sets (rows of `keeps`, shape [K, n_sensors]) that keep each sensor."""
    return np.asarray(keeps, dtype=bool).mean(axis=0)


def consensus_ranking(rankings: list[Ranking]) -> Ranking:
    """One ranking from K rankings of the same sensors (refits with different seeds).

    Sensors are ordered by their mean rank; ties by selection frequency (the share of refits
    whose final mask kept the sensor), higher first, then by sensor index. The consensus score
    is the mean of the refits' scores.

    Parameters
    ----------
    rankings : list of Ranking, each with `kept` set

    Returns
    -------
    Ranking
        With `selection_frequency`; `kept` is None (the caller knows which model it describes).
    """
    ranks = np.stack([r.rank for r in rankings]).astype(np.float64)
    frequency = selection_frequency(np.stack([r.kept for r in rankings]))
    mean_rank = ranks.mean(axis=0)
    index = np.arange(mean_rank.size)
    order = np.lexsort((index, -frequency, mean_rank))
    return Ranking(
        order=order,
        scores=np.stack([r.scores for r in rankings]).mean(axis=0),
        sensor_ids=rankings[0].sensor_ids,
        selection_frequency=frequency,
    )
