"""The DynST training loop, read top to bottom.

1. dense warm-up: every sensor feeds the backbone, the L1 term already pulls the gates of
   unhelpful sensors towards zero;
2. cubic ramp: every `update_every` steps the kept sensors with the smallest |m| are dropped until
   N - round(S*N) remain;
3. drop-and-regrow at fixed sparsity: a cosine-annealed fraction of the kept sensors with the
   smallest |m| is swapped for the dropped sensors with the largest accumulated gradient of the
   loss with respect to their gate, until about 75 % of the steps;
4. fine-tune with the mask frozen. The keep set is first settled by elimination with retraining
   (`saliency.settle_keep_set`) when drop-and-regrow kept more sensors than the sparsity asks for
   (`mask.explore_keep`) or when a wider set of candidates is asked for (`mask.settle_share`).
What a sensor is worth when it is dropped or regrown follows `mask.drop_criterion`: its saliency
``|g dL/dg|`` (the default) or its gate magnitude ``|m|``.
Every choice of a keep set goes through `select` (siting constraints). Checkpoints are written every
epoch; in a distributed run the mask decisions are taken on rank 0 and broadcast.

Every model this module trains ends with its best-validation weights (`BestWeights`): the weights
with the lowest validation MAE among the candidates (for the DynST fit, the epochs trained entirely
with the final mask; for a fixed keep set, the starting weights and the end of every epoch). One
rule for the sparse model, the dense reference, prune's fine-tunes and every keep set of `compare`,
so that no comparison favours the model that happened to end on a good epoch.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from itertools import islice

import numpy as np
import torch

from dynst_cli import distributed as dist
from dynst_cli.config import FitConfig, MaskConfig
from dynst_cli.console import log
from dynst_cli.data import SensorData, StandardScaler, WindowSource, chronological_splits
from dynst_cli.data.splits import Split
from dynst_cli.errors import InputError, UsageError
from dynst_cli.evaluate import evaluate
from dynst_cli.mask import (
    Select,
    SparsitySchedule,
    drop_and_regrow,
    dynst_loss,
    exploring_sparsity,
    n_keep_for,
    prune_to,
    regrow_init,
)
from dynst_cli.mask.loss import masked_mae
from dynst_cli.mask.probe import RegrowProbe
from dynst_cli.mask.regrow_signals import regrow_probe
from dynst_cli.model import ForecastModel, backbone_spec, build_model

FINETUNE_EPOCH_OFFSET = 10_000  # shuffling seeds of frozen-mask epochs, apart from the fit's
RANK_RETRAIN_OFFSET = 20_000  # shuffling seeds of the final ranking's retraining, apart again
SETTLE_RETRAIN_OFFSET = 30_000  # and of the retraining that settles the keep set (settle_share)
EXCHANGE_RETRAIN_OFFSET = 40_000  # and of the exchanges' retraining (exchange_trials)
POOL_RETRAIN_OFFSET = 50_000  # and of the retraining that pools the searches (pool_by)


@dataclass
class Prepared:
    """Everything derived from the data and the configuration before training starts."""

    splits: dict[str, Split]
    scaler: StandardScaler
    source: WindowSource
    model: ForecastModel
    device: torch.device


@dataclass
class TrainState:
    """What a checkpoint must hold to continue exactly where training stopped."""

    epoch: int = 0
    step: int = 0
    history: list[dict] = field(default_factory=list)
    dense: dict | None = None  # val/test metrics of the dense model at the end of the warm-up
    best: BestWeights | None = None  # the best-validation epoch with the final mask so far
    signal: np.ndarray | None = None  # smoothed drop-and-regrow saliency (mask.signal_smoothing)
    probe: RegrowProbe | None = None  # the residual or error regrow signal (mask.regrow_signal)
    grown_at: np.ndarray | None = None  # step each sensor was last regrown at, -1 never


class BestWeights:
    """The weights of a model at its lowest validation MAE so far (kept on rank 0).

    `consider` after each candidate epoch, `restore` at the end. Ties keep the earlier weights.
    Only rank 0 evaluates, so only rank 0 holds them: `restore` gives every rank rank 0's model.
    """

    def __init__(self) -> None:
        self.val_mae: float | None = None
        self.epoch: int | None = None
        self.weights: dict | None = None

    def consider(self, model: torch.nn.Module, val_mae: float | None, epoch: int) -> None:
        if val_mae is None or not math.isfinite(val_mae):
            return
        if self.val_mae is None or val_mae < self.val_mae:
            self.val_mae, self.epoch = float(val_mae), epoch
            self.weights = copy.deepcopy(model.state_dict())

    def restore(self, model: torch.nn.Module) -> None:
        if self.weights is not None:
            model.load_state_dict(self.weights)
        dist.broadcast_module(model)  # on every rank: the others go on with rank 0's choice

    def state(self) -> dict:
        return {"val_mae": self.val_mae, "epoch": self.epoch, "weights": self.weights}

    @classmethod
    def from_state(cls, state: dict | None) -> BestWeights:
        best = cls()
        if state:
            best.val_mae, best.epoch = state["val_mae"], state["epoch"]
            best.weights = state["weights"]
        return best


def resolve_device(name: str) -> torch.device:
    if name == "cuda" and not torch.cuda.is_available():
        raise UsageError("--device cuda was asked for, but PyTorch sees no CUDA GPU here")
    return torch.device(name)


def usable_device(fitted_on: str) -> str:
    """The device a run fitted on `fitted_on` is used on here: its own, or the CPU without a GPU.

    A run fitted on a GPU must stay usable on a laptop, so `prune`, `compare` and `predict` fall
    back to the CPU (and say so), where `fit --device cuda`, asked for by the user, fails instead.
    """
    if fitted_on == "cuda" and not torch.cuda.is_available():
        log("the run was fitted on a CUDA GPU, which this machine lacks: using the CPU")
        return "cpu"
    return fitted_on


def prepare(data: SensorData, config: FitConfig, scaler: StandardScaler | None = None) -> Prepared:
    """Splits, scaling (fitted on the training period only), windows and a fresh model."""
    torch.manual_seed(config.train.seed)
    d = config.data
    splits = chronological_splits(data.n_steps, d.t_in, d.t_out, d.train_frac, d.val_frac)
    scaler = scaler or StandardScaler().fit(data.values[: splits["train"].stop])
    source = WindowSource(data.values, scaler, data.time, data.step_seconds(), d.t_in, d.t_out)
    spec = backbone_spec(data, d.t_in, d.t_out, source.steps_per_day)
    device = resolve_device(config.train.device)
    model = build_model(spec, config.model).to(device)
    return Prepared(splits, scaler, source, model, device)


def make_optimizer(model: ForecastModel, config: FitConfig) -> torch.optim.Optimizer:
    # The gate scores get no weight decay: their only regulariser is the L1 term of the loss.
    return torch.optim.AdamW(
        [
            {"params": model.backbone.parameters(), "weight_decay": config.train.weight_decay},
            {
                "params": [model.gate.scores],
                "weight_decay": 0.0,
                "lr": config.train.lr * config.mask.score_lr_scale,
            },
        ],
        lr=config.train.lr,
    )


def steps_per_epoch(n_windows: int, config: FitConfig) -> int:
    per_rank = math.ceil(n_windows / dist.world_size())
    steps = math.ceil(per_rank / config.train.batch_size)
    cap = config.train.max_batches_per_epoch
    return max(1, min(steps, cap) if cap else steps)


def epoch_batches(prep: Prepared, config: FitConfig, epoch: int):
    """This rank's shuffled training batches of one epoch (the same order after a resume)."""
    rng = np.random.default_rng([config.train.seed, epoch])
    starts = rng.permutation(prep.splits["train"].window_starts)
    # Every rank takes the same number of windows (the first few repeat, as in PyTorch's
    # DistributedSampler), so that all ranks run the same number of steps in lockstep.
    world = dist.world_size()
    starts = np.resize(starts, math.ceil(len(starts) / world) * world)
    shard = starts[dist.rank() :: world]
    n = steps_per_epoch(len(prep.splits["train"].window_starts), config)
    return islice(prep.source.batches(shard, config.train.batch_size), n)


