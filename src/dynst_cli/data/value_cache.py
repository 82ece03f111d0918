"""A float32 .npy copy of a dataset's values, memory-mapped, for archives larger than memory.

The canonical dataset is NetCDF4 (compressed, chunked along time); training gathers windows by
random index, which a compressed file cannot serve quickly. The copy is written once, chunk by
chunk, under a name keyed by the dataset's sha256 and the channels, then opened read-only with
`np.load(mmap_mode="r")`: batches come from the page cache and memory holds only what the
operating system keeps of it.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import numpy as np
import xarray as xr

from dynst_cli.atomic import atomic_path

CACHE_ENV = "DYNST_CACHE_DIR"
CHUNK_BYTES = 64 * 2**20  # values read from the NetCDF per step of the copy


def cache_dir() -> Path:
    """$DYNST_CACHE_DIR, else ~/.cache/dynst."""
    return Path(os.environ.get(CACHE_ENV) or Path.home() / ".cache" / "dynst")


def cache_path(sha256: str, names: list[str]) -> Path:
    """Where the copy of dataset `sha256` with channels `names` lives."""
    channels = hashlib.sha256("\0".join(names).encode()).hexdigest()[:8]
    return cache_dir() / f"{sha256[:32]}-{channels}.npy"


def mapped_values(ds: xr.Dataset, names: list[str], sha256: str) -> np.memmap:
    """The values of `names`, shape [n_steps, n_sensors, n_channels] float32, mapped read-only.

    Written on first use, `CHUNK_BYTES` of time steps at a time, under a temporary name renamed
    when complete (processes of a distributed fit may race to write it: the last complete copy
    wins, and all copies are equal).
    """
    path = cache_path(sha256, names)
    if not path.is_file():
        _write_copy(ds, names, path)
    return np.load(path, mmap_mode="r")


def _write_copy(ds: xr.Dataset, names: list[str], path: Path) -> None:
    # Plain writes, not a writable mapping: written pages do not stay resident in this process.
    shape = (ds.sizes["time"], ds.sizes["sensor"], len(names))
    step = max(1, CHUNK_BYTES // (4 * shape[1] * shape[2]))
    header = {"descr": np.lib.format.dtype_to_descr(np.dtype(np.float32)), "shape": shape}
    with atomic_path(path) as tmp, open(tmp, "wb") as out:
        np.lib.format.write_array_header_1_0(out, {**header, "fortran_order": False})
        for start in range(0, shape[0], step):
            window = slice(start, start + step)
            parts = [ds[n].isel(time=window).transpose("time", "sensor").values for n in names]
            out.write(np.stack(parts, axis=-1).astype(np.float32, copy=False).tobytes())
