"""Pieces every backbone shares: calendar embeddings and the `kept` scatter."""

from __future__ import annotations

import torch
from torch import nn


class CalendarEmbedding(nn.Module):
    """Learned time-of-day and day-of-week embeddings, concatenated.

    Parameters
    ----------
    steps_per_day : int
        Number of time-of-day bins.
    dim : int
        Size of each embedding; the output has `2*dim` features.
    """

    def __init__(self, steps_per_day: int, dim: int):
        super().__init__()
        self.tod = nn.Embedding(steps_per_day, dim)
        self.dow = nn.Embedding(7, dim)
        # small init, as in STID, so calendar terms start as a gentle bias
        nn.init.normal_(self.tod.weight, std=0.1)
        nn.init.normal_(self.dow.weight, std=0.1)

    def forward(self, tod: torch.Tensor, dow: torch.Tensor) -> torch.Tensor:
        """`(B,)` int64 bins -> `(B, 2*dim)`."""
        return torch.cat([self.tod(tod), self.dow(dow)], dim=-1)


def scatter_kept(x: torch.Tensor, kept: torch.Tensor | None, n_sensors: int) -> torch.Tensor:
    """Place the kept sensors' history into a full network of zeros.

    Parameters
    ----------
    x : torch.Tensor, shape (B, K, F)
        History of the kept sensors only (or of all N when `kept` is None).
    kept : torch.LongTensor, shape (K,), or None
        Sorted indices of the kept sensors.
    n_sensors : int
        N.

    Returns
    -------
    torch.Tensor, shape (B, N, F)
        `x` at the rows `kept`, exact zeros (a gated-off sensor) elsewhere; differentiable.
    """
    if kept is None:
        return x
    full = x.new_zeros(x.shape[0], n_sensors, x.shape[2])
    return full.index_copy(1, kept, x)