def train_step(model, optimizer, batch, gate, l1_lambda: float, probe=None) -> float:
    """One optimiser step; `probe` (a `RegrowProbe`), when given, reads the step's forecast
    to score the sensors that are off."""
    model.train()
    pred = model(batch.x, batch.tod, batch.dow)
    if probe is not None:
        probe.add(batch.x, batch.y, pred, batch.observed, gate.keep < 0.5)
    loss = dynst_loss(pred, batch.y, batch.observed, gate, l1_lambda)
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    optimizer.step()
    return float(loss.detach())


def check_finite_loss(loss: float, batch, source: WindowSource) -> None:
    """Stop training at the first non-finite loss, naming the time span of the batch.

    A NaN or infinite loss would poison every weight it touches; it comes from values too large
    for float32 in the data or from a learning rate that makes training diverge.
    """
    if math.isfinite(loss):
        return
    where = ""
    if batch.starts is not None and len(batch.starts):
        first, last = (str(t)[:19] for t in source.span(batch.starts))
        where = f" on the batch of windows from {first} to {last}"
    raise InputError(
        f"the training loss became {loss}{where}: the data hold values too large to train on "
        "there (check them, or re-ingest), or the learning rate (train.lr) is too high"
    )


def mask_signals(gate, criterion: str) -> tuple[np.ndarray, np.ndarray]:
    """``(drop_score, regrow_score)`` of every sensor under `criterion` (summed over ranks).

    ``saliency``: both are the mean ``|g dL/dg|`` per batch of the update interval (dropped
    sensors at their regrow gate value), one scale for kept and dropped sensors. ``magnitude``:
    ``|m|`` to drop, the accumulated ``|dL/dg|`` to regrow, as in the DynST paper.
    """
    if criterion == "saliency":
        saliency = dist.all_reduce_sum(gate.saliency_accum.clone()).cpu().numpy()
        saliency = saliency.astype(np.float64) / max(int(gate.n_accum), 1)
        return saliency, saliency
    grad = dist.all_reduce_sum(gate.grad_accum.clone()).cpu().numpy()
    return gate.scores.detach().cpu().numpy(), grad


