"""Read a canonical dynst dataset (what `dynst ingest` writes) into arrays for training."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import xarray as xr

from dynst_cli.atomic import sha256_file
from dynst_cli.data.value_cache import mapped_values
from dynst_cli.errors import InputError, UsageError


@dataclass
class SensorData:
    """A sensor network's archive, held as plain arrays.

    Attributes
    ----------
    values : float32 array, shape [n_steps, n_sensors, n_channels]
        Measurements, NaN where nothing was measured; a read-only np.memmap when loaded with
        ``mmap=True``.
    time : datetime64[ns] array, shape [n_steps]
    sensor_ids : str array, shape [n_sensors]
    lat, lon : float64 arrays, shape [n_sensors], WGS84 degrees.
    variables : channel names; `units` maps each to its units.
    cost : float64 array, shape [n_sensors], or None when the archive has no costs.
    rows, cols : int arrays, shape [n_sensors], grid cell of each sensor (grids only).
    grid_shape : (n_rows, n_cols) of the full grid, or None for point sensors.
    grid_spacing : (dlat, dlon) in degrees, or None.
    sha256 : hex digest of the dataset file.
    """

    values: np.ndarray
    time: np.ndarray
    sensor_ids: np.ndarray
    lat: np.ndarray
    lon: np.ndarray
    variables: list[str]
    units: dict[str, str]
    sha256: str
    cost: np.ndarray | None = None
    rows: np.ndarray | None = None
    cols: np.ndarray | None = None
    grid_shape: tuple[int, int] | None = None
    grid_spacing: tuple[float, float] | None = None

    @property
    def n_steps(self) -> int:
        return self.values.shape[0]

    @property
    def n_sensors(self) -> int:
        return self.values.shape[1]

    @property
    def n_channels(self) -> int:
        return self.values.shape[2]

    @property
    def is_grid(self) -> bool:
        return self.grid_shape is not None

    def step_seconds(self) -> int:
        """The most common spacing of the time axis, in seconds."""
        if self.n_steps < 2:
            return 86400
        deltas = np.diff(self.time).astype("timedelta64[s]").astype(np.int64)
        values, counts = np.unique(deltas, return_counts=True)
        return int(values[np.argmax(counts)])


def load_dataset(
    path: str | Path, variables: list[str] | None = None, mmap: bool = False
) -> SensorData:
    """Load a canonical dataset; `variables` picks channels (default: all, in file order).

    With `mmap=True` the values are not loaded: they are mapped from a float32 .npy copy made
    once per dataset (see `value_cache`), for archives larger than memory.
    """
    path = Path(path)
    if not path.exists():
        raise UsageError(f"dataset {path} does not exist (create it with `dynst ingest`)")
    try:
        ds = xr.open_dataset(path, engine="netcdf4")
    except Exception as exc:
        raise InputError(f"{path}: not a readable NetCDF dataset ({exc})") from None
    with ds:
        names = _channel_names(ds, path, variables)
        _check_canonical(ds, path)
        sha256 = sha256_file(path)
        if mmap:
            values = mapped_values(ds, names, sha256)
        else:
            values = np.stack([ds[n].transpose("time", "sensor").values for n in names], -1)
        values = values.astype(np.float32, copy=False)
        _check_finite(values, ds, path)
        data = SensorData(
            values=values,
            time=ds["time"].values.astype("datetime64[ns]"),
            sensor_ids=ds["sensor"].values.astype(str),
            lat=ds["lat"].values.astype(np.float64),
            lon=ds["lon"].values.astype(np.float64),
            variables=names,
            units={name: str(ds[name].attrs.get("units", "unknown")) for name in names},
            sha256=sha256,
            cost=ds["cost"].values.astype(np.float64) if "cost" in ds.coords else None,
        )
        if "row" in ds.coords and "col" in ds.coords:
            data.rows = ds["row"].values.astype(np.int64)
            data.cols = ds["col"].values.astype(np.int64)
            data.grid_shape = (int(ds.attrs["grid_nrows"]), int(ds.attrs["grid_ncols"]))
            data.grid_spacing = (float(ds.attrs["grid_dlat"]), float(ds.attrs["grid_dlon"]))
    return data


def _check_finite(values: np.ndarray, ds: xr.Dataset, path: Path, chunk: int = 4096) -> None:
    """Refuse infinite values in `values` (n_steps, n_sensors, n_channels), time block by block."""
    for start in range(0, values.shape[0], chunk):
        block = np.isinf(values[start : start + chunk])
        if block.any():
            t, sensor, _ = (int(i[0]) for i in np.nonzero(block))
            raise InputError(
                f"{path}: sensor '{ds['sensor'].values[sensor]}' holds an infinite value at "
                f"{str(ds['time'].values[start + t])[:19]}; re-create the dataset with "
                "`dynst ingest`, which refuses such values"
            )


def _channel_names(ds: xr.Dataset, path: Path, wanted: list[str] | None) -> list[str]:
    available = [name for name, var in ds.data_vars.items() if var.dims == ("time", "sensor")]
    if not available:
        raise InputError(
            f"{path}: no variable of dims (time, sensor); "
            "is it a dataset written by `dynst ingest`?"
        )
    if not wanted:
        return available
    missing = [name for name in wanted if name not in available]
    if missing:
        raise UsageError(
            f"{path}: no variable {', '.join(missing)} (available: {', '.join(available)})"
        )
    return list(wanted)


def _check_canonical(ds: xr.Dataset, path: Path) -> None:
    for coord in ("time", "sensor", "lat", "lon"):
        if coord not in ds.coords:
            raise InputError(
                f"{path}: coordinate '{coord}' is missing; re-create it with `dynst ingest`"
            )
    time = ds["time"].values
    if time.size > 1 and not np.all(np.diff(time) > np.timedelta64(0, "ns")):
        raise InputError(f"{path}: time is not strictly increasing")
    if time.size > 2 and np.unique(np.diff(time)).size > 1:
        raise InputError(
            f"{path}: the time axis is irregular, so windows would straddle its gaps; "
            "re-create it with `dynst ingest ... --resample FREQ` (e.g. 1h)"
        )
