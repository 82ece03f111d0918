"""`dynst predict`: forecast every sensor from the kept sensors of a plan."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from dynst_cli.cli.app import app
from dynst_cli.cli.options import JsonFlag
from dynst_cli.console import log


@app.command("predict")
def predict_command(
    run: Annotated[Path, typer.Argument(help="Run directory written by `dynst fit`.")],
    plan: Annotated[Path, typer.Option("--plan", help="plan.json written by `dynst prune`.")],
    data: Annotated[Path, typer.Option("--data", help="Recent data in the canonical layout.")],
    output: Annotated[Path, typer.Option("--output", "-o", help="Forecast NetCDF to write.")],
    as_json: JsonFlag = False,
) -> None:
    """Forecast the next T_out steps of every sensor from the last T_in steps of the kept ones.

    Example: dynst predict runs/metr --plan plan.json --data recent.nc -o forecast.nc
    """
    from dynst_cli.atomic import atomic_path
    from dynst_cli.plan.schema import read_plan
    from dynst_cli.predict import iso_seconds, predict_from_plan

    forecast = predict_from_plan(run, read_plan(plan), data)
    with atomic_path(output) as tmp:
        forecast.to_netcdf(tmp, engine="netcdf4")
    summary = {
        "output": str(output),
        "n_sensors": int(forecast.sizes["sensor"]),
        "start": iso_seconds(forecast["time"].values[0]),
        "end": iso_seconds(forecast["time"].values[-1]),
        "variables": list(forecast.data_vars),
    }
    if as_json:
        typer.echo(json.dumps(summary))
    else:
        log(f"forecast of {summary['n_sensors']} sensors, {summary['start']} .. {summary['end']}")
        typer.echo(f"forecast written to {output}")
