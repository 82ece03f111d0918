"""Ingest: turn an archive (NetCDF grids, wide or long CSV) into the canonical dataset.

Library use, e.g. from a notebook::

    from dynst_cli.ingest import open_archive, summarize, write_dataset

    ds = open_archive("era5_*.nc")          # lazy, canonical: (time, sensor)
    write_dataset(ds, "dataset.nc")
    summarize(ds)["missing_percent"]

Modules: ``paths`` (globs, file kinds), ``coords`` (axis discovery, grid order), ``netcdf`` and
``csv_tables`` (readers), ``sensor_table``, ``tables`` (CSV helpers), ``schema`` (the canonical
layout and its checks), ``writer`` (atomic chunked output), ``summary``.
"""

from __future__ import annotations

import importlib

# Loaded on first use (PEP 562), so that importing a light submodule such as ``defaults`` (the
# CLI does, for --help) does not load xarray, dask and pandas.
_EXPORTS = {
    "DEFAULT_CHUNK_TIME": "dynst_cli.ingest.defaults",
    "ingest_paths": "dynst_cli.ingest.archive",
    "open_archive": "dynst_cli.ingest.archive",
    "summarize": "dynst_cli.ingest.summary",
    "write_dataset": "dynst_cli.ingest.writer",
}
__all__ = list(_EXPORTS)


def __getattr__(name: str):
    if name in _EXPORTS:
        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted([*globals(), *_EXPORTS])
