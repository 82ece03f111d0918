"""`dynst export-plan`: a plan as GeoJSON or CSV for GIS tools and spreadsheets, and a map."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from dynst_cli.cli.app import app
from dynst_cli.console import log
from dynst_cli.errors import InputError, UsageError

FORMAT_BY_SUFFIX = {".geojson": "geojson", ".json": "geojson", ".csv": "csv"}
FORMATS = ("geojson", "csv")
GEOMETRIES = ("point", "cell")
# Choices are checked here rather than by Typer, so that a bad value is a dynst UsageError (exit 2)
# with the valid choices in the message.


@app.command("export-plan")
def export_plan(
    plan_path: Annotated[
        Path,
        typer.Argument(metavar="PLAN.json", help="Plan from dynst prune."),
    ],
    output: Annotated[
        str,
        typer.Option(
            "--output", "-o", help="Output file (.geojson, .json or .csv), or - for stdout."
        ),
    ],
    fmt: Annotated[
        str | None,
        typer.Option("--format", help="geojson or csv; default: from the extension of -o."),
    ] = None,
    map_path: Annotated[
        Path | None, typer.Option("--map", help="Also draw the plan as a PNG map here.")
    ] = None,
    geometry: Annotated[
        str,
        typer.Option(help="GeoJSON geometry: point (each sensor) or cell (grid plans only)."),
    ] = "point",
    precision: Annotated[
        int, typer.Option(help="Decimals of lat/lon, 0..7 (RFC 7946: at most 7).")
    ] = 6,
    dataset: Annotated[
        Path | None,
        typer.Option(help="Check that the plan was made from this dataset (sha256)."),
    ] = None,
    force: Annotated[
        bool, typer.Option("--force", help="Export even if --dataset does not match the plan.")
    ] = False,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print one JSON object describing what was written.")
    ] = False,
) -> None:
    """Export a plan as RFC 7946 GeoJSON or CSV (rank order), optionally with a PNG map.

    Examples:

        dynst export-plan plan.json -o plan.geojson --map plan.png

        dynst export-plan plan.json -o - --format csv --dataset dataset.nc

    GeoJSON: a Feature per sensor (lon/lat, WGS84): sensor_id, rank, score, keep, reason
    and, where the plan has them, cost, selection_frequency, row, col, mae_dense, mae_reduced.

    CSV: sensor_id,lat,lon,rank,score,keep,reason[,cost,selection_frequency,row,col,
    mae_dense,mae_reduced] (test MAE per sensor, in the variable's units).
    """
    from dynst_cli.atomic import together
    from dynst_cli.plan.export import check_geometry, check_sensors_in, write_csv, write_geojson
    from dynst_cli.plan.maps import draw_map
    from dynst_cli.plan.schema import read_plan

    out_format = _resolve_format(output, fmt, geometry, precision)
    _check_paths(plan_path, output, map_path, dataset, as_json)
    plan = read_plan(plan_path)
    check_geometry(plan, geometry)
    dataset_checked = _check_dataset(plan, plan_path, dataset, force)
    if dataset_checked:  # same dataset: still refuse a plan edited to name other sensors
        check_sensors_in(plan, plan_path, dataset)
    with together():  # the table and the map replace earlier files together, or neither does
        if out_format == "geojson":
            write_geojson(plan, output, geometry, precision)
        else:
            write_csv(plan, output, precision)
        if map_path is not None:
            draw_map(plan, map_path)
    _report(plan, plan_path, output, out_format, geometry, map_path, dataset_checked, as_json)


def _resolve_format(output: str, fmt: str | None, geometry: str, precision: int) -> str:
    from dynst_cli.plan.export import MAX_PRECISION

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
    if output == "-":
        return "geojson"
    suffix = Path(output).suffix.lower()
    if suffix not in FORMAT_BY_SUFFIX:
        valid = ", ".join(FORMAT_BY_SUFFIX)
        raise UsageError(
            f"-o {output}: cannot tell the format from extension {suffix or '(none)'!r}; "
            f"use one of {valid} or --format geojson|csv"
        )
    return FORMAT_BY_SUFFIX[suffix]


def _check_paths(plan_path, output: str, map_path, dataset, as_json: bool) -> None:
    if dataset is not None and not dataset.is_file():
        raise UsageError(f"--dataset {dataset}: no such file")
    if output == "-" and as_json:
        raise UsageError("--json and -o - both write to stdout; give -o a file name")
    if output != "-" and Path(output).resolve() == plan_path.resolve():
        raise UsageError(f"-o {output} would overwrite the plan itself")
    if map_path is not None and map_path.suffix.lower() != ".png":
        raise UsageError(f"--map {map_path}: the map is a PNG; give a name ending in .png")


def _check_dataset(plan, plan_path: Path, dataset: Path | None, force: bool) -> bool | None:
    """True if `dataset` matches the plan's dataset_sha256, None if not checked."""
    if dataset is None:
        return None
    from dynst_cli.atomic import sha256_file

    actual = sha256_file(dataset)
    if actual == plan.dataset_sha256:
        return True
    message = (
        f"{plan_path} was made from a dataset with sha256 {plan.dataset_sha256}, "
        f"but {dataset} has sha256 {actual}"
    )
    if not force:
        raise InputError(f"{message} (use --force to export anyway)")
    log(f"warning: {message}; exporting anyway (--force)")
    return False


def _report(plan, plan_path, output, out_format, geometry, map_path, matched, as_json) -> None:
    summary = {
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
    if as_json:
        typer.echo(json.dumps(summary))
    target = "stdout" if output == "-" else output
    log(f"wrote {target}: {plan.n_sensors} sensors, {plan.n_keep} kept ({out_format})")
    if map_path is not None:
        log(f"wrote {map_path}: map of the plan")
