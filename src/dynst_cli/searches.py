"""Brief independent mask searches pooled into one keep set (`mask.searches`).

One drop-and-regrow run decides its keep set from a few noisy updates, and a fit with another
seed keeps other sensors (on a 12-station network two seeds share about 40 % of their keep sets).
With ``mask.searches: K`` the fit's mask-learning epochs (all but the frozen-mask ones) are split
into K brief searches, each from a fresh model with its own seed and the whole schedule (warm-up,
ramp, drop-and-regrow) compressed into its epochs. The keep set is the sensors the searches keep
most often, and the first search's model trains on it for the frozen-mask epochs; the final
ranking then orders the sensors on that model as it does after one search. The fit trains as
many epochs in all as with one search, so it costs about the same; a consensus of K full fits
(`train.seeds`) costs K.

Where the searches agree no more than random keep sets of their size would (a permutation test,
`agreement_p_value`), the votes carry nothing and the keep set is in effect the first brief
search's. With ``mask.searches_fallback`` such a fit then trains one search over all the epochs
instead (`fallback_config`), the way that kept most planted drivers where the searches disagreed.

The pure parts live here: each search's configuration and seed, the pooled keep set, and the
test. `fit` runs the searches.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np

from dynst_cli.config import FitConfig
from dynst_cli.selection.consensus import (
    chance_of_agreement,
    mean_pairwise_jaccard,
    random_jaccard,
    selection_frequency,
)

# A fit's searches agree above chance when fewer than this share of random keep sets of their
# sizes agree as much (`mask.searches_fallback`).
CHANCE_LEVEL = 0.05
# Random keep sets the test draws: enough that its p-value is within about 0.005 of the exact
# one near the level.
AGREEMENT_DRAWS = 2000
# One search over all the mask-learning epochs, regrowing the sensors whose latest reading
# explains most of the loss's pull on the forecasts, each safe from a new drop for 8 updates:
# of the ways measured, the one that kept most planted drivers over ten planted networks, where
# three brief searches agree at chance (benchmarks/results/planted_drivers.md).
FALLBACK_MASK = {"searches": 1, "regrow_signal": "residual", "regrow_grace": 8}


def n_searches(config: FitConfig) -> int:
    """Searches a fit runs: `mask.searches`, at most one per mask-learning epoch, at least one."""
    mask = config.mask
    epochs = math.floor(config.train.epochs * mask.update_end_frac + 1e-9)
    return max(1, min(mask.searches, epochs))


def search_seed(config: FitConfig, index: int) -> int:
    """Seed of search `index` of a fit: ``seed * K + index``.

    The fits of a consensus (`train.seeds`) and the refits of `compare`, which take seeds
    seed, seed+1, ..., get disjoint sets of searches this way.
    """
    return config.train.seed * config.mask.searches + index


def epochs_each(config: FitConfig) -> int:
    """Epochs of one search: the mask-learning epochs shared out, at least one."""
    mask, epochs = config.mask, config.train.epochs
    return max(1, round(epochs * mask.update_end_frac / n_searches(config)))


def frozen_epochs(config: FitConfig) -> int:
    """Frozen-mask epochs on the pooled keep set: the epochs the searches leave, at least one."""
    return max(1, config.train.epochs - n_searches(config) * epochs_each(config))


def fit_epochs(config: FitConfig) -> int:
    """Epochs a fit trains in all, as its progress counts them: every search's, then the frozen
    ones (`train.epochs` with one search)."""
    if n_searches(config) == 1:
        return config.train.epochs
    return n_searches(config) * epochs_each(config) + frozen_epochs(config)


def search_config(config: FitConfig, index: int) -> FitConfig:
    """The configuration of search `index`: its epochs, its seed, and the fit's schedule
    compressed into them (warm-up and ramp as shares of the mask-learning part, no frozen
    epochs); no dense reference, one seed, one search."""
    mask, train = config.mask, config.train
    end = mask.update_end_frac
    warmup = min(1.0, mask.warmup_frac / end)
    mask = dataclasses.replace(
        mask,
        warmup_frac=warmup,
        ramp_frac=min(1.0 - warmup, mask.ramp_frac / end),
        update_end_frac=1.0,
        searches=1,
    )
    train = dataclasses.replace(
        train,
        epochs=epochs_each(config),
        seed=search_seed(config, index),
        seeds=1,
        dense_reference=False,
    )
    return dataclasses.replace(config, mask=mask, train=train)


def pooled_order(keeps: np.ndarray, survival: np.ndarray | None = None) -> np.ndarray:
    """Sensors by how often the searches kept them, shape (N,) int, most often first.

    `keeps` (K, N) bool holds each search's keep vector, the first search's first. Ties in how
    often a sensor was kept go, when `survival` is given, to the sensors the searches kept
    longest in all (`survival_steps`); then to the sensors the first search kept (its model is
    the one trained on), then to the lower index.
    """
    keeps = np.asarray(keeps, dtype=bool)
    frequency = selection_frequency(keeps)
    lasted = np.zeros(keeps.shape[1]) if survival is None else np.sum(survival, axis=0)
    return np.lexsort((np.arange(frequency.size), ~keeps[0], -lasted, -frequency))


def survival_steps(keep: np.ndarray, dropped_at: np.ndarray, steps: int) -> np.ndarray:
    """How long one search kept each sensor, shape (N,) float: the optimiser step it was last
    dropped at (`MaskGate.dropped_at`), or `steps`, the search's length, for a sensor it kept.

    For `mask.pool_by: survival`. The searches have the same schedule, so their steps add up:
    among the sensors kept by as many searches, the ones the other searches dropped late, near
    the end of their drop-and-regrow, had come closest to being kept there too.
    """
    keep = np.asarray(keep, dtype=bool)
    return np.where(keep, float(steps), np.maximum(np.asarray(dropped_at, dtype=np.float64), 0.0))


def pooled_keep(keeps: np.ndarray, n_keep: int, select, survival=None) -> np.ndarray:
    """The `n_keep` sensors the searches kept most often, through `select`, shape (N,) bool.

    Parameters
    ----------
    keeps : np.ndarray of bool, shape (K, N)
        Each search's keep vector, the first search's first.
    n_keep : int
    select : callable ``select(order, n_keep) -> keep``
        The siting constraints' choice from a priority order (`Siting.keep_fn`).
    survival : np.ndarray of float, shape (K, N), or None
        How long each search kept each sensor (`survival_steps`), for ``mask.pool_by: survival``.

    Ties are broken as `pooled_order` breaks them.
    """
    return select(pooled_order(keeps, survival), n_keep)


def pool_candidates(keeps: np.ndarray, select) -> np.ndarray:
    """Every sensor some search kept, through `select` (a union may break spacing or a budget
    that each search's set met), shape (N,) bool; what `mask.pool_by: elimination` narrows."""
    keeps = np.asarray(keeps, dtype=bool)
    return select(pooled_order(keeps), int(keeps.any(axis=0).sum()))


def vote_ties(keeps: np.ndarray, n_keep: int, select) -> tuple[np.ndarray, np.ndarray]:
    """What the searches' votes decide and what they leave tied, each shape (N,) bool.

    For `mask.pool_by: ties`. The votes' keep set (`pooled_keep`) holds sensors down to some
    frequency f: those kept more often than f are decided by the votes; of those kept exactly
    f times (f > 0), more than there are places left tie, and only the first search's
    membership breaks the tie. Returns ``(decided, candidates)``: the decided sensors, and
    them together with every tied one, as many as `select` allows in `pooled_order`. When
    nothing ties (or f is 0: fewer sensors were kept by any search than the keep set holds),
    the candidates are the votes' keep set itself.
    """
    keeps = np.asarray(keeps, dtype=bool)
    frequency, order = selection_frequency(keeps), pooled_order(keeps)
    voted = select(order, n_keep)  # pooled_keep's choice
    boundary = frequency[voted].min() if voted.any() else 0.0
    decided = voted & (frequency > boundary)
    tied = frequency == boundary
    if boundary <= 0 or int((decided | tied).sum()) <= n_keep:
        return decided, voted
    return decided, select(order, int((decided | tied).sum()))


def agreement_p_value(keeps: np.ndarray) -> float:
    """The share of random keep sets of the searches' sizes that agree at least as much as the
    searches' keep sets (`keeps`, (K, N) bool) do; the same keep sets give the same value."""
    return chance_of_agreement(keeps, draws=AGREEMENT_DRAWS, seed=0)


def falls_back(config: FitConfig, p_value: float) -> bool:
    """Whether a fit whose searches agree with `p_value` trains `fallback_config` instead."""
    return config.mask.searches_fallback and n_searches(config) > 1 and p_value > CHANCE_LEVEL


def fallback_config(config: FitConfig) -> FitConfig:
    """The fit's configuration with its mask learnt by one search as `FALLBACK_MASK` says."""
    return dataclasses.replace(config, mask=dataclasses.replace(config.mask, **FALLBACK_MASK))


def search_record(
    config: FitConfig, keeps: np.ndarray, p_value: float, fell_back: bool = False
) -> dict:
    """What `metrics.json` says of the searches: seeds, epochs, how much their keep sets agree,
    how much random keep sets of their size would and how often as much, and whether the fit fell
    back to one search (`falls_back`)."""
    return {
        "searches": n_searches(config),
        "seeds": [search_seed(config, k) for k in range(n_searches(config))],
        "epochs_each": epochs_each(config),
        "frozen_epochs": frozen_epochs(config),
        "mean_pairwise_jaccard": mean_pairwise_jaccard(keeps),
        # what keep sets of this size drawn at random would share: the closer the searches come
        # to it, the less the archive decides which sensors to keep
        "random_keep_sets_jaccard": random_jaccard(int(keeps[0].sum()), keeps.shape[1]),
        "agreement_p_value": round(p_value, 6),
        "fell_back": fell_back,
    }
