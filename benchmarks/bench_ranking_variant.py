"""One variant of the method against the rivals' and the default's stored figures.

`bench_ranking.py` trains every rival's keep sets again, which takes about an hour and a half on
a 2-core machine. Its rows are deterministic (same code, data and seeds: the same figures to the
last digit), so a variant of the method can be judged against the figures a run of it stored
(`--baseline`, a `ranking_*.json`): the variant is fitted with fit seeds 0, 1, 2 exactly as that
benchmark fits a variant, its keep sets at 0.5, 0.7, 0.9 are trained with training seeds 0, 1, 2
as it trains them, and the mean over fits and trainings is set beside the stored means of the
rivals (`{rival}_trained3`) and of the default (`{default}_trained3`). `--variant-mask '{}'`
refits the default itself: its figures must equal the stored ones, which checks that nothing the
comparison rests on has changed.

    .venv/bin/python benchmarks/bench_ranking_variant.py --name residual-grace4 \
        --variant-mask '{"regrow_signal": "residual", "regrow_grace": 4}' \
        [--archives de-pm10,metr-la] [--baseline ranking_searches.json] [--workers 2]

Jobs are cached under benchmarks/results/ranking/<archive>/ with the variant's name in their
file names, so a stopped run resumes.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _bench import stamp, stamp_lines  # noqa: E402
from _measure import REPO, RESULTS  # noqa: E402
from bench_ranking import (  # noqa: E402
    DEFAULT,
    FIT_SEEDS,
    OUT,
    RIVALS,
    SCORE_SEEDS,
    SPARSITIES,
    cached,
    dataset_path,
    fit_job,
    n_keep,
    score_job,
    variant_overrides,
    write_recipe,
)

REAL = ("de-pm10", "ie-wind", "metr-la", "era5-uk")


def run_archive(
    name: str, label: str, mask: dict, pool: ProcessPoolExecutor, train: dict | None = None
) -> tuple:
    """Mean test MAE of the variant's keep sets per sparsity, over fit and training seeds; how
    much each fit's searches agree (`searches_jaccard`), and random keep sets (`chance_of`)."""
    here = OUT / name
    dataset_path(name)
    changes = variant_overrides(name)[DEFAULT]
    variant = write_recipe(
        here / f"recipe-variant-{label}.yaml",
        name,
        **{
            **changes,
            "mask": {**changes.get("mask", {}), **mask},
            "train": {**changes.get("train", {}), **(train or {})},
        },
    )
    # the keep sets are trained as the stored rows were: the default's recipe, then reseeded
    scoring = {0: write_recipe(here / "recipe.yaml", name, **changes)}
    scoring.update(
        {k: write_recipe(here / f"recipe-train-seed{k}.yaml", name, train={"seed": k})
         for k in SCORE_SEEDS}
    )  # fmt: skip
    fits = {}
    for seed in (0, *FIT_SEEDS):
        path, run = here / f"fit-variant-{label}-{seed}.json", here / f"run-variant-{label}-{seed}"
        if not path.is_file() and run.exists():  # left by a stopped run
            shutil.rmtree(run)
        extra = [] if seed == 0 else ["--seed", str(seed)]
        src = str(REPO / "src")
        fits[seed] = pool.submit(cached, path, fit_job, name, label, run, variant, extra, src)
    jobs = {}
    for seed, future in fits.items():
        order = future.result()["order"]
        for s in SPARSITIES:
            keep = order[: n_keep(len(order), s)]
            for k, recipe in scoring.items():
                path = here / f"score-variant-{label}-{seed}-{s}-train{k}.json"
                jobs[(seed, s, k)] = pool.submit(cached, path, score_job, name, recipe, keep)
    maes = {key: job.result()["mae"] for key, job in jobs.items()}
    means = {
        str(s): float(np.mean([v for (_, t, _), v in maes.items() if t == s])) for s in SPARSITIES
    }
    runs = [here / f"run-variant-{label}-{seed}" for seed in fits]
    return means, [searches_jaccard(run) for run in runs], chance_of(runs[0])


def searches_jaccard(run: Path) -> float | None:
    """Mean pairwise Jaccard of the keep sets of a fit's brief mask searches (its metrics.json),
    None for a fit of one search."""
    metrics = json.loads((run / "metrics.json").read_text())
    return (metrics.get("searches") or {}).get("mean_pairwise_jaccard")


def chance_of(run: Path) -> float:
    """What two random keep sets of the fit's own size share (`random_jaccard`)."""
    from dynst_cli.selection.consensus import random_jaccard

    ranking = json.loads((run / "ranking.json").read_text())
    return random_jaccard(sum(e["kept_in_fit"] for e in ranking), len(ranking))


