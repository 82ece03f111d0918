"""CSV archives, wide and long, read into the canonical dataset.

Wide: a time column and one column per sensor (the header holds the sensor ids); coordinates come
from a sensor table. Long: one row per (time, sensor) with columns time, sensor_id, one or more
value columns and optionally lat, lon; the layout is long when the header has a sensor id
column. CSV archives are read whole with pandas, then handed on in time chunks.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import dask.array as da
import numpy as np
import pandas as pd
import xarray as xr

from dynst_cli.errors import InputError, UsageError
from dynst_cli.ingest.schema import (
    UNKNOWN_UNITS,
    canonical_dataset,
    check_latitudes,
    check_unique,
    checked_lon,
    time_order,
)
from dynst_cli.ingest.sensor_table import (
    COST_COLUMNS,
    ID_COLUMNS,
    LAT_COLUMNS,
    LON_COLUMNS,
    locate,
    read_sensor_table,
)
from dynst_cli.ingest.tables import (
    find_column,
    numeric_column,
    parse_times,
    preview,
    read_frame,
    read_header,
    time_column,
)

WIDE_VARIABLE = "value"  # name of the one variable of a wide CSV unless --var names it


@dataclass
class Table:
    """Values of a CSV archive before coordinates are attached.

    ``values`` maps each variable to an array of shape ``(n_time, n_sensor)``; ``coords`` holds
    ``lat``/``lon`` of shape ``(n_sensor,)`` when the file itself has them (long layout).
    """

    time: pd.DatetimeIndex
    ids: list[str]
    values: dict[str, np.ndarray]
    coords: pd.DataFrame | None = None


def is_long(header: Sequence[str]) -> bool:
    """True when the header has a sensor id column (long layout: one row per time and sensor)."""
    return find_column(header, ID_COLUMNS) is not None


def open_csv(
    paths: Sequence[Path],
    sensors: Path | None = None,
    variables: Sequence[str] | None = None,
    time_col: str | None = None,
    units: str | None = None,
    chunk_time: int = 256,
) -> xr.Dataset:
    """Read CSV archives (concatenated along time) into the canonical dataset.

    Parameters
    ----------
    paths : sequence of Path
        CSV files of the same layout.
    sensors : Path, optional
        Sensor table (id, latitude, longitude, optional cost); required for the wide layout.
    variables : sequence of str, optional
        Wide: the name of the one variable (default ``value``). Long: the value columns to keep
        (default: all columns other than time, id, coordinates and cost).
    time_col : str, optional
        Name of the time column when it is not found by name or content.
    units : str, optional
        Units of the values (CSV files do not say); ``unknown`` when not given.
    chunk_time : int
        Time steps per dask chunk of the result.

    Returns
    -------
    xr.Dataset
        Canonical dataset, dims ``(time, sensor)``.
    """
    layouts = {is_long(read_header(p)) for p in paths}
    if len(layouts) > 1:
        raise UsageError("the CSV archives mix wide and long layouts: ingest them separately")
    long = layouts.pop()
    frames = [read_frame(p, text_columns=_id_columns(p)) for p in paths]
    table = (
        _read_long(frames, paths, variables, time_col)
        if long
        else _read_wide(frames, paths, variables, time_col)
    )
    coords = _coordinates(table, sensors, paths[0])
    extra = {"cost": coords["cost"].to_numpy()} if "cost" in coords else {}
    ds = canonical_dataset(
        {name: da.from_array(v, chunks=(chunk_time, -1)) for name, v in table.values.items()},
        {name: units or UNKNOWN_UNITS for name in table.values},
        table.time,
        table.ids,
        coords["lat"].to_numpy(),
        coords["lon"].to_numpy(),
        extra,
    )
    return ds


def _id_columns(path: Path) -> list[str]:
    header = read_header(path)
    return [c for c in [find_column(header, ID_COLUMNS)] if c is not None]


def _sorted(table: Table, source: str) -> Table:
    order = time_order(table.time, source)
    if order is None:
        return table
    values = {name: array[order] for name, array in table.values.items()}
    return Table(table.time[order], table.ids, values, table.coords)


def _read_wide(frames: list[pd.DataFrame], paths: Sequence[Path], variables, time_col) -> Table:
    if variables and len(variables) > 1:
        raise UsageError("a wide CSV holds one variable: give --var at most once to name it")
    name = variables[0] if variables else WIDE_VARIABLE
    parts = []
    for frame, path in zip(frames, paths, strict=True):
        header = list(frame.columns)
        tcol = time_column(header, frame, path, time_col)
        columns = {
            c: numeric_column(frame, c, path, _at(frame, tcol, sensor=c))
            for c in header
            if c != tcol
        }
        index = parse_times(frame[tcol], path, tcol)
        parts.append(pd.DataFrame(columns, index=index))
    wide = pd.concat(parts, axis=0) if len(parts) > 1 else parts[0]
    source = ", ".join(str(p) for p in paths)
    table = Table(pd.DatetimeIndex(wide.index), list(wide.columns), {name: wide.to_numpy()})
    return _sorted(table, source)


def _read_long(frames: list[pd.DataFrame], paths: Sequence[Path], variables, time_col) -> Table:
    rows = [_long_rows(f, p, variables, time_col) for f, p in zip(frames, paths, strict=True)]
    frame = pd.concat(rows, ignore_index=True) if len(rows) > 1 else rows[0]
    source = ", ".join(str(p) for p in paths)
    _check_pairs(frame, source)
    ids = list(pd.unique(frame["sensor"]))
    time = pd.DatetimeIndex(np.unique(frame["time"].to_numpy()))
    ti = time.get_indexer(frame["time"])
    si = pd.Index(ids).get_indexer(frame["sensor"])
    values = {}
    for name in [c for c in frame.columns if c not in ("time", "sensor", "lat", "lon", "cost")]:
        grid = np.full((len(time), len(ids)), np.nan, dtype=np.float32)
        grid[ti, si] = frame[name].to_numpy()
        values[name] = grid
    return Table(time, ids, values, _long_coords(frame, ids, source))


def _long_rows(frame: pd.DataFrame, path: Path, variables, time_col) -> pd.DataFrame:
    """Normalise one long file to columns time, sensor, [lat, lon, cost,] and the value columns."""
    header = list(frame.columns)
    known = {
        "time": time_column(header, frame, path, time_col),
        "sensor": find_column(header, ID_COLUMNS),
        "lat": find_column(header, LAT_COLUMNS),
        "lon": find_column(header, LON_COLUMNS),
        "cost": find_column(header, COST_COLUMNS),
    }
    others = [c for c in header if c not in known.values()]
    chosen = _value_columns(others, variables, path)
    out = pd.DataFrame({"time": parse_times(frame[known["time"]], path, known["time"])})
    out["sensor"] = frame[known["sensor"]].fillna("").str.strip().to_numpy()
    where = _at(frame, known["time"], id_column=known["sensor"])
    for key in ("lat", "lon", "cost"):
        if known[key] is not None:
            out[key] = numeric_column(frame, known[key], path, where)
    for column in chosen:
        out[column] = numeric_column(frame, column, path, where)
    return out


def _at(frame: pd.DataFrame, time_col: str, sensor: str | None = None, id_column=None):
    """Describe data row i of `frame` for messages: "sensor 'a' at 2020-01-01 00:00"."""

    def where(i: int) -> str:
        name = sensor if id_column is None else frame[id_column].iloc[i]
        return f"sensor '{name}' at {frame[time_col].iloc[i]}"

    return where


def _value_columns(others: list[str], variables, path: Path) -> list[str]:
    if not variables:
        if not others:
            raise InputError(f"{path}: the long CSV has no value column besides time and sensor")
        return others
    absent = [v for v in variables if v not in others]
    if absent:
        raise InputError(
            f"{path}: no value column {preview(absent)} (given by --var); value columns are "
            f"{preview(others)}"
        )
    return list(variables)


def _check_pairs(frame: pd.DataFrame, source: str) -> None:
    if (frame["sensor"] == "").any():
        line = int(np.argmax((frame["sensor"] == "").to_numpy())) + 2
        raise InputError(f"{source}, line {line}: a row has no sensor id")
    dup = frame.duplicated(["time", "sensor"]).to_numpy()
    if dup.any():
        row = frame.iloc[int(np.argmax(dup))]
        raise InputError(
            f"{source}: duplicate timestamp {row['time'].isoformat()} for sensor "
            f"'{row['sensor']}' (line {int(np.argmax(dup)) + 2})"
        )


def _long_coords(frame: pd.DataFrame, ids: list[str], source: str) -> pd.DataFrame | None:
    """Per-sensor lat, lon (and cost) of a long file, or None when it has no coordinates."""
    present = [c for c in ("lat", "lon", "cost") if c in frame.columns]
    if not {"lat", "lon"} <= set(present):
        return None
    grouped = frame.groupby("sensor", sort=False)[present]
    varying = grouped.nunique(dropna=False).max(axis=1) > 1
    if varying.any():
        sensor = varying.index[int(np.argmax(varying.to_numpy()))]
        raise InputError(f"{source}: sensor '{sensor}' has more than one latitude/longitude")
    coords = grouped.first().loc[ids]
    for column in present:
        missing = coords[column].isna().to_numpy()
        if missing.any():
            raise InputError(f"{source}: sensor '{ids[int(np.argmax(missing))]}' has no {column}")
    check_latitudes(coords["lat"].to_numpy(), ids, source)
    coords["lon"] = checked_lon(coords["lon"].to_numpy(), ids, source)
    return coords


def _coordinates(table: Table, sensors: Path | None, path: Path) -> pd.DataFrame:
    """Per-sensor coordinates in the order of ``table.ids``: the sensor table wins over the file."""
    check_unique(table.ids, str(path))
    if sensors is not None:
        return locate(read_sensor_table(sensors), table.ids, sensors)
    if table.coords is not None:
        return table.coords
    raise UsageError(
        f"{path} gives no sensor coordinates: pass --sensors TABLE.csv with columns id, latitude, "
        "longitude (and optionally cost)"
    )
