"""Stability of DynST's keep set: Jaccard overlap, selection frequency, plans that carry them."""

from __future__ import annotations

import numpy as np
import pytest

from dynst_cli.compare.stability import (
    stability,
    summarise,
    with_selection_frequency,
)
from dynst_cli.errors import InputError, UsageError
from dynst_cli.plan.schema import PLAN_FORMAT, Plan, read_plan, write_plan
from dynst_cli.selection.consensus import (
    chance_of_agreement,
    jaccard,
    mean_pairwise_jaccard,
    random_jaccard,
    selection_frequency,
)


def keep(n, *kept):
    out = np.zeros(n, dtype=bool)
    out[list(kept)] = True
    return out


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        (keep(6, 0, 1, 2), keep(6, 0, 1, 2), 1.0),
        (keep(6, 0, 1, 2), keep(6, 1, 2, 3), 0.5),  # 2 shared of 4 in the union
        (keep(6, 0, 1), keep(6, 4, 5), 0.0),
        (keep(6), keep(6), 1.0),  # two empty keep sets agree
    ],
)
def test_jaccard_has_the_known_answer(a, b, expected):
    assert jaccard(a, b) == pytest.approx(expected)


def test_mean_pairwise_jaccard_averages_every_pair():
    keeps = np.stack([keep(6, 0, 1, 2), keep(6, 0, 1, 2), keep(6, 1, 2, 3)])
    assert mean_pairwise_jaccard(keeps) == pytest.approx((1.0 + 0.5 + 0.5) / 3)


def test_mean_pairwise_jaccard_needs_two_keep_sets():
    with pytest.raises(UsageError):
        mean_pairwise_jaccard(np.stack([keep(4, 0)]))


@pytest.mark.parametrize(
    ("n_keep", "n_sensors", "expected"),
    [
        (1, 2, 0.5),  # the same sensor (1) or the other (0), equally likely
        (1, 3, 1 / 3),
        (2, 3, (1 / 3) * 1.0 + (2 / 3) * (1 / 3)),  # share both (1/3) or one of three (2/3)
        (3, 3, 1.0),  # every sensor kept: always the same set
        (0, 3, 1.0),  # two empty sets agree, as `jaccard` says
    ],
)
def test_random_keep_sets_overlap_by_the_known_answer(n_keep, n_sensors, expected):
    assert random_jaccard(n_keep, n_sensors) == pytest.approx(expected)


def test_random_keep_sets_overlap_as_drawn_ones_do():
    rng = np.random.default_rng(0)
    n_sensors, n_keep = 60, 6
    drawn = [
        jaccard(keep(n_sensors, *rng.choice(n_sensors, n_keep, replace=False)),
                keep(n_sensors, *rng.choice(n_sensors, n_keep, replace=False)))
        for _ in range(20_000)
    ]  # fmt: skip
    assert random_jaccard(n_keep, n_sensors) == pytest.approx(np.mean(drawn), abs=0.003)


def test_keep_sets_that_share_one_of_two_sensors_agree_as_often_as_random_ones_do():
    # two random pairs of 4 sensors share at least one sensor (Jaccard >= 1/3) with chance 5/6
    keeps = np.stack([keep(4, 0, 1), keep(4, 0, 2)])
    assert chance_of_agreement(keeps, draws=20_000) == pytest.approx(5 / 6, abs=0.01)


def test_identical_keep_sets_agree_more_than_every_random_draw():
    keeps = np.stack([keep(60, 3, 7, 11, 20, 41, 59)] * 3)
    assert chance_of_agreement(keeps, draws=500) == 1 / 501  # none of 500 draws agrees as much


def test_disjoint_keep_sets_agree_no_more_than_any_random_draw():
    keeps = np.stack([keep(60, 0, 1, 2), keep(60, 3, 4, 5), keep(60, 6, 7, 8)])
    assert chance_of_agreement(keeps, draws=500) == 1.0


def test_the_test_of_agreement_is_seeded():
    rng = np.random.default_rng(3)
    keeps = np.stack([keep(30, *rng.choice(30, 10, replace=False)) for _ in range(3)])
    assert chance_of_agreement(keeps, seed=1) == chance_of_agreement(keeps, seed=1)
    assert 0.0 < chance_of_agreement(keeps, seed=1) <= 1.0


def test_selection_frequency_is_the_share_of_keep_sets():
    keeps = np.stack([keep(4, 0, 1), keep(4, 0, 2), keep(4, 0, 3), keep(4, 0, 1)])
    assert selection_frequency(keeps).tolist() == [1.0, 0.5, 0.25, 0.25]


def test_summarise_names_sensors_in_dataset_order():
    keeps = np.stack([keep(3, 0, 1), keep(3, 0, 2)])
    record = summarise(keeps, ["a", "b", "c"], 0.33)
    assert record["seeds"] == 2 and record["n_keep"] == 2
    assert record["selection_frequency"] == {"a": 1.0, "b": 0.5, "c": 0.5}
    assert record["mean_jaccard"] == pytest.approx(1 / 3)


def small_plan(n=4, n_keep=2) -> dict:
    sensors = [
        {
            "sensor_id": f"s{i:03d}",
            "lat": 34.0 + 0.01 * i,
            "lon": -118.0,
            "rank": i + 1,
            "score": 1.0 / (i + 1),
            "keep": i < n_keep,
            "reason": "score",
        }
        for i in range(n)
    ]
    metric = {"mae": 1.0, "rmse": 1.5, "mape": None}
    return {
        "format": PLAN_FORMAT,
        "sparsity": 0.5,
        "n_sensors": n,
        "n_keep": n_keep,
        "backbone": "stid",
        "dataset_sha256": "0" * 64,
        "variables": ["x"],
        "units": {"x": "1"},
        "grid": None,
        "constraints": {},
        "notes": [],
        "metrics": {"test": metric, "dense_test": metric},
        "sensors": sensors,
    }


def test_with_selection_frequency_gives_a_valid_plan(tmp_path):
    plan = Plan.from_json(small_plan())
    frequency = {"s000": 1.0, "s001": 2 / 3, "s002": 1 / 3, "s003": 0.0}
    out = with_selection_frequency(plan, frequency, 3)
    write_plan(out, tmp_path / "plan.json")
    back = read_plan(tmp_path / "plan.json")
    assert back.selection_frequency_seeds == 3
    assert [s.selection_frequency for s in back.sensors] == list(frequency.values())
    assert plan.selection_frequency_seeds is None  # the input plan is left as it was


def test_with_selection_frequency_refuses_a_plan_of_another_network():
    with pytest.raises(InputError, match="s003"):
        frequency = {"s000": 1.0, "s001": 1.0, "s002": 0.0}
        with_selection_frequency(Plan.from_json(small_plan()), frequency, 2)


@pytest.mark.slow
def test_stability_refits_report_frequencies_of_the_fit_sparsity(fitted_run, tmp_path):
    record = stability(fitted_run, 2, epochs=1, workdir=tmp_path)
    frequency = np.array(list(record["selection_frequency"].values()))
    assert record["seeds"] == 2
    assert ((frequency >= 0) & (frequency <= 1)).all()
    # every refit keeps exactly n_keep sensors, so the frequencies add up to n_keep
    assert frequency.sum() == pytest.approx(record["n_keep"])
    assert 0.0 <= record["mean_jaccard"] <= 1.0
    assert list(tmp_path.iterdir()) == []  # the temporary refits are gone


@pytest.mark.slow
def test_stability_needs_two_seeds(fitted_run):
    with pytest.raises(UsageError, match="at least 2"):
        stability(fitted_run, 1)
