"""Masked forecast metrics over observed (non-NaN) targets, in the data's own units."""

from __future__ import annotations

import numpy as np

# MAPE is undefined where the truth is zero; targets closer to zero than this are left out of it.
MAPE_MIN_ABS = 1e-3


class MetricAccumulator:
    """Sums of absolute, squared and relative errors per horizon step, over batches.

    Arrays fed in have shape (B, T_out, N, C); `observed` marks measured targets.
    """

    def __init__(self, t_out: int):
        self.abs = np.zeros(t_out)
        self.sq = np.zeros(t_out)
        self.rel = np.zeros(t_out)
        self.n = np.zeros(t_out)
        self.n_rel = np.zeros(t_out)

    def update(self, pred: np.ndarray, truth: np.ndarray, observed: np.ndarray) -> None:
        err = np.where(observed, pred - truth, 0.0)
        axes = (0, 2, 3)
        self.abs += np.abs(err).sum(axis=axes)
        self.sq += (err**2).sum(axis=axes)
        self.n += observed.sum(axis=axes)
        rel_ok = observed & (np.abs(truth) > MAPE_MIN_ABS)
        safe = np.where(rel_ok, np.abs(truth), 1.0)
        self.rel += np.where(rel_ok, np.abs(err) / safe, 0.0).sum(axis=axes)
        self.n_rel += rel_ok.sum(axis=axes)

    def result(self) -> dict:
        """Overall `mae`, `rmse`, `mape` (percent) and the same per horizon step."""
        n, n_rel = np.maximum(self.n, 1), np.maximum(self.n_rel, 1)
        total, total_rel = max(self.n.sum(), 1), max(self.n_rel.sum(), 1)
        return {
            "mae": float(self.abs.sum() / total),
            "rmse": float(np.sqrt(self.sq.sum() / total)),
            "mape": float(100 * self.rel.sum() / total_rel),
            "horizon": {
                "mae": (self.abs / n).tolist(),
                "rmse": np.sqrt(self.sq / n).tolist(),
                "mape": (100 * self.rel / n_rel).tolist(),
            },
        }
