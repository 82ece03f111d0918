"""How the final ranking orders the dropped sensors: by addition, by elimination, or by addition
with the model retrained between the passes.

A plan sparser than the fit's keeps every sensor the fit kept plus the dropped ones that rank
first. This benchmark fits each archive at 0.9 with the ranking benchmark's recipes (today's
defaults otherwise), fit seeds 0, 1 and 2, once per `mask.rank_dropped_by`, and trains a fresh
backbone on the keep sets at 0.5 and 0.7 with training seeds 0 and 1 (best-validation weights,
as `compare` does). Datasets and recipes are those of bench_ranking.py; fits and scores are
cached under benchmarks/results/ranking/ARCHIVE/dropped/.

    .venv/bin/python benchmarks/bench_dropped_ranking.py [--archives planted,de-pm10] [--workers 2]
        [--ways addition,retrained_addition] [--output ranking_dropped]
"""

from __future__ import annotations

import argparse
import json
import sys
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _bench import stamp, stamp_lines  # noqa: E402
from _measure import REPO, RESULTS  # noqa: E402
from bench_ranking import OUT, cached, dataset_path, fit_job, score_job, write_recipe  # noqa: E402

ARCHIVES = ("planted", "de-pm10", "metr-la", "ie-wind")
WAYS = ("addition", "elimination", "retrained_addition")
FIT_SPARSITY = 0.9
SPARSITIES = (0.5, 0.7)
FIT_SEEDS = (0, 1, 2)
TRAIN_SEEDS = (0, 1)


def keep_sets(name: str, way: str, seed: int) -> dict[float, list[int]]:
    """The keep sets at SPARSITIES of one fit at FIT_SPARSITY (cached)."""
    here = OUT / name / "dropped"
    here.mkdir(parents=True, exist_ok=True)
    recipe = write_recipe(
        here / f"recipe-{way}.yaml", name,
        mask={"sparsity": FIT_SPARSITY, "rank_dropped_by": way},
    )  # fmt: skip
    run = here / f"run-{way}-seed{seed}"
    fit = cached(here / f"fit-{way}-seed{seed}.json", fit_job, name, way, run, recipe,
                 ["--seed", str(seed)], str(REPO / "src"))  # fmt: skip
    n = len(fit["order"])
    return {s: fit["order"][: n - round(s * n)] for s in SPARSITIES}


def scored(name: str, way: str, seed: int, sparsity: float, keep: list[int], train_seed: int):
    """Test MAE of a fresh backbone trained on `keep` with `train_seed` (cached)."""
    here = OUT / name / "dropped"
    recipe = write_recipe(here / f"recipe-train{train_seed}.yaml", name, train={"seed": train_seed})
    path = here / f"score-{way}-seed{seed}-{sparsity}-train{train_seed}.json"
    return cached(path, score_job, name, recipe, keep)["mae"]


def archive_job(name: str, way: str, seed: int) -> dict:
    """Test MAE per sparsity (mean over TRAIN_SEEDS) of one fit's keep sets."""
    keeps = keep_sets(name, way, seed)
    return {
        s: float(np.mean([scored(name, way, seed, s, keeps[s], t) for t in TRAIN_SEEDS]))
        for s in SPARSITIES
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--archives", default=",".join(ARCHIVES))
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--ways", default=",".join(WAYS), help="addition first: the reference")
    parser.add_argument("--output", default="ranking_dropped", help="results file name (no suffix)")
    args = parser.parse_args()
    names = [a for a in args.archives.split(",") if a]
    ways = [w for w in args.ways.split(",") if w]
    if ways[0] != "addition" or set(ways) - set(WAYS):
        parser.error(f"--ways: addition first, then any of {WAYS[1:]}")
    for name in names:
        dataset_path(name)  # ingested once, before the workers read it
    jobs = [(name, way, seed) for name in names for way in ways for seed in FIT_SEEDS]
    with ProcessPoolExecutor(args.workers) as pool:
        futures = {job: pool.submit(archive_job, *job) for job in jobs}
        maes = {job: future.result() for job, future in futures.items()}
    command = "python benchmarks/bench_dropped_ranking.py " + " ".join(sys.argv[1:])
    others = ways[1:]
    lines = [
        f"# Ranking quality: the order of the dropped sensors ({', '.join(ways)})",
        "",
        *stamp_lines(stamp(command.strip())),
        "",
        f"Fits at {FIT_SPARSITY} (fit seeds {', '.join(map(str, FIT_SEEDS))}); keep sets at "
        f"{' and '.join(map(str, SPARSITIES))} trained with training seeds "
        f"{', '.join(map(str, TRAIN_SEEDS))}; test MAE, mean over fits and trainings "
        "(per fit in brackets). `way / addition` below 1: that way ranks better than addition.",
        "",
        "| archive | S | " + " | ".join(ways) + " | "
        + " | ".join(f"{w} / addition" for w in others) + " |",
        "| --- | ---: | " + " | ".join("---:" for _ in ways + others) + " |",
    ]  # fmt: skip
    summary = {}
    for name in names:
        for s in SPARSITIES:
            per = {w: [maes[name, w, seed][s] for seed in FIT_SEEDS] for w in ways}
            mean = {w: float(np.mean(v)) for w, v in per.items()}
            summary[f"{name} {s}"] = {"per_fit": per, "mean": mean}
            cells = [f"{mean[w]:.4f} ({', '.join(f'{x:.3f}' for x in per[w])})" for w in ways]
            ratios = [f"{mean[w] / mean['addition']:.3f}" for w in others]
            lines.append(f"| {name} | {s} | " + " | ".join(cells + ratios) + " |")
    (RESULTS / f"{args.output}.md").write_text("\n".join(lines) + "\n")
    (RESULTS / f"{args.output}.json").write_text(json.dumps(summary, indent=1) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
