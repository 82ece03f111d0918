"""Siting constraints on the real METR-LA network and on small cases with a known answer."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from shapely.geometry import box

from dynst_cli.errors import InfeasibleError, InputError, UsageError
from dynst_cli.geo import pairwise_km
from dynst_cli.selection.constraints import REASONS, SitingConstraints, constraints_from_options
from dynst_cli.selection.regions import Region, sensors_in_region

LOCATIONS = Path(__file__).parents[2] / "data" / "metr-la-week" / "graph_sensor_locations.csv"
# boxes (lon0, lat0, lon1, lat1) around parts of Los Angeles covered by METR-LA
LA_BOXES = {
    "downtown": (-118.30, 34.03, -118.20, 34.10),
    "glendale": (-118.30, 34.12, -118.20, 34.20),
    "valley": (-118.55, 34.14, -118.35, 34.22),
}


class Network:
    """The 207 METR-LA sensors with a deterministic cost per sensor."""

    def __init__(self):
        table = np.genfromtxt(LOCATIONS, delimiter=",", names=True, dtype=None, encoding="utf-8")
        self.ids = [str(s) for s in table["sensor_id"]]
        self.lat = table["latitude"].astype(float)
        self.lon = table["longitude"].astype(float)
        self.cost = 1.0 + np.arange(len(self.ids)) % 5  # 1..5 cost units
        self.n = len(self.ids)

    def select(self, constraints, priority, n_keep, cost=True):
        selector = constraints.resolve(self.ids, self.lat, self.lon, self.cost if cost else None)
        return selector.select(priority, n_keep)


@pytest.fixture(scope="module")
def la() -> Network:
    return Network()


def la_regions() -> list[Region]:
    return [Region(name, box(*bounds)) for name, bounds in LA_BOXES.items()]


def write_regions(tmp_path: Path, boxes: dict) -> Path:
    features = [
        {"type": "Feature", "geometry": box(*b).__geo_interface__, "properties": {"name": n}}
        for n, b in boxes.items()
    ]
    path = tmp_path / "regions.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}))
    return path


def assert_satisfied(net: Network, c: SitingConstraints, sel, n_keep: int) -> None:
    """Every constraint of `c` holds for the selection, checked independently of the selector."""
    kept = np.flatnonzero(sel.keep)
    index = {s: i for i, s in enumerate(net.ids)}
    assert kept.size <= n_keep
    assert all(sel.keep[index[s]] for s in c.keep_ids)
    assert not any(sel.keep[index[s]] for s in c.exclude_ids)
    if c.budget is not None:
        assert net.cost[kept].sum() <= c.budget + 1e-9
    if c.min_spacing_km and kept.size > 1:
        d = pairwise_km(net.lat[kept], net.lon[kept])
        assert d[np.triu_indices(kept.size, 1)].min() >= c.min_spacing_km
    for region in c.regions if c.per_region_min else []:
        assert (sel.keep & sensors_in_region(region, net.lat, net.lon)).sum() >= c.per_region_min
    assert len(sel.reason) == net.n and set(sel.reason) <= set(REASONS)
    reasons = np.array(sel.reason)
    assert np.isin(reasons[sel.keep], ["keep", "region", "score"]).all()
    assert np.isin(reasons[~sel.keep], ["exclude", "spacing", "budget", "score"]).all()


@pytest.mark.parametrize("n_keep", [0, 1, 100, 207])
@pytest.mark.parametrize(
    "constraints", [SitingConstraints(), SitingConstraints(regions=la_regions())]
)
def test_unconstrained_selection_takes_the_first_n_keep(la, constraints, n_keep):
    priority = np.random.default_rng(0).permutation(la.n)
    sel = la.select(constraints, priority, n_keep, cost=False)
    assert np.flatnonzero(sel.keep).tolist() == sorted(priority[:n_keep].tolist())
    assert sel.reason == ["score"] * la.n and sel.notes == []
    assert constraints.is_empty()


def test_forced_sensors_count_towards_n_keep(la):
    c = SitingConstraints(keep_ids=(la.ids[200], la.ids[150]))
    sel = la.select(c, np.arange(la.n), 10)
    assert np.flatnonzero(sel.keep).tolist() == [*range(8), 150, 200]
    assert sel.reason[150] == sel.reason[200] == "keep" and sel.reason[0] == "score"


def test_excluded_sensors_are_skipped(la):
    c = SitingConstraints(exclude_ids=(la.ids[0], la.ids[3]))
    sel = la.select(c, np.arange(la.n), 5)
    assert np.flatnonzero(sel.keep).tolist() == [1, 2, 4, 5, 6]
    assert sel.reason[0] == sel.reason[3] == "exclude"


def test_budget_limits_the_total_cost_and_says_so(la):
    c = SitingConstraints(budget=60.0)
    sel = la.select(c, np.arange(la.n), 50)
    assert_satisfied(la, c, sel, 50)
    assert sel.n_kept < 50 and "budget allowed only" in sel.notes[-1]
    assert "budget" in sel.reason


def test_spacing_holds_for_every_kept_pair(la):
    c = SitingConstraints(min_spacing_km=3.0)
    sel = la.select(c, np.arange(la.n), 60)
    assert_satisfied(la, c, sel, 60)
    d = pairwise_km(la.lat, la.lon)
    for i in np.flatnonzero(np.array(sel.reason) == "spacing"):  # blocked by an earlier keep
        assert (d[i, :i][sel.keep[:i]] < 3.0).any()


def test_region_quotas_hold_even_against_the_ranking(la, tmp_path):
    c = constraints_from_options(regions_path=write_regions(tmp_path, LA_BOXES), per_region_min=3)
    priority = np.arange(la.n)[::-1].copy()
    sel = la.select(c, priority, 20)
    assert_satisfied(la, c, sel, 20)
    assert sel.n_kept == 20 and sel.reason.count("region") > 0
    assert any(note.startswith("region '") for note in sel.notes)


def test_all_constraints_together_on_la(la, tmp_path):
    c = constraints_from_options(
        keep=f"{la.ids[10]},{la.ids[120]}",
        exclude=",".join(la.ids[:5]),
        budget=150.0,
        min_spacing_km=1.0,
        regions_path=write_regions(tmp_path, LA_BOXES),
        per_region_min=2,
    )
    sel = la.select(c, np.arange(la.n), la.n - round(0.5 * la.n))
    assert_satisfied(la, c, sel, 103)
    again = la.select(c, np.arange(la.n), 103)  # deterministic
    assert (again.keep == sel.keep).all() and again.reason == sel.reason


def line_of_five(spacing_deg: float = 0.009) -> tuple[list[str], np.ndarray, np.ndarray]:
    """Five sensors on the equator about 1.0 km apart (0.009 deg of longitude)."""
    return [f"s{i}" for i in range(5)], np.zeros(5), np.arange(5) * spacing_deg


EAST = Region("east", box(0.03, -1, 1, 1))  # covers s4 only
EAST2 = Region("east", box(0.02, -1, 1, 1))  # covers s3 and s4


@pytest.mark.parametrize(
    ("constraints", "cost", "priority", "expected", "reasons"),
    [
        (
            SitingConstraints(min_spacing_km=1.5),
            None,
            [0, 1, 2, 3, 4],
            [0, 2, 4],
            ["score", "spacing", "score", "spacing", "score"],
        ),
        (
            SitingConstraints(budget=5.0),
            [3, 1, 2, 1, 1],
            [0, 1, 2, 3, 4],
            [0, 1, 3],
            ["score", "score", "budget", "score", "score"],
        ),
        (
            SitingConstraints(keep_ids=("s3",), min_spacing_km=1.5),
            None,
            [0, 1, 2, 3, 4],
            [0, 3],
            ["score", "spacing", "spacing", "keep", "spacing"],
        ),
        (
            SitingConstraints(regions=[EAST], per_region_min=1),
            None,
            [0, 1, 2, 3, 4],
            [0, 1, 4],
            ["score", "score", "score", "score", "region"],
        ),
        (  # the quota sensor s4 blocks the better s3
            SitingConstraints(min_spacing_km=1.5, regions=[EAST], per_region_min=1),
            None,
            [3, 4, 2, 1, 0],
            [0, 2, 4],
            ["score", "spacing", "score", "spacing", "region"],
        ),
    ],
    ids=["spacing", "budget", "keep+spacing", "quota", "quota-blocks"],
)
def test_line_of_five_known_answers(constraints, cost, priority, expected, reasons):
    ids, lat, lon = line_of_five()
    sel = constraints.resolve(ids, lat, lon, cost).select(np.array(priority), 3)
    assert np.flatnonzero(sel.keep).tolist() == expected
    assert sel.reason == reasons


INFEASIBLE = [
    (dict(keep_ids=("s1",), exclude_ids=("s1",)), 3, ["s1", "kept", "excluded"]),
    (dict(keep_ids=("s0", "s1", "s2")), 2, ["3 must-keep", "only 2"]),
    (dict(keep_ids=("s0", "s1"), budget=2.5), 3, ["--budget 2.5", "cost 4"]),
    (dict(keep_ids=("s0", "s1"), min_spacing_km=1.5), 3, ["s0", "s1", "1.00", "1.5"]),
    (
        dict(exclude_ids=("s4",), regions=[Region("east", box(0.035, -1, 1, 1))], per_region_min=1),
        3,
        ["east", "excluded"],
    ),
    (
        dict(regions=[Region("sea", box(10, 10, 11, 11))], per_region_min=1),
        3,
        ["sea", "no sensor"],
    ),
    (
        dict(keep_ids=("s0",), regions=[EAST2], per_region_min=2),
        2,
        ["east", "sparsity limit of 2"],
    ),
    (
        dict(min_spacing_km=1.5, regions=[EAST2], per_region_min=2),
        3,
        ["east", "only 1 fit", "--min-spacing-km 1.5"],
    ),
    (
        dict(budget=2.0, regions=[EAST2], per_region_min=2),
        3,
        ["east", "by --budget"],
    ),
]


@pytest.mark.parametrize(("kwargs", "n_keep", "words"), INFEASIBLE)
def test_infeasible_constraints_name_the_conflict(kwargs, n_keep, words):
    ids, lat, lon = line_of_five()
    cost = [1.0, 3.0, 1.5, 1.5, 1.0]
    with pytest.raises(InfeasibleError) as err:
        SitingConstraints(**kwargs).resolve(ids, lat, lon, cost).select(np.arange(5), n_keep)
    for word in words:
        assert word in str(err.value)


def test_unknown_ids_are_usage_errors_naming_them():
    ids, lat, lon = line_of_five()
    with pytest.raises(UsageError, match="--exclude.*nope"):
        SitingConstraints(exclude_ids=("s1", "nope")).resolve(ids, lat, lon)


@pytest.mark.parametrize(
    ("cost", "word"), [(None, "no cost|has none"), ([1, 1, np.nan, 1, 1], "s2")]
)
def test_missing_cost_under_a_budget_is_an_input_error(cost, word):
    ids, lat, lon = line_of_five()
    with pytest.raises(InputError, match="missing cost") as err:
        SitingConstraints(budget=3.0).resolve(ids, lat, lon, cost)
    assert any(w in str(err.value) for w in word.split("|"))


@pytest.mark.parametrize(
    "kwargs",
    [
        dict(per_region_min=2),
        dict(regions_path="regions.geojson"),
        dict(budget=-1.0),
        dict(min_spacing_km=-0.5),
        dict(keep_file="missing-ids.txt"),
    ],
)
def test_bad_options_are_usage_errors(kwargs):
    with pytest.raises(UsageError):
        constraints_from_options(**kwargs)


def test_options_merge_lists_and_files_and_record_as_json(tmp_path):
    ids = tmp_path / "keep.txt"
    ids.write_text("b\n# c\na\n")
    c = constraints_from_options(
        keep="a, b",
        keep_file=ids,
        budget=10,
        regions_path=write_regions(tmp_path, LA_BOXES),
        per_region_min=1,
    )
    record = json.loads(json.dumps(c.to_dict()))
    assert record["keep_ids"] == ["a", "b"] and record["budget"] == 10
    assert [r["name"] for r in record["regions"]] == list(LA_BOXES)
    assert not c.is_empty() and constraints_from_options().is_empty()


@st.composite
def constraint_cases(draw):
    """Random constraints on the first 60 METR-LA sensors, and a random priority."""
    n = 60
    picks = draw(st.permutations(range(n)))
    n_forced, n_excl = draw(st.integers(0, 4)), draw(st.integers(0, 10))
    kwargs = dict(keep_idx=picks[:n_forced], exclude_idx=picks[n_forced : n_forced + n_excl])
    kwargs["budget"] = draw(st.none() | st.floats(0, 150))
    kwargs["spacing"] = draw(st.none() | st.floats(0, 5))
    kwargs["quota"] = draw(st.integers(0, 3))
    kwargs["regions"] = draw(st.lists(st.sampled_from(list(LA_BOXES)), max_size=3, unique=True))
    priority = np.array(draw(st.permutations(range(n))))
    return kwargs, priority, draw(st.integers(0, n))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(case=constraint_cases())
def test_every_returned_selection_satisfies_every_constraint(la, case):
    kwargs, priority, n_keep = case
    net = Network.__new__(Network)
    net.ids, net.lat, net.lon, net.cost = la.ids[:60], la.lat[:60], la.lon[:60], la.cost[:60]
    net.n = 60
    regions = [Region(name, box(*LA_BOXES[name])) for name in kwargs["regions"]]
    c = SitingConstraints(
        keep_ids=tuple(net.ids[i] for i in kwargs["keep_idx"]),
        exclude_ids=tuple(net.ids[i] for i in kwargs["exclude_idx"]),
        budget=kwargs["budget"],
        min_spacing_km=kwargs["spacing"],
        regions=regions,
        per_region_min=kwargs["quota"] if regions else 0,
    )
    try:
        sel = net.select(c, priority, n_keep)
    except InfeasibleError:
        return
    assert_satisfied(net, c, sel, n_keep)
    if c.is_empty():
        assert np.flatnonzero(sel.keep).tolist() == sorted(priority[:n_keep].tolist())
