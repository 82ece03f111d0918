"""One record per sensor for the report's map: position or cell, colours, and the popup text.

Colours are computed here, not in the browser: by rank (kept sensors on viridis, rank 1 darkest;
dropped grey, as on the static map) and by error increase (the relative change of the sensor's
test MAE from the dense model to the reduced network, on a diverging scale centred on zero).
"""

from __future__ import annotations

import html

from matplotlib import colormaps
from matplotlib.colors import to_hex

from dynst_cli.plan.maps import DROPPED_COLOUR, RANK_CMAP
from dynst_cli.plan.wording import decimals_for, percent_change, unit_of

RISE_CMAP = "RdBu_r"  # blue: the reduced network forecasts the sensor better; red: worse
NO_ERROR_COLOUR = "#cccccc"  # sensors without per-sensor errors in the plan
RISE_SCALE_MIN_PCT = 5.0  # the error colour scale spans at least +-5 %


def relative_rise(sensor: dict) -> float | None:
    """(mae_reduced - mae_dense) / mae_dense in percent, None where either is missing."""
    dense, reduced = sensor.get("mae_dense"), sensor.get("mae_reduced")
    if dense is None or reduced is None or dense == 0:
        return None
    return 100.0 * (reduced - dense) / dense


def sensor_records(plan: dict) -> list[dict]:
    """The map's sensors in rank order: id, position, cell bounds, colours and popup HTML."""
    rank_colours = _rank_colours(plan)
    rise_colours = _rise_colours(plan)
    decimals = decimals_for(
        *[s.get(k) for s in plan["sensors"] for k in ("mae_dense", "mae_reduced")]
    )
    unit = unit_of(plan)
    grid = plan.get("grid")
    records = []
    for sensor, by_rank, by_rise in zip(plan["sensors"], rank_colours, rise_colours, strict=True):
        record = {
            "id": sensor["sensor_id"],
            "lat": sensor["lat"],
            "lon": sensor["lon"],
            "keep": sensor["keep"],
            "colour_rank": by_rank,
            "colour_rise": by_rise,
            "popup": popup_html(sensor, decimals, unit),
        }
        if grid:
            half_lat, half_lon = grid["dlat"] / 2, grid["dlon"] / 2
            record["bounds"] = [
                [sensor["lat"] - half_lat, sensor["lon"] - half_lon],
                [sensor["lat"] + half_lat, sensor["lon"] + half_lon],
            ]
        records.append(record)
    return records


def _rank_colours(plan: dict) -> list[str]:
    cmap = colormaps[RANK_CMAP]
    n_keep = max(plan["n_keep"], 2)
    return [
        to_hex(cmap((s["rank"] - 1) / (n_keep - 1))) if s["keep"] else DROPPED_COLOUR
        for s in plan["sensors"]
    ]


def _rise_colours(plan: dict) -> list[str]:
    rises = [relative_rise(s) for s in plan["sensors"]]
    known = [abs(r) for r in rises if r is not None]
    scale = max([RISE_SCALE_MIN_PCT, *known])
    cmap = colormaps[RISE_CMAP]
    return [NO_ERROR_COLOUR if r is None else to_hex(cmap(0.5 + 0.5 * r / scale)) for r in rises]


POPUP_ROWS = (
    ("rank", "rank"),
    ("kept", "keep"),
    ("score", "score"),
    ("reason", "reason"),
    ("selection frequency", "selection_frequency"),
    ("cost", "cost"),
    ("test MAE, dense", "mae_dense"),
    ("test MAE, reduced", "mae_reduced"),
)


def popup_html(sensor: dict, decimals: int, unit: str) -> str:
    """A small table: rank, kept, score, reason, selection frequency, cost, both test MAEs."""
    rows = [f"<b>{html.escape(sensor['sensor_id'])}</b>"]
    cells = []
    for label, key in POPUP_ROWS:
        if sensor.get(key) is None:
            continue
        cells.append(
            f"<tr><th>{label}</th><td data-key='{key}'>"
            f"{html.escape(_value_text(key, sensor[key], decimals, unit))}</td></tr>"
        )
    rise = relative_rise(sensor)
    if rise is not None:
        change = percent_change(sensor["mae_reduced"], sensor["mae_dense"])
        cells.append(f"<tr><th>change</th><td data-key='change'>{change}</td></tr>")
    rows.append("<table class='popup'>" + "".join(cells) + "</table>")
    return "".join(rows)


def _value_text(key: str, value, decimals: int, unit: str) -> str:
    if key == "keep":
        return "yes" if value else "no (switched off)"
    if key in ("mae_dense", "mae_reduced"):
        return f"{value:.{decimals}f}" + (f" {unit}" if unit else "")
    if key == "score":
        return f"{value:.4g}"
    if key == "selection_frequency":
        return f"{value:.2f}"
    if key == "cost":
        return f"{value:g}"
    return str(value)
