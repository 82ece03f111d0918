"""DynST / best rival per variant, read from the ranking benchmark's cached scores.

For a run of bench_ranking.py that was stopped before it wrote its report:

    .venv/bin/python benchmarks/read_cached_scores.py de-pm10 era5-uk [...]
    BENCH_VARIANTS=silent,occluded .venv/bin/python benchmarks/read_cached_scores.py de-pm10

Means over the three training seeds of every keep set (random: the mean of its three keep sets,
one training each), then over the fit seeds 0-2 of each variant.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import numpy as np

CACHE = Path(__file__).resolve().parent / "results" / "ranking"
VARIANTS = tuple(os.environ.get("BENCH_VARIANTS", "silent,centered,available,windowed").split(","))


def mae(folder: Path, key: str, sparsity: float, trained: bool = True) -> float | None:
    """Mean test MAE of a keep set over its training seeds; None if one is not scored."""
    suffixes = [""] + ([f"-train-seed{k}" for k in (1, 2)] if trained else [])
    values = []
    for suffix in suffixes:
        path = folder / f"score-{key}-{sparsity}{suffix}.json"
        if not path.is_file():
            return None
        values.append(json.loads(path.read_text())["mae"])
    return float(np.mean(values))


def report(archive: str) -> None:
    folder = CACHE / archive
    for s in (0.5, 0.7, 0.9):
        rivals = {m: mae(folder, m, s) for m in ("variance", "qr", "greedy")}
        randoms = [mae(folder, f"random-{k}", s, trained=False) for k in range(3)]
        rnd = None if None in randoms else float(np.mean(randoms))
        scored = [v for v in [*rivals.values(), rnd] if v is not None]
        best = min(scored) if scored else None
        named = " ".join(f"{m}={v and round(v, 4)}" for m, v in rivals.items())
        print(f"{archive} {s}: best={best and round(best, 4)} {named} rnd={rnd and round(rnd, 4)}")
        for variant in VARIANTS:
            fits = [mae(folder, f"dynst-{variant}{x}", s) for x in ("", "-seed1", "-seed2")]
            got = [f for f in fits if f is not None]
            if got and best and rnd:
                print(
                    f"   {variant}: n={len(got)} mean/best={np.mean(got) / best:.3f}"
                    f" /rnd={np.mean(got) / rnd:.3f} per-fit={[round(f / best, 3) for f in got]}"
                )


if __name__ == "__main__":
    for name in sys.argv[1:]:
        report(name)
