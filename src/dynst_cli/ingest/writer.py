"""Write the canonical dataset: one NetCDF4 file, chunk by chunk, under a temporary name first."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import xarray as xr

from dynst_cli.atomic import atomic_path
from dynst_cli.ingest.schema import DEFAULT_CHUNK_TIME

COMPRESSION = {"zlib": True, "complevel": 4, "shuffle": True}  # lossless; ~2x smaller, cheap


def write_dataset(
    ds: xr.Dataset, path: str | os.PathLike, chunk_time: int = DEFAULT_CHUNK_TIME
) -> Path:
    """Write a canonical dataset to ``path`` atomically.

    Dask-backed variables are computed and written one time chunk at a time, so memory is bounded
    by a chunk of ``(chunk_time, n_sensor)`` values, not by the archive. On any error (Ctrl-C
    included) nothing is left under ``path`` and a file already there is untouched.

    Parameters
    ----------
    ds : xr.Dataset
        Canonical dataset (data variables ``(time, sensor)``).
    path : str or path
        Target file, NetCDF4.
    chunk_time : int
        Time steps per chunk on disk and in memory.

    Returns
    -------
    Path
        The written file.
    """
    ds = _without_source_encoding(ds).chunk({"time": chunk_time})
    encoding = {
        name: {
            "dtype": "float32",
            "_FillValue": np.float32(np.nan),
            "chunksizes": (min(chunk_time, ds.sizes["time"]), ds.sizes["sensor"]),
            **COMPRESSION,
        }
        for name in ds.data_vars
    }
    with atomic_path(path) as tmp:
        ds.to_netcdf(tmp, format="NETCDF4", engine="netcdf4", encoding=encoding)
    return Path(path)


def _without_source_encoding(ds: xr.Dataset) -> xr.Dataset:
    """A shallow copy whose variables forget the encoding of the files they were read from."""
    ds = ds.copy()
    for name in ds.variables:
        ds[name].encoding = {}
    return ds
