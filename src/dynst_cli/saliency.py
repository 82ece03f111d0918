"""Rank sensors by saliency on a set of windows, one elimination (or addition) pass at a time.

The saliency ``|g dL/dg|`` of a sensor is the first-order rise of the loss if its gate went to
zero, given every other sensor that is on. Ranked once, two sensors that stand in for each other
both look cheap (each is covered by the other) and a plan at a higher sparsity would drop both.
So the fit's final kept set is ranked by iterative elimination: measure, switch off the least
salient share (`mask.rank_pass_fraction`, a third by default) of the sensors still on, measure
again, until one is left; the sensors that survive longest rank first. The dropped sensors are
ranked the other way round, by iterative addition to the kept set: the most salient share (at the
gate value they would be regrown with) first. The gate's keep vector moves between passes and is
restored at the end. A sensor's score is its saliency in the pass that decided it. Which windows
are read is the caller's choice (`fit.ranking_windows`), and so is whether the model is retrained
on the sensors still on after each elimination pass (`retrain`, `train.retrain_on`: the fit does,
so that each pass measures a model that has adapted to the sensors already switched off); the
weights are restored before the dropped sensors are ranked and again at the end.
"""

from __future__ import annotations

import contextlib
import copy
import math
from collections.abc import Callable

import numpy as np
import torch

from dynst_cli.mask import morph_graph, regrow_init
from dynst_cli.mask.gate import window_magnitudes
from dynst_cli.mask.loss import masked_mae
from dynst_cli.train import Prepared

OCCLUSION_CHUNK = 16  # copies of a batch per forward pass of `measure_on_occlusion`


@contextlib.contextmanager
def _gradients_for_the_gate_only(model):
    """Evaluation mode, gradients for the gate's scores and none for the backbone's weights.

    The gradients are taken only to read the gate's saliency, so the weights are left out of the
    backward pass (their gradients would be thrown away). Restored on exit.
    """
    weights = list(model.backbone.parameters())
    needed = [w.requires_grad for w in weights]
    was_frozen = not model.gate.scores.requires_grad
    model.eval()
    model.gate.scores.requires_grad_(True)
    for w in weights:
        w.requires_grad_(False)
    try:
        yield
    finally:
        model.gate.scores.requires_grad_(not was_frozen)
        for w, need in zip(weights, needed, strict=True):
            w.requires_grad_(need)


def measure_saliency(prep: Prepared, starts: np.ndarray, batch_size: int) -> np.ndarray:
    """Mean saliency ``|g dL/dg|`` of every sensor over the windows `starts`, shape (N,).

    Read from the gate's hook, so dropped sensors are measured too, at the gate value they
    would be regrown with.
    """
    model, gate = prep.model, prep.model.gate
    gate.reset_grad_accum()
    with _gradients_for_the_gate_only(model):
        gate.tracking = True
        try:
            for batch in prep.source.batches(starts, batch_size):
                batch = batch.to(prep.device)
                pred = model(batch.x, batch.tod, batch.dow)
                masked_mae(pred, batch.y, batch.observed).backward()
                gate.scores.grad = None
        finally:
            gate.tracking = False
    saliency = gate.saliency_accum.cpu().numpy() / max(int(gate.n_accum), 1)
    gate.reset_grad_accum()
    return saliency.astype(np.float64)


def measure_on_saliency(
    prep: Prepared, starts: np.ndarray, batch_size: int, on: np.ndarray
) -> np.ndarray:
    """Mean saliency of the sensors that are on (bool `on`, shape (N,)), 0 for the others.

    Only the sensors that are on are read (`ForecastModel.forward_kept`), so a pass costs less
    the fewer are left. For a sensor that is on ``g = m``, so ``|g dL/dg| = |m dL/dm|``, taken
    batch by batch as the gate's hook does; the same figure as `measure_saliency` gives them.
    """
    gate = prep.model.gate
    kept = torch.as_tensor(np.flatnonzero(on), device=prep.device)
    total, n_batches = torch.zeros(kept.numel(), device=prep.device), 0
    for product in _kept_products(prep, starts, batch_size, kept):
        total += window_magnitudes(product) if gate.per_window else product.sum(dim=(0, 2)).abs()
        n_batches += 1
    saliency = np.zeros(on.size)
    total *= gate.availability[kept]
    saliency[on] = total.cpu().numpy() / max(n_batches, 1)
    return saliency


