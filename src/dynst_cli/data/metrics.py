"""Masked forecast metrics over observed (non-NaN) targets, in the data's own units."""

from __future__ import annotations

import numpy as np

# MAPE is undefined where the truth is zero; targets closer to zero than this are left out of it.
MAPE_MIN_ABS = 1e-3


class MetricAccumulator:
    """Sums of absolute, squared and relative errors per horizon step, over batches.

    Arrays fed in have shape (B, T_out, N, C); `observed` marks measured targets. The absolute
    errors are also summed per sensor (over horizon steps and channels), for `sensor_mae`.
    """

    def __init__(self, t_out: int, n_sensors: int | None = None):
        self.sensor_abs = None if n_sensors is None else np.zeros(n_sensors)
        self.sensor_n = None if n_sensors is None else np.zeros(n_sensors)
        self.truth_range = [np.inf, -np.inf]  # lowest and highest observed target
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
        if observed.any():
            seen = truth[observed]
            self.truth_range = [
                min(self.truth_range[0], seen.min()),
                max(self.truth_range[1], seen.max()),
            ]
        rel_ok = observed & (np.abs(truth) > MAPE_MIN_ABS)
        safe = np.where(rel_ok, np.abs(truth), 1.0)
        self.rel += np.where(rel_ok, np.abs(err) / safe, 0.0).sum(axis=axes)
        self.n_rel += rel_ok.sum(axis=axes)
        if self.sensor_abs is not None:
            self.sensor_abs += np.abs(err).sum(axis=(0, 1, 3))
            self.sensor_n += observed.sum(axis=(0, 1, 3))

    def sensor_mae(self) -> list[float | None]:
        """MAE of each sensor (data units), None where no target of it was observed; shape (N,)."""
        if self.sensor_abs is None:
            return []
        mae = self.sensor_abs / np.maximum(self.sensor_n, 1)
        return [float(m) if n > 0 else None for m, n in zip(mae, self.sensor_n, strict=True)]

    def crosses_zero(self) -> bool:
        """True when the observed targets take both signs (wind components, degrees Celsius).

        A percentage error of such a variable says nothing: it explodes wherever the truth passes
        through zero, so `result` reports MAPE as None for it.
        """
        low, high = self.truth_range
        return bool(low < -MAPE_MIN_ABS and high > MAPE_MIN_ABS)

    def result(self) -> dict:
        """Overall `mae`, `rmse`, `mape` (percent; None for a variable that crosses zero), the
        same per horizon step and, when the accumulator knows the number of sensors,
        `sensor_mae` (see :meth:`sensor_mae`)."""
        n, n_rel = np.maximum(self.n, 1), np.maximum(self.n_rel, 1)
        total, total_rel = max(self.n.sum(), 1), max(self.n_rel.sum(), 1)
        no_mape = self.crosses_zero()
        return {
            "mae": float(self.abs.sum() / total),
            "rmse": float(np.sqrt(self.sq.sum() / total)),
            "mape": None if no_mape else float(100 * self.rel.sum() / total_rel),
            "horizon": {
                "mae": (self.abs / n).tolist(),
                "rmse": np.sqrt(self.sq / n).tolist(),
                "mape": [None] * len(n) if no_mape else (100 * self.rel / n_rel).tolist(),
            },
            "sensor_mae": self.sensor_mae(),
        }
