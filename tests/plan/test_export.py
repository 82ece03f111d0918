"""GeoJSON (RFC 7946) and CSV export, and `dynst export-plan` (dynst_cli.plan.export)."""

from __future__ import annotations

import csv
import json
import re

import geopandas as gpd
import numpy as np
import pytest
import shapely
import xarray as xr
from shapely.geometry import Point, shape

from dynst_cli.atomic import sha256_file
from dynst_cli.cli import main
from dynst_cli.errors import UsageError
from dynst_cli.plan.export import (
    cell_polygon,
    csv_text,
    geojson_text,
    number_text,
    plan_to_geodataframe,
    write_csv,
    write_geojson,
)
from dynst_cli.plan.schema import write_plan

# ----------------------------------------------------------------------------- GeoJSON


@pytest.fixture
def geojson_path(tmp_path, any_plan):
    path = tmp_path / "plan.geojson"
    write_geojson(any_plan, path)
    return path


def test_geojson_is_a_feature_collection_without_crs(geojson_path, any_plan):
    doc = json.loads(geojson_path.read_text())
    assert doc["type"] == "FeatureCollection"
    assert "crs" not in doc and all("crs" not in f for f in doc["features"])
    assert len(doc["features"]) == any_plan["n_sensors"]
    assert doc["dynst"]["n_keep"] == any_plan["n_keep"]
    assert doc["dynst"]["metrics"] == any_plan["metrics"]
    assert doc["dynst"]["dataset_sha256"] == any_plan["dataset_sha256"]


def test_geojson_points_are_lon_lat_in_rank_order(geojson_path, any_plan):
    features = json.loads(geojson_path.read_text())["features"]
    for feature, sensor in zip(features, any_plan["sensors"], strict=True):
        lon, lat = feature["geometry"]["coordinates"]
        assert feature["geometry"]["type"] == "Point"
        assert abs(lon - sensor["lon"]) <= 1e-7 and abs(lat - sensor["lat"]) <= 1e-7
        assert feature["properties"]["sensor_id"] == sensor["sensor_id"]
    assert [f["properties"]["rank"] for f in features] == list(range(1, len(features) + 1))


def test_geojson_reads_back_with_geopandas(geojson_path, any_plan):
    frame = gpd.read_file(geojson_path)
    lon = np.array([s["lon"] for s in any_plan["sensors"]])
    lat = np.array([s["lat"] for s in any_plan["sensors"]])
    np.testing.assert_allclose(frame.geometry.x, lon, atol=1e-7, rtol=0)
    np.testing.assert_allclose(frame.geometry.y, lat, atol=1e-7, rtol=0)
    assert frame["rank"].tolist() == list(range(1, len(frame) + 1))
    assert int(frame["keep"].sum()) == any_plan["n_keep"]
    n, sparsity = any_plan["n_sensors"], any_plan["sparsity"]
    assert int(frame["keep"].sum()) == n - int(np.floor(sparsity * n + 0.5))
    assert frame.crs.to_epsg() == 4326  # RFC 7946 default, implied without a crs member


def test_geojson_properties_include_optional_fields(point_plan):
    first = json.loads(geojson_text(point_plan))["features"][0]["properties"]
    assert list(first) == ["sensor_id", "rank", "score", "keep", "reason", "cost",
                           "selection_frequency"]  # fmt: skip
    assert first["reason"] == "keep"


@pytest.mark.parametrize("precision", [0, 3, 6, 7])
def test_geojson_coordinates_have_at_most_precision_decimals(point_plan, precision):
    text = geojson_text(point_plan, precision=precision)
    coordinates = re.findall(r'"coordinates": \[([^\]]*)\]', text)
    numbers = ",".join(coordinates).replace(" ", "").split(",")
    assert len(numbers) == 2 * point_plan["n_sensors"]
    assert all(len(n.split(".")[1]) <= max(precision, 1) and "e" not in n for n in numbers)


@pytest.mark.parametrize("precision", [-1, 8])
def test_precision_outside_0_to_7_is_a_usage_error(point_plan, precision):
    with pytest.raises(UsageError, match="0..7"):
        geojson_text(point_plan, precision=precision)


def test_number_text_is_fixed_notation_without_negative_zero():
    assert number_text(-118.31829, 6) == "-118.31829"
    assert number_text(0.00005, 6) == "0.00005"
    assert number_text(-0.0000001, 6) == "0.0"
    assert number_text(2.0, 0) == "2.0"


def test_geojson_is_byte_deterministic(any_plan):
    assert geojson_text(any_plan) == geojson_text(json.loads(json.dumps(any_plan)))