def _kept_products(prep: Prepared, starts: np.ndarray, batch_size: int, kept: torch.Tensor):
    """Per batch of the windows `starts`, ``departure * dL/d(gated input)`` of the sensors `kept`
    alone, shape (B, K, F): summed over a window's features, the first-order change of the loss
    if a sensor's gate went to zero (`_departure`)."""
    model = prep.model
    with _gradients_for_the_gate_only(model):
        for batch in prep.source.batches(starts, batch_size):
            batch = batch.to(prep.device)
            gated = model.gate_kept(batch.x[:, :, kept], kept)
            pred = model.forecast_gated(gated, kept, batch.tod, batch.dow)
            loss = masked_mae(pred, batch.y, batch.observed)
            (grad,) = torch.autograd.grad(loss, gated)
            yield _departure(model.gate, gated, kept) * grad


def _departure(gate, gated: torch.Tensor, kept: torch.Tensor) -> torch.Tensor:
    """The gated input of the sensors `kept` less their gated baseline ``g * center``."""
    gates = gate.gates().detach()[kept][None, :, None]
    return gated.detach() - gates * gate.center[kept][None]


@torch.no_grad()
def mean_inputs(prep: Prepared, starts: np.ndarray, batch_size: int) -> torch.Tensor:
    """Every sensor's mean morphed input over the windows `starts`, shape (N, F).

    The baseline of `mask.saliency_baseline: mean`: a fresh model learns each sensor's level from
    its embedding, so what a sensor's input is worth is what it says beyond its usual value. A
    sensor read against zero looks salient for its level alone.
    """
    total, count = None, 0
    for batch in prep.source.batches(starts, batch_size):
        features = morph_graph(batch.x.to(prep.device)).double()
        total = features.sum(dim=0) if total is None else total + features.sum(dim=0)
        count += features.shape[0]
    return (total / max(count, 1)).float()


