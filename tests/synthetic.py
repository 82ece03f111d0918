"""Small synthetic canonical datasets with a known answer, and a stand-in gated model, shared by
the tests."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import torch
import xarray as xr

from dynst_cli.config import FitConfig


def planted_network(
    n_drivers: int = 3,
    n_followers: int = 21,
    n_steps: int = 600,
    seed: int = 0,
    persistence: float = 1.0,
) -> tuple[np.ndarray, np.ndarray]:
    """Values (n_steps, N) where sensors 0..n_drivers-1 are independent drivers and every other
    sensor is a noisy, one-step-lagged copy of one driver.

    The drivers are smooth random walks (`persistence` 1) or stationary AR(1) processes
    ``d_t = persistence * d_{t-1} + e_t`` (`persistence` below 1), started from their stationary
    distribution. Random walks correlate by chance over a finite stretch, with a sign that can
    change from one period to the next; AR(1) drivers do so much less.

    The right plan keeps the drivers: every follower is forecast from its driver's history, but
    no follower can stand in for a driver's own future as well as the driver itself. Returns the
    values and, per sensor, the driver it follows (drivers follow themselves).
    """
    rng = np.random.default_rng(seed)
    n = n_drivers + n_followers
    shocks = rng.normal(size=(n_steps + 1, n_drivers))
    if persistence >= 1.0:
        drivers = np.cumsum(shocks, axis=0)
    else:
        drivers = np.empty_like(shocks)
        drivers[0] = shocks[0] / np.sqrt(1.0 - persistence**2)
        for t in range(1, n_steps + 1):
            drivers[t] = persistence * drivers[t - 1] + shocks[t]
    drivers = (drivers - drivers.mean(0)) / drivers.std(0)
    follows = np.concatenate([np.arange(n_drivers), rng.integers(0, n_drivers, n_followers)])
    values = np.empty((n_steps, n), dtype=np.float32)
    values[:, :n_drivers] = drivers[1:]
    noise = 0.3 * rng.normal(size=(n_steps, n_followers))
    values[:, n_drivers:] = drivers[:-1, follows[n_drivers:]] + noise
    return values, follows


def canonical_dataset(
    values: np.ndarray,
    *,
    start: str = "2024-01-01",
    freq: str = "h",
    lat: np.ndarray | None = None,
    lon: np.ndarray | None = None,
    var: str = "x",
    units: str = "1",
    grid: tuple[int, int] | None = None,
) -> xr.Dataset:
    """A dataset in the canonical layout from values (n_steps, N) (grid: N = H*W, row-major)."""
    n_steps, n = values.shape
    if grid is not None:
        rows, cols = np.divmod(np.arange(n), grid[1])
        lat = 50.0 - 0.25 * rows if lat is None else lat
        lon = -5.0 + 0.25 * cols if lon is None else lon
        ids = [f"r{r:03d}c{c:03d}" for r, c in zip(rows, cols, strict=True)]
    else:
        lat = 34.0 + 0.01 * np.arange(n) if lat is None else lat
        lon = -118.3 + 0.01 * (np.arange(n) % 7) if lon is None else lon
        ids = [f"s{i:03d}" for i in range(n)]
    ds = xr.Dataset(
        {var: (("time", "sensor"), values.astype(np.float32), {"units": units})},
        coords={
            "time": pd.date_range(start, periods=n_steps, freq=freq).values,
            "sensor": np.array(ids, dtype=str),
            "lat": ("sensor", np.asarray(lat, dtype=np.float64)),
            "lon": ("sensor", np.asarray(lon, dtype=np.float64)),
        },
        attrs={"dynst_version": "test", "sources": "[]"},
    )
    if grid is not None:
        ds = ds.assign_coords(row=("sensor", rows), col=("sensor", cols))
        ds.attrs.update(grid_nrows=grid[0], grid_ncols=grid[1], grid_dlat=0.25, grid_dlon=0.25)
    return ds


def write(ds: xr.Dataset, path: Path) -> Path:
    ds.to_netcdf(path, engine="netcdf4")
    return path


# t_in 4 -> t_out 2, few small batches: a fit takes a second or two on one CPU core.
# One mask search over all the epochs (mask.searches: 1): the schedule the tests follow epoch by
# epoch; tests/test_fit_searches.py covers the default's several searches.
TINY_RECIPE = {
    "data": {"t_in": 4, "t_out": 2},
    "mask": {"sparsity": 0.5, "update_every": 2, "searches": 1},
    "model": {"hidden": 16, "embed": 4},
    "train": {
        "epochs": 4,
        "batch_size": 16,
        "max_batches_per_epoch": 6,
        "finetune_epochs": 1,
        "dense_reference": False,
    },
}


def tiny_config(**train) -> FitConfig:
    """TINY_RECIPE as a configuration, with `train` keys overridden."""
    return FitConfig.from_dict({**TINY_RECIPE, "train": {**TINY_RECIPE["train"], **train}})


class GatedModel(torch.nn.Module):
    """A sensor gate and one weight, in place of a forecasting model: what a ranking, a settling
    or an exchange saves, changes and restores, without a backbone to train."""

    def __init__(self, n_sensors: int):
        from dynst_cli.mask.gate import SensorGate

        super().__init__()
        self.gate = SensorGate(n_sensors)
        self.weight = torch.nn.Parameter(torch.zeros(1))
