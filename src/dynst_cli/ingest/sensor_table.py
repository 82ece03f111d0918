"""The sensor table of a CSV archive: id, latitude, longitude and an optional cost per sensor.

Columns are found case-insensitively (``id``/``sensor``/``sensor_id``/``station``;
``lat``/``latitude``/``y``; ``lon``/``longitude``/``lng``/``x``; ``cost``); other columns are
ignored.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from dynst_cli.errors import InputError
from dynst_cli.ingest.schema import check_latitudes, check_unique, checked_lon
from dynst_cli.ingest.tables import find_column, numeric_column, preview, read_frame, read_header

ID_COLUMNS = ("sensor_id", "id", "sensor", "station", "station_id")
LAT_COLUMNS = ("lat", "latitude", "y")
LON_COLUMNS = ("lon", "longitude", "lng", "long", "x")
COST_COLUMNS = ("cost",)


def read_sensor_table(path: Path) -> pd.DataFrame:
    """Read and check a sensor table.

    Parameters
    ----------
    path : Path
        CSV file with one row per sensor.

    Returns
    -------
    pd.DataFrame
        Indexed by sensor id (str), columns ``lat``, ``lon`` (float64 degrees, lon in
        [-180, 180)) and, when the table has one, ``cost`` (float64).

    Raises
    ------
    InputError
        A required column is missing, a cell is not a finite number, an id repeats, a
        coordinate is missing, a latitude lies outside [-90, 90] or a longitude outside
        [-360, 360] (longitudes outside [-180, 180) are wrapped with a warning).
    """
    header = read_header(path)
    columns = _columns(header, path)
    frame = read_frame(path, text_columns=[columns["id"]])
    ids = frame[columns["id"]].fillna("").str.strip()
    check_unique(list(ids), str(path))
    table = pd.DataFrame(index=pd.Index(ids, name="sensor"))
    for name, column in columns.items():
        if name != "id":
            table[name] = numeric_column(frame, column, path, lambda i: f"sensor '{ids.iloc[i]}'")
    _check_complete(table, path)
    check_latitudes(table["lat"].to_numpy(), list(table.index), str(path))
    table["lon"] = checked_lon(table["lon"].to_numpy(), list(table.index), str(path))
    return table


def _columns(header: Sequence[str], path: Path) -> dict[str, str]:
    columns = {
        "id": find_column(header, ID_COLUMNS),
        "lat": find_column(header, LAT_COLUMNS),
        "lon": find_column(header, LON_COLUMNS),
    }
    missing = [key for key, found in columns.items() if found is None]
    if missing:
        raise InputError(
            f"{path}: the sensor table needs columns for id, latitude and longitude; none found "
            f"for {', '.join(missing)} (columns are {preview(header)})"
        )
    cost = find_column(header, COST_COLUMNS)
    if cost is not None:
        columns["cost"] = cost
    return columns


def _check_complete(table: pd.DataFrame, path: Path) -> None:
    if (table.index == "").any():
        line = int(np.argmax(table.index == "")) + 2
        raise InputError(f"{path}, line {line}: a sensor has no id")
    for column in table.columns:
        missing = table[column].isna().to_numpy()
        if missing.any():
            sensor = table.index[int(np.argmax(missing))]
            raise InputError(f"{path}: sensor '{sensor}' has no {column}")
    if "cost" in table and (table["cost"] < 0).any():
        sensor = table.index[int(np.argmax(table["cost"].to_numpy() < 0))]
        raise InputError(f"{path}: sensor '{sensor}' has a negative cost")


def locate(table: pd.DataFrame, ids: Sequence[str], path: Path) -> pd.DataFrame:
    """Rows of ``table`` for ``ids``, in that order; sensors absent from the table are named.

    Raises
    ------
    InputError
        Some sensors of the data are not in the table.
    """
    absent = [s for s in ids if s not in table.index]
    if absent:
        raise InputError(
            f"{path}: {len(absent)} sensor(s) of the data are missing from the sensor table: "
            f"{preview(absent)}"
        )
    return table.loc[list(ids)]
