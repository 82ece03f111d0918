"""DynST as a selector: the ranking of every sensor from the final mask of a fit.

Kept sensors rank above dropped ones. With the default drop criterion (saliency) the fit ranks
by iterative elimination and addition on the validation period (`dynst_cli.saliency`). With
``magnitude``, `rank_sensors` orders kept sensors by their gate magnitude ``|m|`` and dropped
sensors by when they were dropped, latest first: the ramp switches off the least important
sensors first, and drop-and-regrow drops the weakest of its time, so a sensor that survived
longer earned a higher rank; then by ``|m|``. Ties break by sensor index.
A plan at any sparsity keeps a prefix of this one ranking (through the siting constraints).

`DynSTSelector` does not train: it reads the ranking a finished run (`dynst fit`) wrote, so that
`compare` treats DynST exactly like the rival selectors.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from dynst_cli.errors import InputError
from dynst_cli.run import RANKING
from dynst_cli.selection.base import BaseSelector
from dynst_cli.selection.ranking import Ranking


def rank_sensors(keep, scores, dropped_at, sensor_ids=None) -> Ranking:
    """Rank sensors: kept by ``|m|`` desc, then dropped by `dropped_at` desc and ``|m|`` desc.

    Parameters
    ----------
    keep : np.ndarray of bool, shape (N,)
    scores : np.ndarray of float, shape (N,)
        Gate scores ``m``.
    dropped_at : np.ndarray of int, shape (N,)
        Step at which each sensor was last dropped (-1: never); only read for dropped sensors.
    sensor_ids : sequence of str, length N, optional

    Returns
    -------
    Ranking
        `scores` are the magnitudes ``|m|``; `kept` is `keep`.
    """
    keep = np.asarray(keep, dtype=bool)
    magnitude = np.abs(np.asarray(scores, dtype=np.float64))
    dropped_key = np.where(keep, 0, -np.asarray(dropped_at, dtype=np.int64))
    index = np.arange(keep.size)
    # np.lexsort sorts by the last key first.
    order = np.lexsort((index, -magnitude, dropped_key, ~keep))
    return Ranking(order=order, scores=magnitude, kept=keep, sensor_ids=sensor_ids)


class DynSTSelector(BaseSelector):
    """The ranking of a finished DynST run, in the shape of the other selectors.

    Parameters
    ----------
    run : str or Path
        The run directory; `fit` reads its `ranking.json`.

    Attributes
    ----------
    ranking_ : Ranking
        The run's ranking, with its gate magnitudes and keep flags.
    """

    def __init__(self, run):
        self.run = run

    def fit(self, X=None, **kwargs) -> DynSTSelector:
        """Read the run's ranking; `X`, when given, must have one column per ranked sensor."""
        self.ranking_ = Ranking.read(Path(self.run) / RANKING)
        if X is not None:
            return super().fit(X)
        self.n_features_in_ = self.ranking_.n_sensors
        self.ranked_sensors_ = self.ranking_.order
        return self

    def _rank(self, X):
        if X.shape[1] != self.ranking_.n_sensors:
            raise InputError(
                f"the run ranks {self.ranking_.n_sensors} sensors but the data has {X.shape[1]}"
            )
        return self.ranking_.order

    def ranking(self) -> Ranking:
        """The run's ranking, with its scores and keep flags."""
        self.get_all_sensors()
        return self.ranking_
