"""What an ingested dataset holds, as a plain dict for a table or one JSON object."""

from __future__ import annotations

import json

import dask
import numpy as np
import pandas as pd
import xarray as xr

N_WORST = 5  # sensors listed by missing share in the summary


def summarize(ds: xr.Dataset, n_worst: int = N_WORST) -> dict:
    """Summary of a canonical dataset.

    Missing values are counted chunk by chunk (dask), so a lazy dataset is not loaded whole.

    Parameters
    ----------
    ds : xr.Dataset
        Canonical dataset, data variables of dims ``(time, sensor)``.
    n_worst : int
        How many sensors to list by missing share.

    Returns
    -------
    dict
        ``n_sensors``, ``n_time``, ``time_start``, ``time_end`` (ISO 8601), ``time_step`` (the most
        common step, e.g. ``1h``), ``time_step_seconds``, ``regular`` (every step equal),
        ``missing_percent`` (over all variables), ``worst_sensors`` (list of ``{sensor,
        missing_percent}``, worst first, ties in sensor order, only sensors
        with gaps), ``variables`` (list of ``{name,
        units}``), ``n_dropped_all_nan``, ``grid`` (``{nrows, ncols, dlat, dlon}`` or None) and
        ``sources`` (list of ``{name, sha256}``).
    """
    time = pd.DatetimeIndex(ds["time"].values).as_unit("ns")
    per_sensor = _missing_per_sensor(ds)
    n_values = ds.sizes["time"] * len(ds.data_vars)
    percent = 100.0 * per_sensor / n_values
    worst = [i for i in np.argsort(-percent, kind="stable")[:n_worst] if per_sensor[i] > 0]
    step = _step(time)
    return {
        "n_sensors": int(ds.sizes["sensor"]),
        "n_time": int(ds.sizes["time"]),
        "time_start": time[0].isoformat(),
        "time_end": time[-1].isoformat(),
        "time_step": _format_step(step),
        "time_step_seconds": None if step is None else step.total_seconds(),
        "regular": bool(time.size < 3 or np.unique(np.diff(time.asi8)).size == 1),
        "missing_percent": round(float(100.0 * per_sensor.sum() / (n_values * percent.size)), 4),
        "worst_sensors": [
            {"sensor": str(ds["sensor"].values[i]), "missing_percent": round(float(percent[i]), 4)}
            for i in worst
        ],
        "variables": [
            {"name": str(n), "units": str(ds[n].attrs.get("units", "unknown"))}
            for n in ds.data_vars
        ],
        "n_dropped_all_nan": int(ds.attrs.get("n_dropped_all_nan", 0)),
        "grid": _grid(ds),
        "sources": json.loads(ds.attrs.get("sources", "[]")),
    }


def _missing_per_sensor(ds: xr.Dataset) -> np.ndarray:
    """Count of NaN values per sensor over time and variables, shape ``(n_sensor,)``."""
    counts = [ds[n].isnull().sum("time").data for n in ds.data_vars]
    return np.sum([np.asarray(c) for c in dask.compute(*counts)], axis=0).astype(np.int64)


def _step(time: pd.DatetimeIndex) -> pd.Timedelta | None:
    if time.size < 2:
        return None
    steps, counts = np.unique(np.diff(time.asi8), return_counts=True)
    return pd.Timedelta(int(steps[np.argmax(counts)]), unit="ns")


def _format_step(step: pd.Timedelta | None) -> str | None:
    if step is None:
        return None
    try:
        text = pd.tseries.frequencies.to_offset(step).freqstr
    except ValueError:
        return str(step)
    return text if text[0].isdigit() else f"1{text}"


def _grid(ds: xr.Dataset) -> dict | None:
    if "grid_nrows" not in ds.attrs:
        return None
    return {
        "nrows": int(ds.attrs["grid_nrows"]),
        "ncols": int(ds.attrs["grid_ncols"]),
        "dlat": float(ds.attrs["grid_dlat"]),
        "dlon": float(ds.attrs["grid_dlon"]),
    }


def naming_hints(summary: dict, var_given: bool) -> list[str]:
    """Sentences for a dataset whose variable got a default name or has unknown units.

    A wide CSV says neither what it measures nor in which units: the one variable is then called
    ``value`` and its units ``unknown``, which every later table and plan would repeat.
    """
    from dynst_cli.ingest.csv_tables import WIDE_VARIABLE
    from dynst_cli.ingest.schema import UNKNOWN_UNITS

    hints = []
    for variable in summary["variables"]:
        if variable["name"] == WIDE_VARIABLE and not var_given:
            hints.append(
                f"the variable was named '{WIDE_VARIABLE}' (a wide CSV does not say what it "
                "measures); name it with --var, e.g. --var speed"
            )
        if variable["units"] == UNKNOWN_UNITS:
            hints.append(
                f"the units of '{variable['name']}' are unknown (CSV files do not carry units); "
                "give them with --units, e.g. --units mph, so that errors are reported in them"
            )
    return hints
