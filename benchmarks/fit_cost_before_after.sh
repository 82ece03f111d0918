#!/usr/bin/env bash
# Wall and CPU time of a default fit (the demo's recipe, dense reference included) with the sources
# of earlier commits and with today's, one after the other, on METR-LA and ERA5, ROUNDS times.
# Usage: git worktree add /tmp/before COMMIT && bash benchmarks/fit_cost_before_after.sh /tmp/before/src [MORE_SRC ...]
set -euo pipefail
cd "$(dirname "$0")/.."
[ $# -ge 1 ] || { echo "give the src folder of at least one earlier commit" >&2; exit 2; }
py=${PY:-.venv/bin/python}
rounds=${ROUNDS:-1}
work=$(mktemp -d)
$py -m dynst_cli --quiet ingest data/metr-la-week/metr_la_speed_2012-03-01_to_07_with_time.csv \
    --sensors data/metr-la-week/graph_sensor_locations.csv --var speed --units mph -o "$work/metr-la.nc" >/dev/null
$py -m dynst_cli --quiet ingest data/era5-t2m-uk-2019-03/era5_t2m_uk_2019-03.nc -o "$work/era5-uk.nc" >/dev/null
for round in $(seq "$rounds"); do
  for ds in metr-la era5-uk; do
    for src in "$@" "$PWD/src"; do
      version=$([ "$src" = "$PWD/src" ] && echo after || echo "before ($src)")
      out=$(mktemp -d "$work/fit-XXXX")  # a fresh folder each time: no dense reference is reused
      /usr/bin/time -f "round $round, $ds $version: wall %e s, CPU %U s user + %S s sys" \
        env PYTHONPATH="$src" $py -m dynst_cli --quiet fit "$work/$ds.nc" -o "$out/run" \
        --recipe "recipes/$ds.yaml" >/dev/null
    done
  done
done
rm -rf "$work"
