"""The report page (dynst_cli.report): self-contained, one map record per sensor, right numbers."""

from __future__ import annotations

import json
import re

import pytest
from report_helpers import inputs_for, map_data, with_sensor_errors

from dynst_cli.cli import main
from dynst_cli.report import build_report
from dynst_cli.report.page import render
from dynst_cli.report.sensors import relative_rise


def test_page_fetches_nothing_from_the_network(point_plan):
    page = render(inputs_for(point_plan))
    fetching = r"""<(script|img|link|iframe)[^>]*(src|href)\s*=\s*['"]?(https?:)?//"""
    assert not re.search(fetching, page)
    assert "@import" not in page
    assert "L.map(" in page and "leaflet" in page.lower()  # Leaflet itself is inline
    assert "url(images/" not in page  # the style sheet's images are data URIs


@pytest.mark.parametrize("plan_name", ["point_plan", "grid_plan"])
def test_map_has_one_record_per_sensor_in_rank_order(request, plan_name):
    plan = request.getfixturevalue(plan_name)
    sensors = map_data(render(inputs_for(plan)))["sensors"]
    assert [s["id"] for s in sensors] == [s["sensor_id"] for s in plan["sensors"]]
    assert all(("bounds" in s) == (plan["grid"] is not None) for s in sensors)


def test_grid_cells_span_one_grid_step(grid_plan):
    cell = map_data(render(inputs_for(grid_plan)))["sensors"][0]
    (south, west), (north, east) = cell["bounds"]
    assert north - south == pytest.approx(grid_plan["grid"]["dlat"])
    assert east - west == pytest.approx(grid_plan["grid"]["dlon"])


def test_popup_carries_rank_reason_frequency_cost_and_both_errors(point_plan):
    plan = with_sensor_errors(point_plan)
    dropped = next(s for s in plan["sensors"] if not s["keep"])
    record = next(
        s for s in map_data(render(inputs_for(plan)))["sensors"] if s["id"] == dropped["sensor_id"]
    )
    popup = record["popup"]
    assert f"<td data-key='rank'>{dropped['rank']}</td>" in popup
    assert f"<td data-key='reason'>{dropped['reason']}</td>" in popup
    assert f"{dropped['selection_frequency']:.2f}" in popup
    assert (
        f"{dropped['mae_dense']:.2f} mph" in popup and f"{dropped['mae_reduced']:.2f} mph" in popup
    )
    assert "+10 %" in popup


def test_error_colours_separate_worse_from_unchanged_sensors(point_plan):
    plan = with_sensor_errors(point_plan)
    records = map_data(render(inputs_for(plan)))["sensors"]
    worse = {
        r["colour_rise"] for r, s in zip(records, plan["sensors"], strict=True) if not s["keep"]
    }
    same = {r["colour_rise"] for r, s in zip(records, plan["sensors"], strict=True) if s["keep"]}
    assert len(worse) == 1 and len(same) == 1 and worse != same
    assert relative_rise(plan["sensors"][-1]) == pytest.approx(10.0)


def test_summary_names_the_kept_count_and_the_largest_rise(point_plan):
    plan = with_sensor_errors(point_plan)
    page = render(inputs_for(plan))
    summary = re.search(r"<p class='summary' id='summary'>(.*?)</p>", page, re.S).group(1)
    assert f"Keep {plan['n_keep']} of {plan['n_sensors']} sensors" in summary
    assert "from 2.98 to 3.21 mph (+7.7 %)" in summary
    assert f"the largest rise is at {plan['most_affected'][0]} (+10 %)" in summary


def test_provenance_gives_sha256_backbone_and_versions(point_plan):
    page = render(inputs_for(point_plan))
    provenance = page[page.index("<h2>Provenance</h2>") :]
    assert point_plan["dataset_sha256"] in provenance
    assert "<td>backbone</td><td>stid</td>" in provenance
    assert "dynst version (report)" in provenance and "Leaflet version" in provenance


def test_stability_figure_from_the_plans_selection_frequency(point_plan, grid_plan):
    assert "id='figure-stability'" in render(inputs_for(point_plan))  # plan has frequencies
    assert "id='figure-stability'" not in render(inputs_for(grid_plan))


@pytest.mark.slow
def test_report_of_a_run_with_two_plans_has_the_tradeoff_curve(fitted_run, pruned_plans):
    page = build_report(fitted_run, pruned_plans)
    assert "id='figure-tradeoff'" in page
    plan = json.loads(pruned_plans[0].read_text())
    sensors = map_data(page)["sensors"]
    assert len(sensors) == plan["n_sensors"]
    assert [s["keep"] for s in sensors] == [s["keep"] for s in plan["sensors"]]
    assert "id='figure-tradeoff'" not in build_report(fitted_run, pruned_plans[:1])


@pytest.mark.slow
def test_report_without_plans_maps_the_fits_keep_set(fitted_run):
    ranking = json.loads((fitted_run / "ranking.json").read_text())
    sensors = map_data(build_report(fitted_run))["sensors"]
    assert [s["id"] for s in sensors][:3] == [r["sensor_id"] for r in ranking][:3]
    assert sum(s["keep"] for s in sensors) == sum(r["kept_in_fit"] for r in ranking)


@pytest.mark.slow
def test_report_shows_a_comparison_folder(fitted_run, pruned_plans, tmp_path):
    (tmp_path / "compare.csv").write_text(
        "method,sparsity,n_keep,seed,mae,rmse,mape\n"
        "dynst,0.5,12,,0.81,1.02,\nrandom,0.5,12,0,0.95,1.2,\ndense,0.0,,,0.7,0.9,\n"
    )
    assert "id='figure-comparison'" in build_report(fitted_run, pruned_plans[:1], tmp_path)


@pytest.mark.slow
def test_cli_writes_the_report_and_says_where(fitted_run, pruned_plans, tmp_path, capsys):
    out = tmp_path / "report.html"
    args = ["report", str(fitted_run), "--plan", str(pruned_plans[0]), "-o", str(out)]
    assert main(args) == 0
    assert out.read_text().startswith("<!DOCTYPE html>")
    assert f"report written to {out}" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["--plan", "missing.json", "-o", "r.html"], 2, "--plan missing.json: no such file"),
        (["-o", "report.pdf"], 2, "give a name ending in .html"),
    ],
)
@pytest.mark.slow
def test_cli_usage_errors(fitted_run, tmp_path, capsys, monkeypatch, args, code, message):
    monkeypatch.chdir(tmp_path)
    assert main(["report", str(fitted_run), *args]) == code
    assert message in capsys.readouterr().err


@pytest.mark.slow
def test_cli_refuses_a_plan_from_another_dataset(fitted_run, pruned_plans, tmp_path, capsys):
    plan = json.loads(pruned_plans[0].read_text())
    plan["dataset_sha256"] = "cd" * 32
    other = tmp_path / "other.json"
    other.write_text(json.dumps(plan))
    assert (
        main(["report", str(fitted_run), "--plan", str(other), "-o", str(tmp_path / "r.html")]) == 3
    )
    assert "another dataset" in capsys.readouterr().err
    assert not (tmp_path / "r.html").exists()
