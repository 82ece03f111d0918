"""`dynst compare`: DynST's keep set against random, variance and QR keep sets."""

from __future__ import annotations

import json
from itertools import groupby
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from dynst_cli.cli.app import app
from dynst_cli.cli.options import JsonFlag, parse_sparsities
from dynst_cli.cli.render import DENSE_SAME_BUDGET, MAPE_NOTE
from dynst_cli.console import stdout_console
from dynst_cli.errors import UsageError
from dynst_cli.plan.wording import decimals_for


@app.command("compare")
def compare_command(
    run: Annotated[Path, typer.Argument(help="Run directory written by `dynst fit`.")],
    sparsity: Annotated[
        str, typer.Option("--sparsity", help="Fractions switched off, e.g. 0.3,0.5,0.7.")
    ],
    methods: Annotated[
        str, typer.Option("--methods", help="Comma-separated: dynst, random, variance, qr.")
    ] = "dynst,random,variance,qr",
    seeds: Annotated[
        int,
        typer.Option(
            "--seeds", help="Seeds of random; above 1 also refits DynST that often (stability)."
        ),
    ] = 3,
    output: Annotated[
        Path | None,
        typer.Option(
            "--output",
            "-o",
            help="Folder for compare.csv, compare.png and the rest. (default: table only)",
        ),
    ] = None,
    epochs: Annotated[
        int | None, typer.Option("--epochs", help="Training epochs per keep set (default: run's).")
    ] = None,
    plan: Annotated[
        Path | None,
        typer.Option(
            "--plan", help="plan.json to copy into -o with selection frequencies. (default: none)"
        ),
    ] = None,
    data: Annotated[
        Path | None,
        typer.Option(
            "--data", help="The run's dataset, if it has moved. (default: the path in the run)"
        ),
    ] = None,
    as_json: JsonFlag = False,
) -> None:
    """Train a fresh backbone on each method's keep set and compare their test errors.

    Every keep set gets the run's backbone, epochs, data and seed; only the sensors differ.
    A dense model (every sensor kept) is trained the same way as the reference.

    Example: dynst compare runs/metr --sparsity 0.3,0.5,0.7 --seeds 3 -o compare/
    """
    from dynst_cli.compare.outputs import result_json, write_compare
    from dynst_cli.compare.runner import compare_run, n_trainings
    from dynst_cli.plan.schema import read_plan
    from dynst_cli.progress import StepProgress

    values = parse_sparsities(sparsity)
    if plan is not None:
        if output is None or seeds < 2:
            raise UsageError("--plan needs -o DIR and --seeds of at least 2 (stability)")
        read_plan(plan)  # fail before training, not after
    method_list = [m.strip() for m in methods.split(",") if m.strip()]
    total = n_trainings(method_list, len(values), seeds)
    with StepProgress("compare", total, "model") as progress:
        result = compare_run(
            run,
            values,
            method_list,
            seeds,
            epochs,
            data_path=data,
            workdir=output,
            on_result=lambda row, seconds: progress.step(_result_text(row, seconds)),
            on_refit=lambda seed, s: progress.step(f"DynST refit seed {seed} ({s:.1f} s)"),
        )
    written = write_compare(result, output, plan) if output is not None else []
    if as_json:
        typer.echo(json.dumps(result_json(result)))
        return
    print_compare(result)
    for path in written:
        stdout_console().print(f"wrote {path}", markup=False)


def _result_text(row: dict, seconds: float) -> str:
    seed = "" if row["seed"] is None else f" seed {row['seed']}"
    return (
        f"{row['method']} sparsity {row['sparsity']:.2f}{seed}: "
        f"test MAE {row['mae']:.4g} ({seconds:.1f} s)"
    )


def _fmt(value, key: str, decimals: int) -> str:
    """MAE and RMSE with the table's decimals; MAPE with one, n/a where it is undefined."""
    if value is None:
        return "n/a" if key == "mape" else "-"
    return f"{value:.1f}" if key == "mape" else f"{value:.{decimals}f}"


def print_compare(result) -> None:
    """The comparison table, then the stability summary when there is one."""
    table = Table(title="dynst compare: test error of each keep set (test split)")
    for column in ("method", "sparsity", "kept", "seed", "MAE", "RMSE", "MAPE %", "seconds"):
        table.add_column(column)
    rows = list(zip(result.results, result.seconds, strict=False))
    decimals = decimals_for(result.dense["mae"], *[row["mae"] for row in result.results])
    for _, group in groupby(rows, key=lambda pair: (pair[0]["method"], pair[0]["sparsity"])):
        group = list(group)
        for row, seconds in group:
            table.add_row(*_cells(row, decimals), f"{seconds:.1f}")
        if len(group) > 1:
            table.add_row(*_spread_cells([row for row, _ in group], decimals), "")
    dense_seconds = result.dense_seconds
    dense = {"method": "dense (same budget)", "sparsity": 0.0, "seed": None, **result.dense}
    seconds = "-" if dense_seconds is None else f"{dense_seconds:.1f}"
    table.add_row(*_cells(dense, decimals), seconds)
    console = stdout_console()
    console.print(table)
    console.print(DENSE_SAME_BUDGET, markup=False)
    if result.dense["mape"] is None:
        console.print(MAPE_NOTE, markup=False)
    if result.stability is not None:
        print_stability(result.stability)


def _cells(row: dict, decimals: int) -> list[str]:
    seed = "-" if row["seed"] is None else str(row["seed"])
    return [row["method"], f"{row['sparsity']:.2f}", str(row["n_keep"]), seed] + [
        _fmt(row[key], key, decimals) for key in ("mae", "rmse", "mape")
    ]


def _spread_cells(rows: list[dict], decimals: int) -> list[str]:
    """Mean over seeds with the min-max spread, e.g. ``0.81 [0.78-0.85]``."""
    first = rows[0]
    cells = [first["method"], f"{first['sparsity']:.2f}", str(first["n_keep"]), "mean [min-max]"]
    for key in ("mae", "rmse", "mape"):
        values = [row[key] for row in rows if row[key] is not None]
        if not values:
            cells.append(_fmt(None, key, decimals))
            continue
        mean = sum(values) / len(values)
        low, high = _fmt(min(values), key, decimals), _fmt(max(values), key, decimals)
        cells.append(f"{_fmt(mean, key, decimals)} [{low}-{high}]")
    return cells


def print_stability(stability: dict) -> None:
    """Mean Jaccard overlap, and the sensors that some refits kept and others dropped."""
    console = stdout_console()
    console.print(
        f"DynST stability over {stability['seeds']} refits at sparsity "
        f"{stability['sparsity']:.2f} (keep {stability['n_keep']}): "
        f"mean pairwise Jaccard {stability['mean_jaccard']:.3f}",
        markup=False,
    )
    unsure = sorted(
        ((f, sid) for sid, f in stability["selection_frequency"].items() if 0.0 < f < 1.0),
        key=lambda pair: (-pair[0], pair[1]),
    )
    if not unsure:
        console.print("every refit kept the same sensors", markup=False)
        return
    table = Table(title="sensors kept by some refits only")
    table.add_column("sensor")
    table.add_column("selection frequency")
    for frequency, sensor_id in unsure:
        table.add_row(sensor_id, f"{frequency:.2f}")
    console.print(table)
