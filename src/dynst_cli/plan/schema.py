"""The plan file (`plan.json`, format `dynst-plan/1`): writing it reproducibly, reading it safely.

A plan is the product of `dynst prune` and the input of `dynst export-plan` and `dynst predict`.
Top-level keys, in the order they are written::

    format, sparsity, n_sensors, n_keep, backbone, dataset_sha256, variables, units, grid,
    constraints, notes, metrics, [most_affected], [model], [selection_frequency_seeds], sensors

`sensors` lists every sensor in rank order (rank 1 = most important), each as
``{sensor_id, lat, lon, rank, score, keep, reason[, cost][, row, col][, selection_frequency]
[, mae_dense, mae_reduced]}`` with `lat`, `lon` in WGS84 degrees and lon in [-180, 180). Kept
sensors rank above dropped ones. `mae_dense` and `mae_reduced` are the test MAE of that sensor's
forecast (variables' units) by the dense model and by the reduced network, null for a sensor with
no observed test target; `most_affected` lists the ids of the sensors whose MAE rises most.
`metrics` holds `test` and `dense_test`, each `{mae, rmse, mape}` in the variables' original
units (`mape` in percent, null where undefined). `grid` is null for point networks and
``{"shape": [H, W], "dlat": deg, "dlon": deg}`` for gridded ones, whose sensors then carry their
`row` and `col`. `model`, where present, names the weights the metrics were measured with,
``{"weights": path relative to the run, "finetune_epochs": int[, "weights_sha256": hex]}``;
the sha256 lets `predict` refuse a plan made from another run.

The file is written with :func:`dynst_cli.atomic.write_json`: no timestamps, no absolute paths,
plain Python numbers, so the same plan gives the same bytes.
"""

from __future__ import annotations

import json
import math
import numbers
import os
import re
from pathlib import Path
from typing import Any

import numpy as np

from dynst_cli.atomic import write_json
from dynst_cli.errors import InputError
from dynst_cli.selection.constraints import REASONS

PLAN_FORMAT = "dynst-plan/1"

TOP_KEYS = (
    "format",
    "sparsity",
    "n_sensors",
    "n_keep",
    "backbone",
    "dataset_sha256",
    "variables",
    "units",
    "grid",
    "constraints",
    "notes",
    "metrics",
    "most_affected",
    "model",
    "selection_frequency_seeds",
    "sensors",
)
OPTIONAL_TOP_KEYS = frozenset({"most_affected", "model", "selection_frequency_seeds"})

SENSOR_KEYS = (
    "sensor_id",
    "lat",
    "lon",
    "rank",
    "score",
    "keep",
    "reason",
    "cost",
    "row",
    "col",
    "selection_frequency",
    "mae_dense",
    "mae_reduced",
)
SENSOR_ERROR_KEYS = ("mae_dense", "mae_reduced")
OPTIONAL_SENSOR_KEYS = frozenset({"cost", "row", "col", "selection_frequency", *SENSOR_ERROR_KEYS})


MODEL_KEYS = ("weights", "finetune_epochs", "weights_sha256")

METRIC_SPLITS = ("test", "dense_test")
METRIC_NAMES = ("mae", "rmse", "mape")

_SHA256 = re.compile(r"[0-9a-f]{64}")


class _PlanProblem(Exception):
    """A problem found while validating; turned into an InputError naming the source."""


# ----------------------------------------------------------------------------- public API


def write_plan(plan: dict, path: str | os.PathLike) -> None:
    """Validate `plan` and write it to `path` atomically and byte-reproducibly.

    Parameters
    ----------
    plan : dict
        A plan as described in the module docstring; numpy scalars are accepted and written as
        plain Python numbers, keys are written in the canonical order.
    path : str or os.PathLike
        Target file; written to a temporary name in the same folder, then renamed.

    Raises
    ------
    InputError
        If the plan is inconsistent (the message names `path` and the problem).
    """
    validate_plan(plan, source=str(path))
    write_json(path, canonical_plan(plan))


def read_plan(path: str | os.PathLike) -> dict:
    """Read and validate a plan file.

    Parameters
    ----------
    path : str or os.PathLike
        A `plan.json` written by `dynst prune`.

    Returns
    -------
    dict
        The plan, keys in the canonical order.

    Raises
    ------
    InputError
        If the file is missing, unreadable, truncated, not JSON or not a consistent plan; the
        message names the file and the problem (exit code 3).
    """
    path = Path(path)
    plan = _load_json(path)
    validate_plan(plan, source=str(path))
    return canonical_plan(plan)


