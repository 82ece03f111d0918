"""Exchanges after the final ranking (`mask.exchange_trials`, exchange.py)."""

from __future__ import annotations

import json
from types import SimpleNamespace

import numpy as np
import pytest
import torch

from dynst_cli.bundle import ModelBundle
from dynst_cli.exchange import exchanged, swapped_order
from dynst_cli.fit import fit_run
from dynst_cli.run import RunDir
from dynst_cli.selection import Ranking, Siting
from synthetic import GatedModel, canonical_dataset, planted_network, tiny_config, write


def _free(n_sensors: int):
    """The keep choice without siting constraints, as a fit makes it."""
    return Siting.free(n_sensors).keep_fn()


def _fitted(n_sensors: int, order: list[int], n_keep: int):
    model = GatedModel(n_sensors)
    order = np.array(order)
    keep = _free(n_sensors)(order, n_keep)
    model.gate.set_keep(keep, 0)
    with torch.no_grad():  # what drop-and-regrow left: kept scores about 1, a dropped one 0
        model.gate.scores.copy_(torch.where(torch.from_numpy(keep), 1.0, 0.0))
    ranking = Ranking(order=order, scores=np.zeros(n_sensors), kept=keep)
    return SimpleNamespace(model=model, device=torch.device("cpu")), ranking


def test_a_swap_trades_the_kth_weakest_kept_sensor_for_the_kth_best_dropped_one():
    order = np.array([4, 2, 0, 1, 3, 5])
    assert swapped_order(order, 3, 0).tolist() == [4, 2, 1, 0, 3, 5]
    assert swapped_order(order, 3, 1).tolist() == [4, 3, 0, 1, 2, 5]
    assert swapped_order(order, 3, 3) is None  # no fourth-weakest kept sensor
    assert swapped_order(order, 5, 1) is None  # no second dropped one


def test_swaps_stand_while_they_beat_the_same_training_without_them():
    prep, ranking = _fitted(6, [0, 1, 2, 3, 4, 5], 3)
    gate, trained = prep.model.gate, []

    def retrain(keep, round_):
        trained.append((np.flatnonzero(keep).tolist(), round_))
        gate.set_keep(keep, -1)
        # a sensor switched on is read at the regrow gate value, not the 0 it was dropped with
        assert gate.gates()[torch.from_numpy(keep)].min() > 0
        with torch.no_grad():
            prep.model.weight.add_(1.0)

    def validation_mae():  # sensors 3 and 4 are worth 0.1 each; training alone is worth nothing
        return 1.0 - 0.1 * len({3, 4} & set(np.flatnonzero(gate.keep.numpy()).tolist()))

    new, made = exchanged(prep, ranking, 5, _free(6), retrain, validation_mae)
    # each trial trains the keep set as it is (the reference), then the swap, from one start:
    # 2 <-> 3 and 1 <-> 4 stand; 0 <-> 5 does not lower the error and ends the exchanges
    assert trained == [
        ([0, 1, 2], 0), ([0, 1, 3], 0),
        ([0, 1, 3], 1), ([0, 3, 4], 1),
        ([0, 3, 4], 2), ([3, 4, 5], 2),
    ]  # fmt: skip
    assert made == 2
    assert new.order.tolist() == [0, 4, 3, 2, 1, 5]
    assert np.flatnonzero(new.kept).tolist() == [0, 3, 4]
    # the model is the one trained for the last swap that stood, its mask the new keep set
    assert prep.model.weight.item() == 2.0
    assert np.flatnonzero(gate.keep.numpy()).tolist() == [0, 3, 4]


def test_no_swap_is_tried_that_the_siting_constraints_refuse_or_without_a_validation_period():
    prep, ranking = _fitted(4, [0, 1, 2, 3], 2)
    retrain = pytest.fail  # never called

    def never_two(order, n_keep):  # sensor 2 may not be kept
        return _free(4)(np.array([i for i in order if i != 2] + [2]), n_keep)

    assert exchanged(prep, ranking, 3, never_two, retrain, lambda: 1.0)[1] == 0

    def retrain_alone(keep, round_):
        prep.model.gate.set_keep(keep, -1)

    new, made = exchanged(prep, ranking, 3, _free(4), retrain_alone, lambda: None)
    assert made == 0 and new.order.tolist() == [0, 1, 2, 3]
    assert np.flatnonzero(prep.model.gate.keep.numpy()).tolist() == [0, 1]


@pytest.mark.slow  # trains models
def test_a_fit_with_exchanges_keeps_the_model_and_the_plan_on_one_keep_set(tmp_path):
    values, _ = planted_network(n_drivers=3, n_followers=9, n_steps=400, seed=1)
    dataset = write(canonical_dataset(values), tmp_path / "twelve.nc")
    config = tiny_config(epochs=6)
    config.mask.sparsity, config.mask.exchange_trials = 0.75, 2
    fit_run(dataset, tmp_path / "run", config)
    metrics = json.loads((tmp_path / "run" / "metrics.json").read_text())
    ranking = json.loads((tmp_path / "run" / "ranking.json").read_text())
    assert metrics["exchanges"] in (0, 1, 2) and metrics["n_keep"] == 3
    assert [r["kept_in_fit"] for r in ranking] == [True] * 3 + [False] * 9
    keep = ModelBundle.load(RunDir(tmp_path / "run")).model["gate.keep"].numpy() > 0.5
    assert np.flatnonzero(keep).tolist() == sorted(r["index"] for r in ranking[:3])
    # the same fit again: the same exchanges, byte for byte the same ranking
    fit_run(dataset, tmp_path / "again", config)
    again = (tmp_path / "again" / "ranking.json").read_bytes()
    assert again == (tmp_path / "run" / "ranking.json").read_bytes()
