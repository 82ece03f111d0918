"""`dynst ingest` end to end, in-process: outputs, the summary, exit codes and error messages."""

from __future__ import annotations

import contextlib
import io
import json

import numpy as np
import pytest
import xarray as xr
from ingest_helpers import ERA5, METR, METR_SENSORS, make_grid

from dynst_cli.atomic import sha256_file
from dynst_cli.cli import main

WIDE = "time,s1,s2\n2020-01-01 00:00,1,2\n2020-01-01 01:00,3,4\n"
TABLE = "id,lat,lon\ns1,10,20\ns2,11,21\n"


@pytest.fixture(scope="module")
def era5_out(tmp_path_factory):
    """ERA5 ingested once through the CLI with --json: (output path, parsed stdout, stderr)."""
    out = tmp_path_factory.mktemp("era5") / "era5.nc"
    stdout, stderr = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
        code = main(["ingest", str(ERA5), "-o", str(out), "--chunk-time", "100", "--json"])
    assert code == 0, stderr.getvalue()
    return out, stdout.getvalue(), stderr.getvalue()


def test_json_summary_is_exactly_one_object_on_stdout(era5_out):
    out, stdout, stderr = era5_out
    summary = json.loads(stdout)  # fails on any extra text
    assert summary["output"] == str(out)
    assert (summary["n_sensors"], summary["n_time"]) == (1617, 744)
    assert summary["time_step"] == "1h" and summary["regular"] is True
    assert summary["missing_percent"] == 0.0 and summary["worst_sensors"] == []
    assert summary["variables"] == [{"name": "t2m", "units": "K"}]
    assert summary["grid"] == {"nrows": 33, "ncols": 49, "dlat": 0.25, "dlon": 0.25}
    assert "writing" in stderr  # logs go to stderr


def test_written_file_follows_the_canonical_schema(era5_out):
    out, _, _ = era5_out
    with xr.open_dataset(out) as ds:
        assert ds["t2m"].dims == ("time", "sensor") and ds["t2m"].dtype == np.float32
        assert np.issubdtype(ds["time"].dtype, np.datetime64)
        assert (np.diff(ds["time"].values) > np.timedelta64(0)).all()
        assert ds["lat"].dtype == np.float64 and ds["lon"].dtype == np.float64
        assert ds["sensor"].to_index().is_unique and ds["sensor"].values[0] == "r000c000"
        assert ds["t2m"].encoding["chunksizes"] == (100, 1617)
        assert ds.attrs["n_dropped_all_nan"] == 0 and ds.attrs["dynst_version"]
        assert json.loads(ds.attrs["sources"]) == [{"name": ERA5.name, "sha256": sha256_file(ERA5)}]
        with xr.open_dataset(ERA5) as src:
            grid = src["t2m"].values[:, ds["row"].values, ds["col"].values]
            np.testing.assert_array_equal(ds["t2m"].values, grid)


def test_table_summary_and_no_leftover_files(run_cli, tmp_path):
    out = tmp_path / "metr.nc"
    args = [METR, "--sensors", METR_SENSORS, "--var", "speed", "--units", "mph", "-o", out]
    result = run_cli("ingest", *args)
    assert result.code == 0, result.err
    assert "207" in result.out and "speed [mph]" in result.out and "5min" in result.out
    assert [p.name for p in tmp_path.iterdir()] == ["metr.nc"]
    with xr.open_dataset(out) as ds:
        assert ds["speed"].shape == (2016, 207) and ds["speed"].attrs["units"] == "mph"


def test_quoted_glob_is_expanded(run_cli, tmp_path):
    for k in range(2):
        make_grid(lat=[1.0, 2.0], lon=[3.0], start=f"2020-01-01 0{6 * k}:00").to_netcdf(
            tmp_path / f"part{k}.nc"
        )
    result = run_cli("ingest", str(tmp_path / "part*.nc"), "-o", tmp_path / "out.nc", "--json")
    assert result.code == 0, result.err
    assert json.loads(result.out)["n_time"] == 12


def _nc(tmp_path, ds, name="grid.nc"):
    ds.to_netcdf(tmp_path / name)
    return [tmp_path / name]