def validate_plan(plan: Any, source: str = "plan") -> None:
    """Check every key, type and cross-field rule of a plan.

    Rules: all required keys present and no unknown ones; `format` is ``dynst-plan/1``; numbers
    are finite; `n_sensors` equals the number of sensors; `n_keep` equals the number kept; ranks
    are 1..N in list order; kept sensors rank above dropped ones; sensor ids are unique; lat in
    [-90, 90], lon in [-180, 180); grid plans give every sensor a distinct in-range `row`, `col`.

    Parameters
    ----------
    plan : Any
        The parsed JSON object.
    source : str
        What to call the plan in error messages (usually its file name).

    Raises
    ------
    InputError
        Naming `source` and the first problem found.
    """
    try:
        _check_plan(plan)
    except _PlanProblem as exc:
        raise InputError(f"{source}: invalid plan: {exc}") from None


def canonical_plan(plan: dict) -> dict:
    """A copy of a valid plan with keys in the canonical order and plain Python scalars."""
    out = {key: _plain(plan[key]) for key in TOP_KEYS if key in plan and key != "sensors"}
    out["sensors"] = [
        {key: _plain(sensor[key]) for key in SENSOR_KEYS if key in sensor}
        for sensor in plan["sensors"]
    ]
    for key in ("sparsity",):
        out[key] = float(out[key])
    for sensor in out["sensors"]:
        for key in ("lat", "lon", "score", "cost", "selection_frequency", *SENSOR_ERROR_KEYS):
            if sensor.get(key) is not None:
                sensor[key] = float(sensor[key])
    return out


# ----------------------------------------------------------------------------- reading


def _load_json(path: Path) -> Any:
    if not path.is_file():
        raise InputError(f"{path}: plan file not found")
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"{path}: cannot read plan file: {exc}") from None
    if not text.strip():
        raise InputError(f"{path}: plan file is empty")
    try:
        return json.loads(text, parse_constant=_reject_constant)
    except json.JSONDecodeError as exc:
        hint = " (truncated?)" if exc.pos >= len(text.rstrip()) else ""
        raise InputError(
            f"{path}: line {exc.lineno}, column {exc.colno}: not valid JSON{hint}: {exc.msg}"
        ) from None
    except ValueError as exc:
        raise InputError(f"{path}: not valid JSON: {exc}") from None


def _reject_constant(name: str) -> None:
    raise ValueError(f"{name} is not a number JSON allows")


# ----------------------------------------------------------------------------- validation


def _check_plan(plan: Any) -> None:
    if not isinstance(plan, dict):
        raise _PlanProblem(f"expected a JSON object, found {type(plan).__name__}")
    _check_keys(plan, TOP_KEYS, OPTIONAL_TOP_KEYS, "plan")
    if plan["format"] != PLAN_FORMAT:
        raise _PlanProblem(f"format is {plan['format']!r}, expected {PLAN_FORMAT!r}")
    _check_header(plan)
    _check_metrics(plan["metrics"])
    if "model" in plan:
        _check_model(plan["model"])
    _check_sensors(plan)
    if "most_affected" in plan:
        _check_most_affected(plan)


def _check_most_affected(plan: dict) -> None:
    _string_list(plan["most_affected"], "most_affected")
    ids = {sensor["sensor_id"] for sensor in plan["sensors"]}
    unknown = [sid for sid in plan["most_affected"] if sid not in ids]
    if unknown:
        raise _PlanProblem(f"most_affected names {unknown[0]!r}, which is not a sensor of the plan")


def _check_keys(obj: dict, keys: tuple, optional: frozenset, where: str) -> None:
    missing = [k for k in keys if k not in obj and k not in optional]
    if missing:
        raise _PlanProblem(f"{where}: missing key(s) {', '.join(missing)}")
    unknown = sorted(k for k in obj if k not in keys)
    if unknown:
        raise _PlanProblem(
            f"{where}: unknown key(s) {', '.join(map(str, unknown))}; valid: {', '.join(keys)}"
        )


