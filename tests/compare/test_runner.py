"""compare_run: one trained and scored keep set per method, sparsity and seed, reproducibly."""

from __future__ import annotations

import json

import numpy as np
import pytest

from dynst_cli.compare.outputs import compare_csv_text, result_json, timings
from dynst_cli.compare.runner import (
    METHODS,
    check_methods,
    compare_run,
    rankings,
    training_snapshots,
)
from dynst_cli.data import SensorData
from dynst_cli.errors import UsageError
from dynst_cli.mask import n_keep_for

pytestmark = pytest.mark.slow  # trains models: run by `make test`, not `make test-fast`

SPARSITIES = [0.3, 0.7]
METHODS_ALL = ["dynst", "random", "variance", "qr"]


@pytest.fixture(scope="module")
def result(fitted_run):
    return compare_run(fitted_run, SPARSITIES, METHODS_ALL, seeds=1, epochs=1)


def test_check_methods_lists_the_valid_ones():
    assert check_methods(["qr", "dynst", "qr"]) == ["qr", "dynst"]
    with pytest.raises(UsageError) as err:
        check_methods(["dynst", "pca"])
    assert "pca" in str(err.value)
    assert all(method in str(err.value) for method in METHODS)


def test_training_snapshots_stack_channels_as_samples():
    values = np.arange(2 * 3 * 2, dtype=np.float32).reshape(2, 3, 2)  # [T, N, C]
    data = SensorData(
        values=values,
        time=np.array(["2024-01-01T00", "2024-01-01T01"], dtype="datetime64[ns]"),
        sensor_ids=np.array(["a", "b", "c"]),
        lat=np.zeros(3),
        lon=np.zeros(3),
        variables=["u", "v"],
        units={"u": "m/s", "v": "m/s"},
        sha256="0" * 64,
    )
    x = training_snapshots(data, 1)
    assert x.shape == (2, 3)  # one step, two channels -> two samples
    np.testing.assert_array_equal(x, values[0].T)


def test_rankings_give_one_per_seed_for_random_only(fitted_run):
    n = len(json.loads((fitted_run / "ranking.json").read_text()))
    snapshots = np.random.default_rng(0).normal(size=(50, n))
    got = [(m, s) for m, s, _ in rankings(METHODS_ALL, 3, fitted_run, snapshots)]
    assert got == [
        ("dynst", None),
        ("random", 0),
        ("random", 1),
        ("random", 2),
        ("variance", None),
        ("qr", None),
    ]
    order = [r["index"] for r in json.loads((fitted_run / "ranking.json").read_text())]
    assert next(rankings(["dynst"], 1, fitted_run, snapshots))[2].tolist() == order


def test_one_row_per_method_and_sparsity_with_the_right_counts(result, fitted_run):
    n_sensors = result.dense["n_keep"]
    assert [(r["method"], r["sparsity"]) for r in result.results] == [
        (m, s) for s in SPARSITIES for m in METHODS_ALL
    ]
    for row in result.results:
        assert row["n_keep"] == n_keep_for(n_sensors, row["sparsity"])
        assert row["seed"] == (0 if row["method"] == "random" else None)
        assert row["mae"] > 0 and row["rmse"] >= row["mae"]
    assert len(result.seconds) == len(result.results)
    assert result.dense_seconds is None or result.dense_seconds > 0  # None: read from the cache
    assert result.stability is None


def test_same_seed_gives_the_same_results(result, fitted_run):
    again = compare_run(fitted_run, SPARSITIES, METHODS_ALL, seeds=1, epochs=1)
    assert again.results == result.results
    assert again.dense == result.dense
    assert compare_csv_text(again) == compare_csv_text(result)


def test_csv_and_json_hold_the_same_rows_and_no_times(result):
    lines = compare_csv_text(result).splitlines()
    assert lines[0] == "method,sparsity,n_keep,seed,mae,rmse,mape"
    assert "seconds" not in compare_csv_text(result)
    payload = result_json(result)
    assert len(lines) == 1 + len(payload["results"]) + 1
    assert lines[-1].startswith("dense,0.0,")
    assert len(timings(result)["results"]) == len(payload["results"])


@pytest.mark.parametrize(
    ("kwargs", "words"),
    [
        ({"sparsities": [1.0]}, "[0, 1)"),
        ({"seeds": 0}, "--seeds"),
        ({"epochs": 0}, "--epochs"),
        ({"methods": ["nope"]}, "choose from"),
    ],
)
def test_bad_arguments_are_usage_errors(fitted_run, kwargs, words):
    args = {"sparsities": [0.5], "methods": ["dynst"], "seeds": 1, "epochs": 1, **kwargs}
    with pytest.raises(UsageError) as err:
        compare_run(fitted_run, **args)
    assert words in str(err.value)
