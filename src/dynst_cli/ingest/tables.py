"""Helpers shared by the CSV readers: header, column lookup, numbers and dates with line numbers.

Line numbers count the header as line 1, so data row ``i`` (0-based) is line ``i + 2``.
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from dynst_cli.console import log
from dynst_cli.errors import InputError

TIME_COLUMNS = ("time", "timestamp", "date", "datetime", "date_time", "t")


def read_header(path: Path) -> list[str]:
    """Column names of a CSV file, stripped.

    Raises
    ------
    InputError
        The file is empty, has a header only, or repeats a column name.
    """
    try:
        header = _first_rows(path)
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise InputError(f"{path}: not a readable CSV text file ({exc})") from None
    header = [name.strip() for name in header]
    _check_separator(header, path)
    repeated = sorted({name for name in header if header.count(name) > 1})
    if repeated:
        names = ", ".join(f"'{n}'" for n in repeated[:5])
        raise InputError(f"{path}, line 1: duplicate column names (sensor ids) {names}")
    return header


def _check_separator(header: list[str], path: Path) -> None:
    """Refuse a file separated by ';' or tabs: read as CSV it would be one column of text."""
    if len(header) != 1:
        return
    for separator, name in ((";", "semicolons"), ("\t", "tabs")):
        if separator in header[0]:
            raise InputError(
                f"{path}, line 1: the columns are separated by {name}, not commas; dynst reads "
                "comma-separated CSV: convert the file (e.g. save it as CSV with ',' as separator)"
            )


def _first_rows(path: Path) -> list[str]:
    """The header of a CSV file, after checking that at least one data row follows it."""
    with open(path, newline="", encoding="utf-8-sig") as fh:
        rows = (row for row in csv.reader(fh) if any(cell.strip() for cell in row))
        header = next(rows, None)
        if header is None:
            raise InputError(f"{path}: the file is empty")
        if next(rows, None) is None:
            raise InputError(f"{path}: the file has a header line but no data rows")
    return header


def read_frame(path: Path, text_columns: Iterable[str] = ()) -> pd.DataFrame:
    """Read a CSV file with pandas; ``text_columns`` stay strings (ids are never numbers)."""
    try:
        frame = pd.read_csv(path, dtype={c: str for c in text_columns}, encoding="utf-8-sig")
    except (pd.errors.ParserError, UnicodeDecodeError, ValueError) as exc:
        raise InputError(f"{path}: not a readable CSV file ({exc})") from None
    frame.columns = [str(c).strip() for c in frame.columns]
    return frame


def find_column(header: Sequence[str], names: Sequence[str]) -> str | None:
    """First column whose name equals one of ``names`` (case-insensitive), in ``names`` order."""
    lowered = {name.lower(): name for name in header}
    for name in names:
        if name in lowered:
            return lowered[name]
    return None


FLOAT32_MAX = float(np.finfo(np.float32).max)


def numeric_column(
    frame: pd.DataFrame, column: str, path: Path, where: Callable[[int], str] | None = None
) -> np.ndarray:
    """Column as float64 with NaN for empty cells and NA markers, shape ``(n_rows,)``.

    ``where(i)`` describes data row ``i`` in messages (e.g. its sensor and time).

    Raises
    ------
    InputError
        A cell holds text that is not a number, or a number that is not finite or too large for
        float32 (``inf``, ``1e39``); the message names the line and column (and ``where``).
    """
    series = frame[column]
    if pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(series):
        values = series.to_numpy(dtype=np.float64)
    else:
        parsed = pd.to_numeric(series, errors="coerce")
        bad = parsed.isna() & series.notna()
        if bad.any():
            i = int(np.argmax(bad.to_numpy()))
            raise InputError(
                f"{path}, line {i + 2}, column '{column}': '{series.iloc[i]}' is not a number"
            )
        values = parsed.to_numpy(dtype=np.float64)
    _check_finite(values, series, column, path, where)
    return values


def _check_finite(values: np.ndarray, series: pd.Series, column: str, path: Path, where) -> None:
    """Refuse infinite values and values beyond float32's range (they would become infinite)."""
    with np.errstate(invalid="ignore"):
        bad = np.isinf(values) | (np.abs(values) > FLOAT32_MAX)
    if not bad.any():
        return
    i = int(np.argmax(bad))
    context = f" ({where(i)})" if where else ""
    raise InputError(
        f"{path}, line {i + 2}, column '{column}'{context}: '{series.iloc[i]}' is not a finite "
        f"number within float32's range (|x| <= {FLOAT32_MAX:.4g}); {int(bad.sum())} such "
        "value(s): fix or blank them (blank cells are read as missing)"
    )


