"""One exception family for every failure a user can cause.

Library code raises these deep down; the command line maps them to exit codes in exactly one
place (`dynst_cli.cli`). A message should name the file, line, column, sensor or flag at fault and
say what to do about it.
"""


class DynstError(Exception):
    """Base of all errors dynst reports to the user without a traceback."""

    exit_code = 1


class UsageError(DynstError):
    """A flag, option or path the user gave cannot be used (exit 2)."""

    exit_code = 2


class InputError(DynstError):
    """An input file exists but its content is unusable (exit 3)."""

    exit_code = 3


class InfeasibleError(DynstError):
    """The siting constraints cannot all hold at once (exit 4)."""

    exit_code = 4


class OutputError(DynstError):
    """An output cannot be written: no space, no permission, a read-only file system (exit 5)."""

    exit_code = 5


EXIT_CODES = {
    0: "success",
    1: "internal error (a bug: please report it with --debug output)",
    2: "usage error: a bad flag, option value or missing path",
    3: "bad input data: unreadable, malformed or mismatched file",
    4: "infeasible siting constraints",
    5: "cannot write output: no space left, no permission or a read-only file system",
    130: "interrupted (Ctrl-C or SIGTERM); no partial output is left behind",
}
