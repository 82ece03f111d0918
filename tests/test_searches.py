"""`mask.searches`: each brief search's configuration and seed, and the pooled keep set."""

from __future__ import annotations

import numpy as np
import pytest

from dynst_cli.config import FitConfig, validate
from dynst_cli.errors import UsageError
from dynst_cli.mask.schedule import SparsitySchedule
from dynst_cli.searches import (
    CHANCE_LEVEL,
    FALLBACK_MASK,
    epochs_each,
    fallback_config,
    falls_back,
    frozen_epochs,
    n_searches,
    pool_candidates,
    pooled_keep,
    pooled_order,
    search_config,
    search_record,
    search_seed,
    survival_steps,
    vote_ties,
)


def searched(epochs: int = 10, searches: int = 3, seed: int = 0) -> FitConfig:
    return FitConfig.from_dict(
        {"mask": {"searches": searches}, "train": {"epochs": epochs, "seed": seed}}
    )


def first_n(order: np.ndarray, n_keep: int) -> np.ndarray:
    keep = np.zeros(order.size, dtype=bool)
    keep[order[:n_keep]] = True
    return keep


def test_the_mask_learning_epochs_are_shared_out_and_the_rest_trains_the_pooled_set():
    config = searched(epochs=10, searches=3)  # 7.5 mask-learning epochs: 2 each, 4 frozen
    assert (epochs_each(config), frozen_epochs(config)) == (2, 4)
    config = searched(epochs=12, searches=3)  # METR-LA's recipe: 9 -> 3 each, 3 frozen
    assert (epochs_each(config), frozen_epochs(config)) == (3, 3)
    config = searched(epochs=4, searches=3)  # too few to leave any: still one frozen epoch
    assert (epochs_each(config), frozen_epochs(config)) == (1, 1)


@pytest.mark.parametrize(
    ("epochs", "searches", "run"), [(10, 3, 3), (4, 3, 3), (3, 3, 2), (2, 3, 1), (1, 3, 1)]
)
def test_a_fit_runs_at_most_one_search_per_mask_learning_epoch(epochs, searches, run):
    config = searched(epochs=epochs, searches=searches)  # 75 % of the epochs learn the mask
    assert n_searches(config) == run
    config.mask.update_end_frac = 0.0  # no mask learning: one search, the fit as it always was
    assert n_searches(config) == 1


def test_each_search_runs_the_whole_schedule_compressed_into_its_epochs():
    config = searched()
    one = search_config(config, 1)
    m = one.mask
    assert (one.train.epochs, one.train.seeds, one.train.dense_reference) == (2, 1, False)
    assert (m.warmup_frac, m.ramp_frac, m.update_end_frac, m.searches) == pytest.approx(
        (0.15 / 0.75, 0.30 / 0.75, 1.0, 1)
    )
    validate(one)
    schedule = SparsitySchedule.from_config(m, 100, m.sparsity)
    phases = {schedule.phase(step) for step in range(100)}
    assert phases == {"warmup", "ramp", "regrow"}  # no frozen-mask steps within a search
    assert config.mask.warmup_frac == 0.15  # the fit's own configuration is untouched


def test_searches_of_different_fit_seeds_never_share_a_seed():
    # a consensus over fit seeds 0, 1, 2 (train.seeds) and compare's refits take consecutive seeds
    seeds = [search_seed(searched(seed=s), k) for s in range(3) for k in range(3)]
    assert sorted(seeds) == list(range(9))
    assert search_config(searched(seed=2), 1).train.seed == 7


def test_the_pooled_keep_set_is_the_sensors_kept_most_often():
    keeps = np.array(
        [
            [1, 1, 0, 0, 1, 0],
            [1, 0, 1, 0, 1, 0],
            [1, 0, 0, 1, 1, 0],
        ],
        dtype=bool,
    )
    # 0 and 4 by all three; of 1, 2, 3 (once each) the first search's own, 1
    assert np.flatnonzero(pooled_keep(keeps, 3, first_n)).tolist() == [0, 1, 4]
    # then by index among the rest kept once
    assert np.flatnonzero(pooled_keep(keeps, 4, first_n)).tolist() == [0, 1, 2, 4]


def test_the_pooled_keep_set_goes_through_the_siting_constraints():
    keeps = np.array([[1, 1, 0, 0], [1, 1, 0, 0]], dtype=bool)

    def never_zero(order: np.ndarray, n_keep: int) -> np.ndarray:
        return first_n(order[order != 0], n_keep)

    assert np.flatnonzero(pooled_keep(keeps, 2, never_zero)).tolist() == [1, 2]


def test_the_candidates_of_an_elimination_are_every_sensor_some_search_kept():
    keeps = np.array([[1, 1, 0, 0, 0, 0], [0, 1, 1, 0, 0, 0], [0, 1, 0, 0, 1, 0]], dtype=bool)
    assert np.flatnonzero(pool_candidates(keeps, first_n)).tolist() == [0, 1, 2, 4]
    # most often first, then the first search's own, then by index; never-kept ones last
    assert pooled_order(keeps).tolist() == [1, 0, 2, 4, 3, 5]


def test_candidates_a_constraint_refuses_are_left_out_of_the_union():
    keeps = np.array([[1, 1, 0, 0], [0, 1, 1, 0]], dtype=bool)

    def never_two(order: np.ndarray, n_keep: int) -> np.ndarray:
        keep = np.zeros(order.size, dtype=bool)
        keep[order[order != 2][:n_keep]] = True
        return keep

    # three in the union, sensor 2 refused: the choice falls back on the next in order
    assert np.flatnonzero(pool_candidates(keeps, never_two)).tolist() == [0, 1, 3]


