"""`fit` as a library call: train DynST on a canonical dataset and write the run directory."""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import shutil
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch

from dynst_cli import __version__
from dynst_cli import distributed as dist
from dynst_cli.bundle import ModelBundle
from dynst_cli.challenge import (
    FIT,
    Challenge,
    challenged,
    challenger_keep_sets,
    dense_weights_on_every_rank,
    stretch_errors,
    won_by_challenger,
)
from dynst_cli.config import ELIMINATION_POOLS, FitConfig, validate
from dynst_cli.console import log
from dynst_cli.data import SensorData, load_dataset
from dynst_cli.dense_cache import DenseReference, cache_root, dense_key, key_inputs, lookup, store
from dynst_cli.errors import DynstError, InputError, UsageError
from dynst_cli.evaluate import EVAL_BATCH, headline
from dynst_cli.exchange import exchanged
from dynst_cli.mask import check_keeps_some, n_keep_for
from dynst_cli.mask.regrow_signals import regrow_probe
from dynst_cli.model import ForecastModel
from dynst_cli.run import (
    CHECKPOINT,
    CONFIG,
    HISTORY,
    METRICS,
    MODEL,
    RANKING,
    TIMINGS,
    RunDir,
)
from dynst_cli.saliency import (
    mean_inputs,
    narrow_keep_set,
    saliency_ranking,
    scores_at_regrow_value,
    settle_keep_set,
)
from dynst_cli.searches import (
    agreement_p_value,
    epochs_each,
    fallback_config,
    falls_back,
    fit_epochs,
    frozen_epochs,
    n_searches,
    pool_candidates,
    pooled_keep,
    pooled_order,
    search_config,
    search_record,
    survival_steps,
    vote_ties,
)
from dynst_cli.selection import Ranking, Siting, SitingConstraints, rank_sensors, siting_for
from dynst_cli.selection.availability import availability_weights
from dynst_cli.selection.consensus import (
    consensus_ranking,
    mean_pairwise_jaccard,
    selection_frequency,
)
from dynst_cli.selection.silent import silent_last, silent_sensors
from dynst_cli.train import (
    EXCHANGE_RETRAIN_OFFSET,
    POOL_RETRAIN_OFFSET,
    SETTLE_RETRAIN_OFFSET,
    BestWeights,
    Prepared,
    TrainState,
    evaluate_splits,
    finetune,
    make_optimizer,
    prepare,
    regrow_sparsity,
    retrain_on,
    run_epochs,
    train_fixed,
    validation_mae,
)

SEEDS_DIR = "seeds"  # a consensus fit's refits, one run directory per extra seed


def run_record(config: FitConfig, dataset_path: Path, data: SensorData, constraints) -> dict:
    """What `config.json` holds: the resolved configuration and what it was trained on."""
    return {
        "dynst_version": __version__,
        "config": config.to_dict(),
        "constraints": constraints.to_dict() if constraints else {},
        "dataset": {
            "path": str(Path(dataset_path).resolve()),
            "sha256": data.sha256,
            "n_sensors": data.n_sensors,
            "n_steps": data.n_steps,
            "variables": data.variables,
        },
    }


def fit_run(
    dataset_path: str | Path,
    run_path: str | Path,
    config: FitConfig,
    *,
    resume: bool = False,
    constraints: SitingConstraints | None = None,
    on_epoch: Callable[[TrainState, int], None] | None = None,
) -> dict:
    """Train DynST on `dataset_path` and write the run directory `run_path`.

    Returns the summary written to `metrics.json` (dense warm-up and sparse model, val and test).
    `resume=True` continues from the last complete checkpoint and refuses a different dataset or
    configuration. `on_epoch(state, total_epochs)` is called after every epoch (progress bars).
    Under torchrun every rank calls this: it joins the process group, trains its shard of the
    windows with DistributedDataParallel, and only rank 0 writes the run and returns the summary
    (the other ranks return {}).
    """
    validate(config)
    with dist.process_group(config.train.device), _removed_on_error(Path(run_path)):
        return _fit(dataset_path, run_path, config, resume, constraints, on_epoch)


