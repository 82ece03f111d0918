"""What `--help` shows: commands in pipeline order, defaults, and no type names on flags."""

from __future__ import annotations

import re

from dynst_cli.cli import main
from dynst_cli.cli.app import PIPELINE_ORDER


def _help(capsys, *args) -> str:
    assert main([*args, "--help"]) == 0
    return capsys.readouterr().out


def test_commands_are_listed_in_pipeline_order(capsys):
    text = _help(capsys)
    listed = re.findall(r"^│ (\S+)\s{2,}", text[text.index("Commands") :], re.M)
    assert listed == list(PIPELINE_ORDER)


def test_flags_show_no_bool_metavar(capsys):
    for command in ((), ("fit",), ("prune",), ("export-plan",), ("report",)):
        assert "<bool>" not in _help(capsys, *command)


def test_fit_help_shows_the_built_in_defaults(capsys):
    text = re.sub(r"[│\s]+", " ", _help(capsys, "fit"))
    for default in ("default: stid", "default: 0.5", "default: 20", "default: cpu", "default: 0,"):
        assert default in text


def test_the_command_line_starts_without_the_numerical_stack():
    # Each command imports the library it calls, so that `dynst --help`, a mistyped flag in a
    # cron job and every spawned compare worker start in a fraction of a second.
    import subprocess
    import sys

    heavy = ("torch", "xarray", "pandas", "dask", "netCDF4", "geopandas", "matplotlib")
    probe = (
        "import sys; from dynst_cli.cli import app; "
        f"print(','.join(m for m in {heavy!r} if m in sys.modules))"
    )
    loaded = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    ).stdout.strip()
    assert loaded == ""


def test_ingest_help_shows_the_chunk_default(capsys):
    from dynst_cli.ingest.schema import DEFAULT_CHUNK_TIME

    text = re.sub(r"[│\s]+", " ", _help(capsys, "ingest"))
    assert f"default: {DEFAULT_CHUNK_TIME}" in text
