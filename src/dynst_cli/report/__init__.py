"""`dynst report`: one self-contained HTML page an operator reads and forwards.

`build_report` gathers what `fit`, `prune` and `compare` wrote and renders the page;
`write_report` writes it atomically.
"""

from __future__ import annotations

import os
from pathlib import Path

from dynst_cli.atomic import write_text
from dynst_cli.report.inputs import ReportInputs, gather
from dynst_cli.report.page import render

__all__ = ["ReportInputs", "build_report", "write_report"]


def build_report(
    run: str | os.PathLike,
    plans: list[Path] | None = None,
    compare_dir: Path | None = None,
) -> str:
    """The report of `run` as HTML text.

    Parameters
    ----------
    run : path
        A finished run directory (`dynst fit -o`).
    plans : list of paths, optional
        Plans pruned from the run; the first is drawn on the map, all of them make the
        trade-off curve. Without plans the map shows the fit's own keep set.
    compare_dir : path, optional
        A `dynst compare -o` folder: its compare.csv and stability.json become figures.
    """
    return render(gather(run, plans, compare_dir))


def write_report(
    run: str | os.PathLike,
    output: str | os.PathLike,
    plans: list[Path] | None = None,
    compare_dir: Path | None = None,
) -> int:
    """Write the report to `output` atomically; returns its size in bytes."""
    text = build_report(run, plans, compare_dir)
    write_text(output, text)
    return len(text.encode("utf-8"))
