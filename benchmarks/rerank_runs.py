"""Rank a finished run's sensors again with today's code and compare with its ranking.json.

Used to check that a change of how the final ranking is computed (not of what it computes)
leaves the saved rankings of the ranking benchmark as they were:

    .venv/bin/python benchmarks/rerank_runs.py benchmarks/results/ranking/*/run-thirds*
"""

from __future__ import annotations

import sys
import time

import numpy as np

from dynst_cli.evaluate import EVAL_BATCH
from dynst_cli.prune import load_for_run
from dynst_cli.run import RANKING, RunDir
from dynst_cli.saliency import saliency_ranking
from dynst_cli.selection import Ranking


def rerank(path: str) -> tuple[float, float]:
    """Share of positions where today's order equals the saved one, and the seconds it took."""
    run = RunDir(path)
    config, _, prep = load_for_run(run)
    saved = Ranking.read(run.file(RANKING))
    prep.model.gate.set_keep(saved.kept, -1)
    starts = prep.splits["val"].window_starts
    if not starts.size:
        starts = prep.splits["train"].window_starts
    started = time.perf_counter()
    order, _ = saliency_ranking(prep, starts, EVAL_BATCH, config.mask.rank_pass_fraction)
    return float(np.mean(order == saved.order)), time.perf_counter() - started


def main() -> None:
    for path in sys.argv[1:]:
        same, seconds = rerank(path)
        print(f"{path}: {same:.1%} of positions as saved ({seconds:.1f} s)")


if __name__ == "__main__":
    main()