def _csv(tmp_path, text, name="data.csv", table=TABLE):
    (tmp_path / name).write_text(text)
    (tmp_path / "table.csv").write_text(table)
    return [tmp_path / name, "--sensors", tmp_path / "table.csv"]


def _no_time(tmp_path):
    ds = make_grid(lat=[1.0], lon=[2.0])
    return _nc(tmp_path, ds.assign_coords(time=np.arange(6)).rename(time="step"))


def _duplicate_time(tmp_path):
    ds = make_grid(lat=[1.0], lon=[2.0])
    ds = ds.assign_coords(time=np.repeat(ds["time"].values[:3], 2))
    return _nc(tmp_path, ds)


def _garbage_nc(tmp_path):
    (tmp_path / "fake.nc").write_text("this is not a netcdf file\n")
    return [tmp_path / "fake.nc"]


def _binary(tmp_path):
    (tmp_path / "data.csv").write_bytes(b"\xff\xfe\x00\x81binary\n\x00\x9f\n")
    return [tmp_path / "data.csv"]


def _empty(tmp_path, name):
    (tmp_path / name).write_bytes(b"")
    return [tmp_path / name, "--sensors", METR_SENSORS]


# name: (build the arguments (without -o) in tmp_path, exit code, words the message must hold)
BAD_INPUTS = {
    "empty-csv": (lambda p: _empty(p, "data.csv"), 3, ["data.csv", "empty"]),
    "empty-netcdf": (lambda p: _empty(p, "data.nc"), 3, ["data.nc", "empty"]),
    "header-only": (lambda p: _csv(p, "time,s1,s2\n"), 3, ["data.csv", "header", "no data"]),
    "text-for-number": (
        lambda p: _csv(p, WIDE + "2020-01-01 02:00,5,oops\n"),
        3,
        ["data.csv", "line 4", "column 's2'", "'oops' is not a number"],
    ),
    "text-for-date": (
        lambda p: _csv(p, WIDE + "soon,5,6\n"),
        3,
        ["data.csv", "line 4", "column 'time'", "not a date"],
    ),
    "sensor-missing-from-table": (
        lambda p: _csv(p, "time,s1,s2,s9,s8\n2020-01-01,1,2,3,4\n"),
        3,
        ["table.csv", "missing from the sensor table", "'s9', 's8'"],
    ),
    "duplicate-id-in-table": (
        lambda p: _csv(p, WIDE, table=TABLE + "s1,12,22\n"),
        3,
        ["table.csv", "duplicate sensor ids 's1'"],
    ),
    "duplicate-id-in-header": (
        lambda p: _csv(p, "time,s1,s1\n2020-01-01,1,2\n"),
        3,
        ["data.csv", "duplicate", "'s1'"],
    ),
    "latitude-out-of-range": (
        lambda p: _csv(p, WIDE, table="id,lat,lon\ns1,95,20\ns2,11,21\n"),
        3,
        ["table.csv", "sensor 's1'", "latitude 95", "[-90, 90]"],
    ),
    "text-for-latitude": (
        lambda p: _csv(p, WIDE, table="id,lat,lon\ns1,10,20\ns2,north,21\n"),
        3,
        ["table.csv", "line 3", "column 'lat'", "'north' is not a number"],
    ),
    "binary-csv": (
        _binary,
        3,
        ["data.csv", "not a readable csv"],
    ),
    "long-csv-repeated-pair": (
        lambda p: _csv(p, "time,sensor_id,value\n2020-01-01,s1,1\n2020-01-01,s1,2\n"),
        3,
        ["data.csv", "duplicate timestamp 2020-01-01t00:00:00", "'s1'"],
    ),
    "every-value-missing": (
        lambda p: _csv(p, "time,s1,s2\n2020-01-01,,\n2020-01-02,NaN,NA\n"),
        3,
        ["data.csv", "every sensor is nan"],
    ),
    "netcdf-without-time": (_no_time, 3, ["grid.nc", "no time axis"]),
    "var-does-not-exist": (
        lambda p: [*_nc(p, make_grid(lat=[1.0], lon=[2.0])), "--var", "nope"],
        3,
        ["grid.nc", "'nope'", "'tas'"],
    ),
    "duplicate-timestamps": (
        _duplicate_time,
        3,
        ["grid.nc", "duplicate timestamp 2020-01-01t00:00:00"],
    ),
    "duplicate-timestamps-csv": (
        lambda p: _csv(p, WIDE + "2020-01-01 01:00,5,6\n"),
        3,
        ["data.csv", "duplicate timestamp 2020-01-01t01:00:00"],
    ),
    "not-netcdf": (_garbage_nc, 3, ["fake.nc", "cannot be read as netcdf"]),
    "missing-path": (lambda p: [p / "absent.nc"], 2, ["absent.nc", "not found"]),
    "glob-matches-nothing": (lambda p: [str(p / "none_*.nc")], 2, ["none_*.nc", "no file matches"]),
    "chunk-time-zero": (lambda p: [ERA5, "--chunk-time", "0"], 2, ["--chunk-time"]),
    "wide-csv-without-table": (lambda p: _csv(p, WIDE)[:1], 2, ["data.csv", "--sensors"]),
    "several-variables-without-var": (
        lambda p: _nc(p, make_grid(lat=[1.0], lon=[2.0], variables=("u", "v"))),
        2,
        ["grid.nc", "'u', 'v'", "--var"],
    ),
    "sensors-with-netcdf": (
        lambda p: [ERA5, "--sensors", METR_SENSORS],
        2,
        ["--sensors", "csv"],
    ),
}