@contextlib.contextmanager
def _removed_on_error(run_path: Path):
    """Remove the run directory on a reported failure (bad data, no space) if this fit made it.

    A directory that existed before (a resumed run, a folder the user made) is left as it was;
    an interrupted fit (Ctrl-C, SIGTERM) keeps its checkpoint for `--resume`.
    """
    existed = run_path.exists()
    try:
        yield
    except DynstError:
        if not existed and dist.is_main():
            shutil.rmtree(run_path, ignore_errors=True)
        raise


def _fit(dataset_path, run_path, config: FitConfig, resume, constraints, on_epoch) -> dict:
    run = RunDir(run_path)
    data = load_dataset(dataset_path, config.data.variables, mmap=config.data.mmap)
    check_keeps_some(data.n_sensors, config.mask.sparsity)
    record = run_record(config, Path(dataset_path), data, constraints)
    _check_run_target(run, record, resume)
    siting = siting_for(constraints, data)
    select = siting.keep_fn()
    searches = n_searches(config) > 1
    prep = prepare(data, search_config(config, 0) if searches else config)  # seeded as trained
    _set_saliency_options(prep, data, config)
    optimizer = make_optimizer(prep.model, config)
    state = TrainState()
    if resume and run.file(CHECKPOINT).is_file():
        state = _restore(run, prep, optimizer, config)
        if dist.is_main():
            log(f"fit: resuming at epoch {state.epoch + 1} of {config.train.epochs}")
    else:
        _exclude_at_start(prep.model, siting)
    if dist.is_main():
        run.write_json(CONFIG, record)
    started = time.perf_counter()
    ddp = dist.wrap_ddp(prep.model, prep.device)

    def checkpoint(state: TrainState) -> None:
        if dist.is_main():
            _save_checkpoint(run, prep, optimizer, state)
        if on_epoch:
            on_epoch(state, fit_epochs(config))

    searched = None
    if searches:
        prep, state, keeps, searched = _searched(
            prep, data, config, state, (select, siting), optimizer, (checkpoint, on_epoch), ddp
        )
    else:
        settle = settle_hook(prep, config, select)
        state = run_epochs(prep, config, state, select, optimizer, checkpoint, ddp, settle)
    ranking, consensus = final_ranking(prep, config), None
    ranking, exchanges = _exchanged(prep, config, ranking, select)
    dense, dense_seconds = _dense_reference(run, data, config, prep)
    ranking, challenge = _challenged(prep, data, config, ranking, select, dense)
    if searches and not searched["fell_back"] and not won_by_challenger(challenge):
        ranking = dataclasses.replace(ranking, selection_frequency=selection_frequency(keeps))
    if config.train.seeds > 1:
        ranking, consensus = _consensus_over_seeds(run, dataset_path, config, constraints, ranking)
    silent = silent_in_validation(data, prep, config)
    ranking = silent_last(ranking, silent)
    if config.train.seeds > 1 or silent.any():
        _align_model_with(prep, config, ranking, select)
    timings = {
        "fit_seconds": round(time.perf_counter() - started - (dense_seconds or 0.0), 3),
        "dense_reference_seconds": dense_seconds,
        "dense_reference_source": dense.source if dense else None,
    }
    summary = {}
    if dist.is_main():  # evaluation and files: rank 0 only, the others wait at the barrier
        summary = _write_results(
            run,
            prep,
            data,
            state,
            dense,
            timings,
            ranking,
            consensus,
            searched,
            exchanges,
            challenge,
        )
    dist.barrier()
    return summary


def _searched(prep, data, config, state, choice, optimizer, callbacks, ddp):
    """`mask.searches` brief mask searches, then the frozen-mask epochs on the keep set they
    agree on, or, where they agree at chance and `mask.searches_fallback` is on, one search over
    all the epochs on a fresh model (searches.py). Returns the model the fit ranks by and its
    state, the searches' keep vectors, shape (K, N), the first search's first, and what
    `metrics.json` says of them. The arguments are `_run_searches`'.
    """
    state, keeps, survival = _run_searches(
        prep, data, config, state, choice, optimizer, callbacks, ddp
    )
    p_value = agreement_p_value(keeps)
    fell_back = falls_back(config, p_value)
    if fell_back:
        prep, state = _fallen_back(data, config, prep.scaler, choice, callbacks[1])
    else:
        state = _pooled(prep, config, state, keeps, survival, choice[0], callbacks[1])
    return prep, state, keeps, search_record(config, keeps, p_value, fell_back)


