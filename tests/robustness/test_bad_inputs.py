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

pytestmark = pytest.mark.slow  # trains models: run by `make test`, not `make test-fast`

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
    # ---------------------------------------------------------------- poisoned numbers, time axes
    (
        "ingest-inf-value",
        "ingest {inf_csv} --sensors {table} -o {tmp}/d.nc",
        3,
        ["inf.csv, line 3", "sensor 'b'", "2020-01-01 01:00", "finite"],
        "{tmp}/d.nc",
    ),
    (
        "ingest-float32-overflow",
        "ingest {huge_csv} --sensors {table} -o {existing}",
        3,
        ["huge.csv, line 2", "sensor 'a'", "1e+39", "float32"],
        "={existing}",
    ),
    (
        "ingest-table-lon-inf",
        "ingest {wide_csv} --sensors {table_lon_inf} -o {tmp}/d.nc",
        3,
        ["lon-inf.csv", "sensor 'b'", "finite"],
        "{tmp}/d.nc",
    ),
    (
        "ingest-table-lon-400",
        "ingest {wide_csv} --sensors {table_lon_400} -o {tmp}/d.nc",
        3,
        ["sensor 'b'", "400", "[-360, 360]"],
        "{tmp}/d.nc",
    ),
    (
        "ingest-irregular-time",
        "ingest {irregular_csv} --sensors {table} -o {tmp}/d.nc",
        3,
        ["irregular", "most steps are 1h", "--resample 1h"],
        "{tmp}/d.nc",
    ),
    (
        "ingest-resample-not-fixed",
        "ingest {irregular_csv} --sensors {table} --resample abc -o {tmp}/d.nc",
        2,
        ["--resample abc", "fixed time step"],
        "{tmp}/d.nc",
    ),
    (
        "ingest-semicolon-csv",
        "ingest {semicolon_csv} --sensors {table} -o {tmp}/d.nc",
        3,
        ["semicolon.csv, line 1", "semicolons", "comma"],
        "{tmp}/d.nc",
    ),
    (
        "ingest-netcdf3-truncated",
        "ingest {nc3_truncated} -o {tmp}/d.nc",
        3,
        ["nc3.nc", "truncated"],
        "{tmp}/d.nc",
    ),
    (
        "fit-non-finite-loss",
        "fit {dataset} -o {tmp}/r --recipe {recipe_diverging}",
        3,
        ["training loss became", "batch of windows from 2024-01-", "train.lr"],
        "{tmp}/r",
    ),
    (
        "fit-dataset-with-inf",
        "fit {inf_dataset} -o {tmp}/r --recipe {recipe}",
        3,
        ["sensor 's003'", "infinite", "2024-01-07t06:00:00"],
        "{tmp}/r",
    ),
    (
        "fit-values-overflow-the-errors",
        "fit {huge_dataset} -o {tmp}/r --recipe {recipe}",
        3,
        ["overflow", "3e+38"],
        "{tmp}/r",
    ),
    (
        "fit-too-short-says-what-the-split-needs",
        "fit {dataset} -o {tmp}/r --recipe {recipe} --t-in 150",
        3,
        ["300 time steps", "needs at least", "--t-in / --t-out"],
        "{tmp}/r",
    ),
    # ---------------------------------------------------------------- configuration values
    (
        "fit-recipe-lr-text",
        "fit {dataset} -o {tmp}/r --recipe {recipe_lr}",
        2,
        ["train.lr", "'abc'", "> 0"],
        "{tmp}/r",
    ),
    (
        "fit-recipe-hidden-quoted",
        "fit {dataset} -o {tmp}/r --recipe {recipe_hidden}",
        2,
        ["model.hidden", "an integer >= 1", "'64'"],
        "{tmp}/r",
    ),
    (
        "fit-recipe-batch-size-0",
        "fit {dataset} -o {tmp}/r --recipe {recipe_batch}",
        2,
        ["train.batch_size", ">= 1", "got 0"],
        "{tmp}/r",
    ),
    (
        "fit-recipe-regrow-alpha",
        "fit {dataset} -o {tmp}/r --recipe {recipe_alpha}",
        2,
        ["mask.regrow_alpha", "[0, 1]", "got 5"],
        "{tmp}/r",
    ),
    (
        "fit-seed-negative",
        "fit {dataset} -o {tmp}/r --seed -5",
        2,
        ["--seed (train.seed)", "[0, 4294967295]", "-5"],
        "{tmp}/r",
    ),
    ("fit-nproc-0", "fit {dataset} -o {tmp}/r --nproc 0", 2, ["--nproc", ">= 1"], "{tmp}/r"),
    ("fit-t-out-0", "fit {dataset} -o {tmp}/r --t-out 0", 2, ["--t-out", ">= 1"], "{tmp}/r"),
    (
        "fit-sparsity-list-text",
        "fit {dataset} -o {tmp}/r --sparsity 0.5,abc",
        2,
        ["--sparsity expects numbers in [0, 1) separated by commas, got '0.5,abc'"],
        "{tmp}/r",
    ),
    (
        "prune-sparsity-list-text",
        "prune {run} --sparsity 0.5,abc -o {tmp}/p.json",
        2,
        ["--sparsity expects numbers in [0, 1) separated by commas, got '0.5,abc'"],
        "{tmp}/p.json",
    ),
    (
        "prune-finetune-epochs-negative",
        "prune {run} --sparsity 0.3 --finetune-epochs -1 -o {existing}",
        2,
        ["--finetune-epochs", ">= 0", "-1"],
        "={existing}",
    ),
    (
        "fit-epochs-not-a-number",
        "fit {dataset} -o {tmp}/r --epochs abc",
        2,
        ["--epochs", "see 'dynst fit --help'"],
        "{tmp}/r",
    ),
    # ---------------------------------------------------------------- plans of no sensor, phantoms
    (
        "prune-keeps-no-sensor",
        "prune {run} --sparsity 0.99999 -o {tmp}/p.json",
        2,
        ["keeps 0 of 24 sensors", "below 0.9792"],
        "{tmp}/p.json",
    ),
    (
        "fit-keeps-no-sensor",
        "fit {one_sensor} -o {tmp}/r --recipe {recipe} --sparsity 0.5",
        2,
        ["keeps 0 of 1 sensor", "below 0.5"],
        "{tmp}/r",
    ),
    (
        "prune-given-a-file",
        "prune {plan} --sparsity 0.5 -o {tmp}/p.json",
        2,
        ["is a file"],
        "{tmp}/p.json",
    ),
    (
        "export-phantom-sensor",
        "export-plan {plan_phantom} -o {tmp}/p.csv --dataset {dataset}",
        3,
        ["does not hold", "s999"],
        "{tmp}/p.csv",
    ),
    (
        "predict-data-other-step",
        "predict {run} --plan {plan} --data {three_hourly} -o {tmp}/f.nc",
        3,
        ["10800 s apart", "3600 s"],
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
        **_poisoned(tmp, built),
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
    lines = result.err.strip().splitlines()
    assert lines[-1].startswith("error:"), result.err  # logs may come first; the error is last
    assert [line.startswith("error:") for line in lines].count(True) == 1  # and one line
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
    assert len(ROWS) >= 60


def test_debug_shows_the_traceback_that_is_otherwise_hidden(cli, paths):
    plain = cli("prune", paths["run_bad_model"], "--sparsity", "0.5")
    debug = cli("prune", paths["run_bad_model"], "--sparsity", "0.5", "--debug")
    assert plain.code == debug.code == 3
    assert "Traceback" not in plain.err and "Traceback" in debug.err


def _poisoned(tmp: Path, built: dict) -> dict:
    """Files with non-finite numbers, irregular times, wrong separators, bad recipe values."""
    import numpy as np
    import pandas as pd
    import xarray as xr
    import yaml

    from synthetic import canonical_dataset, write

    files = {
        "inf_csv": "time,a,b\n2020-01-01 00:00,1,2\n2020-01-01 01:00,3,inf\n",
        "huge_csv": "time,a,b\n2020-01-01 00:00,1e39,2\n2020-01-01 01:00,3,4\n",
        "table_lon_inf": "id,latitude,longitude\na,50,10\nb,51,inf\n",
        "table_lon_400": "id,latitude,longitude\na,50,10\nb,51,400\n",
        "irregular_csv": "time,a,b\n"
        + "".join(
            f"{t},1,2\n"
            for t in (
                "2020-01-01 00:00",
                "2020-01-01 01:00",
                "2020-01-01 02:00",
                "2020-01-01 05:00",
                "2020-01-03 05:00",
                "2020-01-03 06:00",
            )
        ),
        "semicolon_csv": "time;a;b\n2020-01-01 00:00;1;2\n2020-01-01 01:00;3;4\n",
    }
    names = {"table_lon_inf": "lon-inf.csv", "table_lon_400": "lon-400.csv"}
    out = {}
    for key, text in files.items():
        path = tmp / names.get(key, key.replace("_csv", ".csv"))
        path.write_text(text)
        out[key] = path
    recipe = yaml.safe_load(Path(built["recipe"]).read_text())
    for key, (section, name, value) in {
        "recipe_lr": ("train", "lr", "abc"),
        "recipe_hidden": ("model", "hidden", "64"),
        "recipe_batch": ("train", "batch_size", 0),
        "recipe_alpha": ("mask", "regrow_alpha", 5),
        "recipe_diverging": ("train", "lr", 1.0e30),
    }.items():
        changed = {k: dict(v or {}) for k, v in recipe.items()}
        changed.setdefault(section, {})[name] = value
        out[key] = tmp / f"{key}.yaml"
        out[key].write_text(yaml.safe_dump(changed))
    values = built["values"].copy()
    values[150:, 3] = np.inf  # written directly, as ingest would refuse it
    out["inf_dataset"] = write(canonical_dataset(values), tmp / "inf-values.nc")
    values[150:, 3] = 3e38  # finite float32, but errors summed over it overflow
    out["huge_dataset"] = write(canonical_dataset(values), tmp / "huge-values.nc")
    out["one_sensor"] = write(canonical_dataset(built["values"][:, :1]), tmp / "one.nc")
    out["three_hourly"] = write(canonical_dataset(built["values"][:40], freq="3h"), tmp / "3h.nc")
    nc3 = tmp / "nc3.nc"
    grid = xr.Dataset(
        {"tas": (("time", "lat", "lon"), np.ones((50, 2, 3), dtype=np.float32))},
        coords={
            "time": pd.date_range("2020-01-01", periods=50, freq="h"),
            "lat": [51.0, 50.0],
            "lon": [0.0, 1.0, 2.0],
        },
    )
    grid.to_netcdf(nc3, format="NETCDF3_64BIT", engine="netcdf4")
    data = nc3.read_bytes()
    nc3.write_bytes(data[: len(data) * 2 // 3])
    out["nc3_truncated"] = nc3
    plan = json.loads(Path(built["plan"]).read_text())
    # a sensor the plan names nowhere else, so that the plan stays valid on its own
    named = set(plan.get("most_affected") or [])
    phantom = next(s for s in reversed(plan["sensors"]) if s["sensor_id"] not in named)
    phantom["sensor_id"] = "s999"
    out["plan_phantom"] = tmp / "phantom.json"
    out["plan_phantom"].write_text(json.dumps(plan))
    return out
