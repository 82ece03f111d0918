"""The plan file (`plan.json`, format `dynst-plan/1`) as a typed `Plan`, written and read here.

A plan is the product of `dynst prune` and the input of `dynst export-plan` and `dynst predict`.
Top-level keys, in the order they are written::

    format, sparsity, n_sensors, n_keep, backbone, dataset_sha256, variables, units, grid,
    constraints, notes, metrics, [most_affected], [model], [selection_frequency_seeds],
    [mean_pairwise_jaccard], sensors

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
the sha256 lets `predict` refuse a plan made from another run. A run ranked by consensus over
several seeds, or fitted with several mask searches (`mask.searches`), gives every sensor its
`selection_frequency`, and the plan the number of seeds or searches (`selection_frequency_seeds`)
and the `mean_pairwise_jaccard` of their keep sets.

Validation comes from the types (pydantic dataclasses: strict numbers, no unknown or missing
key, finite values, ranges) plus the cross-field rules of `Plan._consistent`. The file is written
with :func:`dynst_cli.atomic.write_json`: no timestamps, no absolute paths, plain Python numbers,
so the same plan gives the same bytes.
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    ConfigDict,
    Field,
    InstanceOf,
    StrictBool,
    StrictFloat,
    StrictInt,
    StrictStr,
    TypeAdapter,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic.dataclasses import dataclass

from dynst_cli.atomic import write_json
from dynst_cli.errors import InputError
from dynst_cli.selection.constraints import REASONS

PLAN_FORMAT = "dynst-plan/1"

_STRICT = ConfigDict(extra="forbid", allow_inf_nan=False)


class _Unset:
    """Default of a sensor field that may be null in a plan: absent, as opposed to null."""

    def __repr__(self) -> str:
        return "UNSET"

    def __copy__(self) -> _Unset:
        return self

    def __deepcopy__(self, memo) -> _Unset:
        return self


UNSET = _Unset()
Mae = Annotated[StrictFloat, Field(ge=0.0)] | None | InstanceOf[_Unset]
Sha256 = Annotated[StrictStr, Field(pattern=r"^[0-9a-f]{64}$")]
Degrees = Annotated[StrictFloat, Field(gt=0)]
Count = Annotated[StrictInt, Field(ge=0)]


@dataclass(config=_STRICT, kw_only=True)
class Metrics:
    """Test-split errors in the variables' own units; `mape` in percent, None where undefined."""

    mae: StrictFloat
    rmse: StrictFloat
    mape: StrictFloat | None


@dataclass(config=_STRICT, kw_only=True)
class PlanMetrics:
    """The plan's keep set (`test`) and the dense model (`dense_test`) on the test split."""

    test: Metrics
    dense_test: Metrics


@dataclass(config=_STRICT, kw_only=True)
class Grid:
    """A gridded network: `shape` [H, W] cells of `dlat` x `dlon` degrees."""

    shape: Annotated[list[Annotated[StrictInt, Field(ge=1)]], Field(min_length=2, max_length=2)]
    dlat: Degrees
    dlon: Degrees


@dataclass(config=_STRICT, kw_only=True)
class ModelRef:
    """The weights the metrics were measured with, relative to the run directory."""

    weights: StrictStr
    finetune_epochs: Count
    weights_sha256: Sha256 | None = None

    @field_validator("weights")
    @classmethod
    def _inside_run(cls, weights: str) -> str:
        if Path(weights).is_absolute() or ".." in Path(weights).parts:
            raise ValueError(f"{weights!r} must be a path inside the run folder")
        return weights


@dataclass(config=_STRICT, kw_only=True)
class PlanSensor:
    """One sensor of a plan; `reason` says what kept or dropped it (`selection.REASONS`)."""

    sensor_id: Annotated[StrictStr, Field(min_length=1)]
    lat: Annotated[StrictFloat, Field(ge=-90.0, le=90.0)]
    lon: Annotated[StrictFloat, Field(ge=-180.0, lt=180.0)]
    rank: Annotated[StrictInt, Field(ge=1)]
    score: StrictFloat
    keep: StrictBool
    reason: Literal[REASONS]
    cost: Annotated[StrictFloat, Field(ge=0.0)] | None = None
    row: Count | None = None
    col: Count | None = None
    selection_frequency: Annotated[StrictFloat, Field(ge=0.0, le=1.0)] | None = None
    mae_dense: Mae = UNSET  # test MAE by the dense model; null: no observed test target
    mae_reduced: Mae = UNSET  # test MAE by the reduced network

    @model_validator(mode="after")
    def _cell(self) -> PlanSensor:
        if (self.row is None) != (self.col is None):
            raise ValueError("row and col must be given together")
        return self


