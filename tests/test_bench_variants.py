"""The ranking benchmark's variants: every one writes a recipe the fit accepts, with its change."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from dynst_cli.config import load_recipe

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
import bench_ranking  # noqa: E402


@pytest.mark.parametrize("archive", sorted(bench_ranking.ARCHIVES))
def test_every_variant_writes_a_recipe_the_fit_accepts_with_the_variants_change(
    tmp_path, monkeypatch, archive
):
    monkeypatch.setattr(bench_ranking, "OUT", tmp_path)
    monkeypatch.setenv("BENCH_GWNET", "1")
    (tmp_path / archive).mkdir()
    overrides = bench_ranking.variant_overrides(archive)
    specs = bench_ranking.fit_specs(archive, None)
    assert {variant for _, variant, *_ in specs} == set(overrides) | {"consensus"}
    assert len({key for key, *_ in specs}) == len(specs)  # one cache entry per fit
    for key, variant, _, recipe, _, _ in specs:
        config = load_recipe(recipe)  # unknown keys or values out of range raise
        assert config.train.dense_reference is False  # the dense row is scored apart
        changes = overrides.get(variant, overrides["saliency"])  # consensus fits saliency's
        for section, values in changes.items():
            for option, value in values.items():
                assert getattr(getattr(config, section), option) == pytest.approx(value), key
        if key.endswith("-gwnet"):
            assert config.model.backbone == "gwnet"
