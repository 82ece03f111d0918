"""Random sensor ranking: the baseline every selector must beat."""

import numpy as np

from dynst_cli.selection.base import BaseSelector


class RandomSelector(BaseSelector):
    """Rank sensors by a random permutation.

    The data are used only for their number of sensors. The same seed gives the same ranking,
    whatever the values of `X`.

    Parameters
    ----------
    seed : int, default 0
        Seed of `numpy.random.default_rng`.

    Attributes
    ----------
    ranked_sensors_ : numpy.ndarray of int, shape [n_sensors]
        A permutation of `range(n_sensors)`.
    """

    seeded = True

    def __init__(self, seed=0):
        self.seed = seed

    def _rank(self, X):
        rng = np.random.default_rng(self.seed)
        return rng.permutation(X.shape[1])
