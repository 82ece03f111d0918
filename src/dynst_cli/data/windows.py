"""Batches of (history, future) windows gathered by index from one array of raw values.

The array of shape [n_steps, n_sensors, n_channels] (in memory or memory-mapped on disk) is never
copied: a batch is gathered with advanced indexing from its window start indices, then turned
into the model's input by `data.inputs.model_input` (the function `predict` uses too), so memory
holds the archive once (or not at all, when mapped) plus one batch.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import torch

from dynst_cli.data.inputs import model_input, scale_and_fill, steps_per_day
from dynst_cli.data.scaling import StandardScaler


@dataclass
class Batch:
    """One batch of windows.

    x : (B, T_in, N, 2C) scaled history, missing values filled with 0 (the training mean) and
        followed by C observed (1) / missing (0) indicator channels the model can see.
    y : (B, T_out, N, C) scaled targets, 0 where missing.
    observed : (B, T_out, N, C) bool, True where a target was measured.
    tod : (B,) time-of-day bin of the last history step; dow : (B,) day of week (Monday = 0).
    starts : (B,) int64 window start indices (to name a batch's time span in messages).
    """

    x: torch.Tensor
    y: torch.Tensor
    observed: torch.Tensor
    tod: torch.Tensor
    dow: torch.Tensor
    starts: np.ndarray | None = None

    def to(self, device: torch.device) -> Batch:
        tensors = (t.to(device) for t in (self.x, self.y, self.observed, self.tod, self.dow))
        return Batch(*tensors, starts=self.starts)


class WindowSource:
    """Gathers windows of `t_in` history and `t_out` future steps from scaled values."""

    def __init__(
        self,
        values: np.ndarray,
        scaler: StandardScaler,
        time: np.ndarray,
        step_seconds: int,
        t_in: int,
        t_out: int,
    ):
        self.values = values  # raw, NaN where missing; scaled batch by batch
        self.scaler = scaler
        self.time, self.step_seconds = time, step_seconds
        self.t_in, self.t_out = t_in, t_out
        self.steps_per_day = steps_per_day(step_seconds)

    def batch(self, starts: np.ndarray) -> Batch:
        """The windows beginning at `starts` (history starts there, targets follow it)."""
        steps = starts[:, None] + np.arange(self.t_in + self.t_out)
        raw = np.asarray(self.values[steps.ravel()], dtype=np.float32)
        raw = raw.reshape(*steps.shape, *raw.shape[1:])
        last = starts + self.t_in - 1
        x, tod, dow = model_input(
            raw[:, : self.t_in], self.time[last], self.scaler, self.step_seconds
        )
        y, observed = scale_and_fill(raw[:, self.t_in :], self.scaler)
        return Batch(
            x=torch.from_numpy(x),
            y=torch.from_numpy(np.ascontiguousarray(y)),
            observed=torch.from_numpy(np.ascontiguousarray(observed)),
            tod=torch.from_numpy(tod),
            dow=torch.from_numpy(dow),
            starts=starts,
        )

    def span(self, starts: np.ndarray) -> tuple[np.datetime64, np.datetime64]:
        """First and last time step (history to target) covered by the windows at `starts`."""
        last = int(starts.max()) + self.t_in + self.t_out - 1
        return self.time[int(starts.min())], self.time[last]

    def batches(
        self, starts: np.ndarray, batch_size: int, rng: np.random.Generator | None = None
    ) -> Iterator[Batch]:
        """All windows of `starts` in batches; shuffled by `rng` when one is given."""
        order = starts if rng is None else rng.permutation(starts)
        for i in range(0, len(order), batch_size):
            yield self.batch(order[i : i + batch_size])
