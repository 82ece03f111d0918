"""Sensors silent in the validation period rank last (selection/silent.py)."""

from __future__ import annotations

import numpy as np

from dynst_cli.selection import Ranking
from dynst_cli.selection.silent import silent_last, silent_sensors


def test_a_sensor_with_no_reading_in_the_period_is_silent():
    values = np.ones((10, 3, 2), dtype=np.float32)
    values[4:8, 1] = np.nan  # sensor 1: nothing in steps 4-7
    values[4:8, 2, 0] = np.nan  # sensor 2: its second channel still reports
    assert silent_sensors(values, 4, 8).tolist() == [False, True, False]
    assert silent_sensors(values, 3, 8).tolist() == [False, False, False]


def test_a_period_in_which_every_sensor_is_silent_says_nothing():
    values = np.ones((6, 3), dtype=np.float32)
    values[2:] = np.nan
    assert not silent_sensors(values, 2, 6).any()
    assert not silent_sensors(values, 3, 3).any()  # an empty period


def test_silent_sensors_move_last_and_both_groups_keep_their_order():
    ranking = Ranking(order=[3, 0, 4, 2, 1], scores=np.arange(5.0), kept=[1, 0, 1, 1, 0])
    silent = np.array([True, False, True, False, False])
    moved = silent_last(ranking, silent)
    assert moved.order.tolist() == [3, 4, 1, 0, 2]
    assert np.array_equal(moved.scores, ranking.scores)
    assert np.array_equal(moved.kept, ranking.kept)
    assert silent_last(ranking, np.zeros(5, dtype=bool)) is ranking
