"""Command-line edge: parse, call the library, print; map errors to exit codes in one place.

Each command lives in its own module and registers itself on `app`; importing them here is what
makes them part of `dynst`.
"""

from __future__ import annotations

import contextlib
import signal
import sys
import traceback
import warnings

import click
import typer

from dynst_cli.atomic import WRITE_ERRNOS
from dynst_cli.cli import (  # noqa: F401  (each module registers its command)
    commands_compare,
    commands_export,  # noqa: F401  (registers the command)
    commands_fit,
    commands_ingest,
    commands_predict,
    commands_prune,
    commands_report,
)
from dynst_cli.cli.app import GlobalState, app
from dynst_cli.console import set_quiet, stderr_console
from dynst_cli.errors import DynstError, OutputError

__all__ = ["app", "main", "run"]


def _click_classes(name: str) -> tuple[type, ...]:
    """`name` from click and from the copy of click that recent Typer versions carry."""
    modules = [click.exceptions, typer.exceptions]
    try:
        from typer._click import exceptions as vendored

        modules.append(vendored)
    except ImportError:
        pass
    return tuple({getattr(m, name) for m in modules if hasattr(m, name)})


_ABORT = _click_classes("Abort")
_CLICK_ERROR = _click_classes("ClickException")


def _report(message: str) -> None:
    console = stderr_console()
    console.quiet = False  # --quiet silences logs and progress, never the reason for a failure
    console.print(f"error: {message}", markup=False, highlight=False, soft_wrap=True)


def _interrupt_on_sigterm(signum, frame):
    # `timeout`, cron and service managers stop a job with SIGTERM: treat it like Ctrl-C so that
    # every temporary file is removed on the way out.
    raise KeyboardInterrupt


@contextlib.contextmanager
def _sigterm_as_interrupt():
    try:
        previous = signal.signal(signal.SIGTERM, _interrupt_on_sigterm)
    except ValueError:  # not the main thread: leave signal handling to the host program
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


@contextlib.contextmanager
def _library_warnings(debug: bool):
    """Python warnings of the libraries (pandas, xarray, torch) stay hidden unless --debug.

    What a user must know is logged by dynst itself as one `warning: ...` line.
    """
    with warnings.catch_warnings():
        if not debug:
            warnings.simplefilter("ignore")
        yield


def main(argv: list[str] | None = None) -> int:
    """Run `dynst` with `argv` (default: sys.argv[1:]) and return the exit code.

    0 success, 1 internal error, 2 usage error, 3 bad input data, 4 infeasible constraints,
    5 cannot write output, 130 interrupted (Ctrl-C or SIGTERM).
    """
    argv = list(sys.argv[1:] if argv is None else argv)
    # --debug and --quiet are accepted anywhere on the line, e.g. appended to a failing command.
    GlobalState.debug = "--debug" in argv
    quiet = any(arg in ("--quiet", "-q") for arg in argv)
    argv = [arg for arg in argv if arg not in ("--debug", "--quiet", "-q")]
    set_quiet(quiet)
    try:
        with _sigterm_as_interrupt(), _library_warnings(GlobalState.debug):
            result = app(args=argv, prog_name="dynst", standalone_mode=False)
        if result == 130:  # Typer reports Ctrl-C as a return value, not an exception
            _report("interrupted")
        return result if isinstance(result, int) else 0
    except _ABORT:  # click turns KeyboardInterrupt into Abort
        _report("interrupted")
        return 130
    except KeyboardInterrupt:
        _report("interrupted")
        return 130
    except _CLICK_ERROR as exc:  # bad flag, missing path: usage error, on one line
        _report(click_message(exc))
        return exc.exit_code
    except DynstError as exc:
        if GlobalState.debug:
            traceback.print_exc()
        _report(str(exc))
        return exc.exit_code
    except OSError as exc:
        if exc.errno not in WRITE_ERRNOS:
            return _internal_error(exc)
        if GlobalState.debug:
            traceback.print_exc()
        _report(f"cannot write {exc.filename or 'output'}: {exc.strerror or exc}")
        return OutputError.exit_code
    except Exception as exc:  # a bug: say so, and keep the traceback behind --debug
        return _internal_error(exc)


def _internal_error(exc: Exception) -> int:
    if GlobalState.debug:
        traceback.print_exc()
    _report(f"internal error: {type(exc).__name__}: {exc} (rerun with --debug for details)")
    return 1


def click_message(exc) -> str:
    """Click's parser error as one line, with a pointer to the command's --help."""
    message = " ".join(exc.format_message().split()).rstrip(".")
    ctx = getattr(exc, "ctx", None)
    command = ctx.command_path if ctx is not None else "dynst"
    return f"{message}; see '{command} --help'"


def run() -> None:
    """Console-script entry point."""
    sys.exit(main())
