"""Sensor counts at a sparsity, with one rounding rule for the whole project.

Python's `round` rounds halves to even (``round(2.5) == 2``), which would make the kept count jump
unevenly as N grows; every count here rounds halves up instead: ``floor(x + 0.5)``.
"""

from __future__ import annotations

import math

from dynst_cli.errors import UsageError


def round_half_up(x: float) -> int:
    """``floor(x + 0.5)``: 2.5 -> 3, 3.5 -> 4 (unlike Python's banker's `round`)."""
    return math.floor(x + 0.5)


def n_off_for(n_sensors: int, sparsity: float) -> int:
    """Number of sensors switched off at `sparsity`: ``floor(S*N + 0.5)``."""
    return round_half_up(sparsity * n_sensors)


def n_keep_for(n_sensors: int, sparsity: float) -> int:
    """Number of sensors kept at `sparsity`: ``N - floor(S*N + 0.5)``."""
    return n_sensors - n_off_for(n_sensors, sparsity)


def exploring_sparsity(n_sensors: int, sparsity: float, explore_keep: float) -> float:
    """The sparsity drop-and-regrow works at: `explore_keep` times the sensors kept at `sparsity`
    are on (at most all of them), so ``n_keep_for(n_sensors, result)`` is that count."""
    n_keep = n_keep_for(n_sensors, sparsity)
    n_explored = min(n_sensors, max(n_keep, round_half_up(explore_keep * n_keep)))
    return (n_sensors - n_explored) / n_sensors


def check_keeps_some(n_sensors: int, sparsity: float) -> int:
    """Sensors kept at `sparsity`, or a usage error when that would be none.

    A plan of zero sensors forecasts nothing from nothing; the message gives the largest sparsity
    that keeps one: ``N - floor(S*N + 0.5) >= 1`` holds for ``S < (N - 0.5) / N``.
    """
    n_keep = n_keep_for(n_sensors, sparsity)
    if n_keep < 1:
        bound = (n_sensors - 0.5) / n_sensors
        raise UsageError(
            f"--sparsity {sparsity} keeps 0 of {n_sensors} sensor{'s' if n_sensors > 1 else ''}; "
            f"at least one must be kept: use a sparsity below {bound:.4g}"
        )
    return n_keep
