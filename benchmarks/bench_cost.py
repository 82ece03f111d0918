"""What DynST costs: fit time against dense training, `make demo` time, fit memory, inference.

- demo: `bash recipes/demo.sh OUT` (what `make demo` runs) timed end to end, peak RSS of its tree;
- fit vs dense: each demo run's timings.json: `fit_seconds` (DynST: warm-up, ramp, drop-and-regrow,
  fine-tune) against `dense_reference_seconds` (the same backbone and epochs on a fixed all-on
  mask), plus one more METR-LA fit measured alone for its peak RSS;
- inference: forecast of one batch of 64 test windows by the reduced network
  (`ForecastModel.forward_kept` reading only the kept 50 % of sensors) against the dense one
  (`forward` with every sensor), median over many repeats under torch.no_grad, with 1 thread and
  with torch's default thread count. stid is the trained METR-LA / ERA5 model; gwnet and simvp
  (contrast) are untrained models of the same sizes (time does not depend on the weights).

    .venv/bin/python benchmarks/bench_cost.py [--demo-dir DIR] [--skip-demo]

Writes benchmarks/results/cost.md and cost.json.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _bench import DATASETS, fit, merge_json, read_json, stamp, stamp_lines  # noqa: E402
from _measure import REPO, RESULTS, mib, run_measured  # noqa: E402
from dynst_cli.config import with_overrides  # noqa: E402
from dynst_cli.mask import n_keep_for  # noqa: E402
from dynst_cli.prune import load_for_run  # noqa: E402
from dynst_cli.run import RunDir  # noqa: E402
from dynst_cli.selection import Ranking  # noqa: E402
from dynst_cli.train import prepare  # noqa: E402

BATCH = 64
SPARSITY = 0.5
TARGET_RATIO = 1.3
TARGET_DEMO_S = 120.0
TARGET_SPEEDUP = 1.6
CONTRAST = {"metr-la": ["stid", "gwnet"], "era5-uk": ["stid", "simvp"]}


class _Skip(Exception):
    pass


def time_demo(out: Path) -> dict:
    env = {**os.environ, "DYNST": str(REPO / ".venv" / "bin" / "dynst")}
    result = run_measured(["bash", "recipes/demo.sh", str(out)], env=env, cwd=REPO)
    return {"seconds": round(result["seconds"], 1), "peak_rss": result["peak_rss"]}


def fit_timings(run: Path) -> dict:
    t = read_json(run / "timings.json")
    if not t.get("dense_reference_seconds"):  # the dense reference came from the cache
        return {**t, "ratio": None}
    ratio = t["fit_seconds"] / t["dense_reference_seconds"]
    return {**t, "ratio": round(ratio, 3)}


def median_seconds(fn, min_repeats: int = 20, max_repeats: int = 200, budget: float = 3.0):
    """Median wall time of `fn()` after 3 warm-up calls; repeats until `budget` s or the cap."""
    for _ in range(3):
        fn()
    times = []
    started = time.perf_counter()
    while len(times) < max_repeats and (
        len(times) < min_repeats or time.perf_counter() - started < budget
    ):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), len(times)


def inference(run_path: Path, backbone: str, threads_list) -> list[dict]:
    run = RunDir(run_path).require()
    config, data, prep = load_for_run(run)
    trained = backbone == config.model.backbone
    if not trained:
        config = with_overrides(config, {"model": {"backbone": backbone}})
        prep = prepare(data, config, prep.scaler)
    model = prep.model.eval()
    n_keep = n_keep_for(data.n_sensors, SPARSITY)
    kept = torch.from_numpy(np.sort(Ranking.read(run.file("ranking.json")).order[:n_keep]))
    batch = prep.source.batch(prep.splits["test"].window_starts[:BATCH])
    x, tod, dow = batch.x, batch.tod, batch.dow
    x_kept = x[:, :, kept].contiguous()
    with torch.no_grad():
        model.gate.set_keep(np.isin(np.arange(data.n_sensors), kept.numpy()), -1)
        gap = (model(x, tod, dow) - model.forward_kept(x_kept, kept, tod, dow)).abs().max().item()
    rows = []
    default_threads = torch.get_num_threads()
    for threads in threads_list:
        torch.set_num_threads(threads)
        with torch.no_grad():
            dense, n_dense = median_seconds(lambda: model(x, tod, dow))
            reduced, n_reduced = median_seconds(lambda: model.forward_kept(x_kept, kept, tod, dow))
        rows.append(
            {
                "backbone": backbone,
                "trained": trained,
                "threads": threads,
                "n_sensors": data.n_sensors,
                "n_kept": int(n_keep),
                "dense_ms": dense * 1e3,
                "reduced_ms": reduced * 1e3,
                "speedup": dense / reduced,
                "repeats": [n_dense, n_reduced],
                "max_abs_diff_forward_vs_kept": gap,
            }
        )
    torch.set_num_threads(default_threads)
    return rows


def markdown(r: dict) -> str:
    lines = ["# Cost", "", *stamp_lines(r["stamp"]), ""]
    if r.get("demo"):
        d = r["demo"]
        hit = "yes" if d["seconds"] < TARGET_DEMO_S else "NO"
        lines += [
            "## `make demo` wall time",
            "",
            "`DYNST=.venv/bin/dynst bash recipes/demo.sh DIR` (ingest, fit, prune, export of both "
            "datasets), timed end to end.",
            "",
            "| wall time (s) | peak RSS of the process tree (MiB) | target | hit |",
            "| ---: | ---: | ---: | :---: |",
            f"| {d['seconds']:.1f} | {mib(d['peak_rss'])} | < {TARGET_DEMO_S:.0f} s | {hit} |",
            "",
        ]
        if d.get("note"):
            lines += [f"Measured outside this script (`--demo-timing`): {d['note']}.", ""]
    lines += [
        "## Fit time: DynST against dense training",
        "",
        "From each run's timings.json: `fit_seconds` against `dense_reference_seconds` (same "
        "backbone, epochs and batches on a fixed all-on mask). Target: ratio <= 1.3.",
        "",
        "| run | epochs | DynST fit (s) | dense (s) | ratio | hit |",
        "| --- | ---: | ---: | ---: | ---: | :---: |",
    ]
    for name, t in r["fit"].items():
        if t["ratio"] is None:
            lines.append(f"| {name} | {t['epochs']} | {t['fit_seconds']:.1f} | cached | - | - |")
            continue
        hit = "yes" if t["ratio"] <= TARGET_RATIO else "NO"
        lines.append(
            f"| {name} | {t['epochs']} | {t['fit_seconds']:.1f} | "
            f"{t['dense_reference_seconds']:.1f} | {t['ratio']:.2f} | {hit} |"
        )
    m = r.get("fit_memory")
    lines += (
        []
        if m is None
        else [
            "",
            "## Peak memory of a fit",
            "",
            "`dynst fit metr-la.nc --recipe recipes/metr-la.yaml` alone in a subprocess "
            f"(includes the dense reference): peak RSS {mib(m['peak_rss'])} MiB, "
            f"peak anonymous RSS {mib(m['peak_anon'])} MiB, wall time "
            f"{m['seconds']:.1f} s (psutil, 50 ms polls).",
        ]
    )
    lines += [
        "",
        "## Inference: reduced network against dense",
        "",
        f"One batch of {BATCH} test windows, torch.no_grad, median of the repeats shown; reduced "
        f"= `forward_kept` on the kept {int(SPARSITY * 100)} % (DynST's ranking), dense = "
        "`forward` on every sensor. Target (stid): speed-up >= 1.6x. 'max diff' is the largest "
        "|forward - forward_kept| with the other sensors switched off (should be ~0).",
        "",
        "| dataset | backbone | threads | sensors (kept) | dense (ms) | reduced (ms) | speed-up | "
        "repeats | max diff | target |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | :---: |",
    ]
    for name, rows in r["inference"].items():
        for row in rows:
            bb = row["backbone"] + ("" if row["trained"] else " (untrained)")
            target = ""
            if row["backbone"] == "stid":
                target = "hit" if row["speedup"] >= TARGET_SPEEDUP else "MISSED"
            lines.append(
                f"| {name} | {bb} | {row['threads']} | {row['n_sensors']} ({row['n_kept']}) | "
                f"{row['dense_ms']:.2f} | {row['reduced_ms']:.2f} | {row['speedup']:.2f}x | "
                f"{row['repeats'][0]}/{row['repeats'][1]} | "
                f"{row['max_abs_diff_forward_vs_kept']:.1e} | {target} |"
            )
    return "\n".join([*lines, ""])


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--demo-dir", type=Path, help="keep the demo outputs here (default: a temporary folder)"
    )
    parser.add_argument(
        "--skip-demo", action="store_true", help="reuse the runs already in --demo-dir"
    )
    parser.add_argument(
        "--demo-timing",
        type=Path,
        help="with --skip-demo: JSON {seconds, peak_rss} of a demo run timed outside this script",
    )
    parser.add_argument(
        "--skip-fit-memory", action="store_true", help="no separate fit for its peak RSS"
    )
    parser.add_argument(
        "--contrast",
        action="store_true",
        help="also time gwnet (METR-LA) and simvp (ERA5), untrained; slow on CPU",
    )
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args(argv)
    if args.skip_demo and not args.demo_dir:
        parser.error("--skip-demo needs --demo-dir")
    command = "python benchmarks/bench_cost.py " + " ".join(argv or sys.argv[1:])
    out = args.demo_dir or Path(tempfile.mkdtemp(prefix="dynst-bench-demo-")) / "demo"
    result = {"stamp": stamp(command.strip())}
    try:
        if not args.skip_demo:
            print("cost: make demo (recipes/demo.sh)", file=sys.stderr, flush=True)
            result["demo"] = time_demo(out)
        elif args.demo_timing:
            result["demo"] = {**read_json(args.demo_timing), "timed_outside": True}
        result["fit"] = {name: fit_timings(out / f"{name}-run") for name in DATASETS}
        scratch = Path(tempfile.mkdtemp(prefix="dynst-bench-fit-"))
        try:
            if args.skip_fit_memory:
                raise _Skip
            print("cost: a METR-LA fit alone, for its peak RSS", file=sys.stderr, flush=True)
            m = fit(out / "metr-la.nc", scratch / "run", REPO / DATASETS["metr-la"]["recipe"])
            result["fit_memory"] = {k: m[k] for k in ("seconds", "peak_rss", "peak_anon")}
            result["fit"]["metr-la (alone, measured)"] = fit_timings(scratch / "run")
        except _Skip:
            pass
        finally:
            shutil.rmtree(scratch, ignore_errors=True)
        print("cost: inference", file=sys.stderr, flush=True)
        threads = sorted({1, torch.get_num_threads()})
        result["inference"] = {}
        for name in DATASETS:
            run = out / f"{name}-run"
            result["inference"][name] = [
                row
                for bb in (CONTRAST[name] if args.contrast else ["stid"])
                for row in inference(run, bb, threads)
            ]
    finally:
        if args.demo_dir is None:
            shutil.rmtree(out.parent, ignore_errors=True)
    text = markdown(result)
    print(text)
    if not args.no_write:
        merge_json("cost", "result", result)
        (RESULTS / "cost.md").write_text(text)
    return result


if __name__ == "__main__":
    main()