@dataclass(config=_STRICT, kw_only=True)
class Plan:
    """A deployment plan: every sensor in rank order, which to keep, and what it costs in error.

    Attributes follow the keys of `plan.json` (module docstring); `to_json` / `from_json`
    convert, and construction checks every type, range and cross-field rule.
    """

    format: Literal[PLAN_FORMAT]
    sparsity: Annotated[StrictFloat, Field(ge=0.0, le=1.0)]
    n_sensors: Annotated[StrictInt, Field(ge=1)]
    n_keep: Count
    backbone: StrictStr
    dataset_sha256: Sha256
    variables: list[StrictStr]
    units: dict[str, StrictStr]
    grid: Grid | None
    constraints: dict[str, Any]
    notes: list[StrictStr]
    metrics: PlanMetrics
    most_affected: list[StrictStr] | None = None
    model: ModelRef | None = None
    selection_frequency_seeds: Annotated[StrictInt, Field(ge=1)] | None = None
    mean_pairwise_jaccard: Annotated[StrictFloat, Field(ge=0.0, le=1.0)] | None = None
    sensors: Annotated[list[PlanSensor], Field(min_length=1)]

    @model_validator(mode="after")
    def _consistent(self) -> Plan:
        if len(self.sensors) != self.n_sensors:
            raise ValueError(
                f"n_sensors is {self.n_sensors} but {len(self.sensors)} sensors listed"
            )
        ids, cells = set(), set()
        for index, sensor in enumerate(self.sensors):
            where = f"sensors[{index}] (sensor {sensor.sensor_id!r})"
            if sensor.rank != index + 1:
                raise ValueError(
                    f"{where}: rank is {sensor.rank}, expected {index + 1} "
                    "(ranks 1..N in list order)"
                )
            if sensor.sensor_id in ids:
                raise ValueError(f"{where}: sensor_id {sensor.sensor_id!r} is listed twice")
            ids.add(sensor.sensor_id)
            if sensor.row is not None:
                if (sensor.row, sensor.col) in cells:
                    raise ValueError(f"{where}: grid cell {(sensor.row, sensor.col)} listed twice")
                cells.add((sensor.row, sensor.col))
            _check_cell(sensor, self.grid, where)
        _check_keep(self)
        unknown = [sid for sid in self.most_affected or () if sid not in ids]
        if unknown:
            raise ValueError(
                f"most_affected names {unknown[0]!r}, which is not a sensor of the plan"
            )
        return self

    @property
    def kept(self) -> list[PlanSensor]:
        """The kept sensors, in rank order."""
        return [s for s in self.sensors if s.keep]

    def to_json(self) -> dict:
        """The `plan.json` object: keys in the canonical order, optional ones only when set."""
        out = {}
        for name in TOP_KEYS:
            value = getattr(self, name)
            if name in OPTIONAL_TOP_KEYS and value is None:
                continue
            if name == "sensors":
                value = [_sensor_json(s) for s in value]
            elif dataclasses.is_dataclass(value):
                value = dataclasses.asdict(value)
                if name == "model" and value["weights_sha256"] is None:
                    del value["weights_sha256"]
            out[name] = value
        return out

    @classmethod
    def from_json(cls, obj: Any, source: str = "plan") -> Plan:
        """Build and validate a plan from its JSON object (numpy scalars are accepted).

        Raises
        ------
        InputError
            Naming `source`, the field and the problem.
        """
        if not isinstance(obj, dict):
            raise InputError(
                f"{source}: invalid plan: expected a JSON object, found {type(obj).__name__}"
            )
        try:
            return _ADAPTER.validate_python(_plain(obj))
        except ValidationError as exc:
            raise InputError(f"{source}: invalid plan: {_first_problem(exc)}") from None

    def replace(self, **changes) -> Plan:
        """A validated copy with `changes` (e.g. ``model=ModelRef(...)``)."""
        return dataclasses.replace(self, **changes)


