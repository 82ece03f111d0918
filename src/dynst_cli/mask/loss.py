"""Training loss of DynST: masked forecast error plus the L1 pull on the gates.

The forecast term is the masked MAE, the standard training loss of traffic forecasting
(DCRNN, Graph WaveNet, STID): robust to the spikes of incidents, and averaged over observed
targets only, because a NaN target means nothing was measured there.
"""

from __future__ import annotations

import torch

from dynst_cli.mask.gate import SensorGate


def masked_mae(pred: torch.Tensor, target: torch.Tensor, observed: torch.Tensor) -> torch.Tensor:
    """Mean absolute error over observed, non-NaN targets (scalar; 0 with a grad if none).

    Parameters
    ----------
    pred, target : torch.Tensor, same shape, e.g. (B, N, T_out, C_out)
    observed : torch.Tensor of bool, broadcastable to `target`
    """
    mask = observed.bool() & ~torch.isnan(target)
    # Fill unobserved targets before subtracting so no NaN enters the graph, not even times 0.
    filled = torch.where(mask, target, 0.0)
    err = torch.where(mask, (pred - filled).abs(), 0.0)
    count = mask.expand(err.shape).sum()
    if count == 0:
        return pred.sum() * 0.0
    return err.sum() / count


def dynst_loss(
    pred: torch.Tensor,
    target: torch.Tensor,
    observed: torch.Tensor,
    gate: SensorGate,
    l1_lambda: float,
) -> torch.Tensor:
    """``masked_mae(pred, target, observed) + l1_lambda * |b*m|_1`` (scalar)."""
    return masked_mae(pred, target, observed) + l1_lambda * gate.l1_penalty()
