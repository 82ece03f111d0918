"""The fit's keep set against the classical selectors' (`mask.challengers`, challenge.py)."""

from __future__ import annotations

import copy
import json
from types import SimpleNamespace

import numpy as np
import pytest
import torch

from dynst_cli.bundle import ModelBundle
from dynst_cli.challenge import FIT, challenged, paired_p_value
from dynst_cli.config import FitConfig, validate
from dynst_cli.errors import UsageError
from dynst_cli.fit import fit_run
from dynst_cli.prune import prune_run
from dynst_cli.run import RunDir
from dynst_cli.selection import Ranking, Siting, VarianceSelector
from synthetic import TINY_RECIPE, GatedModel, canonical_dataset, planted_network, write


def _keep(n: int, on: list[int]) -> np.ndarray:
    keep = np.zeros(n, dtype=bool)
    keep[on] = True
    return keep


def _fitted(n: int, on: list[int]):
    """A fitted stand-in model: its own keep set `on`, its weight 7 (what the fit trained)."""
    model = GatedModel(n)
    model.gate.set_keep(_keep(n, on), 0)
    with torch.no_grad():
        model.weight.fill_(7.0)
    return SimpleNamespace(model=model, device=torch.device("cpu"))


def _dense(prep) -> dict:
    """The dense reference's weights: every sensor on, weight 0."""
    dense = GatedModel(prep.model.gate.n_sensors)
    return copy.deepcopy(dense.state_dict())


def _finetune(prep, worth: dict[tuple, list | None], trained: list):
    """A fine-tune that records where it started and the keep set it trained, adds 1 to the
    weight, and scores each keep set by `worth`: its error on each stretch of the validation
    period (their mean is its validation MAE)."""

    def finetune(keep):
        trained.append((np.flatnonzero(keep).tolist(), prep.model.weight.item()))
        prep.model.gate.set_keep(keep, -1)
        with torch.no_grad():
            prep.model.weight.add_(1.0)
        stretches = worth[tuple(np.flatnonzero(keep).tolist())]
        if stretches is None:
            return None, None
        return float(np.mean(stretches)), np.array(stretches)

    return finetune


FIT_ERRORS = [1.0, 1.1, 0.9, 1.0, 1.2]


def _lower(by: float, noise=(0.0, 0.01, -0.01, 0.02, 0.0)) -> list[float]:
    """The fit's stretch errors less `by`, give or take a little: consistently lower."""
    return [e - by + n for e, n in zip(FIT_ERRORS, noise, strict=True)]


def test_the_lowest_consistently_better_challenger_wins_from_the_dense_weights():
    prep, trained = _fitted(6, [0, 1, 2]), []
    sets = {"variance": _keep(6, [3, 4, 5]), "qr": _keep(6, [0, 1, 5])}
    worth = {(0, 1, 2): FIT_ERRORS, (3, 4, 5): _lower(0.2), (0, 1, 5): _lower(0.1)}
    result = challenged(
        prep, _keep(6, [0, 1, 2]), sets, _dense(prep), _finetune(prep, worth, trained)
    )
    # the fit's keep set first, then each challenger's, each from the dense weight 0
    assert trained == [([0, 1, 2], 0.0), ([3, 4, 5], 0.0), ([0, 1, 5], 0.0)]
    assert result.winner == "variance"
    assert result.val_mae == pytest.approx({FIT: 1.04, "variance": 0.844, "qr": 0.944})
    assert result.p_value["variance"] < 0.05 and result.p_value["qr"] < 0.05
    # the model is the winner's fine-tuned one, its mask the winner's keep set
    assert prep.model.weight.item() == 1.0
    assert np.flatnonzero(prep.model.gate.keep.numpy()).tolist() == [3, 4, 5]


def test_a_challenger_better_on_average_but_not_consistently_does_not_win():
    prep, trained = _fitted(6, [0, 1, 2]), []
    sets = {"variance": _keep(6, [3, 4, 5])}
    lucky = [0.5, 1.15, 0.95, 1.05, 1.25]  # one stretch far lower, every other one higher
    worth = {(0, 1, 2): FIT_ERRORS, (3, 4, 5): lucky}
    result = challenged(
        prep, _keep(6, [0, 1, 2]), sets, _dense(prep), _finetune(prep, worth, trained)
    )
    assert result.val_mae["variance"] < result.val_mae[FIT]
    assert result.p_value["variance"] > 0.05 and result.winner == FIT