def test_the_votes_decide_what_they_can_and_leave_their_ties_to_an_elimination():
    keeps = np.array(
        [
            [1, 1, 1, 0, 0, 0],
            [1, 1, 0, 1, 0, 0],
            [1, 0, 0, 0, 1, 0],
        ],
        dtype=bool,
    )
    # three places: 0 (three votes) and 1 (two) are decided; 2, 3 and 4 (one each) tie for one
    decided, candidates = vote_ties(keeps, 3, first_n)
    assert np.flatnonzero(decided).tolist() == [0, 1]
    assert np.flatnonzero(candidates).tolist() == [0, 1, 2, 3, 4]
    # two places: 0 and 1 fill them, nothing ties, and the candidates are the votes' keep set
    decided, candidates = vote_ties(keeps, 2, first_n)
    assert np.flatnonzero(candidates).tolist() == [0, 1]
    assert np.flatnonzero(decided).tolist() == [0]


def test_no_tie_is_left_when_the_searches_kept_fewer_sensors_than_the_places():
    keeps = np.array([[1, 0, 0, 0], [1, 0, 0, 0]], dtype=bool)
    decided, candidates = vote_ties(keeps, 2, first_n)  # the second place: never-kept sensors
    assert np.flatnonzero(candidates).tolist() == [0, 1]
    assert np.flatnonzero(decided).tolist() == [0]


def test_the_record_says_how_much_the_searches_agree():
    keeps = np.array([[1, 1, 0, 0], [1, 0, 1, 0]], dtype=bool)
    record = search_record(searched(searches=2, seed=1), keeps, 0.8)
    assert record["seeds"] == [2, 3]
    assert (record["agreement_p_value"], record["fell_back"]) == (0.8, False)
    assert record["mean_pairwise_jaccard"] == pytest.approx(1 / 3)
    # two random keep sets of 2 of 4 share both (1/6), one (4/6) or none (1/6) of their sensors
    assert record["random_keep_sets_jaccard"] == pytest.approx(1 / 6 + 4 / 6 / 3)


@pytest.mark.parametrize(
    ("mask", "epochs", "message"),
    [
        ({"searches": 2, "settle_share": 1.0}, 10, "use one or the other"),
        ({"searches": 2, "explore_keep": 1.4}, 10, "use one or the other"),
        ({"searches": 0}, 10, "mask.searches"),
        ({"pool_by": "elimination", "drop_criterion": "magnitude"}, 10, "needs mask.drop_crit"),
        ({"pool_by": "ties", "drop_criterion": "magnitude"}, 10, "needs mask.drop_crit"),
    ],
)
def test_searches_that_cannot_run_are_refused(mask, epochs, message):
    config = FitConfig.from_dict({"mask": mask, "train": {"epochs": epochs}})
    with pytest.raises(UsageError, match=message):
        validate(config)


def test_the_magnitude_criterion_pools_by_votes():
    config = FitConfig.from_dict({"mask": {"pool_by": "votes", "drop_criterion": "magnitude"}})
    validate(config)  # nothing to narrow by saliency: allowed
    assert config.mask.pool_by == "votes"


def test_a_search_kept_its_sensors_to_the_end_and_the_others_until_they_were_last_dropped():
    keep = np.array([1, 0, 0, 0], dtype=bool)
    dropped_at = np.array([5, 30, 80, -1])  # sensor 0 dropped once and regrown; 3 never on
    assert survival_steps(keep, dropped_at, 100).tolist() == [100.0, 30.0, 80.0, 0.0]


def test_survival_breaks_the_votes_ties_before_the_first_search_does():
    keeps = np.array([[1, 1, 0, 0], [0, 0, 1, 1]], dtype=bool)  # every sensor one vote
    survival = np.array([[100, 100, 10, 90], [20, 60, 100, 100]], dtype=float)
    # totals 120, 160, 110, 190: the sensors kept longest in all go first
    assert pooled_order(keeps, survival).tolist() == [3, 1, 0, 2]
    assert np.flatnonzero(pooled_keep(keeps, 2, first_n, survival)).tolist() == [1, 3]
    # without survival the tie goes to the first search's sensors
    assert np.flatnonzero(pooled_keep(keeps, 2, first_n)).tolist() == [0, 1]


def test_survival_never_outranks_a_vote():
    keeps = np.array([[1, 1, 0], [1, 0, 1]], dtype=bool)  # sensor 0 has two votes
    survival = np.array([[100, 100, 99], [100, 99, 100]], dtype=float)
    assert pooled_order(keeps, survival)[0] == 0


@pytest.mark.parametrize(
    ("searches", "fallback", "p_value", "expected"),
    [
        (3, True, CHANCE_LEVEL + 0.01, True),  # agreed at chance: one search instead
        (3, True, CHANCE_LEVEL, False),  # agreed above chance: the votes decide
        (3, False, 0.9, False),  # the key is off
        (1, True, 0.9, False),  # one search has nothing to fall back from
    ],
)
def test_a_fit_falls_back_only_when_asked_and_its_searches_agree_at_chance(
    searches, fallback, p_value, expected
):
    config = searched(searches=searches)
    config.mask.searches_fallback = fallback
    assert falls_back(config, p_value) is expected


def test_the_fallback_is_one_search_over_the_fit_s_epochs_and_nothing_else_changes():
    config = searched(epochs=12, searches=3)
    config.mask.searches_fallback = True
    fallback = fallback_config(config)
    assert (fallback.mask.searches, n_searches(fallback)) == (1, 1)
    assert {key: getattr(fallback.mask, key) for key in FALLBACK_MASK} == FALLBACK_MASK
    assert fallback.train == config.train  # same epochs and seed: the fit it would be alone
    assert fallback.mask.sparsity == config.mask.sparsity
    validate(fallback)
