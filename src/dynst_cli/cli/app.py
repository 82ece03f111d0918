"""The Typer application and the global options shared by every command."""

from __future__ import annotations

from typing import Annotated

import typer

from dynst_cli import __version__
from dynst_cli.console import set_quiet
from dynst_cli.errors import EXIT_CODES

_EXIT_TABLE = "\n\n".join(f"{code}: {meaning}" for code, meaning in EXIT_CODES.items())

app = typer.Typer(
    name="dynst",
    help=(
        "Choose which sensors of a network to keep and still forecast the whole field.\n\n"
        "Pipeline: dynst ingest -> dynst fit -> dynst prune -> dynst export-plan.\n\n"
        f"Exit codes:\n\n{_EXIT_TABLE}"
    ),
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


class GlobalState:
    """Options given before the command name."""

    debug = False


def _version(value: bool) -> None:
    if value:
        typer.echo(f"dynst {__version__}")
        raise typer.Exit()


@app.callback()
def _global_options(
    debug: Annotated[
        bool,
        typer.Option(
            "--debug", help="Show the Python traceback of any error (anywhere on the line)."
        ),
    ] = False,
    quiet: Annotated[
        bool, typer.Option("--quiet", "-q", help="No logs or progress on stderr.")
    ] = False,
    version: Annotated[
        bool,
        typer.Option("--version", callback=_version, is_eager=True, help="Print the version."),
    ] = False,
) -> None:
    GlobalState.debug = GlobalState.debug or debug
    if quiet:
        set_quiet(True)
