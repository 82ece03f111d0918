"""Why the planted network's fits lose whole driver groups: the drivers' correlations per period,
and how many sensors of each driver's group a default fit keeps after every epoch.

The planted network of the ranking benchmark has six drivers (smooth random walks) and 54
followers, each a noisy one-step-lagged copy of one driver. Keeping the six drivers is the right
plan only if no driver can be forecast from another. Random walks over a finite stretch are
often strongly correlated by chance (spurious regression), with a sign that can flip from one
period to the next, so this script prints the drivers' correlations over the training,
validation and test periods, then fits the benchmark's recipe with each seed asked for and reads
the gate's keep vector from the checkpoint after every epoch: the sensors kept per driver group
show which group the fit gives up, and when.

    .venv/bin/python benchmarks/diagnose_planted_groups.py [--seeds 0,1,2]
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from _bench import stamp, stamp_lines  # noqa: E402
from _measure import RESULTS  # noqa: E402
from bench_ranking import ARCHIVES, OUT, dataset_path, write_recipe  # noqa: E402

NAME = "planted"


def driver_correlations(values: np.ndarray, splits: dict, n_drivers: int) -> dict[str, np.ndarray]:
    """Pearson correlation matrix of the drivers over each period."""
    return {
        period: np.corrcoef(values[split.start : split.stop, :n_drivers].T)
        for period, split in splits.items()
    }


def kept_per_group(run: Path, follows: np.ndarray) -> np.ndarray:
    """Sensors of each driver's group in the checkpoint's keep vector."""
    from dynst_cli.run import CHECKPOINT, RunDir

    keep = RunDir(run).load_torch(CHECKPOINT)["model"]["gate.keep"]
    return np.bincount(follows[keep.numpy() > 0.5], minlength=follows.max() + 1)


def trace_fit(recipe: Path, seed: int, follows: np.ndarray, workdir: Path) -> list[dict]:
    """Fit with `seed`; per epoch its phase and the sensors kept per group."""
    from dynst_cli.config import load_recipe
    from dynst_cli.fit import fit_run

    config = load_recipe(recipe)
    config.train.seed = seed
    run = workdir / f"run-{seed}"
    rows = []

    def on_epoch(state, _epochs) -> None:
        rows.append(
            {
                "epoch": state.epoch,
                "phase": state.history[-1]["phase"],
                "groups": kept_per_group(run, follows).tolist(),
            }
        )

    fit_run(dataset_path(NAME), run, config, on_epoch=on_epoch)
    return rows


def markdown(stamped: dict, corr: dict, traces: dict, sizes: np.ndarray) -> str:
    n = len(sizes)
    lines = ["# The planted network's driver groups", "", *stamp_lines(stamped), ""]
    lines += [
        f"Drivers' correlations per period (drivers 0-{n - 1}; group sizes, driver included: "
        f"{' / '.join(str(s) for s in sizes)}); largest absolute off-diagonal value, then every "
        "pair:",
        "",
    ]
    pairs = [(i, j) for i in range(n) for j in range(i + 1, n)]
    lines.append("| period | max abs | " + " | ".join(f"{i}-{j}" for i, j in pairs) + " |")
    lines.append("| --- | ---: | " + " | ".join("---:" for _ in pairs) + " |")
    for period, c in corr.items():
        pairs = [f"{c[i, j]:+.2f}" for i in range(n) for j in range(i + 1, n)]
        lines.append(
            f"| {period} | {np.abs(c - np.eye(n)).max():.2f} | " + " | ".join(pairs) + " |"
        )
    lines += ["", "Sensors kept per driver group after each epoch of a default fit:", ""]
    lines += [
        "| seed | epoch | phase | kept per group | groups with none |",
        "| --- | ---: | --- | --- | --- |",
    ]
    for seed, rows in traces.items():
        for row in rows:
            empty = ", ".join(str(g) for g, k in enumerate(row["groups"]) if k == 0) or "-"
            groups = " / ".join(str(k) for k in row["groups"])
            lines.append(f"| {seed} | {row['epoch']} | {row['phase']} | {groups} | {empty} |")
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", default="0,1,2")
    args = parser.parse_args()
    import torch

    from dynst_cli.config import load_recipe
    from dynst_cli.data import chronological_splits
    from synthetic import planted_network

    torch.set_num_threads(1)
    spec = ARCHIVES[NAME]["synthetic"]
    values, follows = planted_network(**spec)
    (OUT / NAME).mkdir(parents=True, exist_ok=True)
    recipe = write_recipe(OUT / NAME / "recipe.yaml", NAME)
    config = load_recipe(recipe)
    d = config.data
    splits = chronological_splits(len(values), d.t_in, d.t_out, d.train_frac, d.val_frac)
    corr = driver_correlations(values, splits, spec["n_drivers"])
    workdir = Path(tempfile.mkdtemp(prefix="planted-groups-"))
    try:
        traces = {
            int(s): trace_fit(recipe, int(s), follows, workdir) for s in args.seeds.split(",")
        }
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    command = "python benchmarks/diagnose_planted_groups.py --seeds " + args.seeds
    text = markdown(stamp(command), corr, traces, np.bincount(follows))
    out = RESULTS / "planted_groups.md"
    out.write_text(text)
    print(text)


if __name__ == "__main__":
    main()
