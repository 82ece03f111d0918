"""Option declarations and value parsers shared by several commands (no command imports
another's)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from dynst_cli.errors import UsageError

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


def parse_sparsities(text: str, flag: str = "--sparsity") -> list[float]:
    """'0.3,0.5' -> [0.3, 0.5]; anything else is a usage error naming the flag (-0 reads as 0)."""
    try:
        values = [float(part) + 0.0 for part in text.split(",") if part.strip()]
    except ValueError:
        raise UsageError(
            f"{flag} expects numbers in [0, 1) separated by commas, got '{text}'"
        ) from None
    if not values:
        raise UsageError(f"{flag} needs at least one value")
    bad = [v for v in values if not 0.0 <= v < 1.0]
    if bad:
        raise UsageError(f"{flag} must lie in [0, 1), got {bad[0]}")
    return values


def parse_sparsity(text: str | None, flag: str = "--sparsity") -> float | None:
    """One sparsity in [0, 1), read as `parse_sparsities` reads a list; None stays None."""
    if text is None:
        return None
    values = parse_sparsities(text, flag)
    if len(values) != 1:
        raise UsageError(f"{flag} takes one value here, got {len(values)} ('{text}')")
    return values[0]


def check_at_least(value: int | None, minimum: int, flag: str) -> int | None:
    """`value` unless it is below `minimum`: then a usage error naming the flag."""
    if value is not None and value < minimum:
        raise UsageError(f"{flag} must be an integer >= {minimum}, got {value}")
    return value


def parse_list(text: str) -> list[str]:
    """'a, b,,c' -> ['a', 'b', 'c']: a comma-separated flag value, blanks dropped."""
    return [part.strip() for part in text.split(",") if part.strip()]
