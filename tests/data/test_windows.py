"""Splits, scaling, windows and masked metrics of the training data."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from dynst_cli.data import StandardScaler, WindowSource, chronological_splits
from dynst_cli.data.metrics import MetricAccumulator
from dynst_cli.errors import InputError


def test_splits_are_chronological_and_windows_stay_inside_their_period():
    splits = chronological_splits(100, t_in=4, t_out=2, train_frac=0.7, val_frac=0.1)
    assert [(s.start, s.stop) for s in splits.values()] == [(0, 70), (70, 80), (80, 100)]
    for split in splits.values():
        assert split.window_starts.min() >= split.start
        assert split.window_starts.max() + 6 <= split.stop


def test_a_dataset_too_short_for_one_window_is_bad_input():
    with pytest.raises(InputError, match="too few"):
        chronological_splits(20, t_in=12, t_out=12, train_frac=0.7, val_frac=0.1)


def test_scaler_uses_observed_values_only_and_inverts():
    values = np.array([[[1.0], [np.nan]], [[3.0], [5.0]]], dtype=np.float32)
    scaler = StandardScaler().fit(values)
    assert scaler.mean_[0] == pytest.approx(3.0)
    assert scaler.std_[0] == pytest.approx(np.std([1.0, 3.0, 5.0]))
    np.testing.assert_allclose(scaler.inverse(scaler.transform(values)), values, rtol=1e-6)


def test_window_holds_the_right_steps_fills_missing_and_flags_them():
    n_steps, n = 30, 3
    values = np.arange(n_steps * n, dtype=np.float32).reshape(n_steps, n, 1)
    values[5, 1, 0] = np.nan  # a missing history value
    values[9, 2, 0] = np.nan  # a missing target
    time = pd.date_range("2024-01-01", periods=n_steps, freq="h").values
    identity = StandardScaler(mean=[0.0], std=[1.0])
    source = WindowSource(values, identity, time, 3600, t_in=4, t_out=3)
    batch = source.batch(np.array([3]))
    assert batch.x.shape == (1, 4, 3, 2) and batch.y.shape == (1, 3, 3, 1)
    np.testing.assert_array_equal(batch.x[0, :, 0, 0], values[3:7, 0, 0])
    assert batch.x[0, 2, 1, 0] == 0 and batch.x[0, 2, 1, 1] == 0  # filled, flagged missing
    assert batch.x[0, 1, 1, 1] == 1
    np.testing.assert_array_equal(batch.y[0, :, 0, 0], values[7:10, 0, 0])
    assert not batch.observed[0, 2, 2, 0] and batch.observed[0, 1, 2, 0]
    assert batch.tod[0] == 6 and batch.dow[0] == 0  # 2024-01-01 06:00 was a Monday


def test_masked_metrics_ignore_missing_targets():
    truth = np.array([1.0, 2.0, 4.0]).reshape(1, 1, 3, 1)
    pred = np.array([2.0, 2.0, 100.0]).reshape(1, 1, 3, 1)
    observed = np.array([True, True, False]).reshape(1, 1, 3, 1)
    acc = MetricAccumulator(t_out=1)
    acc.update(pred, truth, observed)
    result = acc.result()
    assert result["mae"] == pytest.approx(0.5)
    assert result["rmse"] == pytest.approx(np.sqrt(0.5))
    assert result["mape"] == pytest.approx(50.0)
