"""The interface every rival selector shares, and helpers on training snapshots.

A selector is fitted on the training snapshots `X` of shape `[n_samples, n_sensors]` (rows are time
steps, columns are sensors, NaN where nothing was measured) and returns a ranking of all sensors,
most important first, the way PySensors' optimizers do.
"""

from abc import ABC, abstractmethod

import numpy as np

from dynst_cli.errors import InputError, UsageError


class BaseSelector(ABC):
    """Rank sensors from training snapshots.

    Subclasses implement `_rank`; `fit` validates the snapshots and stores the ranking.

    Attributes
    ----------
    n_sensors_ : int
        Number of sensors (columns) seen in `fit`.
    ranking_ : numpy.ndarray of int, shape [n_sensors]
        All sensor indices, most important first.
    """

    def fit(self, X):
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
        self.n_sensors_ = X.shape[1]
        self.ranking_ = np.asarray(self._rank(X), dtype=np.intp)
        return self

    def get_sensors(self):
        """Return the ranking learned by `fit`.

        Returns
        -------
        numpy.ndarray of int, shape [n_sensors]
            Every sensor index exactly once, most important first.
        """
        if not hasattr(self, "ranking_"):
            raise RuntimeError(f"{type(self).__name__} is not fitted: call fit(X) first")
        return self.ranking_

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


def keep_mask(ranking, n_keep):
    """Boolean keep vector for the `n_keep` top-ranked sensors.

    Parameters
    ----------
    ranking : array_like of int, shape [n_sensors]
        Every sensor index exactly once, most important first (as `get_sensors()` returns).
    n_keep : int
        Number of sensors to keep, 0 <= n_keep <= n_sensors.

    Returns
    -------
    numpy.ndarray of bool, shape [n_sensors]
        True at the indices `ranking[:n_keep]`.

    Raises
    ------
    UsageError
        If `n_keep` is outside [0, n_sensors].
    """
    ranking = np.asarray(ranking, dtype=np.intp)
    n_sensors = ranking.shape[0]
    if not 0 <= n_keep <= n_sensors:
        raise UsageError(f"cannot keep {n_keep} sensors: choose between 0 and {n_sensors}")
    mask = np.zeros(n_sensors, dtype=bool)
    mask[ranking[:n_keep]] = True
    return mask
