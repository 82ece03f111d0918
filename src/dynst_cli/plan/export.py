"""Plans as GeoJSON (RFC 7946) and CSV, the formats GIS tools and spreadsheets read.

GeoJSON follows RFC 7946: one FeatureCollection, one Feature per sensor in rank order, positions
``[lon, lat]`` in WGS84 degrees (section 3.1.1) with at most 7 decimals (section 11.2: about 1 cm),
no ``crs`` member (section 4), polygon exterior rings counter-clockwise and closed (the right-hand
rule, section 3.1.6), cells that cross the antimeridian cut into a MultiPolygon (section 3.1.9).
The plan's summary (sparsity, counts, backbone, metrics, dataset hash) travels as the foreign
member ``dynst`` of the collection (section 6.1).

Geometries are built with geopandas and shapely. The text is written with `json` rather than
``GeoDataFrame.to_json`` (which keeps every digit and clockwise rings) or the GDAL GeoJSON driver
with ``RFC7946=YES`` (which adds a ``name`` member and has no collection-level foreign member), so
that precision, ring order and bytes are under our control: the same plan gives the same file.

CSV columns: ``sensor_id,lat,lon,rank,score,keep,reason`` then, where any sensor has them,
``cost``, ``selection_frequency``, ``row``, ``col``, ``mae_dense``, ``mae_reduced`` (empty where a
sensor lacks the value; the two errors are test MAE in the variables' units);
``keep`` is ``true`` or ``false``; rows in rank order, the same rows as the GeoJSON.
"""

from __future__ import annotations

import csv
import io
import json
import os
import sys

import geopandas as gpd
import shapely
from shapely.geometry import MultiPolygon, Point, box, mapping

from dynst_cli.atomic import write_text
from dynst_cli.errors import InputError, UsageError
from dynst_cli.plan.schema import Plan, plan_record

GEOMETRIES = ("point", "cell")
DEFAULT_PRECISION = 6  # decimals of a degree: 0.1 m, well below any sensor's siting accuracy
MAX_PRECISION = 7  # RFC 7946 section 11.2: more digits only imply accuracy nobody has
BASE_PROPERTIES = ("sensor_id", "rank", "score", "keep", "reason")
OPTIONAL_PROPERTIES = ("cost", "selection_frequency", "row", "col", "mae_dense", "mae_reduced")
SUMMARY_KEYS = ("sparsity", "n_sensors", "n_keep", "backbone", "metrics", "dataset_sha256")
STDOUT = "-"


# ----------------------------------------------------------------------------- geometry


def plan_to_geodataframe(plan: Plan | dict, geometry: str = "point") -> gpd.GeoDataFrame:
    """One row per sensor in rank order, with its Point or grid-cell Polygon in EPSG:4326.

    Parameters
    ----------
    plan : dict
        A valid plan (see `dynst_cli.plan.schema`).
    geometry : {"point", "cell"}
        ``"point"``: the sensor's position. ``"cell"``: for grid plans the cell around it,
        lat +- dlat/2 by lon +- dlon/2, exterior ring counter-clockwise (RFC 7946 section 3.1.6).

    Returns
    -------
    geopandas.GeoDataFrame
        Columns sensor_id, rank, score, keep, reason, the optional columns any sensor has (cost,
        selection_frequency, row, col; missing values NaN) and geometry.

    Raises
    ------
    UsageError
        For an unknown geometry, or ``"cell"`` on a point plan.
    """
    plan = plan_record(plan)
    check_geometry(plan, geometry)
    sensors = plan["sensors"]
    columns = BASE_PROPERTIES + present_optional_keys(plan)
    data = {key: [sensor.get(key) for sensor in sensors] for key in columns}
    shapes = [_sensor_shape(sensor, plan["grid"], geometry) for sensor in sensors]
    return gpd.GeoDataFrame(data, geometry=shapes, crs="EPSG:4326")


