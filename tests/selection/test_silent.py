"""Sensors silent in the validation period rank last (selection/silent.py)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from dynst_cli.errors import InputError
from dynst_cli.selection import Ranking, SitingConstraints
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


def test_the_ranking_carries_the_silent_flags_through_ranking_json(tmp_path):
    ranking = Ranking(
        order=[3, 0, 4, 2, 1], scores=np.arange(5.0), kept=[1, 0, 1, 1, 0], sensor_ids="abcde"
    )
    moved = silent_last(ranking, [True, False, True, False, False])
    assert moved.silent.tolist() == [True, False, True, False, False]
    assert ranking.silent is None  # a ranking that was not looked at says nothing
    moved.write(tmp_path / "ranking.json")
    records = json.loads((tmp_path / "ranking.json").read_text())
    assert [r["silent_in_validation"] for r in records] == [False, False, False, True, True]
    again = Ranking.read(tmp_path / "ranking.json")
    assert again.silent.tolist() == moved.silent.tolist()
    records[0]["silent_in_validation"] = "no"
    with pytest.raises(InputError, match="silent_in_validation"):
        Ranking.from_json(records)


@pytest.mark.parametrize(
    ("constraints", "reasons"),
    [
        # the ranking 1, 3, 0 | 4, 2 with 4 and 2 silent, 3 kept: both silent ones dropped for it
        (SitingConstraints(), ["score", "score", "silent", "score", "silent"]),
        # s0 excluded: the next in line, silent 4, is kept by its rank after all
        (SitingConstraints(exclude_ids=("s0",)), ["exclude", "score", "silent", "score", "score"]),
        # 1.5 km apart: every sensor after 1 and 3 is blocked, and the constraint is the reason
        (
            SitingConstraints(min_spacing_km=1.5),
            ["spacing", "score", "spacing", "score", "spacing"],
        ),
    ],
    ids=["none", "exclude", "spacing"],
)
def test_a_plan_says_a_silent_sensor_was_dropped_for_being_silent(constraints, reasons):
    ids, lat, lon = [f"s{i}" for i in range(5)], np.zeros(5), np.arange(5) * 0.009  # ~1 km
    ranking = silent_last(
        Ranking(order=[1, 3, 0, 4, 2], scores=np.zeros(5)), [False, False, True, False, True]
    )
    siting = constraints.resolve(ids, lat, lon)
    assert siting.select(ranking, 3).reason == reasons
    # without the flags (a rival's ranking, or an older run) the reason is the rank
    plain = Ranking(order=ranking.order, scores=ranking.scores)
    assert "silent" not in siting.select(plain, 3).reason
