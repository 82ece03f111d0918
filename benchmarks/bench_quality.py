"""Forecast quality of DynST's keep sets against dense and rival keep sets, and a planted network.

Real data (METR-LA week, ERA5 UK): ingest as recipes/demo.sh does, `dynst fit` with the dataset's
recipe at sparsity 0.5 (the fit also trains the dense reference), then the pieces of
`dynst_cli.compare.runner` (the same loop as `compare_run`, without its stability refits): at each
sparsity a fresh backbone is trained on each keep set (DynST's ranking, random over seeds 0..K-1,
variance, QR) with the run's recipe and scored on the test split. The dense row is the fit's dense
reference: `train_fixed` on every sensor with the same configuration, which is exactly what
`compare_run` would retrain.

Planted network (tests/synthetic.planted_network): a few drivers and many lagged noisy followers;
a fit whose sparsity keeps exactly as many sensors as there are drivers should keep the drivers.

    .venv/bin/python benchmarks/bench_quality.py                      # everything
    .venv/bin/python benchmarks/bench_quality.py --dataset metr-la    # one part
    .venv/bin/python benchmarks/bench_quality.py --dataset metr-la --run RUN_DIR  # reuse a fit

Writes benchmarks/results/quality.md and quality.json (entries merged dataset by dataset).
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _bench import DATASETS, fit, ingest, merge_json, pct, stamp, stamp_lines  # noqa: E402
from _measure import REPO, RESULTS  # noqa: E402
from dynst_cli.compare.runner import (  # noqa: E402
    rankings,
    score_keep_set,
    training_snapshots,
)
from dynst_cli.compare.stability import with_epochs  # noqa: E402
from dynst_cli.mask import n_keep_for  # noqa: E402
from dynst_cli.prune import load_for_run  # noqa: E402
from dynst_cli.run import RunDir  # noqa: E402
from dynst_cli.selection import Ranking, Siting, make_selector  # noqa: E402

SPARSITIES = (0.3, 0.5, 0.7)
METHODS = ("dynst", "random", "variance", "qr")
RIVALS = ("random", "variance", "qr")

PLANTED = {"n_drivers": 4, "n_followers": 36, "n_steps": 2000, "seed": 0}
PLANTED_RECIPE = {
    "data": {"t_in": 12, "t_out": 3},
    "mask": {"sparsity": 0.9, "update_every": 5},
    "model": {"backbone": "stid", "hidden": 32, "embed": 8},
    "train": {"epochs": 10, "batch_size": 32, "lr": 2e-3, "seed": 0, "dense_reference": False},
}


def compare_rows(
    run_path: Path, sparsities, seeds: int, epochs: int | None, log
) -> tuple[list[dict], dict, dict | None]:
    """compare_run's loop (no stability refits): one trained-and-scored row per keep set.

    With `epochs` (fewer than the recipe's, to save time) the dense model is retrained at those
    epochs too and returned third; otherwise the fit's dense reference is the same model.
    """
    run = RunDir(run_path).require()
    config, data, prep = load_for_run(run)
    config = with_epochs(config, epochs)
    snapshots = training_snapshots(data, prep.splits["train"].stop)
    siting = Siting.free(data.n_sensors)
    rows = []
    for sparsity in sparsities:
        n_keep = n_keep_for(data.n_sensors, sparsity)
        for method, seed, ranking in rankings(METHODS, seeds, run.path, snapshots):
            keep = siting.select(ranking, n_keep).keep
            metrics, seconds = score_keep_set(data, config, keep)
            row = {"method": method, "sparsity": sparsity, "n_keep": n_keep, "seed": seed}
            rows.append({**row, **metrics, "seconds": round(seconds, 2)})
            log(f"  S={sparsity} {method} seed={seed}: MAE {metrics['mae']:.4f} ({seconds:.1f} s)")
    dense = None
    if epochs is not None:
        dense, seconds = score_keep_set(data, config, np.ones(data.n_sensors, dtype=bool))
        log(f"  dense at {epochs} epochs: MAE {dense['mae']:.4f} ({seconds:.1f} s)")
    return rows, {"n_sensors": data.n_sensors, "config": config.to_dict()}, dense


def summarise(rows: list[dict], dense: dict, sparsities) -> dict:
    """Per sparsity: every method's MAE/RMSE (random: mean over seeds) and the gaps."""
    table = {}
    for s in sparsities:
        entry = {"dense": {k: dense[k] for k in ("mae", "rmse")}}
        for method in METHODS:
            sel = [r for r in rows if r["sparsity"] == s and r["method"] == method]
            entry[method] = {
                "mae": float(np.mean([r["mae"] for r in sel])),
                "rmse": float(np.mean([r["rmse"] for r in sel])),
                "n": len(sel),
            }
            if len(sel) > 1:
                entry[method]["mae_std"] = float(np.std([r["mae"] for r in sel]))
        best = min(RIVALS, key=lambda m: entry[m]["mae"])
        entry["best_rival"] = best
        entry["gap_to_dense_pct"] = pct(entry["dynst"]["mae"], dense["mae"])
        entry["gap_to_best_rival_pct"] = pct(entry["dynst"]["mae"], entry[best]["mae"])
        entry["gap_to_random_pct"] = pct(entry["dynst"]["mae"], entry["random"]["mae"])
        table[str(s)] = entry
    return table


def real_dataset(
    name: str, run: Path | None, work: Path, sparsities, seeds: int, epochs: int | None, log
) -> dict:
    fit_info = None
    if run is None:
        dataset = ingest(name, work / f"{name}.nc")
        run = work / f"{name}-run"
        log(f"{name}: dynst fit (recipe {DATASETS[name]['recipe']})")
        result = fit(dataset, run, REPO / DATASETS[name]["recipe"])
        fit_info = {"seconds": round(result["seconds"], 1)}
    run_dir = RunDir(run)
    metrics = run_dir.read_json("metrics.json")
    dense = fit_dense = metrics["dense"]["test"]
    started = time.perf_counter()
    rows, info, retrained = compare_rows(run, sparsities, seeds, epochs, log)
    if retrained is not None:
        dense = retrained
    return {
        "run": str(run),
        "fit": fit_info,
        "n_sensors": info["n_sensors"],
        "epochs": info["config"]["train"]["epochs"],
        "backbone": info["config"]["model"]["backbone"],
        "random_seeds": seeds,
        "dense_source": "fit's dense reference" if retrained is None else "retrained",
        "fit_metrics_test": {
            "sparse": metrics["sparse"]["test"],
            "dense": fit_dense,
            "dense_warmup": metrics["dense_warmup"]["test"],
            "fit_sparsity": metrics["sparsity"],
        },
        "rows": rows,
        "table": summarise(rows, dense, sparsities),
        "compare_seconds": round(time.perf_counter() - started, 1),
    }


def planted(work: Path, log) -> dict:
    """Fit the planted network at the sparsity that keeps exactly the drivers; count them."""
    sys.path.insert(0, str(REPO / "tests"))
    from synthetic import canonical_dataset, planted_network, write

    values, follows = planted_network(**PLANTED)
    n_drivers, n = PLANTED["n_drivers"], values.shape[1]
    drivers = set(range(n_drivers))
    dataset = write(canonical_dataset(values), work / "planted.nc")
    recipe = work / "planted.yaml"
    recipe.write_text(yaml.safe_dump(PLANTED_RECIPE))
    run = work / "planted-run"
    log(f"planted: dynst fit ({n} sensors, {n_drivers} drivers, S=0.9)")
    result = fit(dataset, run, recipe)
    run_dir = RunDir(run)
    ranking = Ranking.read(run_dir.file("ranking.json"))
    kept = np.flatnonzero(ranking.kept)
    order = ranking.order
    config, data, prep = load_for_run(run_dir)
    snapshots = training_snapshots(data, prep.splits["train"].stop)
    n_keep = n_keep_for(n, PLANTED_RECIPE["mask"]["sparsity"])

    def hits(indices) -> int:
        return len(drivers & {int(i) for i in indices})

    counts = {
        "dynst (kept in fit)": hits(kept),
        "dynst (top of ranking)": hits(order[:n_keep]),
        "variance": hits(make_selector("variance").fit(snapshots).get_selected_sensors(n_keep)),
        "qr": hits(make_selector("qr").fit(snapshots).get_selected_sensors(n_keep)),
    }
    random_hits = [
        hits(make_selector("random", seed=s).fit(snapshots).get_selected_sensors(n_keep))
        for s in range(20)
    ]
    counts["random (mean of 20 seeds)"] = float(np.mean(random_hits))
    metrics = run_dir.read_json("metrics.json")
    return {
        "network": PLANTED,
        "recipe": PLANTED_RECIPE,
        "n_sensors": n,
        "n_keep": n_keep,
        "kept_in_fit": [int(i) for i in sorted(kept)],
        "top_of_ranking": [int(i) for i in order[:n_keep]],
        "drivers_kept": counts,
        "random_hits_per_seed": random_hits,
        "expected_random": n_keep * n_drivers / n,
        "fit_seconds": round(result["seconds"], 1),
        "test": {"sparse": metrics["sparse"]["test"], "warmup": metrics["dense_warmup"]["test"]},
    }


def f3(x: float) -> str:
    return f"{x:.3f}"


def real_markdown(name: str, r: dict) -> list[str]:
    seeds = r["random_seeds"]
    lines = [
        f"### {name} ({r['n_sensors']} sensors, {r['backbone']}, "
        f"{r['epochs']} epochs per keep set)",
        "",
        *stamp_lines(r["stamp"]),
        "",
        f"Test MAE / RMSE. random: mean of {seeds} seeds (MAE std in brackets). Dense: "
        + (
            "the fit's dense reference (every sensor, same recipe)"
            if r["dense_source"] != "retrained"
            else f"every sensor, retrained like the keep sets ({r['epochs']} epochs)"
        )
        + ". Gaps are of MAE, in % (negative: DynST lower).",
        "",
        "| sparsity | kept | DynST MAE / RMSE | dense MAE / RMSE | random MAE / RMSE | "
        "variance MAE / RMSE | QR MAE / RMSE | DynST vs dense | DynST vs random | "
        "DynST vs best rival |",
        "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for s, e in r["table"].items():
        n_keep = next(row["n_keep"] for row in r["rows"] if str(row["sparsity"]) == s)
        rnd = e["random"]
        std = f" (±{rnd['mae_std']:.3f})" if "mae_std" in rnd else ""
        lines.append(
            f"| {s} | {n_keep} | {f3(e['dynst']['mae'])} / {f3(e['dynst']['rmse'])} | "
            f"{f3(e['dense']['mae'])} / {f3(e['dense']['rmse'])} | "
            f"{f3(rnd['mae'])}{std} / {f3(rnd['rmse'])} | "
            f"{f3(e['variance']['mae'])} / {f3(e['variance']['rmse'])} | "
            f"{f3(e['qr']['mae'])} / {f3(e['qr']['rmse'])} | {e['gap_to_dense_pct']:+.1f} % | "
            f"{e['gap_to_random_pct']:+.1f} % | {e['gap_to_best_rival_pct']:+.1f} % "
            f"({e['best_rival']}) |"
        )
    fm = r["fit_metrics_test"]
    lines += [
        "",
        f"The fit's own sparse model at S={fm['fit_sparsity']:.2f} (gate learnt during training, "
        f"not retrained): test MAE {f3(fm['sparse']['mae'])} / RMSE {f3(fm['sparse']['rmse'])}; "
        f"{pct(fm['sparse']['mae'], fm['dense']['mae']):+.1f} % vs the fit's dense reference "
        f"(MAE {f3(fm['dense']['mae'])}, same epochs as the fit). Compare time "
        f"{r['compare_seconds']:.0f} s.",
        "",
        *targets_markdown(r),
        "",
    ]
    return lines


def targets(r: dict) -> list[dict]:
    """The quality targets of one real dataset: name, value, goal, hit."""
    t = r["table"]
    out = []
    if "0.5" in t:
        gap = t["0.5"]["gap_to_dense_pct"]
        out.append({"target": "DynST within 5 % of dense at S=0.5 (MAE)", "value": gap,
                    "goal": 5.0, "hit": gap <= 5.0})  # fmt: skip
    for s, e in t.items():
        gap = e["gap_to_random_pct"]
        out.append({"target": f"DynST below random (mean) at S={s}", "value": gap,
                    "goal": 0.0, "hit": gap < 0.0})  # fmt: skip
    if "0.7" in t:
        gap = t["0.7"]["gap_to_best_rival_pct"]
        out.append({"target": "DynST >= 10 % below the best rival at S=0.7 (MAE)",
                    "value": gap, "goal": -10.0, "hit": gap <= -10.0})  # fmt: skip
    return out


def targets_markdown(r: dict) -> list[str]:
    lines = ["| target | measured | hit |", "| --- | ---: | :---: |"]
    for t in targets(r):
        lines.append(f"| {t['target']} | {t['value']:+.1f} % | {'yes' if t['hit'] else 'NO'} |")
    return lines


def planted_markdown(p: dict) -> list[str]:
    net = p["network"]
    lines = [
        f"### planted network ({net['n_drivers']} drivers, {net['n_followers']} lagged noisy "
        f"followers, {net['n_steps']} steps)",
        "",
        *stamp_lines(p["stamp"]),
        "",
        f"Fit: `{p['recipe']}` (keeps {p['n_keep']} of {p['n_sensors']}). The right answer keeps "
        f"the {net['n_drivers']} drivers (sensors 0..{net['n_drivers'] - 1}). Fit time "
        f"{p['fit_seconds']:.0f} s; test MAE of the fit's sparse model "
        f"{f3(p['test']['sparse']['mae'])} (dense warm-up {f3(p['test']['warmup']['mae'])}).",
        "",
        f"| keep set | drivers among the {p['n_keep']} kept |",
        "| --- | ---: |",
    ]
    for name, hits in p["drivers_kept"].items():
        shown = f"{hits:.2f}" if isinstance(hits, float) else str(hits)
        lines.append(f"| {name} | {shown} of {net['n_drivers']} |")
    sys.path.insert(0, str(REPO / "tests"))
    from synthetic import planted_network

    _, follows = planted_network(**net)
    kept = [int(i) for i in p["kept_in_fit"]]  # JSON may hold them as floats
    covered = sorted({int(follows[i]) for i in kept})
    lines += [
        "",
        f"DynST kept {kept}, which follow drivers "
        f"{[int(follows[i]) for i in kept]}: {len(covered)} of {net['n_drivers']} "
        f"drivers covered by a kept sensor or a lagged copy of it. Random expectation "
        f"{p['expected_random']:.2f} drivers kept.",
        "",
    ]
    return lines


def markdown(data: dict) -> str:
    lines = ["# Quality", ""]
    for name in (*DATASETS, "planted"):
        if name in data:
            fn = planted_markdown if name == "planted" else real_markdown
            lines += fn(name, data[name]) if name != "planted" else fn(data[name])
    return "\n".join(lines)


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", choices=[*DATASETS, "planted", "all"], default="all")
    parser.add_argument("--run", type=Path, help="reuse this fitted run (with one --dataset)")
    parser.add_argument("--seeds", type=int, default=3, help="seeds of the random keep sets")
    parser.add_argument("--sparsities", type=float, nargs="+", default=list(SPARSITIES))
    parser.add_argument(
        "--epochs", type=int, help="train each keep set for this many epochs (default: recipe's)"
    )
    parser.add_argument("--work", type=Path, help="where datasets and runs go (default: temp)")
    parser.add_argument("--no-write", action="store_true", help="print only, no results files")
    args = parser.parse_args(argv)
    names = [*DATASETS, "planted"] if args.dataset == "all" else [args.dataset]
    if args.run and len(names) != 1:
        parser.error("--run needs a single --dataset")
    command = "python benchmarks/bench_quality.py " + " ".join(argv or sys.argv[1:])
    work = args.work or Path(tempfile.mkdtemp(prefix="dynst-bench-quality-"))
    work.mkdir(parents=True, exist_ok=True)

    def log(msg: str) -> None:
        print(msg, file=sys.stderr, flush=True)

    data = {}
    try:
        for name in names:
            if name == "planted":
                result = planted(work, log)
            else:
                result = real_dataset(
                    name, args.run, work, args.sparsities, args.seeds, args.epochs, log
                )
            result["stamp"] = stamp(command.strip())
            if args.no_write:
                data[name] = result
            else:
                data = merge_json("quality", name, result)
    finally:
        if args.work is None:
            shutil.rmtree(work, ignore_errors=True)
    text = markdown(data)
    print(text)
    if not args.no_write:
        (RESULTS / "quality.md").write_text(text)
    return data


if __name__ == "__main__":
    main()