TOP_KEYS = tuple(f.name for f in dataclasses.fields(Plan))
OPTIONAL_TOP_KEYS = frozenset(
    {"most_affected", "model", "selection_frequency_seeds", "mean_pairwise_jaccard"}
)
SENSOR_KEYS = tuple(f.name for f in dataclasses.fields(PlanSensor))
SENSOR_ERROR_KEYS = ("mae_dense", "mae_reduced")
OPTIONAL_SENSOR_KEYS = frozenset({"cost", "row", "col", "selection_frequency", *SENSOR_ERROR_KEYS})
_ADAPTER = TypeAdapter(Plan)


# ----------------------------------------------------------------------------- files


def write_plan(plan: Plan, path: str | os.PathLike) -> None:
    """Write `plan` to `path` atomically and byte-reproducibly (a dict is validated first).

    Raises
    ------
    InputError
        If a dict given as `plan` is not a consistent plan (the message names `path`).
    """
    if not isinstance(plan, Plan):
        plan = Plan.from_json(plan, source=str(path))
    write_json(path, plan.to_json())


def read_plan(path: str | os.PathLike) -> Plan:
    """Read and validate a plan file.

    Raises
    ------
    InputError
        If the file is missing, unreadable, truncated, not JSON or not a consistent plan; the
        message names the file, the field and the problem (exit code 3).
    """
    path = Path(path)
    return Plan.from_json(_load_json(path), source=str(path))


def plan_record(plan: Plan | dict) -> dict:
    """The `plan.json` object of a plan, for the exports and the map (a dict is validated)."""
    return (plan if isinstance(plan, Plan) else Plan.from_json(plan)).to_json()


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


# ----------------------------------------------------------------------------- rules and helpers


def _check_cell(sensor: PlanSensor, grid: Grid | None, where: str) -> None:
    if grid is None:
        return
    if sensor.row is None:
        raise ValueError(f"{where}: a grid plan needs row and col for every sensor")
    if sensor.row >= grid.shape[0] or sensor.col >= grid.shape[1]:
        raise ValueError(
            f"{where}: cell ({sensor.row}, {sensor.col}) is outside grid shape {grid.shape}"
        )


def _check_keep(plan: Plan) -> None:
    keep = [sensor.keep for sensor in plan.sensors]
    n_kept = sum(keep)
    if plan.n_keep != n_kept:
        raise ValueError(f"n_keep is {plan.n_keep} but {n_kept} sensors have keep true")
    if n_kept and not all(keep[:n_kept]):
        raise ValueError(
            f"sensor of rank {keep.index(False) + 1} is dropped but a sensor of lower rank is "
            "kept (kept sensors must rank above dropped ones)"
        )


def _sensor_json(sensor: PlanSensor) -> dict:
    """The sensor's record; optional keys left out when unset (the errors may be null)."""
    record = dataclasses.asdict(sensor)
    return {
        k: v
        for k, v in record.items()
        if v is not UNSET and not (v is None and k in OPTIONAL_SENSOR_KEYS - set(SENSOR_ERROR_KEYS))
    }


# Names pydantic gives the members of a union in an error's location, not fields of the plan.
_UNION_TAG = re.compile(r"^(?:[a-z]+(?:-[a-z]+)+|.*\[.*\]|float|int|str|bool|none)$")


def _first_problem(exc: ValidationError) -> str:
    """One line naming the field and the problem, e.g. ``sensors[2].lat: ... (found 95.0)``."""
    error = exc.errors(include_url=False)[0]
    loc = [p for p in error["loc"] if not (isinstance(p, str) and _UNION_TAG.match(p))]
    where = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in loc).lstrip(".")
    kind, message = error["type"], error["msg"]
    if kind == "missing":
        parent, _, key = where.rpartition(".")
        return f"{parent or 'plan'}: missing key {key}"
    if kind == "unexpected_keyword_argument":
        parent, _, key = where.rpartition(".")
        return f"{parent or 'plan'}: unknown key {key}; valid: {', '.join(_valid_keys(parent))}"
    if kind == "value_error":
        message = message.removeprefix("Value error, ")
        return f"{where}: {message}" if where else message
    found = error.get("input")
    return f"{where}: {message[0].lower()}{message[1:]} (found {found!r})"


def _valid_keys(parent: str) -> tuple[str, ...]:
    if parent.startswith("sensors["):
        return SENSOR_KEYS
    if not parent:
        return TOP_KEYS
    return ()


def _plain(value: Any) -> Any:
    """Numpy scalars, tuples and nested containers as plain JSON-ready Python values."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if hasattr(value, "item") and not isinstance(value, str | bytes):
        return value.item()  # numpy scalar -> bool, int or float
    return value
