"""Standard scaling per channel, fitted on the training period only."""

from __future__ import annotations

import numpy as np


class StandardScaler:
    """z-score per channel over every observed (non-NaN) value of the training period.

    Fitting on the training period only keeps validation and test statistics out of the model.
    """

    def __init__(self, mean: np.ndarray | None = None, std: np.ndarray | None = None):
        self.mean_ = None if mean is None else np.asarray(mean, dtype=np.float32)
        self.std_ = None if std is None else np.asarray(std, dtype=np.float32)

    def fit(self, values: np.ndarray) -> StandardScaler:
        """`values` of shape [n_steps, n_sensors, n_channels], NaN where missing."""
        flat = values.reshape(-1, values.shape[-1])
        self.mean_ = np.nan_to_num(np.nanmean(flat, axis=0)).astype(np.float32)
        std = np.nan_to_num(np.nanstd(flat, axis=0))
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
