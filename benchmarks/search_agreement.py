"""Is the brief mask searches' agreement above chance? A permutation test per stored fit.

Reads the fits of a ranking-benchmark variant (default `pool-survival`, whose searches are the
default's) from benchmarks/results/ranking/<archive>/run-variant-<name>-<seed>/metrics.json,
written by `bench_ranking_variant.py`, and sets each fit's mean pairwise Jaccard of its searches'
keep sets beside that of as many keep sets of the same size drawn at random (20000 draws, seeded):
kappa = (J - J_random) / (1 - J_random) and p = the share of random draws that agree at least as
much. Where p is large, the searches' votes carry no more than chance.

    .venv/bin/python benchmarks/search_agreement.py [--name pool-survival]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

from dynst_cli.selection.consensus import mean_pairwise_jaccard

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_ranking import ARCHIVES, OUT  # noqa: E402


def random_agreement(n: int, k: int, searches: int, draws: int, seed: int = 0) -> np.ndarray:
    """Mean pairwise Jaccard of `searches` random keep sets of `k` of `n`, `draws` times (by
    the same definition as a fit's `searches.mean_pairwise_jaccard`)."""
    rng = np.random.default_rng(seed)
    out = np.empty(draws)
    keeps = np.zeros((searches, n), dtype=bool)
    for d in range(draws):
        keeps[:] = False
        for row in keeps:
            row[rng.choice(n, k, replace=False)] = True
        out[d] = mean_pairwise_jaccard(keeps)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--name", default="pool-survival")
    parser.add_argument("--draws", type=int, default=20000)
    args = parser.parse_args()
    print("| archive | fit seed | sensors | kept | searches' Jaccard | random | kappa | p |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for archive in ARCHIVES:
        for run in sorted((OUT / archive).glob(f"run-variant-{args.name}-[0-9]")):
            metrics = json.loads((run / "metrics.json").read_text())
            ranking = json.loads((run / "ranking.json").read_text())
            n, k = len(ranking), sum(1 for sensor in ranking if sensor["kept_in_fit"])
            observed = metrics["searches"]["mean_pairwise_jaccard"]
            searches = metrics["searches"]["searches"]
            chance = random_agreement(n, k, searches, args.draws)
            kappa = (observed - chance.mean()) / (1 - chance.mean())
            p = float(np.mean(chance >= observed - 1e-12))
            print(
                f"| {archive} | {run.name[-1]} | {n} | {k} | {observed:.3f} | "
                f"{chance.mean():.3f} | {kappa:+.2f} | {p:.3f} |"
            )


if __name__ == "__main__":
    main()
