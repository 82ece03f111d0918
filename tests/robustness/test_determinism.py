"""The whole pipeline twice, into two folders: byte-identical dataset, run files and plan files.

Nothing in the results may depend on when or where the pipeline ran: no wall-clock times and no
absolute paths in plan.json, CSV or GeoJSON (times go to timings.json). The second pipeline runs
with one torch thread instead of the default, to show the thread count does not change the bytes
for this configuration.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from dynst_cli.cli import main
from robustness.conftest import build_once, write_recipe
from synthetic import planted_network

pytestmark = pytest.mark.slow  # trains models: run by `make test`, not `make test-fast`

SAME_BYTES = (
    "dataset.nc",
    "run/model.pt",
    "run/ranking.json",
    "run/metrics.json",
    "run/history.json",
    "plan.json",
    "plan.csv",
    "plan.geojson",
    "map.png",
)


def _archive(folder: Path) -> tuple[Path, Path]:
    """A wide CSV of the planted network, with a NaN gap, and its sensor table."""
    values, _ = planted_network(n_steps=240)
    values[10:14, 5] = np.nan
    ids = [f"st{i:02d}" for i in range(values.shape[1])]
    times = np.datetime64("2024-01-01T00:00") + np.arange(len(values)) * np.timedelta64(1, "h")
    lines = ["time," + ",".join(ids)]
    lines += [
        f"{t}," + ",".join(repr(float(v)) for v in row)
        for t, row in zip(times, values, strict=True)
    ]
    data = folder / "archive.csv"
    data.write_text("\n".join(lines) + "\n")
    table = folder / "sensors.csv"
    rows = [f"{sid},{34 + 0.01 * i:.5f},{-118.3 + 0.013 * i:.5f}" for i, sid in enumerate(ids)]
    table.write_text("id,latitude,longitude\n" + "\n".join(rows) + "\n")
    return data, table


def _pipeline(out: Path, archive: Path, table: Path, recipe: Path) -> None:
    steps = [
        ["ingest", archive, "--sensors", table, "--var", "speed", "-o", out / "dataset.nc"],
        ["fit", out / "dataset.nc", "-o", out / "run", "--recipe", recipe],
        ["prune", out / "run", "--sparsity", "0.4", "-o", out / "plan.json"],
        ["export-plan", out / "plan.json", "-o", out / "plan.geojson", "--map", out / "map.png"],
        ["export-plan", out / "plan.json", "-o", out / "plan.csv"],
    ]
    for step in steps:
        assert main(["-q", *map(str, step)]) == 0, step


def _two_pipelines(root: Path) -> None:
    archive, table = _archive(root)
    recipe = write_recipe(root / "recipe.yaml")
    _pipeline(root / "first", archive, table, recipe)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        _pipeline(root / "second", archive, table, recipe)
    finally:
        torch.set_num_threads(threads)


@pytest.fixture(scope="session")
def two_pipelines(tmp_path_factory, worker_id):
    root = build_once(tmp_path_factory, worker_id, "determinism", _two_pipelines)
    return root / "first", root / "second"


def test_the_same_inputs_and_seed_give_the_same_bytes(two_pipelines):
    first, second = two_pipelines
    differ = [
        name for name in SAME_BYTES if (first / name).read_bytes() != (second / name).read_bytes()
    ]
    assert differ == []


def test_results_hold_no_paths_or_times(two_pipelines):
    first, _ = two_pipelines
    for name in ("plan.json", "plan.csv", "plan.geojson", "run/ranking.json"):
        text = (first / name).read_text()
        assert str(first.parent) not in text, name
        for word in ("seconds", "timestamp", "created", "date"):
            assert word not in text.lower(), (name, word)


def test_wall_clock_times_go_to_timings_json(two_pipelines):
    first, _ = two_pipelines
    timings = json.loads((first / "run" / "timings.json").read_text())
    assert timings["fit_seconds"] >= 0
