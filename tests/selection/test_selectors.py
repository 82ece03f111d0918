"""Selectors: the PySensors-shaped interface, known answers on synthetic fields, the registry."""

import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from dynst_cli.errors import InputError, UsageError
from dynst_cli.selection import (
    SELECTORS,
    DynSTSelector,
    QRSelector,
    RandomSelector,
    Selector,
    Siting,
    VarianceSelector,
    make_selector,
)

ALL_NAMES = sorted(name for name in SELECTORS if name != "dynst")  # fitted on snapshots alone


def assert_permutation(ranking, n_sensors):
    assert ranking.shape == (n_sensors,)
    assert np.issubdtype(ranking.dtype, np.integer)
    np.testing.assert_array_equal(np.sort(ranking), np.arange(n_sensors))


def test_variance_ranks_sensors_by_noise_level(noisy_sensors, noise_levels):
    selector = VarianceSelector().fit(noisy_sensors)
    np.testing.assert_array_equal(selector.ranked_sensors_, np.argsort(-noise_levels))
    np.testing.assert_allclose(selector.variance_, noise_levels**2, rtol=0.1)


def test_variance_breaks_ties_by_sensor_index():
    X = np.tile([[0.0, 1.0, 0.0, 1.0, 5.0]], (2, 1))
    X[1] = [2.0, -1.0, 2.0, -1.0, 5.0]
    np.testing.assert_array_equal(VarianceSelector().fit(X).ranked_sensors_, [0, 1, 2, 3, 4])


def test_qr_top_k_sensors_span_a_rank_k_field(low_rank_field):
    X, phi = low_rank_field
    k = phi.shape[0]
    selector = QRSelector().fit(X)
    top_k = selector.ranked_sensors_[:k]
    assert selector.n_modes_ == k
    assert np.linalg.matrix_rank(phi[:, top_k]) == k
    # every snapshot is recovered from its k top-ranked sensors by least squares
    reconstruction, *_ = np.linalg.lstsq(phi[:, top_k].T, X[:, top_k].T, rcond=None)
    np.testing.assert_allclose(reconstruction.T @ phi, X, atol=1e-8)


def test_qr_picks_one_sensor_per_copied_source_first(copied_sources):
    X, group = copied_sources
    n_groups = np.unique(group).size
    top = QRSelector().fit(X).ranked_sensors_[:n_groups]
    assert sorted(group[top]) == list(range(n_groups))


def test_qr_respects_given_number_of_modes(low_rank_field):
    X, _ = low_rank_field
    selector = QRSelector(n_modes=2).fit(X)
    assert selector.n_modes_ == 2
    assert selector.basis_.shape == (X.shape[1], 2)


def test_random_is_reproducible_per_seed_and_differs_across_seeds(noisy_sensors):
    first = RandomSelector(seed=3).fit(noisy_sensors).ranked_sensors_
    again = RandomSelector(seed=3).fit(noisy_sensors[::-1]).ranked_sensors_
    other = RandomSelector(seed=4).fit(noisy_sensors).ranked_sensors_
    assert_permutation(first, noisy_sensors.shape[1])
    np.testing.assert_array_equal(first, again)
    assert not np.array_equal(first, other)


def test_variance_ignores_missing_values(noisy_sensors, noise_levels, rng):
    X = noisy_sensors.copy()
    X[rng.random(X.shape) < 0.2] = np.nan
    X[:, 0] = np.nan  # a sensor that never reported
    ranking = VarianceSelector().fit(X).ranked_sensors_
    expected = [i for i in np.argsort(-noise_levels) if i != 0] + [0]
    np.testing.assert_array_equal(ranking, expected)


def test_qr_fills_missing_values_with_the_column_mean(low_rank_field):
    X, phi = low_rank_field
    gappy = X.copy()
    gappy[::7, 5] = np.nan
    selector = QRSelector().fit(gappy)
    filled = np.where(np.isnan(gappy), np.nanmean(gappy, axis=0), gappy)
    np.testing.assert_allclose(selector.mean_, filled.mean(axis=0))
    assert np.isfinite(selector.basis_).all()
    assert_permutation(selector.ranked_sensors_, X.shape[1])


