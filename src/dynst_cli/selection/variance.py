"""Rank sensors by their variance over the training period."""

import numpy as np

from dynst_cli.selection.base import BaseSelector, column_mean


class VarianceSelector(BaseSelector):
    """Keep the sensors whose signal varies most first.

    The variance of each sensor is taken over its observed (non-NaN) values, with divisor the
    number of observed values (ddof 0). Equal variances keep sensor-index order (stable sort);
    a sensor with no observed value ranks last.

    Attributes
    ----------
    variance_ : numpy.ndarray of float, shape [n_sensors]
        Variance of each sensor over the training snapshots; NaN for a sensor never observed.
    ranked_sensors_ : numpy.ndarray of int, shape [n_sensors]
        Sensor indices by decreasing `variance_`.
    """

    def _rank(self, X):
        observed = ~np.isnan(X)
        count = observed.sum(axis=0)
        deviation = np.where(observed, X - column_mean(X)[None, :], 0.0)
        variance = (deviation**2).sum(axis=0) / np.maximum(count, 1)
        self.variance_ = np.where(count > 0, variance, np.nan)
        key = np.where(count > 0, -variance, np.inf)
        return np.argsort(key, kind="stable")
