"""Where a rival's keep set beats DynST's: per-sensor errors by group, and the shared core alone.

Reads the ranking benchmark's cache (`bench_ranking.py` must have run on the archive): DynST's
keep set is the default's seed-0 fit, the rival's the cached ranking. Each of three keep sets is
trained with every training seed asked for, as `dynst compare` trains one (`train_fixed`,
best-validation weights), and scored on the test and validation periods:

- ``dynst`` and the rival's: the cell of the ranking benchmark;
- ``core``: the sensors both keep, alone (fewer sensors): whether what each set adds to the core
  helps or harms;
- ``dynst, read as core``: DynST's set trained as itself, scored with the sensors the core lacks
  switched off: whether those sensors harm the model by being read or by being trained with.

The sensors are split into four groups (kept by both, by DynST only, by the rival only, by
neither), and each group's mean per-sensor test MAE is given under each keep set, over the
sensors observed in the test period, with the groups' reporting shares in the training and test
periods. A sensor that reports nothing in the test period adds no error term there.

    .venv/bin/python benchmarks/diagnose_keep_sets.py --archive de-pm10 --rival qr \\
        --sparsity 0.5 --seeds 0,1,2,3 [--workers 2]
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
from _measure import RESULTS  # noqa: E402
from bench_ranking import (  # noqa: E402
    DEFAULT,
    OUT,
    dataset_path,
    keep_mask,
    n_keep,
    train_keep_set,
)

GROUPS = ("both", "dynst only", "rival only", "neither")


def train_and_score(name: str, recipe: Path, keep: list[int], seed: int, read: list[int]) -> dict:
    """Test MAE per sensor and overall, and validation MAE, of a fresh backbone trained on `keep`
    and reading only the sensors `read` (a subset of `keep`) when it is scored."""
    from dynst_cli.train import evaluate_splits

    prep = train_keep_set(name, recipe, keep, seed)
    prep.model.gate.set_keep(keep_mask(prep.model.gate.n_sensors, read), step=-1)  # others off
    split = evaluate_splits(prep, ("test", "val"))
    test, val = split["test"], split["val"]
    per_sensor = [np.nan if v is None else v for v in test["sensor_mae"]]
    return {"test": test["mae"], "val": val["mae"], "sensor": per_sensor}


def reporting_shares(name: str, recipe: Path) -> dict[str, np.ndarray]:
    """Each sensor's share of time steps with a reading, in the training and test periods."""
    from dynst_cli.config import load_recipe
    from dynst_cli.data import chronological_splits, load_dataset

    config = load_recipe(recipe)
    data = load_dataset(dataset_path(name), config.data.variables)
    d = config.data
    splits = chronological_splits(data.n_steps, d.t_in, d.t_out, d.train_frac, d.val_frac)
    observed = ~np.isnan(np.asarray(data.values)).any(axis=-1)  # [T, N]
    train, test = splits["train"], splits["test"]
    return {
        "train": observed[train.start : train.stop].mean(axis=0),
        "test": observed[test.start : test.stop].mean(axis=0),
    }


def keep_sets(name: str, rival: str, sparsity: float) -> dict[str, np.ndarray]:
    here = OUT / name
    fit = json.loads((here / f"fit-{DEFAULT}.json").read_text())
    rivals = json.loads((here / "rivals.json").read_text())
    n = len(fit["order"])
    k = n_keep(n, sparsity)
    dynst, other = keep_mask(n, fit["order"][:k]), keep_mask(n, rivals[rival][:k])
    return {"dynst": dynst, rival: other, "core": dynst & other}


def runs(sets: dict) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Each keep set trained and read as itself, and DynST's trained on its own but read
    without the sensors the core lacks: whether those sensors harm in training or in reading."""
    out = {name: (keep, keep) for name, keep in sets.items()}
    out["dynst, read as core"] = (sets["dynst"], sets["core"])
    return out


def groups_of(sets: dict, rival: str) -> dict[str, np.ndarray]:
    d, r = sets["dynst"], sets[rival]
    return dict(zip(GROUPS, (d & r, d & ~r, ~d & r, ~d & ~r), strict=True))


def markdown(args, sets, scores, shares, command: str) -> str:
    rival = args.rival
    groups = groups_of(sets, rival)
    seeds = [int(s) for s in args.seeds.split(",")]
    lines = [
        f"# Keep sets of DynST and {rival} on {args.archive} at {args.sparsity}",
        "",
        *stamp_lines(stamp(command)),
        "",
        f"Training seeds {', '.join(map(str, seeds))}; DynST's keep set is the default's "
        "seed-0 fit in the ranking benchmark's cache.",
        "",
        "| keep set | sensors read | test MAE per seed | mean | validation MAE per seed | mean |",
        "| --- | ---: | --- | ---: | --- | ---: |",
    ]
    for name, (_, keep) in runs(sets).items():
        test = [scores[(name, s)]["test"] for s in seeds]
        val = [scores[(name, s)]["val"] for s in seeds]
        lines.append(
            f"| {name} | {int(keep.sum())} | {' / '.join(f'{v:.3f}' for v in test)} | "
            f"{np.mean(test):.3f} | {' / '.join(f'{v:.3f}' for v in val)} | {np.mean(val):.3f} |"
        )
    # a sensor never observed in the test period has no error under any keep set: NaN, left out
    per_sensor = {
        name: np.mean([scores[(name, s)]["sensor"] for s in seeds], axis=0) for name in sets
    }
    lines += [
        "",
        "Mean per-sensor test MAE of each group under each keep set (sensors observed in the "
        "test period), mean over the training seeds:",
        "",
        f"| group | sensors | observed in test | training share | test share | under dynst | "
        f"under {rival} | under core |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for group, members in groups.items():
        seen = members & ~np.isnan(per_sensor["dynst"])
        cells = [
            f"{per_sensor[name][seen].mean():.3f}" if seen.any() else "-"
            for name in ("dynst", rival, "core")
        ]
        lines.append(
            f"| {group} | {int(members.sum())} | {int(seen.sum())} | "
            f"{shares['train'][members].mean():.2f} | {shares['test'][members].mean():.2f} | "
            + " | ".join(cells)
            + " |"
        )
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--archive", required=True)
    parser.add_argument("--rival", required=True)
    parser.add_argument("--sparsity", type=float, default=0.5)
    parser.add_argument("--seeds", default="0,1,2,3")
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    recipe = OUT / args.archive / "recipe.yaml"
    sets = keep_sets(args.archive, args.rival, args.sparsity)
    seeds = [int(s) for s in args.seeds.split(",")]
    with ProcessPoolExecutor(args.workers) as pool:
        futures = {
            (name, seed): pool.submit(
                train_and_score, args.archive, recipe, np.flatnonzero(trained).tolist(), seed,
                np.flatnonzero(read).tolist(),
            )
            for seed in seeds
            for name, (trained, read) in runs(sets).items()
        }  # fmt: skip
        scores = {key: future.result() for key, future in futures.items()}
    shares = reporting_shares(args.archive, recipe)
    command = "python benchmarks/diagnose_keep_sets.py " + " ".join(sys.argv[1:])
    text = markdown(args, sets, scores, shares, command)
    out = RESULTS / f"keep_sets_{args.archive}_{args.rival}_{args.sparsity}.md"
    out.write_text(text)
    print(text)


if __name__ == "__main__":
    main()