def _check_header(plan: dict) -> None:
    sparsity = _number(plan["sparsity"], "sparsity")
    if not 0.0 <= sparsity <= 1.0:
        raise _PlanProblem(f"sparsity {sparsity} is outside [0, 1]")
    _integer(plan["n_sensors"], "n_sensors", minimum=1)
    _integer(plan["n_keep"], "n_keep", minimum=0)
    _string(plan["backbone"], "backbone")
    sha = _string(plan["dataset_sha256"], "dataset_sha256")
    if not _SHA256.fullmatch(sha):
        raise _PlanProblem(f"dataset_sha256 {sha!r} is not 64 lower-case hex digits")
    _string_list(plan["variables"], "variables")
    _string_dict(plan["units"], "units")
    _check_grid(plan["grid"])
    if not isinstance(plan["constraints"], dict):
        raise _PlanProblem("constraints must be an object")
    _string_list(plan["notes"], "notes")
    if "selection_frequency_seeds" in plan:
        _integer(plan["selection_frequency_seeds"], "selection_frequency_seeds", minimum=1)


def _check_grid(grid: Any) -> None:
    if grid is None:
        return
    if not isinstance(grid, dict):
        raise _PlanProblem("grid must be null or an object with shape, dlat, dlon")
    _check_keys(grid, ("shape", "dlat", "dlon"), frozenset(), "grid")
    shape = grid["shape"]
    if not isinstance(shape, list) or len(shape) != 2:
        raise _PlanProblem("grid.shape must be a list [H, W]")
    for i, size in enumerate(shape):
        _integer(size, f"grid.shape[{i}]", minimum=1)
    for key in ("dlat", "dlon"):
        if _number(grid[key], f"grid.{key}") <= 0:
            raise _PlanProblem(f"grid.{key} must be positive degrees")


def _check_metrics(metrics: Any) -> None:
    if not isinstance(metrics, dict):
        raise _PlanProblem("metrics must be an object with test and dense_test")
    _check_keys(metrics, METRIC_SPLITS, frozenset(), "metrics")
    for split in METRIC_SPLITS:
        block = metrics[split]
        if not isinstance(block, dict):
            raise _PlanProblem(f"metrics.{split} must be an object with mae, rmse, mape")
        _check_keys(block, METRIC_NAMES, frozenset(), f"metrics.{split}")
        for name in METRIC_NAMES:
            value = block[name]
            if not (name == "mape" and value is None):
                _number(value, f"metrics.{split}.{name}")


def _check_model(model: Any) -> None:
    if not isinstance(model, dict):
        raise _PlanProblem("model must be an object with weights and finetune_epochs")
    _check_keys(model, MODEL_KEYS, frozenset({"weights_sha256"}), "model")
    weights = _string(model["weights"], "model.weights")
    if Path(weights).is_absolute() or ".." in Path(weights).parts:
        raise _PlanProblem(f"model.weights {weights!r} must be a path inside the run folder")
    _integer(model["finetune_epochs"], "model.finetune_epochs", minimum=0)
    if "weights_sha256" in model and not _SHA256.fullmatch(
        _string(model["weights_sha256"], "model.weights_sha256")
    ):
        raise _PlanProblem("model.weights_sha256 is not 64 lower-case hex digits")


def _check_sensors(plan: dict) -> None:
    sensors = plan["sensors"]
    if not isinstance(sensors, list) or not sensors:
        raise _PlanProblem("sensors must be a non-empty list")
    if len(sensors) != plan["n_sensors"]:
        raise _PlanProblem(f"n_sensors is {plan['n_sensors']} but {len(sensors)} sensors listed")
    seen_ids: set[str] = set()
    seen_cells: set[tuple[int, int]] = set()
    for index, sensor in enumerate(sensors):
        where = f"sensors[{index}]"
        if not isinstance(sensor, dict):
            raise _PlanProblem(f"{where} must be an object")
        if isinstance(sensor.get("sensor_id"), str):
            where = f"{where} (sensor {sensor['sensor_id']!r})"
        try:
            _check_sensor(sensor, index, plan["grid"])
        except _PlanProblem as exc:
            raise _PlanProblem(f"{where}: {exc}") from None
        _check_unique(sensor, seen_ids, seen_cells, where)
    _check_keep(plan)


