"""The error regrow signal: how much of the training loss a dropped sensor's own target carries.

A dropped sensor's forecast is made from the other sensors' readings, and what it still gets
wrong is the most that reading the sensor itself could take off the loss. Sensors that are hard
to forecast from the rest (on a temperature grid, the inland cells with large daily swings) carry
more of it than those their neighbours already cover, which is what a keep set should add: the
classic choice of placing the next sensor where the current estimate is worst (maximum-variance
sampling), read from the model's own errors. Per batch and sensor, the sum of ``|y - pred|`` over
its observed targets divided by the batch's count of observed targets: the sensor's share of the
masked MAE, so a sensor that rarely reports carries little however large its errors. It needs
only the forward pass the training step already made, summed over the update interval (and over
ranks) by `RegrowProbe`.
"""

from __future__ import annotations

import torch

from dynst_cli.mask.probe import RegrowProbe


class ErrorProbe(RegrowProbe):
    """Accumulates each dropped sensor's share of the training loss between two mask updates."""

    @torch.no_grad()
    def add(self, x, y, pred, observed, off: torch.Tensor | None = None) -> None:
        """One training batch: y / pred / observed (B, T_out, N, C); `x` is not read.

        Only the sensors `off` (bool, shape (N,); all when None) are scored.
        """
        error = torch.where(observed, (y - pred.detach()).abs(), 0.0)
        share = error.sum(dim=(0, 1, 3)).double() / observed.sum().clamp_min(1)
        if off is not None:
            share = torch.where(off.to(share.device).bool(), share, 0.0)
        self.total += share.to(self.total.device)
        self.count += 1
