"""The fit's keep set against the classical selectors' (`mask.challengers`).

No selector is best on every network: on the ERA5 grid at half the cells the variance
selector's keep set forecasts better than the one DynST learns, on its validation period as on
its test period, while DynST's wins where the field has structure that a variance or a QR
decomposition cannot see. The validation period may tell the two apart, so the fit asks it: the
keep set the fit learned and each challenger's, at the same count and through the same siting
constraints, are trained alike, and their validation errors decide which is the plan's.

Alike means from the same weights, for the same epochs, on the same batches: every candidate
starts from the dense reference, which reads every sensor and so favours none (the fit's own
model has learned to read its keep set alone, and would win for that), and is fine-tuned for
`mask.challenge_epochs` with its mask frozen, ending with its best-validation weights, as every
keep set of `prune` and `compare` does.

A brief fine-tune ranks two keep sets whose errors differ by a fraction of a percent no better
than a coin: on METR-LA a QR keep set 0.07 % better on validation was 3 % worse on test. So a
challenger wins only where it forecasts the validation period better consistently, not on
average alone: the period is cut into `BLOCKS` stretches of consecutive windows (consecutive
windows overlap, so they are not independent samples; stretches nearly are), and a one-sided
paired t-test of the challenger's stretch errors against the fit's must give a p-value below
`LEVEL`. Of the challengers that pass, the lowest validation error wins; where none does, the
fit's keep set stands. When a challenger wins, the model keeps the weights it was fine-tuned
to, and the caller ranks afresh on them, so the plan is DynST's ranking of the winning keep set.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import torch
from scipy import stats

from dynst_cli import distributed as dist
from dynst_cli.evaluate import evaluate
from dynst_cli.mask import Select
from dynst_cli.selection.snapshots import periods_of, rankings, training_snapshots

FIT = "dynst"  # the candidate name of the fit's own keep set
# Stretches of the validation period a challenger must beat the fit's keep set over, and the
# p-value below which it does (conventional choices, set before any archive was measured).
BLOCKS = 5
LEVEL = 0.05


@dataclass
class Challenge:
    """How the fit's keep set fared against the challengers' (`metrics.json`'s ``challenge``).

    Attributes
    ----------
    winner : str
        ``"dynst"`` (the fit's keep set stands) or the winning challenger's name.
    val_mae : dict
        Validation MAE of each candidate trained (data units, rank 0; None elsewhere).
    p_value : dict
        Each challenger's p-value of the paired test against the fit's keep set (rank 0).
    same_as_fit : list of str
        Challengers whose keep set is the fit's, so not trained again.
    skipped : str or None
        Why no candidate was trained, when the challengers could not be (no dense reference).
    """

    winner: str
    val_mae: dict[str, float | None]
    same_as_fit: list[str]
    skipped: str | None = None
    p_value: dict[str, float | None] = field(default_factory=dict)

    def record(self) -> dict:
        record = {
            "winner": self.winner,
            "val_mae": self.val_mae,
            "p_value": self.p_value,
            "same_as_fit": self.same_as_fit,
        }
        return record | ({"skipped": self.skipped} if self.skipped else {})


def won_by_challenger(challenge: Challenge | None) -> bool:
    """Whether a challenger's keep set replaced the fit's (False when none was asked for)."""
    return challenge is not None and challenge.winner != FIT


def challenger_keep_sets(
    data, prep, challengers, n_keep: int, select: Select, horizon: int
) -> dict[str, np.ndarray]:
    """Each challenger's keep set of `n_keep` sensors, its selector fitted on the training
    period as `compare` fits it (seed 0 for the seeded ones), through the siting constraints."""
    snapshots = training_snapshots(data, prep.splits["train"].stop)
    temporal = (periods_of(data, prep.splits), horizon)
    return {
        method: select(order, n_keep)
        for method, _, order in rankings(challengers, 1, None, snapshots, temporal)
    }


def challenged(
    prep,
    fitted: np.ndarray,
    keep_sets: dict[str, np.ndarray],
    dense_weights: dict,
    finetune: Callable[[np.ndarray], tuple[float | None, np.ndarray | None]],
) -> Challenge:
    """Train the fit's keep set `fitted` and each of `keep_sets` alike; the winner.

    Parameters
    ----------
    prep : train.Prepared
        The fitted model. It ends with the winning challenger's fine-tuned weights, or, when
        the fit's keep set stands, as it came.
    fitted : numpy.ndarray of bool, shape [N]
        The fit's keep set.
    keep_sets : dict
        Each challenger's keep set by name (`challenger_keep_sets`).
    dense_weights : dict
        The dense reference's state dict, on every rank: where each candidate starts.
    finetune : callable ``finetune(keep)``
        Fine-tunes ``prep.model`` with its mask frozen at `keep` and leaves it with its
        best-validation weights; returns their validation MAE and the MAE of each stretch of
        the validation period (`stretch_errors`), on rank 0 (None elsewhere).
    """
    same = [name for name, keep in keep_sets.items() if np.array_equal(keep, fitted)]
    others = {name: keep for name, keep in keep_sets.items() if name not in same}
    if not others:
        return Challenge(FIT, {}, same)
    own = copy.deepcopy(prep.model.state_dict())
    gate = prep.model.gate
    flags = (gate.scores.requires_grad, gate.tracking)
    val_mae, p_value, stretches = {}, {}, {}
    best, best_weights = (np.inf, FIT), None
    trained = {}  # keep set (bytes) -> the candidate that trained it: two selectors may agree
    for name, keep in {FIT: fitted, **others}.items():
        if keep.tobytes() in trained:  # as good as the one trained, never better: it keeps the lead
            first = trained[keep.tobytes()]
            val_mae[name], p_value[name] = val_mae[first], p_value[first]
            continue
        trained[keep.tobytes()] = name
        prep.model.load_state_dict(dense_weights)
        val_mae[name], stretches[name] = finetune(keep.copy())
        if name == FIT:
            continue
        p_value[name] = paired_p_value(stretches[name], stretches[FIT])
        # rank 0 judges (it alone evaluates), every rank follows; NaN (no validation) never wins
        passes = p_value[name] is not None and p_value[name] < LEVEL
        score = dist.main_value(val_mae[name] if passes else None, prep.device)
        if score < best[0]:
            best, best_weights = (score, name), copy.deepcopy(prep.model.state_dict())
    winner = best[1]
    if winner == FIT:
        prep.model.load_state_dict(own)
        gate.scores.requires_grad_(flags[0])
        gate.tracking = flags[1]
    else:
        prep.model.load_state_dict(best_weights)
    return Challenge(winner, val_mae, same, p_value=p_value)


def paired_p_value(challenger, fit) -> float | None:
    """One-sided p-value that the challenger's stretch errors are lower than the fit's (paired
    t-test); None without two stretches of both to compare."""
    if challenger is None or fit is None or len(challenger) < 2 or len(challenger) != len(fit):
        return None
    difference = np.asarray(challenger, dtype=float) - np.asarray(fit, dtype=float)
    if not np.isfinite(difference).all():
        return None
    if np.all(difference == difference[0]):  # no spread: certain either way
        return 0.0 if difference[0] < 0 else 1.0
    return float(stats.ttest_rel(challenger, fit, alternative="less").pvalue)


def stretch_errors(prep, n_blocks: int = BLOCKS) -> np.ndarray | None:
    """MAE of the model on each of `n_blocks` stretches of consecutive validation windows
    (rank 0; None elsewhere, or without a validation period)."""
    starts = prep.splits["val"].window_starts
    if not dist.is_main() or starts.size == 0:
        return None
    blocks = [b for b in np.array_split(starts, min(n_blocks, starts.size)) if b.size]
    maes = [evaluate(prep.model, prep.source, b, prep.scaler, prep.device)["mae"] for b in blocks]
    return np.array([np.nan if m is None else m for m in maes], dtype=float)


def challenge_note(fit_metrics: dict) -> str | None:
    """The plan's note on where its ranking's keep set came from, when a challenger won."""
    record = fit_metrics.get("challenge") or {}
    winner = record.get("winner")
    if winner in (None, FIT):  # no challengers asked for, or the fit's keep set stood
        return None
    scores = record.get("val_mae") or {}
    return (
        f"the fit's keep set is the {winner} selector's: fine-tuned alike from the dense "
        f"reference, it forecast the validation period consistently better than the one DynST "
        f"learned (MAE {scores.get(winner, float('nan')):.4g} against "
        f"{scores.get(FIT, float('nan')):.4g}, paired p "
        f"{(record.get('p_value') or {}).get(winner, float('nan')):.3g}; mask.challengers), and "
        "DynST ranks the sensors from it"
    )


def dense_weights_on_every_rank(dense, template: torch.nn.Module) -> dict | None:
    """The dense reference's weights (`fit.resolve_dense`'s entry) on every rank, or None on
    every rank when rank 0 has none (no reference, or its cache entry could not be written).

    Rank 0 reads them from the entry's ``model.pt`` into a copy of `template` (a model of the
    same configuration), which then carries them to the other ranks."""
    path = dense.path / "model.pt" if dense is not None and dense.path is not None else None
    found = dist.is_main() and path is not None and path.is_file()
    device = next(template.parameters()).device
    if dist.main_value(1.0 if found else 0.0, device) < 0.5:
        return None
    model = copy.deepcopy(template)
    if found:
        model.load_state_dict(torch.load(path, map_location=device, weights_only=True))
    dist.broadcast_module(model)
    return model.state_dict()