def test_the_fit_keeps_its_own_model_when_its_keep_set_wins_or_ties():
    prep, trained = _fitted(6, [0, 1, 2]), []
    sets = {"variance": _keep(6, [3, 4, 5])}
    worth = {(0, 1, 2): FIT_ERRORS, (3, 4, 5): FIT_ERRORS}  # a tie: the fit's stands
    result = challenged(
        prep, _keep(6, [0, 1, 2]), sets, _dense(prep), _finetune(prep, worth, trained)
    )
    assert result.winner == FIT and result.p_value["variance"] == 1.0
    # the model is the fit's as it came (weight 7, its own mask), not the fine-tuned one
    assert prep.model.weight.item() == 7.0
    assert np.flatnonzero(prep.model.gate.keep.numpy()).tolist() == [0, 1, 2]


def test_a_challenger_that_keeps_the_fit_s_set_is_not_trained_and_none_left_trains_nothing():
    prep = _fitted(4, [0, 1])
    same = {"variance": _keep(4, [0, 1])}
    result = challenged(prep, _keep(4, [0, 1]), same, _dense(prep), pytest.fail)
    assert (result.winner, result.val_mae, result.same_as_fit) == (FIT, {}, ["variance"])
    assert prep.model.weight.item() == 7.0


def test_two_challengers_that_agree_are_trained_once():
    prep, trained = _fitted(4, [0, 1]), []
    sets = {"variance": _keep(4, [2, 3]), "qr": _keep(4, [2, 3])}
    worth = {(0, 1): FIT_ERRORS, (2, 3): _lower(0.5)}
    result = challenged(prep, _keep(4, [0, 1]), sets, _dense(prep), _finetune(prep, worth, trained))
    assert [keep for keep, _ in trained] == [[0, 1], [2, 3]]
    assert result.val_mae["variance"] == result.val_mae["qr"] < result.val_mae[FIT]
    assert result.winner == "variance" and prep.model.weight.item() == 1.0


def test_without_a_validation_error_no_challenger_can_win():
    prep, trained = _fitted(4, [0, 1]), []
    worth = {(0, 1): None, (2, 3): None}
    sets = {"qr": _keep(4, [2, 3])}
    result = challenged(prep, _keep(4, [0, 1]), sets, _dense(prep), _finetune(prep, worth, trained))
    assert result.winner == FIT and prep.model.weight.item() == 7.0
    assert result.p_value == {"qr": None}


def test_the_paired_test_asks_for_two_stretches_and_reads_a_constant_difference_as_certain():
    assert paired_p_value([1.0], [2.0]) is None
    assert paired_p_value([1.0, 1.0], [2.0, 2.0]) == 0.0
    assert paired_p_value([2.0, 2.0], [1.0, 1.0]) == 1.0
    assert paired_p_value(_lower(0.1), FIT_ERRORS) < 0.01
    assert paired_p_value(FIT_ERRORS, _lower(0.1)) > 0.99


def test_the_challengers_are_every_registered_selector_but_the_fit_s_own():
    from dynst_cli.config import CHALLENGERS
    from dynst_cli.selection import SELECTORS

    assert set(CHALLENGERS) == set(SELECTORS) - {FIT}


def test_the_words_name_the_fit_s_keep_set_as_the_fit_records_it():
    from dynst_cli.cli import render

    assert render.FIT == FIT


@pytest.mark.parametrize(
    "mask, words",
    [
        ({"challengers": ["variance", "pca"]}, "unknown selector 'pca'"),
        ({"challengers": ["qr", "qr"]}, "names a selector twice"),
        ({"challengers": ["qr"], "drop_criterion": "magnitude"}, "drop_criterion: saliency"),
    ],
)
def test_bad_challengers_are_usage_errors(mask, words):
    config = FitConfig.from_dict({"mask": mask})
    with pytest.raises(UsageError, match=words):
        validate(config)


def _network(tmp_path):
    """Three loud drivers and 21 quiet lagged followers: the variance selector keeps the
    drivers, the known best keep set of three."""
    values, _ = planted_network(n_steps=300)
    values[:, 3:] *= 0.2
    return write(canonical_dataset(values), tmp_path / "planted.nc")


