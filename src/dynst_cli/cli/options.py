"""Option declarations shared by several commands."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

JsonFlag = Annotated[bool, typer.Option("--json", help="Print the result as one JSON object.")]

KeepIds = Annotated[
    str | None, typer.Option("--keep", help="Comma-separated sensor ids that are always kept.")
]
KeepFile = Annotated[
    Path | None, typer.Option("--keep-file", help="File of sensor ids always kept (one per line).")
]
ExcludeIds = Annotated[
    str | None, typer.Option("--exclude", help="Comma-separated sensor ids that are never kept.")
]
ExcludeFile = Annotated[
    Path | None, typer.Option("--exclude-file", help="File of sensor ids never kept.")
]
Budget = Annotated[
    float | None,
    typer.Option("--budget", help="Most total `cost` the kept sensors may have (needs costs)."),
]
MinSpacing = Annotated[
    float | None,
    typer.Option("--min-spacing-km", help="No two kept sensors closer than this (great circle)."),
]
Regions = Annotated[
    Path | None,
    typer.Option("--regions", help="GeoJSON polygons, each needing --per-region-min kept sensors."),
]
PerRegionMin = Annotated[
    int | None, typer.Option("--per-region-min", help="Kept sensors needed inside each region.")
]