def _run_searches(prep, data, config, state, choice, optimizer, callbacks, ddp):
    """`mask.searches` brief mask searches (searches.py); the first search's state, the searches'
    keep vectors, shape (K, N), the first search's first, and how long each search kept each
    sensor (`searches.survival_steps`, for ``mask.pool_by: survival``; else None).

    The first search trains this model and is checkpointed as a fit is, so a resumed fit goes
    on from it. The others train fresh models and are run again on a resume: each is brief, and
    seeded, so the result is the same. `choice` is the fit's ``(select, siting)``, `callbacks`
    its ``(checkpoint, on_epoch)``: the first search checkpoints, every epoch is reported.
    """
    (select, siting), (checkpoint, on_epoch) = choice, callbacks
    first = search_config(config, 0)
    each = first.train.epochs
    state = run_epochs(prep, first, state, select, optimizer, checkpoint, ddp)
    ends = [_search_end(prep.model.gate, state.step)]
    for index in range(1, n_searches(config)):
        report = _reported(on_epoch, config, index * each)
        search = search_config(config, index)
        ends.append(_search(data, search, select, siting, report, prep.scaler))
    keeps = np.stack([keep for keep, _ in ends])
    survival = (
        np.stack([lasted for _, lasted in ends]) if config.mask.pool_by == "survival" else None
    )
    return state, keeps, survival


def _pooled(prep, config, state, keeps, survival, select, on_epoch) -> TrainState:
    """The frozen-mask epochs of the first search's model on the keep set the searches agree on
    (`mask.pool_by`); the fit's state, its epochs and best weights counted as one fit's."""
    each = epochs_each(config)
    n_keep = n_keep_for(len(keeps[0]), config.mask.sparsity)
    report = _reported(on_epoch, config, n_searches(config) * each)
    done = 0  # frozen-mask epochs trained so far

    def frozen_epoch(epoch: int, total: int) -> None:  # `finetune`'s callback
        report(dataclasses.replace(state, epoch=done + epoch))

    if pools_by_elimination(config):
        keep, done = _pooled_by_elimination(prep, config, keeps, n_keep, select, frozen_epoch)
    else:
        keep = pooled_keep(keeps, n_keep, select, survival)
    best = finetune(prep, config, keep, frozen_epochs(config) - done, frozen_epoch)
    if best.epoch is not None:  # counted after the first search's epochs, as the fit's are
        best.epoch += each + done
    state.best, state.epoch = best, each + frozen_epochs(config)
    return state


def _fallen_back(data, config, scaler, choice, on_epoch) -> tuple[Prepared, TrainState]:
    """One search over all the fit's epochs on a fresh model (`searches.fallback_config`), for a
    fit whose brief searches agreed at chance; its model and state, which the fit then ranks by.

    It is not checkpointed: a fit resumed during it runs the brief searches' test again, which
    decides the same, and trains it again from its seed, to the same result. Its epochs are
    reported after the brief searches', out of as many more. `scaler` is the first search's.
    """
    (select, siting), fallback = choice, fallback_config(config)
    prep = prepare(data, fallback, scaler)
    _set_saliency_options(prep, data, fallback)
    _exclude_at_start(prep.model, siting)
    optimizer = make_optimizer(prep.model, fallback)
    ddp = dist.wrap_ddp(prep.model, prep.device)
    searched = n_searches(config) * epochs_each(config)
    report = _reported(on_epoch, config, searched, total=searched + fallback.train.epochs)
    settle = settle_hook(prep, fallback, select)
    return prep, run_epochs(prep, fallback, TrainState(), select, optimizer, report, ddp, settle)


def pools_by_elimination(config: FitConfig) -> bool:
    """Whether elimination takes part in pooling the searches' keep sets (`mask.pool_by`
    ``elimination`` or ``ties``; `config.validate` allows them with the saliency criterion
    only) rather than their votes alone."""
    return config.mask.pool_by in ELIMINATION_POOLS


