"""NetCDF grids: the bundled ERA5 archive and small synthetic grids with known values."""

from __future__ import annotations

import json

import dask.array
import numpy as np
import pandas as pd
import pytest
import xarray as xr
from ingest_helpers import ERA5, cell_values, make_grid, oneline

from dynst_cli.errors import InputError, UsageError
from dynst_cli.ingest import open_archive


@pytest.fixture(scope="module")
def era5_source():
    with xr.open_dataset(ERA5) as src:
        yield src.load()


@pytest.fixture(scope="module")
def era5():
    return open_archive(ERA5, chunk_time=200)


def test_era5_shape_dtype_and_units(era5):
    assert era5["t2m"].dims == ("time", "sensor")
    assert era5["t2m"].shape == (744, 33 * 49)
    assert era5["t2m"].dtype == np.float32
    assert era5["t2m"].attrs["units"] == "K"
    assert list(era5.data_vars) == ["t2m"]


def test_era5_stays_lazy_in_time_chunks(era5):
    assert isinstance(era5["t2m"].data, dask.array.Array)
    assert era5["t2m"].data.chunks[0][0] == 200


def test_era5_coordinates_equal_the_source(era5, era5_source):
    np.testing.assert_array_equal(era5["time"].values, era5_source["time"].values)
    assert era5["sensor"].values[0] == "r000c000"
    assert era5["sensor"].values[-1] == "r032c048"
    np.testing.assert_array_equal(era5["lat"].values, era5_source["latitude"].values[era5["row"]])
    np.testing.assert_array_equal(era5["lon"].values, era5_source["longitude"].values[era5["col"]])
    assert era5["lat"].values[0] == 58.0  # row 0 is the northernmost row
    assert era5.attrs["grid_nrows"] == 33 and era5.attrs["grid_ncols"] == 49
    assert era5.attrs["grid_dlat"] == 0.25 and era5.attrs["grid_dlon"] == 0.25


def test_era5_row_col_map_back_onto_the_source_grid(era5, era5_source):
    grid = np.full((744, 33, 49), np.nan, dtype=np.float32)
    grid[:, era5["row"].values, era5["col"].values] = era5["t2m"].values
    np.testing.assert_array_equal(grid, era5_source["t2m"].values)


def test_era5_has_no_missing_values_and_drops_nothing(era5):
    assert int(era5["t2m"].isnull().sum()) == 0
    assert era5.attrs["n_dropped_all_nan"] == 0


@pytest.mark.parametrize("lat", [[40.0, 41.0, 42.0], [42.0, 41.0, 40.0]], ids=["asc", "desc"])
def test_latitude_order_gives_row_zero_in_the_north(grid_nc, lat):
    ds = open_archive(grid_nc(lat=lat, lon=[0.0, 1.0]))
    np.testing.assert_array_equal(ds["lat"].values, [42.0, 42.0, 41.0, 41.0, 40.0, 40.0])
    np.testing.assert_array_equal(ds["row"].values, [0, 0, 1, 1, 2, 2])
    expected = cell_values(6, ds["lat"].values, ds["lon"].values)
    np.testing.assert_allclose(ds["tas"].values, expected, rtol=1e-6)


@pytest.mark.parametrize(
    ("lon", "expected"),
    [
        ([0.0, 90.0, 180.0, 270.0], [-180.0, -90.0, 0.0, 90.0]),
        ([170.0, 180.0, 190.0, 200.0], [170.0, -180.0, -170.0, -160.0]),
        ([-10.0, 0.0, 10.0, 360.0 + 20.0], [-10.0, 0.0, 10.0, 20.0]),
    ],
    ids=["0-360", "across-antimeridian", "beyond-360"],
)
def test_longitudes_normalised_and_columns_run_eastward(grid_nc, lon, expected):
    ds = open_archive(grid_nc(lat=[5.0], lon=lon))
    np.testing.assert_array_equal(ds["lon"].values, expected)
    np.testing.assert_array_equal(ds["col"].values, np.arange(4))
    assert ds["lon"].min() >= -180 and ds["lon"].max() < 180
    source_lon = [next(x for x in lon if (x + 180) % 360 - 180 == e) for e in expected]
    np.testing.assert_allclose(ds["tas"].values, cell_values(6, [5.0] * 4, source_lon), rtol=1e-6)


@pytest.mark.parametrize("fmt", ["NETCDF3_CLASSIC", "NETCDF3_64BIT", "NETCDF4_CLASSIC", "NETCDF4"])
def test_netcdf3_and_netcdf4_files_are_read(grid_nc, fmt):
    ds = open_archive(grid_nc(fmt=fmt, lat=[1.0, 2.0], lon=[3.0, 4.0, 5.0]))
    assert ds["tas"].shape == (6, 6)
    assert ds["tas"].attrs["units"] == "K"


@pytest.mark.parametrize(
    "names", [("TIME", "LATITUDE", "LONGITUDE"), ("t", "y", "x"), ("Time", "Lat", "Lon")]
)
def test_usual_axis_names_found_case_insensitively(grid_nc, names):
    ds = make_grid(lat=[1.0, 2.0], lon=[3.0, 4.0], names=names)
    for name in names[1:]:
        ds[name].attrs = {}  # no CF attributes: names alone must do
    out = open_archive(grid_nc(ds=ds))
    assert out["tas"].shape == (6, 4)
    np.testing.assert_array_equal(out["lat"].values, [2.0, 2.0, 1.0, 1.0])


