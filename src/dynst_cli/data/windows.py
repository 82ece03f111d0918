"""Batches of (history, future) windows gathered by index from one array of raw values.

The array of shape [n_steps, n_sensors, n_channels] (in memory or memory-mapped on disk) is never
copied: a batch is gathered with advanced indexing from its window start indices, then scaled and
filled, so memory holds the archive once (or not at all, when mapped) plus one batch.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import torch

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
        self.t_in, self.t_out = t_in, t_out
        self.time = time
        self.steps_per_day = max(1, int(round(86400 / step_seconds)))
        seconds = (time - time.astype("datetime64[D]")).astype("timedelta64[s]").astype(np.int64)
        self.tod = (seconds // step_seconds) % self.steps_per_day
        days = time.astype("datetime64[D]").astype(np.int64)
        self.dow = (days + 3) % 7  # 1970-01-01 was a Thursday

    def batch(self, starts: np.ndarray) -> Batch:
        """The windows beginning at `starts` (history starts there, targets follow it)."""
        steps = starts[:, None] + np.arange(self.t_in + self.t_out)
        scaled = self.scaler.transform(np.asarray(self.values[steps.ravel()], dtype=np.float32))
        scaled = scaled.reshape(*steps.shape, *scaled.shape[1:])
        observed = ~np.isnan(scaled)
        filled = np.where(observed, scaled, np.float32(0.0)).astype(np.float32)
        hist, fut = slice(0, self.t_in), slice(self.t_in, None)
        x = np.concatenate([filled[:, hist], observed[:, hist].astype(np.float32)], axis=-1)
        last = starts + self.t_in - 1
        return Batch(
            x=torch.from_numpy(x),
            y=torch.from_numpy(np.ascontiguousarray(filled[:, fut])),
            observed=torch.from_numpy(np.ascontiguousarray(observed[:, fut])),
            tod=torch.from_numpy(self.tod[last]),
            dow=torch.from_numpy(self.dow[last]),
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