def _pooled_by_elimination(prep, config: FitConfig, keeps: np.ndarray, n_keep: int, select, report):
    """The searches' keep sets (`keeps`, (K, N) bool) narrowed to `n_keep` on the first search's
    model; the keep set, shape (N,) bool, and the frozen-mask epochs it took.

    The candidates are every sensor some search kept (``elimination``), or the votes' keep set
    with its tied sensors, the ones the votes decide pinned (``ties``, `searches.vote_ties`).
    The model first trains with all of them on for half the frozen-mask epochs (the first
    search's model has read only its own keep set, and a quarter epoch does not teach it the
    others'), then they are eliminated from as the final ranking eliminates
    (`saliency.narrow_keep_set`, retraining between passes). The rest of the frozen-mask
    epochs train the result. `report(done, total)` after each epoch on the candidates.
    """
    decided = None
    if config.mask.pool_by == "ties":
        decided, candidates = vote_ties(keeps, n_keep, select)
    else:
        candidates = pool_candidates(keeps, select)
    if candidates.sum() <= n_keep:  # nothing left to decide
        return pooled_keep(keeps, n_keep, select), 0
    epochs = frozen_epochs(config) // 2 if not np.array_equal(candidates, keeps[0]) else 0
    if epochs:
        # the other searches' sensors read their input at the regrow gate value, as in a regrow
        scores_at_regrow_value(prep.model.gate, keeps[0], candidates)
        finetune(prep, config, candidates, epochs, report)
    mask, retrain = config.mask, None
    if mask.rank_retrain_epochs:
        retrain = functools.partial(retrain_on, prep, config, stream=POOL_RETRAIN_OFFSET)
    keep = narrow_keep_set(
        prep, ranking_windows(prep, config), EVAL_BATCH, candidates, pooled_order(keeps),
        mask.rank_pass_fraction, select, retrain, n_keep, mask.rank_kept_by, decided,
    )  # fmt: skip
    return keep, epochs


def _reported(
    on_epoch, config: FitConfig, offset: int, total: int | None = None
) -> Callable[[TrainState], None]:
    """The fit's `on_epoch` for a later search, the frozen epochs or a fallback: their epochs
    counted after the `offset` epochs before them, out of `total` (`searches.fit_epochs`)."""
    if on_epoch is None:
        return lambda state: None
    total = total or fit_epochs(config)
    return lambda state: on_epoch(dataclasses.replace(state, epoch=offset + state.epoch), total)


def _search(data: SensorData, config: FitConfig, select, siting, report, scaler):
    """One brief mask search on a fresh model (`config` is the search's); its keep vector and
    how long it kept each sensor (`_search_end`). `report(state)` after each epoch. `scaler` is
    the first search's: the training period is the same, so it is not fitted again (a pass over
    the whole period, from disk with `data.mmap`).
    """
    prep = prepare(data, config, scaler)
    _set_saliency_options(prep, data, config)
    _exclude_at_start(prep.model, siting)
    optimizer = make_optimizer(prep.model, config)
    ddp = dist.wrap_ddp(prep.model, prep.device)
    # dense={}: the dense model at the end of a warm-up is reported from the first search only
    state = run_epochs(prep, config, TrainState(dense={}), select, optimizer, report, ddp)
    return _search_end(prep.model.gate, state.step)


def _search_end(gate, steps: int) -> tuple[np.ndarray, np.ndarray]:
    """A finished search's keep vector (N,) bool and `searches.survival_steps` (N,) float."""
    keep = gate.keep.cpu().numpy() > 0.5
    return keep, survival_steps(keep, gate.dropped_at.cpu().numpy(), steps)


