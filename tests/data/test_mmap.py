"""Training from values mapped from disk: the same data, the same scaler, the same run."""

from __future__ import annotations

import numpy as np
import pytest

from dynst_cli.data import StandardScaler, load_dataset, scaling
from dynst_cli.fit import fit_run
from synthetic import tiny_config

pytestmark = pytest.mark.slow  # trains models: run by `make test`, not `make test-fast`


@pytest.fixture
def cache(tmp_path, monkeypatch):
    folder = tmp_path / "cache"
    monkeypatch.setenv("DYNST_CACHE_DIR", str(folder))
    return folder


def test_mapped_values_equal_the_loaded_ones_and_the_copy_is_made_once(planted, cache):
    loaded = load_dataset(planted[0])
    mapped = load_dataset(planted[0], mmap=True)
    assert isinstance(mapped.values, np.memmap)
    np.testing.assert_array_equal(mapped.values, loaded.values)
    (copy,) = cache.glob("*.npy")
    made = copy.stat().st_mtime_ns
    load_dataset(planted[0], mmap=True)
    assert copy.stat().st_mtime_ns == made


def test_scaler_fitted_chunk_by_chunk_matches_the_whole_array(monkeypatch):
    rng = np.random.default_rng(0)
    values = (rng.normal(280.0, 3.0, size=(500, 7, 3))).astype(np.float32)
    values[rng.random(values.shape) < 0.2] = np.nan
    values[:, :, 2] = np.nan  # a channel never observed
    monkeypatch.setattr(scaling, "CHUNK_VALUES", 7 * 3 * 13)  # 13 steps per chunk
    scaler = StandardScaler().fit(values)
    flat = values[..., :2].reshape(-1, 2).astype(np.float64)
    np.testing.assert_allclose(scaler.mean_[:2], np.nanmean(flat, axis=0), rtol=1e-6)
    np.testing.assert_allclose(scaler.std_[:2], np.nanstd(flat, axis=0), rtol=1e-5)
    assert (scaler.mean_[2], scaler.std_[2]) == (0.0, 1.0)


def test_a_fit_from_mapped_values_gives_the_same_run(tmp_path, planted, fitted_run, cache):
    run = tmp_path / "mapped"
    config = tiny_config()
    config.data.mmap = True
    fit_run(planted[0], run, config)
    for name in ("ranking.json", "metrics.json", "history.json"):
        assert (run / name).read_bytes() == (fitted_run / name).read_bytes(), name
