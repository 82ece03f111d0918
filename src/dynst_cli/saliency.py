"""Rank sensors by saliency on held-out windows, one elimination (or addition) pass at a time.

The saliency ``|g dL/dg|`` of a sensor is the first-order rise of the loss if its gate went to
zero, given every other sensor that is on. Ranked once, two sensors that stand in for each other
both look cheap (each is covered by the other) and a plan at a higher sparsity would drop both.
So the fit's final kept set is ranked by iterative elimination: measure, switch off the least
salient fifth of the sensors still on, measure again, until one is left; the sensors that
survive longest rank first. The dropped sensors are ranked the other way round, by iterative
addition to the kept set: the most salient fifth (at the gate value they would be regrown with)
first. The trained weights are not changed; only the gate's keep vector moves between passes and
is restored at the end. A sensor's score is its saliency in the pass that decided it.
"""

from __future__ import annotations

import math

import numpy as np

from dynst_cli.mask.loss import masked_mae
from dynst_cli.train import Prepared

PASS_FRACTION = 0.2  # share of the undecided sensors settled by each pass (at least one)


def measure_saliency(prep: Prepared, starts: np.ndarray, batch_size: int) -> np.ndarray:
    """Mean saliency ``|g dL/dg|`` of every sensor over the windows `starts`, shape (N,).

    No weight changes: the gradients are taken only to read the gate's saliency hook, so the
    backbone's weights are left out of the backward pass (their gradients would be thrown away).
    Dropped sensors are measured at the gate value they would be regrown with.
    """
    model, gate = prep.model, prep.model.gate
    model.eval()
    weights = list(model.backbone.parameters())
    needed = [w.requires_grad for w in weights]
    was_frozen = not gate.scores.requires_grad
    gate.scores.requires_grad_(True)
    for w in weights:
        w.requires_grad_(False)
    gate.reset_grad_accum()
    gate.tracking = True
    try:
        for batch in prep.source.batches(starts, batch_size):
            batch = batch.to(prep.device)
            pred = model(batch.x, batch.tod, batch.dow)
            masked_mae(pred, batch.y, batch.observed).backward()
            gate.scores.grad = None
    finally:
        gate.tracking = False
        gate.scores.requires_grad_(not was_frozen)
        for w, need in zip(weights, needed, strict=True):
            w.requires_grad_(need)
    saliency = gate.saliency_accum.cpu().numpy() / max(int(gate.n_accum), 1)
    gate.reset_grad_accum()
    return saliency.astype(np.float64)


def saliency_ranking(
    prep: Prepared, starts: np.ndarray, batch_size: int
) -> tuple[np.ndarray, np.ndarray]:
    """Order of every sensor (most important first) and its deciding saliency, shape (N,) each.

    Kept sensors (by the gate's keep vector) come first, by iterative elimination; then the
    dropped ones, by iterative addition.
    """
    gate = prep.model.gate
    keep = gate.keep.detach().cpu().numpy() > 0.5
    dropped_at = gate.dropped_at.clone()
    worth = np.zeros(keep.size)
    try:
        kept_order = _eliminate(prep, starts, batch_size, keep, worth)
        dropped_order = _add(prep, starts, batch_size, keep, worth)
    finally:
        gate.set_keep(keep, -1)
        gate.dropped_at.copy_(dropped_at)
    return np.concatenate([kept_order, dropped_order]), worth


def _pass_size(n_undecided: int) -> int:
    return max(1, math.floor(PASS_FRACTION * n_undecided))


def _eliminate(prep, starts, batch_size, keep: np.ndarray, worth: np.ndarray) -> np.ndarray:
    """Kept sensors, the last to be eliminated first."""
    on, eliminated = keep.copy(), []
    while on.any():
        prep.model.gate.set_keep(on, -1)
        saliency = measure_saliency(prep, starts, batch_size)
        candidates = np.flatnonzero(on)
        # Least salient first; ties by index, the higher index goes first.
        weakest = candidates[np.lexsort((-candidates, saliency[candidates]))]
        chosen = weakest[: _pass_size(candidates.size)]
        worth[chosen] = saliency[chosen]
        eliminated.extend(chosen.tolist())
        on[chosen] = False
    return np.array(eliminated[::-1], dtype=np.int64)


def _add(prep, starts, batch_size, keep: np.ndarray, worth: np.ndarray) -> np.ndarray:
    """Dropped sensors, the first to be added first."""
    on, added = keep.copy(), []
    while not on.all():
        prep.model.gate.set_keep(on, -1)
        saliency = measure_saliency(prep, starts, batch_size)
        candidates = np.flatnonzero(~on)
        strongest = candidates[np.lexsort((candidates, -saliency[candidates]))]
        chosen = strongest[: _pass_size(candidates.size)]
        worth[chosen] = saliency[chosen]
        added.extend(chosen.tolist())
        on[chosen] = True
    return np.array(added, dtype=np.int64)
