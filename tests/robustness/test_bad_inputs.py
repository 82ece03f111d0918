"""Bad inputs and flags across every command: exit code, a message that says what is wrong, no
traceback, nothing on stdout, and no output file written (or an existing one left untouched).

Each row: command line (with {placeholders} filled in by `paths`), exit code, key words of the
message, and the output that must not appear (or, prefixed with "=", must keep its bytes).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

ROWS = [
    # ---------------------------------------------------------------- ingest
    ("ingest-missing", "ingest {tmp}/nope.csv -o {tmp}/d.nc", 2, ["nope.csv"], "{tmp}/d.nc"),
    ("ingest-garbage", "ingest {garbage_nc} -o {existing}", 3, ["garbage.nc"], "={existing}"),
    ("ingest-empty-csv", "ingest {empty_csv} -o {tmp}/d.nc", 3, ["empty.csv"], "{tmp}/d.nc"),
    ("ingest-wide-no-table", "ingest {wide_csv} -o {tmp}/d.nc", 2, ["--sensors"], "{tmp}/d.nc"),
    ("ingest-out-is-dir", "ingest {wide_csv} --sensors {table} -o {tmp}", 2, ["folder"], None),
    (
        "ingest-out-is-input",
        "ingest {wide_csv} --sensors {table} -o {wide_csv}",
        2,
        ["one of the inputs"],
        "={wide_csv}",
    ),
    (
        "ingest-chunk-0",
        "ingest {wide_csv} --sensors {table} --chunk-time 0 -o {tmp}/d.nc",
        2,
        ["chunk"],
        "{tmp}/d.nc",
    ),
    ("ingest-unknown-var", "ingest {long_csv} --var nope -o {tmp}/d.nc", 3, ["nope"], "{tmp}/d.nc"),
    (
        "ingest-unknown-flag",
        "ingest {wide_csv} --frobnicate -o {tmp}/d.nc",
        2,
        ["frobnicate"],
        "{tmp}/d.nc",
    ),
    # ---------------------------------------------------------------- fit
    (
        "fit-missing-dataset",
        "fit {tmp}/nope.nc -o {tmp}/r",
        2,
        ["does not exist"],
        "{tmp}/r/model.pt",
    ),
    ("fit-garbage-dataset", "fit {garbage_nc} -o {tmp}/r", 3, ["garbage.nc"], "{tmp}/r"),
    ("fit-short-dataset", "fit {short} -o {tmp}/r --recipe {recipe}", 3, ["too few"], "{tmp}/r"),
    ("fit-sparsity-range", "fit {dataset} -o {tmp}/r --sparsity 1.5", 2, ["sparsity"], "{tmp}/r"),
    ("fit-backbone", "fit {dataset} -o {tmp}/r --backbone nope", 2, ["stid"], "{tmp}/r"),
    (
        "fit-recipe-unknown-key",
        "fit {dataset} -o {tmp}/r --recipe {bad_recipe}",
        2,
        ["bogus"],
        "{tmp}/r",
    ),
    (
        "fit-recipe-not-yaml",
        "fit {dataset} -o {tmp}/r --recipe {garbage_yaml}",
        3,
        ["garbage.yaml"],
        "{tmp}/r",
    ),
    (
        "fit-existing-run",
        "fit {dataset} -o {run} --recipe {recipe}",
        2,
        ["--resume"],
        "={run}/ranking.json",
    ),
    (
        "fit-resume-other-dataset",
        "fit {other} -o {run} --recipe {recipe} --resume",
        3,
        ["another dataset"],
        "={run}/config.json",
    ),
    (
        "fit-resume-other-config",
        "fit {dataset} -o {run} --recipe {recipe} --resume --seed 7",
        2,
        ["different configuration", "train.seed"],
        "={run}/config.json",
    ),
    (
        "fit-resume-truncated-checkpoint",
        "fit {dataset} -o {run_bad_ckpt} --recipe {recipe} --resume",
        3,
        ["checkpoint.pt", "truncated"],
        "={run_bad_ckpt}/ranking.json",
    ),
    # ---------------------------------------------------------------- prune
    (
        "prune-not-a-run",
        "prune {tmp} --sparsity 0.5 -o {tmp}/p.json",
        2,
        ["not a finished dynst run"],
        "{tmp}/p.json",
    ),
    (
        "prune-sparsity-text",
        "prune {run} --sparsity x -o {tmp}/p.json",
        2,
        ["--sparsity"],
        "{tmp}/p.json",
    ),
    (
        "prune-truncated-model",
        "prune {run_bad_model} --sparsity 0.5 -o {existing}",
        3,
        ["model.pt", "truncated"],
        "={existing}",
    ),
    (
        "prune-damaged-config",
        "prune {run_bad_config} --sparsity 0.5 -o {tmp}/p.json",
        3,
        ["config.json", "damaged"],
        "{tmp}/p.json",
    ),
    (
        "prune-other-dataset",
        "prune {run} --sparsity 0.5 --data {other} -o {tmp}/p.json",
        3,
        ["not the dataset"],
        "{tmp}/p.json",
    ),
    (
        "prune-infeasible",
        "prune {run} --sparsity 0.9 --keep s000,s001,s002,s003,s004 -o {tmp}/p.json",
        4,
        ["keep"],
        "{tmp}/p.json",
    ),
    # ---------------------------------------------------------------- export-plan
    (
        "export-truncated-plan",
        "export-plan {plan_truncated} -o {existing_geojson}",
        3,
        ["truncated"],
        "={existing_geojson}",
    ),
    (
        "export-not-a-plan",
        "export-plan {plan_wrong} -o {tmp}/p.geojson",
        3,
        ["invalid plan"],
        "{tmp}/p.geojson",
    ),
    (
        "export-missing-plan",
        "export-plan {tmp}/nope.json -o {tmp}/p.csv",
        3,
        ["not found"],
        "{tmp}/p.csv",
    ),
    ("export-bad-extension", "export-plan {plan} -o {tmp}/p.txt", 2, ["extension"], "{tmp}/p.txt"),
    (
        "export-bad-map",
        "export-plan {plan} -o {tmp}/p.csv --map {tmp}/m.jpg",
        2,
        ["png"],
        "{tmp}/p.csv",
    ),
    (
        "export-other-dataset",
        "export-plan {plan} -o {tmp}/p.csv --dataset {other}",
        3,
        ["sha256", "--force"],
        "{tmp}/p.csv",
    ),
    (
        "export-precision",
        "export-plan {plan} -o {tmp}/p.geojson --precision 9",
        2,
        ["precision"],
        "{tmp}/p.geojson",
    ),
    # ---------------------------------------------------------------- compare
    (
        "compare-not-a-run",
        "compare {tmp} --sparsity 0.5 -o {tmp}/c",
        2,
        ["not a finished dynst run"],
        "{tmp}/c",
    ),
    ("compare-sparsity", "compare {run} --sparsity 2 -o {tmp}/c", 2, ["[0, 1)"], "{tmp}/c"),
    (
        "compare-method",
        "compare {run} --sparsity 0.5 --methods dynst,nope -o {tmp}/c",
        2,
        ["nope"],
        "{tmp}/c/compare.csv",
    ),
    (
        "compare-truncated-plan",
        "compare {run} --sparsity 0.5 --seeds 2 --plan {plan_truncated} -o {tmp}/c",
        3,
        ["truncated"],
        "{tmp}/c/compare.csv",
    ),
    # ---------------------------------------------------------------- predict
    (
        "predict-plan-other-run",
        "predict {run} --plan {rival_plan} --data {dataset} -o {existing}",
        3,
        ["another run", "prune"],
        "={existing}",
    ),
    (
        "predict-plan-other-dataset",
        "predict {run} --plan {plan_other_sha} --data {dataset} -o {tmp}/f.nc",
        3,
        ["another dataset"],
        "{tmp}/f.nc",
    ),
    (
        "predict-data-too-short",
        "predict {run} --plan {plan} --data {very_short} -o {tmp}/f.nc",
        3,
        ["time steps", "needs 4"],
        "{tmp}/f.nc",
    ),
    (
        "predict-data-missing",
        "predict {run} --plan {plan} --data {tmp}/nope.nc -o {tmp}/f.nc",
        2,
        ["does not exist"],
        "{tmp}/f.nc",
    ),
    (
        "predict-data-garbage",
        "predict {run} --plan {plan} --data {garbage_nc} -o {tmp}/f.nc",
        3,
        ["garbage.nc"],
        "{tmp}/f.nc",
    ),
    (
        "predict-truncated-plan",
        "predict {run} --plan {plan_truncated} --data {dataset} -o {tmp}/f.nc",
        3,
        ["truncated"],
        "{tmp}/f.nc",
    ),
    (
        "predict-truncated-weights",
        "predict {run_bad_model} --plan {plan} --data {dataset} -o {tmp}/f.nc",
        3,
        ["model.pt"],
        "{tmp}/f.nc",
    ),
]


def _truncate(path: Path) -> None:
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


def _copy_run(src: Path, dst: Path) -> Path:
    shutil.copytree(src, dst)
    return dst


@pytest.fixture
def paths(tmp_path, built):
    """Every placeholder of ROWS: the session's good files and this test's damaged copies."""
    tmp = tmp_path
    (tmp / "garbage.nc").write_text("this is not NetCDF\n")
    (tmp / "empty.csv").write_text("")
    (tmp / "garbage.yaml").write_text("data: [unclosed\n  - : :\n")
    (tmp / "bad.yaml").write_text("train:\n  bogus: 1\n")
    (tmp / "wide.csv").write_text("time,a,b\n2020-01-01 00:00,1,2\n2020-01-01 01:00,3,4\n")
    (tmp / "long.csv").write_text("time,sensor_id,value,lat,lon\n2020-01-01,a,1,50,10\n")
    (tmp / "table.csv").write_text("id,latitude,longitude\na,50,10\nb,51,11\n")
    (tmp / "existing.out").write_text("an earlier result\n")
    (tmp / "existing.geojson").write_text("an earlier result\n")
    plan_text = Path(built["plan"]).read_text()
    (tmp / "truncated.json").write_text(plan_text[: len(plan_text) // 2])
    (tmp / "wrong.json").write_text(json.dumps({"format": "something-else"}))
    other_sha = json.loads(plan_text)
    other_sha["dataset_sha256"] = "0" * 64
    (tmp / "other-sha.json").write_text(json.dumps(other_sha))
    run_bad_model = _copy_run(built["run"], tmp / "run-bad-model")
    _truncate(run_bad_model / "model.pt")
    run_bad_ckpt = _copy_run(built["run"], tmp / "run-bad-ckpt")
    _truncate(run_bad_ckpt / "checkpoint.pt")
    run_bad_config = _copy_run(built["run"], tmp / "run-bad-config")
    _truncate(run_bad_config / "config.json")
    from synthetic import canonical_dataset, write

    very_short = write(canonical_dataset(built["values"][:2]), tmp / "very-short.nc")
    return {
        "tmp": tmp,
        "garbage_nc": tmp / "garbage.nc",
        "empty_csv": tmp / "empty.csv",
        "garbage_yaml": tmp / "garbage.yaml",
        "bad_recipe": tmp / "bad.yaml",
        "wide_csv": tmp / "wide.csv",
        "long_csv": tmp / "long.csv",
        "table": tmp / "table.csv",
        "existing": tmp / "existing.out",
        "existing_geojson": tmp / "existing.geojson",
        "plan_truncated": tmp / "truncated.json",
        "plan_wrong": tmp / "wrong.json",
        "plan_other_sha": tmp / "other-sha.json",
        "run_bad_model": run_bad_model,
        "run_bad_ckpt": run_bad_ckpt,
        "run_bad_config": run_bad_config,
        "very_short": very_short,
        "run": _copy_run(built["run"], tmp / "run"),  # a copy: these tests must not touch it
        **{k: built[k] for k in ("recipe", "dataset", "other", "short", "plan", "rival_plan")},
    }


def _snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.mark.parametrize(
    ("args", "code", "words", "output"),
    [pytest.param(*row[1:], id=row[0]) for row in ROWS],
)
def test_bad_input_exits_with_its_code_and_a_clear_message(cli, paths, args, code, words, output):
    argv = [part.format(**paths) for part in args.split()]
    before = _snapshot(paths["tmp"])
    result = cli(*argv, "--json")
    assert result.code == code, result.err
    assert "traceback" not in result.message
    assert result.message.startswith(("error:", "usage:")), result.err
    for word in words:
        assert word.lower() in result.message, result.err
    assert result.out == ""  # --json prints its object only on success
    if output is not None and output.startswith("="):
        target = output[1:].format(**paths)
        assert before[target] == Path(target).read_bytes()
    elif output is not None:
        assert not Path(output.format(**paths)).exists()
    assert not [p for p in paths["tmp"].rglob(".*") if p.is_file()]  # no temporary files


def test_the_table_covers_every_command_with_enough_rows():
    commands = {row[1].split()[0] for row in ROWS}
    assert commands == {"ingest", "fit", "prune", "export-plan", "compare", "predict"}
    assert len(ROWS) >= 25


def test_debug_shows_the_traceback_that_is_otherwise_hidden(cli, paths):
    plain = cli("prune", paths["run_bad_model"], "--sparsity", "0.5")
    debug = cli("prune", paths["run_bad_model"], "--sparsity", "0.5", "--debug")
    assert plain.code == debug.code == 3
    assert "Traceback" not in plain.err and "Traceback" in debug.err
