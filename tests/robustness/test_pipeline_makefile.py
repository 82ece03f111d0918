"""recipes/Makefile is idempotent: a second `make` rebuilds nothing, and a newer archive rebuilds
everything downstream of it. Runs the real `dynst` with a tiny recipe on a small archive.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from robustness.conftest import REPO, write_recipe
from synthetic import planted_network

OUTPUTS = ("dataset.nc", "run/model.pt", "plan.json", "plan.geojson", "map.png", "plan.csv")

pytestmark = [
    pytest.mark.skipif(shutil.which("make") is None, reason="needs GNU make"),
    pytest.mark.slow,
]


def _make(variables: dict, *flags: str) -> subprocess.CompletedProcess:
    args = [f"{key}={value}" for key, value in variables.items()]
    return subprocess.run(
        ["make", "-f", str(REPO / "recipes" / "Makefile"), *flags, *args],
        cwd=REPO,
        capture_output=True,
        text=True,
        env={**os.environ, "NO_COLOR": "1"},
        timeout=300,
    )


def _mtimes(out: Path) -> dict[str, int]:
    return {name: (out / name).stat().st_mtime_ns for name in OUTPUTS}


@pytest.fixture
def variables(tmp_path):
    values, _ = planted_network(n_steps=160)
    ids = [f"d{i:02d}" for i in range(values.shape[1])]
    times = np.datetime64("2024-02-01T00:00") + np.arange(len(values)) * np.timedelta64(1, "h")
    lines = ["time," + ",".join(ids)] + [
        f"{t}," + ",".join(f"{v:.4f}" for v in row) for t, row in zip(times, values, strict=True)
    ]
    (tmp_path / "speed.csv").write_text("\n".join(lines) + "\n")
    table = [f"{sid},{34 + 0.01 * i:.4f},{-118 - 0.01 * i:.4f}" for i, sid in enumerate(ids)]
    (tmp_path / "sensors.csv").write_text("id,latitude,longitude\n" + "\n".join(table) + "\n")
    return {
        "OUT": tmp_path / "out",
        "DYNST": f"{sys.executable} -m dynst_cli",
        "SOURCE": tmp_path / "speed.csv",
        "SENSORS": tmp_path / "sensors.csv",
        "RECIPE": write_recipe(tmp_path / "tiny.yaml", epochs=2),
        "FLAGS": "--quiet",
    }


def test_second_make_rebuilds_nothing_and_a_newer_archive_rebuilds_everything_after_it(variables):
    first = _make(variables)
    assert first.returncode == 0, first.stderr
    out = Path(variables["OUT"])
    built = _mtimes(out)
    assert _make(variables, "-q").returncode == 0  # everything is up to date
    again = _make(variables)
    assert again.returncode == 0 and "dynst_cli" not in again.stdout
    assert _mtimes(out) == built

    later = built["plan.csv"] + 10**9
    os.utime(variables["SOURCE"], ns=(later, later))
    assert _make(variables, "-q").returncode == 1  # out of date
    planned = _make(variables, "-n").stdout  # what make would run, without running it
    for command in (" ingest ", " fit ", " prune ", " export-plan "):
        assert command in planned, planned
    assert planned.count(" export-plan ") == 2  # the GeoJSON with its map, and the CSV


def test_a_failed_step_leaves_no_target_behind(variables, tmp_path):
    (tmp_path / "speed.csv").write_text("not, a, useful\narchive\n")
    result = _make(variables)
    assert result.returncode != 0
    assert not (Path(variables["OUT"]) / "dataset.nc").exists()
    assert "Traceback" not in result.stderr
