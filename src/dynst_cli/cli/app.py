"""The Typer application and the global options shared by every command."""

from __future__ import annotations

from typing import Annotated

import typer
from typer.core import TyperGroup, TyperOption

from dynst_cli import __version__
from dynst_cli.console import set_quiet
from dynst_cli.errors import EXIT_CODES

PIPELINE_ORDER = ("ingest", "fit", "prune", "export-plan", "compare", "predict", "report")


class PipelineOrder(TyperGroup):
    """Lists the commands in the order the pipeline runs them, not alphabetically."""

    def list_commands(self, ctx) -> list[str]:
        names = super().list_commands(ctx)
        last = len(PIPELINE_ORDER)
        return sorted(names, key=lambda n: PIPELINE_ORDER.index(n) if n in PIPELINE_ORDER else last)


_typed_display = TyperOption.display_type_rich


def _flag_without_type(self: TyperOption, ctx) -> str | None:
    """On/off flags take no value, so help shows no ``<bool>`` beside them."""
    return None if self.is_flag else _typed_display(self, ctx)


TyperOption.display_type_rich = _flag_without_type

_EXIT_TABLE = "\n\n".join(f"{code}: {meaning}" for code, meaning in EXIT_CODES.items())

app = typer.Typer(
    name="dynst",
    help=(
        "Choose which sensors of a network to keep and still forecast the whole field.\n\n"
        "Pipeline: dynst ingest -> dynst fit -> dynst prune -> dynst export-plan -> "
        "dynst report (dynst compare and dynst predict when needed).\n\n"
        f"Exit codes:\n\n{_EXIT_TABLE}"
    ),
    cls=PipelineOrder,
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
