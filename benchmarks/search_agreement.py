"""Is the brief mask searches' agreement above chance? A permutation test per stored fit.

Reads the fits of a ranking-benchmark variant (default `pool-survival`, whose searches are the
default's) from benchmarks/results/ranking/<archive>/run-variant-<name>-<seed>/metrics.json,
written by `bench_ranking_variant.py`, and sets each fit's mean pairwise Jaccard of its searches'
keep sets beside what as many keep sets of the same size drawn at random share
(`consensus.random_jaccard`, exact): kappa = (J - J_random) / (1 - J_random), and p = the share
of random draws (20000, seeded) that agree at least as much (`consensus.chance_of_overlap`, the
test `mask.searches_fallback` applies with 2000 draws). Where p is large, the searches' votes
carry no more than chance.

    .venv/bin/python benchmarks/search_agreement.py [--name pool-survival]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from dynst_cli.selection.consensus import chance_of_overlap, random_jaccard

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_ranking import ARCHIVES, OUT  # noqa: E402


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
            chance = random_jaccard(k, n)
            kappa = (observed - chance) / (1 - chance)
            sizes = [k] * metrics["searches"]["searches"]  # each search keeps the fit's count
            p = chance_of_overlap(observed, sizes, n, draws=args.draws)
            print(
                f"| {archive} | {run.name[-1]} | {n} | {k} | {observed:.3f} | "
                f"{chance:.3f} | {kappa:+.2f} | {p:.3f} |"
            )


if __name__ == "__main__":
    main()