def _check_sensor(sensor: dict, index: int, grid: dict | None) -> None:
    _check_keys(sensor, SENSOR_KEYS, OPTIONAL_SENSOR_KEYS, "sensor")
    if not _string(sensor["sensor_id"], "sensor_id"):
        raise _PlanProblem("sensor_id is empty")
    lat = _number(sensor["lat"], "lat")
    lon = _number(sensor["lon"], "lon")
    if not -90.0 <= lat <= 90.0:
        raise _PlanProblem(f"lat {lat} is outside [-90, 90]")
    if not -180.0 <= lon < 180.0:
        raise _PlanProblem(f"lon {lon} is outside [-180, 180)")
    rank = _integer(sensor["rank"], "rank", minimum=1)
    if rank != index + 1:
        raise _PlanProblem(f"rank is {rank}, expected {index + 1} (ranks 1..N in list order)")
    _number(sensor["score"], "score")
    if not isinstance(sensor["keep"], bool | np.bool_):
        raise _PlanProblem(f"keep must be true or false, found {sensor['keep']!r}")
    if sensor["reason"] not in REASONS:
        raise _PlanProblem(f"reason {sensor['reason']!r} is not one of {', '.join(REASONS)}")
    _check_optional(sensor, grid)


def _check_optional(sensor: dict, grid: dict | None) -> None:
    if "cost" in sensor and _number(sensor["cost"], "cost") < 0:
        raise _PlanProblem("cost must not be negative")
    if "selection_frequency" in sensor:
        freq = _number(sensor["selection_frequency"], "selection_frequency")
        if not 0.0 <= freq <= 1.0:
            raise _PlanProblem(f"selection_frequency {freq} is outside [0, 1]")
    for key in SENSOR_ERROR_KEYS:
        if sensor.get(key) is not None and _number(sensor[key], key) < 0:
            raise _PlanProblem(f"{key} must not be negative")
    if ("row" in sensor) != ("col" in sensor):
        raise _PlanProblem("row and col must be given together")
    if grid is not None and "row" not in sensor:
        raise _PlanProblem("a grid plan needs row and col for every sensor")
    if "row" in sensor:
        row = _integer(sensor["row"], "row", minimum=0)
        col = _integer(sensor["col"], "col", minimum=0)
        if grid is not None and (row >= grid["shape"][0] or col >= grid["shape"][1]):
            raise _PlanProblem(f"cell ({row}, {col}) is outside grid shape {grid['shape']}")


def _check_unique(sensor: dict, ids: set, cells: set, where: str) -> None:
    if sensor["sensor_id"] in ids:
        raise _PlanProblem(f"{where}: sensor_id {sensor['sensor_id']!r} is listed twice")
    ids.add(sensor["sensor_id"])
    if "row" in sensor:
        cell = (int(sensor["row"]), int(sensor["col"]))
        if cell in cells:
            raise _PlanProblem(f"{where}: grid cell {cell} is listed twice")
        cells.add(cell)


def _check_keep(plan: dict) -> None:
    keep = [sensor["keep"] for sensor in plan["sensors"]]
    n_kept = sum(keep)
    if plan["n_keep"] != n_kept:
        raise _PlanProblem(f"n_keep is {plan['n_keep']} but {n_kept} sensors have keep true")
    if n_kept and not all(keep[:n_kept]):
        first_dropped = keep.index(False)
        raise _PlanProblem(
            f"sensor of rank {first_dropped + 1} is dropped but a sensor of lower rank is kept "
            "(kept sensors must rank above dropped ones)"
        )


# ----------------------------------------------------------------------------- scalar checks


def _number(value: Any, name: str) -> float:
    if isinstance(value, bool | np.bool_) or not isinstance(value, numbers.Real):
        raise _PlanProblem(f"{name} must be a number, found {value!r}")
    if not math.isfinite(value):
        raise _PlanProblem(f"{name} must be finite, found {value!r}")
    return float(value)


def _integer(value: Any, name: str, minimum: int) -> int:
    if isinstance(value, bool | np.bool_) or not isinstance(value, numbers.Integral):
        raise _PlanProblem(f"{name} must be an integer, found {value!r}")
    if value < minimum:
        raise _PlanProblem(f"{name} must be at least {minimum}, found {value}")
    return int(value)


def _string(value: Any, name: str) -> str:
    if not isinstance(value, str):
        raise _PlanProblem(f"{name} must be a string, found {value!r}")
    return value


def _string_list(value: Any, name: str) -> None:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise _PlanProblem(f"{name} must be a list of strings")


def _string_dict(value: Any, name: str) -> None:
    if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
        raise _PlanProblem(f"{name} must be an object of strings")


def _plain(value: Any) -> Any:
    """Numpy scalars, tuples and nested containers as plain JSON-ready Python values."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if hasattr(value, "item") and not isinstance(value, str | bytes):
        return value.item()  # numpy scalar -> bool, int or float
    return value