def _split_era5(tmp_path, era5_source, bounds):
    paths = []
    for k, (a, b) in enumerate(bounds):
        path = tmp_path / f"era5_part{k}.nc"
        era5_source.isel(time=slice(a, b)).to_netcdf(path)
        paths.append(path)
    return paths


def test_multi_file_glob_equals_the_single_file(tmp_path, era5, era5_source):
    _split_era5(tmp_path, era5_source, [(0, 300), (300, 500), (500, 744)])
    ds = open_archive(str(tmp_path / "era5_part*.nc"))
    assert ds["t2m"].shape == era5["t2m"].shape
    np.testing.assert_array_equal(ds["time"].values, era5["time"].values)
    np.testing.assert_array_equal(ds["t2m"].values, era5["t2m"].values)
    assert [s["name"] for s in _sources(ds)] == [f"era5_part{k}.nc" for k in range(3)]


def test_files_out_of_time_order_are_sorted_with_a_warning(tmp_path, era5_source, capsys):
    paths = _split_era5(tmp_path, era5_source, [(0, 48), (48, 96)])
    ds = open_archive(paths[::-1])
    assert pd.DatetimeIndex(ds["time"].values).is_monotonic_increasing
    np.testing.assert_array_equal(ds["t2m"].values[:, 0], era5_source["t2m"].values[:96, 0, 0])
    assert "not in increasing order" in oneline(capsys.readouterr().err)


def test_overlapping_files_are_duplicate_timestamps(tmp_path, era5_source):
    paths = _split_era5(tmp_path, era5_source, [(0, 48), (47, 96)])
    with pytest.raises(InputError, match="duplicate timestamp 2019-03-02T23:00:00"):
        open_archive(paths)


def _sources(ds):
    return json.loads(ds.attrs["sources"])


def test_cells_nan_at_every_step_are_dropped_and_counted(grid_nc):
    ds = make_grid(lat=[1.0, 2.0], lon=[3.0, 4.0, 5.0])
    ds["tas"][:, 0, 0] = np.nan  # lat 1 is row 1: sensor r001c000 is all NaN
    ds["tas"][:, 1, 2] = np.nan  # r000c002 all NaN
    ds["tas"][2, 1, 1] = np.nan  # r000c001 has one gap, which must stay NaN
    out = open_archive(grid_nc(ds=ds))
    assert out.attrs["n_dropped_all_nan"] == 2
    assert list(out["sensor"].values) == ["r000c000", "r000c001", "r001c001", "r001c002"]
    mask = out["tas"].isnull().values
    assert mask.sum() == 1 and mask[2, 1]


def test_several_variables_become_channels(grid_nc):
    out = open_archive(grid_nc(variables=("u", "v", "w"), lat=[1.0], lon=[2.0]), ["u", "v"])
    assert list(out.data_vars) == ["u", "v"]
    np.testing.assert_allclose(out["v"].values - out["u"].values, 1.0)


def test_several_variables_without_var_is_a_usage_error(grid_nc):
    with pytest.raises(UsageError, match="--var"):
        open_archive(grid_nc(variables=("u", "v"), lat=[1.0], lon=[2.0]))


def test_extra_length_one_dimension_is_squeezed(grid_nc):
    ds = make_grid(lat=[1.0, 2.0], lon=[3.0]).expand_dims(level=[850.0], axis=1)
    out = open_archive(grid_nc(ds=ds))
    assert out["tas"].dims == ("time", "sensor") and out["tas"].shape == (6, 2)


@pytest.mark.parametrize("bad", [np.inf, -np.inf, 1e39])
def test_non_finite_values_are_refused_naming_sensor_and_time(grid_nc, bad):
    ds = make_grid(lat=[1.0, 2.0], lon=[3.0, 4.0])
    values = ds["tas"].values.astype(np.float64)
    values[4, 1, 0] = bad  # time 04:00, northern row (lat 2), western column
    ds["tas"] = (ds["tas"].dims, values, ds["tas"].attrs)
    with pytest.raises(InputError) as info:
        open_archive(grid_nc(ds=ds))
    message = oneline(str(info.value))
    assert "sensor 'r000c000'" in message and "2020-01-01t04:00:00" in message
    assert "not finite" in message


def test_a_truncated_netcdf3_file_is_called_truncated(grid_nc):
    path = grid_nc(fmt="NETCDF3_64BIT", lat=[1.0, 2.0], lon=[3.0, 4.0, 5.0], n_time=200)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(InputError, match="truncated"):
        open_archive(path)


def test_an_irregular_time_axis_is_refused_unless_resampled(grid_nc):
    ds = make_grid(lat=[1.0], lon=[3.0], n_time=6)
    ds = ds.isel(time=[0, 1, 2, 4, 5])  # a hole at 03:00
    path = grid_nc(ds=ds)
    with pytest.raises(InputError, match="--resample 1h"):
        open_archive(path)
    regular = open_archive(path, resample="1h")
    assert regular.sizes["time"] == 6
    assert np.isnan(regular["tas"].values[3]).all() and not np.isnan(regular["tas"].values[4]).any()
    assert regular["tas"].attrs["units"] == "K" and regular["tas"].dtype == np.float32