def resolve_dense(
    run_path: Path, data: SensorData, config: FitConfig, device: torch.device
) -> DenseReference | None:
    """The dense reference of this data and configuration: from the cache, else trained now.

    Every rank of a distributed fit calls this; rank 0 decides whether the cache holds it and
    tells the others, so that all of them train (or skip training) together. Returns None on
    ranks other than 0.
    """
    root, world = cache_root(run_path), dist.world_size()
    key = dense_key(config, data.sha256, world)
    found = lookup(root, key) if dist.is_main() else None
    flag = torch.tensor([1.0 if found else 0.0], device=device)
    if float(dist.broadcast_from_main(flag)[0]) > 0.5:
        return found
    dense_prep = dense_reference_model(data, config)
    if not dist.is_main():
        return None
    metrics = evaluate_splits(dense_prep)
    inputs = key_inputs(config, data.sha256, world)
    path = store(root, key, inputs, metrics, dense_prep.model.state_dict())
    return DenseReference(metrics, "trained", key, path)


def _dense_reference(run: RunDir, data, config: FitConfig, prep: Prepared):
    """The fit's dense reference (None without `train.dense_reference`) and the seconds spent
    training it (None when it was read from the cache).

    It trains on every rank, like the fit (same shards, same effective batch), unless an equal
    one is already cached beside the run.
    """
    if not config.train.dense_reference:
        return None, None
    started = time.perf_counter()
    dense = resolve_dense(run.path, data, config, prep.device)
    trained = dense is not None and dense.source == "trained"
    return dense, round(time.perf_counter() - started, 3) if trained else None


def _challenged(prep, data, config: FitConfig, ranking: Ranking, select, dense):
    """The ranking after the fit's keep set stood against `mask.challengers` (challenge.py),
    and how it fared (None when no challengers were asked for). When a challenger's keep set
    wins, the model ends fine-tuned to it and the ranking is made afresh on that model, as the
    fit's own is."""
    challengers = config.mask.challengers
    if not challengers or ranking.kept is None:
        return ranking, None
    weights = dense_weights_on_every_rank(dense, prep.model)
    if weights is None:
        if dist.is_main():
            log("fit: no dense reference to train the challengers' keep sets from: skipped")
        return ranking, Challenge(FIT, {}, [], skipped="no dense reference")
    fitted = np.asarray(ranking.kept, dtype=bool)
    keep_sets = challenger_keep_sets(
        data, prep, challengers, int(fitted.sum()), select, config.data.t_out
    )

    def tuned(keep: np.ndarray):
        best = finetune(prep, config, keep, config.mask.challenge_epochs)
        return best.val_mae, stretch_errors(prep)

    challenge = challenged(prep, fitted, keep_sets, weights, tuned)
    if not won_by_challenger(challenge):
        return ranking, challenge
    return final_ranking(prep, config), challenge


def final_ranking(prep: Prepared, config: FitConfig) -> Ranking:
    """The fit's ranking from its final mask, by the fit's drop criterion.

    ``saliency``: iterative elimination of the kept sensors and iterative addition of the dropped
    ones on the windows of `ranking_windows`, see `saliency.saliency_ranking`. ``magnitude``:
    kept by ``|m|``, dropped by when they were dropped, latest first.
    """
    gate = prep.model.gate
    keep = gate.keep.cpu().numpy() > 0.5
    if config.mask.drop_criterion == "magnitude":
        magnitude = np.abs(gate.scores.detach().cpu().numpy())
        return rank_sensors(keep, magnitude, gate.dropped_at.cpu().numpy())
    order, worth = saliency_ranking(
        prep,
        ranking_windows(prep, config),
        EVAL_BATCH,
        config.mask.rank_pass_fraction,
        config.mask.rank_kept_by,
        functools.partial(retrain_on, prep, config) if config.mask.rank_retrain_epochs else None,
        config.mask.rank_dropped_by,
    )
    return Ranking(order=order, scores=worth, kept=keep)


def _exchanged(prep: Prepared, config: FitConfig, ranking: Ranking, select):
    """The ranking after the exchanges of `mask.exchange_trials` (exchange.py) and how many
    stood (None when none were asked for). The model ends as the last swap that stood left it,
    trained to read the new keep set, and is the plan's."""
    trials = config.mask.exchange_trials
    if trials <= 0 or config.mask.drop_criterion != "saliency" or ranking.kept is None:
        return ranking, None
    retrain = functools.partial(retrain_on, prep, config, stream=EXCHANGE_RETRAIN_OFFSET)
    return exchanged(prep, ranking, trials, select, retrain, lambda: validation_mae(prep))