def smoothed(signal: np.ndarray, previous: np.ndarray | None, beta: float) -> np.ndarray:
    """``beta * previous + (1 - beta) * signal``; `signal` itself at the first update."""
    if previous is None or beta <= 0:
        return signal
    return beta * previous + (1.0 - beta) * signal


def update_mask(
    gate, schedule: SparsitySchedule, step: int, select: Select, mask, state: TrainState
) -> tuple[int, int]:
    """Apply the schedule's decision at `step`; returns (sensors dropped, sensors regrown).

    `mask` is the `MaskConfig`; with the saliency criterion the signal is smoothed over update
    intervals (`mask.signal_smoothing`) and kept in `state.signal` (checkpointed).
    """
    keep = gate.keep.detach().cpu().numpy() > 0.5
    drop_score, regrow_score = mask_signals(gate, mask.drop_criterion)
    if mask.drop_criterion == "saliency":
        drop_score = regrow_score = smoothed(drop_score, state.signal, mask.signal_smoothing)
        state.signal = drop_score
    if state.probe is not None:
        if state.probe.count:  # read during the regrow phase only
            regrow_score = state.probe.scores()
        state.probe.reset()
    n = keep.size
    if state.grown_at is None:
        state.grown_at = np.full(n, -1, dtype=np.int64)
    drop_score = protect_regrown(drop_score, state.grown_at, step, mask)
    # The update after step t sets the mask of step t+1, so the ramp reaches the target exactly.
    new = prune_to(keep, drop_score, n - schedule.n_off_after(step, n), select)
    regrown = 0
    if schedule.phase(step) == "regrow":
        fraction = schedule.regrow_fraction(step)
        new, _, regrown = drop_and_regrow(new, drop_score, regrow_score, fraction, select)
    new = switch_gate(gate, keep, new, step)
    state.grown_at[new & ~keep] = step
    return int((keep & ~new).sum()), int(regrown)


