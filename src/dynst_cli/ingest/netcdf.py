"""Gridded NetCDF archives (one file or many, netCDF3 or netCDF4) read lazily into sensors.

Every grid cell becomes a sensor with id ``r{row:03d}c{col:03d}``: row 0 is the northernmost
latitude row and col 0 the westernmost longitude column, so a plan maps back onto the grid through
the per-sensor coords ``row`` and ``col`` and the attributes ``grid_nrows``, ``grid_ncols``,
``grid_dlat``, ``grid_dlon`` (degrees, positive). Values stay dask arrays chunked along time.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

from dynst_cli.errors import InputError, UsageError
from dynst_cli.ingest import coords
from dynst_cli.ingest.schema import UNKNOWN_UNITS, canonical_dataset, check_latitudes, time_order
from dynst_cli.ingest.tables import preview


@dataclass(frozen=True)
class Axes:
    """Names of the time, latitude and longitude variables (and dims) of a file."""

    time: str
    lat: str
    lon: str


def open_netcdf(
    paths: Sequence[Path], variables: Sequence[str] | None = None, chunk_time: int = 256
) -> xr.Dataset:
    """Open NetCDF files lazily, concatenate them along time and turn grid cells into sensors.

    Parameters
    ----------
    paths : sequence of Path
        Files sharing one grid and variables, in any time order.
    variables : sequence of str, optional
        Variables ``(time, lat, lon)`` to ingest, each becoming a channel; needed when a file has
        more than one such variable.
    chunk_time : int
        Time steps per dask chunk; memory use is bounded by one chunk of the whole grid.

    Returns
    -------
    xr.Dataset
        Canonical dataset, dims ``(time, sensor)`` with ``n_sensor = n_lat * n_lon`` (all-NaN
        cells are dropped later by the caller), values in the source units.
    """
    source = ", ".join(p.name for p in paths)
    opened = [_open(p) for p in paths]
    axes = _axes(opened[0], paths[0])
    names = select_variables(opened[0], axes, variables, paths[0])
    # Each file becomes dask chunks before the concatenation: concatenating the lazily indexed
    # backend arrays themselves would read every file into memory.
    parts = [
        _subset(ds, axes, names, path).chunk({axes.time: chunk_time})
        for ds, path in zip(opened, paths, strict=True)
    ]
    grid = _concat(parts, axes, source).chunk({axes.time: chunk_time, axes.lat: -1, axes.lon: -1})
    time = pd.DatetimeIndex(grid[axes.time].values)
    order = time_order(time, source)
    if order is not None:
        grid, time = grid.isel({axes.time: order}), time[order]
    return _cells_to_sensors(grid, axes, names, time, source)


def _open(path: Path) -> xr.Dataset:
    try:
        ds = xr.open_dataset(path, engine="netcdf4", chunks=None, cache=False)
    except Exception as exc:  # netCDF4/HDF5 raise OSError, RuntimeError, ValueError, ...
        raise InputError(
            f"{path}: cannot be read as NetCDF ({type(exc).__name__}: {exc}); "
            "give NetCDF files, or CSV files with a .csv suffix"
        ) from None
    check_classic_complete(path)
    return ds


CLASSIC_MAGIC = (b"CDF\x01", b"CDF\x02")  # netCDF3 classic and 64-bit offset formats


def check_classic_complete(path: Path) -> None:
    """Refuse a netCDF3 file whose data end before its header says they do (a cut-short copy).

    The netCDF library reads the missing part of a truncated classic file as fill values
    without a word; scipy's reader maps the file and checks every variable against its size.
    """
    with open(path, "rb") as fh:
        if fh.read(4) not in CLASSIC_MAGIC:
            return
    from scipy.io import netcdf_file

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            nc = netcdf_file(path, "r", mmap=True)
            nc.variables.clear()
            nc.close()
    except Exception as exc:
        raise InputError(
            f"{path}: the netCDF3 file is truncated or damaged ({type(exc).__name__}: {exc}); "
            "copy it again from its source"
        ) from None


def _axes(ds: xr.Dataset, path: Path) -> Axes:
    found = {kind: coords.find_axis(ds, kind) for kind in ("time", "latitude", "longitude")}
    for kind, name in found.items():
        if name is None:
            raise InputError(
                f"{path}: no {kind} axis found (looked for CF attributes and the names "
                f"{', '.join(_usual(kind))}); variables are {preview(list(ds.variables))}"
            )
    axes = Axes(found["time"], found["latitude"], found["longitude"])
    if not np.issubdtype(ds[axes.time].dtype, np.datetime64):
        raise InputError(
            f"{path}: the time axis '{axes.time}' does not hold dates: it needs a units attribute "
            "such as 'hours since 2019-01-01' and a standard calendar"
        )
    for name in (axes.time, axes.lat, axes.lon):
        if ds[name].dims != (name,):
            raise InputError(f"{path}: '{name}' must be a one-dimensional coordinate of its own")
    return axes


def _usual(kind: str) -> tuple[str, ...]:
    return {"time": coords.TIME_NAMES, "latitude": coords.LAT_NAMES}.get(kind, coords.LON_NAMES)


def select_variables(
    ds: xr.Dataset, axes: Axes, requested: Sequence[str] | None, path: Path
) -> list[str]:
    """Names of the data variables to ingest: ``requested``, or the only gridded one.

    Raises
    ------
    InputError
        A requested variable does not exist or lacks the time/lat/lon dims (the valid ones are
        listed), or no variable has them.
    UsageError
        Several variables are gridded and none was chosen with --var.
    """
    gridded = [
        str(n) for n, v in ds.data_vars.items() if {axes.time, axes.lat, axes.lon} <= set(v.dims)
    ]
    if requested:
        absent = [v for v in requested if v not in gridded]
        if absent:
            raise InputError(
                f"{path}: no variable {preview(absent)} with dims ({axes.time}, {axes.lat}, "
                f"{axes.lon}); the ones there are: {preview(gridded) or 'none'}"
            )
        return list(dict.fromkeys(requested))
    if not gridded:
        raise InputError(
            f"{path}: no data variable has the dims ({axes.time}, {axes.lat}, {axes.lon})"
        )
    if len(gridded) > 1:
        raise UsageError(
            f"{path} holds several gridded variables ({preview(gridded)}): choose with --var "
            "(repeat it to ingest several as channels)"
        )
    return gridded


def _subset(ds: xr.Dataset, axes: Axes, names: list[str], path: Path) -> xr.Dataset:
    """The chosen variables of one file with extra length-1 dims (level, ensemble) squeezed."""
    if _axes(ds, path) != axes:
        raise InputError(f"{path}: its time/latitude/longitude names differ from the first file")
    absent = [n for n in names if n not in ds.data_vars]
    if absent:
        raise InputError(f"{path}: no variable {preview(absent)}, unlike the first file")
    sub = ds[names]
    for dim in set(sub.dims) - {axes.time, axes.lat, axes.lon}:
        if sub.sizes[dim] != 1:
            raise InputError(
                f"{path}: dimension '{dim}' has {sub.sizes[dim]} entries; only variables of "
                f"dims ({axes.time}, {axes.lat}, {axes.lon}) can be ingested"
            )
        sub = sub.squeeze(dim, drop=True)
    return sub.drop_vars([c for c in sub.coords if c not in (axes.time, axes.lat, axes.lon)])


def _concat(parts: list[xr.Dataset], axes: Axes, source: str) -> xr.Dataset:
    if len(parts) == 1:
        return parts[0]
    try:
        return xr.concat(
            parts, dim=axes.time, data_vars="all", coords="minimal", join="exact", compat="override"
        )
    except ValueError as exc:
        raise InputError(f"{source}: the files do not share one grid ({exc})") from None


def _cells_to_sensors(
    grid: xr.Dataset, axes: Axes, names: list[str], time: pd.DatetimeIndex, source: str
) -> xr.Dataset:
    """Reorder the grid north-to-south and west-to-east, then flatten ``(lat, lon)`` to sensors."""
    rows = coords.row_order(grid[axes.lat].values)
    cols = coords.column_order(grid[axes.lon].values)
    grid = grid.isel({axes.lat: rows, axes.lon: cols})
    lat = grid[axes.lat].values.astype(np.float64)
    lon = coords.normalize_lon(grid[axes.lon].values)
    nrows, ncols = lat.size, lon.size
    row, col = np.divmod(np.arange(nrows * ncols), ncols)
    ids = [f"r{r:03d}c{c:03d}" for r, c in zip(row, col, strict=True)]
    check_latitudes(lat[row], ids, source)
    data = {
        n: grid[n].transpose(axes.time, axes.lat, axes.lon).data.reshape(time.size, -1)
        for n in names
    }
    units = {n: str(grid[n].attrs.get("units", UNKNOWN_UNITS)) for n in names}
    ds = canonical_dataset(data, units, time, ids, lat[row], lon[col], {"row": row, "col": col})
    for n in names:
        if "long_name" in grid[n].attrs:
            ds[n].attrs["long_name"] = str(grid[n].attrs["long_name"])
    ds.attrs.update(
        grid_nrows=nrows,
        grid_ncols=ncols,
        grid_dlat=coords.grid_step(lat),
        grid_dlon=coords.grid_step(lon),
    )
    return ds
