"""`dynst report`: one self-contained HTML page of a run, its plans and its comparison."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from dynst_cli.cli.app import app
from dynst_cli.cli.options import JsonFlag
from dynst_cli.console import stdout_console
from dynst_cli.errors import UsageError


@app.command("report")
def report_command(
    run: Annotated[Path, typer.Argument(help="Run directory written by `dynst fit`.")],
    output: Annotated[
        Path, typer.Option("--output", "-o", help="The HTML file to write (report.html).")
    ],
    plans: Annotated[
        list[Path] | None,
        typer.Option(
            "--plan",
            help="A plan from `dynst prune`; repeat for several sparsities (the first is mapped).",
        ),
    ] = None,
    compare: Annotated[
        Path | None,
        typer.Option("--compare", help="A `dynst compare -o` folder to show against DynST."),
    ] = None,
    as_json: JsonFlag = False,
) -> None:
    """Write one HTML page (no server, opens offline): summary, map, figures, provenance.

    Example: dynst report runs/metr --plan plan.json -o report.html

    Example: dynst report runs/metr --plan plans/plan-s0.30.json --plan plans/plan-s0.50.json
    --compare compare/ -o report.html
    """
    from dynst_cli.report import write_report

    if output.suffix.lower() not in (".html", ".htm"):
        raise UsageError(f"-o {output}: the report is HTML; give a name ending in .html")
    for path in plans or []:
        if not path.is_file():
            raise UsageError(f"--plan {path}: no such file")
    size = write_report(run, output, plans or [], compare)
    if as_json:
        typer.echo(json.dumps({"report": str(output), "bytes": size}))
    else:
        stdout_console().print(f"report written to {output} ({size / 1e6:.2f} MB)", markup=False)
