"""Archive paths: expand globs, check that files exist, tell NetCDF from CSV.

Shell globs arrive already expanded; a quoted glob (``'era5_*.nc'``) is expanded here, in sorted
order, so that cron jobs and Makefiles behave the same with and without a shell.
"""

from __future__ import annotations

import glob
import os
from collections.abc import Iterable, Sequence
from pathlib import Path

from dynst_cli.errors import InputError, UsageError

CSV_SUFFIXES = (".csv", ".txt")
_GLOB_CHARS = set("*?[")


def resolve_paths(paths: str | os.PathLike | Iterable[str | os.PathLike]) -> list[Path]:
    """Expand quoted globs and check every archive path.

    Parameters
    ----------
    paths : str, path or iterable of them
        Files or glob patterns, in the order given.

    Returns
    -------
    list of Path
        Existing, non-empty files; a pattern contributes its matches in sorted order; a file named
        twice is kept once.

    Raises
    ------
    UsageError
        A path does not exist, a pattern matches nothing, or a path is a folder.
    InputError
        A file is empty or cannot be read.
    """
    if isinstance(paths, str | os.PathLike):
        paths = [paths]
    found: list[Path] = []
    for item in paths:
        for path in _expand(str(item)):
            if path not in found:
                found.append(path)
    if not found:
        raise UsageError("no archive given: name at least one NetCDF or CSV file")
    for path in found:
        _check_file(path)
    return found


def _expand(item: str) -> list[Path]:
    if Path(item).exists() or not _GLOB_CHARS & set(item):
        return [Path(item)]
    matches = sorted(glob.glob(os.path.expanduser(item)))
    if not matches:
        raise UsageError(f"no file matches the pattern '{item}'")
    return [Path(m) for m in matches]


def _check_file(path: Path) -> None:
    if not path.exists():
        raise UsageError(f"archive not found: {path}")
    if path.is_dir():
        raise UsageError(f"{path} is a folder: name its files, or a quoted glob like '{path}/*.nc'")
    if not os.access(path, os.R_OK):
        raise InputError(f"{path}: the file cannot be read (permission denied)")
    if path.stat().st_size == 0:
        raise InputError(f"{path}: the file is empty")


def is_csv(path: Path) -> bool:
    """True for a CSV archive (by suffix: .csv or .txt); every other file is read as NetCDF."""
    return path.suffix.lower() in CSV_SUFFIXES


def split_kinds(paths: Sequence[Path]) -> tuple[list[Path], list[Path]]:
    """Split archives into ``(netcdf_paths, csv_paths)``; mixing both kinds is a usage error."""
    csv_paths = [p for p in paths if is_csv(p)]
    nc_paths = [p for p in paths if not is_csv(p)]
    if csv_paths and nc_paths:
        raise UsageError(
            f"cannot mix NetCDF and CSV archives in one dataset ({nc_paths[0]} and "
            f"{csv_paths[0]}): ingest them separately"
        )
    return nc_paths, csv_paths