@pytest.mark.parametrize("name", ALL_NAMES)
def test_missing_values_do_not_crash(name, noisy_sensors, rng):
    X = noisy_sensors[:50].copy()
    X[rng.random(X.shape) < 0.3] = np.nan
    X[:, 2] = np.nan
    assert_permutation(make_selector(name).fit(X).ranked_sensors_, X.shape[1])


finite_or_missing = st.one_of(
    st.floats(-1e6, 1e6, allow_subnormal=False),
    st.just(np.nan),
)


@pytest.mark.parametrize("name", ALL_NAMES)
@settings(max_examples=40, deadline=None)
@given(
    X=hnp.arrays(
        np.float64,
        hnp.array_shapes(min_dims=2, max_dims=2, min_side=1, max_side=15),
        elements=finite_or_missing,
    )
)
def test_every_ranking_is_a_permutation_of_the_sensors(name, X):
    assert_permutation(make_selector(name).fit(X).ranked_sensors_, X.shape[1])


@pytest.mark.parametrize("name", ALL_NAMES)
@pytest.mark.parametrize("bad", [np.zeros(5), np.zeros((0, 3)), np.zeros((3, 0)), [[1.0, np.inf]]])
def test_unusable_snapshots_raise_input_error(name, bad):
    with pytest.raises(InputError):
        make_selector(name).fit(bad)


@pytest.mark.parametrize("name", ALL_NAMES)
def test_selected_sensors_before_fit_raise(name):
    with pytest.raises(RuntimeError, match="fit"):
        make_selector(name).get_selected_sensors(2)


@pytest.mark.parametrize(
    ("name", "cls"),
    [("random", RandomSelector), ("variance", VarianceSelector), ("qr", QRSelector)],
)
def test_make_selector_builds_the_registered_class(name, cls):
    assert type(make_selector(name)) is cls


def test_make_selector_passes_seed_and_options():
    assert make_selector("random", seed=7).seed == 7
    assert make_selector("qr", n_modes=3, center=False).n_modes == 3


def test_make_selector_unknown_name_lists_valid_names():
    with pytest.raises(UsageError, match="dynst, greedy, qr, random, variance"):
        make_selector("nope")


def test_make_selector_unknown_option_lists_valid_options():
    with pytest.raises(UsageError, match="center, energy, n_modes"):
        make_selector("qr", n_basis_modes=3)


@pytest.mark.parametrize(("n_keep", "expected"), [(0, []), (2, [1, 3]), (4, [0, 1, 2, 3])])
def test_free_siting_keeps_the_top_ranked_sensors(n_keep, expected):
    selection = Siting.free(4).select(np.array([3, 1, 0, 2]), n_keep)
    assert selection.keep.dtype == bool
    np.testing.assert_array_equal(np.flatnonzero(selection.keep), expected)
    assert selection.reason == ["score"] * 4


@pytest.mark.parametrize("n_keep", [-1, 5])
def test_free_siting_rejects_impossible_counts(n_keep):
    with pytest.raises(ValueError, match=r"\[0, 4\]"):
        Siting.free(4).select(np.arange(4), n_keep)


@pytest.mark.parametrize("name", ALL_NAMES)
def test_every_selector_has_the_pysensors_shape(name, noisy_sensors):
    selector = make_selector(name)
    assert selector.fit(noisy_sensors) is selector
    assert isinstance(selector, Selector)
    ranked = selector.ranked_sensors_
    np.testing.assert_array_equal(selector.get_selected_sensors(3), ranked[:3])
    selector.set_n_sensors(5)  # a new count without refitting
    np.testing.assert_array_equal(selector.get_selected_sensors(), ranked[:5])
    np.testing.assert_array_equal(selector.ranking().order, ranked)


@pytest.mark.slow
def test_dynst_selector_reads_the_runs_ranking(fitted_run):
    records = json.loads((fitted_run / "ranking.json").read_text())
    selector = make_selector("dynst", run=fitted_run)
    assert type(selector) is DynSTSelector and not selector.seeded
    X = np.zeros((4, len(records)))
    assert selector.fit(X).ranked_sensors_.tolist() == [r["index"] for r in records]
    assert selector.ranking().kept.sum() == sum(r["kept_in_fit"] for r in records)
    with pytest.raises(InputError, match="ranks"):
        make_selector("dynst", run=fitted_run).fit(np.zeros((4, len(records) + 1)))


def test_dynst_selector_needs_a_run():
    with pytest.raises(UsageError, match="run"):
        make_selector("dynst")
