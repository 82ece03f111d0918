"""How `fit` ranks: swaps at high sparsity, drop criteria, best-validation weights, consensus."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from dynst_cli.fit import fit_run
from dynst_cli.prune import prune_run
from dynst_cli.selection import Ranking
from dynst_cli.selection.consensus import consensus_ranking, mean_pairwise_jaccard
from dynst_cli.train import BestWeights
from synthetic import GatedModel, canonical_dataset, planted_network, tiny_config, write


@pytest.fixture(scope="module")
def twelve_sensors(tmp_path_factory):
    values, _ = planted_network(n_drivers=3, n_followers=9, n_steps=400, seed=1)
    return write(canonical_dataset(values), tmp_path_factory.mktemp("twelve") / "twelve.nc")


@pytest.mark.slow  # trains models
@pytest.mark.parametrize("criterion", ["saliency", "magnitude"])
def test_sensors_are_swapped_at_ninety_percent_sparsity_on_twelve_sensors(
    tmp_path, twelve_sensors, criterion
):
    config = tiny_config(epochs=6, max_batches_per_epoch=10)
    config.mask.sparsity, config.mask.drop_criterion = 0.9, criterion
    fit_run(twelve_sensors, tmp_path / "run", config)
    history = json.loads((tmp_path / "run" / "history.json").read_text())
    # floor(alpha_t * 1 kept sensor) is 0: only the at-least-one rule makes these swaps.
    assert sum(h["regrown"] for h in history if h["phase"] != "warmup") > 0
    assert history[-1]["n_keep"] == 1


@pytest.mark.slow  # trains models
def test_saliency_ranking_is_a_permutation_with_kept_sensors_first(tmp_path, twelve_sensors):
    fit_run(twelve_sensors, tmp_path / "run", tiny_config())
    ranking = json.loads((tmp_path / "run" / "ranking.json").read_text())
    assert sorted(r["index"] for r in ranking) == list(range(12))
    kept = [r["kept_in_fit"] for r in ranking]
    assert kept == sorted(kept, reverse=True) and sum(kept) == 6
    assert all(r["score"] >= 0 for r in ranking)


def _fake_saliency(gate_of):
    """Saliency by keep set: sensors 0 and 1 stand in for each other, 2 is useful, 3 is noise."""

    def measure(prep, starts, batch_size):
        on = prep.model.gate.keep.numpy() > 0.5
        alone = {0: not on[1], 1: not on[0]}
        return np.array([1.0 if alone[0] else 0.1, 1.0 if alone[1] else 0.1, 0.5, 0.05])

    return measure


def _patch_measures(monkeypatch, saliency, measure):
    """Both measures of `saliency` from `measure(prep, starts, batch_size)`, which reads which
    sensors are on from the gate (elimination passes name them instead)."""

    def measure_on(prep, starts, batch_size, on):
        gate = prep.model.gate
        before = gate.keep.clone()
        gate.set_keep(on, -1)
        values = np.where(on, measure(prep, starts, batch_size), 0.0)
        gate.keep.copy_(before)
        return values

    monkeypatch.setattr(saliency, "measure_saliency", measure)
    monkeypatch.setattr(saliency, "measure_on_saliency", measure_on)


def test_elimination_keeps_one_of_two_sensors_that_stand_in_for_each_other(monkeypatch):
    from types import SimpleNamespace

    from dynst_cli import saliency
    from dynst_cli.mask.gate import SensorGate

    gate = SensorGate(4)
    prep = SimpleNamespace(model=SimpleNamespace(gate=gate))
    _patch_measures(monkeypatch, saliency, _fake_saliency(gate))
    order, worth = saliency.saliency_ranking(prep, np.arange(3), 2)
    # Ranked once, 0 and 1 (0.1 each) would both fall below 2 (0.5) and a 2-sensor plan would
    # lose them both; eliminated one at a time, the survivor of the pair is worth 1.0.
    assert order.tolist() == [0, 2, 1, 3]
    assert worth.tolist() == [1.0, 0.1, 0.5, 0.05]
    assert gate.keep.tolist() == [1.0, 1.0, 1.0, 1.0]  # the gate is left as it was


@pytest.mark.parametrize(("fraction", "passes"), [(1 / 3, 7 + 7), (0.2, 9 + 9), (0.99, 2 + 2)])
def test_each_ranking_pass_settles_its_share_of_the_undecided_sensors(
    monkeypatch, fraction, passes
):
    from types import SimpleNamespace

    from dynst_cli import saliency
    from dynst_cli.mask.gate import SensorGate

    gate = SensorGate(20)
    gate.set_keep(np.arange(20) < 10, 0)
    prep = SimpleNamespace(model=SimpleNamespace(gate=gate))
    calls = []

    def measure(prep, starts, batch_size):
        calls.append(int(prep.model.gate.keep.sum()))
        return np.linspace(1.0, 2.0, 20)  # the higher the index, the more a sensor is worth

    _patch_measures(monkeypatch, saliency, measure)
    order, _ = saliency.saliency_ranking(prep, np.arange(3), 2, pass_fraction=fraction)
    # 10 kept sensors: a third settles 3, 2, 1, 1, 1, 1, 1 (floor, at least one); a fifth 2,
    # then 1 at a time; 0.99 settles 9, then 1. The 10 dropped ones are added the same way.
    assert len(calls) == passes
    assert order.tolist() == [*range(9, -1, -1), *range(19, 9, -1)]


def test_dropped_sensors_ranked_by_elimination_spare_one_of_two_stand_ins(monkeypatch):
    from types import SimpleNamespace

    from dynst_cli import saliency

    def measure(prep, starts, batch_size):
        # 0 and 1 are kept; of the dropped ones 2 and 3 stand in for each other (1 alone, 0.1
        # beside the other), 4 is worth 0.5 and 5 is noise
        on = prep.model.gate.keep.numpy() > 0.5
        pair = 0.1 if on[2] and on[3] else 1.0
        return np.array([0.7, 0.8, pair, pair, 0.5, 0.05])

    model = GatedModel(6)
    model.gate.set_keep(np.arange(6) < 2, 0)
    prep = SimpleNamespace(model=model)
    _patch_measures(monkeypatch, saliency, measure)
    calls = []

    def retrain(on, round_):
        calls.append((on.tolist(), round_))
        with torch.no_grad():
            model.weight.add_(1.0)  # the ranking must put the weights back

    def rank(dropped_by):
        calls.clear()
        return saliency.saliency_ranking(
            prep, np.arange(3), 2, 0.5, retrain=retrain, dropped_by=dropped_by
        )[0]

    # added from the fit's weights, the pair looks worth 1 each and both come first
    assert rank("addition").tolist() == [1, 0, 2, 3, 4, 5]
    # eliminated after training with all on: 5 and one of the pair go first, then 4
    assert rank("elimination").tolist() == [1, 0, 2, 4, 3, 5]
    assert calls[1] == ([True] * 6, 6)  # every sensor on, in rounds after the kept ones'
    assert all(on[:2] == [True, True] for on, _ in calls[1:])  # the kept ones stay on
    assert model.weight.item() == 0.0 and model.gate.keep.tolist() == [1, 1, 0, 0, 0, 0]


def test_retrained_addition_adds_one_of_two_stand_ins_before_a_weaker_sensor(monkeypatch):
    from types import SimpleNamespace

    from dynst_cli import saliency

    trained_on = []  # the sensors the model last learned to read

    def measure(prep, starts, batch_size):
        # 0 and 1 are kept; of the dropped ones 2 and 3 stand in for each other, so one adds
        # little (0.1) once the model reads the other, and nothing until it has learned to;
        # 4 is worth 0.5 and 5 is noise
        read = trained_on[-1] if trained_on else [False] * 6
        return np.array([0.7, 0.8, 0.1 if read[3] else 1.0, 0.1 if read[2] else 1.0, 0.5, 0.05])

    model = GatedModel(6)
    model.gate.set_keep(np.arange(6) < 2, 0)
    prep = SimpleNamespace(model=model)
    _patch_measures(monkeypatch, saliency, measure)
    rounds = []

    def retrain(on, round_, share=1.0):
        trained_on.append(on.tolist())
        rounds.append(round_)
        with torch.no_grad():
            model.weight.add_(1.0)  # the ranking must put the weights back

    def rank(dropped_by):
        trained_on.clear(), rounds.clear()
        return saliency.saliency_ranking(
            prep, np.arange(3), 2, 0.25, retrain=retrain, dropped_by=dropped_by
        )[0]

    # on the fit's weights the second stand-in still looks worth 1 and goes in before 4
    assert rank("addition").tolist() == [1, 0, 2, 3, 4, 5]
    # retrained after each pass, the model reads 2 before 3 is measured: 4 goes in first
    assert rank("retrained_addition").tolist() == [1, 0, 2, 4, 3, 5]
    # the first retraining is the kept sensors' elimination's; then one after each addition
    # but the last, on the sensors on so far
    added = [np.flatnonzero(on).tolist() for on in trained_on[1:]]
    assert added == [[0, 1, 2], [0, 1, 2, 4], [0, 1, 2, 3, 4]]
    assert min(rounds[1:]) >= 6  # rounds after the kept ones' elimination
    assert model.weight.item() == 0.0 and model.gate.keep.tolist() == [1, 1, 0, 0, 0, 0]
    # without retraining (`mask.rank_retrain_epochs: 0`) it is addition
    trained_on.clear()
    unretrained = saliency.saliency_ranking(
        prep, np.arange(3), 2, 0.25, retrain=None, dropped_by="retrained_addition"
    )
    assert unretrained[0].tolist() == [1, 0, 2, 3, 4, 5]


def test_a_retrained_addition_pass_adds_at_most_its_share_of_the_sensors_on(monkeypatch):
    from types import SimpleNamespace

    from dynst_cli import saliency

    model = GatedModel(12)
    gate = model.gate
    gate.set_keep(np.arange(12) < 3, 0)  # 3 kept, 9 dropped: a fit at 0.75
    prep = SimpleNamespace(model=model)
    _patch_measures(monkeypatch, saliency, lambda prep, starts, size: np.linspace(2.0, 1.0, 12))
    sizes, shares = [], []

    def retrain(on, round_, share=1.0):
        sizes.append(int(on.sum()))
        shares.append(share)

    order, _ = saliency.saliency_ranking(
        prep, np.arange(3), 2, 1 / 3, retrain=retrain, dropped_by="retrained_addition"
    )
    # the elimination of the 3 kept retrains at 2 and 1 on; then each addition pass adds a
    # third of the sensors on (at least one, at most a third of those left): 3 -> 4 -> 5 -> 6
    # -> 8 -> 9 -> 10 -> 11 -> 12, where by thirds of those left it would add 3, 2, 1, ...
    assert sizes == [2, 1, 4, 5, 6, 8, 9, 10, 11]
    # a pass that adds fewer than a third of the sensors on before it retrains for less
    assert shares == pytest.approx([1, 1, 1, 3 / 4, 3 / 5, 1, 3 / 8, 1 / 3, 3 / 10])
    assert order.tolist() == [0, 1, 2, *range(3, 12)]


def _group_saliency(prep, starts, batch_size):
    """Sensors 0-2 stand in for each other (worth 1 alone, 0.1 beside another of them); 3, 4
    and 5 carry their own signals, worth 0.5, 0.4 and 0.3."""
    on = prep.model.gate.keep.numpy() > 0.5
    group = [1.0 if not np.delete(on[:3], i).any() else 0.1 for i in range(3)]
    return np.array([*group, 0.5, 0.4, 0.3])


@pytest.mark.parametrize(
    ("kept_by", "top_three"), [("backward", {3, 4, 5}), ("forward", {0, 3, 4})]
)
def test_forward_selection_covers_a_group_that_one_backward_pass_removes_whole(
    monkeypatch, kept_by, top_three
):
    from types import SimpleNamespace

    from dynst_cli import saliency
    from dynst_cli.mask.gate import SensorGate

    gate = SensorGate(6)
    prep = SimpleNamespace(model=SimpleNamespace(gate=gate))
    _patch_measures(monkeypatch, saliency, _group_saliency)
    order, _ = saliency.saliency_ranking(prep, np.arange(3), 2, 0.5, kept_by)
    assert sorted(order.tolist()) == list(range(6))
    assert set(order[:3].tolist()) == top_three  # backward lost the whole group in its first pass
    assert gate.keep.tolist() == [1.0] * 6  # the gate is left as it was


def test_the_cheapest_sensors_together_spare_one_of_two_stand_ins():
    from dynst_cli.saliency import cheapest_together

    # Per-window first-order loss changes: 0 and 1 carry the same signal, 2 its own, 3 noise.
    rng = np.random.default_rng(0)
    shared, own = rng.normal(size=(2, 500))
    s = np.stack([0.8 * shared, 0.8 * shared, own, 0.3 * rng.normal(size=500)], axis=1)
    joint = s.T @ s / len(s)
    # One at a time, 0 and 1 (0.33 each) are cheaper than 2 (0.44), and a pass that takes
    # three would leave 2 alone; together, the second of the pair costs 0.33 + 0.66.
    assert cheapest_together(joint, 3).tolist() == [3, 1, 2]  # the pair tie: higher first
    assert cheapest_together(joint, 1).tolist() == [3]
    assert cheapest_together(np.zeros((3, 3)), 2).tolist() == [2, 1]  # ties: higher first


def test_joint_elimination_spares_a_member_of_a_group_that_one_pass_removes_whole(monkeypatch):
    from types import SimpleNamespace

    from dynst_cli import saliency
    from dynst_cli.mask.gate import SensorGate

    def measure_on_joint(prep, starts, batch_size, on):
        # As _group_saliency: each of 0-2 costs 0.1 alone and the three 1.0 together; 3, 4 and
        # 5 cost 0.5, 0.4 and 0.3 and share nothing.
        cost = np.diag([0.2, 0.2, 0.2, 1.0, 0.8, 0.6])
        cost[:3, :3] += (0.7 / 3) * (1 - np.eye(3))
        idx = np.flatnonzero(on)
        return np.where(on, _group_saliency(prep, starts, batch_size), 0.0), cost[np.ix_(idx, idx)]

    gate = SensorGate(6)
    prep = SimpleNamespace(model=SimpleNamespace(gate=gate))
    _patch_measures(monkeypatch, saliency, _group_saliency)
    monkeypatch.setattr(saliency, "measure_on_joint", measure_on_joint)
    order, _ = saliency.saliency_ranking(prep, np.arange(3), 2, 0.5, "joint")
    assert sorted(order.tolist()) == list(range(6))
    # the first pass takes 2 (0.1), 5 (0.3 < 0.1 + 0.23) and 1 (0.33 < 0.4): 0 is spared
    assert set(order[:3].tolist()) == {0, 3, 4}
    assert gate.keep.tolist() == [1.0] * 6


@pytest.mark.slow  # trains a model
def test_the_joint_cost_matrix_reads_the_same_saliency_and_is_a_gram_matrix(
    tmp_path, twelve_sensors
):
    from dynst_cli import saliency
    from dynst_cli.prune import load_for_run
    from dynst_cli.run import RunDir

    fit_run(twelve_sensors, tmp_path / "run", tiny_config())
    _, _, prep = load_for_run(RunDir(tmp_path / "run"))
    on = np.arange(12) % 3 != 0
    starts = prep.splits["val"].window_starts
    single = saliency.measure_on_saliency(prep, starts, 4, on)
    both, joint = saliency.measure_on_joint(prep, starts, 4, on)
    assert both == pytest.approx(single, rel=1e-4)
    assert joint.shape == (8, 8)
    np.testing.assert_allclose(joint, joint.T)
    assert np.linalg.eigvalsh(joint).min() > -1e-9 * np.abs(joint).max()
    assert (np.diag(joint)[single[on] > 0] > 0).all() and (single[on] > 0).sum() >= 4
    # each window's mean change, squared, is at most its mean square (Cauchy-Schwarz)
    assert (single[on] ** 2 <= np.diag(joint) * (1 + 1e-6)).all()


@pytest.mark.slow  # trains a model
def test_occlusion_is_the_loss_with_each_sensor_switched_off_through_the_gate(
    tmp_path, twelve_sensors, monkeypatch
):
    from dynst_cli import saliency
    from dynst_cli.mask.loss import masked_mae
    from dynst_cli.prune import load_for_run
    from dynst_cli.run import RunDir

    fit_run(twelve_sensors, tmp_path / "run", tiny_config())
    _, _, prep = load_for_run(RunDir(tmp_path / "run"))
    monkeypatch.setattr(saliency, "OCCLUSION_CHUNK", 3)  # chunks that do not divide the 8 on
    on = np.arange(12) % 3 != 0
    prep.model.gate.set_keep(on, -1)  # as an elimination pass has it
    starts = prep.splits["val"].window_starts
    rise = saliency.measure_on_occlusion(prep, starts, 4, on)

    def loss_with(keep):
        prep.model.gate.set_keep(keep, -1)
        total, n = 0.0, 0
        with torch.no_grad():
            for batch in prep.source.batches(starts, 4):
                pred = prep.model(batch.x, batch.tod, batch.dow)
                total, n = total + float(masked_mae(pred, batch.y, batch.observed)), n + 1
        return total / n

    base = loss_with(on)
    for i in range(12):
        if not on[i]:
            assert rise[i] == 0.0
            continue
        without = on.copy()
        without[i] = False
        assert rise[i] == pytest.approx(loss_with(without) - base, abs=1e-6)
    assert np.abs(rise[on]).max() > 1e-4  # the sensors do matter to the forecast


def test_best_weights_keep_the_lowest_validation_error():
    model = torch.nn.Linear(2, 1)
    best = BestWeights()
    for epoch, val_mae in enumerate([3.0, 1.0, 2.0, float("nan"), 1.0]):
        with torch.no_grad():
            model.weight.fill_(epoch)
        best.consider(model, val_mae, epoch)
    best.restore(model)
    assert best.epoch == 1 and best.val_mae == 1.0  # ties keep the earlier weights
    assert torch.all(model.weight == 1.0)


@pytest.mark.slow  # trains models
def test_training_on_a_keep_set_ends_at_its_best_validation_weights(tmp_path, twelve_sensors):
    from dynst_cli.data import load_dataset
    from dynst_cli.train import evaluate_splits, finetune, prepare

    config = tiny_config(epochs=3, lr=0.5)  # a learning rate large enough to wander
    prep = prepare(load_dataset(twelve_sensors), config)
    start = evaluate_splits(prep, ("val",))["val"]["mae"]
    best = finetune(prep, config, np.ones(12, dtype=bool), epochs=3)
    final = evaluate_splits(prep, ("val",))["val"]["mae"]
    assert final == pytest.approx(best.val_mae)
    assert final <= start
    assert best.epoch in (0, 1, 2, 3)


def refits(orders, kept) -> list[Ranking]:
    n = len(orders[0])
    return [
        Ranking(order=o, scores=np.ones(n), kept=np.array(k, dtype=bool))
        for o, k in zip(orders, kept, strict=True)
    ]


def test_consensus_ranks_by_mean_rank_then_selection_frequency():
    orders = [[0, 1, 2, 3], [1, 0, 2, 3], [2, 1, 0, 3]]
    kept = [[1, 1, 0, 0], [1, 1, 0, 0], [1, 0, 1, 0]]
    ranking = consensus_ranking(refits(orders, kept))
    # mean ranks: sensor 0: (1+2+3)/3 = 2, sensor 1: (2+1+2)/3 = 5/3, sensor 2: 7/3, sensor 3: 4
    assert ranking.order.tolist() == [1, 0, 2, 3]
    assert ranking.selection_frequency.tolist() == pytest.approx([1.0, 2 / 3, 1 / 3, 0.0])


def test_consensus_ties_in_mean_rank_go_to_the_more_often_kept_sensor():
    orders = [[0, 1, 2], [1, 0, 2]]
    kept = [[1, 0, 0], [1, 1, 0]]  # sensor 0 kept twice, sensor 1 once
    ranking = consensus_ranking(refits(orders, kept))
    assert ranking.order.tolist() == [0, 1, 2]


def test_mean_pairwise_jaccard():
    keeps = np.array([[1, 1, 0, 0], [1, 1, 0, 0], [0, 1, 1, 0]], dtype=bool)
    assert mean_pairwise_jaccard(keeps) == pytest.approx((1 + 1 / 3 + 1 / 3) / 3)


@pytest.mark.slow  # trains models
def test_fit_with_several_seeds_writes_the_consensus(tmp_path, twelve_sensors):
    fit_run(twelve_sensors, tmp_path / "run", tiny_config(seeds=2))
    ranking = json.loads((tmp_path / "run" / "ranking.json").read_text())
    metrics = json.loads((tmp_path / "run" / "metrics.json").read_text())
    assert metrics["consensus"]["seeds"] == [0, 1]
    assert 0.0 <= metrics["consensus"]["mean_pairwise_jaccard"] <= 1.0
    frequency = [r["selection_frequency"] for r in ranking]
    assert set(frequency) <= {0.0, 0.5, 1.0}
    assert sum(frequency) == pytest.approx(6)  # each of the two masks keeps 6 of 12
    assert (tmp_path / "run" / "seeds" / "seed-1" / "model.pt").is_file()
    kept = [r["kept_in_fit"] for r in ranking]
    assert kept == sorted(kept, reverse=True)


@pytest.mark.slow  # trains models
def test_a_consensus_run_gives_plans_with_selection_frequency_and_jaccard(tmp_path, twelve_sensors):
    from dynst_cli.prune import prune_run

    run = tmp_path / "run"
    fit_run(twelve_sensors, run, tiny_config(seeds=2))
    metrics = json.loads((run / "metrics.json").read_text())
    plan = prune_run(run, 0.5).to_json()
    assert plan["selection_frequency_seeds"] == 2
    assert plan["mean_pairwise_jaccard"] == metrics["consensus"]["mean_pairwise_jaccard"]
    ranking = {
        r["sensor_id"]: r["selection_frequency"]
        for r in json.loads((run / "ranking.json").read_text())
    }
    assert {s["sensor_id"]: s["selection_frequency"] for s in plan["sensors"]} == ranking


def test_the_drop_signal_is_smoothed_over_update_intervals():
    from dynst_cli.train import smoothed

    first = np.array([1.0, 0.0])
    assert smoothed(first, None, 0.8) is first  # the first update has no history
    assert smoothed(first, np.array([0.0, 1.0]), 0.8).tolist() == pytest.approx([0.2, 0.8])
    assert smoothed(first, np.array([0.0, 1.0]), 0.0) is first  # 0: the last interval alone


@pytest.mark.slow  # trains a model
def test_saliency_of_the_sensors_on_is_the_same_read_from_them_alone(tmp_path, twelve_sensors):
    from dynst_cli import saliency
    from dynst_cli.prune import load_for_run
    from dynst_cli.run import RunDir

    fit_run(twelve_sensors, tmp_path / "run", tiny_config())
    _, _, prep = load_for_run(RunDir(tmp_path / "run"))
    on = np.arange(12) % 3 != 0
    prep.model.gate.set_keep(on, -1)
    starts = prep.splits["val"].window_starts
    full = saliency.measure_saliency(prep, starts, 4)
    alone = saliency.measure_on_saliency(prep, starts, 4, on)
    assert alone[~on].tolist() == [0.0] * 4
    assert alone[on] == pytest.approx(full[on], rel=1e-4)
    assert (alone[on] > 0).all()

    weights = np.linspace(0.0, 2.0, 12)  # mask.weigh_by_availability: both read it alike
    prep.model.gate.availability = torch.as_tensor(weights, dtype=torch.float32)
    assert saliency.measure_saliency(prep, starts, 4) == pytest.approx(full * weights, rel=1e-4)
    weighed = saliency.measure_on_saliency(prep, starts, 4, on)
    assert weighed == pytest.approx(alone * weights, rel=1e-4, abs=1e-12)

    prep.model.gate.availability = torch.ones(12)
    prep.model.gate.per_window = True  # mask.saliency_abs: window, both read it alike too
    windowed = saliency.measure_on_saliency(prep, starts, 4, on)
    assert windowed[on] == pytest.approx(saliency.measure_saliency(prep, starts, 4)[on], rel=1e-4)
    assert (windowed[on] >= alone[on] * (1 - 1e-5)).all()  # no window term cancels another
    assert (windowed[on] > alone[on] * 1.01).any()


@pytest.mark.slow  # trains a model
def test_a_fit_weighs_the_saliency_as_its_recipe_says(tmp_path, monkeypatch):
    from dynst_cli import fit
    from dynst_cli.selection.availability import availability_weights

    values, _ = planted_network(n_drivers=3, n_followers=9, n_steps=400, seed=1)
    values[:200, 2] = np.nan  # opened in the middle of the training period
    values[::3, 5] = np.nan  # misses one reading in three throughout
    dataset = write(canonical_dataset(values), tmp_path / "gappy.nc")
    seen = {}
    ranking = fit.saliency_ranking

    def recording(prep, *args, **kwargs):
        seen["availability"] = prep.model.gate.availability.cpu().numpy().copy()
        seen["per_window"] = prep.model.gate.per_window
        seen["periods"] = [(prep.splits[k].start, prep.splits[k].stop) for k in ("train", "val")]
        return ranking(prep, *args, **kwargs)

    monkeypatch.setattr(fit, "saliency_ranking", recording)
    config = tiny_config()
    fit_run(dataset, tmp_path / "plain", config)
    assert seen["availability"].tolist() == [1.0] * 12  # off by default
    assert not seen["per_window"]

    config.mask.weigh_by_availability = True
    config.mask.saliency_abs = "window"
    fit_run(dataset, tmp_path / "weighed", config)
    expected = availability_weights(values, *seen["periods"])
    assert seen["availability"] == pytest.approx(expected, rel=1e-6)
    assert seen["availability"][2] > 1.5  # reports in all of the validation period
    assert seen["availability"][5] == pytest.approx(1.0, abs=0.05)
    assert seen["per_window"]

    config.mask.availability_weight = "recent"
    fit_run(dataset, tmp_path / "recent", config)
    assert seen["availability"][2] == 1.0  # every validation step; its training share stays in
    assert seen["availability"][5] == pytest.approx(2 / 3, abs=0.05)


@pytest.mark.slow  # trains a model
def test_a_sensor_that_never_changes_is_worth_nothing_against_its_mean_input(tmp_path):
    from dynst_cli import saliency
    from dynst_cli.prune import load_for_run
    from dynst_cli.run import RunDir

    values, _ = planted_network(n_drivers=3, n_followers=9, n_steps=400, seed=1)
    values[:, 4] = 2.5  # a sensor far from the others' level that says nothing
    dataset = write(canonical_dataset(values), tmp_path / "flat.nc")
    fit_run(dataset, tmp_path / "run", tiny_config())
    _, _, prep = load_for_run(RunDir(tmp_path / "run"))
    on = np.ones(12, dtype=bool)
    prep.model.gate.set_keep(on, -1)
    starts = prep.splits["train"].window_starts
    against_zero = saliency.measure_on_saliency(prep, starts, 8, on)
    prep.model.gate.center = saliency.mean_inputs(prep, starts, 8)
    against_mean = saliency.measure_on_saliency(prep, starts, 8, on)
    assert against_zero[4] > 0.1 * against_zero.max()  # its level looks salient against zero
    assert against_mean[4] < 1e-6 * against_mean.max()
    assert (np.delete(against_mean, 4) > 0).all()

    config = tiny_config()
    config.mask.saliency_baseline = "mean"  # the fit measures every signal against the mean
    fit_run(dataset, tmp_path / "mean", config)
    ranking = Ranking.read(tmp_path / "mean" / "ranking.json")
    assert not ranking.kept[4] and ranking.rank[4] > 6


def test_the_final_ranking_reads_one_training_window_every_t_out_steps():
    from types import SimpleNamespace

    from dynst_cli.fit import ranking_windows

    config = tiny_config()
    splits = {"train": np.arange(0, 100), "val": np.arange(110, 130)}
    prep = SimpleNamespace(splits={k: SimpleNamespace(window_starts=v) for k, v in splits.items()})
    t_out = config.data.t_out
    assert ranking_windows(prep, config).tolist() == list(range(0, 100, t_out))
    config.mask.rank_period = "val"
    assert ranking_windows(prep, config).tolist() == list(range(110, 130))
    prep.splits["val"].window_starts = np.arange(0)  # no validation period: the training one
    assert ranking_windows(prep, config).tolist() == list(range(0, 100, t_out))


@pytest.mark.slow  # trains models
def test_retraining_between_passes_changes_weights_only_for_the_ranking(
    tmp_path, twelve_sensors, monkeypatch
):
    from dynst_cli import fit as fit_module
    from dynst_cli.prune import load_for_run
    from dynst_cli.run import RunDir
    from dynst_cli.train import retrain_on

    fit_run(twelve_sensors, tmp_path / "run", tiny_config())
    config, _, prep = load_for_run(RunDir(tmp_path / "run"))
    config.mask.rank_retrain_epochs = 0.5
    config.mask.rank_dropped_by = "retrained_addition"
    before = {k: v.clone() for k, v in prep.model.state_dict().items()}
    keep = prep.model.gate.keep.numpy() > 0.5
    calls = []

    def recording(prep_, config_, on, round_, share=1.0):
        calls.append((on.copy(), round_))
        weights = [p.clone() for p in prep_.model.backbone.parameters()]
        scores = prep_.model.gate.scores.detach().clone()
        retrain_on(prep_, config_, on, round_, share=share)
        assert torch.equal(prep_.model.gate.scores, scores)  # the gate is not trained
        assert (prep_.model.gate.keep.numpy() > 0.5).tolist() == on.tolist()
        now = prep_.model.backbone.parameters()
        assert any(not torch.equal(a, b) for a, b in zip(weights, now, strict=True))

    monkeypatch.setattr(fit_module, "retrain_on", recording)
    ranking = fit_module.final_ranking(prep, config)
    # One retraining after every elimination pass but the last, each on fewer sensors, all kept;
    # then one after every addition pass but the last, each on more, the kept ones among them.
    eliminating = [on for on, _ in calls if not (on & ~keep).any()]
    adding = [on for on, _ in calls if (on & ~keep).any()]
    assert len(eliminating) + len(adding) == len(calls) and eliminating and adding
    assert all(on[keep].all() for on in adding)
    for sets, order in ((eliminating, -1), (adding, 1)):
        sizes = [int(on.sum()) for on in sets][::order]
        assert sizes == sorted(sizes) and len(set(sizes)) == len(sizes)
    rounds = [round_ for _, round_ in calls]
    assert len(set(rounds)) == len(rounds)  # each retraining draws its own windows
    assert sorted(ranking.order[:6].tolist()) == sorted(np.flatnonzero(keep).tolist())
    after = prep.model.state_dict()
    assert all(torch.equal(before[k], after[k]) for k in before)


@pytest.mark.slow  # trains models
def test_retraining_is_the_same_every_time(tmp_path, twelve_sensors):
    from dynst_cli.prune import load_for_run
    from dynst_cli.run import RunDir
    from dynst_cli.train import retrain_on

    fit_run(twelve_sensors, tmp_path / "run", tiny_config())
    on = np.arange(12) % 2 == 0
    weights = []
    for _ in range(2):
        config, _, prep = load_for_run(RunDir(tmp_path / "run"))
        config.mask.rank_retrain_epochs = 0.25
        retrain_on(prep, config, on, 3)
        weights.append([p.detach().clone() for p in prep.model.backbone.parameters()])
    assert all(torch.equal(a, b) for a, b in zip(*weights, strict=True))


@pytest.mark.slow  # trains models
def test_a_sensor_silent_in_the_validation_period_ranks_last_and_is_not_kept(tmp_path):
    values, _ = planted_network(n_drivers=3, n_followers=9, n_steps=400, seed=1)
    config = tiny_config()
    config.mask.sparsity = 0.5
    val_start = int(round(values.shape[0] * config.data.train_frac))
    values[val_start:, 0] = np.nan  # driver 0 stops reporting when the validation period begins
    dataset = write(canonical_dataset(values), tmp_path / "silent.nc")

    fit_run(dataset, tmp_path / "on", config)
    ranking = Ranking.read(tmp_path / "on" / "ranking.json")
    assert ranking.order[-1] == 0
    assert not ranking.kept[0] and ranking.kept.sum() == 6  # the fit's keep set, fine-tuned
    assert set(ranking.order[:6]) == set(np.flatnonzero(ranking.kept))
    assert ranking.silent.tolist() == [True] + [False] * 11
    plan = prune_run(tmp_path / "on", 0.5)
    reasons = {s.sensor_id: s.reason for s in plan.sensors}
    assert reasons[plan.sensors[-1].sensor_id] == "silent"  # driver 0, last in the plan
    assert list(reasons.values()).count("silent") == 1

    config.mask.rank_silent_last = False
    fit_run(dataset, tmp_path / "off", config)
    off = Ranking.read(tmp_path / "off" / "ranking.json")
    assert off.order[-1] != 0 and off.silent is None