def verdicts(baseline: dict, name: str, measured: dict) -> list[dict]:
    rows = []
    for s, mae in measured.items():
        stored = baseline[name]["table"][s]
        rivals = {m: stored[f"{m}_trained3"] for m in RIVALS}
        best = min(rivals, key=rivals.get)
        rows.append(
            {
                "sparsity": s,
                "variant": mae,
                "default": stored[f"{DEFAULT}_trained3"],
                "best_rival": best,
                "best_rival_mae": rivals[best],
                "random": rivals["random"],
            }
        )
    return rows


def markdown(
    stamped: dict, label: str, mask: dict, baseline_file: str, table: dict, agreement: dict
) -> str:
    lines = [f"# Ranking quality: {label} against the stored default", "", *stamp_lines(stamped)]
    lines += [
        "",
        f"Variant: the default with `mask: {json.dumps(mask)}`. Test MAE, mean over fit seeds "
        "0-2 and training seeds 0-2; the default's and the rivals' figures are those stored in "
        f"`{baseline_file}` (the same trainings).",
        "",
        "| archive | S | variant | default | best rival | variant / best | default / best "
        "| variant / random | variant / default |",
        "| --- | ---: | ---: | ---: | --- | ---: | ---: | ---: | ---: |",
    ]
    ratios, defaults = [], []
    for name, rows in table.items():
        for r in rows:
            best = r["best_rival_mae"]
            lines.append(
                f"| {name} | {r['sparsity']} | {r['variant']:.4f} | {r['default']:.4f} | "
                f"{r['best_rival']} {best:.4f} | {r['variant'] / best:.3f} | "
                f"{r['default'] / best:.3f} | {r['variant'] / r['random']:.3f} | "
                f"{r['variant'] / r['default']:.3f} |"
            )
            if name in REAL:
                ratios.append(r["variant"] / best)
                defaults.append(r["default"] / best)
    if ratios:
        lines += [
            "",
            f"Geometric mean of DynST / best rival over the {len(ratios)} real-archive cells: "
            f"variant {np.exp(np.mean(np.log(ratios))):.4f} "
            f"({sum(x <= 1 for x in ratios)} at or below the best rival), default "
            f"{np.exp(np.mean(np.log(defaults))):.4f} ({sum(x <= 1 for x in defaults)}).",
        ]
    rows = [
        f"{name} {' / '.join(f'{j:.2f}' for j in js)} (random sets: {chance:.2f})"
        for name, (js, chance) in agreement.items()
        if all(j is not None for j in js)
    ]
    if rows:
        lines += [
            "",
            "How much the variant's brief mask searches agree, mean pairwise Jaccard of their "
            "keep sets within each fit (fit seeds 0 / 1 / 2; in brackets, what two keep sets of "
            "the fit's size drawn at random share on average): " + "; ".join(rows) + ".",
        ]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--name", required=True, help="the variant's label (file names)")
    parser.add_argument("--variant-mask", required=True, help="mask overrides, as JSON")
    parser.add_argument("--archives", default=",".join(REAL))
    parser.add_argument(
        "--variant-train",
        default="{}",
        help="train overrides of the variant's fits, as JSON (e.g. the dense reference that "
        "mask.challengers starts from; the benchmark's fits leave it out)",
    )
    parser.add_argument("--baseline", default=f"ranking_{DEFAULT}.json")
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    mask = json.loads(args.variant_mask)
    baseline = json.loads((RESULTS / args.baseline).read_text())
    command = "python benchmarks/bench_ranking_variant.py " + " ".join(
        f"'{a}'" if " " in a or "{" in a else a for a in sys.argv[1:]
    )
    stamped = stamp(command)
    table, agreement = {}, {}
    with ProcessPoolExecutor(args.workers) as pool:
        for name in args.archives.split(","):
            measured, jaccards, chance = run_archive(
                name, args.name, mask, pool, json.loads(args.variant_train)
            )
            table[name] = verdicts(baseline, name, measured)
            agreement[name] = (jaccards, chance)
            print(f"{name}: {table[name]}", file=sys.stderr, flush=True)
    text = markdown(stamped, args.name, mask, args.baseline, table, agreement)
    (RESULTS / f"ranking_variant_{args.name}.md").write_text(text)
    (RESULTS / f"ranking_variant_{args.name}.json").write_text(json.dumps(table, indent=1) + "\n")
    print(text)


if __name__ == "__main__":
    main()