def looks_like_dates(series: pd.Series, n: int = 5) -> bool:
    """True when the first ``n`` cells of a text column parse as dates."""
    if pd.api.types.is_numeric_dtype(series):
        return False
    head = series.dropna().head(n)
    if head.empty:
        return False
    try:
        parsed = pd.to_datetime(head, errors="coerce")
    except (ValueError, TypeError):
        return False
    return bool(parsed.notna().all())


def parse_times(series: pd.Series, path: Path, column: str) -> pd.DatetimeIndex:
    """Timestamps of a text column, shape ``(n_rows,)``; zone-aware ones converted to naive UTC.

    Raises
    ------
    InputError
        A cell is empty or not a date; the message names the line and column.
    """
    if pd.api.types.is_numeric_dtype(series):
        raise InputError(f"{path}, column '{column}': holds numbers, not dates")
    try:
        parsed = pd.to_datetime(series, errors="coerce")
    except (ValueError, TypeError):  # changing UTC offsets, e.g. +00:00 / +01:00 across DST
        parsed = _to_utc(series, path, column)
    bad = parsed.isna().to_numpy()
    if bad.any():
        i = int(np.argmax(bad))
        raise InputError(
            f"{path}, line {i + 2}, column '{column}': '{series.iloc[i]}' is not a date"
        )
    index = pd.DatetimeIndex(parsed)
    if index.tz is not None:
        log(f"{path}: timestamps carry a time zone; stored as UTC")
        index = index.tz_convert("UTC").tz_localize(None)
    return index


def _to_utc(series: pd.Series, path: Path, column: str) -> pd.Series:
    """Timestamps with changing UTC offsets, converted to UTC (and said so on stderr)."""
    try:
        parsed = pd.to_datetime(series, errors="coerce", utc=True)
    except (ValueError, TypeError) as exc:
        raise InputError(f"{path}, column '{column}': cannot read the dates ({exc})") from None
    log(
        f"{path}: column '{column}' has timestamps with changing UTC offsets (e.g. across a "
        "daylight-saving change); converted to UTC"
    )
    return parsed


def time_column(
    header: Sequence[str], frame: pd.DataFrame, path: Path, requested: str | None
) -> str:
    """Name of the time column: ``requested``, else a usual name, else a first column of dates.

    Raises
    ------
    InputError
        ``requested`` is not a column, or no column holds the timestamps.
    """
    if requested is not None:
        found = requested if requested in header else find_column(header, [requested.lower()])
        if found is None:
            raise InputError(
                f"{path}: no column '{requested}' (given by --time-col); columns are "
                f"{preview(header)}"
            )
        return found
    found = find_column(header, TIME_COLUMNS)
    if found is None and looks_like_dates(frame[header[0]]):
        found = header[0]
    if found is None:
        raise InputError(
            f"{path}: no time column found (looked for {', '.join(TIME_COLUMNS)} and a first "
            "column of dates); name it with --time-col"
        )
    return found


def preview(names: Sequence[str], n: int = 8) -> str:
    """Names quoted and joined for a message, cut after ``n``."""
    names = list(names)
    shown = ", ".join(f"'{x}'" for x in names[:n])
    return shown + (f" and {len(names) - n} more" if len(names) > n else "")
