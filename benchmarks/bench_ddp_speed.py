"""Wall time of `dynst fit` on the METR-LA week with 1 and with 2 local processes (DDP, gloo).

Ingests data/metr-la-week into a temporary folder, then fits the METR-LA recipe for a fixed
number of epochs with `--nproc 1` and `--nproc 2` (dense reference off: only the DynST fit is
timed). Prints a Markdown table and writes benchmarks/results/ddp_speed.md.

    .venv/bin/python benchmarks/bench_ddp_speed.py --epochs 6
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _measure import REPO, RESULTS, header, mib, run_measured  # noqa: E402

DATA = REPO / "data" / "metr-la-week"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=6)
    parser.add_argument("--no-write", action="store_true", help="print only, no results file")
    args = parser.parse_args()

    dynst = [sys.executable, "-m", "dynst_cli", "--quiet"]
    folder = Path(tempfile.mkdtemp(prefix="dynst-bench-ddp-"))
    rows = []
    try:
        dataset = folder / "metr.nc"
        run_measured(
            [
                *dynst,
                "ingest",
                str(DATA / "metr_la_speed_2012-03-01_to_07_with_time.csv"),
                "--sensors",
                str(DATA / "graph_sensor_locations.csv"),
                "--var",
                "speed",
                "--units",
                "mph",
                "-o",
                str(dataset),
            ]  # fmt: skip
        )
        recipe = yaml.safe_load((REPO / "recipes" / "metr-la.yaml").read_text())
        recipe["train"].update(epochs=args.epochs, dense_reference=False)
        (folder / "recipe.yaml").write_text(yaml.safe_dump(recipe))
        # (processes, torch threads per process); `--nproc 2` gives each worker cores / 2.
        for nproc, threads in ((1, None), (1, 1), (2, 1)):
            run = folder / f"run{nproc}-{threads}"
            env = {**os.environ, **({"OMP_NUM_THREADS": str(threads)} if threads else {})}
            cmd = [*dynst, "fit", str(dataset), "-o", str(run), "--recipe"]
            cmd += [str(folder / "recipe.yaml"), "--nproc", str(nproc), "--json"]
            result = run_measured(cmd, env=env)
            summary = json.loads(result["stdout"])
            timings = json.loads((run / "timings.json").read_text())
            mae = summary["sparse"]["test"]["mae"]
            rows.append((nproc, threads, result, timings["fit_seconds"], mae))
    finally:
        shutil.rmtree(folder, ignore_errors=True)

    base = rows[1][3]  # one process, one thread
    table = [
        "| processes | torch threads each | wall time (s) | training loop (s) | loop speed-up vs "
        "1 x 1 thread | peak RSS, all processes (MiB) | test MAE (mph) |",
        "| ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for nproc, threads, result, fit_seconds, mae in rows:
        table.append(
            f"| {nproc} | {threads or 'default'} | {result['seconds']:.1f} | {fit_seconds:.1f} | "
            f"{base / fit_seconds:.2f}x | {mib(result['peak_rss'])} | {mae:.3f} |"
        )
    text = "\n".join(
        [
            f"METR-LA week (207 sensors, 5-minute speeds), recipes/metr-la.yaml with "
            f"{args.epochs} epochs and no dense reference. Wall time includes starting Python and "
            "the processes; the training loop is `fit_seconds` of timings.json.",
            "",
            *table,
            "",
        ]
    )
    print(text)
    if not args.no_write:
        command = "python benchmarks/bench_ddp_speed.py " + " ".join(sys.argv[1:])
        RESULTS.mkdir(parents=True, exist_ok=True)
        (RESULTS / "ddp_speed.md").write_text(header("DDP speed", command.strip()) + text)


if __name__ == "__main__":
    main()
