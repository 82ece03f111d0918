"""`dynst ingest`: read an archive, write the canonical dataset, print what it holds."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table
from rich.text import Text

from dynst_cli.cli.app import app
from dynst_cli.console import log, stdout_console
from dynst_cli.errors import UsageError
from dynst_cli.ingest.defaults import DEFAULT_CHUNK_TIME

_HELP = (
    "Turn an archive into the canonical dataset (time x sensor) that dynst fit reads.\n\n"
    "NetCDF grids (one file, several, or a quoted glob; every grid cell becomes a sensor) or CSV: "
    "wide (a time column and one column per sensor, plus --sensors) or long (time, sensor_id, "
    "value[, lat, lon]).\n\n"
    "Examples:\n\n"
    "  dynst ingest 'era5_*.nc' -o dataset.nc\n\n"
    "  dynst ingest speed.csv --sensors locations.csv --var speed --units mph -o dataset.nc --json"
)


@app.command("ingest", help=_HELP, no_args_is_help=True)
def ingest(
    archives: Annotated[
        list[str],
        typer.Argument(help="NetCDF or CSV files, or quoted glob patterns.", show_default=False),
    ],
    output: Annotated[
        Path, typer.Option("--output", "-o", help="Dataset to write (NetCDF4).", show_default=False)
    ],
    var: Annotated[
        list[str] | None,
        typer.Option(
            "--var",
            help="NetCDF: variable to ingest, repeat for channels. Wide CSV: the variable's name. "
            "Long CSV: value column to keep.",
            show_default=False,
        ),
    ] = None,
    sensors: Annotated[
        Path | None,
        typer.Option(
            "--sensors",
            help="CSV sensor table: id, latitude, longitude, optional cost.",
            show_default=False,
        ),
    ] = None,
    time_col: Annotated[
        str | None,
        typer.Option("--time-col", help="Time column of a CSV when not found by name or content."),
    ] = None,
    units: Annotated[
        str | None,
        typer.Option(
            "--units", help="Units of CSV values (default 'unknown').", show_default=False
        ),
    ] = None,
    chunk_time: Annotated[
        int, typer.Option("--chunk-time", help="Time steps per chunk in memory and on disk (>= 1).")
    ] = DEFAULT_CHUNK_TIME,
    resample: Annotated[
        str | None,
        typer.Option(
            "--resample",
            help="Put an irregular time axis on a regular one of this step (e.g. 1h): the mean "
            "of each interval, empty intervals missing.",
            show_default=False,
        ),
    ] = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the summary as one JSON object.")
    ] = False,
) -> None:
    from dynst_cli.ingest import open_archive, summarize, write_dataset
    from dynst_cli.ingest.summary import naming_hints

    _check_output(output, archives, sensors)
    ds = open_archive(archives, var, sensors, time_col, units, chunk_time, resample)
    log(f"writing {ds.sizes['sensor']} sensors x {ds.sizes['time']} time steps to {output}")
    write_dataset(ds, output, chunk_time)
    summary = {"output": str(output), **summarize(ds)}
    for hint in naming_hints(summary, var_given=bool(var)):
        log(f"note: {hint}")
    if as_json:
        typer.echo(json.dumps(summary, allow_nan=False))
    else:
        _print_table(summary)


def _check_output(output: Path, archives: list[str], sensors: Path | None) -> None:
    from dynst_cli.ingest.paths import resolve_paths

    inputs = resolve_paths(archives) + ([sensors] if sensors else [])
    if output.is_dir():
        raise UsageError(f"--output {output} is a folder: name the dataset file, e.g. dataset.nc")
    if any(output.resolve() == Path(p).resolve() for p in inputs):
        raise UsageError(f"--output {output} is one of the inputs: choose another file name")


def _print_table(summary: dict) -> None:
    table = Table(title=Text(f"dataset {summary['output']}"), show_header=False)
    table.add_column("what")
    table.add_column("value")
    variables = ", ".join(f"{v['name']} [{v['units']}]" for v in summary["variables"])
    grid = summary["grid"]
    rows = [
        ("sensors", str(summary["n_sensors"])),
        ("time steps", str(summary["n_time"])),
        ("time range", f"{summary['time_start']} .. {summary['time_end']}"),
        ("time step", f"{summary['time_step']}{'' if summary['regular'] else ' (irregular)'}"),
        ("variables", variables),
        ("missing", f"{summary['missing_percent']:.2f} %"),
        ("dropped (NaN at every step)", str(summary["n_dropped_all_nan"])),
    ]
    if grid:
        rows.append(
            (
                "grid",
                f"{grid['nrows']} x {grid['ncols']} cells, {grid['dlat']} x {grid['dlon']} deg",
            )
        )
    worst = ", ".join(
        f"{w['sensor']} ({w['missing_percent']:.1f} %)" for w in summary["worst_sensors"]
    )
    rows.append(("most missing", worst or "none"))
    for what, value in rows:
        table.add_row(Text(what), Text(value))  # Text: no markup, "[K]" is printed as is
    stdout_console().print(table)
