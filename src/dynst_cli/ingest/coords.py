"""Find the time, latitude and longitude axes of a NetCDF file, and put them in canonical order.

An axis is recognised by its CF attributes first (``standard_name``, ``axis``, ``units`` such as
``degrees_north``; CF conventions 1.8, sections 4.1-4.4), then by the usual names, compared
case-insensitively. Canonical order: latitude rows from north to south (row 0 is the northernmost
row), longitude columns from west to east with values in [-180, 180).
"""

from __future__ import annotations

import numpy as np
import xarray as xr

TIME_NAMES = ("time", "t", "times", "valid_time", "date", "datetime")
LAT_NAMES = ("lat", "latitude", "y", "nav_lat")
LON_NAMES = ("lon", "longitude", "x", "long", "nav_lon")

LAT_UNITS = ("degrees_north", "degree_north", "degree_n", "degrees_n", "degreen", "degreesn")
LON_UNITS = ("degrees_east", "degree_east", "degree_e", "degrees_e", "degreee", "degreese")

_RULES = {
    "time": {"standard_name": ("time",), "axis": "T", "units": (), "names": TIME_NAMES},
    "latitude": {
        "standard_name": ("latitude",),
        "axis": "Y",
        "units": LAT_UNITS,
        "names": LAT_NAMES,
    },
    "longitude": {
        "standard_name": ("longitude",),
        "axis": "X",
        "units": LON_UNITS,
        "names": LON_NAMES,
    },
}


def _candidates(ds: xr.Dataset) -> list[str]:
    """One-dimensional variables that can serve as an axis: dimension coordinates first."""
    names = [str(n) for n in ds.dims if n in ds.variables]
    names += [str(n) for n in ds.coords if n not in names and ds[n].ndim == 1]
    return names


def _matches_attrs(var: xr.Variable, kind: str) -> bool:
    rule = _RULES[kind]
    attrs = {k: str(v).strip().lower() for k, v in var.attrs.items()}
    if attrs.get("standard_name") in rule["standard_name"]:
        return True
    if attrs.get("axis", "").upper() == rule["axis"]:
        return True
    units = attrs.get("units", var.encoding.get("units", ""))
    units = str(units).strip().lower()
    if kind == "time":
        return " since " in units or np.issubdtype(var.dtype, np.datetime64)
    return units in rule["units"]


def find_axis(ds: xr.Dataset, kind: str) -> str | None:
    """Name of the variable holding the ``kind`` axis ('time', 'latitude' or 'longitude').

    Parameters
    ----------
    ds : xr.Dataset
        An opened (lazy) NetCDF file.
    kind : {'time', 'latitude', 'longitude'}

    Returns
    -------
    str or None
        The one-dimensional variable recognised by CF attributes, else by a usual name
        (case-insensitive); None when there is none.
    """
    candidates = _candidates(ds)
    for name in candidates:
        if _matches_attrs(ds.variables[name], kind):
            return name
    lowered = {name.lower(): name for name in candidates}
    for usual in _RULES[kind]["names"]:
        if usual in lowered:
            return lowered[usual]
    return None


def normalize_lon(lon: np.ndarray) -> np.ndarray:
    """Longitudes in degrees east mapped to [-180, 180); shape kept, float64."""
    lon = np.asarray(lon, dtype=np.float64)
    return (lon + 180.0) % 360.0 - 180.0


def row_order(lat: np.ndarray) -> np.ndarray:
    """Indices sorting latitudes north to south, shape ``(n_lat,)``: row 0 is the northernmost."""
    return np.argsort(-np.asarray(lat, dtype=np.float64), kind="stable")


def column_order(lon: np.ndarray) -> np.ndarray:
    """Indices that order grid columns from west to east, shape ``(n_lon,)``.

    Columns are sorted by their longitude in [-180, 180). A regional grid that crosses the
    antimeridian (e.g. 170..190 degrees east) would then be split in two; it is rolled so that it
    runs eastward without a gap (170..179.75, -180..-170).
    """
    lon = normalize_lon(lon)
    order = np.argsort(lon, kind="stable")
    if lon.size < 3:
        return order
    sorted_lon = lon[order]
    gaps = np.diff(np.append(sorted_lon, sorted_lon[0] + 360.0))
    widest = int(np.argmax(gaps))
    if gaps[widest] > 1.5 * np.median(gaps) and widest != lon.size - 1:
        order = np.roll(order, -(widest + 1))
    return order


def grid_step(values: np.ndarray) -> float:
    """Typical grid spacing in degrees (positive): the median absolute step, 0 for one value."""
    values = np.asarray(values, dtype=np.float64)
    if values.size < 2:
        return 0.0
    steps = np.abs(np.diff(values))
    steps = np.minimum(steps, 360.0 - steps)  # across the antimeridian
    return float(np.median(steps))
