"""Everything a report shows, gathered from a run, its plans and an optional comparison.

Reads only what `fit`, `prune` and `compare` wrote (and the dataset's attributes, when the
dataset is still where the run found it); nothing is trained or evaluated here.
"""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass, field
from pathlib import Path

from dynst_cli import __version__
from dynst_cli.bundle import ModelBundle
from dynst_cli.errors import InputError, UsageError
from dynst_cli.plan.schema import PLAN_FORMAT, read_plan
from dynst_cli.run import CONFIG, METRICS, RANKING, RunDir
from dynst_cli.selection import Ranking


@dataclass
class ReportInputs:
    """The run's records, its plans (the first is the one the map shows) and the comparison."""

    run_path: Path
    record: dict  # config.json: resolved configuration, dataset path and sha256, dynst version
    metrics: dict  # metrics.json of the fit
    plans: list[dict]  # at least one; a plan built from the fit's keep set when none was given
    plan_names: list[str]
    compare: dict | None = None  # {"results": [...], "dense": {...}} from compare.csv
    stability: dict | None = None  # stability.json of compare, when it refitted several seeds
    sources: list[dict] = field(default_factory=list)  # the dataset's source files and sha256
    report_version: str = __version__


def gather(
    run_path: str | Path, plan_paths: list[Path] | None = None, compare_dir: Path | None = None
) -> ReportInputs:
    """Read the run, the plans (checked against the run's dataset) and the comparison folder."""
    run = RunDir(run_path).require()
    record = run.read_json(CONFIG)
    plan_paths = list(plan_paths or [])
    plans = [read_plan(path).to_json() for path in plan_paths]
    for plan, path in zip(plans, plan_paths, strict=True):
        if plan["dataset_sha256"] != record["dataset"]["sha256"]:
            raise InputError(
                f"{path} was made from another dataset than the run {run.path} "
                "(dataset_sha256 differs); pass plans pruned from this run"
            )
    names = [Path(p).name for p in plan_paths]
    if not plans:
        plans, names = [fit_plan(run, record)], ["the fit's keep set (no --plan given)"]
    compare, stability = read_compare(compare_dir)
    return ReportInputs(
        run_path=run.path,
        record=record,
        metrics=run.read_json(METRICS),
        plans=plans,
        plan_names=names,
        compare=compare,
        stability=stability,
        sources=dataset_sources(Path(record["dataset"]["path"])),
    )


def fit_plan(run: RunDir, record: dict) -> dict:
    """A plan-shaped record of the fit's own keep set, for a report made before any `prune`."""
    bundle = ModelBundle.load(run)
    metrics = run.read_json(METRICS)
    ranking = Ranking.read(run.file(RANKING))
    grid = {"shape": bundle.grid_shape} if bundle.grid_shape else None
    sensors = []
    for rank, i in enumerate(ranking.order, start=1):
        sensor = {
            "sensor_id": ranking.sensor_ids[i],
            "lat": float(bundle.lat[i]),
            "lon": float(bundle.lon[i]),
            "rank": rank,
            "score": float(ranking.scores[i]),
            "keep": bool(ranking.kept[i]),
            "reason": "score",
        }
        if grid is not None:
            sensor["row"], sensor["col"] = int(bundle.rows[i]), int(bundle.cols[i])
        sensors.append(sensor)
    dense = metrics.get("dense") or metrics["dense_warmup"]
    n_keep = sum(s["keep"] for s in sensors)
    return {
        "format": PLAN_FORMAT,
        "sparsity": 1 - n_keep / len(sensors),
        "n_sensors": len(sensors),
        "n_keep": n_keep,
        "backbone": record["config"]["model"]["backbone"],
        "dataset_sha256": record["dataset"]["sha256"],
        "variables": list(bundle.variables),
        "units": dict(bundle.units),
        "grid": _grid_spacing(grid, sensors),
        "constraints": record.get("constraints", {}),
        "notes": [],
        "metrics": {"test": metrics["sparse"]["test"], "dense_test": dense["test"]},
        "sensors": sensors,
    }


def _grid_spacing(grid: dict | None, sensors: list[dict]) -> dict | None:
    """Grid spacing (degrees) from the sensors' positions along rows and columns."""
    if grid is None:
        return None
    by_row = {s["row"]: s["lat"] for s in sensors}
    by_col = {s["col"]: s["lon"] for s in sensors}
    rows, cols = sorted(by_row), sorted(by_col)
    dlat = abs(by_row[rows[1]] - by_row[rows[0]]) / (rows[1] - rows[0]) if len(rows) > 1 else 1.0
    dlon = abs(by_col[cols[1]] - by_col[cols[0]]) / (cols[1] - cols[0]) if len(cols) > 1 else 1.0
    return {"shape": list(grid["shape"]), "dlat": dlat, "dlon": dlon}


def read_compare(folder: Path | None) -> tuple[dict | None, dict | None]:
    """compare.csv as ``{"results", "dense"}`` and stability.json, from a `compare -o` folder."""
    if folder is None:
        return None, None
    folder = Path(folder)
    table = folder / "compare.csv"
    if not table.is_file():
        raise UsageError(f"--compare {folder}: no compare.csv there (write it with dynst compare)")
    results, dense = [], None
    with open(table, newline="", encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            parsed = _compare_row(row, table)
            if parsed["method"] == "dense":
                dense = parsed
            else:
                results.append(parsed)
    if dense is None:
        raise InputError(f"{table}: no row for the dense model")
    stability_path = folder / "stability.json"
    stability = None
    if stability_path.is_file():
        stability = json.loads(stability_path.read_text(encoding="utf-8"))
    return {"results": results, "dense": dense}, stability


def _compare_row(row: dict, path: Path) -> dict:
    try:
        return {
            "method": row["method"],
            "sparsity": float(row["sparsity"]),
            "n_keep": int(row["n_keep"]) if row.get("n_keep") else None,
            "seed": int(row["seed"]) if row.get("seed") else None,
            "mae": float(row["mae"]),
            "rmse": float(row["rmse"]),
            "mape": float(row["mape"]) if row.get("mape") else None,
        }
    except (KeyError, ValueError) as exc:
        raise InputError(f"{path}: not a compare.csv written by dynst compare ({exc})") from None


def dataset_sources(path: Path) -> list[dict]:
    """The dataset's `sources` attribute (file names and sha256), [] if the file is gone."""
    if not path.is_file():
        return []
    import netCDF4

    try:
        with netCDF4.Dataset(path) as ds:
            return json.loads(getattr(ds, "sources", "[]"))
    except (OSError, ValueError):
        return []
