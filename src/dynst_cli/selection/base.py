"""The interface every selector shares, in the shape of PySensors, and helpers on snapshots.

A selector is fitted on the training snapshots `X` of shape `[n_samples, n_sensors]` (rows are time
steps, columns are sensors, NaN where nothing was measured) and ranks all sensors, most important
first, the way PySensors' `SSPOR` does: ``fit(X)`` returns the selector, ``ranked_sensors_`` holds
the ranking, ``get_selected_sensors(n)`` its first n, and ``set_n_sensors(n)`` changes the count
without refitting. A keep set under siting constraints comes from `Siting.select(ranking, n)`.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Protocol, runtime_checkable

import numpy as np

from dynst_cli.errors import InputError
from dynst_cli.selection.ranking import Ranking


@runtime_checkable
class Selector(Protocol):
    """What `compare` asks of a selector (DynST's own ranking included)."""

    ranked_sensors_: np.ndarray
    seeded: bool

    def fit(self, X, **kwargs) -> Selector: ...

    def get_selected_sensors(self, n: int | None = None) -> np.ndarray: ...

    def set_n_sensors(self, n: int) -> None: ...


class BaseSelector(ABC):
    """Rank sensors from training snapshots.

    Subclasses implement `_rank`; `fit` validates the snapshots and stores the ranking.

    Attributes
    ----------
    seeded : bool
        Class attribute: the ranking depends on a `seed` parameter.
    n_features_in_ : int
        Number of sensors (columns) seen in `fit`.
    ranked_sensors_ : numpy.ndarray of int, shape [n_sensors]
        All sensor indices, most important first.
    n_sensors : int or None
        Sensors `get_selected_sensors` returns by default (None: all); see `set_n_sensors`.
    """

    seeded = False
    n_sensors: int | None = None

    def fit(self, X, **kwargs):
        """Learn a ranking of the sensors from training snapshots.

        Parameters
        ----------
        X : array_like of float, shape [n_samples, n_sensors]
            Training snapshots: one row per time step, one column per sensor; NaN marks a
            missing measurement.

        Returns
        -------
        self
        """
        X = check_snapshots(X)
        self.n_features_in_ = X.shape[1]
        self.ranked_sensors_ = np.asarray(self._rank(X), dtype=np.intp)
        return self

    def set_n_sensors(self, n: int) -> None:
        """Make `get_selected_sensors()` return the first `n` sensors, without refitting."""
        self.n_sensors = int(n)

    def get_selected_sensors(self, n: int | None = None) -> np.ndarray:
        """The first `n` sensors of the ranking (default: `n_sensors`, else all of them).

        Returns
        -------
        numpy.ndarray of int, shape [n]
            Sensor indices, most important first.
        """
        return self.get_all_sensors()[: self.n_sensors if n is None else n]

    def get_all_sensors(self) -> np.ndarray:
        """Every sensor index exactly once, most important first (what `fit` learned)."""
        if not hasattr(self, "ranked_sensors_"):
            raise RuntimeError(f"{type(self).__name__} is not fitted: call fit(X) first")
        return self.ranked_sensors_

    def ranking(self) -> Ranking:
        """The fitted ranking as a `Ranking` (scores: N - position, higher is better)."""
        order = self.get_all_sensors()
        scores = np.empty(order.size)
        scores[order] = np.arange(order.size, 0, -1, dtype=np.float64)
        return Ranking(order=order, scores=scores)

    @abstractmethod
    def _rank(self, X):
        """Return the ranking, shape [n_sensors], for validated float snapshots `X`."""


def check_snapshots(X):
    """Return `X` as a 2-D float64 array with at least one row and one column.

    Parameters
    ----------
    X : array_like, shape [n_samples, n_sensors]

    Returns
    -------
    numpy.ndarray of float64, shape [n_samples, n_sensors]

    Raises
    ------
    InputError
        If `X` is not 2-D, is empty or holds infinite values.
    """
    X = np.asarray(X, dtype=np.float64)
    if X.ndim != 2:
        raise InputError(
            f"training snapshots must be 2-D [n_samples, n_sensors], got shape {X.shape}"
        )
    if X.shape[0] == 0 or X.shape[1] == 0:
        raise InputError(f"training snapshots are empty: shape {X.shape}")
    if np.isinf(X).any():
        raise InputError("training snapshots hold infinite values; use NaN for missing ones")
    return X


def column_mean(X):
    """Mean of the observed (non-NaN) values of each column.

    Parameters
    ----------
    X : numpy.ndarray of float, shape [n_samples, n_sensors]

    Returns
    -------
    numpy.ndarray of float, shape [n_sensors]
        The mean of each column over its observed values; 0 for a column with none.
    """
    observed = ~np.isnan(X)
    count = observed.sum(axis=0)
    total = np.where(observed, X, 0.0).sum(axis=0)
    return total / np.maximum(count, 1)


def fill_with_column_mean(X):
    """Replace each NaN by the mean of the observed values of its column.

    Parameters
    ----------
    X : numpy.ndarray of float, shape [n_samples, n_sensors]

    Returns
    -------
    numpy.ndarray of float, shape [n_samples, n_sensors]
        A copy without NaN; a column with no observed value becomes all zeros.
    """
    return np.where(np.isnan(X), column_mean(X)[None, :], X)
