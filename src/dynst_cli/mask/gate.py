"""The sensor gate of DynST: real scores ``m`` times a binary keep vector ``b``, one per sensor.

The backbone sees ``x * (b*m)``. A dropped sensor (``b = 0``) is zeroed with `torch.where` before
the multiplication, so even NaN or infinite readings of a dropped sensor cannot reach the output or
any gradient. While `tracking` is on, a hook accumulates two signals of every sensor, kept or not,
batch by batch:

- the regrow signal ``|dL/dg| = |sum_{batch, features} x * dL/d(gated x)|``, the gradient of the
  loss with respect to the sensor's gate value ``g = b*m`` (defined even while the sensor is off);
- the saliency ``|g * dL/dg|``, the first-order estimate of how much the loss would rise if the
  gate went to zero (Molchanov et al. 2017, "Pruning convolutional neural networks for resource
  efficient inference"). A dropped sensor is measured at the gate value it would be regrown with
  (the mean ``|m|`` of the kept sensors, as `update.regrow_init` sets it), so kept and dropped
  sensors are compared on one scale: the loss a sensor saves by being on.

Both signals read a sensor's input as its departure from `center` (zeros unless the fit sets the
sensors' mean inputs there, `mask.saliency_baseline: mean`): the first-order change of the loss
if the sensor's input were replaced by that baseline rather than by nothing. The saliency is
multiplied by `availability` (ones unless the fit sets each sensor's reporting from now on over
its reporting in training there, `mask.weigh_by_availability`).
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn


class SensorGate(nn.Module):
    """Gate ``(B, N, F)`` morphed inputs by ``keep * scores``.

    Parameters
    ----------
    n_sensors : int
        Number of sensors N.

    Attributes
    ----------
    scores : nn.Parameter, shape (N,)
        The real mask ``m``, initialised to 1 (every sensor passes unchanged).
    keep : buffer, shape (N,), float32 of 0/1
        The binary mask ``b``.
    grad_accum : buffer, shape (N,), float32
        Regrow signal ``|dL/dg|`` summed over the batches since the last `reset_grad_accum`.
    saliency_accum : buffer, shape (N,), float32
        Saliency ``|g * dL/dg|`` summed over the same batches.
    n_accum : buffer, shape (), int64
        Batches accumulated since the last reset.
    dropped_at : buffer, shape (N,), int64
        Optimiser step at which each sensor was last dropped; -1 if never.
    center : buffer, shape (N, F) or (N, 1), float32, not saved
        The baseline input the two signals measure a sensor's input against (zeros: switched
        off).
    availability : buffer, shape (N,), float32, not saved
        What each sensor's saliency is multiplied by (ones: as measured;
        `selection.availability.availability_weights`).
    per_window : bool
        Take the saliency's absolute value window by window before summing over the batch
        (`window_magnitudes`) rather than of the batch's sum (`mask.saliency_abs`).
    tracking : bool
        Accumulate the regrow signal in backward passes (off by default: it costs a hook).
    dropout : float
        Sensor dropout: while training and tracking, each kept sensor of each window is hidden
        with this probability (0: off).
    dropout_seed, dropout_step : int
        The pattern of a training step is drawn from ``(dropout_seed, dropout_step)`` alone, so a
        resumed fit hides the same sensors as an uninterrupted one.
    """

    def __init__(self, n_sensors: int) -> None:
        super().__init__()
        self.scores = nn.Parameter(torch.ones(n_sensors))
        self.register_buffer("keep", torch.ones(n_sensors, dtype=torch.float32))
        self.register_buffer("grad_accum", torch.zeros(n_sensors, dtype=torch.float32))
        self.register_buffer("saliency_accum", torch.zeros(n_sensors, dtype=torch.float32))
        self.register_buffer("n_accum", torch.zeros((), dtype=torch.int64))
        self.register_buffer("dropped_at", torch.full((n_sensors,), -1, dtype=torch.int64))
        # not in the state dict: a fit sets it from the data, a saved model never reads it
        self.register_buffer("center", torch.zeros(n_sensors, 1), persistent=False)
        self.register_buffer("availability", torch.ones(n_sensors), persistent=False)
        self.tracking = False
        self.per_window = False
        self.dropout = 0.0
        self.dropout_seed = 0
        self.dropout_step = 0

    @property
    def n_sensors(self) -> int:
        return self.scores.shape[0]

    def gates(self) -> torch.Tensor:
        """Gate values ``b*m``, shape (N,)."""
        return self.keep * self.scores

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Gate a morphed batch.

        Parameters
        ----------
        x : torch.Tensor, shape (B, N, F)

        Returns
        -------
        torch.Tensor, shape (B, N, F)
            ``x * gates()`` per sensor; exactly 0 for dropped sensors.
        """
        kept = self.keep.bool()[None, :, None]
        x_kept = torch.where(kept, x, 0.0)
        gated = x_kept * self.gates()[None, :, None]
        if self.tracking and gated.requires_grad:
            gated.register_hook(self._accumulate_hook(x.detach()))
        if self.training and self.tracking and self.dropout > 0:
            gated = gated * self._dropout_pattern(gated.shape[:2]).to(gated)[..., None]
        return gated

    def _dropout_pattern(self, shape: torch.Size) -> torch.Tensor:
        """1 where a sensor of a window is seen this step, 0 where dropout hides it (CPU)."""
        generator = torch.Generator().manual_seed(self.dropout_seed * 1_000_003 + self.dropout_step)
        return (torch.rand(tuple(shape), generator=generator) >= self.dropout).float()

    def forward_subset(self, x_kept: torch.Tensor, kept_idx: torch.Tensor) -> torch.Tensor:
        """Gate only the sensors that are read, as `predict` does with a plan.

        Parameters
        ----------
        x_kept : torch.Tensor, shape (B, K, F)
            Morphed inputs of the sensors ``kept_idx``, in that order.
        kept_idx : torch.Tensor or array of int, shape (K,)

        Returns
        -------
        torch.Tensor, shape (B, K, F)
        """
        idx = torch.as_tensor(kept_idx, dtype=torch.long, device=self.scores.device)
        return x_kept * self.gates()[idx][None, :, None]

    def l1_penalty(self) -> torch.Tensor:
        """``|b*m|_1``: pushes the gates of unimportant sensors towards zero (scalar)."""
        return self.gates().abs().sum()

    def reset_grad_accum(self) -> None:
        self.grad_accum.zero_()
        self.saliency_accum.zero_()
        self.n_accum.zero_()

    @torch.no_grad()
    def candidate_gates(self) -> torch.Tensor:
        """``|g|`` of kept sensors; for dropped ones the mean ``|m|`` of the kept (shape (N,)).

        The gate value each sensor has, or would have if it were regrown now.
        """
        kept = self.keep.bool()
        magnitude = self.scores.detach().abs()
        level = magnitude[kept].mean() if kept.any() else magnitude.new_tensor(1.0)
        return torch.where(kept, magnitude, level)

    @torch.no_grad()
    def set_keep(self, keep: np.ndarray | torch.Tensor, step: int) -> None:
        """Replace the keep vector; sensors switched off now record ``dropped_at = step``.

        Parameters
        ----------
        keep : bool array or tensor, shape (N,)
        step : int
            Optimiser step of this mask update.
        """
        if isinstance(keep, torch.Tensor):
            new = keep.to(device=self.keep.device, dtype=torch.bool)
        else:
            new = torch.as_tensor(np.asarray(keep, dtype=bool), device=self.keep.device)
        if new.shape != self.keep.shape:
            raise ValueError(f"keep has shape {tuple(new.shape)}, expected ({self.n_sensors},)")
        newly_dropped = self.keep.bool() & ~new
        self.dropped_at[newly_dropped] = step
        self.keep.copy_(new.to(self.keep.dtype))

    def _accumulate_hook(self, x: torch.Tensor):
        # NaN readings carry no signal; zero them so one gap cannot poison a sensor's sum.
        x = torch.nan_to_num(x, nan=0.0, posinf=0.0, neginf=0.0)

        def hook(grad: torch.Tensor) -> None:
            product = (x - self.center) * grad  # (B, N, F)
            signal = product.sum(dim=(0, 2)).abs().to(self.grad_accum.dtype)
            self.grad_accum.add_(signal)
            taken = window_magnitudes(product) if self.per_window else signal
            self.saliency_accum.add_(taken * self.candidate_gates() * self.availability)
            self.n_accum.add_(1)

        return hook


def window_magnitudes(product: torch.Tensor) -> torch.Tensor:
    """``sum_w |sum_f product[w, i, f]|`` per sensor i, from a (B, N, F) product, shape (N,).

    The first-order loss change of every window taken in magnitude before they are summed: a
    trained gate sits where the batch's first-order terms nearly cancel, so their sum says more
    about the noise of the batch than about how much the windows depend on the sensor.
    """
    return product.sum(dim=2).abs().sum(dim=0)