def check_sensors_in(plan: Plan | dict, plan_path, dataset) -> None:
    """Raise InputError when the plan names sensors that `dataset` does not hold.

    The dataset hash alone cannot catch a plan edited by hand (or exported with --force against
    another dataset): a sensor id the dataset lacks would be exported as a phantom sensor.
    """
    import xarray as xr

    try:
        with xr.open_dataset(dataset, engine="netcdf4") as ds:
            ids = set(ds["sensor"].values.astype(str))
    except Exception as exc:
        raise InputError(f"{dataset}: not a readable dynst dataset ({exc})") from None
    phantom = [s["sensor_id"] for s in plan_record(plan)["sensors"] if s["sensor_id"] not in ids]
    if phantom:
        shown = ", ".join(phantom[:10])
        raise InputError(
            f"{plan_path} names {len(phantom)} sensor(s) that {dataset} does not hold: {shown}; "
            "prune the run again to get a plan of this dataset's sensors"
        )


def check_geometry(plan: Plan | dict, geometry: str) -> None:
    """Raise UsageError unless `geometry` is valid for `plan` (``"cell"`` needs a grid)."""
    if geometry not in GEOMETRIES:
        raise UsageError(f"unknown geometry {geometry!r}; valid: {', '.join(GEOMETRIES)}")
    if geometry == "cell" and plan_record(plan)["grid"] is None:
        raise UsageError("geometry 'cell' needs a grid plan, but this plan is of point sensors")


def cell_polygon(lat: float, lon: float, dlat: float, dlon: float):
    """The grid cell centred on (lat, lon): a CCW Polygon, or a MultiPolygon cut at +-180 deg.

    Latitudes are clipped to [-90, 90]; a cell crossing the antimeridian is cut in two as
    RFC 7946 section 3.1.9 asks.
    """
    south, north = max(lat - dlat / 2, -90.0), min(lat + dlat / 2, 90.0)
    west, east = lon - dlon / 2, lon + dlon / 2
    if west < -180.0:
        parts = [box(west + 360.0, south, 180.0, north), box(-180.0, south, east, north)]
    elif east > 180.0:
        parts = [box(west, south, 180.0, north), box(-180.0, south, east - 360.0, north)]
    else:
        parts = [box(west, south, east, north)]
    shape = parts[0] if len(parts) == 1 else MultiPolygon(parts)
    return shapely.orient_polygons(shape)  # exterior CCW, holes CW: RFC 7946 section 3.1.6


def _sensor_shape(sensor: dict, grid: dict | None, geometry: str):
    if geometry == "point":
        return Point(sensor["lon"], sensor["lat"])
    return cell_polygon(sensor["lat"], sensor["lon"], grid["dlat"], grid["dlon"])


def present_optional_keys(plan: Plan | dict) -> tuple[str, ...]:
    """The optional sensor fields (cost, selection_frequency, row, col, mae_*) any sensor has."""
    return tuple(k for k in OPTIONAL_PROPERTIES if any(k in s for s in plan["sensors"]))


# ----------------------------------------------------------------------------- GeoJSON


def geojson_text(
    plan: Plan | dict, geometry: str = "point", precision: int = DEFAULT_PRECISION
) -> str:
    """The plan as an RFC 7946 FeatureCollection, one Feature per line, in rank order.

    Parameters
    ----------
    plan : dict
        A valid plan.
    geometry : {"point", "cell"}
        Point per sensor, or the grid cell as a Polygon (grid plans only).
    precision : int
        Decimals of the coordinates, 0..7 (RFC 7946 section 11.2).

    Returns
    -------
    str
        The document, ending in a newline; identical for identical arguments.
    """
    _check_precision(precision)
    plan = plan_record(plan)
    frame = plan_to_geodataframe(plan, geometry)
    features = [
        _feature_text(sensor, shape, precision)
        for sensor, shape in zip(plan["sensors"], frame.geometry, strict=True)
    ]
    summary = {key: plan[key] for key in SUMMARY_KEYS}
    summary["units"] = plan["units"]
    if "most_affected" in plan:
        summary["most_affected"] = plan["most_affected"]
    head = f'{{\n"type": "FeatureCollection",\n"dynst": {_dumps(summary)},\n"features": [\n'
    return head + ",\n".join(features) + "\n]\n}\n"