def settle_hook(prep: Prepared, config: FitConfig, select) -> Callable[[], np.ndarray] | None:
    """What `run_epochs` calls to settle the keep set when drop-and-regrow ends, if anything.

    It settles when `mask.settle_share` adds candidates or `mask.explore_keep` has drop-and-regrow
    keep more sensors than the sparsity asks for; either way it ends at the asked count. The
    candidates are measured on the windows of the final ranking and retrained on as its
    elimination is (`mask.rank_retrain_epochs`), on a stream of windows of their own.
    """
    mask, n_sensors = config.mask, prep.model.gate.n_sensors
    n_keep = n_keep_for(n_sensors, mask.sparsity)
    narrows = n_keep_for(n_sensors, regrow_sparsity(mask, n_sensors)) > n_keep
    if mask.drop_criterion != "saliency" or (mask.settle_share <= 0 and not narrows):
        return None
    retrain = None
    if mask.rank_retrain_epochs:
        retrain = functools.partial(retrain_on, prep, config, stream=SETTLE_RETRAIN_OFFSET)
    return functools.partial(
        settle_keep_set,
        prep,
        ranking_windows(prep, config),
        EVAL_BATCH,
        mask.settle_share,
        mask.rank_pass_fraction,
        select,
        retrain,
        n_keep,
        mask.rank_kept_by,
    )


def ranking_windows(prep: Prepared, config: FitConfig) -> np.ndarray:
    """Start indices of the windows the final ranking measures saliency on.

    `mask.rank_period` ``train``: one training window every ``t_out`` steps (consecutive windows
    overlap in all but one step, so this keeps nearly all they say for a fraction of the passes'
    cost); ``val``: every validation window. Either falls back on the other when it has none.
    """
    train = prep.splits["train"].window_starts[:: config.data.t_out]
    val = prep.splits["val"].window_starts
    first, other = (train, val) if config.mask.rank_period == "train" else (val, train)
    return first if first.size else other


def _set_saliency_options(prep: Prepared, data: SensorData, config: FitConfig) -> None:
    """The gate's baseline, availability weights and per-window flag, from the `mask` keys."""
    mask, gate = config.mask, prep.model.gate
    if mask.drop_criterion != "saliency":
        return
    if mask.saliency_baseline == "mean":
        gate.center = mean_inputs(prep, ranking_windows(prep, config), EVAL_BATCH)
    if mask.weigh_by_availability:
        relative = mask.availability_weight == "relative"
        gate.availability = sensor_availability(data, prep, relative)
    gate.per_window = mask.saliency_abs == "window"


def sensor_availability(data: SensorData, prep: Prepared, relative: bool = True) -> torch.Tensor:
    """The gate's `availability` (`mask.weigh_by_availability`): each sensor's reporting share
    in the validation period, over its share in the training period when `relative`
    (`mask.availability_weight`), shape (N,)."""
    train, val = prep.splits["train"], prep.splits["val"]
    periods = (train.start, train.stop), (val.start, val.stop)
    weights = availability_weights(data.values, *periods, relative=relative)
    return torch.as_tensor(weights, dtype=torch.float32, device=prep.device)


def silent_in_validation(data: SensorData, prep: Prepared, config: FitConfig) -> np.ndarray:
    """Bool `(N,)`: the sensors `mask.rank_silent_last` ranks last (all False when it is off)."""
    if not config.mask.rank_silent_last:
        return np.zeros(data.n_sensors, dtype=bool)
    val = prep.splits["val"]
    return silent_sensors(data.values, val.start, val.stop)


def seed_run_path(run: RunDir, seed: int) -> Path:
    """Where the refit with `seed` of a consensus fit lives, inside the run."""
    return run.path / SEEDS_DIR / f"seed-{seed}"


