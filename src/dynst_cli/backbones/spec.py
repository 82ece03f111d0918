"""What a backbone needs to know about a dataset before it is built."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass
class GridLayout:
    """Where the sensors of a gridded dataset sit on their grid.

    Attributes
    ----------
    rows, cols : np.ndarray of int, shape (N,)
        The grid cell of each sensor.
    shape : tuple of int
        The full grid `(H, W)`; sensors may cover only some of its cells.
    """

    rows: np.ndarray
    cols: np.ndarray
    shape: tuple[int, int]

    def __post_init__(self) -> None:
        self.rows = np.asarray(self.rows, dtype=np.int64)
        self.cols = np.asarray(self.cols, dtype=np.int64)
        self.shape = (int(self.shape[0]), int(self.shape[1]))
        h, w = self.shape
        if self.rows.shape != self.cols.shape or self.rows.ndim != 1:
            raise ValueError("rows and cols must be 1-d arrays of the same length")
        inside = (self.rows >= 0) & (self.rows < h) & (self.cols >= 0) & (self.cols < w)
        if not inside.all():
            raise ValueError(f"sensor cells must lie inside the grid of shape {self.shape}")

    @property
    def flat_index(self) -> np.ndarray:
        """Index `(N,)` of each sensor's cell in the row-major flattened grid `H*W`."""
        return self.rows * self.shape[1] + self.cols


@dataclass
class BackboneSpec:
    """The sizes and geometry a backbone is built for.

    Attributes
    ----------
    n_sensors : int
        N, every sensor of the network (kept or not): the backbone forecasts all of them.
    t_in, t_out : int
        History and forecast lengths in time steps.
    c_in : int
        Features per sensor per input step: C data channels plus C observed/missing indicators,
        so `2*C`. The morphed input has `t_in * c_in` features, index `t*c_in + c`.
    c_out : int
        Forecast channels per sensor per step (C).
    steps_per_day : int
        Number of time-of-day bins (288 for 5-minute data, 24 for hourly).
    lat, lon : np.ndarray, shape (N,)
        Sensor positions in WGS84 degrees.
    grid : GridLayout or None
        The grid cell of each sensor for gridded datasets; None for point sensors.
    """

    n_sensors: int
    t_in: int
    t_out: int
    c_in: int
    c_out: int
    steps_per_day: int
    lat: np.ndarray
    lon: np.ndarray
    grid: GridLayout | None = None

    def __post_init__(self) -> None:
        self.lat = np.asarray(self.lat, dtype=np.float64)
        self.lon = np.asarray(self.lon, dtype=np.float64)
        if self.lat.shape != (self.n_sensors,) or self.lon.shape != (self.n_sensors,):
            raise ValueError(f"lat and lon must have shape ({self.n_sensors},)")
        if self.grid is not None and self.grid.rows.shape != (self.n_sensors,):
            raise ValueError(f"grid rows and cols must have shape ({self.n_sensors},)")
        if min(self.t_in, self.t_out, self.c_in, self.c_out, self.steps_per_day) < 1:
            raise ValueError("t_in, t_out, c_in, c_out and steps_per_day must be at least 1")

    @property
    def n_features(self) -> int:
        """Features per sensor of the morphed history, `t_in * c_in`."""
        return self.t_in * self.c_in
