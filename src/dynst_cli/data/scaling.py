"""Standard scaling per channel, fitted on the training period only."""

from __future__ import annotations

import numpy as np

CHUNK_VALUES = 2**22  # values per chunk of the fit (16 MB of float32): memory stays flat


class StandardScaler:
    """z-score per channel over every observed (non-NaN) value of the training period.

    Fitting on the training period only keeps validation and test statistics out of the model.
    """

    def __init__(self, mean: np.ndarray | None = None, std: np.ndarray | None = None):
        self.mean_ = None if mean is None else np.asarray(mean, dtype=np.float32)
        self.std_ = None if std is None else np.asarray(std, dtype=np.float32)

    def fit(self, values: np.ndarray) -> StandardScaler:
        """`values` of shape [n_steps, n_sensors, n_channels], NaN where missing.

        Read in chunks of time steps (so a memory-mapped array is never loaded whole); the
        chunks' means and sums of squared deviations are merged with Chan et al.'s pairwise
        update in float64, which matches `np.nanmean` / `np.nanstd` of the whole array.
        """
        n_channels = values.shape[-1]
        count, mean, m2 = (np.zeros(n_channels) for _ in range(3))
        step = max(1, CHUNK_VALUES // max(1, int(np.prod(values.shape[1:]))))
        for start in range(0, values.shape[0], step):
            flat = np.asarray(values[start : start + step], dtype=np.float64)
            flat = flat.reshape(-1, n_channels)
            observed = ~np.isnan(flat)
            n = observed.sum(axis=0)
            if not n.any():
                continue
            chunk_mean = np.where(observed, flat, 0.0).sum(axis=0) / np.maximum(n, 1)
            chunk_m2 = np.where(observed, (flat - chunk_mean) ** 2, 0.0).sum(axis=0)
            total = count + n
            delta = chunk_mean - mean
            weight = np.divide(n, total, out=np.zeros(n_channels), where=total > 0)
            mean = mean + delta * weight
            m2 = m2 + chunk_m2 + delta**2 * count * weight
            count = total
        std = np.sqrt(np.divide(m2, count, out=np.zeros(n_channels), where=count > 0))
        self.mean_ = mean.astype(np.float32)  # a channel never observed: mean 0, std 1
        self.std_ = np.where(std > 0, std, 1.0).astype(np.float32)  # constant channel: no scaling
        return self

    def transform(self, values: np.ndarray) -> np.ndarray:
        return ((values - self.mean_) / self.std_).astype(np.float32, copy=False)

    def inverse(self, values):
        """Works on numpy arrays and torch tensors whose last axis is the channel."""
        if hasattr(values, "new_tensor"):
            return values * values.new_tensor(self.std_) + values.new_tensor(self.mean_)
        return values * self.std_ + self.mean_

    def state(self) -> dict:
        return {"mean": self.mean_.tolist(), "std": self.std_.tolist()}

    @classmethod
    def from_state(cls, state: dict) -> StandardScaler:
        return cls(state["mean"], state["std"])
