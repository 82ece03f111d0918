"""Peak memory of `dynst fit` on a dataset larger than the memory it is allowed to hold.

Writes a synthetic canonical dataset (float32 (time, sensor), uncompressed, about 1.5 GB) in a
temporary folder, then runs a short fit on it in a subprocess, with `data.mmap: true` (values
mapped from a .npy copy on disk) and, for reference, without (values loaded), polling the RSS of
the process. Prints a Markdown table and writes benchmarks/results/fit_memory.md.

    .venv/bin/python benchmarks/bench_fit_memory.py
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
from pathlib import Path

import dask.array as da
import numpy as np
import pandas as pd
import xarray as xr
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _measure import RESULTS, header, mib, run_measured  # noqa: E402

RECIPE = {  # a short fit: the point is memory, not accuracy
    "data": {"t_in": 6, "t_out": 6, "train_frac": 0.9, "val_frac": 0.02},
    "model": {"hidden": 32, "embed": 8},
    "train": {"epochs": 2, "batch_size": 32, "max_batches_per_epoch": 20,
              "dense_reference": False},
}  # fmt: skip


def write_dataset(path: Path, n_steps: int, n_sensors: int) -> int:
    """A canonical dataset of random-walk-like values with 2 % NaN; returns the bytes of values."""
    chunks = (2048, n_sensors)
    noise = da.random.default_rng(0).standard_normal((n_steps, n_sensors), chunks=chunks)
    values = (noise.astype(np.float32) + 60.0).map_blocks(_with_gaps, dtype=np.float32)
    ds = xr.Dataset(
        {"speed": (("time", "sensor"), values, {"units": "mph"})},
        coords={
            "time": pd.date_range("2020-01-01", periods=n_steps, freq="5min").values,
            "sensor": np.array([f"s{i:05d}" for i in range(n_sensors)]).astype(object),
            "lat": ("sensor", 34.0 + 0.001 * np.arange(n_sensors)),
            "lon": ("sensor", -118.0 + 0.001 * (np.arange(n_sensors) % 97)),
        },
    )
    ds.to_netcdf(path, engine="netcdf4", encoding={"speed": {"chunksizes": chunks}})
    return n_steps * n_sensors * 4


def _with_gaps(block: np.ndarray) -> np.ndarray:
    rng = np.random.default_rng(block.shape[0])
    block = block.copy()
    block[rng.random(block.shape) < 0.02] = np.nan
    return block


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=50_000)
    parser.add_argument("--sensors", type=int, default=7_500)
    parser.add_argument("--skip-loaded", action="store_true", help="only the mmap fit")
    parser.add_argument("--no-write", action="store_true", help="print only, no results file")
    args = parser.parse_args()

    folder = Path(tempfile.mkdtemp(prefix="dynst-bench-fit-"))
    rows = []
    try:
        dataset = folder / "big.nc"
        n_bytes = write_dataset(dataset, args.steps, args.sensors)
        env = {**os.environ, "DYNST_CACHE_DIR": str(folder / "cache")}
        for mmap in (True, False)[: 1 if args.skip_loaded else 2]:
            recipe = {**RECIPE, "data": {**RECIPE["data"], "mmap": mmap}}
            (folder / "recipe.yaml").write_text(yaml.safe_dump(recipe))
            cmd = [
                sys.executable, "-m", "dynst_cli", "--quiet", "fit", str(dataset),
                "-o", str(folder / f"run-{mmap}"), "--recipe", str(folder / "recipe.yaml"),
                "--json",
            ]  # fmt: skip
            result = run_measured(cmd, env=env)
            mae = json.loads(result["stdout"])["sparse"]["test"]["mae"]
            rows.append((mmap, result, mae))
        disk = dataset.stat().st_size
    finally:
        shutil.rmtree(folder, ignore_errors=True)

    table = [
        "| values | peak RSS (MiB) | peak RSS / dataset | peak anonymous RSS (MiB) | "
        "anonymous / dataset | time (s) | test MAE |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for mmap, result, mae in rows:
        name = "mapped (`data.mmap: true`)" if mmap else "loaded (default)"
        table.append(
            f"| {name} | {mib(result['peak_rss'])} | {result['peak_rss'] / n_bytes:.2f} | "
            f"{mib(result['peak_anon'])} | {result['peak_anon'] / n_bytes:.2f} | "
            f"{result['seconds']:.1f} | {mae:.3f} |"
        )
    text = "\n".join(
        [
            f"Dataset: {args.steps} steps x {args.sensors} sensors float32, 2 % NaN: "
            f"{mib(n_bytes)} MiB of values, {mib(disk)} MiB on disk (NetCDF4, uncompressed). "
            f"Fit: {json.dumps(RECIPE)}. The mapped run's time includes making the .npy copy.",
            "",
            *table,
            "",
            "RSS also counts the pages of the mapped copy that the fit has read and the kernel "
            "keeps resident: clean file pages (page cache) that the kernel drops under memory "
            "pressure. Anonymous RSS (RssAnon of /proc/PID/status) is the memory the process "
            "itself holds: it is what must fit in RAM.",
            "",
        ]
    )
    print(text)
    if not args.no_write:
        command = "python benchmarks/bench_fit_memory.py " + " ".join(sys.argv[1:])
        RESULTS.mkdir(parents=True, exist_ok=True)
        (RESULTS / "fit_memory.md").write_text(header("Fit memory", command.strip()) + text)


if __name__ == "__main__":
    main()
