"""Atomic file output: write to a temporary name in the target folder, then rename.

An interrupted run (Ctrl-C, kill -9, a full disk) therefore never leaves a half-written file under
the final name, and an existing file is replaced only by a complete new one. `os.replace` is atomic
on POSIX when source and target are on the same file system, hence the temporary name lies in the
same folder. Only regular files are replaced: a symlink's target is written (the link stays), a
device or FIFO is written through.
"""

from __future__ import annotations

import contextlib
import contextvars
import csv
import errno
import io
import json
import numbers
import os
import shutil
import stat
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from dynst_cli.errors import OutputError, UsageError

# errno values that mean "this output cannot be written here", whatever the command: no space,
# no permission, a read-only file system, a quota. Reported as exit 5, naming the path.
WRITE_ERRNOS = frozenset(
    {errno.ENOSPC, errno.EACCES, errno.EPERM, errno.EROFS, errno.EDQUOT, errno.EFBIG}
)

_pending: contextvars.ContextVar[list[tuple[Path, Path]] | None] = contextvars.ContextVar(
    "dynst_pending_outputs", default=None
)


def resolve_target(target: str | os.PathLike) -> Path:
    """The file a write to `target` should change: a symlink's target, never the link itself."""
    target = Path(target)
    return Path(os.path.realpath(target)) if target.is_symlink() else target


def is_special(target: Path) -> bool:
    """True for an existing character device, FIFO or socket: written through, never replaced."""
    try:
        mode = target.stat().st_mode
    except OSError:
        return False
    return stat.S_ISCHR(mode) or stat.S_ISFIFO(mode) or stat.S_ISSOCK(mode) or stat.S_ISBLK(mode)


@contextlib.contextmanager
def atomic_path(target: str | os.PathLike, suffix: str | None = None) -> Iterator[Path]:
    """Yield a temporary path beside `target`; rename it onto `target` if the block succeeds.

    The temporary file keeps the target's extension (writers such as matplotlib and netCDF4 choose
    the format from it). On any exception, KeyboardInterrupt included, the temporary file is removed
    and `target` is left untouched. Atomic replacement is for regular files only: a symlink's
    target is replaced (the link stays), and an existing character device or FIFO (`/dev/null`,
    `/dev/stdout`, a named pipe) is written through, never replaced. Inside `together()` the
    rename waits until every output of the block is complete. A target that cannot be written
    (no space, no permission, read-only) raises OutputError naming it.
    """
    target = Path(target)
    if is_special(target):  # stat follows links: /dev/stdout is a link to a pipe or terminal
        with _write_through(target, suffix) as tmp:
            yield tmp
        return
    target = resolve_target(target)
    if target.is_dir():
        raise UsageError(f"{target} is a folder: name the file to write")
    with _output_errors(target):
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(
            prefix=f".{target.name}.", suffix=suffix or target.suffix or ".tmp", dir=target.parent
        )
        os.close(fd)
    tmp = Path(tmp_name)
    try:
        with _output_errors(target):
            yield tmp
            # mkstemp creates the file private (0600); give it the mode a plain open() would.
            os.chmod(tmp, 0o666 & ~_current_umask())
            pending = _pending.get()
            if pending is None:
                os.replace(tmp, target)
            else:
                pending.append((tmp, target))
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


@contextlib.contextmanager
def _write_through(target: Path, suffix: str | None) -> Iterator[Path]:
    """Let the writer fill a private temporary file, then copy its bytes into `target`."""
    with tempfile.TemporaryDirectory(prefix="dynst-") as folder:
        tmp = Path(folder) / f"out{suffix or target.suffix or '.tmp'}"
        yield tmp
        with _output_errors(target), open(target, "wb") as out, open(tmp, "rb") as src:
            shutil.copyfileobj(src, out)


@contextlib.contextmanager
def together() -> Iterator[None]:
    """All outputs written atomically inside this block are renamed into place at its end.

    A command with several outputs (a plan's CSV and its map, plans and their curve) computes all
    of them first: if any fails, none replaces what was there before.
    """
    if _pending.get() is not None:  # nested: the outer block commits
        yield
        return
    pending: list[tuple[Path, Path]] = []
    token = _pending.set(pending)
    try:
        yield
    except BaseException:
        for tmp, _ in pending:
            tmp.unlink(missing_ok=True)
        raise
    finally:
        _pending.reset(token)
    for i, (tmp, target) in enumerate(pending):
        try:
            with _output_errors(target):
                os.replace(tmp, target)
        except BaseException:
            for rest, _ in pending[i:]:
                rest.unlink(missing_ok=True)
            raise


# Free space below which a writer's failure is put down to a full disk: writers such as
# netCDF4/HDF5 report "no space" as a RuntimeError without an errno.
NEARLY_FULL_BYTES = 1 << 20


@contextlib.contextmanager
def _output_errors(target: Path) -> Iterator[None]:
    """Turn an error that means 'cannot write here' into OutputError naming `target`."""
    try:
        yield
    except OSError as exc:
        if exc.errno not in WRITE_ERRNOS:
            raise
        raise OutputError(f"cannot write {target}: {exc.strerror or exc}") from exc
    except (RuntimeError, ValueError) as exc:
        if not _nearly_full(target.parent):
            raise
        raise OutputError(
            f"cannot write {target}: no space left on its file system ({exc})"
        ) from exc


def _nearly_full(folder: Path) -> bool:
    try:
        fs = os.statvfs(folder)
    except OSError:
        return False
    return fs.f_bavail * fs.f_frsize < NEARLY_FULL_BYTES


def _current_umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def write_bytes(target: str | os.PathLike, data: bytes) -> None:
    """Write `data` to `target` atomically (a device or FIFO is written through)."""
    target = Path(target)
    if is_special(target):
        with _output_errors(target), open(target, "wb") as out:
            out.write(data)
        return
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