def _config(**mask) -> FitConfig:
    recipe = copy.deepcopy(TINY_RECIPE)
    recipe["mask"].update(sparsity=0.875, **mask)  # keep 3 of 24
    recipe["train"]["dense_reference"] = True
    return FitConfig.from_dict(recipe)


@pytest.mark.slow  # trains models
def test_a_fit_plans_the_winning_keep_set_and_says_how_each_candidate_fared(tmp_path):
    path = _network(tmp_path)
    run = tmp_path / "run"
    fit_run(path, run, _config(challengers=["variance", "random"]))
    challenge = json.loads((run / "metrics.json").read_text())["challenge"]
    scored = challenge["val_mae"]
    assert FIT in scored and set(scored) | set(challenge["same_as_fit"]) == {
        FIT,
        "variance",
        "random",
    }
    # a challenger wins only by passing the paired test; of those, the lowest error
    passed = [n for n, p in challenge["p_value"].items() if p is not None and p < 0.05]
    best = min([FIT, *passed], key=lambda name: (scored[name], name != FIT))
    assert challenge["winner"] == best
    ranking = Ranking.read(RunDir(run).file("ranking.json"))
    kept = np.flatnonzero(ranking.kept).tolist()
    if best == "variance":  # the challenger's own keep set, ranked first
        assert kept == [0, 1, 2]
    assert sorted(ranking.order[:3].tolist()) == kept
    # the model the plan's figures come from reads exactly the planned keep set
    bundle = ModelBundle.load(RunDir(run))
    gate_keep = bundle.model["gate.keep"].numpy() > 0.5
    assert np.flatnonzero(gate_keep).tolist() == kept
    # and the plan says where its keep set came from when a challenger's won
    notes = prune_run(run, 0.875).notes
    assert any("selector's" in note for note in notes) == (best != FIT)


@pytest.mark.slow  # trains models
def test_a_fit_with_challengers_is_deterministic_and_skips_them_without_a_dense_reference(
    tmp_path,
):
    path = _network(tmp_path)
    orders = []
    for name in ("a", "b"):
        fit_run(path, tmp_path / name, _config(challengers=["variance"]))
        orders.append(Ranking.read(RunDir(tmp_path / name).file("ranking.json")).order.tolist())
    assert orders[0] == orders[1]
    config = _config(challengers=["variance"])
    config.train.dense_reference = False
    fit_run(path, tmp_path / "c", config)
    challenge = json.loads((tmp_path / "c" / "metrics.json").read_text())["challenge"]
    assert challenge["winner"] == FIT and challenge["skipped"] == "no dense reference"


def test_the_challenger_s_keep_set_goes_through_the_siting_constraints():
    from dynst_cli.challenge import challenger_keep_sets

    values, _ = planted_network(n_steps=300)
    values[:, 3:] *= 0.2
    variance_order = VarianceSelector().fit(values).ranked_sensors_
    assert sorted(variance_order[:3].tolist()) == [0, 1, 2]

    def never_zero(order, n_keep):  # sensor 0 may not be kept
        return Siting.free(24).keep_fn()(np.array([i for i in order if i != 0] + [0]), n_keep)

    data = SimpleNamespace(values=values[:, :, None], n_sensors=24)
    prep = SimpleNamespace(splits={"train": slice(0, 200), "val": slice(200, 250)})
    prep.splits = {k: SimpleNamespace(start=v.start, stop=v.stop) for k, v in prep.splits.items()}
    sets = challenger_keep_sets(data, prep, ["variance"], 3, never_zero, 2)
    assert not sets["variance"][0] and sets["variance"].sum() == 3


def test_the_fit_and_the_plan_say_which_keep_set_won():
    from dynst_cli.challenge import challenge_note
    from dynst_cli.cli.render import challenge_outcome

    record = {
        "winner": "variance",
        "val_mae": {FIT: 0.926, "variance": 0.907},
        "p_value": {"variance": 0.004},
        "same_as_fit": [],
    }
    said = challenge_outcome(record, "K")
    assert (
        "DynST 0.926, variance 0.907" in said and "variance selector's keep set is planned" in said
    )
    assert "0.907 against 0.926" in challenge_note({"challenge": record})
    stood = {**record, "winner": FIT}
    assert "p variance 0.004" in said
    assert "the fit's own keep set stands" in challenge_outcome(stood)
    assert challenge_note({"challenge": stood}) is None and challenge_note({}) is None
