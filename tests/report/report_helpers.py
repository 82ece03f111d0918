"""Reading the map's data back out of a report page."""

from __future__ import annotations

import json
import re
from pathlib import Path

from dynst_cli.report.inputs import ReportInputs


def map_data(page: str) -> dict:
    """The JSON the map script reads: sensors, coastlines, borders, bounds."""
    match = re.search(r"<script type='application/json' id='dynst-data'>(.*?)</script>", page, re.S)
    assert match, "the page has no map data"
    return json.loads(match.group(1).replace("<\\/", "</"))


def inputs_for(plan: dict, **extra) -> ReportInputs:
    """ReportInputs around one plan, with a run record that matches it."""
    record = {
        "dynst_version": "0.1.0",
        "config": {"model": {"backbone": plan["backbone"]}},
        "constraints": {},
        "dataset": {
            "path": "/nonexistent/dataset.nc",
            "sha256": plan["dataset_sha256"],
            "n_sensors": plan["n_sensors"],
            "n_steps": 1000,
            "variables": plan["variables"],
        },
    }
    return ReportInputs(
        run_path=Path("runs/example"),
        record=record,
        metrics={},
        plans=[plan],
        plan_names=["plan.json"],
        **extra,
    )


def with_sensor_errors(plan: dict) -> dict:
    """`plan` with made-up per-sensor errors: dropped sensors 10 % worse, kept ones unchanged."""
    for i, sensor in enumerate(plan["sensors"]):
        sensor["mae_dense"] = 2.0 + 0.01 * i
        sensor["mae_reduced"] = sensor["mae_dense"] * (1.0 if sensor["keep"] else 1.1)
    plan["most_affected"] = [s["sensor_id"] for s in plan["sensors"] if not s["keep"]][:5]
    return plan
