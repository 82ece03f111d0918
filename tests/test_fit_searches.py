"""`fit` with `mask.searches`: brief searches pooled into one keep set, resume, constraints."""

from __future__ import annotations

import json

import numpy as np
import pytest

from dynst_cli.fit import fit_run
from dynst_cli.mask import n_keep_for
from dynst_cli.selection import SitingConstraints
from synthetic import tiny_config

pytestmark = pytest.mark.slow  # trains models: run by `make test`, not `make test-fast`


def searched(searches: int = 3, **train):
    config = tiny_config(**train)
    config.mask.searches = searches
    return config


def test_a_searched_fit_keeps_the_sensors_its_searches_kept_most_often(tmp_path, planted):
    run = tmp_path / "run"
    summary = fit_run(planted[0], run, searched(3))
    record = summary["searches"]
    assert record["seeds"] == [0, 1, 2]
    assert (record["epochs_each"], record["frozen_epochs"]) == (1, 1)
    ranking = json.loads((run / "ranking.json").read_text())
    kept = [r for r in ranking if r["kept_in_fit"]]
    dropped = [r for r in ranking if not r["kept_in_fit"]]
    assert len(kept) == n_keep_for(len(ranking), 0.5) == summary["n_keep"]
    assert {r["selection_frequency"] for r in ranking} <= {0.0, 1 / 3, 2 / 3, 1.0}
    # pooled: no dropped sensor was kept by more searches than a kept one
    assert min(r["selection_frequency"] for r in kept) >= max(
        r["selection_frequency"] for r in dropped
    )
    assert 0.0 <= record["mean_pairwise_jaccard"] <= 1.0


def test_progress_counts_every_search_and_the_frozen_epochs(tmp_path, planted):
    seen = []
    fit_run(
        planted[0], tmp_path / "run", searched(3), on_epoch=lambda s, n: seen.append((s.epoch, n))
    )
    # three searches of one epoch each, then one frozen-mask epoch on the pooled keep set
    assert seen == [(1, 4), (2, 4), (3, 4), (4, 4)]


def test_one_search_is_the_fit_it_always_was(tmp_path, planted):
    plain, one = tmp_path / "plain", tmp_path / "one"
    fit_run(planted[0], plain, tiny_config())
    fit_run(planted[0], one, searched(1))
    for name in ("ranking.json", "history.json"):
        assert (plain / name).read_bytes() == (one / name).read_bytes(), name
    assert "searches" not in json.loads((one / "metrics.json").read_text())


@pytest.mark.parametrize("interrupted_at", [1, 2])  # within the first search, and at its end
def test_a_searched_fit_resumed_after_an_interruption_gives_the_same_run(
    tmp_path, planted, interrupted_at
):
    config = searched(2)  # two searches of 2 epochs, then 1 frozen-mask epoch
    straight = tmp_path / "straight"
    fit_run(planted[0], straight, config)

    def interrupt(state, total):
        if state.epoch == interrupted_at:
            raise KeyboardInterrupt

    resumed = tmp_path / "resumed"
    with pytest.raises(KeyboardInterrupt):
        fit_run(planted[0], resumed, config, on_epoch=interrupt)
    fit_run(planted[0], resumed, config, resume=True)
    for name in ("ranking.json", "metrics.json", "history.json"):
        assert (straight / name).read_bytes() == (resumed / name).read_bytes(), name


def test_every_search_holds_the_siting_constraints(tmp_path, planted):
    constraints = SitingConstraints(keep_ids=("s010", "s011"), exclude_ids=("s000", "s001"))
    run = tmp_path / "run"
    fit_run(planted[0], run, searched(3), constraints=constraints)
    ranking = json.loads((run / "ranking.json").read_text())
    kept = {r["sensor_id"] for r in ranking if r["kept_in_fit"]}
    assert {"s010", "s011"} <= kept
    assert not {"s000", "s001"} & kept
    frequency = {r["sensor_id"]: r["selection_frequency"] for r in ranking}
    # every search kept the forced sensors and none kept an excluded one
    assert [frequency[s] for s in ("s010", "s011", "s000", "s001")] == [1.0, 1.0, 0.0, 0.0]


def test_a_consensus_of_searched_fits_gives_each_fit_its_own_searches(tmp_path, planted):
    run = tmp_path / "run"
    summary = fit_run(planted[0], run, searched(2, seeds=2))
    assert summary["consensus"]["seeds"] == [0, 1]
    assert summary["searches"]["seeds"] == [0, 1]
    refit = json.loads((run / "seeds" / "seed-1" / "metrics.json").read_text())
    assert refit["searches"]["seeds"] == [2, 3]
    assert np.isfinite(summary["sparse"]["test"]["mae"])


def test_a_plan_of_a_searched_fit_carries_the_searches_selection_frequency(tmp_path, planted):
    from dynst_cli.prune import prune_run

    run = tmp_path / "run"
    summary = fit_run(planted[0], run, searched(3))
    plan = prune_run(run, 0.7)
    assert plan.selection_frequency_seeds == 3
    assert plan.mean_pairwise_jaccard == pytest.approx(summary["searches"]["mean_pairwise_jaccard"])
    ranking = {
        r["sensor_id"]: r["selection_frequency"]
        for r in json.loads((run / "ranking.json").read_text())
    }
    assert {s.sensor_id: s.selection_frequency for s in plan.sensors} == ranking
