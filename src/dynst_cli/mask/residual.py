"""The residual regrow signal: how much of what the model gets wrong a sensor's reading explains.

A dropped sensor's gate signal (its saliency at the regrow gate value, or ``|dL/dg|``) is read
through the model's own pathways for that sensor, and a model trained without a sensor has no use
for it: adding it unchanged does not lower the loss however much it would help once the model has
learned to read it. So the gate signal cannot tell a redundant sensor from one that covers a
whole part of the network no kept sensor sees. The residual signal asks the data instead, as
orthogonal matching pursuit and RigL's gradient of a missing connection do: with ``r_j`` the
negative gradient of the training loss (masked MAE) with respect to the forecast of target j,
``sign(y - pred)`` where observed and 0 elsewhere, summed over the horizon, and ``x_i`` sensor
i's latest reading in the history, both centred over the batch,

    score_i = sum_j cov(x_i, r_j)^2 / var(x_i)

the squared gradient of the loss with respect to a new linear path from ``x_i`` (normalised) to
every forecast: what a sensor could take off the loss once the model reads it. The sign, not the
residual itself, so that the signal weighs targets as the MAE does and a few large errors (a
pollution episode) do not decide it. It needs only the forward pass the training step already
made (`add` after each step), costs one ``N_off x N`` product per batch for the sensors that are
off, and is summed over the update interval (and over ranks) by `RegrowProbe`.
"""

from __future__ import annotations

import torch

from dynst_cli.mask.probe import RegrowProbe

COLUMN_CHUNK = 2048  # targets per block of the covariance product, to bound its memory


class ResidualProbe(RegrowProbe):
    """Accumulates the residual signal of every sensor between two mask updates."""

    @torch.no_grad()
    def add(self, x, y, pred, observed, off: torch.Tensor | None = None) -> None:
        """One training batch: x (B, T_in, N, 2C) history, y / pred / observed (B, T_out, N, C).

        Only the sensors `off` (bool, shape (N,); all when None) are scored: the signal ranks the
        dropped sensors, and the product costs in proportion to how many are read.
        """
        b, n_channels = x.shape[0], y.shape[-1]
        if b < 2:  # one window has no covariance
            return
        sensors = torch.arange(x.shape[2], device=x.device)
        if off is not None:
            sensors = sensors[off.to(x.device).bool()]
        if sensors.numel() == 0:
            self.count += 1
            return
        latest = x[:, -1, sensors, :n_channels].reshape(b, -1)  # missing readings are 0
        residual = torch.where(observed, torch.sign(y - pred.detach()), 0.0)
        residual = residual.sum(dim=1).reshape(b, -1)  # the loss's pull on each forecast
        latest = latest - latest.mean(0)
        residual = residual - residual.mean(0)
        explained = torch.zeros(latest.shape[1], device=x.device)
        for start in range(0, residual.shape[1], COLUMN_CHUNK):
            cov = latest.T @ residual[:, start : start + COLUMN_CHUNK] / b
            explained += cov.pow(2).sum(dim=1)
        variance = latest.pow(2).mean(dim=0)
        per_value = torch.where(variance > 0, explained / variance.clamp_min(1e-12), 0.0)
        per_sensor = per_value.reshape(-1, n_channels).sum(dim=1).double()
        self.total[sensors.to(self.total.device)] += per_sensor.to(self.total.device)
        self.count += 1
