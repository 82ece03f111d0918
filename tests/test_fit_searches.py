"""`fit` with `mask.searches`: brief searches pooled into one keep set, resume, constraints."""

from __future__ import annotations

import json

import numpy as np
import pytest
import yaml

from dynst_cli.cli import main
from dynst_cli.fit import fit_run
from dynst_cli.mask import n_keep_for
from dynst_cli.selection import SitingConstraints
from synthetic import TINY_RECIPE, tiny_config

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


@pytest.mark.parametrize(
    ("pool_by", "epochs", "interrupted_at"),
    [
        ("votes", 4, 1),  # two searches of 2 epochs, then 1 frozen-mask epoch: within the first
        ("votes", 4, 2),  # search, and at its end
        ("elimination", 8, 2),  # searches of 3 epochs, 1 frozen epoch on their union, 1 after
        ("survival", 4, 1),  # the first search's drops come back from its checkpoint
    ],
)
def test_a_searched_fit_resumed_after_an_interruption_gives_the_same_run(
    tmp_path, planted, pool_by, epochs, interrupted_at
):
    config = searched(2, epochs=epochs)
    config.mask.pool_by = pool_by
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


def pooled_by_elimination(searches: int = 3, pool_by: str = "elimination", **train):
    config = searched(searches, **train)
    config.mask.pool_by = pool_by
    return config


@pytest.mark.parametrize("pool_by", ["elimination", "ties"])
def test_pooled_by_elimination_the_keep_set_comes_from_the_sensors_the_searches_kept(
    tmp_path, planted, pool_by
):
    run = tmp_path / "run"
    seen = []
    config = pooled_by_elimination(3, pool_by, epochs=8)  # 2 epochs per search, 2 frozen
    summary = fit_run(planted[0], run, config, on_epoch=lambda s, n: seen.append((s.epoch, n)))
    ranking = json.loads((run / "ranking.json").read_text())
    kept = [r for r in ranking if r["kept_in_fit"]]
    assert len(kept) == n_keep_for(len(ranking), 0.5) == summary["n_keep"]
    # every kept sensor was kept by some search, and the union was larger than the keep set
    assert all(r["selection_frequency"] > 0 for r in kept)
    assert sum(r["selection_frequency"] > 0 for r in ranking) > len(kept)
    if pool_by == "ties":  # what the votes decide stays: only their ties are eliminated from
        boundary = min(r["selection_frequency"] for r in kept)
        assert all(r["kept_in_fit"] for r in ranking if r["selection_frequency"] > boundary)
    # the epochs on the union are counted with the frozen ones, the total is unchanged
    assert [epoch for epoch, _ in seen] == list(range(1, 9)) and {n for _, n in seen} == {8}
    assert np.isfinite(summary["sparse"]["test"]["mae"])


def test_pooling_by_elimination_holds_the_siting_constraints(tmp_path, planted):
    constraints = SitingConstraints(keep_ids=("s010", "s011"), exclude_ids=("s000", "s001"))
    run = tmp_path / "run"
    fit_run(planted[0], run, pooled_by_elimination(3, epochs=8), constraints=constraints)
    ranking = json.loads((run / "ranking.json").read_text())
    kept = {r["sensor_id"] for r in ranking if r["kept_in_fit"]}
    assert {"s010", "s011"} <= kept and not {"s000", "s001"} & kept


def test_the_fit_says_how_much_its_searches_agreed_beside_random_keep_sets(
    tmp_path, planted, capsys
):
    recipe = tmp_path / "tiny.yaml"
    recipe.write_text(
        yaml.safe_dump({**TINY_RECIPE, "mask": {**TINY_RECIPE["mask"], "searches": 3}})
    )
    run = tmp_path / "run"
    assert main(["fit", str(planted[0]), "-o", str(run), "--recipe", str(recipe)]) == 0
    record = json.loads((run / "metrics.json").read_text())["searches"]
    said = " ".join(capsys.readouterr().out.split())  # the console wraps long lines
    assert f"Jaccard of {record['mean_pairwise_jaccard']:.2f}" in said
    assert f"random would overlap by {record['random_keep_sets_jaccard']:.2f}" in said


def test_pooled_by_survival_the_same_searches_decide_and_the_votes_still_rule(tmp_path, planted):
    runs = {}
    for pool_by in ("votes", "survival"):
        config = searched(3)
        config.mask.pool_by = pool_by
        fit_run(planted[0], tmp_path / pool_by, config)
        runs[pool_by] = json.loads((tmp_path / pool_by / "ranking.json").read_text())
    frequency = {p: {r["sensor_id"]: r["selection_frequency"] for r in runs[p]} for p in runs}
    assert frequency["votes"] == frequency["survival"]  # only the pooling differs
    kept = [r for r in runs["survival"] if r["kept_in_fit"]]
    dropped = [r for r in runs["survival"] if not r["kept_in_fit"]]
    assert len(kept) == n_keep_for(len(runs["survival"]), 0.5)
    assert min(r["selection_frequency"] for r in kept) >= max(
        r["selection_frequency"] for r in dropped
    )
