"""Forward greedy selection for a ridge forecaster: the classic greedy sensor-placement rival.

At each step the sensor whose reading most lowers the validation error of a closed-form ridge
forecaster is added (Krause, Singh and Guestrin 2008 for the greedy scheme; here the objective is
the forecast error of the whole network, as in DynST). The forecaster maps the kept sensors'
latest values to the mean of the next `horizon` values of every sensor; it is fitted on the
training period and scored on the validation period.

Each step is exact and incremental: ridge regression is least squares on features augmented by
``sqrt(lam) * I``, so adding a sensor is one Gram-Schmidt step on its augmented column. The
residual of every candidate column, its image on the validation period and its correlation with
the targets are kept up to date by rank-one updates, so a step costs O(N (n_train + N + M)) for
N sensors and M targets (about a quarter of that on average: see `_Candidates`).
"""

import numpy as np
from scipy.linalg.blas import dger

from dynst_cli.errors import InputError
from dynst_cli.selection.base import BaseSelector


class GreedySelector(BaseSelector):
    """Rank sensors by forward greedy selection for a ridge forecaster of every sensor.

    Parameters
    ----------
    horizon : int, default 12
        Forecast steps averaged into each target (the run's ``t_out``).
    ridge : float, default 0.01
        Ridge penalty per training sample, on z-scored values.
    n_modes : int, default 64
        Targets are reduced to their leading principal components on the training period
        (as PySensors reduces snapshots to POD modes); the error outside them does not depend
        on the sensors chosen. None keeps every target.

    Attributes
    ----------
    ranked_sensors_ : numpy.ndarray of int, shape [n_sensors]
        Sensors in the order they were added, most useful first.
    gains_ : numpy.ndarray of float, shape [n_sensors]
        Drop of the validation sum of squared errors when each sensor was added (z-scored units).
    """

    def __init__(self, horizon=12, ridge=0.01, n_modes=64):
        self.horizon = horizon
        self.ridge = ridge
        self.n_modes = n_modes

    def fit(self, X, periods=None, horizon=None, **kwargs):
        """Rank sensors from the training and validation periods.

        Parameters
        ----------
        X : array_like of float, shape [n_samples, n_sensors]
            Training snapshots in time order (used when `periods` is None); NaN where nothing was
            measured. The last eighth is held out as the validation period.
        periods : (train, val) or None
            Training and validation values in time order, each of shape
            [n_steps, n_sensors] or [n_steps, n_sensors, n_channels] (what `compare` passes).
        horizon : int or None
            Forecast steps averaged into each target; None keeps the constructor's.

        Returns
        -------
        self
        """
        if periods is None:
            train, val = _hold_out(_as_3d(X))
        else:
            train, val = (_as_3d(p) for p in periods)
        if val.shape[1:] != train.shape[1:]:
            raise InputError(f"validation shape {val.shape} does not match training {train.shape}")
        # Periods too short for the horizon forecast fewer steps ahead; with no step to spare,
        # the field is reconstructed at the same time (the classic placement objective).
        wanted = self.horizon if horizon is None else horizon
        steps = max(min(wanted, train.shape[0] - 1, val.shape[0] - 1), 0)
        mean, std = _channel_stats(train)
        f_tr, y_tr = _features_targets((train - mean) / std, steps)
        f_va, y_va = _features_targets((val - mean) / std, steps)
        y_tr, y_va = _leading_modes(y_tr, y_va, self.n_modes)
        self.n_features_in_ = train.shape[1]
        self.ranked_sensors_, self.gains_ = _greedy_ridge(f_tr, y_tr, f_va, y_va, self.ridge)
        return self

    def _rank(self, X):  # fit is overridden; BaseSelector needs the method
        raise NotImplementedError


