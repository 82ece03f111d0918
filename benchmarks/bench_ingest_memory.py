"""Peak memory and throughput of `dynst ingest` on a multi-file archive larger than a chunk.

Generates an archive of float32 (time, lat, lon) NetCDF files with some NaN in a temporary folder,
then ingests it twice in subprocesses while polling their RSS: with `dynst ingest --chunk-time N`,
and with a plain `xarray.open_mfdataset(...).to_netcdf(...)` copy for reference. Prints a Markdown
table and writes benchmarks/results/ingest_memory.md. The temporary folder is deleted afterwards.

    .venv/bin/python benchmarks/bench_ingest_memory.py            # ~2 GB archive, a few minutes
    .venv/bin/python benchmarks/bench_ingest_memory.py --files 4 --steps 200   # quick check
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _measure import RESULTS, header, mib, run_measured  # noqa: E402

NAN_FRACTION = 0.02  # share of missing values, plus one grid cell that is NaN throughout

PLAIN_COPY = """
import sys, xarray as xr
ds = xr.open_mfdataset(sys.argv[1], combine="by_coords")
ds.to_netcdf(sys.argv[2])
"""


def write_archive(folder: Path, n_files: int, steps: int, n_lat: int, n_lon: int) -> int:
    """`n_files` NetCDF files of `steps` hourly steps each; returns the bytes of values."""
    rng = np.random.default_rng(0)
    lat = np.linspace(60.0, 40.0, n_lat)
    lon = np.linspace(-10.0, 15.0, n_lon)
    start = pd.Timestamp("2020-01-01")
    for i in range(n_files):
        time = pd.date_range(start + pd.Timedelta(hours=i * steps), periods=steps, freq="h")
        values = rng.standard_normal((steps, n_lat, n_lon), dtype=np.float32) + 280.0
        values[rng.random(values.shape) < NAN_FRACTION] = np.nan
        values[:, 0, 0] = np.nan
        ds = xr.Dataset(
            {"t2m": (("time", "latitude", "longitude"), values, {"units": "K"})},
            coords={"time": time, "latitude": lat, "longitude": lon},
        )
        ds.to_netcdf(folder / f"part_{i:03d}.nc", engine="netcdf4")
    return n_files * steps * n_lat * n_lon * 4


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=20)
    parser.add_argument("--steps", type=int, default=1000, help="time steps per file")
    parser.add_argument("--lat", type=int, default=100)
    parser.add_argument("--lon", type=int, default=250)
    parser.add_argument("--chunk-time", type=int, default=256)
    parser.add_argument("--tmp", type=Path, default=None, help="folder for the archive")
    parser.add_argument("--no-write", action="store_true", help="print only, no results file")
    args = parser.parse_args()

    folder = Path(tempfile.mkdtemp(prefix="dynst-bench-ingest-", dir=args.tmp))
    try:
        archive = folder / "archive"
        archive.mkdir()
        n_bytes = write_archive(archive, args.files, args.steps, args.lat, args.lon)
        pattern = str(archive / "*.nc")
        dynst = [
            sys.executable, "-m", "dynst_cli", "--quiet", "ingest", pattern,
            "-o", str(folder / "dynst.nc"), "--chunk-time", str(args.chunk_time),
        ]  # fmt: skip
        plain = [sys.executable, "-c", PLAIN_COPY, pattern, str(folder / "plain.nc")]
        rows = []
        for name, cmd in (
            (f"dynst ingest --chunk-time {args.chunk_time}", dynst),
            ("xarray.open_mfdataset(...).to_netcdf(...)", plain),
        ):
            result = run_measured(cmd)
            rows.append((name, result))
            (folder / ("dynst.nc" if cmd is dynst else "plain.nc")).unlink()
    finally:
        shutil.rmtree(folder, ignore_errors=True)

    chunk_bytes = args.chunk_time * args.lat * args.lon * 4
    table = [
        "| tool | peak RSS (MiB) | time (s) | throughput (MB/s of values) |",
        "| --- | ---: | ---: | ---: |",
    ]
    for name, r in rows:
        table.append(
            f"| {name} | {mib(r['peak_rss'])} | {r['seconds']:.1f} | "
            f"{n_bytes / 1e6 / r['seconds']:.1f} |"
        )
    archive_line = (
        f"Archive: {args.files} files x {args.steps} hourly steps x {args.lat} x {args.lon} grid, "
        f"float32, {NAN_FRACTION:.0%} NaN: {n_bytes / 1e9:.2f} GB of values "
        f"({mib(n_bytes)} MiB); one chunk of {args.chunk_time} steps holds {mib(chunk_bytes)} MiB."
    )
    text = "\n".join([archive_line, "", *table, ""])
    print(text)
    if not args.no_write:
        command = "python benchmarks/bench_ingest_memory.py " + " ".join(sys.argv[1:])
        notes = (
            "\nThe dynst time includes what `ingest` does besides copying: the sha256 of every "
            "input file, the pass that finds all-NaN cells, zlib compression (level 4) of the "
            "output and the summary pass over the written values. The plain copy writes "
            "uncompressed and checks nothing.\n"
        )
        RESULTS.mkdir(parents=True, exist_ok=True)
        (RESULTS / "ingest_memory.md").write_text(
            header("Ingest memory", command.strip()) + text + notes
        )


if __name__ == "__main__":
    main()
