"""`prune` plans from a run's ranking, and `predict` from the kept sensors only."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest
import xarray as xr

from dynst_cli.cli import main
from dynst_cli.mask import n_keep_for
from dynst_cli.plan.schema import read_plan
from dynst_cli.predict import predict_from_plan
from dynst_cli.prune import prune_run

pytestmark = pytest.mark.slow  # trains models: run by `make test`, not `make test-fast`


@pytest.mark.parametrize("sparsity", [0.0, 0.3, 0.5, 0.9])
def test_plan_keeps_n_minus_round_sn_in_the_runs_rank_order(fitted_run, sparsity):
    plan = prune_run(fitted_run, sparsity, finetune_epochs=0).to_json()
    ranking = [r["sensor_id"] for r in json.loads((fitted_run / "ranking.json").read_text())]
    n = plan["n_sensors"]
    assert plan["n_keep"] == n_keep_for(n, sparsity)
    kept = [s["sensor_id"] for s in plan["sensors"] if s["keep"]]
    assert kept == ranking[: plan["n_keep"]]
    assert [s["rank"] for s in plan["sensors"]] == list(range(1, n + 1))
    assert set(plan["metrics"]) == {"test", "dense_test"}


def test_prune_at_another_sparsity_finetunes_and_records_the_weights(fitted_run, tmp_path):
    out = tmp_path / "plan.json"
    assert main(["prune", str(fitted_run), "--sparsity", "0.25", "-o", str(out)]) == 0
    plan = read_plan(out)
    assert plan.model.finetune_epochs == 1
    assert (fitted_run / plan.model.weights).is_file()


def test_prune_is_byte_reproducible(fitted_run, tmp_path):
    for name in ("a.json", "b.json"):
        assert (
            main(["prune", str(fitted_run), "--sparsity", "0.4", "-o", str(tmp_path / name)]) == 0
        )
    assert (tmp_path / "a.json").read_bytes() == (tmp_path / "b.json").read_bytes()


@pytest.fixture
def plan_path(fitted_run, tmp_path):
    out = tmp_path / "plan.json"
    assert main(["prune", str(fitted_run), "--sparsity", "0.5", "-o", str(out)]) == 0
    return out


def test_forecast_covers_every_sensor_after_the_last_step(fitted_run, plan_path, planted):
    forecast = predict_from_plan(fitted_run, read_plan(plan_path), planted[0])
    with xr.open_dataset(planted[0]) as recent:
        assert list(forecast["sensor"].values) == list(recent["sensor"].values)
        step = recent["time"].values[1] - recent["time"].values[0]
        assert forecast["time"].values[0] == recent["time"].values[-1] + step
    assert forecast["x"].dims == ("time", "sensor")
    assert forecast.sizes["time"] == 2 and np.isfinite(forecast["x"].values).all()


def test_values_of_dropped_sensors_never_change_the_forecast(
    fitted_run, plan_path, planted, tmp_path
):
    plan = read_plan(plan_path)
    dropped = [s.sensor_id for s in plan.sensors if not s.keep]
    with xr.open_dataset(planted[0]) as ds:
        changed = ds.load()
    changed["x"].loc[{"sensor": dropped}] = 1e6  # wild values, and NaN below
    changed["x"].loc[{"sensor": dropped[:2]}] = np.nan
    changed.to_netcdf(tmp_path / "changed.nc")
    original = predict_from_plan(fitted_run, plan, planted[0])
    altered = predict_from_plan(fitted_run, plan, tmp_path / "changed.nc")
    np.testing.assert_array_equal(original["x"].values, altered["x"].values)


def test_predict_cli_writes_the_canonical_layout(fitted_run, plan_path, planted, tmp_path):
    out = tmp_path / "forecast.nc"
    args = ["predict", str(fitted_run), "--plan", str(plan_path), "--data", str(planted[0])]
    assert main([*args, "-o", str(out)]) == 0
    with xr.open_dataset(out) as forecast:
        assert set(forecast.coords) >= {"time", "sensor", "lat", "lon"}


def test_prune_at_several_sparsities_writes_plans_and_the_trade_off_curve(fitted_run, tmp_path):
    out = tmp_path / "plans"
    args = ["prune", str(fitted_run), "--sparsity", "0.25,0.5", "-o", str(out), "--json"]
    assert main([*args, "--finetune-epochs", "0"]) == 0
    curve = (out / "curve.csv").read_text().splitlines()
    assert curve[0].startswith("sparsity")
    for sparsity in ("0.25", "0.50"):
        plan = read_plan(out / f"plan-s{sparsity}.json")
        assert plan.n_keep == n_keep_for(plan.n_sensors, float(sparsity))
        assert any(line.startswith(str(float(sparsity))) for line in curve[1:]), curve
    assert (out / "curve.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_plan_gives_every_sensor_its_dense_and_reduced_test_mae(fitted_run):
    plan = prune_run(fitted_run, 0.5, finetune_epochs=0).to_json()
    reduced = [s["mae_reduced"] for s in plan["sensors"]]
    dense = [s["mae_dense"] for s in plan["sensors"]]
    assert all(v is not None and v > 0 for v in reduced + dense)
    # the planted network has no gap: every sensor has as many targets, so the means agree
    assert np.mean(reduced) == pytest.approx(plan["metrics"]["test"]["mae"], rel=1e-5)
    rises = {s["sensor_id"]: s["mae_reduced"] - s["mae_dense"] for s in plan["sensors"]}
    named = plan["most_affected"]
    assert named and [rises[n] for n in named] == sorted((rises[n] for n in named), reverse=True)
    assert rises[named[0]] == max(rises.values())


def test_prune_says_what_it_keeps_and_that_nothing_was_written(fitted_run, capsys):
    assert main(["-q", "prune", str(fitted_run), "--sparsity", "0.5"]) == 0
    out = capsys.readouterr().out
    assert "Keep 12 of 24 sensors: s0" in out
    assert "Switching off the other 12 sensors " in out and "the largest rise is at s" in out
    assert "nothing written (no -o)" in out


def test_predict_json_gives_iso_times_to_the_second(
    fitted_run, plan_path, planted, tmp_path, capsys
):
    out = tmp_path / "forecast.nc"
    args = ["predict", str(fitted_run), "--plan", str(plan_path), "--data", str(planted[0])]
    assert main([*args, "-o", str(out), "--json"]) == 0
    with xr.open_dataset(planted[0]) as recent:
        step = recent["time"].values[1] - recent["time"].values[0]
        first = recent["time"].values[-1] + step
    summary = json.loads(capsys.readouterr().out)
    assert summary["start"] == str(np.datetime_as_string(first, unit="s"))
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d", summary["end"])


def test_prune_shows_fine_tuning_progress_on_stderr(fitted_run, tmp_path, capsys):
    out = tmp_path / "plan.json"
    assert main(["prune", str(fitted_run), "--sparsity", "0.25", "-o", str(out)]) == 0
    assert "prune 0.25 fine-tune: epoch 1/1" in capsys.readouterr().err
