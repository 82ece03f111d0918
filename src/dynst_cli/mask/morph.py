"""Stream morph: fold the history window of every sensor into that sensor's features.

DynST masks data, not weights: one mask entry per sensor must hold for every time step of the
window, so the time axis is folded into the features before the gate. Feature index ``t*C + c``
(time-major) in both layouts, so a flat feature vector reads as ``(T, C)`` row by row.
"""

from __future__ import annotations

import torch


def morph_graph(x: torch.Tensor) -> torch.Tensor:
    """Fold a graph window into per-sensor features.

    Parameters
    ----------
    x : torch.Tensor, shape (B, T, N, C)
        Batch, time steps, sensors, channels.

    Returns
    -------
    torch.Tensor, shape (B, N, T*C)
        Feature ``t*C + c`` of sensor ``n`` is ``x[:, t, n, c]``.
    """
    b, t, n, c = x.shape
    return x.permute(0, 2, 1, 3).reshape(b, n, t * c)


def unmorph_graph(z: torch.Tensor, t: int, c: int) -> torch.Tensor:
    """Invert `morph_graph`: ``(B, N, T*C) -> (B, T, N, C)``."""
    b, n, _ = z.shape
    return z.reshape(b, n, t, c).permute(0, 2, 1, 3)


def morph_grid(x: torch.Tensor) -> torch.Tensor:
    """Fold a gridded window into per-cell features; cells are numbered row-major (``h*W + w``).

    Parameters
    ----------
    x : torch.Tensor, shape (B, T, C, H, W)

    Returns
    -------
    torch.Tensor, shape (B, H*W, T*C)
        Feature ``t*C + c`` of cell ``h*W + w`` is ``x[:, t, c, h, w]``.
    """
    b, t, c, h, w = x.shape
    return x.reshape(b, t * c, h * w).transpose(1, 2)


def unmorph_grid(z: torch.Tensor, t: int, c: int, h: int, w: int) -> torch.Tensor:
    """Invert `morph_grid`: ``(B, H*W, T*C) -> (B, T, C, H, W)``."""
    return z.transpose(1, 2).reshape(z.shape[0], t, c, h, w)
