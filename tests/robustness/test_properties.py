"""Properties that hold for any input, checked on generated cases (hypothesis).

- ingest: a wide or a long CSV written to the canonical dataset and read back gives exactly the
  values, the NaN gaps and the sensor ids of the archive;
- plans: for any ranking and sparsity S, ranks are 1..N, N - floor(S*N + 0.5) sensors are kept,
  they are the first of the ranking, and every kept sensor ranks above every dropped one.
"""

from __future__ import annotations

import math
import tempfile
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
import xarray as xr
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dynst_cli.errors import UsageError
from dynst_cli.ingest import open_archive, write_dataset
from dynst_cli.plan.schema import Metrics, Plan, PlanMetrics
from dynst_cli.prune import build_plan, choose
from dynst_cli.selection import Ranking

SETTINGS = settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
IDS = st.lists(
    st.text("abcdefghijklmnopqrstuvwxyz_-", min_size=1, max_size=6).map(lambda s: "s" + s),
    min_size=1,
    max_size=5,
    unique=True,
)
VALUE = st.one_of(
    st.floats(width=32, allow_nan=False, allow_infinity=False, min_value=-1e6, max_value=1e6),
    st.just(math.nan),
)


@st.composite
def archives(draw):
    """Sensor ids, and values (time, sensor) float32 with NaN, every sensor observed once."""
    ids = draw(IDS)
    n_time = draw(st.integers(2, 6))
    values = np.array(
        [[draw(VALUE) for _ in ids] for _ in range(n_time)], dtype=np.float32
    ).reshape(n_time, len(ids))
    for j in range(len(ids)):  # a sensor NaN at every step is dropped by design
        if np.isnan(values[:, j]).all():
            values[draw(st.integers(0, n_time - 1)), j] = draw(st.floats(-10, 10, width=32))
    return ids, values


def _times(n: int) -> list[str]:
    return [f"2021-03-01 {h:02d}:00" for h in range(n)]


def _cell(value: np.float32) -> str:
    return "" if np.isnan(value) else repr(float(value))


def _round_trip(folder: Path, archive: Path, sensors: Path | None, **options) -> xr.Dataset:
    write_dataset(open_archive(archive, sensors=sensors, **options), folder / "out.nc")
    with xr.open_dataset(folder / "out.nc") as ds:
        return ds.load()


@SETTINGS
@given(archives())
def test_wide_csv_round_trips_values_gaps_and_ids(archive):
    ids, values = archive
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        rows = [
            ",".join([t, *map(_cell, row)])
            for t, row in zip(_times(len(values)), values, strict=True)
        ]
        (folder / "wide.csv").write_text("\n".join(["time," + ",".join(ids), *rows]) + "\n")
        table = [f"{sid},{10 + i},{20 + i}" for i, sid in enumerate(ids)]
        (folder / "table.csv").write_text("\n".join(["id,latitude,longitude", *table]) + "\n")
        ds = _round_trip(folder, folder / "wide.csv", folder / "table.csv")
    assert list(ds["sensor"].values) == ids
    np.testing.assert_array_equal(ds["value"].values, values)  # NaN where NaN, bit for bit


@SETTINGS
@given(archives(), st.randoms(use_true_random=False))
def test_long_csv_round_trips_values_gaps_and_ids(archive, random):
    ids, values = archive
    rows = [
        (t, j) for t in range(len(values)) for j in range(len(ids)) if not np.isnan(values[t, j])
    ]
    random.shuffle(rows)  # any row order; sensors keep the order of their first appearance
    order = list(dict.fromkeys(ids[j] for _, j in rows))
    times = _times(len(values))
    lines = ["time,sensor_id,value,lat,lon"]
    lines += [f"{times[t]},{ids[j]},{_cell(values[t, j])},{10 + j},{20 + j}" for t, j in rows]
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        (folder / "long.csv").write_text("\n".join(lines) + "\n")
        # Times no sensor reported are holes in the axis: --resample 1h brings them back as NaN.
        ds = _round_trip(folder, folder / "long.csv", None, resample="1h")
    assert list(ds["sensor"].values) == order
    observed = sorted({t for t, _ in rows})
    expected = values[observed[0] : observed[-1] + 1][:, [ids.index(sid) for sid in order]]
    np.testing.assert_array_equal(ds["value"].values, expected)


def _network(n: int) -> SimpleNamespace:
    return SimpleNamespace(
        n_sensors=n,
        sensor_ids=np.array([f"s{i}" for i in range(n)]),
        lat=np.linspace(-60, 60, n),
        lon=np.linspace(-170, 170, n),
        cost=None,
        is_grid=False,
        sha256="a" * 64,
        variables=["x"],
        units={"x": "1"},
    )


@settings(max_examples=200, deadline=None)
@given(
    st.integers(1, 60).flatmap(
        lambda n: st.tuples(
            st.permutations(range(n)), st.lists(st.floats(0, 10), min_size=n, max_size=n)
        )
    ),
    st.floats(0.0, 1.0, exclude_max=True),
)
def test_plans_keep_the_first_n_minus_round_s_n_ranked_sensors(ranking, sparsity):
    order, scores = np.array(ranking[0]), np.array(ranking[1])
    n = order.size
    data = _network(n)
    if n - math.floor(sparsity * n + 0.5) < 1:  # a plan of no sensor is refused
        with pytest.raises(UsageError, match="keeps 0 of"):
            choose(order, data, sparsity, None)
        return
    selection = choose(order, data, sparsity, None)
    metric = Metrics(mae=1.0, rmse=1.0, mape=None)
    plan = build_plan(
        data,
        Ranking(order, scores),
        selection,
        sparsity=sparsity,
        backbone="stid",
        metrics=PlanMetrics(test=metric, dense_test=metric),
    ).to_json()
    Plan.from_json(plan)
    sensors = plan["sensors"]
    n_keep = n - math.floor(sparsity * n + 0.5)
    assert [s["rank"] for s in sensors] == list(range(1, n + 1))
    assert plan["n_keep"] == n_keep == sum(s["keep"] for s in sensors)
    assert [s["keep"] for s in sensors] == [True] * n_keep + [False] * (n - n_keep)
    assert [s["sensor_id"] for s in sensors] == [f"s{i}" for i in order]
