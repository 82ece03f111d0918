"""Fixtures for the ingest tests: the CLI in-process, small synthetic grids and CSVs."""

from __future__ import annotations

from pathlib import Path

import pytest
import xarray as xr
from ingest_helpers import CliResult, make_grid

from dynst_cli.cli import main


@pytest.fixture
def run_cli(capsys):
    """Run `dynst` in-process with the given arguments; returns code, stdout and stderr."""

    def run(*args) -> CliResult:
        code = main([str(a) for a in args])
        out, err = capsys.readouterr()
        return CliResult(code, out, err)

    return run


@pytest.fixture
def grid_nc(tmp_path):
    """Write `make_grid(...)` to a NetCDF file in tmp_path; `fmt` picks the NetCDF format."""

    def write(name: str = "grid.nc", fmt: str = "NETCDF4", ds: xr.Dataset | None = None, **kw):
        ds = make_grid(**kw) if ds is None else ds
        path = tmp_path / name
        ds.to_netcdf(path, format=fmt, engine="netcdf4")
        return path

    return write


@pytest.fixture
def write_text(tmp_path):
    """Write a text file (e.g. a small CSV) in tmp_path and return its path."""

    def write(name: str, text: str) -> Path:
        path = tmp_path / name
        path.write_text(text)
        return path

    return write


@pytest.fixture
def small_wide(write_text):
    """A wide CSV of 3 sensors x 4 hours with one gap, and its sensor table."""
    data = write_text(
        "speed.csv",
        "time,s1,s2,s3\n"
        "2020-01-01 00:00,1.0,2.0,3.0\n"
        "2020-01-01 01:00,1.5,,3.5\n"
        "2020-01-01 02:00,2.0,2.5,4.0\n"
        "2020-01-01 03:00,2.5,3.0,4.5\n",
    )
    table = write_text(
        "sensors.csv", "sensor_id,lat,lon,cost,note\ns1,10,20,1.5,a\ns2,11,21,2,b\ns3,12,22,0,c\n"
    )
    return data, table
