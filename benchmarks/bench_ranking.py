"""Ranking quality: DynST's keep sets against every rival, on several real archives, per change.

For every archive, keep sets of ``N - round(S*N)`` sensors at S = 0.5, 0.7, 0.9 are taken from
each ranking and a fresh backbone is trained on each with the archive's recipe (`train_fixed`,
best-validation weights, the same rule for every row) and scored on the test split, as
`dynst compare` does. Rankings:

- DynST, one fit at the recipe's sparsity (0.5), per variant of the method:
  ``before`` (the code before the ranking changes: drop by ``|m|``, ``floor(alpha*n)`` swaps,
  last-epoch weights; run from a checkout of that commit, given by --before-src),
  ``magnitude`` (``mask.drop_criterion: magnitude``: adds the swaps that happen at high
  sparsity), ``saliency`` (drop by saliency, final ranking passes by fifths:
  ``mask.rank_pass_fraction: 0.2``), ``consensus`` (saliency, ``--seeds 3``), ``dropout``
  (saliency plus ``mask.sensor_dropout: 0.2``), ``smoothed`` (saliency plus
  ``mask.signal_smoothing: 0.8``), ``thirds`` (passes by thirds), ``forward`` (thirds, kept
  sensors ordered by forward selection), ``trainwin`` (passes by thirds on training windows; the
  earlier variants ranked on the validation windows), ``retrain`` (trainwin
  with the model retrained on the sensors still on for a quarter of an epoch after each
  elimination pass, ``mask.rank_retrain_epochs: 0.25``; every earlier variant sets it to 0),
  ``settle`` (retrain, and the keep set settled when drop-and-regrow ends by elimination with
  retraining from the kept sensors and as many of the dropped ones, ``mask.settle_share: 1``),
  ``residual`` (retrain, and drop-and-regrow regrows the dropped sensors whose latest reading
  best explains the loss's pull on the forecasts, ``mask.regrow_signal: residual``), ``grace``
  (residual, and a regrown sensor cannot be dropped for 4 updates, ``mask.regrow_grace: 4``),
  ``short`` and ``long`` (the default fitted with half and twice the archive's epochs; the keep
  sets are still trained with the archive's recipe), ``tenths`` (the final ranking's passes by
  tenths, ``mask.rank_pass_fraction: 0.1``, with as much retraining in all as by thirds),
  ``silent`` (the default before ``searches``: retrain with the sensors silent in the
  validation period ranked last, ``mask.rank_silent_last``; every earlier variant sets it to
  false), ``joint`` (silent,
  and each elimination pass of the final ranking switches off the sensors that cost least
  together by a second-order estimate, ``mask.rank_kept_by: joint``), ``centered`` (silent, and
  the saliency measures a sensor's input against its mean input over the training windows rather
  than against zero, ``mask.saliency_baseline: mean``), ``available`` (silent, and the saliency
  weighed by each sensor's reporting share in the validation period over its share in the
  training period, ``mask.weigh_by_availability``), ``windowed`` (silent, and the saliency's
  absolute value taken window by window before the sum over a batch, ``mask.saliency_abs:
  window``), ``occluded`` (silent, and each elimination pass of the final ranking measures the
  loss with each sensor on switched off alone rather than estimating it to first order,
  ``mask.rank_kept_by: occlusion``), ``recent`` (silent, and the saliency as measured times each
  sensor's reporting share in the validation period, ``mask.weigh_by_availability`` with
  ``mask.availability_weight: recent``), ``regrace`` (grace with today's silent sensors last),
  ``loose`` (silent fitted keeping 1.4 times the recipe's sensors, so that even the
  recipe's keep set comes from the final ranking's elimination with retraining), ``explore``
  (silent with drop-and-regrow keeping 1.4 times the recipe's sensors and narrowing
  them to the recipe's count by elimination when it ends, ``mask.explore_keep: 1.4``),
  ``error`` (silent with drop-and-regrow regrowing the dropped sensors whose own
  targets carry most of the training loss, ``mask.regrow_signal: error``, and the grace period),
  ``brief`` (silent with a third of the archive's epochs), ``searches`` (the
  mask-learning epochs split into three brief independent searches from fresh models, the keep
  set the sensors they keep most often, the first search's model trained on it for the frozen-
  mask epochs: ``mask.searches: 3``, today's default; every other variant has one search),
  the last twenty-three also fitted with seeds 1 and 2 (fit noise), and the consensus of the
  default's three fit seeds (what ``fit --seeds 3`` ranks, from the saved fits) scored too;
- the rivals: random (seeds 0, 1, 2), variance, QR, greedy.

One training of a keep set is noisy, and the best of four rivals is the luckiest of four, so
every rival but random (already a mean of three keep sets), the default's three fits and their
consensus (and those of the variants named by --thrice) are also trained with training seeds 1
and 2, and the verdicts are read from the means as well. Every trained keep set is also scored
on the validation period, and the default's verdict read there too (also against the rivals
other than greedy, which selects by validation error): a cell lost on test but won on
validation is one no evidence a fit sees could have decided otherwise.

Also per archive: the mean pairwise Jaccard of the keep sets of the three single-seed fits of the
consensus run and of the default's three seeds; on METR-LA the Jaccard of three consensus runs
with disjoint seed sets; on the planted network how many drivers each ranking keeps at 0.9 (with
stid and, with BENCH_GWNET=1, gwnet).

Each job (a fit or a scored keep set) writes its own JSON under benchmarks/results/ranking/, so a
run can be interrupted and resumed; jobs run in --workers processes with one torch thread each.

    .venv/bin/python benchmarks/bench_ranking.py [--archives metr-la,de-pm10] [--workers 2]
        [--before-src PATH/src]   # omit to skip the ``before`` variant
        [--variants trainwin,retrain] [--output ranking_retrain]   # a subset, to its own file
        [--thrice retrain,grace]   # also score these variants' keep sets with 3 training seeds
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _bench import DATASETS, stamp, stamp_lines  # noqa: E402
from _measure import REPO, RESULTS  # noqa: E402

OUT = RESULTS / "ranking"
SPARSITIES = (0.5, 0.7, 0.9)
RIVALS = ("random", "variance", "qr", "greedy")
VARIANTS = (
    "before", "magnitude", "saliency", "consensus", "dropout", "smoothed", "thirds", "forward",
    "trainwin", "retrain", "settle", "residual", "grace", "short", "long", "tenths", "silent",
    "joint", "centered", "available", "windowed", "occluded", "recent", "regrace", "loose",
    "explore", "error", "brief", "searches",
)  # fmt: skip
# Today's default: three brief mask searches pooled (mask.searches: 3), each with saliency, the
# final ranking by thirds on training windows, the model retrained between the elimination
# passes (mask.rank_retrain_epochs: 0.25), the sensors silent in the validation period ranked
# last (mask.rank_silent_last); the recipe's defaults. ``silent`` is the same with one search,
# ``retrain`` that without the last step.
DEFAULT = "searches"
FIT_SEEDS = (1, 2)  # these variants are also fitted with these seeds (fit noise)
SEEDED = (
    "thirds", "forward", "trainwin", "retrain", "settle", "residual", "grace", "short", "long",
    "tenths", "silent", "joint", "centered", "available", "windowed", "occluded", "recent",
    "regrace", "loose", "explore", "error", "brief", "searches",
)  # fmt: skip
REGROW_GRACE = 4  # the ``grace`` variant's mask.regrow_grace
LOOSE_KEEP = 1.4  # the ``loose`` variant fits keeping this many times as many sensors
EXPLORE_KEEP = 1.4  # the ``explore`` variant's mask.explore_keep
SETTLE_SHARE = 1.0  # the ``settle`` variant's mask.settle_share
SCORE_SEEDS = (1, 2)  # and its keep sets scored with these training seeds (scoring noise)
SENSOR_DROPOUT = 0.2  # the ``dropout`` variant's mask.sensor_dropout
SIGNAL_SMOOTHING = 0.8  # the ``smoothed`` variant's mask.signal_smoothing
TENTHS_RETRAIN = 0.065  # the ``tenths`` variant's mask.rank_retrain_epochs
RANDOM_SEEDS = (0, 1, 2)

# Every archive: how to ingest it and the recipe its fits and keep sets use. The station networks
# use the built-in defaults except 10 epochs (half the default) to fit the benchmark's budget.
ARCHIVES = {
    **DATASETS,  # the bundled METR-LA and ERA5 archives, ingested as the demo does
    "de-pm10": {
        "ingest": [
            "data/de-pm10-rural/pm10_daily_1998_2009.csv",
            "--sensors", "data/de-pm10-rural/stations.csv", "--var", "pm10", "--units", "ug/m3",
        ],
        "recipe": {"train": {"epochs": 10}},
    },
    "ie-wind": {
        "ingest": [
            "data/ie-wind-daily/wind_daily_1961_1978.csv",
            "--sensors", "data/ie-wind-daily/stations.csv", "--var", "wind", "--units", "knots",
        ],
        "recipe": {"train": {"epochs": 10}},
    },
    "planted": {
        "synthetic": {"n_drivers": 6, "n_followers": 54, "n_steps": 3000, "seed": 0},
        "recipe": {
            "data": {"t_in": 12, "t_out": 3},
            "mask": {"sparsity": 0.9, "update_every": 5},
            "model": {"hidden": 32, "embed": 8},
            "train": {"epochs": 10},
        },
    },
}  # fmt: skip


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def recipe_dict(name: str) -> dict:
    recipe = ARCHIVES[name]["recipe"]
    if isinstance(recipe, str):
        return yaml.safe_load((REPO / recipe).read_text())
    return json.loads(json.dumps(recipe))


def write_recipe(path: Path, name: str, **overrides: dict) -> Path:
    recipe = recipe_dict(name)
    recipe.setdefault("train", {})["dense_reference"] = False  # the dense row is scored apart
    for section, values in overrides.items():
        recipe.setdefault(section, {}).update(values)
    path.write_text(yaml.safe_dump(recipe))
    return path


def dataset_path(name: str) -> Path:
    path = OUT / name / "dataset.nc"
    if path.is_file():
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    spec = ARCHIVES[name]
    if "synthetic" in spec:
        sys.path.insert(0, str(REPO / "tests"))
        from synthetic import canonical_dataset, planted_network, write

        values, _ = planted_network(**spec["synthetic"])
        write(canonical_dataset(values), path)
    else:
        cmd = [sys.executable, "-m", "dynst_cli", "--quiet", "ingest", *spec["ingest"]]
        subprocess.run([*cmd, "-o", str(path)], cwd=REPO, check=True, capture_output=True)
    return path


# ---------------------------------------------------------------- jobs (run in worker processes)


def fit_job(name: str, variant: str, run: Path, recipe: Path, extra: list[str], src: str) -> dict:
    """`dynst fit` of one variant (from `src`, the sources to import); its ranking and timings."""
    env = {**os.environ, "PYTHONPATH": src, "OMP_NUM_THREADS": "1"}
    cmd = [sys.executable, "-m", "dynst_cli", "--quiet", "fit", str(dataset_path(name))]
    cmd += ["-o", str(run), "--recipe", str(recipe), *extra]
    started = time.perf_counter()
    subprocess.run(cmd, cwd=REPO, env=env, check=True, capture_output=True)
    seconds = time.perf_counter() - started
    ranking = json.loads((run / "ranking.json").read_text())
    metrics = json.loads((run / "metrics.json").read_text())
    history = json.loads((run / "history.json").read_text())
    return {
        "order": [e["index"] for e in ranking],
        "kept_in_fit": [e["index"] for e in ranking if e["kept_in_fit"]],
        "seconds": round(seconds, 1),
        "consensus": metrics.get("consensus"),
        "swaps": sum(h.get("regrown", 0) for h in history),
    }


def keep_mask(n: int, indices) -> np.ndarray:
    mask = np.zeros(n, dtype=bool)
    mask[list(indices)] = True
    return mask


def train_keep_set(name: str, recipe: Path, keep: list[int], seed: int | None = None):
    """A fresh backbone trained on the sensors `keep` as `dynst compare` trains a keep set
    (`train_fixed`, best-validation weights), on one thread; `seed` replaces the recipe's."""
    import torch

    from dynst_cli.config import load_recipe
    from dynst_cli.data import load_dataset
    from dynst_cli.train import train_fixed

    torch.set_num_threads(1)
    config = load_recipe(recipe)
    if seed is not None:
        config.train.seed = seed
    data = load_dataset(dataset_path(name), config.data.variables)
    return train_fixed(data, config, keep_mask(data.n_sensors, keep))


