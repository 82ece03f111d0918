"""plan.json: reproducible writing and strict reading (dynst_cli.plan.schema)."""

from __future__ import annotations

import copy
import json

import numpy as np
import pytest

from dynst_cli.errors import InputError
from dynst_cli.plan.schema import SENSOR_KEYS, TOP_KEYS, Plan, read_plan, write_plan


def test_fixture_plans_keep_n_minus_round_s_n(any_plan):
    n, sparsity = any_plan["n_sensors"], any_plan["sparsity"]
    expected = n - int(np.floor(sparsity * n + 0.5))
    assert sum(s["keep"] for s in any_plan["sensors"]) == any_plan["n_keep"] == expected


def test_round_trip_returns_the_same_plan(tmp_path, any_plan):
    path = tmp_path / "plan.json"
    write_plan(any_plan, path)
    assert read_plan(path).to_json() == any_plan


def test_written_keys_are_in_canonical_order(plan_file):
    plan = json.loads(plan_file.read_text())
    assert list(plan) == [k for k in TOP_KEYS if k in plan]
    assert list(plan)[0] == "format" and list(plan)[-1] == "sensors"
    for sensor in plan["sensors"]:
        assert list(sensor) == [k for k in SENSOR_KEYS if k in sensor]


def test_same_plan_gives_same_bytes_without_paths(tmp_path, point_plan):
    first, second = tmp_path / "a" / "plan.json", tmp_path / "b" / "plan.json"
    write_plan(point_plan, first)
    write_plan(copy.deepcopy(point_plan), second)
    assert first.read_bytes() == second.read_bytes()
    assert str(tmp_path) not in first.read_text()


def test_numpy_scalars_are_written_as_plain_numbers(tmp_path, point_plan):
    sensor = point_plan["sensors"][3]
    sensor["lat"], sensor["score"] = np.float32(34.25), np.float64(0.5)
    sensor["rank"], sensor["keep"] = np.int64(sensor["rank"]), np.bool_(sensor["keep"])
    path = tmp_path / "plan.json"
    write_plan(point_plan, path)
    back = read_plan(path).to_json()["sensors"][3]
    assert back["lat"] == 34.25 and type(back["rank"]) is int and type(back["keep"]) is bool


def test_optional_model_record_is_accepted(tmp_path, point_plan):
    point_plan["model"] = {"weights": "plans/s0.700-abc.pt", "finetune_epochs": 3}
    write_plan(point_plan, tmp_path / "plan.json")
    assert read_plan(tmp_path / "plan.json").model.finetune_epochs == 3


@pytest.mark.parametrize(
    "content, problem",
    [
        (None, "not found"),
        ("", "empty"),
        ("[1, 2", "not valid JSON"),
        ("this is not json", "not valid JSON"),
        ("[1, 2, 3]\n", "expected a JSON object"),
        ('{"sparsity": NaN}', "not valid JSON"),
    ],
)
def test_read_rejects_unreadable_files(tmp_path, content, problem):
    path = tmp_path / "plan.json"
    if content is not None:
        path.write_text(content)
    with pytest.raises(InputError, match=problem) as info:
        read_plan(path)
    assert str(path) in str(info.value)


