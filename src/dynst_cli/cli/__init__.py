"""Command-line edge: parse, call the library, print; map errors to exit codes in one place.

Each command lives in its own module and registers itself on `app`; importing them here is what
makes them part of `dynst`.
"""

from __future__ import annotations

import sys
import traceback

import click

from dynst_cli.cli import commands_ingest  # noqa: F401  (registers the command)
from dynst_cli.cli.app import GlobalState, app
from dynst_cli.console import stderr_console
from dynst_cli.errors import DynstError

__all__ = ["app", "main", "run"]


def _report(message: str) -> None:
    stderr_console().print(f"error: {message}", markup=False, highlight=False)


def _wants_debug(argv: list[str]) -> bool:
    return GlobalState.debug or "--debug" in argv


def main(argv: list[str] | None = None) -> int:
    """Run `dynst` with `argv` (default: sys.argv[1:]) and return the exit code.

    0 success, 1 internal error, 2 usage error, 3 bad input data, 4 infeasible constraints,
    130 interrupted.
    """
    argv = list(sys.argv[1:] if argv is None else argv)
    GlobalState.debug = False
    try:
        result = app(args=argv, prog_name="dynst", standalone_mode=False)
        return result if isinstance(result, int) else 0
    except click.exceptions.Abort:  # click turns KeyboardInterrupt into Abort
        _report("interrupted")
        return 130
    except KeyboardInterrupt:
        _report("interrupted")
        return 130
    except click.exceptions.ClickException as exc:  # bad flag, missing path: usage error
        exc.show(file=sys.stderr)
        return exc.exit_code
    except DynstError as exc:
        if _wants_debug(argv):
            traceback.print_exc()
        _report(str(exc))
        return exc.exit_code
    except Exception as exc:  # a bug: say so, and keep the traceback behind --debug
        if _wants_debug(argv):
            traceback.print_exc()
        _report(f"internal error: {type(exc).__name__}: {exc} (rerun with --debug for details)")
        return 1


def run() -> None:
    """Console-script entry point."""
    sys.exit(main())
