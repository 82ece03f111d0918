"""Plans built from the real bundled coordinates with deterministic pseudo-scores.

`point_plan`: the 207 METR-LA loop detectors (Los Angeles), sparsity 0.7, with cost,
selection frequency, one forced keep and one exclusion. `grid_plan`: the 33 x 49 ERA5 grid over
the British Isles (latitude 58..50 descending, longitude -10..2, 0.25 deg), sparsity 0.9.
"""

from __future__ import annotations

import csv
import math
from pathlib import Path

import netCDF4
import numpy as np
import pytest

from dynst_cli.plan.schema import PLAN_FORMAT, write_plan

DATA = Path(__file__).parents[2] / "data"
METR_LA = DATA / "metr-la-week" / "graph_sensor_locations.csv"
ERA5 = DATA / "era5-t2m-uk-2019-03" / "era5_t2m_uk_2019-03.nc"
FAKE_SHA = "ab" * 32


def n_keep_for(n_sensors: int, sparsity: float) -> int:
    """Keep exactly N - round(S*N), rounding halves up (DESIGN.md)."""
    return n_sensors - math.floor(sparsity * n_sensors + 0.5)


def assemble_plan(sensors: list[dict], sparsity: float, grid: dict | None, **extra) -> dict:
    """Rank `sensors` by their pseudo-score and keep the top N - round(S*N)."""
    ranked = sorted(sensors, key=lambda s: -s["score"])  # stable: ties by sensor order
    n_keep = n_keep_for(len(ranked), sparsity)
    for rank, sensor in enumerate(ranked, start=1):
        sensor["rank"], sensor["keep"] = rank, rank <= n_keep
        sensor.setdefault("reason", "score")
    plan = {
        "format": PLAN_FORMAT,
        "sparsity": sparsity,
        "n_sensors": len(ranked),
        "n_keep": n_keep,
        "backbone": "stid",
        "dataset_sha256": FAKE_SHA,
        "variables": ["speed"],
        "units": {"speed": "mph"},
        "grid": grid,
        "constraints": {},
        "notes": [],
        "metrics": {
            "test": {"mae": 3.21, "rmse": 6.54, "mape": 8.7},
            "dense_test": {"mae": 2.98, "rmse": 6.01, "mape": 8.1},
        },
    }
    plan.update(extra)
    plan["sensors"] = ranked
    return plan


def pseudo_scores(n: int, seed: int) -> np.ndarray:
    return np.random.default_rng(seed).random(n)


@pytest.fixture
def point_plan() -> dict:
    with open(METR_LA, newline="") as fh:
        rows = list(csv.DictReader(fh))
    scores = pseudo_scores(len(rows), seed=7)
    sensors = [
        {
            "sensor_id": row["sensor_id"],
            "lat": float(row["latitude"]),
            "lon": float(row["longitude"]),
            "score": float(score),
            "cost": float(100 + i % 7 * 25),
            "selection_frequency": round(float(score), 2),
        }
        for i, (row, score) in enumerate(zip(rows, scores, strict=True))
    ]
    plan = assemble_plan(sensors, sparsity=0.7, grid=None, selection_frequency_seeds=5)
    plan["sensors"][0]["reason"] = "keep"  # forced in by a keep list
    plan["sensors"][-1]["reason"] = "exclude"  # struck out by an exclude list
    plan["constraints"] = {"keep": [plan["sensors"][0]["sensor_id"]]}
    return plan


@pytest.fixture(scope="session")
def era5_axes() -> tuple[np.ndarray, np.ndarray]:
    with netCDF4.Dataset(ERA5) as ds:
        return np.asarray(ds["latitude"][:], float), np.asarray(ds["longitude"][:], float)


@pytest.fixture
def grid_plan(era5_axes) -> dict:
    lats, lons = era5_axes
    scores = pseudo_scores(lats.size * lons.size, seed=11)
    sensors = [
        {
            "sensor_id": f"r{row:03d}c{col:03d}",
            "lat": float(lat),
            "lon": float(lon),
            "score": float(scores[row * lons.size + col]),
            "row": row,
            "col": col,
        }
        for row, lat in enumerate(lats)
        for col, lon in enumerate(lons)
    ]
    grid = {"shape": [lats.size, lons.size], "dlat": 0.25, "dlon": 0.25}
    plan = assemble_plan(sensors, sparsity=0.9, grid=grid)
    plan["variables"], plan["units"] = ["t2m"], {"t2m": "K"}
    return plan


@pytest.fixture(params=["point_plan", "grid_plan"])
def any_plan(request) -> dict:
    return request.getfixturevalue(request.param)


@pytest.fixture
def plan_file(tmp_path, point_plan) -> Path:
    path = tmp_path / "plan.json"
    write_plan(point_plan, path)
    return path


@pytest.fixture
def grid_plan_file(tmp_path, grid_plan) -> Path:
    path = tmp_path / "grid-plan.json"
    write_plan(grid_plan, path)
    return path