def score_job(name: str, recipe: Path, keep: list[int]) -> dict:
    """Test and validation metrics of a fresh backbone trained on the sensors `keep`; the
    validation MAE says whether a verdict on the test period could have been read before it."""
    from dynst_cli.train import evaluate_splits

    started = time.perf_counter()
    split = evaluate_splits(train_keep_set(name, recipe, keep), ("test", "val"))
    return {
        "mae": split["test"]["mae"],
        "rmse": split["test"]["rmse"],
        "val_mae": split["val"]["mae"],
        "seconds": round(time.perf_counter() - started, 1),
    }


def cached(path: Path, fn, *args) -> dict:
    if path.is_file():
        return json.loads(path.read_text())
    result = fn(*args)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(result, indent=1) + "\n")
    tmp.replace(path)
    return result


# ------------------------------------------------------------------------------- orchestration


# What each variant changes in the archive's recipe, {section: {key: value}}. The variants
# measured before the final ranking retrained the model between its passes, went from fifths to
# thirds and from the validation windows to the training windows, keep those settings; every
# variant measured before the sensors silent in the validation period were ranked last keeps them
# where the saliency put them (the cached fits were made so).
LOUD = {"rank_silent_last": False}
UNCHANGED = {"rank_retrain_epochs": 0.0, **LOUD}
VAL = {"rank_period": "val", **UNCHANGED}
FIFTHS = {"rank_pass_fraction": 0.2, **VAL}
GRACED = {"regrow_signal": "residual", "regrow_grace": REGROW_GRACE}
UNSEEDED = ("magnitude", "saliency", "dropout", "smoothed")  # fitted with seed 0 only
GWNET_VARIANTS = (
    "saliency", "dropout", "smoothed", "thirds", "forward", "trainwin", "retrain", "residual",
    "grace", DEFAULT,
)  # fmt: skip


