"""Time of the greedy ridge selector on the bundled ERA5 grid (1617 cells), as `compare` runs it.

    .venv/bin/python benchmarks/bench_greedy.py

Prints wall and CPU seconds of `GreedySelector.fit` on the recipe's training and validation
periods; writes benchmarks/results/greedy.md.
"""

from __future__ import annotations

import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _bench import stamp, stamp_lines  # noqa: E402
from _measure import REPO, RESULTS  # noqa: E402


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def main() -> None:
    from dynst_cli.compare.runner import periods_of
    from dynst_cli.config import load_recipe
    from dynst_cli.data import load_dataset
    from dynst_cli.data.splits import chronological_splits
    from dynst_cli.selection import GreedySelector

    with tempfile.TemporaryDirectory() as tmp:
        dataset = Path(tmp) / "era5.nc"
        subprocess.run(
            [sys.executable, "-m", "dynst_cli", "--quiet", "ingest",
             "data/era5-t2m-uk-2019-03/era5_t2m_uk_2019-03.nc", "-o", str(dataset)],
            cwd=REPO, check=True, capture_output=True,
        )  # fmt: skip
        config = load_recipe(REPO / "recipes" / "era5-uk.yaml")
        data = load_dataset(dataset)
        d = config.data
        splits = chronological_splits(data.n_steps, d.t_in, d.t_out, d.train_frac, d.val_frac)
        periods = periods_of(data, splits)
        wall, cpu = time.perf_counter(), cpu_seconds()
        selector = GreedySelector().fit(None, periods=periods, horizon=d.t_out)
        wall, cpu = time.perf_counter() - wall, cpu_seconds() - cpu
    lines = [
        "# Greedy ridge selector on the ERA5 grid",
        "",
        *stamp_lines(stamp("python benchmarks/bench_greedy.py")),
        "",
        f"Ranked all {selector.n_features_in_} cells in {wall:.1f} s wall, {cpu:.1f} s CPU "
        "(target: under a minute).",
        "",
    ]
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "greedy.md").write_text("\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
