"""Raw values and timestamps turned into what the backbone reads, for training and `predict` alike.

Every model input is built here, so a change reaches the windows of training and evaluation and
the forecasts of `predict` at once:

- values are z-scored per channel with the training scaler, missing values (NaN) are filled with
  0 (the training mean) and followed by C observed (1) / missing (0) indicator channels;
- the calendar of the last history step: its time-of-day bin (`steps_per_day` bins a day) and
  its day of week (Monday = 0).
"""

from __future__ import annotations

import numpy as np

from dynst_cli.data.scaling import StandardScaler


def steps_per_day(step_seconds: float) -> int:
    """Time-of-day bins of a series sampled every `step_seconds` (288 at 5 min, 24 hourly)."""
    return max(1, int(round(86400 / step_seconds)))


def calendar(times: np.ndarray, step_seconds: int) -> tuple[np.ndarray, np.ndarray]:
    """Time-of-day bin and day of week of each timestamp.

    Parameters
    ----------
    times : ndarray of datetime64, any shape
    step_seconds : int
        The series' time step.

    Returns
    -------
    tod, dow : ndarray of int64, the shape of `times`
        ``tod`` in [0, steps_per_day), ``dow`` in [0, 7) with Monday = 0.
    """
    times = np.asarray(times, dtype="datetime64[ns]")
    days = times.astype("datetime64[D]")
    seconds = (times - days).astype("timedelta64[s]").astype(np.int64)
    tod = (seconds // step_seconds) % steps_per_day(step_seconds)
    dow = (days.astype(np.int64) + 3) % 7  # 1970-01-01 was a Thursday
    return tod, dow


def scale_and_fill(values: np.ndarray, scaler: StandardScaler) -> tuple[np.ndarray, np.ndarray]:
    """Scaled values with NaN filled by 0, and where they were observed.

    Parameters
    ----------
    values : ndarray of float, shape (..., C)
        Raw values in the data's units, NaN where missing.
    scaler : StandardScaler
        Fitted on the training period.

    Returns
    -------
    filled : ndarray of float32, shape (..., C)
    observed : ndarray of bool, shape (..., C)
    """
    scaled = scaler.transform(np.asarray(values, dtype=np.float32))
    observed = ~np.isnan(scaled)
    return np.where(observed, scaled, np.float32(0.0)).astype(np.float32), observed


def with_indicators(filled: np.ndarray, observed: np.ndarray) -> np.ndarray:
    """``(..., C)`` filled values and indicators as the ``(..., 2C)`` float32 model input."""
    return np.concatenate([filled, observed.astype(np.float32)], axis=-1)


def model_input(
    history: np.ndarray,
    last_time: np.ndarray,
    scaler: StandardScaler,
    step_seconds: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The backbone's input from raw history windows and the time of their last step.

    Parameters
    ----------
    history : ndarray of float, shape (B, T_in, N, C)
        Raw values, NaN where missing (N may be the kept sensors only).
    last_time : ndarray of datetime64, shape (B,)
        Timestamp of each window's last history step.
    scaler : StandardScaler
    step_seconds : int

    Returns
    -------
    x : ndarray of float32, shape (B, T_in, N, 2C)
    tod, dow : ndarray of int64, shape (B,)
    """
    filled, observed = scale_and_fill(history, scaler)
    tod, dow = calendar(last_time, step_seconds)
    return with_indicators(filled, observed), tod, dow
