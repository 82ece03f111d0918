"""Where output goes: results to stdout, logs and progress to stderr.

Colour and animated progress are used only when stderr is a terminal and NO_COLOR is unset
(https://no-color.org). `--quiet` silences logs; `--json` results still go to stdout.
"""

from __future__ import annotations

import os
import sys

from rich.console import Console


def _stderr_is_interactive() -> bool:
    return sys.stderr.isatty() and "NO_COLOR" not in os.environ


class _State:
    quiet = False


def set_quiet(quiet: bool) -> None:
    _State.quiet = quiet


def is_quiet() -> bool:
    return _State.quiet


def stderr_console() -> Console:
    """A console on stderr; plain text (no colour, no animation) when not interactive."""
    interactive = _stderr_is_interactive()
    return Console(
        stderr=True,
        no_color=not interactive,
        force_terminal=interactive,
        highlight=False,
        quiet=_State.quiet,
        width=None if interactive else 100,
    )


def stdout_console() -> Console:
    """A console on stdout for result tables; never coloured when stdout is piped."""
    interactive = sys.stdout.isatty() and "NO_COLOR" not in os.environ
    return Console(no_color=not interactive, highlight=False, width=None if interactive else 120)


def log(message: str) -> None:
    """One line of progress information on stderr (silent under --quiet)."""
    stderr_console().print(message, markup=False, soft_wrap=True)


def progress_enabled() -> bool:
    """Animated progress bars only on an interactive stderr, never under --quiet."""
    return _stderr_is_interactive() and not _State.quiet
