"""The canonical dataset every later stage reads, and the checks that guard it.

Layout (see docs/ARCHITECTURE.md): data variables of dims ``(time, sensor)``, float32, NaN where
nothing was measured; coords ``time`` (datetime64, strictly increasing), ``sensor`` (unique string
ids), ``lat`` and ``lon`` (float64 WGS84 degrees, lon in [-180, 180)), optional ``cost`` (float64)
and, for grids, ``row`` and ``col`` (int); attributes ``sources`` (JSON list of
``{name, sha256}``), ``dynst_version``, ``n_dropped_all_nan``; every variable has ``units``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path

import dask
import dask.array as da
import numpy as np
import pandas as pd
import xarray as xr

from dynst_cli import __version__
from dynst_cli.atomic import sha256_file
from dynst_cli.console import log
from dynst_cli.errors import InputError
from dynst_cli.ingest.coords import normalize_lon
from dynst_cli.ingest.defaults import DEFAULT_CHUNK_TIME  # noqa: F401  (part of the layout)

UNKNOWN_UNITS = "unknown"


def time_order(time: pd.DatetimeIndex, source: str) -> np.ndarray | None:
    """Check timestamps; return the sorting indices when they are out of order, else None.

    Parameters
    ----------
    time : pd.DatetimeIndex
        Timestamps as read, shape ``(n_time,)``.
    source : str
        File name(s) quoted in messages.

    Raises
    ------
    InputError
        A timestamp is missing (NaT) or occurs twice (the first duplicate is named).
    """
    if time.hasnans:
        raise InputError(f"{source}: a timestamp is missing (row {int(np.argmax(time.isna()))})")
    duplicated = time.duplicated()
    if duplicated.any():
        first = time[np.argmax(duplicated)]
        raise InputError(
            f"{source}: duplicate timestamp {first.isoformat()} "
            f"({int(duplicated.sum())} duplicated in all); each time step must occur once"
        )
    if time.is_monotonic_increasing:
        return None
    log(f"warning: {source}: timestamps are not in increasing order; sorting them")
    return np.argsort(time.values, kind="stable")


def check_latitudes(lat: np.ndarray, ids: Sequence[str], source: str) -> None:
    """Raise InputError naming the first sensor whose latitude is NaN or outside [-90, 90]."""
    lat = np.asarray(lat, dtype=np.float64)
    bad = ~((lat >= -90.0) & (lat <= 90.0))
    if bad.any():
        i = int(np.argmax(bad))
        raise InputError(
            f"{source}: sensor '{ids[i]}' has latitude {lat[i]}, outside [-90, 90] "
            f"({int(bad.sum())} such sensors)"
        )


def checked_lon(lon: np.ndarray, ids: Sequence[str], source: str) -> np.ndarray:
    """Longitudes in degrees east mapped to [-180, 180), shape ``(n_sensor,)`` float64.

    Values outside [-360, 360] are refused (InputError naming the first sensor); values outside
    [-180, 180) are wrapped with a warning, since a typo (400 for 40) would otherwise move a
    sensor silently.
    """
    lon = np.asarray(lon, dtype=np.float64)
    bad = ~((lon >= -360.0) & (lon <= 360.0))
    if bad.any():
        i = int(np.argmax(bad))
        raise InputError(
            f"{source}: sensor '{ids[i]}' has longitude {lon[i]}, outside [-360, 360] "
            f"({int(bad.sum())} such sensors)"
        )
    wrapped = (lon < -180.0) | (lon >= 180.0)
    if wrapped.any():
        i = int(np.argmax(wrapped))
        log(
            f"warning: {source}: {int(wrapped.sum())} longitude(s) outside [-180, 180) taken as "
            f"degrees east and wrapped (e.g. sensor '{ids[i]}': {lon[i]} -> "
            f"{normalize_lon(lon[i : i + 1])[0]})"
        )
    return normalize_lon(lon)


def check_unique(ids: Sequence[str], source: str) -> None:
    """Raise InputError naming the sensor ids that occur more than once."""
    counts = pd.Series(list(ids)).value_counts(sort=False)
    dup = counts[counts > 1]
    if len(dup):
        names = ", ".join(f"'{s}'" for s in dup.index[:5])
        raise InputError(f"{source}: duplicate sensor ids {names}; each sensor must occur once")


def canonical_dataset(
    data: Mapping[str, da.Array | np.ndarray],
    units: Mapping[str, str],
    time: pd.DatetimeIndex,
    sensor: Sequence[str],
    lat: np.ndarray,
    lon: np.ndarray,
    extra_coords: Mapping[str, np.ndarray] | None = None,
) -> xr.Dataset:
    """Assemble the canonical dataset from arrays already in canonical order.

    Parameters
    ----------
    data : mapping of name to array, each of shape ``(n_time, n_sensor)``
        Values in the source units; cast to float32 (lazily for dask arrays).
    units : mapping of name to str
        Units of each variable (e.g. ``K``, ``mph``).
    time : pd.DatetimeIndex, shape ``(n_time,)``
        Strictly increasing timestamps.
    sensor, lat, lon : shape ``(n_sensor,)``
        Sensor ids and WGS84 coordinates in degrees (lon already in [-180, 180)).
    extra_coords : mapping of name to array of shape ``(n_sensor,)``, optional
        Per-sensor coordinates such as ``cost``, ``row``, ``col``.
    """
    coords = {
        "time": ("time", pd.DatetimeIndex(time).as_unit("ns").values),
        "sensor": ("sensor", np.asarray(sensor, dtype=str).astype(object)),
        "lat": ("sensor", np.asarray(lat, dtype=np.float64)),
        "lon": ("sensor", np.asarray(lon, dtype=np.float64)),
    }
    for name, values in (extra_coords or {}).items():
        coords[name] = ("sensor", np.asarray(values))
    variables = {}
    for name, values in data.items():
        variables[name] = xr.Variable(
            ("time", "sensor"), values.astype(np.float32), attrs={"units": units[name]}
        )
    return xr.Dataset(variables, coords=coords)


def drop_all_nan_sensors(ds: xr.Dataset, source: str = "the archive") -> xr.Dataset:
    """Drop the sensors that are NaN at every time step in every variable.

    The same streaming pass (dask, chunk by chunk, so a lazy archive is not loaded whole) refuses
    infinite values, including those too large for float32 (InputError naming the variable,
    sensor and time). The count of dropped sensors goes to the attribute ``n_dropped_all_nan``.
    """
    names = list(ds.data_vars)
    scans = [(ds[n].isnull().all("time").data, np.isinf(ds[n]).sum("time").data) for n in names]
    results = dask.compute(*[part for pair in scans for part in pair])
    all_nan = np.logical_and.reduce([np.asarray(m, dtype=bool) for m in results[0::2]])
    for name, n_inf in zip(names, results[1::2], strict=True):
        if np.asarray(n_inf).any():
            _raise_non_finite(ds, name, np.asarray(n_inf), source)
    if all_nan.all():
        raise InputError(f"{source}: every sensor is NaN at every time step; no data to ingest")
    kept = ds.isel(sensor=np.flatnonzero(~all_nan)) if all_nan.any() else ds
    kept.attrs["n_dropped_all_nan"] = int(all_nan.sum())
    return kept


def _raise_non_finite(ds: xr.Dataset, name: str, n_inf: np.ndarray, source: str) -> None:
    """Name the first sensor and time where variable `name` is infinite (as float32)."""
    sensor = int(np.argmax(n_inf > 0))
    column = np.asarray(ds[name].isel(sensor=sensor).values, dtype=np.float32)
    step = int(np.argmax(np.isinf(column)))
    when = pd.Timestamp(ds["time"].values[step]).isoformat()
    raise InputError(
        f"{source}: variable '{name}' is not finite (or too large for float32) at sensor "
        f"'{ds['sensor'].values[sensor]}', time {when} ({int(n_inf.sum())} such values); "
        "fix or mask them (missing values must be NaN or the fill value)"
    )


def source_attrs(paths: Sequence[Path]) -> dict[str, str]:
    """Dataset attributes naming the input files with their sha256, and the dynst version."""
    sources = [{"name": Path(p).name, "sha256": sha256_file(p)} for p in paths]
    return {"sources": json.dumps(sources), "dynst_version": __version__}