def measure_on_joint(
    prep: Prepared, starts: np.ndarray, batch_size: int, on: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Saliency of the sensors on (as `measure_on_saliency`) and their joint cost matrix.

    Returns the saliency, shape (N,), 0 for the sensors off, and ``Q``, shape (K, K) over the
    K sensors on in index order: ``Q[i, j]`` is the mean over windows of ``s_wi * s_wj``, where
    ``s_wi = g_i dL_w/dg_i`` is the first-order change of window w's loss if sensor i's gate
    went to zero (signed, one window at a time). ``1_R' Q 1_R / 2`` estimates what switching
    off a set R costs together (the empirical Fisher standing in for the Hessian, as in Optimal
    Brain Surgeon): two sensors that stand in for each other change the same windows' losses the
    same way, so ``Q[i, j]`` is large and the pair costs more than each does alone.
    """
    availability = prep.model.gate.availability
    kept = torch.as_tensor(np.flatnonzero(on), device=prep.device)
    total = torch.zeros(kept.numel(), device=prep.device, dtype=torch.float64)
    joint = torch.zeros(kept.numel(), kept.numel(), device=prep.device, dtype=torch.float64)
    n_batches = n_windows = 0
    for product in _kept_products(prep, starts, batch_size, kept):
        # (B, K): the batch's ``g dL/dg`` split by window (the loss is a mean over windows)
        per_window = product.sum(dim=-1).double() * product.shape[0]
        per_window *= availability[kept].double()
        total += (per_window.sum(dim=0) / product.shape[0]).abs()
        joint += per_window.T @ per_window
        n_batches += 1
        n_windows += product.shape[0]
    saliency = np.zeros(on.size)
    saliency[on] = total.cpu().numpy() / max(n_batches, 1)
    return saliency, joint.cpu().numpy() / max(n_windows, 1)


@torch.no_grad()
def measure_on_occlusion(
    prep: Prepared, starts: np.ndarray, batch_size: int, on: np.ndarray
) -> np.ndarray:
    """Rise of the loss on the windows `starts` when each sensor on alone is switched off, shape
    (N,), 0 for the sensors off.

    Measured, not estimated: the first-order saliency of a trained gate sits where the loss is
    flat in the gate, and the masked MAE is not smooth, so the loss a sensor saves can differ
    from its first-order estimate. Each sensor's input is zeroed in its own copy of every batch
    (exactly what switching it off does, `SensorGate`), `OCCLUSION_CHUNK` copies per forward
    pass; the cost is that of one forward pass per sensor on.
    """
    model = prep.model
    model.eval()
    kept = torch.as_tensor(np.flatnonzero(on), device=prep.device)
    rise = torch.zeros(kept.numel(), dtype=torch.float64, device=prep.device)
    n_batches = 0
    for batch in prep.source.batches(starts, batch_size):
        batch = batch.to(prep.device)
        gated = model.gate_kept(batch.x[:, :, kept], kept)
        pred = model.forecast_gated(gated, kept, batch.tod, batch.dow)
        base = masked_mae(pred, batch.y, batch.observed)
        for first in range(0, kept.numel(), OCCLUSION_CHUNK):
            last = min(first + OCCLUSION_CHUNK, kept.numel())
            rise[first:last] += _losses_without(model, gated, kept, batch, first, last) - base
        n_batches += 1
    out = np.zeros(on.size)
    out[on] = rise.cpu().numpy() / max(n_batches, 1)
    return out


def _losses_without(model, gated, kept, batch, first: int, last: int) -> torch.Tensor:
    """The batch's loss with the sensor at each position first..last-1 of `kept` zeroed, one
    copy of the batch per position in one forward pass, shape (last - first,), float64."""
    b, reps = gated.shape[0], last - first
    copies = gated.repeat(reps, 1, 1)
    for r in range(reps):
        copies[r * b : (r + 1) * b, first + r] = 0.0
    pred = model.forecast_gated(copies, kept, batch.tod.repeat(reps), batch.dow.repeat(reps))
    losses = [masked_mae(part, batch.y, batch.observed) for part in pred.split(b)]
    return torch.stack(losses).double()


def cheapest_together(joint: np.ndarray, size: int) -> np.ndarray:
    """Positions of the `size` sensors whose removal together costs least, cheapest first.

    Greedy on the quadratic cost ``1_R' Q 1_R / 2`` of `measure_on_joint`: each step takes the
    sensor with the smallest marginal cost ``Q[j, j] / 2 + sum_{i in R} Q[i, j]`` given those
    already taken, so a sensor whose stand-in is already gone becomes dear. Ties go to the
    higher position, as in the single-sensor passes.
    """
    n = joint.shape[0]
    marginal = 0.5 * np.diag(joint).copy()
    free = np.ones(n, dtype=bool)
    chosen = []
    for _ in range(min(size, n)):
        cost = np.where(free, marginal, np.inf)
        j = int(np.flatnonzero(cost == cost.min())[-1])
        chosen.append(j)
        free[j] = False
        marginal += joint[:, j]
    return np.array(chosen, dtype=np.int64)


def saliency_ranking(
    prep: Prepared,
    starts: np.ndarray,
    batch_size: int,
    pass_fraction: float = 1 / 3,
    kept_by: str = "backward",
    retrain: Callable[[np.ndarray, int], None] | None = None,
    dropped_by: str = "addition",
) -> tuple[np.ndarray, np.ndarray]:
    """Order of every sensor (most important first) and its deciding saliency, shape (N,) each.

    Kept sensors (by the gate's keep vector) come first, by iterative elimination; then the
    dropped ones, by iterative addition. Each pass settles `pass_fraction` of the undecided
    sensors (at least one): about ``ln(N) / -ln(1 - pass_fraction)`` passes on each side, each
    a forward and backward pass over the windows `starts`. ``kept_by="joint"`` or
    ``"occlusion"`` changes what an elimination pass measures (`_eliminate`);
    ``kept_by="forward"`` ranks the kept sensors by forward selection from none instead
    (`_select_forward`).

    `retrain(on, round)`, when given, trains the model on the sensors `on` after each
    elimination pass; the weights it changes are put back before the dropped sensors are ranked.
    ``dropped_by="elimination"`` (with `retrain`) ranks the dropped sensors by elimination too
    (`_eliminate_dropped`); ``"retrained_addition"`` retrains between the addition passes
    (`_add`).
    """
    keep = prep.model.gate.keep.detach().cpu().numpy() > 0.5
    weights = copy.deepcopy(prep.model.state_dict()) if retrain else None
    worth = np.zeros(keep.size)
    with _gate_restored(prep.model.gate):
        try:
            passes = (prep, starts, batch_size, pass_fraction)
            if kept_by == "forward":
                kept_order = _select_forward(*passes, keep, worth)
            else:
                measure = elimination_measure(kept_by)
                kept_order = _eliminate(*passes, keep, worth, retrain, measure=measure)
            if weights is not None:
                prep.model.load_state_dict(weights)
            if dropped_by == "elimination" and retrain is not None:
                dropped_order = _eliminate_dropped(*passes, keep, worth, retrain)
            else:
                refit = retrain if dropped_by == "retrained_addition" else None
                dropped_order = _add(*passes, keep, worth, refit)
        finally:
            if weights is not None:
                prep.model.load_state_dict(weights)
    return np.concatenate([kept_order, dropped_order]), worth


@contextlib.contextmanager
def _gate_restored(gate):
    """The gate's keep vector, scores and ``dropped_at`` as they were on entry, again on exit.

    The passes switch sensors on and off (and a candidate reads its input at the regrow gate
    value); none of that is a decision of the fit's, so none of it may stay.
    """
    keep = gate.keep.detach().cpu().numpy() > 0.5
    scores, dropped_at = gate.scores.detach().clone(), gate.dropped_at.clone()
    try:
        yield
    finally:
        with torch.no_grad():
            gate.scores.copy_(scores)
        gate.set_keep(keep, -1)
        gate.dropped_at.copy_(dropped_at)


def elimination_measure(kept_by: str) -> str:
    """What an elimination pass measures under `mask.rank_kept_by` (`_eliminate`'s `measure`):
    ``joint`` and ``occlusion`` as named, first-order ``saliency`` otherwise (``forward`` ranks
    by selection, and the eliminations it still meets measure as ``backward`` does)."""
    return kept_by if kept_by in ("joint", "occlusion") else "saliency"


def _pass_size(n_undecided: int, fraction: float) -> int:
    return max(1, math.floor(fraction * n_undecided))


def _eliminate(
    prep,
    starts,
    batch_size,
    fraction,
    keep: np.ndarray,
    worth,
    retrain=None,
    down_to: int = 0,
    measure: str = "saliency",
    pinned: np.ndarray | None = None,
) -> np.ndarray:
    """Kept sensors, the last to be eliminated first; `retrain(on, round)` after each pass.

    Stops when `down_to` sensors are left (they are not in the result, and no pass takes more
    than the sensors above that count). Each pass takes the sensors that cost least by
    `measure`: ``saliency`` (first-order), ``occlusion`` (`measure_on_occlusion`) or ``joint``
    (the ones that cost least together, `cheapest_together`). Sensors `pinned` stay on and
    are neither candidates nor in the result.
    """
    on, eliminated = keep.copy(), []
    free = ~pinned if pinned is not None else np.ones_like(keep)
    while (on & free).sum() > down_to:
        if retrain is not None and eliminated:
            retrain(on.copy(), len(eliminated))
        candidates = np.flatnonzero(on & free)
        size = min(_pass_size(candidates.size, fraction), candidates.size - down_to)
        if measure == "joint":  # the cost matrix spans every sensor on: nothing pinned
            saliency, joint = measure_on_joint(prep, starts, batch_size, on)
            chosen = candidates[cheapest_together(joint, size)]
        else:
            measured = measure_on_occlusion if measure == "occlusion" else measure_on_saliency
            saliency = measured(prep, starts, batch_size, on)
            # Least salient first; ties by index, the higher index goes first.
            weakest = candidates[np.lexsort((-candidates, saliency[candidates]))]
            chosen = weakest[:size]
        worth[chosen] = saliency[chosen]
        eliminated.extend(chosen.tolist())
        on[chosen] = False
    return np.array(eliminated[::-1], dtype=np.int64)


def _eliminate_dropped(prep, starts, batch_size, fraction, keep: np.ndarray, worth, retrain):
    """Dropped sensors, the last to be eliminated first, with the kept ones pinned on.

    A model that has never read a sensor cannot say what it is worth: measured at its regrow
    gate value, a dropped sensor's saliency goes through weights that were trained without it.
    So every sensor is switched on (the dropped ones at their regrow gate value), the model is
    trained to read them (`retrain`), and the dropped ones are eliminated as the kept ones are,
    retraining between passes. The retraining draws its windows from rounds after those of the
    kept sensors' elimination.
    """
    everyone = np.ones_like(keep)
    scores_at_regrow_value(prep.model.gate, keep, everyone)
    offset = keep.size  # more than the rounds of the kept sensors' elimination

    def shifted(on: np.ndarray, round_: int) -> None:
        retrain(on, offset + round_)

    shifted(everyone.copy(), 0)
    return _eliminate(prep, starts, batch_size, fraction, everyone, worth, shifted, pinned=keep)


def scores_at_regrow_value(gate, keep: np.ndarray, on: np.ndarray) -> None:
    """Give the sensors in `on` but not in `keep` the gate score a regrown sensor starts with
    (`regrow_init`), so that they read their input at the regrow gate value once switched on."""
    scores = gate.scores.detach().cpu().numpy()
    with torch.no_grad():
        gate.scores.copy_(torch.from_numpy(regrow_init(scores, keep, on)))


def settle_keep_set(
    prep: Prepared,
    starts: np.ndarray,
    batch_size: int,
    share: float,
    pass_fraction: float,
    select: Callable[[np.ndarray, int], np.ndarray],
    retrain: Callable[[np.ndarray, int], None] | None = None,
    n_target: int | None = None,
    kept_by: str = "backward",
) -> np.ndarray:
    """The keep set re-decided by elimination from a wider set of candidates, shape (N,) bool.

    Drop-and-regrow judges a dropped sensor by its saliency on a model that has never read it.
    Here the candidates are the kept sensors plus the ``round(share * n_kept)`` dropped ones that
    are most salient at their regrow gate value (chosen through `select`, so an excluded sensor
    never is one), narrowed by `narrow_keep_set` to `n_target` (default: as many as were kept;
    `mask.explore_keep` asks for fewer).
    """
    gate = prep.model.gate
    keep = gate.keep.detach().cpu().numpy() > 0.5
    n, n_kept = keep.size, int(keep.sum())
    n_target = n_kept if n_target is None else min(n_target, n_kept)
    n_extra = min(round(share * n_kept), n - n_kept)
    if n_kept == 0 or (n_extra <= 0 and n_target == n_kept):
        return keep
    idx = np.arange(n)
    candidates, priority = keep.copy(), np.lexsort((idx, ~keep))
    if n_extra > 0:
        saliency = measure_saliency(prep, starts, batch_size)  # dropped: at regrow value
        priority = np.lexsort((idx, -saliency, ~keep))  # kept first, most salient first
        candidates = select(priority, n_kept + n_extra) | keep
    return narrow_keep_set(
        prep, starts, batch_size, candidates, priority, pass_fraction, select, retrain, n_target,
        kept_by,
    )  # fmt: skip


def narrow_keep_set(
    prep: Prepared,
    starts: np.ndarray,
    batch_size: int,
    candidates: np.ndarray,
    priority: np.ndarray,
    pass_fraction: float,
    select: Callable[[np.ndarray, int], np.ndarray],
    retrain: Callable[[np.ndarray, int], None] | None,
    n_target: int,
    kept_by: str = "backward",
    pinned: np.ndarray | None = None,
) -> np.ndarray:
    """The `n_target` of `candidates` (N,) bool that elimination keeps last, shape (N,) bool.

    The candidates are switched on (those the gate has off at the regrow gate value); unless
    the gate already had exactly them on, the model is trained with all of them on
    (`retrain(on, round)`). They are then eliminated from as the final ranking eliminates
    (`_eliminate`, retraining between passes, each pass measuring as `kept_by`, the fit's
    `mask.rank_kept_by`, says: `elimination_measure`) until `n_target` are left. `priority`
    (N,) int orders the sensors that are not candidates after the eliminated ones, for `select`
    to fall back on. Candidates that are also `pinned` (N,) bool stay on and are kept; only
    the others are eliminated from. The weights stay as the retraining left them: they were
    trained on sets that end at the one returned. The gate's keep vector, scores and
    ``dropped_at`` are left as they were; the caller applies the result, which goes through
    `select`.
    """
    gate = prep.model.gate
    keep = gate.keep.detach().cpu().numpy() > 0.5
    idx = np.arange(keep.size)
    with _gate_restored(gate):
        if (candidates & ~keep).any():
            scores_at_regrow_value(gate, keep, candidates)
        # Switched on here, not only by the retraining: without it (`rank_retrain_epochs: 0`)
        # the first pass would read the new candidates through a closed gate.
        gate.set_keep(candidates, -1)
        if retrain is not None and not np.array_equal(candidates, keep):
            retrain(candidates.copy(), 0)
        worth = np.zeros(keep.size)
        measure = elimination_measure(kept_by)
        fixed = candidates & pinned if pinned is not None else None
        down_to = n_target - (int(fixed.sum()) if fixed is not None else 0)
        eliminated = _eliminate(
            prep, starts, batch_size, pass_fraction, candidates, worth, retrain, down_to,
            measure, fixed,
        )  # fmt: skip
        survivors = np.flatnonzero(candidates & ~np.isin(idx, eliminated))
        others = priority[~candidates[priority]]
        return select(np.concatenate([survivors, eliminated, others]), n_target)


def _select_forward(prep, starts, batch_size, fraction, keep: np.ndarray, worth) -> np.ndarray:
    """Kept sensors in the order forward selection from none adds them.

    Each pass adds the most salient of the kept sensors still off (at the gate value they would
    be switched on with), `fraction` of the number already on and at least one: one at a time
    at the top of the ranking, where a plan at high sparsity reads it. A group of sensors that
    stand in for each other is covered by its first member before the others, whereas a
    backward pass that sees the whole group on may eliminate all of it at once.
    """
    on, added = np.zeros_like(keep), []
    level = np.abs(prep.model.gate.scores.detach().cpu().numpy()[keep]).mean()
    while (keep & ~on).any():
        prep.model.gate.set_keep(on, -1)
        saliency = _with_level(measure_saliency(prep, starts, batch_size), prep, level)
        candidates = np.flatnonzero(keep & ~on)
        strongest = candidates[np.lexsort((candidates, -saliency[candidates]))]
        chosen = strongest[: max(1, math.floor(fraction * on.sum()))]
        worth[chosen] = saliency[chosen]
        added.extend(chosen.tolist())
        on[chosen] = True
    return np.array(added, dtype=np.int64)


def _with_level(saliency: np.ndarray, prep: Prepared, level: float) -> np.ndarray:
    """Saliency of the sensors that are off, measured at the gate value `level`.

    With no sensor on, the gate has no kept scores to average for the regrow value and uses 1;
    scaled here to the fit's own level so that scores of different passes compare.
    """
    gate_level = prep.model.gate.candidate_gates().cpu().numpy()
    off = prep.model.gate.keep.cpu().numpy() < 0.5
    out = saliency.copy()
    out[off] *= level / np.maximum(gate_level[off], 1e-12)
    return out


def _add(prep, starts, batch_size, fraction, keep: np.ndarray, worth, retrain=None) -> np.ndarray:
    """Dropped sensors, the first to be added first.

    Without `retrain`, every pass measures the candidates on the fit's weights, which never read
    the sensors added before: several sensors that bring the same information measure high
    together and go in together. With `retrain(on, round)` (``mask.rank_dropped_by:
    retrained_addition``) the sensors of each pass are switched on at their regrow gate value and
    the model learns to read them before the next pass, so a candidate measures what it adds to
    them; and a pass adds at most `fraction` of the sensors on, as an elimination pass removes
    at most that share of them, so that no pass leaps from a model reading a few sensors to many
    more it has not learned to read (from a fit at 0.9, a third of the dropped sensors would be
    three times the kept ones). A pass that adds fewer asks for as much less retraining (at
    least a step): the last passes add a sensor or two to a model that reads nearly all. The
    retraining draws its windows from rounds after those of the kept sensors' elimination.
    """
    on, added = keep.copy(), []
    while not on.all():
        prep.model.gate.set_keep(on, -1)
        saliency = measure_saliency(prep, starts, batch_size)
        candidates = np.flatnonzero(~on)
        strongest = candidates[np.lexsort((candidates, -saliency[candidates]))]
        undecided = candidates.size if retrain is None else min(candidates.size, int(on.sum()))
        chosen = strongest[: _pass_size(undecided, fraction)]
        worth[chosen] = saliency[chosen]
        added.extend(chosen.tolist())
        on[chosen] = True
        if retrain is not None and not on.all():
            scores_at_regrow_value(prep.model.gate, keep, on)
            full = fraction * (on.sum() - chosen.size)  # a full pass from the sensors on before
            retrain(on.copy(), keep.size + len(added), share=min(1.0, chosen.size / full))
    return np.array(added, dtype=np.int64)
