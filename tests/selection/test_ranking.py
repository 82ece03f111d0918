import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from dynst_cli.errors import InputError
from dynst_cli.mask import n_keep_for
from dynst_cli.selection import Ranking, Siting, rank_sensors


def test_kept_above_dropped_and_dropped_by_recency():
    keep = np.array([False, True, False, True, False])
    scores = np.array([5.0, 0.2, 0.1, -0.8, 0.3])
    dropped_at = np.array([10, -1, 40, -1, 40])
    r = rank_sensors(keep, scores, dropped_at)
    # kept: 3 (|m| 0.8), 1; dropped at 40: 4 (|m| 0.3), 2; dropped at 10: 0.
    assert r.order.tolist() == [3, 1, 4, 2, 0]
    assert r.rank.tolist() == [5, 2, 4, 1, 3]
    assert r.scores.tolist() == [5.0, 0.2, 0.1, 0.8, 0.3]


def test_ties_break_by_index():
    r = rank_sensors(np.ones(4, bool), np.array([1.0, 2.0, 1.0, 2.0]), np.full(4, -1))
    assert r.order.tolist() == [1, 3, 0, 2]


@given(st.data(), st.integers(1, 60))
def test_ranks_are_a_permutation_with_kept_first(data, n):
    keep = np.array(data.draw(st.lists(st.booleans(), min_size=n, max_size=n)))
    scores = np.array(data.draw(st.lists(st.floats(-3, 3), min_size=n, max_size=n)))
    dropped_at = np.array(data.draw(st.lists(st.integers(-1, 50), min_size=n, max_size=n)))
    r = rank_sensors(keep, scores, dropped_at)
    assert sorted(r.rank.tolist()) == list(range(1, n + 1))
    assert np.array_equal(r.rank[r.order], np.arange(1, n + 1))
    n_kept = int(keep.sum())
    assert keep[r.order[:n_kept]].all() and not keep[r.order[n_kept:]].any()


@given(st.integers(0, 500), st.floats(0.0, 0.99))
def test_selection_keeps_n_minus_rounded_off_count(n, sparsity):
    r = rank_sensors(np.ones(n, bool), np.linspace(1, 2, n), np.full(n, -1))
    keep = Siting.free(n).select(r, n_keep_for(n, sparsity)).keep
    assert keep.sum() == n - int(np.floor(sparsity * n + 0.5))


def test_n_keep_for_rounds_halves_up():
    assert n_keep_for(5, 0.5) == 2  # 2.5 off -> 3 off (Python's round would say 2)
    assert n_keep_for(7, 0.5) == 3  # 3.5 off -> 4 off
    assert n_keep_for(10, 0.0) == 10


def test_ranking_json_round_trips(tmp_path):
    r = rank_sensors(
        np.array([True, False, True]), np.array([0.5, -2.0, 1.5]), np.array([-1, 7, -1]), "abc"
    )
    assert [e["sensor_id"] for e in r.to_json()] == ["c", "a", "b"]
    r.write(tmp_path / "ranking.json")
    back = Ranking.read(tmp_path / "ranking.json")
    assert back.order.tolist() == r.order.tolist() and back.sensor_ids == ("a", "b", "c")
    assert back.scores.tolist() == [0.5, 2.0, 1.5] and back.kept.tolist() == [True, False, True]
    assert back.to_json() == r.to_json() and back.selection_frequency is None


def test_ranking_json_carries_a_selection_frequency():
    r = Ranking(np.array([1, 0]), np.ones(2), np.ones(2, bool), ("a", "b"), np.array([0.5, 1.0]))
    records = r.to_json()
    assert [e["selection_frequency"] for e in records] == [1.0, 0.5]
    assert Ranking.from_json(records).selection_frequency.tolist() == [0.5, 1.0]


@pytest.mark.parametrize(
    ("records", "message"),
    [
        ({"index": 0}, "list"),
        ([{"index": 0, "sensor_id": "a", "rank": 1, "score": 1.0}], "kept_in_fit"),
        (
            [{"index": 1, "sensor_id": "a", "rank": 1, "score": 1.0, "kept_in_fit": True}],
            "permutation",
        ),
    ],
)
def test_a_damaged_ranking_is_bad_input(records, message):
    with pytest.raises(InputError, match=message):
        Ranking.from_json(records, "ranking.json")
