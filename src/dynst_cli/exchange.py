"""Exchanges that repair the fit's keep set (`mask.exchange_trials`).

Drop-and-regrow judges a dropped sensor on a model that has never read it, so a fit can end
holding two sensors that carry the same information and none of a part of the network that
only a dropped sensor sees (on planted networks: two sensors of one driver's group and none of
another's). The final ranking, which measures the dropped sensors one addition pass at a time,
then often puts a sensor of that part first among the dropped.

An exchange tries it, as Fedorov's exchange algorithm improves an experimental design: the
k-th least worth kept sensor of the ranking is switched off and the k-th most promising dropped
one on, and the model is trained to read it (`mask.rank_retrain_epochs`, as between the
ranking's passes). The same training from the same weights on the keep set as it was is the
reference, so that the training itself cannot pass for the swap's gain: the swap stands if its
validation error is below the reference's. The first swap that does not lower it is undone and
ends the exchanges, so on a network whose keep set has nothing to repair an exchange costs two
short trainings.
"""

from __future__ import annotations

import copy
import dataclasses
from collections.abc import Callable

import numpy as np

from dynst_cli import distributed as dist
from dynst_cli.mask import Select
from dynst_cli.saliency import scores_at_regrow_value
from dynst_cli.selection import Ranking


def swapped_order(order: np.ndarray, n_keep: int, k: int) -> np.ndarray | None:
    """`order` with the k-th least worth kept sensor (position ``n_keep-1-k``) and the k-th most
    promising dropped one (position ``n_keep+k``) traded; None when either does not exist."""
    out, into = n_keep - 1 - k, n_keep + k
    if out < 0 or into >= order.size:
        return None
    new = order.copy()
    new[out], new[into] = order[into], order[out]
    return new


def exchanged(
    prep,
    ranking: Ranking,
    trials: int,
    select: Select,
    retrain: Callable[[np.ndarray, int], None],
    validation_mae: Callable[[], float | None],
) -> tuple[Ranking, int]:
    """The ranking after at most `trials` exchanges, and how many stood.

    Parameters
    ----------
    prep : train.Prepared
        The fitted model; it ends with the weights of the last swap that stood (trained for the
        keep set returned), or as it came when none did.
    ranking : Ranking
        The fit's final ranking, with its keep set (`kept`).
    trials : int
        Swaps to try at most.
    select : Select
        The siting constraints' choice (`Siting.keep_fn`): a swap they refuse is not tried.
    retrain : callable ``retrain(keep, round)``
        Trains the model with the mask frozen at `keep` (`train.retrain_on`).
    validation_mae : callable
        The model's validation MAE on rank 0, None elsewhere or without a validation period;
        rank 0's decision is broadcast, so every rank keeps the same swaps.
    """
    keep = np.asarray(ranking.kept, dtype=bool)
    n_keep, order = int(keep.sum()), np.asarray(ranking.order)
    gate, device = prep.model.gate, prep.device
    made = 0
    for k in range(trials):
        candidate = swapped_order(order, n_keep, k)
        if candidate is None:
            break
        trial = select(candidate, n_keep)
        if not np.array_equal(np.flatnonzero(trial), np.sort(candidate[:n_keep])):
            break  # the siting constraints refuse the swap
        before = copy.deepcopy(prep.model.state_dict())
        retrain(keep.copy(), k)
        reference = dist.main_value(validation_mae(), device)
        prep.model.load_state_dict(before)
        if not np.isfinite(reference):  # no validation period to judge by
            break
        # the sensor switched on starts at a regrown sensor's gate score: the one it was dropped
        # with may be near zero, and the swap must let the model read it
        scores_at_regrow_value(gate, keep, trial)
        retrain(trial.copy(), k)
        if not dist.main_value(validation_mae(), device) < reference:
            prep.model.load_state_dict(before)
            break
        order, keep, made = candidate, trial, made + 1
    return dataclasses.replace(ranking, order=order, kept=keep), made
