"""The summary of a canonical dataset, on a small case with a known answer."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from dynst_cli.ingest import summarize


@pytest.fixture
def dataset():
    """3 sensors x 4 half-hourly steps, two channels; sensor b misses 3 of 8 values, c 1."""
    u = np.array([[1, 1, 1], [1, np.nan, 1], [1, np.nan, 1], [1, 1, np.nan]], dtype=np.float32)
    v = np.array([[1, 1, 1], [1, np.nan, 1], [1, 1, 1], [1, 1, 1]], dtype=np.float32)
    time = pd.date_range("2021-06-01", periods=4, freq="30min")
    coords = {"time": time, "sensor": ["a", "b", "c"], "lat": ("sensor", [1.0, 2.0, 3.0])}
    ds = xr.Dataset(
        {
            "u": (("time", "sensor"), u, {"units": "m s-1"}),
            "v": (("time", "sensor"), v, {"units": "m s-1"}),
        },
        coords=coords,
        attrs={"n_dropped_all_nan": 2, "sources": json.dumps([{"name": "x.nc", "sha256": "0"}])},
    )
    return ds.chunk({"time": 2})


def test_summary_counts_and_time_axis(dataset):
    summary = summarize(dataset)
    assert (summary["n_sensors"], summary["n_time"]) == (3, 4)
    assert summary["time_start"] == "2021-06-01T00:00:00"
    assert summary["time_end"] == "2021-06-01T01:30:00"
    assert summary["time_step"] == "30min" and summary["time_step_seconds"] == 1800.0
    assert summary["regular"] is True
    assert summary["n_dropped_all_nan"] == 2 and summary["grid"] is None
    assert summary["sources"] == [{"name": "x.nc", "sha256": "0"}]


def test_summary_missing_share_and_worst_sensors(dataset):
    summary = summarize(dataset)
    assert summary["missing_percent"] == pytest.approx(100 * 4 / 24, abs=1e-4)
    assert summary["worst_sensors"] == [
        {"sensor": "b", "missing_percent": 37.5},
        {"sensor": "c", "missing_percent": 12.5},
    ]
    assert summary["variables"] == [
        {"name": "u", "units": "m s-1"},
        {"name": "v", "units": "m s-1"},
    ]


def test_summary_is_json_serialisable(dataset):
    assert json.loads(json.dumps(summarize(dataset), allow_nan=False))["n_time"] == 4


def test_irregular_steps_are_flagged(dataset):
    time = pd.DatetimeIndex(
        ["2021-06-01 00:00", "2021-06-01 01:00", "2021-06-01 02:00", "2021-06-01 05:00"]
    )
    summary = summarize(dataset.assign_coords(time=time))
    assert summary["regular"] is False and summary["time_step"] == "1h"
