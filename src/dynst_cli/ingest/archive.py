"""The ingest entry points: any archive in, the canonical dataset out."""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from pathlib import Path

import pandas as pd
import xarray as xr

from dynst_cli.errors import UsageError
from dynst_cli.ingest.csv_tables import open_csv
from dynst_cli.ingest.netcdf import open_netcdf
from dynst_cli.ingest.paths import resolve_paths, split_kinds
from dynst_cli.ingest.schema import DEFAULT_CHUNK_TIME, drop_all_nan_sensors, source_attrs
from dynst_cli.ingest.summary import summarize
from dynst_cli.ingest.timeaxis import check_regular, fixed_frequency
from dynst_cli.ingest.timeaxis import resample as resample_time
from dynst_cli.ingest.writer import write_dataset

PathArg = str | os.PathLike


def open_archive(
    paths: PathArg | Iterable[PathArg],
    variables: Sequence[str] | None = None,
    sensors: PathArg | None = None,
    time_col: str | None = None,
    units: str | None = None,
    chunk_time: int = DEFAULT_CHUNK_TIME,
    resample: str | None = None,
) -> xr.Dataset:
    """Open an archive as the canonical dataset, lazily (dask, chunked along time).

    Parameters
    ----------
    paths : path, glob pattern, or iterable of them
        NetCDF files (concatenated along time) or CSV files (suffix ``.csv``), not both.
    variables : sequence of str, optional
        NetCDF: the gridded variables to ingest, each a channel (needed when there are several).
        Wide CSV: the name of its one variable. Long CSV: the value columns to keep.
    sensors : path, optional
        Sensor table (id, latitude, longitude, optional cost) for CSV archives.
    time_col : str, optional
        Time column of a CSV archive when it is not found by name or content.
    units : str, optional
        Units of CSV values (NetCDF units come from the file).
    chunk_time : int
        Time steps per chunk.
    resample : str, optional
        Fixed step such as ``1h``: put the archive on a regular time axis of this step first
        (xarray's ``resample(time=...).mean()``; empty intervals stay NaN). Without it an
        irregular time axis is refused.

    Returns
    -------
    xr.Dataset
        Canonical dataset: data variables ``(time, sensor)`` float32, coords ``time``, ``sensor``,
        ``lat``, ``lon`` (degrees, lon in [-180, 180)), optional ``cost``, ``row``/``col`` for
        grids; sensors NaN at every step dropped (count in attribute ``n_dropped_all_nan``).

    Raises
    ------
    UsageError
        Missing paths, mixed kinds, options that do not apply.
    InputError
        Unreadable or malformed content, non-finite values, an irregular time axis (without
        ``resample``); the message names the file and the place.
    """
    if chunk_time < 1:
        raise UsageError(f"--chunk-time must be at least 1, not {chunk_time}")
    if resample is not None:
        fixed_frequency(resample)
    files = resolve_paths(paths)
    nc_paths, csv_paths = split_kinds(files)
    table = resolve_paths([sensors])[0] if sensors is not None else None
    if nc_paths:
        _reject_csv_options(table, time_col)
        ds = open_netcdf(nc_paths, variables, chunk_time)
    else:
        ds = open_csv(csv_paths, table, variables, time_col, units, chunk_time)
    source = ", ".join(str(p) for p in files)
    if resample is not None:
        ds = resample_time(ds, resample, chunk_time)
    check_regular(pd.DatetimeIndex(ds["time"].values), source)
    ds = drop_all_nan_sensors(ds, source)
    ds.attrs.update(source_attrs(files + ([table] if table else [])))
    return ds


def _reject_csv_options(table: Path | None, time_col: str | None) -> None:
    if table is not None:
        raise UsageError(
            "--sensors applies to CSV archives; grid cells take their coordinates from the NetCDF"
        )
    if time_col is not None:
        raise UsageError("--time-col applies to CSV archives; NetCDF time axes are found by CF")


def ingest_paths(
    paths: PathArg | Iterable[PathArg], output: PathArg | None = None, **options
) -> tuple[xr.Dataset, dict]:
    """Open an archive, write it to ``output`` when given, and summarise it.

    ``options`` are those of :func:`open_archive`. Returns ``(dataset, summary)``; the dataset is
    the written file reopened lazily when ``output`` is given.
    """
    ds = open_archive(paths, **options)
    if output is not None:
        write_dataset(ds, output, chunk_time=options.get("chunk_time", DEFAULT_CHUNK_TIME))
        ds = xr.open_dataset(output, chunks={})
    return ds, summarize(ds)
