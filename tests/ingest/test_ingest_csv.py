"""CSV archives: the bundled METR-LA week (wide) and small wide and long files with known values."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from ingest_helpers import METR, METR_SENSORS, oneline

from dynst_cli.errors import UsageError
from dynst_cli.ingest import open_archive


@pytest.fixture(scope="module")
def metr():
    return open_archive(METR, variables=["speed"], sensors=METR_SENSORS, units="mph")


def test_metr_shape_units_and_values_equal_the_source(metr):
    source = pd.read_csv(METR, index_col=0)
    assert metr["speed"].shape == (2016, 207)
    assert metr["speed"].dtype == np.float32
    assert metr["speed"].attrs["units"] == "mph"
    assert list(metr["sensor"].values) == list(source.columns)
    np.testing.assert_array_equal(metr["speed"].values, source.to_numpy(dtype=np.float32))
    assert not metr["speed"].isnull().any()


def test_metr_coordinates_equal_the_sensor_table(metr):
    table = pd.read_csv(METR_SENSORS, dtype={"sensor_id": str})
    np.testing.assert_array_equal(metr["lat"].values, table["latitude"].to_numpy())
    np.testing.assert_array_equal(metr["lon"].values, table["longitude"].to_numpy())
    assert metr["lat"].dtype == np.float64 and "cost" not in metr.coords


def test_metr_time_axis(metr):
    time = pd.DatetimeIndex(metr["time"].values)
    assert time[0] == pd.Timestamp("2012-03-01 00:00")
    assert time[-1] == pd.Timestamp("2012-03-07 23:55")
    assert (np.diff(time.asi8) == pd.Timedelta("5min").value).all()


def test_wide_gap_stays_nan_and_cost_is_kept(small_wide):
    data, table = small_wide
    ds = open_archive(data, sensors=table)
    mask = ds["value"].isnull().values
    assert mask.sum() == 1 and mask[1, 1]
    np.testing.assert_array_equal(ds["cost"].values, [1.5, 2.0, 0.0])
    assert ds["value"].attrs["units"] == "unknown"
    assert "note" not in ds.coords  # extra table columns are ignored


def test_wide_sensor_nan_at_every_step_is_dropped(write_text, small_wide):
    _, table = small_wide
    data = write_text("d.csv", "time,s1,s2,s3\n2020-01-01,1,,3\n2020-01-02,2,NA,4\n")
    ds = open_archive(data, sensors=table)
    assert list(ds["sensor"].values) == ["s1", "s3"]
    assert ds.attrs["n_dropped_all_nan"] == 1


@pytest.mark.parametrize(
    ("header", "time_col"),
    [
        ("time", None),
        ("Timestamp", None),
        ("DATE", None),
        ("datetime", None),
        ("", None),  # an unnamed first column of dates
        ("when", "when"),
    ],
)
def test_time_column_found_by_name_content_or_flag(write_text, small_wide, header, time_col):
    _, table = small_wide
    data = write_text("d.csv", f"{header},s1,s2\n2020-01-01 00:00,1,2\n2020-01-01 00:10,3,4\n")
    ds = open_archive(data, sensors=table, time_col=time_col)
    assert ds["value"].shape == (2, 2)
    assert pd.Timestamp(ds["time"].values[1]) == pd.Timestamp("2020-01-01 00:10")


@pytest.mark.parametrize(
    "header",
    [
        "id,lat,lon",
        "Station,Latitude,Longitude",
        "sensor,y,x",
        "index,sensor_id,latitude,lng",
    ],
)
def test_sensor_table_columns_found_case_insensitively(write_text, header):
    data = write_text("d.csv", "time,a,b\n2020-01-01,1,2\n2020-01-02,3,4\n")
    extra = "0," if header.startswith("index") else ""
    rows = f"{extra}a,10,340\n{extra.replace('0', '1')}b,-10,-20\n"
    table = write_text("t.csv", f"{header}\n{rows}")
    ds = open_archive(data, sensors=table)
    np.testing.assert_array_equal(ds["lat"].values, [10.0, -10.0])
    np.testing.assert_array_equal(ds["lon"].values, [-20.0, -20.0])  # 340 wrapped


def test_unsorted_time_is_sorted_with_a_warning(write_text, small_wide, capsys):
    _, table = small_wide
    data = write_text("d.csv", "time,s1\n2020-01-02,2\n2020-01-01,1\n2020-01-03,3\n")
    ds = open_archive(data, sensors=table)
    np.testing.assert_array_equal(ds["value"].values[:, 0], [1.0, 2.0, 3.0])
    assert "not in increasing order" in oneline(capsys.readouterr().err)


LONG = (
    "time,sensor_id,value,lat,lon\n"
    "2020-01-01 00:00,b,1.0,50,10\n"
    "2020-01-01 00:00,a,2.0,51,11\n"
    "2020-01-01 01:00,a,3.0,51,11\n"
    "2020-01-01 02:00,b,4.0,50,10\n"
    "2020-01-01 02:00,a,,51,11\n"
)


def test_long_csv_with_coordinates_needs_no_sensor_table(write_text):
    ds = open_archive(write_text("long.csv", LONG))
    assert list(ds["sensor"].values) == ["b", "a"]  # order of first appearance
    np.testing.assert_array_equal(ds["lat"].values, [50.0, 51.0])
    expected = np.array([[1.0, 2.0], [np.nan, 3.0], [4.0, np.nan]], dtype=np.float32)
    np.testing.assert_array_equal(ds["value"].values, expected)  # absent rows and gaps stay NaN


def test_long_csv_value_columns_become_channels(write_text, small_wide):
    _, table = small_wide
    text = "timestamp,station,u,v\n2020-01-01,s1,1,10\n2020-01-01,s2,2,20\n2020-01-02,s1,3,30\n"
    ds = open_archive(write_text("uv.csv", text), sensors=table)
    assert list(ds.data_vars) == ["u", "v"]
    np.testing.assert_array_equal(ds["v"].values[:, 0], [10.0, 30.0])
    only_v = open_archive(write_text("uv2.csv", text), sensors=table, variables=["v"])
    assert list(only_v.data_vars) == ["v"]


def test_wide_csv_without_sensor_table_is_a_usage_error(small_wide):
    data, _ = small_wide
    with pytest.raises(UsageError, match="--sensors"):
        open_archive(data)
