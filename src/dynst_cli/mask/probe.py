"""Regrow probes: signals that rank the dropped sensors from the forecasts training already makes.

`mask.regrow_signal` says which signal drop-and-regrow reads the dropped sensors with: the gate's
own (the saliency or ``|dL/dg|``, accumulated by `SensorGate`, no probe), or a probe that reads
each training step's forecast (`add`), sums over the update interval and over ranks (`scores`),
and travels in the checkpoint (`state`, `load`) so that a resumed fit regrows the same sensors.
Each probe says in `add` what it measures; the rest is this base class.
"""

from __future__ import annotations

from abc import ABC, abstractmethod

import torch

from dynst_cli import distributed as dist


class RegrowProbe(ABC):
    """Accumulates one signal per sensor between two mask updates.

    Subclasses implement `add(x, y, pred, observed, off)`: one training batch, x (B, T_in, N, 2C)
    history and y / pred / observed (B, T_out, N, C), adding to `total` the signal of the sensors
    `off` (bool, shape (N,); all when None) and counting the batch in `count`.
    """

    def __init__(self, n_sensors: int, device: torch.device | str = "cpu"):
        self.total = torch.zeros(n_sensors, dtype=torch.float64, device=device)
        self.count = 0

    @abstractmethod
    def add(self, x, y, pred, observed, off: torch.Tensor | None = None) -> None:
        """Add one training batch's signal of the sensors `off` to `total`; count the batch."""

    def scores(self):
        """Mean signal per batch of the interval, summed over ranks (numpy, shape (N,))."""
        total = dist.all_reduce_sum(self.total.clone())
        count = dist.all_reduce_sum(torch.tensor([float(self.count)], device=total.device))
        return (total / count.clamp_min(1.0)).cpu().numpy()

    def reset(self) -> None:
        self.total.zero_()
        self.count = 0

    def state(self) -> dict:
        return {"total": self.total.cpu(), "count": self.count}

    def load(self, state: dict | None) -> None:
        if state:
            self.total.copy_(state["total"])
            self.count = int(state["count"])
