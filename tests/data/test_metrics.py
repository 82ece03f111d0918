"""Masked metrics (dynst_cli.data.metrics): per-sensor MAE, and MAPE only where it is defined."""

from __future__ import annotations

import numpy as np
import pytest

from dynst_cli.data.metrics import MetricAccumulator


def _accumulate(pred, truth, observed=None):
    pred, truth = np.asarray(pred, float), np.asarray(truth, float)
    acc = MetricAccumulator(t_out=pred.shape[1], n_sensors=pred.shape[2])
    acc.update(pred, truth, np.ones_like(truth, bool) if observed is None else observed)
    return acc.result()


def test_sensor_mae_averages_each_sensors_absolute_errors_over_batches_steps_and_channels():
    truth = np.zeros((2, 3, 2, 1))  # (B, T_out, N, C)
    pred = truth.copy()
    pred[:, :, 0] = 1.0
    pred[:, :, 1] = -4.0
    result = _accumulate(pred, truth)
    assert result["sensor_mae"] == [1.0, 4.0]
    assert result["mae"] == pytest.approx(2.5)


def test_sensor_never_observed_has_no_mae_and_missing_targets_do_not_count():
    truth = np.ones((1, 2, 3, 1))
    pred = truth + np.array([1.0, 2.0, 3.0])[None, None, :, None]
    observed = np.ones_like(truth, bool)
    observed[..., 2, :] = False  # sensor 2 never measured
    observed[0, 0, 1, 0] = False  # sensor 1 measured at one step of two
    pred[0, 0, 1, 0] = 100.0  # the error at the unmeasured step must not count
    result = _accumulate(pred, truth, observed)
    assert result["sensor_mae"] == [1.0, 2.0, None]


def test_mape_is_left_out_for_a_variable_that_crosses_zero():
    truth = np.array([-3.0, -1.0, 2.0, 4.0]).reshape(4, 1, 1, 1)  # wind component, m/s
    result = _accumulate(truth + 0.5, truth)
    assert result["mape"] is None
    assert result["horizon"]["mape"] == [None]
    assert result["mae"] == pytest.approx(0.5)


def test_mape_stays_for_a_positive_variable():
    truth = np.array([10.0, 20.0]).reshape(2, 1, 1, 1)
    assert _accumulate(truth * 1.1, truth)["mape"] == pytest.approx(10.0)
