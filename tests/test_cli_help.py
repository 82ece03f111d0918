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
