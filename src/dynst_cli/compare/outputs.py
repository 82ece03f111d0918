"""What `dynst compare` writes: the results as JSON, CSV and a figure, timings kept apart.

Files in the output folder::

    compare.csv                method,sparsity,n_keep,seed,mae,rmse,mape (the dense model last)
    compare.png                test MAE against sparsity (see `compare.figure`)
    timings.json               seconds per row, the dense model and each stability refit
    stability.json             with several seeds: the stability record
    selection_frequency.csv    with several seeds: sensor_id,selection_frequency
    plan-with-stability.json   with several seeds and a plan: the plan with selection frequencies

Everything but `timings.json` depends only on the inputs and seeds, so that results are
reproducible byte for byte on the CPU.
"""

from __future__ import annotations

from pathlib import Path

from dynst_cli.atomic import rows_to_csv, together, write_json, write_text
from dynst_cli.compare.figure import write_compare_figure
from dynst_cli.compare.runner import CompareResult
from dynst_cli.compare.stability import with_selection_frequency
from dynst_cli.errors import InputError
from dynst_cli.plan.schema import Plan, read_plan, write_plan

CSV_COLUMNS = ("method", "sparsity", "n_keep", "seed", "mae", "rmse", "mape")
JSON_KEYS = ("method", "sparsity", "n_keep", "seed", "mae", "rmse", "mape")


def result_json(result: CompareResult) -> dict:
    """``{"results": [...], "dense": {...}[, "stability": {...}]}`` without timings."""
    out = {
        "results": [{key: row[key] for key in JSON_KEYS} for row in result.results],
        "dense": dict(result.dense),
    }
    if result.stability is not None:
        out["stability"] = result.stability
    return out


def compare_csv_text(result: CompareResult) -> str:
    """The results and the dense model (method ``dense``, sparsity 0) as CSV text."""
    dense = {"method": "dense", "sparsity": 0.0, "seed": None, **result.dense}
    return rows_to_csv(CSV_COLUMNS, [*result.results, dense])


def frequency_csv_text(stability: dict) -> str:
    """``sensor_id,selection_frequency``, one row per sensor in the dataset's order."""
    rows = [
        {"sensor_id": sid, "selection_frequency": f}
        for sid, f in stability["selection_frequency"].items()
    ]
    return rows_to_csv(("sensor_id", "selection_frequency"), rows)


def timings(result: CompareResult) -> dict:
    """Wall-clock seconds of every trained keep set, the dense model and each refit."""
    rows = [
        {
            "method": r["method"],
            "sparsity": r["sparsity"],
            "seed": r["seed"],
            "seconds": round(s, 3),
        }
        for r, s in zip(result.results, result.seconds, strict=False)
    ]
    dense = result.dense_seconds
    return {
        "results": rows,
        "dense_seconds": None if dense is None else round(dense, 3),
        "refit_seconds": [round(s, 3) for s in result.refit_seconds],
    }


def write_compare(result: CompareResult, folder: str | Path, plan: str | Path | None = None):
    """Write the comparison files into `folder` (see the module docstring); returns the paths."""
    folder = Path(folder)
    written = [folder / "compare.csv", folder / "compare.png", folder / "timings.json"]
    with together():  # every file replaces its earlier version, or none does
        write_text(written[0], compare_csv_text(result))
        write_compare_figure(result.results, result.dense, written[1])
        write_json(written[2], timings(result))
        if result.stability is not None:
            written += write_stability(result.stability, folder, plan)
    return written


def write_stability(stability: dict, folder: Path, plan: str | Path | None) -> list[Path]:
    """`stability.json`, `selection_frequency.csv` and, given a plan, `plan-with-stability.json`."""
    paths = [folder / "stability.json", folder / "selection_frequency.csv"]
    write_json(paths[0], stability)
    write_text(paths[1], frequency_csv_text(stability))
    if plan is not None:
        paths.append(folder / "plan-with-stability.json")
        write_plan(plan_with_stability(plan, stability), paths[-1])
    return paths


def plan_with_stability(plan_path: str | Path, stability: dict) -> Plan:
    """The plan at `plan_path` with the selection frequencies of `stability` added."""
    plan = read_plan(plan_path)
    if plan.dataset_sha256 != stability.get("dataset_sha256", plan.dataset_sha256):
        raise InputError(f"{plan_path}: the plan was made on another dataset than the run's")
    return with_selection_frequency(plan, stability["selection_frequency"], stability["seeds"])
