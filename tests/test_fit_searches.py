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
    """A fit of `searches` brief searches pooled by their votes, whatever their agreement."""
    config = tiny_config(**train)
    config.mask.searches = searches
    config.mask.searches_fallback = False
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


def assert_resumes_to_the_same_run(tmp_path, dataset, config, interrupted_at, *more_files):
    """A fit interrupted after epoch `interrupted_at` and resumed writes what a straight one does:
    ranking, metrics, history and `more_files`, byte for byte."""
    straight = tmp_path / "straight"
    fit_run(dataset, straight, config)

    def interrupt(state, total):
        if state.epoch == interrupted_at:
            raise KeyboardInterrupt

    resumed = tmp_path / "resumed"
    with pytest.raises(KeyboardInterrupt):
        fit_run(dataset, resumed, config, on_epoch=interrupt)
    fit_run(dataset, resumed, config, resume=True)
    for name in ("ranking.json", "metrics.json", "history.json", *more_files):
        assert (straight / name).read_bytes() == (resumed / name).read_bytes(), name


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
    assert_resumes_to_the_same_run(tmp_path, planted[0], config, interrupted_at)


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


def falling_back(monkeypatch, searches: int = 2, epochs: int = 4):
    """A searched fit with `mask.searches_fallback`, its searches judged to agree at chance."""
    from dynst_cli import searches as searches_module

    monkeypatch.setattr(searches_module, "CHANCE_LEVEL", -1.0)  # any p-value is above it
    config = searched(searches, epochs=epochs)
    config.mask.searches_fallback = True
    return config


def test_a_fit_whose_searches_agree_at_chance_is_the_one_search_fit_it_falls_back_to(
    tmp_path, planted, monkeypatch
):
    from dynst_cli.searches import fallback_config

    config = falling_back(monkeypatch)
    fell, alone = tmp_path / "fell", tmp_path / "alone"
    summary = fit_run(planted[0], fell, config)
    fit_run(planted[0], alone, fallback_config(config))
    assert summary["searches"]["fell_back"] is True
    assert 0.0 < summary["searches"]["agreement_p_value"] <= 1.0
    # its keep set, ranking, weights and history are that fit's: the brief searches only decided
    for name in ("ranking.json", "history.json", "model.pt"):
        assert (fell / name).read_bytes() == (alone / name).read_bytes(), name
    assert "selection_frequency" not in json.loads((fell / "ranking.json").read_text())[0]


def test_a_fit_whose_searches_agree_above_chance_pools_them_as_without_the_key(
    tmp_path, planted, monkeypatch
):
    from dynst_cli import searches as searches_module

    monkeypatch.setattr(searches_module, "CHANCE_LEVEL", 1.0)  # no p-value is above it
    config = searched(2, epochs=4)
    off, on = tmp_path / "off", tmp_path / "on"
    fit_run(planted[0], off, config)
    config.mask.searches_fallback = True
    summary = fit_run(planted[0], on, config)
    assert summary["searches"]["fell_back"] is False
    for name in ("ranking.json", "history.json", "model.pt"):
        assert (off / name).read_bytes() == (on / name).read_bytes(), name


def test_progress_counts_the_searches_then_the_epochs_of_the_fallback(
    tmp_path, planted, monkeypatch
):
    seen = []
    config = falling_back(monkeypatch)  # two searches of 2 epochs, then 4 epochs
    fit_run(planted[0], tmp_path / "run", config, on_epoch=lambda s, n: seen.append((s.epoch, n)))
    assert seen == [(1, 5), (2, 5), (3, 5), (4, 5), (5, 8), (6, 8), (7, 8), (8, 8)]


@pytest.mark.parametrize("interrupted_at", [1, 4, 6])  # first search, second, the fallback
def test_a_fit_that_fell_back_resumed_after_an_interruption_gives_the_same_run(
    tmp_path, planted, monkeypatch, interrupted_at
):
    config = falling_back(monkeypatch)
    assert_resumes_to_the_same_run(tmp_path, planted[0], config, interrupted_at, "model.pt")


def test_the_fallback_holds_the_siting_constraints(tmp_path, planted, monkeypatch):
    constraints = SitingConstraints(keep_ids=("s010", "s011"), exclude_ids=("s000", "s001"))
    run = tmp_path / "run"
    fit_run(planted[0], run, falling_back(monkeypatch), constraints=constraints)
    ranking = json.loads((run / "ranking.json").read_text())
    kept = {r["sensor_id"] for r in ranking if r["kept_in_fit"]}
    assert {"s010", "s011"} <= kept and not {"s000", "s001"} & kept


def test_the_fit_says_when_it_fell_back(tmp_path, planted, monkeypatch, capsys):
    from dynst_cli import searches as searches_module

    monkeypatch.setattr(searches_module, "CHANCE_LEVEL", -1.0)
    recipe = tmp_path / "tiny.yaml"
    mask = {**TINY_RECIPE["mask"], "searches": 2, "searches_fallback": True}
    recipe.write_text(yaml.safe_dump({**TINY_RECIPE, "mask": mask}))
    assert main(["fit", str(planted[0]), "-o", str(tmp_path / "run"), "--recipe", str(recipe)]) == 0
    said = " ".join(capsys.readouterr().out.split())
    assert "They agreed no more than chance" in said and "mask.searches_fallback" in said
