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

from dynst_cli.ingest.archive import ingest_paths, open_archive
from dynst_cli.ingest.schema import DEFAULT_CHUNK_TIME
from dynst_cli.ingest.summary import summarize
from dynst_cli.ingest.writer import write_dataset

__all__ = ["DEFAULT_CHUNK_TIME", "ingest_paths", "open_archive", "summarize", "write_dataset"]
