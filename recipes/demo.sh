#!/usr/bin/env bash
# The main job on the bundled real data: ingest -> fit -> prune -> export -> report, for both
# archives. Each ends with one self-contained HTML report (open it in any browser, offline).
# Usage: bash recipes/demo.sh [OUTPUT_DIR]   (what `make demo` runs; OUTPUT_DIR is recreated)
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-demo-output}
dynst=${DYNST:-.venv/bin/dynst}
rm -rf "$out"
mkdir -p "$out"

echo "== METR-LA week: 207 loop detectors, 5-minute speeds ==" >&2
$dynst ingest data/metr-la-week/metr_la_speed_2012-03-01_to_07_with_time.csv \
    --sensors data/metr-la-week/graph_sensor_locations.csv --var speed --units mph -o "$out/metr-la.nc"
$dynst fit "$out/metr-la.nc" -o "$out/metr-la-run" --recipe recipes/metr-la.yaml
$dynst prune "$out/metr-la-run" --sparsity 0.5 -o "$out/metr-la-plan.json"
$dynst export-plan "$out/metr-la-plan.json" -o "$out/metr-la-plan.geojson" --map "$out/metr-la-map.png"
$dynst export-plan "$out/metr-la-plan.json" -o "$out/metr-la-plan.csv"
$dynst prune "$out/metr-la-run" --sparsity 0.3,0.7 -o "$out/metr-la-plans"
$dynst report "$out/metr-la-run" --plan "$out/metr-la-plan.json" \
    --plan "$out/metr-la-plans/plan-s0.30.json" --plan "$out/metr-la-plans/plan-s0.70.json" \
    -o "$out/metr-la-report.html"

echo "== ERA5 2 m temperature, British Isles: 1617 grid cells, hourly ==" >&2
$dynst ingest data/era5-t2m-uk-2019-03/era5_t2m_uk_2019-03.nc -o "$out/era5-uk.nc"
$dynst fit "$out/era5-uk.nc" -o "$out/era5-uk-run" --recipe recipes/era5-uk.yaml
$dynst prune "$out/era5-uk-run" --sparsity 0.5 -o "$out/era5-uk-plan.json"
$dynst export-plan "$out/era5-uk-plan.json" -o "$out/era5-uk-plan.geojson" --map "$out/era5-uk-map.png"
$dynst export-plan "$out/era5-uk-plan.json" -o "$out/era5-uk-plan.csv"
$dynst report "$out/era5-uk-run" --plan "$out/era5-uk-plan.json" -o "$out/era5-uk-report.html"

echo "demo outputs are in $out/" >&2
