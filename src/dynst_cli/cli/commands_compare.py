"""`dynst compare`: DynST's keep set against random, variance and QR keep sets."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from dynst_cli.cli.app import app
from dynst_cli.cli.options import JsonFlag, parse_list, parse_sparsities
from dynst_cli.cli.render import DENSE_SAME_BUDGET, MAPE_NOTE
from dynst_cli.console import stdout_console
from dynst_cli.errors import UsageError


@app.command("compare")
def compare_command(
    run: Annotated[Path, typer.Argument(help="Run directory written by `dynst fit`.")],
    sparsity: Annotated[
        str, typer.Option("--sparsity", help="Fractions switched off, e.g. 0.3,0.5,0.7.")
    ],
    methods: Annotated[
        str, typer.Option("--methods", help="Comma-separated: dynst, random, variance, qr, greedy.")
    ] = "dynst,random,variance,qr,greedy",
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
    nproc: Annotated[
        int,
        typer.Option(
            "--nproc", min=1, help="Processes training the keep sets and refits (same results)."
        ),
    ] = 1,
    as_json: JsonFlag = False,
) -> None:
    """Train a fresh backbone on each method's keep set and compare their test errors.

    Every keep set gets the run's backbone, epochs, data and seed; only the sensors differ.
    A dense model (every sensor kept) is trained the same way as the reference.

    Example: dynst compare runs/metr --sparsity 0.3,0.5,0.7 --seeds 3 -o compare/ --nproc 2
    """
    from dynst_cli.compare.processes import start_workers

    values = parse_sparsities(sparsity)
    if plan is not None and (output is None or seeds < 2):
        raise UsageError("--plan needs -o DIR and --seeds of at least 2 (stability)")
    method_list = parse_list(methods)
    # Started before the library is imported here, so the workers' own start overlaps it.
    executor = start_workers(nproc - 1)
    try:
        result, written = _compare(
            run, values, method_list, seeds, epochs, data, output, plan, nproc, executor
        )
    except BaseException:
        if executor is not None:  # waited for, so that nothing outlives the failure
            executor.shutdown(wait=True, cancel_futures=True)
        raise
    if executor is not None:  # idle now; they exit while the results are printed
        executor.shutdown(wait=False)
    if as_json:
        from dynst_cli.compare.outputs import result_json

        typer.echo(json.dumps(result_json(result)))
        return
    print_compare(result)
    for path in written:
        stdout_console().print(f"wrote {path}", markup=False)


def _compare(run, values, method_list, seeds, epochs, data, output, plan, nproc, executor):
    """Run the comparison with a progress display; the result and the files written."""
    from dynst_cli.compare.outputs import write_compare
    from dynst_cli.compare.runner import compare_run, n_trainings
    from dynst_cli.plan.schema import read_plan
    from dynst_cli.progress import StepProgress

    if plan is not None:
        read_plan(plan)  # fail before training, not after
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
            nproc=nproc,
            executor=executor,
        )
    written = write_compare(result, output, plan) if output is not None else []
    return result, written


def _result_text(row: dict, seconds: float) -> str:
    seed = "" if row["seed"] is None else f" seed {row['seed']}"
    return (
        f"{row['method']} sparsity {row['sparsity']:.2f}{seed}: "
        f"test MAE {row['mae']:.4g} ({seconds:.1f} s)"
    )


def print_compare(result) -> None:
    """The comparison table, then the stability summary when there is one."""
    from dynst_cli.compare.summary import COLUMNS, result_rows

    table = Table(title="dynst compare: test error of each keep set (test split)")
    for column in COLUMNS:
        table.add_column(column)
    for row in result_rows(result):
        table.add_row(*row)
    console = stdout_console()
    console.print(table)
    console.print(DENSE_SAME_BUDGET, markup=False)
    if result.dense["mape"] is None:
        console.print(MAPE_NOTE, markup=False)
    if result.stability is not None:
        print_stability(result.stability)


def print_stability(stability: dict) -> None:
    """Mean Jaccard overlap, and the sensors that some refits kept and others dropped."""
    from dynst_cli.compare.summary import stability_line, unsure_sensors

    console = stdout_console()
    console.print(stability_line(stability), markup=False)
    unsure = unsure_sensors(stability)
    if not unsure:
        console.print("every refit kept the same sensors", markup=False)
        return
    table = Table(title="sensors kept by some refits only")
    table.add_column("sensor")
    table.add_column("selection frequency")
    for sensor_id, frequency in unsure:
        table.add_row(sensor_id, f"{frequency:.2f}")
    console.print(table)
