"""Sensors that reported nothing in the validation period rank last.

The validation period is the latest stretch of the archive a fit may look at. A sensor with no
reading in all of it has most likely stopped reporting (a closed station, a dead loop): it can add
nothing to a forecast made now, and a plan that keeps it keeps a sensor that is not there. The
saliency of the training period cannot tell, because the sensor was useful while it reported.
Station networks with many missing readings have such sensors (24 of the 70 PM10 stations of the
ranking benchmark are silent in the validation and the test periods alike).
"""

from __future__ import annotations

import dataclasses

import numpy as np

from dynst_cli.selection.availability import reporting_share
from dynst_cli.selection.ranking import Ranking


def silent_sensors(values: np.ndarray, start: int, stop: int) -> np.ndarray:
    """Bool `(N,)`: the sensors with no reading (every value NaN) in time steps [start, stop).

    `values` has shape `(T, N)` or `(T, N, C)`. An empty period, or one in which every sensor is
    silent, says nothing about any of them: all False.
    """
    heard = reporting_share(values, start, stop) > 0
    if not heard.any():
        return np.zeros(values.shape[1], dtype=bool)
    return ~heard


def silent_last(ranking: Ranking, silent: np.ndarray) -> Ranking:
    """`ranking` with the `silent` sensors moved to the end, each group in its own order.

    The result carries `silent`, so that a plan can say why those sensors are dropped; a ranking
    with no silent sensor is returned as it is.
    """
    silent = np.asarray(silent, dtype=bool)
    if not silent.any():
        return ranking
    order = ranking.order
    moved = np.concatenate([order[~silent[order]], order[silent[order]]])
    return dataclasses.replace(ranking, order=moved, silent=silent)
