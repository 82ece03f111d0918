"""Atomic file output: write to a temporary name in the target folder, then rename.

An interrupted run (Ctrl-C, kill -9, a full disk) therefore never leaves a half-written file under
the final name, and an existing file is replaced only by a complete new one. `os.replace` is atomic
on POSIX when source and target are on the same file system, hence the temporary name lies in the
same folder.
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import numbers
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any


@contextlib.contextmanager
def atomic_path(target: str | os.PathLike, suffix: str | None = None) -> Iterator[Path]:
    """Yield a temporary path beside `target`; rename it onto `target` if the block succeeds.

    The temporary file keeps the target's extension (writers such as matplotlib and netCDF4 choose
    the format from it). On any exception, KeyboardInterrupt included, the temporary file is removed
    and `target` is left untouched.
    """
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(
        prefix=f".{target.name}.", suffix=suffix or target.suffix or ".tmp", dir=target.parent
    )
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        yield tmp
        # mkstemp creates the file private (0600); give it the mode a plain open() would.
        os.chmod(tmp, 0o666 & ~_current_umask())
        os.replace(tmp, target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def _current_umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def write_bytes(target: str | os.PathLike, data: bytes) -> None:
    """Write `data` to `target` atomically."""
    with atomic_path(target) as tmp:
        tmp.write_bytes(data)


def write_text(target: str | os.PathLike, text: str) -> None:
    """Write `text` (UTF-8) to `target` atomically."""
    write_bytes(target, text.encode("utf-8"))


def write_json(target: str | os.PathLike, obj: Any) -> None:
    """Write `obj` as indented, key-ordered-as-given JSON, atomically and byte-reproducibly."""
    write_text(target, json.dumps(obj, indent=2, ensure_ascii=False, allow_nan=False) + "\n")


PNG_DPI = 120
# No software version in the PNG metadata: the same figure gives the same bytes.
PNG_METADATA = {"Software": None}


def write_png(figure, target: str | os.PathLike) -> None:
    """Save a matplotlib Figure to `target` as PNG, atomically and byte-reproducibly."""
    with atomic_path(target, suffix=".png") as tmp:
        figure.savefig(tmp, format="png", dpi=PNG_DPI, metadata=PNG_METADATA)


def rows_to_csv(columns, rows) -> str:
    """CSV text of `rows` (dicts) under the header `columns`; missing values are empty cells.

    Floats are written as JSON writes them (shortest round-trip form), so the text is
    reproducible and reads back to the same numbers.
    """
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow([_cell(row.get(key)) for key in columns])
    return buffer.getvalue()


def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, numbers.Integral):
        return str(int(value))
    return json.dumps(float(value), allow_nan=False)


def sha256_file(path: str | os.PathLike, chunk_bytes: int = 1 << 20) -> str:
    """Hex sha256 of a file, read in chunks so that large archives are never held in memory."""
    import hashlib

    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(chunk_bytes), b""):
            digest.update(block)
    return digest.hexdigest()
