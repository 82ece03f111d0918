"""Settling the keep set when drop-and-regrow ends (`mask.settle_share`, off by default)."""

from __future__ import annotations

import json
from types import SimpleNamespace

import numpy as np
import pytest
import torch

from dynst_cli.fit import fit_run
from synthetic import canonical_dataset, planted_network, tiny_config, write


@pytest.fixture(scope="module")
def twelve_sensors(tmp_path_factory):
    values, _ = planted_network(n_drivers=3, n_followers=9, n_steps=400, seed=2)
    return write(canonical_dataset(values), tmp_path_factory.mktemp("twelve") / "twelve.nc")


@pytest.fixture(scope="module")
def fitted(tmp_path_factory, twelve_sensors):
    run = tmp_path_factory.mktemp("fitted") / "run"
    fit_run(twelve_sensors, run, tiny_config())
    return run


def _loaded(run, share: float):
    from dynst_cli.prune import load_for_run
    from dynst_cli.run import RunDir

    config, _, prep = load_for_run(RunDir(run))
    config.mask.settle_share = share
    return config, prep


def _first_n(order, n_keep, excluded=()):
    keep = np.zeros(len(order), dtype=bool)
    allowed = [i for i in order if i not in excluded]
    keep[allowed[:n_keep]] = True
    return keep


@pytest.mark.slow  # trains models
def test_settling_trains_on_the_candidates_then_eliminates_down_to_the_kept_count(
    fitted, monkeypatch
):
    from dynst_cli import fit as fit_module
    from dynst_cli.train import retrain_on

    config, prep = _loaded(fitted, 0.5)
    gate = prep.model.gate
    keep = gate.keep.numpy() > 0.5
    scores, dropped_at = gate.scores.detach().clone(), gate.dropped_at.clone()
    calls = []

    def recording(prep_, config_, on, round_, stream):
        calls.append(on.copy())
        retrain_on(prep_, config_, on, round_, stream)

    monkeypatch.setattr(fit_module, "retrain_on", recording)
    settled = fit_module.settle_hook(prep, config, _first_n)()
    # 6 kept and round(0.5 * 6) = 3 candidates from the dropped: trained on all 9, then fewer.
    assert int(calls[0].sum()) == 9 and not (keep & ~calls[0]).any()
    sizes = [int(on.sum()) for on in calls]
    assert sizes == sorted(sizes, reverse=True) and min(sizes) > 6
    assert settled.sum() == keep.sum() and not (settled & ~calls[0]).any()
    # The gate is left as it was; the caller applies the result.
    assert (gate.keep.numpy() > 0.5).tolist() == keep.tolist()
    assert torch.equal(gate.scores.detach(), scores) and torch.equal(gate.dropped_at, dropped_at)


@pytest.mark.slow  # trains models
@pytest.mark.parametrize("kept_by", ["backward", "occlusion"])
def test_settling_eliminates_as_the_final_ranking_does(fitted, monkeypatch, kept_by):
    from dynst_cli import saliency
    from dynst_cli.fit import settle_hook

    config, prep = _loaded(fitted, 0.5)
    config.mask.rank_kept_by = kept_by
    occluded = []

    def recording(prep_, starts, batch_size, on):
        occluded.append(int(on.sum()))
        return measure_on_occlusion(prep_, starts, batch_size, on)

    measure_on_occlusion = saliency.measure_on_occlusion
    monkeypatch.setattr(saliency, "measure_on_occlusion", recording)
    settled = settle_hook(prep, config, _first_n)()
    assert settled.sum() == 6
    if kept_by == "backward":  # first-order saliency
        assert occluded == []
    else:  # every pass measured each candidate switched off: 9 on at first, fewer after
        assert occluded[0] == 9 and occluded == sorted(occluded, reverse=True)


@pytest.mark.slow  # trains models
def test_an_excluded_sensor_is_never_a_candidate(fitted, monkeypatch):
    from dynst_cli import fit as fit_module

    config, prep = _loaded(fitted, 100.0)  # every sensor the siting allows
    keep = prep.model.gate.keep.numpy() > 0.5
    excluded = int(np.flatnonzero(~keep)[0])
    calls = []
    monkeypatch.setattr(fit_module, "retrain_on", lambda p, c, on, r, stream: calls.append(on))

    def select(order, n_keep):
        return _first_n(order, n_keep, excluded=(excluded,))

    settled = fit_module.settle_hook(prep, config, select)()
    assert calls and int(calls[0].sum()) == 11 and not any(on[excluded] for on in calls)
    assert not settled[excluded] and settled.sum() == keep.sum()


def test_settling_is_off_by_default_and_for_the_magnitude_criterion():
    from dynst_cli.fit import settle_hook

    prep = SimpleNamespace(model=SimpleNamespace(gate=SimpleNamespace(n_sensors=12)))
    config = tiny_config()
    assert settle_hook(prep, config, _first_n) is None
    config.mask.settle_share, config.mask.drop_criterion = 1.0, "magnitude"
    assert settle_hook(prep, config, _first_n) is None
    config.mask.settle_share, config.mask.explore_keep = 0.0, 1.5
    assert settle_hook(prep, config, _first_n) is None


