"""Stream morph: fold the history window of every sensor into that sensor's features.

DynST masks data, not weights: one mask entry per sensor must hold for every time step of the
window, so the time axis is folded into the features before the gate. Feature index ``t*C + c``
(time-major), so a flat feature vector reads as ``(T, C)`` row by row. Gridded data use the same
layout: each grid cell is a sensor, and the grid backbones place sensor ``n`` at its cell
(`backbones.spec.GridLayout`).
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
