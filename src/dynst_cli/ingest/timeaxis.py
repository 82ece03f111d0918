"""A regular time axis: windows of history and future must never straddle a gap.

An archive whose steps differ (1 h and 3 h steps, a two-day hole) is refused with the place of
the first irregular step, unless `--resample FREQ` puts it on a regular axis first: xarray's
`Dataset.resample(time=FREQ).mean()`, i.e. the mean of the values in each interval
``[t, t + FREQ)``, labelled by its start; intervals without any value stay missing (NaN).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import xarray as xr

from dynst_cli.console import log
from dynst_cli.errors import InputError, UsageError


def fixed_frequency(freq: str) -> pd.Timedelta:
    """The length of a fixed frequency such as ``1h``, ``15min`` or ``1D``.

    Raises
    ------
    UsageError
        Not a frequency, or one of varying length (months, years, business days).
    """
    try:
        offset = pd.tseries.frequencies.to_offset(freq)
    except (ValueError, TypeError):
        offset = None
    if not isinstance(offset, pd.offsets.Tick) or pd.Timedelta(offset) <= pd.Timedelta(0):
        raise UsageError(
            f"--resample {freq}: not a fixed time step; give one such as 15min, 1h, 3h or 1D"
        )
    return pd.Timedelta(offset)


def check_regular(time: pd.DatetimeIndex, source: str) -> None:
    """Raise InputError unless every step of the sorted `time` axis (n_time,) is the same.

    The message names the usual step, the first step that differs and the largest gap, and
    points at ``--resample``.
    """
    if time.size < 3:
        return
    steps = np.diff(time.asi8)
    values, counts = np.unique(steps, return_counts=True)
    if values.size == 1:
        return
    usual = pd.Timedelta(int(values[np.argmax(counts)]), unit="ns")
    odd = np.flatnonzero(steps != usual.value)
    first = int(odd[0])
    widest = int(np.argmax(steps))
    raise InputError(
        f"{source}: the time axis is irregular: most steps are {_freq(usual)}, but "
        f"{odd.size} differ (first from {time[first].isoformat()} to "
        f"{time[first + 1].isoformat()}; largest gap {_freq(pd.Timedelta(int(steps[widest])))} "
        f"after {time[widest].isoformat()}); windows would straddle the gaps. Put it on a "
        f"regular axis with --resample {_freq(usual)} (mean over each interval; empty "
        "intervals stay missing)"
    )


def resample(ds: xr.Dataset, freq: str, chunk_time: int) -> xr.Dataset:
    """The canonical dataset on a regular axis of step `freq`: the mean of each interval.

    Lazy (dask) and chunked along time by `chunk_time`; per-sensor coordinates and attributes
    are kept, units included.
    """
    step = fixed_frequency(freq)
    n_before = ds.sizes["time"]
    out = ds.resample(time=step).mean(keep_attrs=True)
    for name in ds.data_vars:
        out[name].attrs = dict(ds[name].attrs)
        out[name] = out[name].astype(np.float32)
    out.attrs = dict(ds.attrs)
    log(f"resampled {n_before} time steps to {out.sizes['time']} steps of {_freq(step)}")
    return out.chunk({"time": chunk_time})


def _freq(step: pd.Timedelta) -> str:
    """A step as pandas writes a frequency: '1h', '3h', '48h', '15min'."""
    try:
        text = pd.tseries.frequencies.to_offset(step).freqstr
    except ValueError:
        return str(step)
    return text if text[0].isdigit() else f"1{text}"
