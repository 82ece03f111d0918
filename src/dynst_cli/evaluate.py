"""Forecast error of a model on one split, in the data's own units."""

from __future__ import annotations

import numpy as np
import torch

from dynst_cli.data import StandardScaler, WindowSource
from dynst_cli.data.metrics import MetricAccumulator
from dynst_cli.model import ForecastModel

EVAL_BATCH = 64  # windows per forward pass at evaluation; memory, not results, depends on it


@torch.no_grad()
def evaluate(
    model: ForecastModel,
    source: WindowSource,
    starts: np.ndarray,
    scaler: StandardScaler,
    device: torch.device,
) -> dict:
    """Masked MAE, RMSE and MAPE of `model` over the windows beginning at `starts`.

    Errors are measured on every sensor (kept or not) and every observed target; missing targets
    are left out. Returns the overall figures, the same per horizon step and the MAE of each
    sensor (`sensor_mae`, a list of N values, None for a sensor never observed in the split).
    """
    model.eval()
    acc = MetricAccumulator(source.t_out, model.gate.n_sensors)
    for batch in source.batches(starts, EVAL_BATCH):
        batch = batch.to(device)
        pred = model(batch.x, batch.tod, batch.dow)
        acc.update(
            scaler.inverse(pred).cpu().numpy(),
            scaler.inverse(batch.y).cpu().numpy(),
            batch.observed.cpu().numpy(),
        )
    return acc.result()


def headline(metrics: dict) -> dict:
    """The overall figures of a metrics dict, without the per-horizon detail."""
    return {key: metrics[key] for key in ("mae", "rmse", "mape")}
