"""`export-plan` as a library call: a plan file to GeoJSON or CSV, optionally with a PNG map.

The choices are checked before anything is read or written, so a bad flag is a UsageError
(exit 2) naming it and its valid values; a plan made from another dataset than the one given
is refused (exit 3) unless `force`.
"""

from __future__ import annotations

from pathlib import Path

from dynst_cli.atomic import sha256_file, together
from dynst_cli.errors import InputError, UsageError
from dynst_cli.plan.export import (
    DEFAULT_PRECISION,
    GEOMETRIES,
    MAX_PRECISION,
    STDOUT,
    check_geometry,
    check_sensors_in,
    write_csv,
    write_geojson,
)
from dynst_cli.plan.maps import draw_map
from dynst_cli.plan.schema import Plan, read_plan

FORMAT_BY_SUFFIX = {".geojson": "geojson", ".json": "geojson", ".csv": "csv"}
FORMATS = ("geojson", "csv")


def export_plan_file(
    plan_path: str | Path,
    output: str,
    fmt: str | None = None,
    *,
    map_path: str | Path | None = None,
    geometry: str = "point",
    precision: int = DEFAULT_PRECISION,
    dataset: str | Path | None = None,
    force: bool = False,
    on_warning=None,
) -> dict:
    """Export the plan at `plan_path` to `output` (a file, or "-" for stdout) and draw its map.

    Parameters
    ----------
    fmt : {"geojson", "csv"} or None
        None: from the extension of `output` (.geojson, .json, .csv); GeoJSON for stdout.
    dataset : path or None
        A dataset whose sha256 must match the plan's `dataset_sha256`.
    force : bool
        Export anyway when `dataset` does not match (`on_warning(message)` is told).

    Returns
    -------
    dict
        What was written: ``{"plan", "output", "format", "geometry", "n_sensors", "n_keep",
        "sparsity", "map", "dataset_sha256", "dataset_matches"}`` (`dataset_matches` None when
        no dataset was given).
    """
    plan_path = Path(plan_path)
    out_format = resolve_format(output, fmt, geometry, precision)
    _check_paths(plan_path, output, map_path, dataset)
    plan = read_plan(plan_path)
    check_geometry(plan, geometry)
    matched = _check_dataset(plan, plan_path, dataset, force, on_warning)
    if matched:  # same dataset: still refuse a plan edited to name other sensors
        check_sensors_in(plan, plan_path, dataset)
    with together():  # the table and the map replace earlier files together, or neither does
        if out_format == "geojson":
            write_geojson(plan, output, geometry, precision)
        else:
            write_csv(plan, output, precision)
        if map_path is not None:
            draw_map(plan, map_path)
    return {
        "plan": str(plan_path),
        "output": output,
        "format": out_format,
        "geometry": geometry if out_format == "geojson" else "point",
        "n_sensors": plan.n_sensors,
        "n_keep": plan.n_keep,
        "sparsity": plan.sparsity,
        "map": None if map_path is None else str(map_path),
        "dataset_sha256": plan.dataset_sha256,
        "dataset_matches": matched,
    }


def resolve_format(output: str, fmt: str | None, geometry: str, precision: int) -> str:
    """The output format, after checking `fmt`, `geometry` and `precision` (UsageError)."""
    if fmt is not None and fmt not in FORMATS:
        raise UsageError(f"--format {fmt}: unknown format; valid: {', '.join(FORMATS)}")
    if geometry not in GEOMETRIES:
        raise UsageError(f"--geometry {geometry}: unknown geometry; valid: {', '.join(GEOMETRIES)}")
    if not 0 <= precision <= MAX_PRECISION:
        raise UsageError(f"--precision {precision}: must be 0..{MAX_PRECISION} (RFC 7946)")
    out_format = _format_from_name(output) if fmt is None else fmt
    if out_format == "csv" and geometry == "cell":
        raise UsageError("--geometry cell applies to GeoJSON only; CSV rows are points")
    return out_format


def _format_from_name(output: str) -> str:
    if output == STDOUT:
        return "geojson"
    suffix = Path(output).suffix.lower()
    if suffix not in FORMAT_BY_SUFFIX:
        valid = ", ".join(FORMAT_BY_SUFFIX)
        raise UsageError(
            f"-o {output}: cannot tell the format from extension {suffix or '(none)'!r}; "
            f"use one of {valid} or --format geojson|csv"
        )
    return FORMAT_BY_SUFFIX[suffix]


def _check_paths(plan_path: Path, output: str, map_path, dataset) -> None:
    if dataset is not None and not Path(dataset).is_file():
        raise UsageError(f"--dataset {dataset}: no such file")
    if output != STDOUT and Path(output).resolve() == plan_path.resolve():
        raise UsageError(f"-o {output} would overwrite the plan itself")
    if map_path is not None and Path(map_path).suffix.lower() != ".png":
        raise UsageError(f"--map {map_path}: the map is a PNG; give a name ending in .png")


def _check_dataset(plan: Plan, plan_path: Path, dataset, force: bool, on_warning) -> bool | None:
    """True if `dataset` matches the plan's dataset_sha256, None if not checked."""
    if dataset is None:
        return None
    actual = sha256_file(dataset)
    if actual == plan.dataset_sha256:
        return True
    message = (
        f"{plan_path} was made from a dataset with sha256 {plan.dataset_sha256}, "
        f"but {dataset} has sha256 {actual}"
    )
    if not force:
        raise InputError(f"{message} (use --force to export anyway)")
    if on_warning:
        on_warning(f"warning: {message}; exporting anyway (--force)")
    return False
