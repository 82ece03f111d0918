"""The resolved configuration is checked in one place: type and range of every value, naming
the key and its flag."""

from __future__ import annotations

import pytest
import yaml

from dynst_cli.config import FitConfig, load_recipe, validate, with_overrides
from dynst_cli.errors import UsageError


@pytest.mark.parametrize(
    ("section", "key", "value", "words"),
    [
        ("train", "lr", "abc", ["train.lr", "a number > 0", "'abc'"]),
        ("model", "hidden", "64", ["model.hidden", "an integer >= 1", "'64'"]),
        ("train", "batch_size", 0, ["train.batch_size", ">= 1", "got 0"]),
        ("train", "seed", -5, ["--seed (train.seed)", "[0, 4294967295]"]),
        ("mask", "regrow_alpha", 5, ["mask.regrow_alpha", "[0, 1]"]),
        ("mask", "settle_share", -0.5, ["mask.settle_share", "[0, 100]"]),
        ("mask", "explore_keep", 0.5, ["mask.explore_keep", "[1, 100]"]),
        ("mask", "regrow_signal", "loss", ["mask.regrow_signal", "or 'error'"]),
        ("train", "finetune_epochs", -1, ["train.finetune_epochs", ">= 0"]),
        ("mask", "exchange_trials", -1, ["mask.exchange_trials", ">= 0"]),
        ("train", "epochs", True, ["--epochs (train.epochs)", "an integer"]),
        ("train", "dense_reference", "yes", ["train.dense_reference", "true or false"]),
        ("train", "device", "tpu", ["--device (train.device)", "'cpu' or 'cuda'"]),
        ("mask", "sparsity", 1.0, ["--sparsity (mask.sparsity)", "[0, 1)"]),
        ("data", "t_in", 0, ["--t-in (data.t_in)", ">= 1"]),
        ("data", "variables", "t2m", ["data.variables", "a list of names"]),
        ("train", "max_batches_per_epoch", 0, ["train.max_batches_per_epoch", "(or null)"]),
    ],
)
def test_a_bad_value_is_a_usage_error_naming_key_and_range(section, key, value, words):
    config = with_overrides(FitConfig(), {section: {key: value}})
    with pytest.raises(UsageError) as info:
        validate(config)
    for word in words:
        assert word in str(info.value)


def test_defaults_pass_and_values_are_normalised():
    config = with_overrides(FitConfig(), {"train": {"lr": 1}, "mask": {"sparsity": -0.0}})
    validate(config)
    assert isinstance(config.train.lr, float) and str(config.mask.sparsity) == "0.0"


def test_recipes_read_exponents_as_numbers(tmp_path):
    recipe = tmp_path / "r.yaml"
    recipe.write_text(yaml.safe_dump({"train": {"epochs": 2}}) + "mask:\n  l1_lambda: 1e-4\n")
    config = load_recipe(recipe)
    validate(config)
    assert config.mask.l1_lambda == 1e-4


def test_a_section_that_is_not_a_mapping_is_named(tmp_path):
    recipe = tmp_path / "r.yaml"
    recipe.write_text("train: 5\n")
    with pytest.raises(UsageError, match="train: expected a mapping"):
        load_recipe(recipe)


def test_fractions_must_leave_a_test_period():
    config = with_overrides(FitConfig(), {"data": {"train_frac": 0.8, "val_frac": 0.2}})
    with pytest.raises(UsageError, match="test period"):
        validate(config)


def test_ranking_the_dropped_sensors_by_elimination_needs_retraining():
    keys = {"rank_dropped_by": "elimination", "rank_retrain_epochs": 0}
    with pytest.raises(UsageError, match="rank_retrain_epochs above 0"):
        validate(with_overrides(FitConfig(), {"mask": keys}))
    # retrained addition without retraining is addition: nothing to refuse
    validate(
        with_overrides(FitConfig(), {"mask": {**keys, "rank_dropped_by": "retrained_addition"}})
    )
    validate(with_overrides(FitConfig(), {"mask": {**keys, "rank_retrain_epochs": 0.25}}))