def variant_overrides(name: str) -> dict[str, dict]:
    """The recipe overrides of every variant on the archive `name`, in the order they are fitted."""
    from dynst_cli.config import FitConfig

    defaults, recipe = FitConfig(), recipe_dict(name)
    epochs = recipe.get("train", {}).get("epochs", defaults.train.epochs)
    sparsity = recipe.get("mask", {}).get("sparsity", defaults.mask.sparsity)
    masks = {
        "magnitude": {"drop_criterion": "magnitude", **FIFTHS},
        "saliency": FIFTHS,
        "dropout": {"sensor_dropout": SENSOR_DROPOUT, **FIFTHS},
        "smoothed": {"signal_smoothing": SIGNAL_SMOOTHING, **FIFTHS},
        "thirds": VAL,
        "trainwin": UNCHANGED,
        "forward": {"rank_kept_by": "forward", **VAL},
        "retrain": LOUD,
        "settle": {"settle_share": SETTLE_SHARE, **LOUD},
        "residual": {"regrow_signal": "residual", **LOUD},
        "grace": {**GRACED, **LOUD},
        # the default method of its day with half and twice the archive's epochs: what the fit's
        # budget does
        "short": LOUD,
        "long": LOUD,
        # passes by tenths with the same retraining in all (0.25 epochs over log(1/0.9) /
        # log(1.5) as many passes): each pass settles fewer sensors, so redundant ones are less
        # often removed together before the retraining shows what the others carried
        "tenths": {"rank_pass_fraction": 0.1, "rank_retrain_epochs": TENTHS_RETRAIN, **LOUD},
        "silent": {},  # the default before ``searches``: one search over all the epochs
        # each elimination pass switches off the sensors that cost least together (second order)
        "joint": {"rank_kept_by": "joint"},
        # the saliency of a sensor's departure from its mean input rather than of its input
        "centered": {"saliency_baseline": "mean"},
        # the saliency per step a sensor reported in, times its reporting share in validation
        "available": {"weigh_by_availability": True},
        # each window's first-order loss change in magnitude, then summed over the batch
        "windowed": {"saliency_abs": "window"},
        # each elimination pass measures the loss with each sensor switched off
        "occluded": {"rank_kept_by": "occlusion"},
        # the saliency as measured, times each sensor's reporting share in validation
        "recent": {"weigh_by_availability": True, "availability_weight": "recent"},
        # the residual regrow signal with a grace period, beside today's silent sensors last
        "regrace": GRACED,
        # drop-and-regrow keeping LOOSE_KEEP times the recipe's sensors, so that every keep set
        # the benchmark reads, the recipe's own included, comes from the final ranking's
        # elimination
        "loose": {"sparsity": 1 - LOOSE_KEEP * (1 - sparsity)},
        # drop-and-regrow keeping EXPLORE_KEEP times the recipe's sensors, narrowed by elimination
        "explore": {"explore_keep": EXPLORE_KEEP},
        # regrow the dropped sensors whose own targets carry most of the loss, with a grace period
        "error": {"regrow_signal": "error", "regrow_grace": REGROW_GRACE},
        # silent with a third of the archive's epochs: a cheaper consensus (three such
        # fits took about 1.8 times one default fit)
        "brief": {},
        # drop-and-regrow split into three brief independent searches, the keep set the one
        # their keep sets agree on most, the frozen-mask epochs on it (mask.searches)
        "searches": {"searches": 3},
    }
    # every variant before ``searches`` was measured with one mask search over all the epochs
    one = {"searches": 1}
    out = {
        variant: {"mask": mask if variant == "searches" else {**one, **mask}}
        for variant, mask in masks.items()
    }
    out["short"]["train"] = {"epochs": max(2, epochs // 2)}
    out["long"]["train"] = {"epochs": 2 * epochs}
    out["brief"]["train"] = {"epochs": max(2, round(epochs / 3))}
    return out


def fit_specs(name: str, before_src: str | None) -> list[tuple]:
    """(key, variant, run, recipe, extra flags, sources) of every fit of the archive."""
    here, src = OUT / name, str(REPO / "src")
    overrides = variant_overrides(name)
    recipes = {
        variant: write_recipe(
            here / ("recipe.yaml" if variant == DEFAULT else f"recipe-{variant}.yaml"),
            name,
            **changes,
        )
        for variant, changes in overrides.items()
    }
    specs = [
        (variant, variant, here / f"run-{variant}", recipes[variant], [], src)
        for variant in UNSEEDED
    ]
    specs.append(("consensus", "consensus", here / "run-consensus", recipes["saliency"],
                  ["--seeds", "3"], src))  # fmt: skip
    for variant in (v for v in overrides if v not in UNSEEDED):
        specs.append((variant, variant, here / f"run-{variant}", recipes[variant], [], src))
        specs += [
            (f"{variant}-seed{k}", variant, here / f"run-{variant}-seed{k}", recipes[variant],
             ["--seed", str(k)], src)
            for k in FIT_SEEDS
        ]  # fmt: skip
    if before_src:
        old = write_recipe(here / "recipe-before.yaml", name)
        specs.insert(0, ("before", "before", here / "run-before", old, [], before_src))
    if name == "metr-la":  # consensus stability: three consensus runs on disjoint seed sets
        for first in (3, 6):
            specs.append(
                (f"consensus-seed{first}", "consensus", here / f"run-consensus-seed{first}",
                 recipes["saliency"], ["--seeds", "3", "--seed", str(first)], src)
            )  # fmt: skip
    if name == "planted" and os.environ.get("BENCH_GWNET") == "1":
        for variant in GWNET_VARIANTS:
            key = f"{variant}-gwnet"
            recipe = write_recipe(
                here / f"recipe-{key}.yaml", name, model={"backbone": "gwnet"},
                mask=overrides[variant].get("mask", {}),
            )  # fmt: skip
            specs.append((key, variant, here / f"run-{key}", recipe, [], src))
    return specs


def rival_rankings(name: str, recipe: Path) -> dict[str, list[int]]:
    from dynst_cli.compare.runner import periods_of, rankings, training_snapshots
    from dynst_cli.config import load_recipe
    from dynst_cli.data import load_dataset
    from dynst_cli.data.splits import chronological_splits

    config = load_recipe(recipe)
    data = load_dataset(dataset_path(name), config.data.variables)
    d = config.data
    splits = chronological_splits(data.n_steps, d.t_in, d.t_out, d.train_frac, d.val_frac)
    snapshots = training_snapshots(data, splits["train"].stop)
    temporal = (periods_of(data, splits), d.t_out)
    out = {}
    for method, seed, ranking in rankings(RIVALS, len(RANDOM_SEEDS), None, snapshots, temporal):
        out[method if seed is None else f"{method}-{seed}"] = [int(i) for i in ranking]
    return out


def n_keep(n: int, sparsity: float) -> int:
    from dynst_cli.mask import n_keep_for

    return n_keep_for(n, sparsity)


def run_archive(
    name: str,
    pool: ProcessPoolExecutor,
    before_src: str | None,
    variants=VARIANTS,
    thrice=(DEFAULT,),
) -> dict:
    here = OUT / name
    dataset_path(name)
    specs = [spec for spec in fit_specs(name, before_src) if spec[1] in variants]
    recipe = here / "recipe.yaml"
    started = time.perf_counter()
    rivals = cached(here / "rivals.json", rival_rankings, name, recipe)
    futures = {
        key: pool.submit(cached, here / f"fit-{key}.json", fit_job, name, *spec)
        for key, *spec in specs
    }
    n = len(next(iter(rivals.values())))
    jobs = {}
    reseeded = {k: write_recipe(here / f"recipe-train-seed{k}.yaml", name, train={"seed": k})
                for k in SCORE_SEEDS}  # fmt: skip

    submitted = {}  # (recipe, keep set) -> future: a keep set two rankings share is trained once

    def score(path: Path, recipe: Path, keep: list[int]):
        key = (str(recipe), tuple(sorted(keep)))
        if key not in submitted:
            submitted[key] = pool.submit(cached, path, score_job, name, recipe, keep)
        return submitted[key]

    def score_all_seeds(key: str, keep: list[int], s: float) -> None:
        # the same keep set trained with the score seeds too: the verdicts compare means
        for k, again in reseeded.items():
            path = here / f"score-{key}-{s}-train-seed{k}.json"
            jobs[(f"{key}-train-seed{k}", s)] = score(path, again, keep)

    for method, order in rivals.items():
        for s in SPARSITIES:
            keep = order[: n_keep(n, s)]
            path = here / f"score-{method}-{s}.json"
            jobs[(method, s)] = score(path, recipe, keep)
            if not method.startswith("random"):  # random's mean already averages 3 trainings
                score_all_seeds(method, keep, s)
    dense = pool.submit(cached, here / "score-dense.json", score_job, name, recipe, list(range(n)))
    fits = {}
    seeded = [v for v in SEEDED if v in variants and v in thrice]
    for key, future in futures.items():
        fits[key] = future.result()
        log(f"{name}: fit {key} done ({fits[key]['seconds']} s, {fits[key]['swaps']} swaps)")
        if key not in VARIANTS and not any(key.startswith(f"{v}-seed") for v in SEEDED):
            continue
        for s in SPARSITIES:
            keep = fits[key]["order"][: n_keep(n, s)]
            path = here / f"score-dynst-{key}-{s}.json"
            jobs[(f"dynst-{key}", s)] = score(path, recipe, keep)
            if any(key in fit_seeds(v) for v in seeded):
                score_all_seeds(f"dynst-{key}", keep, s)
    for variant in seeded:  # what `fit --seeds 3` would rank: no new fit needed
        if not all(key in fits for key in fit_seeds(variant)):
            continue
        order = seeds_consensus(fits, fit_seeds(variant))
        for s in SPARSITIES:
            keep = order[: n_keep(n, s)]
            path = here / f"score-dynst-{variant}-consensus-{s}.json"
            jobs[(f"dynst-{variant}-consensus", s)] = score(path, recipe, keep)
            score_all_seeds(f"dynst-{variant}-consensus", keep, s)
    scores = {f"{m}@{s}": f.result() for (m, s), f in jobs.items()}
    return {
        "n_sensors": n,
        "fits": fits,
        "rivals": rivals,
        "scores": scores,
        "dense": dense.result(),
        "seconds": round(time.perf_counter() - started, 1),
    }


def fit_seeds(variant: str) -> list[str]:
    """The keys of `variant`'s fits with seeds 0 and FIT_SEEDS."""
    return [variant, *(f"{variant}-seed{k}" for k in FIT_SEEDS)]


def seeds_consensus(fits: dict, keys: list[str]) -> list[int]:
    """The consensus ranking (`fit --seeds K`) of the fits `keys`, from their saved rankings.

    A consensus fit refits the extra seeds exactly as these single-seed fits were made (same
    recipe, no dense reference), so its ranking is the consensus of theirs.
    """
    from dynst_cli.selection import Ranking
    from dynst_cli.selection.consensus import consensus_ranking

    rankings = []
    for key in keys:
        order = np.asarray(fits[key]["order"])
        kept = np.zeros(order.size, dtype=bool)
        kept[fits[key]["kept_in_fit"]] = True
        rankings.append(Ranking(order=order, scores=np.zeros(order.size), kept=kept))
    return [int(i) for i in consensus_ranking(rankings).order]


# ---------------------------------------------------------------------------------- summaries


def table(result: dict) -> dict:
    """Per sparsity: each method's test MAE (random: mean of 3) and DynST / best rival."""
    scores, out = result["scores"], {}
    for s in SPARSITIES:
        row = {"random": float(np.mean([scores[f"random-{k}@{s}"]["mae"] for k in RANDOM_SEEDS]))}
        for method in RIVALS[1:]:
            row[method] = scores[f"{method}@{s}"]["mae"]
        best = min(RIVALS, key=lambda m: row[m])
        row["best_rival"] = best
        for variant in VARIANTS:
            key = f"dynst-{variant}@{s}"
            if key in scores:
                row[variant] = scores[key]["mae"]
                row[f"{variant}_vs_best"] = scores[key]["mae"] / row[best]
                row[f"{variant}_vs_random"] = scores[key]["mae"] / row["random"]
        for variant in SEEDED:  # over three fit seeds
            seeded = [f"dynst-{key}@{s}" for key in fit_seeds(variant)]
            if all(key in scores for key in seeded):
                mean = float(np.mean([scores[key]["mae"] for key in seeded]))
                row[f"{variant}_seeds_mean"] = mean
                row[f"{variant}_seeds_mean_vs_best"] = mean / row[best]
                row[f"{variant}_seeds_mean_vs_random"] = mean / row["random"]
        key = f"dynst-{DEFAULT}-consensus@{s}"
        if key in scores:  # the consensus of the default's three fit seeds
            row["consensus"] = scores[key]["mae"]
            row["consensus_vs_best"] = scores[key]["mae"] / row[best]
            row["consensus_vs_random"] = scores[key]["mae"] / row["random"]
        again = trained_keys(f"dynst-{DEFAULT}", s)
        if all(key in scores for key in again):  # one keep set, three training seeds
            maes = [scores[key]["mae"] for key in again]
            row["score_spread"] = (max(maes) - min(maes)) / float(np.mean(maes))
        row.update(trained_thrice(scores, s, row["random"]))
        out[str(s)] = row
    return out


def trained_keys(key: str, s: float) -> list[str]:
    """The score keys of keep set `key` at `s` trained with seeds 0 and SCORE_SEEDS."""
    return [f"{key}@{s}", *(f"{key}-train-seed{k}@{s}" for k in SCORE_SEEDS)]


def trained_mean(scores: dict, key: str, s: float, metric: str = "mae") -> float | None:
    """Mean test MAE (`metric`: or ``val_mae``) of keep set `key` over training seeds 0 and
    SCORE_SEEDS (None if missing; scores cached before the validation MAE was kept lack it)."""
    keys = trained_keys(key, s)
    if not all(metric in scores.get(k, {}) for k in keys):
        return None
    return float(np.mean([scores[k][metric] for k in keys]))


def trained_thrice(scores: dict, s: float, random_mae: float) -> dict:
    """The verdicts with every keep set trained with three seeds (random: three keep sets).

    One training of a keep set spreads by a few per cent of its MAE, and the best of four rivals
    takes the luckiest of them, so the single-training verdicts are biased against any one
    ranking; means over training seeds are what the targets are read from when present. For
    each seeded variant scored so: ``{v}_trained3``, the mean over its fit seeds 0-2, and
    ``{v}_consensus_trained3``, its consensus over those fits, each also over the best rival
    and over random's mean.
    """
    rivals = {"random": random_mae}
    for method in RIVALS[1:]:
        rivals[method] = trained_mean(scores, method, s)
    if None in rivals.values():
        return {}
    best = min(rivals, key=rivals.get)
    out = {f"{m}_trained3": v for m, v in rivals.items()}
    out["best_rival_trained3"] = best
    out.update(validation_verdicts(scores, s))
    for variant in SEEDED:
        dynst = [trained_mean(scores, f"dynst-{key}", s) for key in fit_seeds(variant)]
        consensus = trained_mean(scores, f"dynst-{variant}-consensus", s)
        for key, mae in ((variant, None if None in dynst else float(np.mean(dynst))),
                         (f"{variant}_consensus", consensus)):  # fmt: skip
            if mae is not None:
                out[f"{key}_trained3"] = mae
                out[f"{key}_trained3_vs_best"] = mae / rivals[best]
                out[f"{key}_trained3_vs_random"] = mae / random_mae
    return out


def validation_verdicts(scores: dict, s: float) -> dict:
    """The trained-thrice verdict of the default on the validation period, beside the test's.

    The same trainings as `trained_thrice`, read on the validation split: where DynST loses on
    test but not on validation, no evidence a fit can see (it never reads the test period) would
    have ranked otherwise. Empty when a score lacks its validation MAE.
    """
    val = {"random": _mean_or_none([scores.get(f"random-{k}@{s}", {}).get("val_mae")
                                    for k in RANDOM_SEEDS])}  # fmt: skip
    for method in RIVALS[1:]:
        val[method] = trained_mean(scores, method, s, "val_mae")
    fits = [trained_mean(scores, f"dynst-{key}", s, "val_mae") for key in fit_seeds(DEFAULT)]
    dynst = _mean_or_none(fits)
    if dynst is None or None in val.values():
        return {}
    best = min(val, key=val.get)
    # greedy chooses its sensors by their validation error, so its validation MAE is not that of
    # a period it never saw; the verdict is also read against the rivals that never read it
    blind = min((m for m in val if m != "greedy"), key=val.get)
    return {
        "best_rival_val": best,
        f"{DEFAULT}_val_vs_best": dynst / val[best],
        f"{DEFAULT}_val_vs_random": dynst / val["random"],
        "best_blind_rival_val": blind,
        f"{DEFAULT}_val_vs_blind": dynst / val[blind],
    }


def _mean_or_none(values: list) -> float | None:
    return None if None in values else float(np.mean(values))


def stability(name: str, result: dict) -> dict:
    from dynst_cli.selection.consensus import mean_pairwise_jaccard

    fits, n = result["fits"], result["n_sensors"]
    out = {}
    consensus = fits.get("consensus", {}).get("consensus")
    if consensus:
        out["single_seed_jaccard"] = consensus["mean_pairwise_jaccard"]
    single = fit_seeds(DEFAULT)
    if all(k in fits for k in single):
        keeps = np.zeros((len(single), n), dtype=bool)
        for row, k in enumerate(single):
            keeps[row, fits[k]["kept_in_fit"]] = True
        out[f"{DEFAULT}_jaccard_of_fit_seeds_0_2"] = mean_pairwise_jaccard(keeps)
    for variant in SEEDED:  # how much the default's seeds and the rivals agree at 0.9
        keys = fit_seeds(variant)
        if all(k in fits for k in keys):
            keeps = np.zeros((len(keys), n), dtype=bool)
            for row, k in enumerate(keys):
                keeps[row, fits[k]["order"][: n_keep(n, 0.9)]] = True
            out[f"{variant}_jaccard_of_fit_seeds_0_2_at_0.9"] = mean_pairwise_jaccard(keeps)
    runs = [k for k in ("consensus", "consensus-seed3", "consensus-seed6") if k in fits]
    if len(runs) == 3:
        keeps = np.zeros((len(runs), n), dtype=bool)
        for row, k in enumerate(runs):
            keeps[row, fits[k]["order"][: n_keep(n, 0.5)]] = True
        out["consensus_jaccard_0.5"] = mean_pairwise_jaccard(keeps)
    if name == "planted":
        drivers = set(range(ARCHIVES["planted"]["synthetic"]["n_drivers"]))
        k = n_keep(n, 0.9)
        out["drivers_kept_at_0.9"] = {
            key: len(drivers & set(fit["order"][:k])) for key, fit in fits.items()
        }
        out["drivers_kept_at_0.9"].update(
            {m: len(drivers & set(o[:k])) for m, o in result["rivals"].items()}
        )
        for variant in SEEDED:  # the consensus of the variant's three fits (`fit --seeds 3`)
            if all(key in fits for key in fit_seeds(variant)):
                order = seeds_consensus(fits, fit_seeds(variant))
                out["drivers_kept_at_0.9"][f"{variant}-consensus"] = len(drivers & set(order[:k]))
    return out


REAL = ("metr-la", "era5-uk", "de-pm10", "ie-wind")


def target_lines(results: dict, variant: str = DEFAULT) -> list[str]:
    """The targets: at or below the best rival and never worse than random (real archives),
    every planted driver kept at 0.9, consensus Jaccard on METR-LA at least 0.7."""
    lines = []
    for name in REAL:
        if name not in results:
            continue
        for s, row in table(results[name]).items():
            if f"{variant}_vs_best" not in row:
                continue
            best, rnd = row[f"{variant}_vs_best"], row[f"{variant}_vs_random"]
            verdict = "hit" if best <= 1.0 and rnd <= 1.0 else "missed"
            seeds = ""
            if f"{variant}_seeds_mean_vs_best" in row:
                seeds = (
                    f"; mean of fit seeds 0-2 / best {row[f'{variant}_seeds_mean_vs_best']:.3f}, "
                    f"/ random {row[f'{variant}_seeds_mean_vs_random']:.3f}"
                )
            if "score_spread" in row:
                seeds += f"; one keep set over 3 training seeds: spread {row['score_spread']:.1%}"
            if f"{variant}_trained3_vs_best" in row:
                seeds += (
                    f"; every keep set trained with 3 seeds: mean of fit seeds 0-2 / best "
                    f"({row['best_rival_trained3']}) {row[f'{variant}_trained3_vs_best']:.3f}, "
                    f"/ random {row[f'{variant}_trained3_vs_random']:.3f}"
                )
            if f"{variant}_consensus_trained3_vs_best" in row:
                seeds += (
                    f", consensus / best {row[f'{variant}_consensus_trained3_vs_best']:.3f}, "
                    f"/ random {row[f'{variant}_consensus_trained3_vs_random']:.3f}"
                )
            if f"{variant}_val_vs_best" in row:
                seeds += (
                    f"; the same on the validation period: / best ({row['best_rival_val']}) "
                    f"{row[f'{variant}_val_vs_best']:.3f}, / random "
                    f"{row[f'{variant}_val_vs_random']:.3f}, / best rival that did not select "
                    f"on it ({row['best_blind_rival_val']}) {row[f'{variant}_val_vs_blind']:.3f}"
                )
            lines.append(
                f"- {name} S={s}: DynST ({variant}) / best rival ({row['best_rival']}) "
                f"{best:.3f}, / random {rnd:.3f}: {verdict}{seeds}"
            )
    if "planted" in results:
        kept = stability("planted", results["planted"]).get("drivers_kept_at_0.9", {})
        n = ARCHIVES["planted"]["synthetic"]["n_drivers"]
        for key in (variant, f"{variant}-gwnet"):
            if key in kept:
                verdict = "hit" if kept[key] == n else "missed"
                lines.append(f"- planted, {key}: {kept[key]} of {n} drivers kept at 0.9: {verdict}")
    if "metr-la" in results:
        j = stability("metr-la", results["metr-la"]).get("consensus_jaccard_0.5")
        if j is not None:
            verdict = "hit" if j >= 0.7 else "missed"
            lines.append(
                f"- metr-la: Jaccard of 3 consensus runs at 0.5 {j:.3f} (>= 0.7): {verdict}"
            )
    return lines


def markdown(results: dict, command: str) -> str:
    lines = [
        "# Ranking quality",
        "",
        *stamp_lines(stamp(command)),
        "",
        "Test MAE of a fresh backbone trained on each keep set (the archive's recipe, best-"
        "validation weights for every row; random: mean of seeds 0-2). `x / best` is DynST's MAE "
        "over the best rival's (below 1: DynST better); `x / rnd` over random's mean.",
        "",
        f"## Targets (default method: {DEFAULT}, one seed)",
        "",
        *target_lines(results),
        "",
    ]
    for name, result in results.items():
        t = table(result)
        lines += [f"## {name} ({result['n_sensors']} sensors)", ""]
        head = "| S | random | variance | QR | greedy | dense |"
        sep = "| ---: | ---: | ---: | ---: | ---: | ---: |"
        present = [v for v in VARIANTS if f"{v}_vs_best" in t["0.5"]]
        for v in present:
            head += f" DynST {v} | {v} / best | {v} / rnd |"
            sep += " ---: | ---: | ---: |"
        lines += [head, sep]
        for s, row in t.items():
            line = f"| {s} | " + " | ".join(f"{row[m]:.3f}" for m in RIVALS)
            line += f" | {result['dense']['mae']:.3f} |"
            for v in present:
                line += f" {row[v]:.3f} | {row[f'{v}_vs_best']:.3f} | {row[f'{v}_vs_random']:.3f} |"
            lines.append(line)
        lines += trained_thrice_table(t)
        stab = stability(name, result)
        fits = result["fits"]
        lines += ["", "Fits: " + ", ".join(
            f"{k} {f['seconds']} s ({f['swaps']} sensors regrown)" for k, f in fits.items()
        )]  # fmt: skip
        for key, value in stab.items():
            lines.append(f"- {key}: {json.dumps(value)}")
        if "consensus" in t["0.5"]:
            cells = " / ".join(
                f"{row['consensus']:.3f} ({row['consensus_vs_best']:.3f} of the best rival, "
                f"{row['consensus_vs_random']:.3f} of random)"
                for row in t.values()
            )
            lines.append(
                f"- consensus of {DEFAULT}'s fit seeds 0-2 (the ranking of `fit --seeds 3`), "
                f"test MAE at {' / '.join(t)}: {cells}"
            )
        lines.append("")
    return "\n".join(lines) + "\n"


def trained_thrice_table(t: dict) -> list[str]:
    """The archive's table with every keep set trained with three seeds (empty if not scored)."""
    rows = list(t.values())
    if not all("best_rival_trained3" in row for row in rows):
        return []
    present = [
        key
        for v in SEEDED
        for key in (v, f"{v}_consensus")
        if all(f"{key}_trained3" in row for row in rows)
    ]
    head = "| S | random | variance | QR | greedy |"
    sep = "| ---: | ---: | ---: | ---: | ---: |"
    for key in present:
        label = key.replace("_consensus", " consensus")
        head += f" DynST {label} | / best | / rnd |"
        sep += " ---: | ---: | ---: |"
    lines = [
        "",
        "Every keep set trained with three seeds (random: its three keep sets, one training "
        "each; DynST: mean over fit seeds 0-2 of the mean over training seeds; consensus: of "
        "fit seeds 0-2):",
        "",
        head,
        sep,
    ]
    for s, row in t.items():
        cells = [row[f"{m}_trained3"] for m in RIVALS]
        for key in present:
            cells += [row[f"{key}_trained3{x}"] for x in ("", "_vs_best", "_vs_random")]
        lines.append(f"| {s} | " + " | ".join(f"{c:.3f}" for c in cells) + " |")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--archives", default=",".join(ARCHIVES))
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--before-src", default=None)
    parser.add_argument(
        "--variants", default=",".join(VARIANTS), help="the DynST variants to fit (default: all)"
    )
    parser.add_argument(
        "--output", default="ranking", help="results/NAME.md and .json (default: ranking)"
    )
    parser.add_argument(
        "--thrice",
        default=DEFAULT,
        help="seeded variants whose fits and consensus are also scored with training seeds 1 "
        f"and 2 (default: {DEFAULT})",
    )
    args = parser.parse_args()
    variants = tuple(v for v in args.variants.split(",") if v)
    thrice = tuple(v for v in args.thrice.split(",") if v)
    names = [a for a in args.archives.split(",") if a]
    results = {}
    with ProcessPoolExecutor(args.workers) as pool:
        for name in names:
            log(f"== {name}")
            results[name] = run_archive(name, pool, args.before_src, variants, thrice)
    summary = {
        name: {"table": table(r), "stability": stability(name, r)} for name, r in results.items()
    }
    (RESULTS / f"{args.output}.json").write_text(json.dumps(summary, indent=1) + "\n")
    command = "python benchmarks/bench_ranking.py " + " ".join(sys.argv[1:])
    (RESULTS / f"{args.output}.md").write_text(markdown(results, command))
    print((RESULTS / f"{args.output}.md").read_text())


if __name__ == "__main__":
    main()
