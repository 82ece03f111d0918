"""Axis discovery from CF attributes and names, longitude normalisation, grid order."""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr

from dynst_cli.ingest.coords import column_order, find_axis, grid_step, normalize_lon, row_order


def _dataset(name: str, attrs: dict, values=(1.0, 2.0)) -> xr.Dataset:
    return xr.Dataset(coords={name: (name, np.asarray(values), attrs)})


@pytest.mark.parametrize(
    ("kind", "attrs"),
    [
        ("latitude", {"standard_name": "latitude"}),
        ("latitude", {"axis": "Y"}),
        ("latitude", {"units": "degrees_north"}),
        ("latitude", {"units": "degree_N"}),
        ("longitude", {"standard_name": "longitude"}),
        ("longitude", {"axis": "X"}),
        ("longitude", {"units": "degrees_east"}),
        ("time", {"standard_name": "time"}),
        ("time", {"axis": "T"}),
    ],
)
def test_axis_found_by_cf_attributes_whatever_its_name(kind, attrs):
    assert find_axis(_dataset("coord_17", attrs), kind) == "coord_17"


def test_time_axis_found_by_decoded_dates():
    ds = _dataset("valid", {}, values=np.array(["2020-01-01", "2020-01-02"], "datetime64[ns]"))
    assert find_axis(ds, "time") == "valid"


@pytest.mark.parametrize(
    ("name", "kind"),
    [("LAT", "latitude"), ("Latitude", "latitude"), ("y", "latitude"), ("X", "longitude")],
)
def test_axis_found_by_usual_name_case_insensitively(name, kind):
    assert find_axis(_dataset(name, {}), kind) == name


def test_no_axis_gives_none():
    assert find_axis(_dataset("depth", {"units": "m"}), "latitude") is None


@pytest.mark.parametrize(
    ("lon", "expected"),
    [(0.0, 0.0), (180.0, -180.0), (359.75, -0.25), (540.0, -180.0), (-190.0, 170.0)],
)
def test_normalize_lon_maps_into_half_open_range(lon, expected):
    assert normalize_lon(np.array([lon]))[0] == pytest.approx(expected)


def test_row_order_is_north_to_south():
    np.testing.assert_array_equal(row_order(np.array([50.0, 52.0, 51.0])), [1, 2, 0])


def test_column_order_of_a_global_grid_starts_at_minus_180():
    lon = np.arange(0.0, 360.0, 45.0)
    np.testing.assert_array_equal(normalize_lon(lon[column_order(lon)]), np.arange(-180, 180, 45))


def test_grid_step_is_positive_and_spans_the_antimeridian():
    assert grid_step(np.array([58.0, 57.75, 57.5])) == 0.25
    assert grid_step(np.array([179.5, -180.0, -179.5])) == 0.5