def test_geojson_to_stdout(capsys, point_plan):
    write_geojson(point_plan, "-")
    assert json.loads(capsys.readouterr().out)["type"] == "FeatureCollection"


# ----------------------------------------------------------------------------- cells


def test_cell_polygons_are_ccw_closed_and_contain_their_point(grid_plan):
    features = json.loads(geojson_text(grid_plan, geometry="cell"))["features"]
    for feature, sensor in zip(features, grid_plan["sensors"], strict=True):
        ring = feature["geometry"]["coordinates"][0]
        assert feature["geometry"]["type"] == "Polygon" and ring[0] == ring[-1]
        polygon = shape(feature["geometry"])
        assert shapely.is_ccw(polygon.exterior)  # RFC 7946 section 3.1.6 right-hand rule
        assert polygon.contains(Point(sensor["lon"], sensor["lat"]))
        assert polygon.area == pytest.approx(0.25 * 0.25)


def test_cell_crossing_the_antimeridian_is_cut_in_two():
    cell = cell_polygon(10.0, -180.0, 1.0, 1.0)
    assert cell.geom_type == "MultiPolygon" and len(cell.geoms) == 2
    assert all(shapely.is_ccw(part.exterior) for part in cell.geoms)
    assert cell.bounds == (-180.0, 9.5, 180.0, 10.5)
    assert cell.area == pytest.approx(1.0)


def test_cell_geometry_on_a_point_plan_is_a_usage_error(point_plan):
    with pytest.raises(UsageError, match="grid plan"):
        plan_to_geodataframe(point_plan, geometry="cell")


def test_grid_plan_round_trips_its_keep_mask(tmp_path, grid_plan):
    path = tmp_path / "cells.geojson"
    write_geojson(grid_plan, path, geometry="cell")
    frame = gpd.read_file(path)
    shape_hw = tuple(grid_plan["grid"]["shape"])
    rebuilt, expected = np.zeros(shape_hw, bool), np.zeros(shape_hw, bool)
    rebuilt[frame["row"], frame["col"]] = frame["keep"]
    for sensor in grid_plan["sensors"]:
        expected[sensor["row"], sensor["col"]] = sensor["keep"]
    assert np.array_equal(rebuilt, expected) and rebuilt.sum() == grid_plan["n_keep"]


# ----------------------------------------------------------------------------- CSV


def _csv_rows(text: str) -> list[dict]:
    return list(csv.DictReader(text.splitlines()))


def test_csv_header_and_rank_order(point_plan, grid_plan):
    point_header = csv_text(point_plan).splitlines()[0]
    assert point_header == "sensor_id,lat,lon,rank,score,keep,reason,cost,selection_frequency"
    assert csv_text(grid_plan).splitlines()[0] == "sensor_id,lat,lon,rank,score,keep,reason,row,col"
    rows = _csv_rows(csv_text(point_plan))
    assert [int(r["rank"]) for r in rows] == list(range(1, 208))
    assert {r["keep"] for r in rows} == {"true", "false"}


def test_csv_and_geojson_agree_row_by_row(any_plan):
    rows = _csv_rows(csv_text(any_plan))
    features = json.loads(geojson_text(any_plan))["features"]
    for row, feature in zip(rows, features, strict=True):
        props = feature["properties"]
        assert row["sensor_id"] == props["sensor_id"] and int(row["rank"]) == props["rank"]
        assert row["keep"] == ("true" if props["keep"] else "false")
        assert float(row["score"]) == props["score"] and row["reason"] == props["reason"]
        assert [float(row["lon"]), float(row["lat"])] == feature["geometry"]["coordinates"]


def test_csv_to_file_and_stdout_are_identical(tmp_path, capsys, point_plan):
    write_csv(point_plan, tmp_path / "plan.csv")
    write_csv(point_plan, "-")
    assert capsys.readouterr().out == (tmp_path / "plan.csv").read_text()


# ----------------------------------------------------------------------------- CLI


def test_cli_writes_geojson_csv_and_map(tmp_path, plan_file):
    out, table, png = tmp_path / "o.geojson", tmp_path / "o.csv", tmp_path / "m.png"
    assert main(["export-plan", str(plan_file), "-o", str(out), "--map", str(png)]) == 0
    assert main(["export-plan", str(plan_file), "-o", str(table)]) == 0
    assert json.loads(out.read_text())["type"] == "FeatureCollection"
    assert table.read_text().startswith("sensor_id,lat,lon,")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_cli_json_summary(tmp_path, capsys, grid_plan_file):
    out = tmp_path / "cells.geojson"
    args = ["export-plan", str(grid_plan_file), "-o", str(out), "--geometry", "cell", "--json"]
    assert main(args) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["output"] == str(out) and summary["geometry"] == "cell"
    assert summary["n_keep"] == 162 and summary["dataset_matches"] is None


