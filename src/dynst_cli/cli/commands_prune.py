"""`dynst prune`: the deployment plan at one or several sparsities."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from dynst_cli.cli.app import app
from dynst_cli.cli.options import (
    Budget,
    ExcludeFile,
    ExcludeIds,
    JsonFlag,
    KeepFile,
    KeepIds,
    MinSpacing,
    PerRegionMin,
    Regions,
    check_at_least,
    parse_sparsities,
)
from dynst_cli.cli.render import print_curve, print_plan_summary
from dynst_cli.errors import UsageError


@app.command("prune")
def prune_command(
    run: Annotated[Path, typer.Argument(help="Run directory written by `dynst fit`.")],
    sparsity: Annotated[
        str, typer.Option("--sparsity", help="Fraction switched off, or a list: 0.1,0.3,0.5.")
    ],
    output: Annotated[
        Path | None,
        typer.Option(
            "--output",
            "-o",
            help="plan.json (one sparsity) or a folder (several). (default: write nothing)",
        ),
    ] = None,
    finetune_epochs: Annotated[
        int | None,
        typer.Option(
            "--finetune-epochs",
            help="Frozen-mask epochs (default: the recipe's when "
            "the keep set differs from the fit's, else 0).",
        ),
    ] = None,
    data: Annotated[
        Path | None,
        typer.Option(
            "--data", help="The run's dataset, if it has moved. (default: the path in the run)"
        ),
    ] = None,
    keep: KeepIds = None,
    keep_file: KeepFile = None,
    exclude: ExcludeIds = None,
    exclude_file: ExcludeFile = None,
    budget: Budget = None,
    min_spacing_km: MinSpacing = None,
    regions: Regions = None,
    per_region_min: PerRegionMin = None,
    as_json: JsonFlag = False,
) -> None:
    """Keep N - round(S*N) sensors in the run's rank order and report the reduced network's error.

    Example: dynst prune runs/metr --sparsity 0.5 -o plan.json

    Example: dynst prune runs/metr --sparsity 0.1,0.3,0.5,0.7,0.9 -o plans/
    """
    from dynst_cli.prune import prune_many, prune_one
    from dynst_cli.selection import constraints_from_options

    values = parse_sparsities(sparsity)
    check_at_least(finetune_epochs, 0, "--finetune-epochs")
    constraints = constraints_from_options(
        keep, keep_file, exclude, exclude_file, budget, min_spacing_km, regions, per_region_min
    )
    if len(values) == 1:
        plan = prune_one(run, values[0], output, finetune_epochs, constraints, data)
        if as_json:
            typer.echo(json.dumps(plan.to_json()))
        else:
            print_plan_summary(plan, str(output) if output else None)
        return
    if output is None:
        raise UsageError("several sparsities need -o DIR/ for the plans and the curve")
    rows, dense = prune_many(run, values, output, finetune_epochs, constraints, data)
    if as_json:
        typer.echo(json.dumps({"curve": rows, "dense_test": dense, "output": str(output)}))
    else:
        from dynst_cli.plan.schema import read_plan
        from dynst_cli.plan.wording import unit_of
        from dynst_cli.prune import plan_filename

        print_curve(rows, dense, unit_of(read_plan(output / plan_filename(values[0])).to_json()))
