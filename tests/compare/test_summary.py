"""The rows `dynst compare` prints: every keep set, the mean over seeds, the dense model."""

from __future__ import annotations

from dynst_cli.compare.runner import CompareResult
from dynst_cli.compare.summary import COLUMNS, result_rows, unsure_sensors


def _row(method, seed, mae, mape=None):
    return {"method": method, "sparsity": 0.5, "n_keep": 4, "seed": seed, "mae": mae,
            "rmse": 2 * mae, "mape": mape}  # fmt: skip


def test_seeds_of_one_method_get_a_mean_and_spread_row_and_the_dense_model_comes_last():
    result = CompareResult(
        results=[_row("dynst", None, 1.0), _row("random", 0, 2.0), _row("random", 1, 4.0)],
        dense={"n_keep": 8, "mae": 0.5, "rmse": 1.0, "mape": None},
        seconds=[1.0, 2.0, 3.0],
        dense_seconds=4.25,
    )
    rows = result_rows(result)
    assert all(len(row) == len(COLUMNS) for row in rows)
    methods = ["dynst", "random", "random", "random", "dense (same budget)"]
    assert [row[0] for row in rows] == methods
    assert rows[3][3:7] == ["mean [min-max]", "3.000 [2.000-4.000]", "6.000 [4.000-8.000]", "n/a"]
    assert rows[-1][1:4] == ["0.00", "8", "-"] and rows[-1][-1] == "4.2"


def test_unsure_sensors_are_those_some_refits_dropped_most_often_kept_first():
    stability = {"selection_frequency": {"a": 1.0, "b": 0.5, "c": 0.0, "d": 0.75, "e": 0.5}}
    assert unsure_sensors(stability) == [("d", 0.75), ("b", 0.5), ("e", 0.5)]