def test_cli_stdout_output(capsys, plan_file):
    assert main(["export-plan", str(plan_file), "-o", "-", "--format", "csv"]) == 0
    assert capsys.readouterr().out.startswith("sensor_id,lat,lon,rank,score,keep")


@pytest.mark.parametrize(
    "extra",
    [
        ["-o", "out.txt"],
        ["-o", "out.geojson", "--format", "shapefile"],
        ["-o", "out.geojson", "--geometry", "cell"],
        ["-o", "out.csv", "--geometry", "cell"],
        ["-o", "out.geojson", "--precision", "8"],
        ["-o", "-", "--json"],
        ["-o", "out.geojson", "--map", "map.jpg"],
    ],
)
def test_cli_usage_errors_exit_2_and_write_nothing(tmp_path, monkeypatch, plan_file, extra):
    monkeypatch.chdir(tmp_path)
    before = sorted(p.name for p in tmp_path.iterdir())
    assert main(["export-plan", str(plan_file), *extra]) == 2
    assert sorted(p.name for p in tmp_path.iterdir()) == before


def test_cli_explicit_format_overrides_extension(tmp_path, plan_file):
    out = tmp_path / "plan.txt"
    assert main(["export-plan", str(plan_file), "-o", str(out), "--format", "csv"]) == 0
    assert out.read_text().startswith("sensor_id,")


@pytest.fixture
def dataset_and_plan(tmp_path, point_plan):
    dataset = tmp_path / "dataset.nc"
    ids = [s["sensor_id"] for s in point_plan["sensors"]]
    xr.Dataset(coords={"sensor": ("sensor", ids)}).to_netcdf(dataset, engine="netcdf4")
    point_plan["dataset_sha256"] = sha256_file(dataset)
    plan_path = tmp_path / "matched.json"
    write_plan(point_plan, plan_path)
    return dataset, plan_path


def test_cli_dataset_hash_match_passes(tmp_path, capsys, dataset_and_plan):
    dataset, plan_path = dataset_and_plan
    out = tmp_path / "o.geojson"
    args = ["export-plan", str(plan_path), "-o", str(out), "--dataset", str(dataset), "--json"]
    assert main(args) == 0
    assert json.loads(capsys.readouterr().out)["dataset_matches"] is True


def test_cli_dataset_hash_mismatch_exits_3_unless_forced(tmp_path, capsys, dataset_and_plan):
    dataset, plan_path = dataset_and_plan
    dataset.write_bytes(b"another dataset")
    out = tmp_path / "o.geojson"
    out.write_text("previous export")
    args = ["export-plan", str(plan_path), "-o", str(out), "--dataset", str(dataset)]
    assert main(args) == 3
    assert out.read_text() == "previous export"  # a failed export leaves the old file alone
    err = capsys.readouterr().err
    assert str(plan_path) in err and sha256_file(dataset) in err
    assert main([*args, "--force"]) == 0
    assert json.loads(out.read_text())["type"] == "FeatureCollection"


def test_cli_truncated_plan_exits_3_and_keeps_output(tmp_path, capsys, plan_file):
    out = tmp_path / "o.csv"
    out.write_text("previous export")
    plan_file.write_text(plan_file.read_text()[:500])
    assert main(["export-plan", str(plan_file), "-o", str(out)]) == 3
    assert out.read_text() == "previous export"
    assert "Traceback" not in capsys.readouterr().err


def test_cli_refuses_to_overwrite_the_plan(plan_file):
    before = plan_file.read_bytes()
    assert main(["export-plan", str(plan_file), "-o", str(plan_file)]) == 2
    assert plan_file.read_bytes() == before


def test_sensor_errors_travel_to_csv_and_geojson(point_plan):
    for sensor in point_plan["sensors"]:
        sensor["mae_dense"], sensor["mae_reduced"] = 2.5, 2.75
    point_plan["sensors"][0]["mae_dense"] = None
    rows = list(csv.DictReader(csv_text(point_plan).splitlines()))
    assert rows[0]["mae_dense"] == "" and rows[1]["mae_dense"] == "2.5"
    assert rows[1]["mae_reduced"] == "2.75"
    features = json.loads(geojson_text(point_plan))["features"]
    assert features[1]["properties"]["mae_reduced"] == 2.75
    assert features[0]["properties"]["mae_dense"] is None
