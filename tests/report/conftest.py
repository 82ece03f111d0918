"""Reports of the shared tiny run, and of the real-coordinate plans of `tests/plan`."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from dynst_cli.cli import main


def _plan_fixtures():
    """tests/plan/conftest.py under its own module name (two conftest modules cannot share one)."""
    path = Path(__file__).parents[1] / "plan" / "conftest.py"
    spec = importlib.util.spec_from_file_location("plan_fixtures", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


_plans = _plan_fixtures()
point_plan, grid_plan, era5_axes = _plans.point_plan, _plans.grid_plan, _plans.era5_axes


@pytest.fixture(scope="session")
def pruned_plans(fitted_run, tmp_path_factory) -> list[Path]:
    """Plans at sparsities 0.5 (the fit's own: no fine-tuning) and 0.25 from the tiny run."""
    folder = tmp_path_factory.mktemp("plans")
    paths = [folder / "plan-0.5.json", folder / "plan-0.25.json"]
    for sparsity, path in zip(("0.5", "0.25"), paths, strict=True):
        assert main(["-q", "prune", str(fitted_run), "--sparsity", sparsity, "-o", str(path)]) == 0
    return paths