def _consensus_over_seeds(
    run: RunDir, dataset_path, config: FitConfig, constraints, first: Ranking
):
    """Refit with seeds seed+1 .. seed+K-1 (each resumable) and rank by consensus with `first`,
    this fit's own ranking.

    Returns the consensus ranking and its record (seeds, selection frequency, mean pairwise
    Jaccard of the K keep sets at the fit's sparsity).
    """
    seeds = [config.train.seed + k for k in range(config.train.seeds)]
    rankings = [first]
    for seed in seeds[1:]:
        path = seed_run_path(run, seed)
        refit = dataclasses.replace(
            config,
            train=dataclasses.replace(config.train, seed=seed, seeds=1, dense_reference=False),
        )
        if not (path / MODEL).is_file():
            _fit(dataset_path, path, refit, path.exists(), constraints, None)
        rankings.append(Ranking.read(RunDir(path).file(RANKING)))
    keeps = np.stack([r.kept for r in rankings])
    record = {"seeds": seeds, "mean_pairwise_jaccard": mean_pairwise_jaccard(keeps)}
    return consensus_ranking(rankings), record


def _align_model_with(prep: Prepared, config: FitConfig, ranking: Ranking, select) -> None:
    """Fine-tune the model on the ranking's keep set (consensus, silent sensors last) when it
    differs from its own mask."""
    gate = prep.model.gate
    fitted = gate.keep.cpu().numpy() > 0.5
    keep = select(ranking.order, int(fitted.sum()))  # through the siting constraints
    if not np.array_equal(keep, fitted):
        finetune(prep, config, keep, config.train.finetune_epochs)


def _check_run_target(run: RunDir, record: dict, resume: bool) -> None:
    if run.path.exists() and not run.path.is_dir():
        raise UsageError(f"{run.path} exists and is not a directory")
    if not run.exists():
        return
    if not resume:
        if run.file(MODEL).is_file() or run.file(CHECKPOINT).is_file():
            raise UsageError(
                f"{run.path} already holds a run; pass --resume to continue it, "
                "or choose another -o"
            )
        return
    saved = run.read_json(CONFIG)
    if saved.get("dataset", {}).get("sha256") != record["dataset"]["sha256"]:
        raise InputError(
            f"cannot resume {run.path}: it was trained on another dataset "
            f"(sha256 {saved.get('dataset', {}).get('sha256', '?')[:12]}...); "
            "start a new run with another -o"
        )
    if saved.get("config") != record["config"] or saved.get("constraints") != record["constraints"]:
        changed = sorted(
            f"{section}.{key}"
            for section, values in record["config"].items()
            for key, value in values.items()
            if saved.get("config", {}).get(section, {}).get(key) != value
        ) or ["constraints"]
        raise UsageError(
            f"cannot resume {run.path} with a different configuration "
            f"(changed: {', '.join(changed)}); resume with the same flags or start a new run"
        )


def _exclude_at_start(model: ForecastModel, siting: Siting) -> None:
    """Excluded sensors are off from the first step; the warm-up is otherwise dense."""
    if siting.unconstrained:
        return
    n = siting.n_sensors
    model.gate.set_keep(siting.select(np.arange(n), n).keep, 0)


def _save_checkpoint(run: RunDir, prep: Prepared, optimizer, state: TrainState) -> None:
    run.save_torch(
        CHECKPOINT,
        {
            "model": prep.model.state_dict(),
            "optimizer": optimizer.state_dict(),
            "epoch": state.epoch,
            "step": state.step,
            "history": state.history,
            "dense": state.dense,
            "best": state.best.state() if state.best else None,
            "signal": None if state.signal is None else torch.from_numpy(state.signal),
            "probe": None if state.probe is None else state.probe.state(),
            "grown_at": None if state.grown_at is None else torch.from_numpy(state.grown_at),
            "torch_rng": torch.get_rng_state(),
        },
    )