def switch_gate(gate, keep: np.ndarray, new: np.ndarray, step: int) -> np.ndarray:
    """Move the gate from `keep` to rank 0's `new` keep vector at `step`; returns it.

    A sensor switched on restarts at the kept sensors' mean ``|m|`` (`regrow_init`): its old
    ``|m|`` was low enough to get it dropped. The regrow signal starts afresh.
    """
    new_t = torch.from_numpy(new.astype(np.float32)).to(gate.keep.device)
    new = dist.broadcast_from_main(new_t).cpu().numpy() > 0.5
    scores = gate.scores.detach().cpu().numpy()
    with torch.no_grad():
        gate.scores.copy_(torch.from_numpy(regrow_init(scores, keep, new)).to(gate.scores))
    gate.set_keep(new, step)
    gate.reset_grad_accum()
    return new


def protect_regrown(drop_score: np.ndarray, grown_at: np.ndarray, step: int, mask) -> np.ndarray:
    """`drop_score` with the sensors regrown in the last `mask.regrow_grace` updates kept first.

    A sensor just regrown is read by a model that has not yet learned to use it, so its drop
    signal is low and the next update would drop it again before it could show its worth; for
    `regrow_grace` updates it is not a candidate to drop (its score counts as infinite).
    """
    if mask.regrow_grace <= 0:
        return drop_score
    recent = (grown_at >= 0) & (grown_at >= step - mask.regrow_grace * mask.update_every)
    if not recent.any():
        return drop_score
    protected = np.array(drop_score, dtype=np.float64, copy=True)
    protected[recent] = np.inf
    return protected


def evaluate_splits(prep: Prepared, names=("val", "test")) -> dict:
    return {
        name: evaluate(
            prep.model, prep.source, prep.splits[name].window_starts, prep.scaler, prep.device
        )
        for name in names
        if prep.splits[name].window_starts.size
    }


def evaluate_on_main(prep: Prepared, names=("val", "test")) -> dict:
    """`evaluate_splits` on rank 0 (every rank holds the same model); {} on the other ranks."""
    return evaluate_splits(prep, names) if dist.is_main() else {}


def regrow_sparsity(mask: MaskConfig, n_sensors: int) -> float:
    """The sparsity drop-and-regrow works at.

    `mask.explore_keep` widens it only under the saliency criterion, the one whose elimination
    (`saliency.settle_keep_set`) narrows the set back to the asked count when drop-and-regrow ends;
    under ``magnitude`` it is the asked sparsity.
    """
    if mask.drop_criterion != "saliency":
        return mask.sparsity
    return exploring_sparsity(n_sensors, mask.sparsity, mask.explore_keep)


