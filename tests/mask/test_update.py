import numpy as np
import pytest

from dynst_cli.mask.update import (
    drop_and_regrow,
    n_swaps,
    priority_order,
    prune_to,
    regrow_init,
)
from dynst_cli.selection import Siting

KEEP = np.array([True, True, True, True, False, False, False, False])
SCORES = np.array([0.9, -0.1, 0.5, 0.7, 0.0, 0.2, 0.3, 0.05])
GRAD = np.array([9.0, 9.0, 9.0, 9.0, 1.0, 5.0, 2.0, 0.5])
FIRST = Siting.free(8).keep_fn()  # no siting constraint: keep the first n


def test_priority_order_kept_first_then_by_magnitude():
    assert priority_order(KEEP, SCORES).tolist() == [0, 3, 2, 1, 6, 5, 7, 4]


def test_prune_to_drops_smallest_magnitudes():
    assert np.flatnonzero(prune_to(KEEP, SCORES, 2, FIRST)).tolist() == [0, 3]


def test_prune_to_never_regrows():
    out = prune_to(KEEP, SCORES, 6, FIRST)
    assert np.array_equal(out, KEEP) and out is not KEEP


def test_drop_and_regrow_swaps_smallest_score_for_largest_gradient():
    new, n_dropped, n_regrown = drop_and_regrow(KEEP, SCORES, GRAD, fraction=0.3, select=FIRST)
    # k = floor(0.3 * 4) = 1: drop sensor 1 (|m| = 0.1), regrow sensor 5 (gradient 5).
    assert (n_dropped, n_regrown) == (1, 1)
    assert np.flatnonzero(new).tolist() == [0, 2, 3, 5]
    assert new.sum() == KEEP.sum()


def test_just_dropped_sensor_is_not_regrown_in_the_same_update():
    new, _, _ = drop_and_regrow(KEEP, SCORES, GRAD, fraction=0.5, select=FIRST)
    assert not new[1] and not new[2]
    assert np.flatnonzero(new).tolist() == [0, 3, 5, 6]


def test_ties_break_by_sensor_index():
    keep = np.array([True, True, True, False, False, False])
    scores = np.array([1.0, 0.5, 0.5, 0.0, 0.0, 0.0])
    grad = np.array([0.0, 0.0, 0.0, 3.0, 3.0, 3.0])
    new, _, _ = drop_and_regrow(keep, scores, grad, fraction=0.34, select=Siting.free(6).keep_fn())
    # Equal smallest scores: the higher index goes; equal gradients: the lower index returns.
    assert np.flatnonzero(new).tolist() == [0, 1, 3]


@pytest.mark.parametrize("fraction", [0.0, 0.2, 1.0, 5.0])
def test_count_preserved(fraction):
    new, n_dropped, n_regrown = drop_and_regrow(KEEP, SCORES, GRAD, fraction, FIRST)
    assert new.sum() == KEEP.sum()
    assert n_dropped == n_regrown <= 4


def test_constrained_select_gets_the_final_word():
    def never_sensor_5(order, n_keep):
        keep = np.zeros(order.size, dtype=bool)
        keep[order[order != 5][:n_keep]] = True
        return keep

    new, n_dropped, n_regrown = drop_and_regrow(KEEP, SCORES, GRAD, 0.3, select=never_sensor_5)
    assert not new[5] and new.sum() == 4
    assert (n_dropped, n_regrown) == (0, 0)


def test_regrow_init_resets_regrown_scores_to_mean_kept_magnitude():
    after = np.array([True, False, True, True, False, True, False, False])
    out = regrow_init(SCORES, KEEP, after)
    assert out[5] == pytest.approx((0.9 + 0.5 + 0.7) / 3)
    assert np.array_equal(np.delete(out, 5), np.delete(SCORES, 5))


@pytest.mark.parametrize(
    ("fraction", "n_kept", "n_off", "expected"),
    [(0.3, 20, 20, 6), (0.05, 2, 10, 1), (0.01, 1, 11, 1), (0.0, 2, 10, 0), (0.9, 10, 2, 2)],
)
def test_n_swaps_is_at_least_one_while_alpha_is_positive(fraction, n_kept, n_off, expected):
    assert n_swaps(fraction, n_kept, n_off) == expected


def test_drop_and_regrow_swaps_one_sensor_of_two_kept():
    keep = np.zeros(12, dtype=bool)
    keep[[0, 1]] = True
    worth = np.arange(12, dtype=float)  # sensor 0 is the weakest kept, 11 the best dropped
    new, n_dropped, n_regrown = drop_and_regrow(
        keep, worth, worth, fraction=0.05, select=Siting.free(12).keep_fn()
    )
    assert (n_dropped, n_regrown) == (1, 1)
    assert np.flatnonzero(new).tolist() == [1, 11]


def test_a_sensor_just_regrown_is_not_dropped_during_its_grace():
    from types import SimpleNamespace

    from dynst_cli.train import protect_regrown

    mask = SimpleNamespace(regrow_grace=2, update_every=10)
    keep = np.array([True, True, True, False])
    score = np.array([0.9, 0.1, 0.5, 0.8])  # sensor 1 was regrown at step 90 and reads low
    grown_at = np.array([-1, 90, 40, -1])
    protected = protect_regrown(score, grown_at, 100, mask)
    new, _, _ = drop_and_regrow(keep, protected, score, 0.34, Siting.free(4).keep_fn())
    assert new.tolist() == [True, True, False, True]  # the weakest unprotected one goes
    # Two updates later the grace is over; without grace it goes at once.
    assert protect_regrown(score, grown_at, 111, mask)[1] == 0.1
    mask.regrow_grace = 0
    assert protect_regrown(score, grown_at, 100, mask) is score