def _restore(run: RunDir, prep: Prepared, optimizer, config: FitConfig) -> TrainState:
    ckpt = run.load_torch(CHECKPOINT)
    try:
        prep.model.load_state_dict(ckpt["model"])
        optimizer.load_state_dict(ckpt["optimizer"])
        torch.set_rng_state(ckpt["torch_rng"])
        best = BestWeights.from_state(ckpt["best"])
        state = TrainState(ckpt["epoch"], ckpt["step"], ckpt["history"], ckpt["dense"], best)
        signal = ckpt.get("signal")  # absent from checkpoints written before smoothing
        state.signal = None if signal is None else signal.numpy()
        grown_at = ckpt.get("grown_at")  # absent from checkpoints written before the grace
        state.grown_at = None if grown_at is None else grown_at.numpy()
        if ckpt.get("probe") is not None:  # absent from checkpoints written before the probe
            state.probe = regrow_probe(
                config.mask.regrow_signal, prep.model.gate.n_sensors, prep.device
            )
            state.probe.load(ckpt["probe"])
        return state
    except (KeyError, RuntimeError, ValueError) as exc:
        raise InputError(
            f"{run.file(CHECKPOINT)} does not match this configuration ({exc}); start a new run"
        ) from None


def _write_results(
    run: RunDir,
    prep: Prepared,
    data: SensorData,
    state,
    dense_ref: DenseReference | None,
    timings,
    ranking,
    consensus,
    searched=None,
    exchanges: int | None = None,
    challenge: Challenge | None = None,
) -> dict:
    gate = prep.model.gate
    sparse = evaluate_splits(prep)
    dense = None if dense_ref is None else dense_ref.metrics
    keep = gate.keep.cpu().numpy() > 0.5
    summary = {
        "n_sensors": data.n_sensors,
        "n_keep": int(gate.keep.sum()),
        "sparsity": 1 - int(gate.keep.sum()) / data.n_sensors,
        "units": dict(data.units),
        "dense_warmup": {split: headline(m) for split, m in state.dense.items()},
        "dense": None if dense is None else {split: headline(m) for split, m in dense.items()},
        "dense_source": None if dense_ref is None else dense_ref.record(),
        "sparse": {split: headline(m) for split, m in sparse.items()},
        "sparse_horizon": {split: m["horizon"] for split, m in sparse.items()},
        "dense_sensor_mae": dense_sensor_mae(dense or state.dense),
        "best_epoch": state.best.epoch if state.best else None,
    }
    if consensus:
        summary["consensus"] = consensus
    if searched:
        summary["searches"] = searched
    if exchanges is not None:
        summary["exchanges"] = exchanges
    if challenge is not None:
        summary["challenge"] = challenge.record()
    _check_finite_metrics(summary, data)
    model_bundle(prep, data).save(run)
    dataclasses.replace(ranking, kept=keep, sensor_ids=tuple(map(str, data.sensor_ids))).write(
        run.file(RANKING)
    )
    run.write_json(HISTORY, state.history)
    run.write_json(METRICS, summary)
    run.write_json(TIMINGS, {**timings, "epochs": state.epoch})
    # whether the dense reference was trained now or read back: timings, not the reproducible files
    return {**summary, "dense_reference_source": timings["dense_reference_source"]}


def _check_finite_metrics(summary: dict, data: SensorData) -> None:
    """Refuse errors that overflowed: values near float32's limit cannot be scored."""
    headline_errors = [
        m[key]
        for name in ("dense_warmup", "dense", "sparse")
        for m in (summary.get(name) or {}).values()
        for key in ("mae", "rmse")
    ]
    if all(np.isfinite(v) for v in headline_errors if v is not None):
        return
    largest = float(np.nanmax(np.abs(data.values)))
    raise InputError(
        f"the forecast errors overflow (largest |value| in the dataset is {largest:.4g}): the "
        "data hold values too large to score in float32; check the archive and its units"
    )


def dense_sensor_mae(dense: dict) -> dict:
    """Per-sensor MAE of the dense model by split, `{split: [N values or None]}` (data units).

    Taken from the dense reference when the fit trained one, else from the end of the warm-up.
    """
    return {split: m["sensor_mae"] for split, m in dense.items() if m.get("sensor_mae")}


def dense_reference_model(data: SensorData, config: FitConfig) -> Prepared:
    """A dense model trained with the same backbone, epochs and seed (to compare plans with)."""
    return train_fixed(data, config, np.ones(data.n_sensors, dtype=bool))


def model_bundle(prep: Prepared, data: SensorData) -> ModelBundle:
    """Weights, scaler and network description: all `predict` needs besides recent data."""
    return ModelBundle.from_training(prep.model.state_dict(), prep.scaler.state(), data)