def _feature_text(sensor: dict, shape, precision: int) -> str:
    keys = BASE_PROPERTIES + OPTIONAL_PROPERTIES
    properties = {key: sensor[key] for key in keys if key in sensor}
    geom = mapping(shape)
    coordinates = _coordinates_text(geom["coordinates"], precision)
    geometry = f'{{"type": "{geom["type"]}", "coordinates": {coordinates}}}'
    return f'{{"type": "Feature", "properties": {_dumps(properties)}, "geometry": {geometry}}}'


def _coordinates_text(coords, precision: int) -> str:
    """Nested positions as JSON, each number with at most `precision` decimals, never 1e-05."""
    if isinstance(coords, float | int):
        return number_text(coords, precision)
    return "[" + ", ".join(_coordinates_text(c, precision) for c in coords) + "]"


def number_text(value: float, precision: int) -> str:
    """`value` rounded to `precision` decimals in fixed notation, trailing zeros dropped.

    ``number_text(-118.318290, 6) == "-118.31829"``; never scientific notation, never ``-0.0``.
    """
    text = f"{value:.{precision}f}"
    if "." not in text:  # precision 0
        text += ".0"
    text = text.rstrip("0")
    if text.endswith("."):
        text += "0"
    return "0.0" if text == "-0.0" else text


def _dumps(obj) -> str:
    return json.dumps(obj, ensure_ascii=False, allow_nan=False)


def _check_precision(precision: int) -> None:
    if not 0 <= precision <= MAX_PRECISION:
        raise UsageError(
            f"precision {precision} is outside 0..{MAX_PRECISION} "
            "(RFC 7946 section 11.2: 7 decimals are about 1 cm)"
        )


# ----------------------------------------------------------------------------- CSV


def csv_text(plan: Plan | dict, precision: int = DEFAULT_PRECISION) -> str:
    """The plan as CSV, one row per sensor in rank order (columns: see the module docstring).

    Coordinates are written with `precision` decimals like the GeoJSON, so both agree row by row.
    """
    _check_precision(precision)
    plan = plan_record(plan)
    columns = ("sensor_id", "lat", "lon", "rank", "score", "keep", "reason")
    columns += present_optional_keys(plan)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(columns)
    for sensor in plan["sensors"]:
        writer.writerow([_csv_cell(sensor, key, precision) for key in columns])
    return buffer.getvalue()


def _csv_cell(sensor: dict, key: str, precision: int) -> str:
    if sensor.get(key) is None:
        return ""
    value = sensor[key]
    if key in ("lat", "lon"):
        return number_text(value, precision)
    if isinstance(value, bool):
        return "true" if value else "false"
    return _dumps(value) if isinstance(value, float) else str(value)


# ----------------------------------------------------------------------------- writing


def write_geojson(
    plan: Plan | dict,
    target: str | os.PathLike,
    geometry: str = "point",
    precision: int = DEFAULT_PRECISION,
) -> None:
    """Write :func:`geojson_text` to `target` atomically, or to stdout when `target` is ``"-"``."""
    _write(geojson_text(plan, geometry, precision), target)


def write_csv(
    plan: Plan | dict, target: str | os.PathLike, precision: int = DEFAULT_PRECISION
) -> None:
    """Write :func:`csv_text` to `target` atomically, or to stdout when `target` is ``"-"``."""
    _write(csv_text(plan, precision), target)


def _write(text: str, target: str | os.PathLike) -> None:
    if str(target) == STDOUT:
        sys.stdout.write(text)
        sys.stdout.flush()
    else:
        write_text(target, text)
