"""Region files (RFC 7946 GeoJSON), point-in-region tests and sensor id files."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import shapely
from shapely.geometry import box

from dynst_cli.atomic import sha256_file
from dynst_cli.errors import InputError, UsageError
from dynst_cli.selection.regions import Region, read_id_file, read_regions, sensors_in_region

LOCATIONS = Path(__file__).parents[2] / "data" / "metr-la-week" / "graph_sensor_locations.csv"


def _polygon(lon0, lat0, lon1, lat1) -> dict:
    ring = [[lon0, lat0], [lon1, lat0], [lon1, lat1], [lon0, lat1], [lon0, lat0]]
    return {"type": "Polygon", "coordinates": [ring]}


def _feature(geometry: dict, **props) -> dict:
    return {"type": "Feature", "geometry": geometry, "properties": props}


def _write(tmp_path: Path, features: list, name: str = "regions.geojson") -> Path:
    path = tmp_path / name
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}))
    return path


def _la_sensors() -> tuple[np.ndarray, np.ndarray]:
    table = np.loadtxt(LOCATIONS, delimiter=",", skiprows=1, usecols=(2, 3))
    return table[:, 0], table[:, 1]


def test_read_regions_names_from_property_or_index(tmp_path):
    multi = {
        "type": "MultiPolygon",
        "coordinates": [
            _polygon(-118.3, 34.0, -118.2, 34.1)["coordinates"],
            _polygon(-118.5, 34.2, -118.4, 34.3)["coordinates"],
        ],
    }
    path = _write(
        tmp_path, [_feature(_polygon(-118.3, 34.0, -118.2, 34.1), name="downtown"), _feature(multi)]
    )
    regions = read_regions(path)
    assert [r.name for r in regions] == ["downtown", "1"]
    assert regions[1].geometry.geom_type == "MultiPolygon"
    assert regions[0].source_sha256 == sha256_file(path)
    assert regions[0].to_dict() == {
        "name": "downtown",
        "source": "regions.geojson",
        "sha256": sha256_file(path),
    }


def test_read_regions_missing_path_is_usage_error(tmp_path):
    with pytest.raises(UsageError, match="nope.geojson"):
        read_regions(tmp_path / "nope.geojson")


BOWTIE = {"type": "Polygon", "coordinates": [[[0, 0], [1, 1], [1, 0], [0, 1], [0, 0]]]}


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{not json", "not valid JSON"),
        (json.dumps({"type": "Feature"}), "FeatureCollection"),
        (json.dumps({"type": "FeatureCollection", "features": []}), "no Polygon"),
        (
            json.dumps(
                {
                    "type": "FeatureCollection",
                    "features": [_feature({"type": "Point", "coordinates": [0, 0]})],
                }
            ),
            "Point",
        ),
        (json.dumps({"type": "FeatureCollection", "features": [_feature(BOWTIE)]}), "invalid"),
        (
            json.dumps(
                {"type": "FeatureCollection", "features": [_feature(_polygon(34, -118, 35, -117))]}
            ),
            r"\[lon, lat\]",
        ),
        (
            json.dumps(
                {
                    "type": "FeatureCollection",
                    "features": [_feature(_polygon(0, 0, 1, 1), name="a")] * 2,
                }
            ),
            "unique",
        ),
        (
            json.dumps(
                {
                    "type": "FeatureCollection",
                    "features": [_feature({"type": "Polygon", "coordinates": [[[0, 0], [1]]]})],
                }
            ),
            "malformed",
        ),
    ],
    ids=["json", "not-collection", "empty", "point", "bowtie", "lat-lon-swapped", "dup", "coords"],
)
def test_read_regions_bad_file_is_input_error_naming_it(tmp_path, content, message):
    path = tmp_path / "bad.geojson"
    path.write_text(content)
    with pytest.raises(InputError, match=message) as err:
        read_regions(path)
    assert "bad.geojson" in str(err.value)


def test_sensors_in_region_counts_the_boundary_as_inside():
    region = Region("unit", box(0.0, 0.0, 1.0, 1.0))
    lon = np.array([0.5, 0.0, 1.0, 0.5, 1.5, np.nan])
    lat = np.array([0.5, 0.5, 1.0, 0.0, 0.5, 0.5])
    assert sensors_in_region(region, lat, lon).tolist() == [True, True, True, True, False, False]


def test_sensors_in_region_matches_shapely_covers_on_la_sensors():
    lat, lon = _la_sensors()
    region = Region("central", box(-118.35, 34.05, -118.25, 34.15))
    expected = [region.geometry.covers(shapely.Point(x, y)) for x, y in zip(lon, lat, strict=True)]
    inside = sensors_in_region(region, lat, lon)
    assert inside.tolist() == expected
    assert 0 < inside.sum() < lat.size


def test_read_id_file_accepts_lines_commas_and_comments(tmp_path):
    path = tmp_path / "ids.txt"
    path.write_text("# sensors to keep\n773869, 767541\n\n716328  # downtown\n773869\n")
    assert read_id_file(path) == ("773869", "767541", "716328")


def test_read_id_file_missing_is_usage_error(tmp_path):
    with pytest.raises(UsageError, match="ids.txt"):
        read_id_file(tmp_path / "ids.txt")


def test_read_id_file_binary_is_input_error(tmp_path):
    path = tmp_path / "ids.txt"
    path.write_bytes(b"\xff\xfe\x00bad")
    with pytest.raises(InputError, match="ids.txt"):
        read_id_file(path)
