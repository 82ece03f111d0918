"""Planted drivers kept at 0.9 over several planted networks, per way of fitting.

The ranking benchmark reads one planted network (random-walk drivers, generator seed 0). One
network proves little, so this script draws several: random-walk drivers with generator seeds
0-5 and stationary AR(1) drivers (persistence 0.95, which correlate far less by chance) with
seeds 0-3, each with the ranking benchmark's sizes (6 drivers, 54 followers, 3000 steps) and
recipe (0.9). Every network is fitted once per way, and the fit's keep set (the top 6 of its
ranking) is read against the truth: drivers kept, driver groups covered (a group is a driver
and its followers: a keep set with none of a group cannot forecast it), and whether the first
sensor the final ranking puts below the keep set is the driver of a group the keep set lost.

Ways: ``default`` (today's recipe), ``one-search`` (`mask.searches: 1`), ``residual-grace4``
(`mask.regrow_signal: residual` with `mask.regrow_grace: 4`), and the same with one search and a
grace of 4 or 8 updates (``one-search-residual-grace4``, ``one-search-residual-grace8``), and
``exchange3`` (today's recipe with up to three exchanges after the final ranking,
`mask.exchange_trials: 3`), ``pool-elimination`` and ``pool-ties`` (the searches' keep sets
pooled by elimination, `mask.pool_by`), ``pool-survival`` (the votes' ties broken by how long
the searches kept each sensor), ``searches-fallback`` (one search with the residual signal and
a grace of 8 instead where the searches agree at chance, `mask.searches_fallback`), and
``default-gwnet`` (today's recipe with the gwnet backbone:
the target asks for every driver with stid and with gwnet).

    .venv/bin/python benchmarks/bench_planted_drivers.py [--workers 2] \
        [--ways default,pool-survival]

Every way is fitted by default and written to `planted_drivers.md`; `--ways` fits only those
(today's default among them, to compare with in the same run) and writes
`planted_drivers_<ways>.md`, so that the stored run of every way stays as it was.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from _bench import stamp, stamp_lines  # noqa: E402
from _measure import REPO, RESULTS  # noqa: E402
from bench_ranking import ARCHIVES, recipe_dict  # noqa: E402

NETWORKS = {  # name: (persistence of the drivers, generator seeds)
    "random walks": (1.0, (0, 1, 2, 3, 4, 5)),
    "AR(1), 0.95": (0.95, (0, 1, 2, 3)),
}
ONE = {"searches": 1}
RESIDUAL = {"regrow_signal": "residual"}
WAYS = {
    "default": {},
    "one-search": ONE,
    "residual-grace4": {**RESIDUAL, "regrow_grace": 4},
    "one-search-residual-grace4": {**ONE, **RESIDUAL, "regrow_grace": 4},
    "one-search-residual-grace8": {**ONE, **RESIDUAL, "regrow_grace": 8},
    "exchange3": {"exchange_trials": 3},
    "pool-elimination": {"pool_by": "elimination"},
    "pool-ties": {"pool_by": "ties"},
    "pool-survival": {"pool_by": "survival"},
    "searches-fallback": {"searches_fallback": True},
    "default-gwnet": {},
    "challengers": {"challengers": ["variance", "qr"]},
    "challengers-gwnet": {"challengers": ["variance", "qr"]},
}
BACKBONES = {"default-gwnet": "gwnet", "challengers-gwnet": "gwnet"}  # not the recipe's backbone
# the ways whose fits train the dense reference, which the challengers' keep sets start from
WITH_DENSE = ("challengers", "challengers-gwnet")
SPARSITY = 0.9


def write_networks(work: Path) -> dict[tuple[float, int], tuple[Path, np.ndarray]]:
    """Every planted network written once: (persistence, seed) -> (dataset, driver followed)."""
    from synthetic import canonical_dataset, planted_network, write

    out = {}
    for persistence, seeds in NETWORKS.values():
        for seed in seeds:
            spec = {**ARCHIVES["planted"]["synthetic"], "seed": seed}
            values, follows = planted_network(**spec, persistence=persistence)
            dataset = write(canonical_dataset(values), work / f"{persistence}-{seed}.nc")
            out[(persistence, seed)] = (dataset, follows)
    return out


def fit_job(work: Path, dataset: Path, follows: np.ndarray, name: str, way: str) -> dict:
    """Fit one network one way (one torch thread); the keep set read against the truth."""
    from dynst_cli.mask import n_keep_for

    here = work / f"{name}-{way}"
    here.mkdir(parents=True)
    recipe = recipe_dict("planted")
    recipe.setdefault("train", {})["dense_reference"] = way in WITH_DENSE
    recipe.setdefault("mask", {}).update(WAYS[way])
    if way in BACKBONES:
        recipe.setdefault("model", {})["backbone"] = BACKBONES[way]
    (here / "recipe.yaml").write_text(yaml.safe_dump(recipe))
    run = here / "run"
    cmd = [sys.executable, "-m", "dynst_cli", "--quiet", "fit", str(dataset), "-o", str(run)]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    subprocess.run([*cmd, "--recipe", str(here / "recipe.yaml")], cwd=REPO, env=env, check=True,
                   capture_output=True)  # fmt: skip
    ranking = json.loads((run / "ranking.json").read_text())
    order = [e["index"] for e in sorted(ranking, key=lambda e: e["rank"])]
    n_drivers = int(follows.max()) + 1
    top = np.asarray(order[: n_keep_for(len(follows), SPARSITY)])
    covered = set(follows[top].tolist())
    nxt = order[len(top)]
    searched = json.loads((run / "metrics.json").read_text()).get("searches", {})
    return {
        "drivers_kept": int((top < n_drivers).sum()),
        "groups_covered": len(covered),
        "next_is_lost_driver": bool(nxt < n_drivers and nxt not in covered),
        # how much the fit's searches agreed against chance, and whether it fell back to one
        "agreement_p_value": searched.get("agreement_p_value"),
        "fell_back": searched.get("fell_back"),
    }


def markdown(stamped: dict, results: dict, ways) -> str:
    title = "# Planted drivers kept at 0.9, several planted networks"
    if list(ways) != list(WAYS):
        title += ": " + ", ".join(ways)
    lines = [title, "", *stamp_lines(stamped)]
    lines += [
        "",
        "Each planted network (6 drivers, 54 followers, 3000 steps, the ranking benchmark's "
        "recipe) fitted once per way; per network the fit's keep set (6 sensors): drivers kept / "
        "driver groups covered. Last column: fits whose keep set lost a group while the first "
        "sensor the final ranking puts below the keep set is that group's driver.",
        "",
    ]
    for name, (persistence, seeds) in NETWORKS.items():
        lines += [
            f"Drivers: {name} (generator seeds {', '.join(map(str, seeds))})",
            "",
            "| way | " + " | ".join(f"seed {s}" for s in seeds)
            + " | drivers kept | groups covered | next is a lost group's driver |",
            "| --- | " + " | ".join("---:" for _ in seeds) + " | ---: | ---: | ---: |",
        ]  # fmt: skip
        for way in ways:
            rows = [results[(persistence, s, way)] for s in seeds]
            cells = [f"{r['drivers_kept']} / {r['groups_covered']}" for r in rows]
            lost = [r for r in rows if r["groups_covered"] < 6]
            lines.append(
                f"| {way} | " + " | ".join(cells)
                + f" | {sum(r['drivers_kept'] for r in rows)} of {6 * len(rows)}"
                + f" | {sum(r['groups_covered'] for r in rows)} of {6 * len(rows)}"
                + f" | {sum(r['next_is_lost_driver'] for r in lost)} of {len(lost)} |"
            )  # fmt: skip
        lines.append("")
        lines += fallback_lines(results, persistence, seeds, ways)
    return "\n".join(lines)


def fallback_lines(results: dict, persistence: float, seeds, ways) -> list[str]:
    """Per way with searches: each fit's agreement p-value, and how many fell back to one search
    (`mask.searches_fallback`); nothing for ways with one search or runs before the test."""
    lines = []
    for way in ways:
        rows = [results[(persistence, s, way)] for s in seeds]
        if any(r.get("agreement_p_value") is None for r in rows):
            continue
        p_values = ", ".join(f"{r['agreement_p_value']:.3f}" for r in rows)
        fell = sum(bool(r["fell_back"]) for r in rows)
        lines.append(f"- {way}: searches' agreement p-value {p_values}; fell back in {fell}")
    return [*lines, ""] if lines else []


def chosen_ways(text: str | None) -> list[str]:
    """The ways to fit: every one (None), or those named, comma-separated, each known."""
    if text is None:
        return list(WAYS)
    ways = list(dict.fromkeys(w.strip() for w in text.split(",") if w.strip()))
    unknown = [w for w in ways if w not in WAYS]
    if unknown or not ways:
        raise SystemExit(f"--ways: choose from {', '.join(WAYS)} (got {text!r})")
    return ways


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--ways", default=None, help="comma-separated ways (default: all)")
    args = parser.parse_args()
    ways = chosen_ways(args.ways)
    command = "python benchmarks/bench_planted_drivers.py --workers " + str(args.workers)
    if args.ways is not None:
        command += " --ways " + ",".join(ways)
    stamped = stamp(command)
    work = Path(tempfile.mkdtemp(prefix="planted-drivers-"))
    try:
        networks = write_networks(work)
        with ProcessPoolExecutor(args.workers) as pool:
            futures = {
                (persistence, seed, way): pool.submit(
                    fit_job, work, dataset, follows, f"{persistence}-{seed}", way
                )
                for (persistence, seed), (dataset, follows) in networks.items()
                for way in ways
            }
            results = {job: future.result() for job, future in futures.items()}
    finally:
        shutil.rmtree(work, ignore_errors=True)
    text = markdown(stamped, results, ways)
    name = "planted_drivers" if args.ways is None else "planted_drivers_" + "_".join(ways)
    (RESULTS / f"{name}.md").write_text(text)
    flat = {f"{p}-{s}-{w}": r for (p, s, w), r in results.items()}
    (RESULTS / f"{name}.json").write_text(json.dumps(flat, indent=1) + "\n")
    print(text)


if __name__ == "__main__":
    main()
