"""`prune` as a library call: the deployment plan at any sparsity from a run's ranking.

Sensors are taken in the run's rank order (through the siting constraints, when given) until
N - round(S*N) are kept. When the keep set differs from the one the model was trained with, the
backbone is fine-tuned with the mask frozen on it, so that the reported error is that of a network
trained for exactly these sensors. The fine-tuned weights are stored in the run under a name
derived from the keep set, and the plan refers to them by that relative name.
"""

from __future__ import annotations

import dataclasses
import hashlib
from pathlib import Path

import numpy as np

from dynst_cli.atomic import sha256_file, together
from dynst_cli.bundle import ModelBundle
from dynst_cli.challenge import challenge_note
from dynst_cli.config import FitConfig
from dynst_cli.data import SensorData, StandardScaler, load_dataset
from dynst_cli.dense_cache import cache_root, dense_key, lookup
from dynst_cli.errors import InputError, UsageError
from dynst_cli.evaluate import evaluate, headline
from dynst_cli.mask import check_keeps_some
from dynst_cli.plan.curve import write_curve
from dynst_cli.plan.schema import (
    PLAN_FORMAT,
    Grid,
    Metrics,
    ModelRef,
    Plan,
    PlanMetrics,
    PlanSensor,
    write_plan,
)
from dynst_cli.progress import FinetuneProgress
from dynst_cli.run import CONFIG, METRICS, MODEL, RANKING, RunDir
from dynst_cli.selection import Ranking, Selection, SitingConstraints, siting_for
from dynst_cli.train import Prepared, finetune, prepare, usable_device

PLANS_DIR = "plans"
MOST_AFFECTED = 5  # sensors named in a plan as those whose forecast suffers most


def check_sparsity(sparsity: float) -> float:
    """`sparsity` as a float in [0, 1) (-0.0 becomes 0.0), or a usage error."""
    if not 0.0 <= sparsity < 1.0:
        raise UsageError(f"--sparsity must lie in [0, 1), got {sparsity}")
    return float(sparsity) + 0.0


def load_for_run(run: RunDir, data_path: str | Path | None = None):
    """The run's configuration, its dataset (checked by sha256) and its trained model."""
    record = run.read_json(CONFIG)
    config = FitConfig.from_dict(record["config"], source=str(run.file(CONFIG)))
    config.train.device = usable_device(config.train.device)
    path = Path(data_path or record["dataset"]["path"])
    data = load_dataset(path, config.data.variables, mmap=config.data.mmap)
    if data.sha256 != record["dataset"]["sha256"]:
        raise InputError(
            f"{path} is not the dataset {run.path} was trained on (sha256 differs); "
            "pass the original with --data, or fit a new run"
        )
    bundle = ModelBundle.load(run)
    prep = prepare(data, config, StandardScaler.from_state(bundle.scaler))
    prep.model.load_state_dict(bundle.model)
    return config, data, prep


def prune_run(
    run_path: str | Path,
    sparsity: float,
    *,
    finetune_epochs: int | None = None,
    constraints: SitingConstraints | None = None,
    data_path: str | Path | None = None,
    on_epoch=None,
) -> Plan:
    """The plan for keeping N - round(S*N) sensors of the run, in its rank order.

    `on_epoch(done, epochs)` follows the fine-tuning, when the keep set needs one.
    """
    sparsity = check_sparsity(sparsity)
    if finetune_epochs is not None and finetune_epochs < 0:
        raise UsageError(f"--finetune-epochs must be an integer >= 0, got {finetune_epochs}")
    run = RunDir(run_path).require()
    config, data, prep = load_for_run(run, data_path)
    ranking = Ranking.read(run.file(RANKING))
    if ranking.n_sensors != data.n_sensors:
        raise InputError(
            f"{run.file(RANKING)} ranks {ranking.n_sensors} sensors but the dataset has "
            f"{data.n_sensors}; re-run `dynst fit`"
        )
    selection = choose(ranking, data, sparsity, constraints)
    keep = selection.keep
    fitted_keep = prep.model.gate.keep.cpu().numpy() > 0.5
    epochs = finetune_epochs
    if epochs is None:
        epochs = 0 if np.array_equal(keep, fitted_keep) else config.train.finetune_epochs
    model_name = MODEL
    if epochs > 0:
        finetune(prep, config, keep, epochs, on_epoch)
        model_name = f"{PLANS_DIR}/{keep_tag(sparsity, keep, epochs)}.pt"
        run.save_torch(model_name, {"model": prep.model.state_dict()})
    else:
        prep.model.gate.set_keep(keep, -1)
    test = evaluate_test(prep)
    fit_metrics = run.read_json(METRICS)
    dense, dense_note = dense_test(fit_metrics, run, config, data.sha256)
    selection.notes.append(dense_note)
    challenged_by = challenge_note(fit_metrics)
    if challenged_by:
        selection.notes.append(challenged_by)
    plan = build_plan(
        data,
        ranking,
        selection,
        sparsity=sparsity,
        backbone=config.model.backbone,
        metrics=PlanMetrics(test=Metrics(**headline(test)), dense_test=Metrics(**headline(dense))),
        constraints=constraints,
        # The weights' sha256 ties the plan to this run: `predict` refuses a plan from another run.
        model=ModelRef(
            weights=model_name,
            finetune_epochs=epochs,
            weights_sha256=sha256_file(run.file(model_name)),
        ),
    )
    plan = add_sensor_errors(plan, data, dense_sensor_test(fit_metrics), test["sensor_mae"])
    # the selection frequency is the consensus's over fit seeds if there was one, else the
    # searches' (mask.searches): both records name their seeds and their keep sets' agreement
    return with_consensus(plan, fit_metrics.get("consensus") or fit_metrics.get("searches"))