def _hold_out(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Training values split in time: the last eighth (at least one step) is held out."""
    if values.shape[0] < 2:
        return values, values
    cut = values.shape[0] - max(values.shape[0] // 8, 1)
    return values[:cut], values[cut:]


def _as_3d(X) -> np.ndarray:
    X = np.asarray(X, dtype=np.float64)
    if X.ndim == 2:
        X = X[:, :, None]
    if X.ndim != 3 or 0 in X.shape:
        raise InputError(f"expected values of shape [time, sensors(, channels)], got {X.shape}")
    if np.isinf(X).any():
        raise InputError("values hold infinite numbers; use NaN for missing ones")
    return X


def _channel_stats(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean and standard deviation of each channel's observed values, shape [1, 1, C] each.

    A channel with no observed value gets mean 0 and standard deviation 1.
    """
    observed = ~np.isnan(values)
    count = np.maximum(observed.sum(axis=(0, 1), keepdims=True), 1)
    filled = np.where(observed, values, 0.0)
    mean = filled.sum(axis=(0, 1), keepdims=True) / count
    var = (np.where(observed, values - mean, 0.0) ** 2).sum(axis=(0, 1), keepdims=True) / count
    std = np.sqrt(var)
    return mean, np.where(std > 0, std, 1.0)


def _features_targets(z: np.ndarray, horizon: int) -> tuple[np.ndarray, np.ndarray]:
    """Latest value of each sensor (channels averaged) and the mean of the next `horizon` values.

    Returns features [n, N] and targets [n, N*C]; missing values count as the mean (0).
    With ``horizon == 0`` the targets are the values at the same step.
    """
    filled = np.nan_to_num(z)
    if horizon == 0:
        return filled.mean(axis=2), filled.reshape(filled.shape[0], -1)
    n = z.shape[0] - horizon
    features = filled[:n].mean(axis=2)
    csum = np.concatenate([np.zeros((1, *z.shape[1:])), np.cumsum(filled, axis=0)])
    future = (csum[1 + horizon : 1 + horizon + n] - csum[1 : 1 + n]) / horizon
    return features, future.reshape(n, -1)


def _leading_modes(y_tr, y_va, n_modes) -> tuple[np.ndarray, np.ndarray]:
    """Targets projected on their leading `n_modes` principal directions (training period)."""
    if n_modes is None or y_tr.shape[1] <= n_modes:
        return y_tr, y_va
    centred = y_tr - y_tr.mean(axis=0)
    _, _, vt = np.linalg.svd(centred, full_matrices=False)
    basis = vt[:n_modes].T  # [M, n_modes]
    return y_tr @ basis, y_va @ basis


def _greedy_ridge(f_tr, y_tr, f_va, y_va, ridge) -> tuple[np.ndarray, np.ndarray]:
    """Order all sensors by forward greedy selection; returns (order, gain of each sensor).

    Sensors without a single training reading come last, in index order.
    """
    n_tr, n = f_tr.shape
    silent = ~(f_tr != 0).any(axis=0)  # no reading in training: ranked last, in index order
    f_mean, y_mean = f_tr.mean(axis=0), y_tr.mean(axis=0)
    f_tr, f_va = f_tr - f_mean, f_va - f_mean
    y_tr, y_va = y_tr - y_mean, y_va - y_mean
    own = np.sqrt(ridge * n_tr)
    state = _Candidates(f_tr, f_va, y_tr, y_va, own)
    order, gains = np.empty(n, dtype=np.intp), np.empty(n)
    for step in range(n):
        row = state.best_row(silent)
        order[step], gains[step] = state.ids[row], state.gain[row]
        state.add(row, width=n_tr + step, own=own)
    return order, gains


class _Candidates:
    """The sensors not chosen yet, each with its augmented column orthogonalised so far.

    Candidate j's augmented column is ``[f_j; sqrt(lam) e_j]``. Its ``e_j`` part only ever mixes
    with the coordinates of the sensors chosen before it, so the columns are stored over the
    training samples plus one coordinate per chosen sensor (in the order chosen); the matrix grows
    by one column per step and loses the chosen rows now and then, which makes the whole ranking
    cost about a quarter of the dense update. The wide column matrix is Fortran-ordered so that
    BLAS `ger` updates it in place; the narrow ones (width M or n_va) are updated by numpy, which
    is faster there.
    """

    def __init__(self, f_tr, f_va, y_tr, y_va, own):
        n_tr, n = f_tr.shape
        self.ids = np.arange(n)
        self.cols = np.zeros((n, n_tr + n), order="F")
        self.cols[:, :n_tr] = f_tr.T
        self.images = np.ascontiguousarray(f_va.T)  # each column's image on the validation period
        self.corr = f_tr.T @ y_tr  # column . targets (augmented targets are 0)
        self.resid = np.array(y_va)  # validation residual of the forecaster so far
        self.cross = self.images @ self.resid  # image . residual
        self.norms = np.einsum("ij,ij->i", f_tr.T, f_tr.T) + own**2
        self.image_norms = np.einsum("ij,ij->i", self.images, self.images)
        self.done = np.zeros(n, dtype=bool)

    def best_row(self, silent: np.ndarray) -> int:
        """Row of the candidate whose addition lowers the validation SSE most (ties: lowest id)."""
        norms = np.where(self.done, 1.0, self.norms)
        fit = 2 * np.einsum("ij,ij->i", self.cross, self.corr) / norms
        self.gain = fit - self.image_norms * np.einsum("ij,ij->i", self.corr, self.corr) / norms**2
        excluded = self.done | silent[self.ids]
        if excluded[~self.done].all():  # only silent sensors are left: in index order
            return int(np.flatnonzero(~self.done)[0])
        return int(np.argmax(np.where(excluded, -np.inf, self.gain)))

    def add(self, row: int, width: int, own: float) -> None:
        """Choose the candidate of `row`: one Gram-Schmidt step on every other column."""
        self.cols[row, width] = own  # its e_j coordinate becomes the next chosen coordinate
        cols = self.cols[:, : width + 1]
        scale = np.sqrt(self.norms[row])
        q, q_image, q_corr = cols[row] / scale, self.images[row] / scale, self.corr[row] / scale
        a = cols @ q  # projection of every candidate column on the new direction
        image_dot = self.images @ q_image
        q_resid = q_image @ self.resid
        q_image_norm = q_image @ q_image
        # cross_j = image_j . resid, after image_j -= a_j q_image and resid -= q_image q_corr.
        self.cross -= np.outer(a, q_resid)
        self.cross += np.outer(a * q_image_norm - image_dot, q_corr)
        self.image_norms += -2 * a * image_dot + a**2 * q_image_norm
        _ger(cols, -a, q)  # the one wide matrix: BLAS in place, no temporary
        self.images -= np.outer(a, q_image)
        self.corr -= np.outer(a, q_corr)
        self.resid -= np.outer(q_image, q_corr)
        self.norms = np.maximum(self.norms - a**2, 0.0)
        self.done[row] = True
        if self.done.sum() * 8 > self.done.size:  # keep the matrices to live candidates
            self._drop_done()

    def _drop_done(self) -> None:
        keep = ~self.done
        self.cols = np.asfortranarray(self.cols[keep])
        for name in ("images", "corr", "cross", "ids", "norms", "image_norms", "done"):
            setattr(self, name, getattr(self, name)[keep])


def _ger(matrix: np.ndarray, x: np.ndarray, y: np.ndarray) -> None:
    """``matrix += outer(x, y)`` in place (BLAS dger on a Fortran-ordered float64 matrix)."""
    out = dger(1.0, x, y, a=matrix, overwrite_a=True)
    if out is not matrix:  # BLAS had to copy: keep the update anyway
        matrix[...] = out
