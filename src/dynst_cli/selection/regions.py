"""Siting regions and sensor id lists read from files: the I/O edge of the siting constraints.

Regions come from an RFC 7946 GeoJSON FeatureCollection of Polygon or MultiPolygon features with
`[lon, lat]` coordinates in WGS84 degrees. A region is named by its feature's `name` property,
or by the feature's index in the collection when that property is absent. Geometry is planar in
lon/lat, as RFC 7946 prescribes; a region crossing the antimeridian must be split into parts.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import shapely
from shapely.geometry import MultiPolygon, Polygon, shape
from shapely.validation import explain_validity

from dynst_cli.atomic import sha256_file
from dynst_cli.errors import InputError, UsageError

POLYGON_TYPES = ("Polygon", "MultiPolygon")


@dataclass(frozen=True)
class Region:
    """A named area in which a minimum number of sensors must be kept.

    Attributes
    ----------
    name : str
        The feature's `name` property, or its index in the FeatureCollection.
    geometry : Polygon or MultiPolygon
        Shapely geometry, x = longitude, y = latitude (degrees, WGS84).
    source : str or None
        File name the region was read from.
    source_sha256 : str or None
        sha256 of that file, recorded in plans and run configurations.
    """

    name: str
    geometry: Polygon | MultiPolygon
    source: str | None = None
    source_sha256: str | None = None

    def to_dict(self) -> dict:
        """JSON-able record: name and source file, not the geometry."""
        return {"name": self.name, "source": self.source, "sha256": self.source_sha256}


def read_regions(path: str | os.PathLike) -> list[Region]:
    """Read the regions of a GeoJSON FeatureCollection (RFC 7946).

    Parameters
    ----------
    path : path-like
        A `.geojson` file holding Polygon and MultiPolygon features, `[lon, lat]` degrees.

    Returns
    -------
    list of Region
        One per feature, in file order.

    Raises
    ------
    UsageError
        The path does not exist.
    InputError
        The file is not a FeatureCollection, holds no polygon, holds another geometry type, an
        invalid or out-of-range geometry, or two regions of the same name.
    """
    path = _existing(path, "--regions")
    features = _features(path)
    digest = sha256_file(path)
    regions = [_region(path, i, f, digest) for i, f in enumerate(features)]
    if not regions:
        raise InputError(f"{path}: no Polygon or MultiPolygon feature; a region file needs one")
    _check_unique_names(path, regions)
    return regions


def sensors_in_region(region: Region, lat: np.ndarray, lon: np.ndarray) -> np.ndarray:
    """Which sensors lie inside a region, boundary included.

    Parameters
    ----------
    region : Region
    lat, lon : ndarray, shape (N,)
        Sensor coordinates in degrees.

    Returns
    -------
    ndarray of bool, shape (N,)
        True where the region covers the sensor (interior or boundary). NaN coordinates are
        outside every region.
    """
    lat = np.asarray(lat, dtype=np.float64)
    lon = np.asarray(lon, dtype=np.float64)
    geometry = region.geometry
    shapely.prepare(geometry)
    inside = shapely.contains_xy(geometry, lon, lat)
    rest = np.flatnonzero(~inside & np.isfinite(lat) & np.isfinite(lon))
    if rest.size:  # points on the boundary: `covers` counts them, `contains` does not
        inside[rest] = shapely.covers(geometry, shapely.points(lon[rest], lat[rest]))
    return inside


def read_id_file(path: str | os.PathLike) -> tuple[str, ...]:
    """Read sensor ids for `--keep-file` / `--exclude-file`.

    Ids are separated by newlines or commas; `#` starts a comment to the end of the line; blank
    entries are skipped and repeats kept once, in first-seen order.

    Raises
    ------
    UsageError
        The path does not exist.
    InputError
        The file is not UTF-8 text.
    """
    path = _existing(path, "id file")
    try:
        text = path.read_text(encoding="utf-8")
    except (UnicodeDecodeError, OSError) as exc:
        raise InputError(f"{path}: cannot read sensor ids ({exc})") from exc
    ids = []
    for line in text.splitlines():
        ids.extend(part.strip() for part in line.split("#", 1)[0].split(","))
    return tuple(dict.fromkeys(i for i in ids if i))


def _existing(path: str | os.PathLike, what: str) -> Path:
    path = Path(path)
    if not path.is_file():
        raise UsageError(f"{what}: {path} does not exist or is not a file")
    return path


def _features(path: Path) -> list:
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise InputError(f"{path}: not valid JSON (line {exc.lineno}: {exc.msg})") from exc
    except (UnicodeDecodeError, OSError) as exc:
        raise InputError(f"{path}: cannot read ({exc})") from exc
    if not isinstance(doc, dict) or doc.get("type") != "FeatureCollection":
        raise InputError(f"{path}: not a GeoJSON FeatureCollection (RFC 7946)")
    features = doc.get("features")
    if not isinstance(features, list):
        raise InputError(f"{path}: the FeatureCollection has no 'features' list")
    return features


def _region(path: Path, index: int, feature: object, digest: str) -> Region:
    where = f"{path}: feature {index}"
    geom = feature.get("geometry") if isinstance(feature, dict) else None
    if not isinstance(geom, dict) or geom.get("type") not in POLYGON_TYPES:
        kind = geom.get("type") if isinstance(geom, dict) else "no geometry"
        raise InputError(f"{where} is {kind}; only Polygon and MultiPolygon regions are allowed")
    props = feature.get("properties")
    name = props.get("name") if isinstance(props, dict) else None
    name = str(index) if name is None else str(name)
    return Region(name, _geometry(f"{where} ('{name}')", geom), path.name, digest)


def _geometry(where: str, geom: dict) -> Polygon | MultiPolygon:
    try:
        geometry = shape(geom)
    except Exception as exc:  # shapely raises several types for malformed coordinates
        raise InputError(f"{where}: malformed polygon coordinates ({exc})") from exc
    if geometry.is_empty:
        raise InputError(f"{where}: empty polygon")
    if not geometry.is_valid:
        raise InputError(f"{where}: invalid polygon: {explain_validity(geometry)}")
    lon0, lat0, lon1, lat1 = geometry.bounds
    if lon0 < -180 or lon1 > 180 or lat0 < -90 or lat1 > 90:
        raise InputError(
            f"{where}: coordinates outside lon [-180, 180] / lat [-90, 90]; "
            "RFC 7946 orders positions [lon, lat]"
        )
    return geometry


def _check_unique_names(path: Path, regions: list[Region]) -> None:
    names = [r.name for r in regions]
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        raise InputError(f"{path}: region names must be unique; repeated: {', '.join(repeated)}")
