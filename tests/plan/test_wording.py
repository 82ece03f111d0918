"""Plans in plain words (dynst_cli.plan.wording)."""

from __future__ import annotations

import pytest

from dynst_cli.plan.wording import (
    MAX_LISTED_IDS,
    cost_sentence,
    decimals_for,
    kept_sentence,
    percent_change,
)


def _small_plan() -> dict:
    ids = ["DUB", "SHA", "BIR", "VAL", "MAL", "CLA"]
    sensors = [
        {"sensor_id": sid, "rank": i + 1, "keep": i < 3, "mae_dense": 3.0, "mae_reduced": 3.0}
        for i, sid in enumerate(ids)
    ]
    sensors[2]["mae_reduced"] = 3.27  # BIR: +9 %
    return {
        "n_sensors": 6,
        "n_keep": 3,
        "grid": None,
        "variables": ["wind"],
        "units": {"wind": "knots"},
        "metrics": {"test": {"mae": 3.8608}, "dense_test": {"mae": 3.8}},
        "most_affected": ["BIR"],
        "sensors": sensors,
    }


def test_the_example_sentence_of_the_operators():
    plan = _small_plan()
    assert kept_sentence(plan) == "Keep 3 of 6 sensors: DUB, SHA, BIR."
    assert cost_sentence(plan) == (
        "Switching off the other 3 sensors raises the network's test MAE from 3.80 to "
        "3.86 knots (+1.6 %); the largest rise is at BIR (+9.0 %)."
    )


def test_long_keep_lists_are_cut_with_a_count(point_plan):
    sentence = kept_sentence(point_plan)
    assert sentence.endswith(f" and {point_plan['n_keep'] - MAX_LISTED_IDS} more.")
    assert sentence.count(",") == MAX_LISTED_IDS - 1


def test_grid_plans_speak_of_cells_and_an_improvement_is_a_fall(grid_plan):
    grid_plan["metrics"]["test"]["mae"] = 2.5
    grid_plan["metrics"]["dense_test"]["mae"] = 2.6
    assert kept_sentence(grid_plan).startswith("Keep 162 of 1617 grid cells: ")
    assert "grid cells lowers the network's test MAE from 2.60 to 2.50 K (-3.8 %)" in (
        cost_sentence(grid_plan)
    )


@pytest.mark.parametrize(
    ("values", "decimals"), [((3.8, 3.86), 2), ((0.81, 0.9), 3), ((0.012,), 4), ((120.0,), 2)]
)
def test_decimals_show_three_significant_digits_of_the_smallest(values, decimals):
    assert decimals_for(*values) == decimals


def test_percent_change_has_one_decimal_below_ten_percent():
    assert percent_change(3.86, 3.8) == "+1.6 %"
    assert percent_change(5.0, 4.0) == "+25 %"
    assert percent_change(1.0, 0.0) == "n/a"
