"""The one path from raw values and timestamps to the backbone's input."""

from __future__ import annotations

import numpy as np
import pandas as pd

from dynst_cli.data import StandardScaler, WindowSource
from dynst_cli.data.inputs import calendar, model_input, steps_per_day


def test_calendar_bins_time_of_day_and_names_the_weekday():
    times = pd.to_datetime(["2024-01-01 00:00", "2024-01-01 06:10", "2024-01-07 23:55"]).values
    tod, dow = calendar(times, 300)
    assert tod.tolist() == [0, 74, 287]  # 5-minute bins: 06:10 is bin 74, 23:55 the last
    assert dow.tolist() == [0, 0, 6]  # Monday, Monday, Sunday
    assert steps_per_day(300) == 288 and steps_per_day(3600) == 24 and steps_per_day(172800) == 1


def test_model_input_scales_fills_and_flags_missing_values():
    history = np.array([[[[2.0, 10.0]], [[np.nan, 30.0]]]], dtype=np.float32)  # (1, 2, 1, 2)
    scaler = StandardScaler(mean=[1.0, 10.0], std=[1.0, 10.0])
    x, tod, dow = model_input(history, np.array(["2024-01-02T01:00"], "M8[ns]"), scaler, 3600)
    assert x.dtype == np.float32 and x.shape == (1, 2, 1, 4)
    np.testing.assert_array_equal(x[0, :, 0], [[1.0, 0.0, 1.0, 1.0], [0.0, 2.0, 0.0, 1.0]])
    assert (tod.tolist(), dow.tolist()) == ([1], [1])


def test_training_windows_are_what_predict_would_build_from_the_same_history():
    rng = np.random.default_rng(0)
    values = rng.normal(size=(40, 3, 2)).astype(np.float32)
    values[rng.random(values.shape) < 0.2] = np.nan
    time = pd.date_range("2024-03-01 05:00", periods=40, freq="15min").values
    scaler = StandardScaler().fit(values)
    source = WindowSource(values, scaler, time, 900, t_in=5, t_out=2)
    batch = source.batch(np.array([0, 17, 33]))
    for b, start in enumerate([0, 17, 33]):
        x, tod, dow = model_input(values[None, start : start + 5], time[[start + 4]], scaler, 900)
        np.testing.assert_array_equal(batch.x[b].numpy(), x[0])
        assert (batch.tod[b], batch.dow[b]) == (tod[0], dow[0])