def prune_one(run, sparsity, output: Path | None, finetune_epochs, constraints, data) -> Plan:
    """The plan at `sparsity`, written to `output` when given; fine-tuning shows progress."""
    with FinetuneProgress(f"prune {sparsity:.2f}") as progress:
        plan = prune_run(
            run,
            sparsity,
            finetune_epochs=finetune_epochs,
            constraints=constraints,
            data_path=data,
            on_epoch=progress.update,
        )
    if output is not None:
        write_plan(plan, output)
    return plan


def plan_filename(sparsity: float) -> str:
    return f"plan-s{sparsity:.2f}.json"


def prune_many(run, sparsities, folder: Path, finetune_epochs, constraints, data):
    """One plan per sparsity in `folder`, plus `curve.csv` and `curve.png` of test error."""
    folder = Path(folder)
    plans = [prune_one(run, s, None, finetune_epochs, constraints, data) for s in sparsities]
    rows = [
        {"sparsity": s, "n_keep": plan.n_keep, **dataclasses.asdict(plan.metrics.test)}
        for s, plan in zip(sparsities, plans, strict=True)
    ]
    dense = dataclasses.asdict(plans[-1].metrics.dense_test)
    with together():  # the plans and the curve replace earlier ones together, or none does
        for sparsity, plan in zip(sparsities, plans, strict=True):
            write_plan(plan, folder / plan_filename(sparsity))
        write_curve(rows, dense, folder / "curve.csv", folder / "curve.png")
    return rows, dense


def dense_test(
    metrics: dict, run: RunDir | None = None, config: FitConfig | None = None, sha256: str = ""
) -> tuple[dict, str]:
    """The dense model's test metrics and a note saying where they come from.

    The fit's dense reference where it has one; else a cached dense reference of the same data
    and configuration beside the run (`dense_cache`); else the dense model at the end of the
    warm-up.
    """
    if metrics.get("dense"):
        source = metrics.get("dense_source") or {}
        where = f" ({source['folder']})" if source.get("folder") else ""
        note = f"dense_test: a dense model trained with the same budget{where}"
        return metrics["dense"]["test"], note
    if run is not None and config is not None:
        key = dense_key(config, sha256)
        found = lookup(cache_root(run.path), key)
        if found is not None:
            folder = found.record()["folder"]
            note = f"dense_test: a dense model trained with the same budget (cache, {folder})"
            return headline(found.metrics["test"]), note
    return metrics["dense_warmup"]["test"], "dense_test: the dense model at the end of the warm-up"


def dense_sensor_test(metrics: dict) -> list | None:
    """The dense model's test MAE per sensor (dataset order), None for a run that lacks it."""
    return (metrics.get("dense_sensor_mae") or {}).get("test")


def add_sensor_errors(plan: Plan, data: SensorData, dense: list | None, reduced: list) -> Plan:
    """`plan` with every sensor's test `mae_dense` and `mae_reduced` (data units).

    `dense` and `reduced` are per-sensor MAEs in the dataset's sensor order (None where a sensor
    has no observed test target). The plan's `most_affected` names the sensors whose forecast
    error rises most in absolute terms, largest first.
    """
    index = {str(sid): i for i, sid in enumerate(data.sensor_ids)}
    sensors = []
    for sensor in plan.sensors:
        i = index[sensor.sensor_id]
        errors = {"mae_reduced": reduced[i]}
        if dense is not None:
            errors["mae_dense"] = dense[i]
        sensors.append(dataclasses.replace(sensor, **errors))
    return plan.replace(sensors=sensors, most_affected=most_affected(sensors))