def run_epochs(
    prep: Prepared,
    config: FitConfig,
    state: TrainState,
    select: Select,
    optimizer: torch.optim.Optimizer,
    on_epoch: Callable[[TrainState], None],
    ddp_model=None,
    settle: Callable[[], np.ndarray] | None = None,
) -> TrainState:
    """The DynST schedule from `state` to the last epoch; `on_epoch` checkpoints and reports.

    `settle()`, when given, re-decides the keep set once, at the end of the epoch in which
    drop-and-regrow ends (`saliency.settle_keep_set`): if frozen-mask epochs follow, or in any
    case when drop-and-regrow kept more sensors than the sparsity asks for (`mask.explore_keep`).
    """
    model, gate = prep.model, prep.model.gate
    forward_model = ddp_model or model
    total = config.train.epochs * steps_per_epoch(len(prep.splits["train"].window_starts), config)
    n_keep = n_keep_for(gate.n_sensors, config.mask.sparsity)
    schedule = SparsitySchedule.from_config(
        config.mask, total, regrow_sparsity(config.mask, gate.n_sensors)
    )
    state.best = state.best or BestWeights()
    gate.dropout, gate.dropout_seed = config.mask.sensor_dropout, config.train.seed
    if state.probe is None:
        state.probe = regrow_probe(config.mask.regrow_signal, gate.n_sensors, prep.device)
    for epoch in range(state.epoch, config.train.epochs):
        losses, dropped, regrown = [], 0, 0
        mask_final = config.mask.sparsity == 0.0 or state.step >= schedule.update_end
        for batch in epoch_batches(prep, config, epoch):
            phase = schedule.phase(state.step)
            if phase != "warmup" and state.dense is None:
                state.dense = evaluate_on_main(prep)
            # Tracked from the first step, so that the first ramp update weighs the whole warm-up.
            gate.tracking = phase != "finetune"
            gate.dropout_step = state.step
            gate.scores.requires_grad_(phase != "finetune")  # the mask is frozen at the end
            if phase == "finetune" and forward_model is ddp_model is not None:
                # DDP waits for a gradient of every parameter it was built with: build it again
                # without the frozen scores (every rank reaches this step together).
                forward_model = dist.wrap_ddp(model, prep.device)
            probe = state.probe if phase == "regrow" else None
            losses.append(
                train_step(
                    forward_model,
                    optimizer,
                    batch.to(prep.device),
                    gate,
                    config.mask.l1_lambda,
                    probe,
                )
            )
            check_finite_loss(losses[-1], batch, prep.source)
            if schedule.is_update_step(state.step):
                d, r = update_mask(gate, schedule, state.step, select, config.mask, state)
                dropped, regrown = dropped + d, regrown + r
            state.step += 1
        switched_off = switched_on = 0
        updates_ended = not mask_final and state.step >= schedule.update_end
        narrows = int(gate.keep.sum()) > n_keep
        if settle and updates_ended and (epoch + 1 < config.train.epochs or narrows):
            switched_off, switched_on = apply_settled(gate, settle, state.step - 1)
        state.epoch = epoch + 1
        val_mae = validation_mae(prep)
        # A keep set narrowed at the end of the last epoch has no frozen-mask epoch to consider.
        if mask_final or (narrows and state.epoch == config.train.epochs):
            state.best.consider(model, val_mae, state.epoch)
        state.history.append(
            {
                "epoch": state.epoch,
                "step": state.step,
                "phase": schedule.phase(state.step - 1),
                "loss": float(np.mean(losses)) if losses else float("nan"),
                "sparsity": float(1 - gate.keep.mean()),
                "n_keep": int(gate.keep.sum()),
                "dropped": dropped + switched_off,
                "regrown": regrown + switched_on,
                "val_mae": val_mae,
            }
        )
        on_epoch(state)
    gate.tracking, gate.dropout = False, 0.0
    if state.dense is None:  # the warm-up covered every step (e.g. sparsity 0)
        state.dense = evaluate_on_main(prep)
    state.best.restore(model)
    return state


def apply_settled(gate, settle: Callable[[], np.ndarray], step: int) -> tuple[int, int]:
    """Switch the gate to the keep set `settle()` decides (rank 0's); returns how many sensors
    were switched off and on.

    A sensor switched on restarts as a regrown one does (`switch_gate`).
    """
    keep = gate.keep.detach().cpu().numpy() > 0.5
    dropout, gate.dropout = gate.dropout, 0.0  # every candidate is judged with all its inputs
    try:
        new = settle()
    finally:
        gate.dropout = dropout
    new = switch_gate(gate, keep, new, step)
    return int((keep & ~new).sum()), int((new & ~keep).sum())


def validation_mae(prep: Prepared) -> float | None:
    """Validation MAE of the model as it is (rank 0; None elsewhere or without a val split)."""
    return evaluate_on_main(prep, ("val",)).get("val", {}).get("mae")


