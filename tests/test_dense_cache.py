"""The dense reference cache: one trained dense model per data and configuration, reused."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest
import torch
import yaml

from dynst_cli.cli import main
from dynst_cli.dense_cache import cache_root, dense_key, lookup, store
from dynst_cli.fit import fit_run
from dynst_cli.prune import prune_run
from synthetic import TINY_RECIPE, tiny_config


def _metrics(run) -> dict:
    return json.loads((run / "metrics.json").read_text())


def _timings(run) -> dict:
    return json.loads((run / "timings.json").read_text())


def test_key_ignores_the_mask_and_follows_what_trains_the_model():
    sha = "a" * 64
    base = dense_key(tiny_config(), sha)
    sparser = tiny_config()
    sparser.mask.sparsity = 0.9
    assert dense_key(sparser, sha) == base
    mapped = tiny_config(finetune_epochs=5)
    mapped.data.mmap = True
    assert dense_key(mapped, sha) == base
    assert dense_key(tiny_config(epochs=5), sha) != base
    assert dense_key(tiny_config(seed=1), sha) != base
    assert dense_key(tiny_config(), "b" * 64) != base
    assert dense_key(tiny_config(), sha, world_size=2) != base
    wider = tiny_config()
    wider.model.hidden = 32
    assert dense_key(wider, sha) != base


def test_store_then_lookup_and_damaged_entries_count_as_missing(tmp_path):
    key = "c" * 64
    metrics = {"val": {"mae": 1.0}, "test": {"mae": 2.0}}
    path = store(tmp_path, key, {"rule": 0}, metrics, {"w": torch.ones(2)})
    found = lookup(tmp_path, key)
    assert found.metrics == metrics and found.source == "cache" and found.path == path
    assert torch.load(path / "model.pt", weights_only=True)["w"].tolist() == [1.0, 1.0]
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temporaries left
    store(tmp_path, key, {"rule": 0}, {"test": {"mae": 9.0}}, {})  # a second writer loses
    assert lookup(tmp_path, key).metrics == metrics
    (path / "metrics.json").write_text("{trunc")
    assert lookup(tmp_path, key) is None
    assert lookup(tmp_path, "d" * 64) is None


def test_a_cache_that_cannot_be_written_is_only_a_note(tmp_path, monkeypatch):
    notes = []
    monkeypatch.setattr("dynst_cli.dense_cache.log", notes.append)
    blocked = tmp_path / "file"
    blocked.write_text("not a folder")
    assert store(blocked, "e" * 64, {}, {"test": {}}, {}) is None
    assert len(notes) == 1 and "not cached" in notes[0]


@pytest.mark.slow
def test_a_second_fit_at_another_sparsity_trains_no_dense_model(tmp_path, planted):
    first, second = tmp_path / "s50", tmp_path / "s70"
    fit_run(planted[0], first, tiny_config(dense_reference=True))
    config = tiny_config(dense_reference=True)
    config.mask.sparsity = 0.7
    assert fit_run(planted[0], second, config)["dense_reference_source"] == "cache"
    assert _timings(first)["dense_reference_source"] == "trained"
    assert _timings(second)["dense_reference_source"] == "cache"
    assert _timings(second)["dense_reference_seconds"] is None
    a, b = _metrics(first), _metrics(second)
    assert a["dense"] == b["dense"]
    assert a["dense_source"]["key"] == b["dense_source"]["key"]
    assert a["dense_source"] == b["dense_source"]  # metrics.json does not say trained or read
    entry = cache_root(first) / a["dense_source"]["key"]
    assert (entry / "model.pt").is_file() and entry.parent.parent.name == ".dynst-cache"
    plan = prune_run(second, 0.7, finetune_epochs=0)
    assert dataclasses.asdict(plan.metrics.dense_test) == b["dense"]["test"]
    assert any(".dynst-cache/dense/" in note and "dense_test" in note for note in plan.notes)


@pytest.mark.slow
def test_no_dense_reference_trains_none_and_prune_uses_a_cached_one(tmp_path, planted):
    run = tmp_path / "plain"
    fit_run(planted[0], run, tiny_config(dense_reference=False))
    assert _metrics(run)["dense"] is None and _metrics(run)["dense_source"] is None
    assert not (tmp_path / ".dynst-cache").exists()
    plan = prune_run(run, 0.5, finetune_epochs=0)
    assert any("warm-up" in note for note in plan.notes)
    # a dense reference of the same configuration, trained by another fit in the same folder
    fit_run(planted[0], tmp_path / "with", tiny_config(dense_reference=True))
    dense = _metrics(tmp_path / "with")["dense"]["test"]
    plan = prune_run(run, 0.5, finetune_epochs=0)
    assert dataclasses.asdict(plan.metrics.dense_test) == dense
    assert any("cache" in note for note in plan.notes)
    assert np.isfinite(dense["mae"])


def test_the_cli_flag_turns_the_dense_reference_off(tmp_path, planted):
    recipe = tmp_path / "tiny.yaml"
    recipe.write_text(
        yaml.safe_dump({**TINY_RECIPE, "train": {**TINY_RECIPE["train"], "dense_reference": True}})
    )
    run = tmp_path / "run"
    argv = ["-q", "fit", str(planted[0]), "-o", str(run), "--recipe", str(recipe)]
    assert main([*argv, "--no-dense-reference"]) == 0
    assert (
        json.loads((run / "config.json").read_text())["config"]["train"]["dense_reference"] is False
    )
    assert _metrics(run)["dense"] is None