@pytest.mark.parametrize("case", list(BAD_INPUTS))
def test_bad_input_exit_code_message_and_no_output(run_cli, tmp_path, case):
    build, code, words = BAD_INPUTS[case]
    args = build(tmp_path)
    out = tmp_path / "out" / "dataset.nc"
    result = run_cli("ingest", *args, "-o", out)
    assert result.code == code, result.err
    for word in words:
        assert word.lower() in result.message
    assert "traceback" not in result.message
    assert result.out == ""
    assert not out.exists()
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())


@pytest.mark.parametrize("case", ["text-for-number", "not-netcdf"])
def test_existing_output_is_untouched_on_error(run_cli, tmp_path, case):
    build, code, _ = BAD_INPUTS[case]
    out = tmp_path / "dataset.nc"
    out.write_bytes(b"previous dataset")
    assert run_cli("ingest", *build(tmp_path), "-o", out).code == code
    assert out.read_bytes() == b"previous dataset"
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []


def test_unknown_flag_is_a_usage_error(run_cli, tmp_path):
    result = run_cli("ingest", ERA5, "--colour", "-o", tmp_path / "out.nc")
    assert result.code == 2 and "no such option" in result.message
    assert not (tmp_path / "out.nc").exists()


def test_failure_while_writing_leaves_nothing(run_cli, tmp_path, monkeypatch):
    def broken(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(xr.Dataset, "to_netcdf", broken)
    out = tmp_path / "dataset.nc"
    out.write_bytes(b"previous dataset")
    result = run_cli("ingest", ERA5, "-o", out)
    assert result.code == 1 and "disk full" in result.message
    assert out.read_bytes() == b"previous dataset"
    assert [p.name for p in tmp_path.iterdir()] == ["dataset.nc"]


def test_output_equal_to_an_input_is_a_usage_error(run_cli, tmp_path):
    data = _csv(tmp_path, WIDE)
    before = data[0].read_bytes()
    result = run_cli("ingest", *data, "-o", data[0])
    assert result.code == 2 and "one of the inputs" in result.message
    assert data[0].read_bytes() == before


def test_help_shows_an_example(run_cli):
    result = run_cli("ingest", "--help")
    assert result.code == 0
    assert "dynst ingest 'era5_*.nc' -o dataset.nc" in " ".join(result.out.split())


def test_wide_csv_without_var_or_units_says_how_to_name_both(run_cli, small_wide, tmp_path):
    data, table = small_wide
    result = run_cli("ingest", data, "--sensors", table, "-o", tmp_path / "d.nc")
    assert result.code == 0
    assert "named 'value'" in result.err and "--var" in result.err
    assert "units of 'value' are unknown" in result.err and "--units" in result.err
    named = run_cli(
        "ingest", data, "--sensors", table, "--var", "speed", "--units", "mph",
        "-o", tmp_path / "e.nc",
    )  # fmt: skip
    assert named.code == 0 and "note:" not in named.err