def finetune(
    prep: Prepared,
    config: FitConfig,
    keep: np.ndarray,
    epochs: int,
    on_epoch: Callable[[int, int], None] | None = None,
) -> BestWeights:
    """Train the backbone for `epochs` with the mask frozen at `keep` (a prune at another S).

    `on_epoch(done, epochs)` is called after each epoch (progress display). The model ends with
    its best-validation weights among the starting ones and the end of every epoch; what was
    chosen is returned.
    """
    gate = prep.model.gate
    gate.set_keep(keep, -1)
    gate.scores.requires_grad_(False)
    gate.tracking = False
    optimizer = make_optimizer(prep.model, config)
    model = dist.wrap_ddp(prep.model, prep.device) or prep.model  # in a distributed fit
    best = BestWeights()
    best.consider(prep.model, validation_mae(prep), 0)
    for epoch in range(epochs):
        # Seeded apart from the fit's epochs so that fine-tuning does not replay their order.
        for batch in epoch_batches(prep, config, FINETUNE_EPOCH_OFFSET + epoch):
            loss = train_step(model, optimizer, batch.to(prep.device), gate, 0.0)
            check_finite_loss(loss, batch, prep.source)
        best.consider(prep.model, validation_mae(prep), epoch + 1)
        if on_epoch:
            on_epoch(epoch + 1, epochs)
    best.restore(prep.model)
    return best


def retrain_on(
    prep: Prepared,
    config: FitConfig,
    keep: np.ndarray,
    round_: int,
    stream: int = RANK_RETRAIN_OFFSET,
    share: float = 1.0,
) -> None:
    """Train the backbone for `mask.rank_retrain_epochs` (times `share`, at least one step) with
    the mask frozen at `keep`.

    One step of an elimination (`saliency.saliency_ranking`, `saliency.settle_keep_set`): the
    model learns to do without the sensors just switched off before the next pass measures it.
    An addition pass smaller than a full one asks for a `share` of the retraining.
    The windows are drawn from the whole training period with a generator seeded by (seed,
    `stream`, `round_`), not sharded, so every rank of a distributed fit trains the same steps
    and keeps the same weights; the gate's scores are not trained. Only the sensors on are read
    (`ForecastModel.forward_kept`), so a step costs less the fewer are left. The caller restores
    the weights it wants to keep.
    """
    n_windows = len(prep.splits["train"].window_starts)
    epoch_steps = max(1, math.ceil(n_windows / config.train.batch_size))
    steps = math.ceil(config.mask.rank_retrain_epochs * epoch_steps * share)
    if steps <= 0:
        return
    gate = prep.model.gate
    gate.set_keep(keep, -1)
    trains_scores = gate.scores.requires_grad
    gate.scores.requires_grad_(False)
    optimizer = make_optimizer(prep.model, config)
    rng = np.random.default_rng([config.train.seed, stream, round_])
    starts = rng.choice(prep.splits["train"].window_starts, steps * config.train.batch_size)
    kept = torch.as_tensor(np.flatnonzero(keep), device=prep.device)
    prep.model.train()
    try:
        for batch in prep.source.batches(starts, config.train.batch_size):
            batch = batch.to(prep.device)
            pred = prep.model.forward_kept(batch.x[:, :, kept], kept, batch.tod, batch.dow)
            loss = masked_mae(pred, batch.y, batch.observed)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            check_finite_loss(float(loss.detach()), batch, prep.source)
    finally:
        gate.scores.requires_grad_(trains_scores)


def train_fixed(data: SensorData, config: FitConfig, keep: np.ndarray) -> Prepared:
    """Train a fresh backbone for all epochs on the fixed keep set `keep` (no mask learning).

    This is how a rival keep set (random, variance, QR) and the DynST keep set are put on equal
    footing in `compare`: same backbone, epochs, data and seed; only the sensors differ.
    """
    prep = prepare(data, config)
    finetune(prep, config, keep, config.train.epochs)
    return prep
