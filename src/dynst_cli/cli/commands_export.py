"""`dynst export-plan`: a plan as GeoJSON or CSV for GIS tools and spreadsheets, and a map."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from dynst_cli.cli.app import app
from dynst_cli.console import log
from dynst_cli.errors import UsageError

# Choices are checked by the library rather than by Typer, so that a bad value is a dynst
# UsageError (exit 2) with the valid choices in the message.


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
    from dynst_cli.plan.exporting import export_plan_file

    if output == "-" and as_json:
        raise UsageError("--json and -o - both write to stdout; give -o a file name")
    summary = export_plan_file(
        plan_path, output, fmt, map_path=map_path, geometry=geometry, precision=precision,
        dataset=dataset, force=force, on_warning=log,
    )  # fmt: skip
    if as_json:
        typer.echo(json.dumps(summary))
    target = "stdout" if output == "-" else output
    counts = f"{summary['n_sensors']} sensors, {summary['n_keep']} kept"
    log(f"wrote {target}: {counts} ({summary['format']})")
    if map_path is not None:
        log(f"wrote {map_path}: map of the plan")