@pytest.mark.slow  # trains models
def test_a_fit_settles_once_when_drop_and_regrow_ends_and_the_same_every_time(
    tmp_path, twelve_sensors, monkeypatch
):
    from dynst_cli import fit as fit_module
    from dynst_cli.saliency import settle_keep_set

    config = tiny_config(epochs=4)
    config.mask.settle_share = 1.0
    calls = []

    def counting(prep, *args):
        calls.append(int(prep.model.gate.keep.sum()))
        return settle_keep_set(prep, *args)

    monkeypatch.setattr(fit_module, "settle_keep_set", counting)
    rankings = []
    for k in range(2):
        fit_run(twelve_sensors, tmp_path / f"run-{k}", config)
        rankings.append((tmp_path / f"run-{k}" / "ranking.json").read_text())
    assert calls == [6, 6]  # once per fit, at the kept count
    history = json.loads((tmp_path / "run-0" / "history.json").read_text())
    # Updates end at 75 % of the steps, after the third epoch: the fourth trains the settled set.
    assert [h["n_keep"] for h in history][-2:] == [6, 6] and history[-1]["regrown"] == 0
    assert rankings[0] == rankings[1]


@pytest.mark.slow  # trains models
def test_without_retraining_the_candidates_are_measured_switched_on(fitted, monkeypatch):
    from dynst_cli import saliency
    from dynst_cli.fit import settle_hook

    config, prep = _loaded(fitted, 0.5)
    config.mask.rank_retrain_epochs = 0.0
    keep = prep.model.gate.keep.numpy() > 0.5
    passes = []
    measure = saliency.measure_on_saliency

    def recording(prep_, starts, batch_size, on):
        measured = measure(prep_, starts, batch_size, on)
        passes.append((on.copy(), measured))
        return measured

    monkeypatch.setattr(saliency, "measure_on_saliency", recording)
    settle_hook(prep, config, _first_n)()
    on, measured = passes[0]
    # The three dropped candidates are read at their regrow gate value, not as switched off.
    candidates = on & ~keep
    assert int(candidates.sum()) == 3 and (measured[candidates] > 0).all()


@pytest.mark.parametrize(
    ("n", "sparsity", "explore_keep", "explored"),
    [
        (207, 0.5, 1.4, 144),
        (60, 0.9, 1.4, 8),
        (12, 0.5, 3.0, 12),
        (12, 0.5, 1.0, 6),
        (10, 0.0, 2, 10),
    ],
)
def test_drop_and_regrow_keeps_explore_keep_times_the_asked_count_at_most_all(
    n, sparsity, explore_keep, explored
):
    from dynst_cli.mask import exploring_sparsity, n_keep_for

    assert n_keep_for(n, exploring_sparsity(n, sparsity, explore_keep)) == explored


@pytest.mark.parametrize(("criterion", "explored"), [("saliency", 9), ("magnitude", 6)])
def test_only_the_saliency_criterion_widens_drop_and_regrow(criterion, explored):
    # Only elimination by saliency narrows a wider set back to the asked count.
    from dynst_cli.mask import n_keep_for
    from dynst_cli.train import regrow_sparsity

    config = tiny_config(epochs=1)
    config.mask.sparsity, config.mask.explore_keep = 0.5, 1.5
    config.mask.drop_criterion = criterion
    assert n_keep_for(12, regrow_sparsity(config.mask, 12)) == explored


def _explored(epochs: int, **mask):
    config = tiny_config(epochs=epochs)
    config.mask.explore_keep = 1.5
    for key, value in mask.items():
        setattr(config.mask, key, value)
    return config


@pytest.mark.slow  # trains models
def test_an_explored_keep_set_is_narrowed_by_elimination_when_drop_and_regrow_ends(
    tmp_path, twelve_sensors
):
    rankings = []
    for k in range(2):
        summary = fit_run(twelve_sensors, tmp_path / f"run-{k}", _explored(4))
        rankings.append((tmp_path / f"run-{k}" / "ranking.json").read_text())
    history = json.loads((tmp_path / "run-0" / "history.json").read_text())
    # 9 sensors once the ramp ends (1.5 x 6), then the 6 asked for in the frozen epoch.
    assert history[0]["n_keep"] >= 9 and [h["n_keep"] for h in history[1:]] == [9, 6, 6]
    assert history[2]["dropped"] >= 3 and history[3]["dropped"] == history[3]["regrown"] == 0
    kept = [r for r in json.loads(rankings[0]) if r["kept_in_fit"]]
    assert summary["n_keep"] == len(kept) == 6
    assert rankings[0] == rankings[1]  # deterministic


@pytest.mark.slow  # trains models
def test_an_explored_keep_set_is_narrowed_even_in_the_last_epoch_and_within_the_constraints(
    tmp_path, twelve_sensors
):
    from dynst_cli.selection import SitingConstraints

    constraints = SitingConstraints(keep_ids=("s010", "s011"), exclude_ids=("s000",))
    run = tmp_path / "run"
    # Two epochs: drop-and-regrow ends in the last one, so no frozen epoch follows.
    fit_run(twelve_sensors, run, _explored(2), constraints=constraints)
    history = json.loads((run / "history.json").read_text())
    assert history[-1]["n_keep"] == 6
    kept = {
        r["sensor_id"] for r in json.loads((run / "ranking.json").read_text()) if r["kept_in_fit"]
    }
    assert len(kept) == 6 and {"s010", "s011"} <= kept and "s000" not in kept
