"""QR pivoting on the leading SVD modes, as PySensors' SSPOR with its QR optimizer.

Manohar, Brunton, Kutz and Brunton (2018), "Data-driven sparse sensor placement for
reconstruction", IEEE Control Systems Magazine 38(3), 63-86.
"""

import numpy as np
import scipy.linalg

from dynst_cli.selection.base import BaseSelector, fill_with_column_mean

# Modes kept by default: the fewest that hold this share of the (centred) snapshot energy, the
# sum of squared singular values. 99 % drops noise modes, whose pivots carry no information.
DEFAULT_ENERGY = 0.99


class QRSelector(BaseSelector):
    """Rank sensors by column-pivoted QR of the leading SVD modes.

    The snapshots (NaN replaced by the mean of the observed values of their sensor) are centred
    per sensor, decomposed as ``X = U S Vt``, and the leading ``r`` right singular vectors form the
    basis ``Psi_r = Vt[:r].T``. Column-pivoted QR of ``Psi_r.T`` (`scipy.linalg.qr` with
    ``pivoting=True``) picks at each step the sensor whose mode-space row is farthest from the span
    of those already picked; the pivot order is the ranking. The first ``r`` pivots are the
    informed choice; the remaining ones follow the order LAPACK returns, which is still a full
    permutation. Ties go to the lower sensor index (LAPACK takes the first maximal column norm).

    Parameters
    ----------
    n_modes : int or None, default None
        Number of SVD modes ``r``. None takes the fewest modes holding `energy` of the snapshot
        energy. Capped at ``min(n_samples, n_sensors)``.
    center : bool, default True
        Subtract each sensor's mean before the SVD.
    energy : float, default 0.99
        Share of energy the default number of modes must hold, in (0, 1].

    Attributes
    ----------
    mean_ : numpy.ndarray of float, shape [n_sensors]
        Per-sensor mean subtracted before the SVD (zeros when `center` is False).
    singular_values_ : numpy.ndarray of float, shape [min(n_samples, n_sensors)]
        All singular values of the centred snapshots, decreasing.
    n_modes_ : int
        Number of modes ``r`` used.
    basis_ : numpy.ndarray of float, shape [n_sensors, n_modes_]
        The modes ``Psi_r``.
    ranked_sensors_ : numpy.ndarray of int, shape [n_sensors]
        The QR pivot order.
    """

    def __init__(self, n_modes=None, center=True, energy=DEFAULT_ENERGY):
        self.n_modes = n_modes
        self.center = center
        self.energy = energy

    def _rank(self, X):
        X = fill_with_column_mean(X)
        self.mean_ = X.mean(axis=0) if self.center else np.zeros(X.shape[1])
        _, singular_values, vt = np.linalg.svd(X - self.mean_, full_matrices=False)
        self.singular_values_ = singular_values
        self.n_modes_ = self._choose_n_modes(singular_values)
        self.basis_ = vt[: self.n_modes_].T
        _, pivots = scipy.linalg.qr(self.basis_.T, mode="r", pivoting=True)
        return pivots

    def _choose_n_modes(self, singular_values):
        """Return ``r``: `n_modes` if given, else the fewest modes holding `energy`."""
        max_modes = singular_values.shape[0]
        if self.n_modes is not None:
            return max(1, min(int(self.n_modes), max_modes))
        cumulative = np.cumsum(singular_values**2)
        needed = np.searchsorted(cumulative, self.energy * cumulative[-1], side="left") + 1
        return int(min(needed, max_modes))
