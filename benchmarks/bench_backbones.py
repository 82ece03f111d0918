"""Backbone cost and quality, the dense reference cache, and `compare --nproc`.

- steps: seconds per training step (forward, backward, AdamW; 32 windows, one torch thread) of
  `stid`, the previous `gwnet`/`simvp` (`_legacy_backbones.py`) and the current ones, with the
  default model settings, on the bundled METR-LA (gwnet) and ERA5 (simvp) archives. The models
  take turns, `--repeats` rounds of `--steps` steps each; the median over rounds is reported,
  because other processes share the CPU. With `--device cuda` the same models are also timed
  on the GPU (the clock read after the GPU's last kernel), beside the CPU figures of that run.
- quality: dense test MAE (every sensor kept, `train.train_fixed`, as the fit's dense reference)
  of the previous backbone under the previous recipe (batch cap included), of the current
  backbone under the current recipe in `recipes/`, and of the current backbone with the previous
  recipe's batch cap (the same number of optimiser steps as before).
- fit: `dynst fit --backbone gwnet --sparsity 0.9` with every other setting at its default on a
  synthetic archive of 60 sensors x 4000 hourly steps, wall time with the dense reference; then
  a second fit of the same data at sparsity 0.5 in the same folder (dense reference cached).
- compare: `dynst compare --nproc 1` against `--nproc 2` on the METR-LA stid recipe (two copies
  of one run, so that neither finds the other's cached dense reference), `--compare-epochs`
  epochs per keep set (default 12, the recipe's).

    python benchmarks/bench_backbones.py [--only steps,quality,fit,compare] [--device cuda]
        [--work DIR]

Writes benchmarks/results/backbones.json and prints a Markdown section for RESULTS.md.
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
import torch
import xarray as xr

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _bench import DYNST, REPO, ingest, merge_json, stamp, stamp_lines  # noqa: E402
from _legacy_backbones import LegacyGraphWaveNet, LegacySimVP  # noqa: E402
from dynst_cli.backbones import BACKBONES  # noqa: E402
from dynst_cli.config import FitConfig, load_recipe  # noqa: E402
from dynst_cli.data import load_dataset  # noqa: E402
from dynst_cli.evaluate import evaluate, headline  # noqa: E402
from dynst_cli.train import make_optimizer, prepare, train_fixed, train_step  # noqa: E402

BACKBONES["gwnet-before"] = LegacyGraphWaveNet
BACKBONES["simvp-before"] = LegacySimVP
STEP_MODELS = {
    "metr-la": ["stid", "gwnet-before", "gwnet"],
    "era5-uk": ["stid", "simvp-before", "simvp"],
}
# The recipes as they were before the reshaping (recipes/*.yaml at commit 5a44470).
BEFORE_RECIPES = {
    "metr-la": {
        "data": {"t_in": 12, "t_out": 12},
        "model": {"backbone": "gwnet-before", "hidden": 32, "graph_k": 8},
        "train": {"epochs": 6, "batch_size": 32, "max_batches_per_epoch": 15, "lr": 2.0e-3},
    },
    "era5-uk": {
        "data": {"t_in": 12, "t_out": 12},
        "model": {"backbone": "simvp-before", "hidden": 32},
        "train": {"epochs": 6, "batch_size": 16, "max_batches_per_epoch": 20, "lr": 2.0e-3},
    },
}
AFTER_RECIPES = {"metr-la": "recipes/metr-la-gwnet.yaml", "era5-uk": "recipes/era5-uk-simvp.yaml"}
TARGET_STEP_RATIO = 4.0
TARGET_FIT_S = 300.0
TARGET_COMPARE_SPEEDUP = 1.7


def step_times(dataset: Path, names: list[str], repeats: int, steps: int, device="cpu") -> dict:
    """Median seconds per training step of each backbone on `device`, the models taking turns."""
    torch.set_num_threads(1)
    data = load_dataset(dataset)
    runs = {}
    for name in names:
        config = FitConfig()
        config.model.backbone = name
        config.train.device = device
        prep = prepare(data, config)
        optimizer = make_optimizer(prep.model, config)
        starts = prep.splits["train"].window_starts[: (steps + 1) * config.train.batch_size]
        batches = [b.to(prep.device) for b in prep.source.batches(starts, config.train.batch_size)]
        train_step(prep.model, optimizer, batches[0], prep.model.gate, 1e-4)  # warm-up
        runs[name] = (prep, optimizer, batches[1:])
    rounds = {name: [] for name in names}
    for _ in range(repeats):
        for name, (prep, optimizer, batches) in runs.items():
            finish(device)
            started = time.perf_counter()
            for batch in batches:
                train_step(prep.model, optimizer, batch, prep.model.gate, 1e-4)
            finish(device)  # a GPU runs asynchronously: wait for its last kernel
            rounds[name].append((time.perf_counter() - started) / len(batches))
    return {
        name: {"median_s": statistics.median(t), "min_s": min(t), "max_s": max(t)}
        for name, t in rounds.items()
    }


def finish(device: str) -> None:
    if device == "cuda":
        torch.cuda.synchronize()


def dense_mae(dataset: Path, config: FitConfig) -> dict:
    """Test metrics of a dense model trained with `config` (the fit's dense reference)."""
    data = load_dataset(dataset)
    started = time.perf_counter()
    prep = train_fixed(data, config, np.ones(data.n_sensors, dtype=bool))
    test = prep.splits["test"].window_starts
    metrics = headline(evaluate(prep.model, prep.source, test, prep.scaler, prep.device))
    return {**metrics, "train_seconds": round(time.perf_counter() - started, 1)}


def synthetic_archive(path: Path, n_sensors: int = 60, n_steps: int = 4000) -> Path:
    """Hourly archive: daily cycles and shared random walks seen by nearby sensors, with noise."""
    rng = np.random.default_rng(0)
    lat = 34.0 + 0.3 * rng.random(n_sensors)
    lon = -118.5 + 0.3 * rng.random(n_sensors)
    hours = np.arange(n_steps)
    drivers = np.cumsum(rng.normal(size=(n_steps, 6)), axis=0) / 10
    weights = np.exp(
        -(((lat[:, None] - lat[None, :6]) ** 2 + (lon[:, None] - lon[None, :6]) ** 2) / 0.01)
    )
    daily = np.sin(2 * np.pi * (hours[:, None] / 24 + rng.random(n_sensors)))
    values = daily + drivers @ weights.T + 0.2 * rng.normal(size=(n_steps, n_sensors))
    ds = xr.Dataset(
        {"x": (("time", "sensor"), values.astype(np.float32), {"units": "1"})},
        coords={
            "time": pd.date_range("2024-01-01", periods=n_steps, freq="h").values,
            "sensor": np.array([f"s{i:03d}" for i in range(n_sensors)]),
            "lat": ("sensor", lat),
            "lon": ("sensor", lon),
        },
        attrs={"dynst_version": "bench", "sources": "[]"},
    )
    ds.to_netcdf(path, engine="netcdf4")
    return path


def timed_cli(*args: str) -> float:
    return run_timed([*DYNST, "--quiet", *args])["seconds"]


def run_timed(cmd: list[str]) -> dict:
    """Wall seconds and stdout of `cmd`, nothing else running beside it.

    Not `run_measured`: its memory poller reads /proc for every process of the tree 20 times a
    second, CPU that a 2-core machine takes from the command, and more of it the more worker
    processes there are, which would bias a speed-up against them.
    """
    started = time.perf_counter()
    done = subprocess.run(cmd, cwd=REPO, check=True, capture_output=True, text=True)
    return {"seconds": time.perf_counter() - started, "stdout": done.stdout}


def cpu_seconds_of_children() -> float:
    """User + system CPU seconds of every finished child process so far."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def fit_times(work: Path, second: bool = True) -> dict:
    """Wall and CPU seconds of a default gwnet fit; then, if `second`, of one more at 0.5."""
    dataset = synthetic_archive(work / "sixty.nc")
    gwnet_fit = ["fit", str(dataset), "--backbone", "gwnet", "-o"]
    cpu = cpu_seconds_of_children()
    first = timed_cli(*gwnet_fit, str(work / "runs" / "s90"), "--sparsity", "0.9")
    result = {
        "first_fit_cpu_s": round(cpu_seconds_of_children() - cpu, 1),
        "first_fit_s": round(first, 1),
        "first_timings": json.loads((work / "runs" / "s90" / "timings.json").read_text()),
    }
    if second:
        seconds = timed_cli(*gwnet_fit, str(work / "runs" / "s50"), "--sparsity", "0.5")
        result["second_fit_s"] = round(seconds, 1)
        result["second_timings"] = json.loads((work / "runs" / "s50" / "timings.json").read_text())
    return result


def compare_times(work: Path, epochs: int, seeds: int = 1, sparsity: str = "0.5") -> dict:
    dataset = ingest("metr-la", work / "metr-la.nc")
    one, two = work / "c1" / "run", work / "c2" / "run"
    timed_cli(
        "fit",
        str(dataset),
        "-o",
        str(one),
        "--recipe",
        "recipes/metr-la.yaml",
        "--no-dense-reference",
    )
    shutil.copytree(one, two)
    common = [
        "--sparsity",
        sparsity,  # one (0.5) or several, as the README's example compares 0.5,0.7,0.9
        "--methods",
        # The five default methods plus the dense row: six keep sets, an even share per worker.
        "dynst,random,variance,qr,greedy",
        "--seeds",
        str(seeds),  # above 1: random x seeds and that many DynST refits (stability)
        "--epochs",
        str(epochs),
        "--json",
    ]
    t1 = run_timed([*DYNST, "--quiet", "compare", str(one), *common, "--nproc", "1"])
    t2 = run_timed([*DYNST, "--quiet", "compare", str(two), *common, "--nproc", "2"])
    r1, r2 = json.loads(t1["stdout"]), json.loads(t2["stdout"])
    diff = max(
        abs(a[k] - b[k])
        for a, b in zip([*r1["results"], r1["dense"]], [*r2["results"], r2["dense"]], strict=True)
        for k in ("mae", "rmse")
    )
    same_stability = r1.get("stability") == r2.get("stability")
    return {
        "nproc1_s": round(t1["seconds"], 1),
        "nproc2_s": round(t2["seconds"], 1),
        "speedup": round(t1["seconds"] / t2["seconds"], 2),
        "epochs": epochs,
        "seeds": seeds,
        "max_abs_metric_difference": diff,
        "same_stability": same_stability,
        "rows": len(r1["results"]) + 1,
        "refits": seeds if seeds > 1 else 0,
        "sparsity": sparsity,
    }


def step_table(title: str, steps: dict) -> list[str]:
    lines = [
        f"### {title}",
        "",
        "| data | backbone | median s/step | min | max | x stid | target |",
        "| --- | --- | ---: | ---: | ---: | ---: | :---: |",
    ]
    for data, times in steps.items():
        base = times["stid"]["median_s"]
        for name, t in times.items():
            ratio = t["median_s"] / base
            target = (
                ""
                if name in ("stid",) or name.endswith("before")
                else ("yes" if ratio <= TARGET_STEP_RATIO else "NO")
            )
            lines.append(
                f"| {data} | {name} | {t['median_s']:.4f} | {t['min_s']:.4f} | "
                f"{t['max_s']:.4f} | {ratio:.1f} | {target} |"
            )
    return [*lines, ""]


def markdown(r: dict) -> list[str]:
    lines = [
        "## Backbone cost, dense reference cache, compare --nproc",
        "",
        *stamp_lines(r["stamp"]),
        "",
    ]
    if r["stamp"]["machine"]["load_avg_1min"] > r["stamp"]["machine"]["cpu_count"]:
        lines += [
            "The machine was busy with other work when this run started (1-minute load above "
            "its core count): wall-clock times and speed-ups are pessimistic, and every "
            "per-step figure is the median over rounds in which the models took turns.",
            "",
        ]
    if "steps" in r:
        title = "Seconds per training step (32 windows, default model settings, 1 torch thread)"
        lines += step_table(title, r["steps"])
    if "steps_cuda" in r:
        title = f"Seconds per training step on the GPU ({r['gpu']}, 32 windows, same models)"
        lines += step_table(title, r["steps_cuda"])
    if "quality" in r:
        lines += [
            "### Dense test MAE on the bundled data (every sensor kept)",
            "",
            "| data | model and recipe | test MAE | test RMSE | training (s) |",
            "| --- | --- | ---: | ---: | ---: |",
        ]
        for data, rows in r["quality"].items():
            for label, m in rows.items():
                lines.append(
                    f"| {data} | {label} | {m['mae']:.4f} | {m['rmse']:.4f} "
                    f"| {m['train_seconds']} |"
                )
        lines.append("")
    if "fit" in r:
        f = r["fit"]
        hit = "yes" if f["first_fit_s"] < TARGET_FIT_S else "NO"
        lines += [
            "### `dynst fit --backbone gwnet` defaults, 60 sensors x 4000 hours, 2 cores",
            "",
            f"- first fit (`--sparsity 0.9`, dense reference trained): {f['first_fit_s']} s wall "
            f"(fit {f['first_timings']['fit_seconds']} s, dense reference "
            f"{f['first_timings']['dense_reference_seconds']} s); "
            f"target < {TARGET_FIT_S:.0f} s: {hit}; CPU time of the fit process "
            f"{f['first_fit_cpu_s']} s",
        ]
        if "second_fit_s" in f:
            lines.append(
                f"- second fit of the same data at `--sparsity 0.5`: {f['second_fit_s']} s wall, "
                f"dense reference from `{f['second_timings']['dense_reference_source']}` "
                f"(dense training seconds: {f['second_timings']['dense_reference_seconds']})"
            )
        lines.append("")
    if "compare" in r:
        c = r["compare"]
        hit = "yes" if c["speedup"] >= TARGET_COMPARE_SPEEDUP else "NO"
        lines += [
            f"### `dynst compare --nproc 2` against `--nproc 1` (METR-LA, stid recipe, "
            f"{c.get('epochs', 4)} epochs per keep set)",
            "",
            f"- {c['rows']} keep sets (the default methods at sparsity {c.get('sparsity', '0.5')}"
            ", and the dense model), "
            f"`--seeds {c.get('seeds', 1)}` ({c.get('refits', 0)} stability refits): "
            f"{c['nproc1_s']} s with one process, {c['nproc2_s']} s with two: "
            f"{c['speedup']}x (target >= {TARGET_COMPARE_SPEEDUP}x: {hit}); largest difference "
            f"between the two runs' MAE/RMSE: {c['max_abs_metric_difference']:.3g}",
            "",
        ]
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", default="steps,quality,fit,compare")
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--steps", type=int, default=4)
    parser.add_argument(
        "--one-fit", action="store_true", help="fit: skip the second fit (cached dense reference)"
    )
    parser.add_argument("--compare-epochs", type=int, default=12, help="epochs per keep set")
    parser.add_argument("--compare-seeds", type=int, default=1, help="compare's --seeds")
    parser.add_argument("--compare-sparsity", default="0.5", help="compare's --sparsity")
    parser.add_argument("--work", type=Path, help="where datasets and runs go (default: temp)")
    parser.add_argument(
        "--device", choices=("cpu", "cuda"), default="cpu", help="steps: cuda adds GPU step times"
    )
    args = parser.parse_args()
    parts = set(args.only.split(","))
    command = "python " + " ".join(sys.argv)
    result = {"stamp": stamp(command)}
    work = args.work or Path(tempfile.mkdtemp(prefix="dynst-bench-backbones-"))
    work.mkdir(parents=True, exist_ok=True)
    datasets = {}
    if parts & {"steps", "quality"}:
        datasets = {name: ingest(name, work / f"{name}.nc") for name in STEP_MODELS}
    if "steps" in parts:
        result["steps"] = {
            name: step_times(path, STEP_MODELS[name], args.repeats, args.steps)
            for name, path in datasets.items()
        }
        if args.device == "cuda":
            result["gpu"] = torch.cuda.get_device_name()
            result["steps_cuda"] = {
                name: step_times(path, STEP_MODELS[name], args.repeats, args.steps, "cuda")
                for name, path in datasets.items()
            }
        print("\n".join(markdown(result)), flush=True)  # each part as soon as it is measured
    if "quality" in parts:
        torch.set_num_threads(1)
        result["quality"] = {}
        for name, path in datasets.items():
            before = FitConfig.from_dict(BEFORE_RECIPES[name])
            after = load_recipe(REPO / AFTER_RECIPES[name])
            capped = FitConfig.from_dict(after.to_dict())
            capped.train.max_batches_per_epoch = before.train.max_batches_per_epoch
            capped.train.batch_size = before.train.batch_size
            result["quality"][name] = {
                f"before: {before.model.backbone}, previous recipe": dense_mae(path, before),
                f"after: {after.model.backbone}, {AFTER_RECIPES[name]}": dense_mae(path, after),
                f"after: {after.model.backbone}, same recipe with the previous batch cap": (
                    dense_mae(path, capped)
                ),
            }
        print("\n".join(markdown({"stamp": result["stamp"], "quality": result["quality"]})))
    torch.set_num_threads(2)
    if "fit" in parts:
        result["fit"] = fit_times(work, second=not args.one_fit)
    if "compare" in parts:
        result["compare"] = compare_times(
            work, args.compare_epochs, args.compare_seeds, args.compare_sparsity
        )
    merge_json("backbones", result["stamp"]["date"], result)
    print("\n".join(markdown(result)))


if __name__ == "__main__":
    main()
