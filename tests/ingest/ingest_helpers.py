"""Paths of the bundled archives and builders of small synthetic grids (imported by the tests)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

DATA = Path(__file__).resolve().parents[2] / "data"
ERA5 = DATA / "era5-t2m-uk-2019-03" / "era5_t2m_uk_2019-03.nc"
METR = DATA / "metr-la-week" / "metr_la_speed_2012-03-01_to_07_with_time.csv"
METR_SENSORS = DATA / "metr-la-week" / "graph_sensor_locations.csv"


def oneline(text: str) -> str:
    """Text with the console's line wrapping undone, lower-cased, for matching key words."""
    return " ".join(text.split()).lower()


@dataclass
class CliResult:
    code: int
    out: str
    err: str

    @property
    def message(self) -> str:
        """stderr with line wrapping undone, lower-cased."""
        return oneline(self.err)


def grid_values(n_time: int, lat: np.ndarray, lon: np.ndarray) -> np.ndarray:
    """Known field ``t + 10*lat + 0.01*lon``, shape ``(n_time, n_lat, n_lon)``, float32."""
    t = np.arange(n_time)[:, None, None]
    return (t + 10.0 * lat[None, :, None] + 0.01 * lon[None, None, :]).astype(np.float32)


def cell_values(n_time: int, lat: np.ndarray, lon: np.ndarray) -> np.ndarray:
    """The same field per sensor at (lat, lon), shape ``(n_time, n_sensor)``."""
    t = np.arange(n_time)[:, None]
    return (t + 10.0 * np.asarray(lat)[None, :] + 0.01 * np.asarray(lon)[None, :]).astype(
        np.float32
    )


def make_grid(
    lat,
    lon,
    n_time: int = 6,
    names: tuple[str, str, str] = ("time", "lat", "lon"),
    variables: tuple[str, ...] = ("tas",),
    start: str = "2020-01-01",
) -> xr.Dataset:
    """A small gridded dataset with CF attributes and the known field of `grid_values`."""
    lat, lon = np.asarray(lat, dtype=float), np.asarray(lon, dtype=float)
    tname, yname, xname = names
    time = pd.date_range(start, periods=n_time, freq="h")
    data = {
        v: ((tname, yname, xname), grid_values(n_time, lat, lon) + k, {"units": "K"})
        for k, v in enumerate(variables)
    }
    coords = {
        tname: (tname, time),
        yname: (yname, lat, {"units": "degrees_north"}),
        xname: (xname, lon, {"units": "degrees_east"}),
    }
    return xr.Dataset(data, coords=coords)
