"""Sensor counts at a sparsity, with one rounding rule for the whole project.

Python's `round` rounds halves to even (``round(2.5) == 2``), which would make the kept count jump
unevenly as N grows; every count here rounds halves up instead: ``floor(x + 0.5)``.
"""

from __future__ import annotations

import math


def round_half_up(x: float) -> int:
    """``floor(x + 0.5)``: 2.5 -> 3, 3.5 -> 4 (unlike Python's banker's `round`)."""
    return math.floor(x + 0.5)


def n_off_for(n_sensors: int, sparsity: float) -> int:
    """Number of sensors switched off at `sparsity`: ``floor(S*N + 0.5)``."""
    return round_half_up(sparsity * n_sensors)


def n_keep_for(n_sensors: int, sparsity: float) -> int:
    """Number of sensors kept at `sparsity`: ``N - floor(S*N + 0.5)``."""
    return n_sensors - n_off_for(n_sensors, sparsity)