def test_read_rejects_truncated_plan_naming_line(plan_file):
    text = plan_file.read_text()
    plan_file.write_text(text[: len(text) // 2])
    with pytest.raises(InputError, match=r"plan\.json: line \d+, column \d+.*truncated"):
        read_plan(plan_file)


def _set(path, value):
    def mutate(plan):
        target = plan
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = value

    return mutate


def _swap_first_ranks(plan):
    plan["sensors"][0]["rank"], plan["sensors"][1]["rank"] = 2, 1


def _duplicate_id(plan):
    plan["sensors"][5]["sensor_id"] = plan["sensors"][4]["sensor_id"]


def _drop_above_keep(plan):
    plan["sensors"][0]["keep"], plan["sensors"][-1]["keep"] = False, True


def _remove(key):
    return lambda plan: plan.pop(key)


INCONSISTENT = {
    "wrong format": (_set(["format"], "dynst-plan/0"), "format"),
    "missing key": (_remove("backbone"), "missing key backbone"),
    "unknown key": (_set(["colour"], "red"), "unknown key.*colour"),
    "n_keep off by one": (lambda p: p.update(n_keep=p["n_keep"] + 1), "n_keep"),
    "n_sensors off": (lambda p: p.update(n_sensors=3), "n_sensors"),
    "ranks out of order": (_swap_first_ranks, "rank is 2, expected 1"),
    "duplicate id": (_duplicate_id, "listed twice"),
    "lat out of range": (_set(["sensors", 2, "lat"], 95.0), r"sensors\[2\]\.lat: .*90.*95\.0"),
    "lon out of range": (_set(["sensors", 2, "lon"], 180.0), r"sensors\[2\]\.lon: .*180.*180\.0"),
    "keep as string": (_set(["sensors", 2, "keep"], "yes"), r"sensors\[2\]\.keep: .*boolean"),
    "unknown reason": (_set(["sensors", 2, "reason"], "luck"), r"sensors\[2\]\.reason: .*'luck'"),
    "dropped above kept": (_drop_above_keep, "kept sensors must rank above dropped"),
    "short sha": (_set(["dataset_sha256"], "abc"), "dataset_sha256"),
    "score as text": (_set(["sensors", 0, "score"], "high"), r"sensors\[0\]\.score: .*number"),
    "frequency above one": (_set(["sensors", 0, "selection_frequency"], 1.5), "selection_freq"),
    "metrics missing rmse": (lambda p: p["metrics"]["test"].pop("rmse"), "metrics.test"),
    "absolute weights": (_set(["model"], {"weights": "/x.pt", "finetune_epochs": 0}), "weights"),
    "negative sensor error": (_set(["sensors", 3, "mae_reduced"], -0.1), r"\[3\]\.mae_reduced"),
    "sensor error as text": (_set(["sensors", 3, "mae_dense"], "low"), r"\[3\]\.mae_dense"),
    "unknown affected sensor": (_set(["most_affected"], ["nowhere"]), "most_affected names"),
}


@pytest.mark.parametrize("mutate, problem", INCONSISTENT.values(), ids=INCONSISTENT.keys())
def test_read_rejects_inconsistent_plan(tmp_path, point_plan, mutate, problem):
    mutate(point_plan)
    path = tmp_path / "plan.json"
    path.write_text(json.dumps(point_plan))
    with pytest.raises(InputError, match=problem) as info:
        read_plan(path)
    assert str(path) in str(info.value)


GRID_PROBLEMS = {
    "cell outside grid": (_set(["sensors", 0, "row"], 33), "outside grid shape"),
    "cell without col": (lambda p: p["sensors"][0].pop("col"), "row and col"),
    "negative spacing": (_set(["grid", "dlat"], -0.25), "grid.dlat"),
    "row not an integer": (_set(["sensors", 1, "row"], 1.5), r"sensors\[1\]\.row: .*integer"),
}


@pytest.mark.parametrize("mutate, problem", GRID_PROBLEMS.values(), ids=GRID_PROBLEMS.keys())
def test_validate_rejects_inconsistent_grid(grid_plan, mutate, problem):
    mutate(grid_plan)
    with pytest.raises(InputError, match=problem):
        Plan.from_json(grid_plan, source="grid.json")


def test_validate_rejects_two_sensors_on_one_cell(grid_plan):
    first, second = grid_plan["sensors"][:2]
    second["row"], second["col"] = first["row"], first["col"]
    with pytest.raises(InputError, match="grid cell .* listed twice"):
        Plan.from_json(grid_plan, source="grid.json")


def test_write_refuses_inconsistent_plan_and_leaves_target(tmp_path, point_plan):
    path = tmp_path / "plan.json"
    path.write_text("old")
    point_plan["n_keep"] = 0
    with pytest.raises(InputError, match="n_keep"):
        write_plan(point_plan, path)
    assert path.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["plan.json"]


def test_sensor_errors_round_trip_and_may_be_null(tmp_path, point_plan):
    for i, sensor in enumerate(point_plan["sensors"]):
        sensor["mae_dense"], sensor["mae_reduced"] = 2.0 + i / 100, 2.5 + i / 100
    point_plan["sensors"][4]["mae_dense"] = None  # never observed in the test period
    point_plan["most_affected"] = [point_plan["sensors"][-1]["sensor_id"]]
    path = tmp_path / "plan.json"
    write_plan(point_plan, path)
    plan = read_plan(path).to_json()
    assert plan["sensors"][4]["mae_dense"] is None
    assert plan["sensors"][5]["mae_reduced"] == pytest.approx(2.55)
    assert plan["most_affected"] == point_plan["most_affected"]