def most_affected(sensors: list[PlanSensor], count: int = MOST_AFFECTED) -> list[str]:
    """Ids of up to `count` sensors whose test MAE rises most from dense to reduced (> 0 only)."""
    rises = [
        (s.mae_reduced - s.mae_dense, s.rank, s.sensor_id)
        for s in sensors
        if isinstance(s.mae_dense, float) and isinstance(s.mae_reduced, float)
    ]
    rises = sorted((r for r in rises if r[0] > 0), key=lambda r: (-r[0], r[1]))
    return [sensor_id for _, _, sensor_id in rises[:count]]


def choose(ranking, data: SensorData, sparsity: float, constraints) -> Selection:
    """The keep set at `sparsity` (N - round(S*N) sensors) in the run's rank order.

    `ranking` is a `Ranking` or its order (sensor indices, most important first).
    """
    n_keep = check_keeps_some(data.n_sensors, sparsity)
    return siting_for(constraints, data).select(ranking, n_keep)


def keep_tag(sparsity: float, keep: np.ndarray, epochs: int) -> str:
    digest = hashlib.sha256(np.packbits(keep).tobytes() + str(epochs).encode()).hexdigest()
    return f"s{sparsity:.3f}-{digest[:12]}"


def evaluate_test(prep: Prepared) -> dict:
    """Test metrics of the pruned model, with the MAE of every sensor (`sensor_mae`)."""
    split = prep.splits["test"]
    return evaluate(prep.model, prep.source, split.window_starts, prep.scaler, prep.device)


def with_consensus(plan: Plan, consensus: dict | None) -> Plan:
    """The plan with the seed count and mean pairwise Jaccard of a consensus run or of a fit's
    mask searches (if it was either)."""
    if not consensus:
        return plan
    return plan.replace(
        selection_frequency_seeds=len(consensus["seeds"]),
        mean_pairwise_jaccard=float(consensus["mean_pairwise_jaccard"]),
    )


def build_plan(
    data: SensorData,
    ranking: Ranking,
    selection: Selection,
    *,
    sparsity: float,
    backbone: str,
    metrics: PlanMetrics,
    constraints: SitingConstraints | None = None,
    model: ModelRef | None = None,
) -> Plan:
    """The plan of `selection` on `data`: kept sensors first, each group in the ranking's order.

    Each sensor's `score` is the ranking's (DynST: what the sensor is worth by the fit's drop
    criterion), its `reason` the selection's and, for a consensus ranking, its selection
    frequency; the notes are the selection's.
    """
    keep = selection.keep
    ranked = [i for i in ranking.order if keep[i]] + [i for i in ranking.order if not keep[i]]
    sensors = [
        PlanSensor(
            sensor_id=str(data.sensor_ids[i]),
            lat=float(data.lat[i]),
            lon=float(data.lon[i]),
            rank=rank,
            score=float(ranking.scores[i]),
            keep=bool(keep[i]),
            reason=selection.reason[i],
            cost=None if data.cost is None else float(data.cost[i]),
            row=int(data.rows[i]) if data.is_grid else None,
            col=int(data.cols[i]) if data.is_grid else None,
            selection_frequency=_frequency(ranking, i),
        )
        for rank, i in enumerate(ranked, start=1)
    ]
    return Plan(
        format=PLAN_FORMAT,
        sparsity=float(sparsity),
        n_sensors=data.n_sensors,
        n_keep=int(keep.sum()),
        backbone=backbone,
        dataset_sha256=data.sha256,
        variables=list(data.variables),
        units=dict(data.units),
        grid=_grid_record(data),
        constraints=constraints.to_dict() if constraints else {},
        notes=list(selection.notes),
        metrics=metrics,
        model=model,
        sensors=sensors,
    )


def _frequency(ranking: Ranking, i: int) -> float | None:
    frequency = ranking.selection_frequency
    return None if frequency is None else float(frequency[i])


def _grid_record(data: SensorData) -> Grid | None:
    if not data.is_grid:
        return None
    shape = [int(size) for size in data.grid_shape]
    return Grid(shape=shape, dlat=float(data.grid_spacing[0]), dlon=float(data.grid_spacing[1]))
