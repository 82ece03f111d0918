"""`dynst compare` on the command line: JSON schema, files in -o, stability, usage errors."""

from __future__ import annotations

import contextlib
import csv
import io
import json

import pytest

from dynst_cli.cli import main
from dynst_cli.plan.schema import read_plan

pytestmark = pytest.mark.slow  # trains models: run by `make test`, not `make test-fast`

DETERMINISTIC = ("dynst", "variance", "qr")


@pytest.fixture(scope="module")
def payload(fitted_run, tmp_path_factory):
    """One `compare --json` with two seeds (so with stability) and a plan: its JSON and -o."""
    folder = tmp_path_factory.mktemp("compare")
    plan, out = folder / "plan.json", folder / "out"
    assert main(["--quiet", "prune", str(fitted_run), "--sparsity", "0.5", "-o", str(plan)]) == 0
    argv = ["--quiet", "compare", str(fitted_run), "--sparsity", "0.3,0.7", "--seeds", "2"]
    argv += ["--epochs", "1", "-o", str(out), "--plan", str(plan), "--json"]
    stdout = io.StringIO()
    with contextlib.redirect_stdout(stdout):  # module scope: capsys is per test
        assert main(argv) == 0
    return json.loads(stdout.getvalue()), out


def test_json_is_one_object_with_a_row_per_method_sparsity_and_seed(payload):
    data, _ = payload
    assert set(data) == {"results", "dense", "stability"}
    for row in data["results"]:
        assert set(row) == {"method", "sparsity", "n_keep", "seed", "mae", "rmse", "mape"}
    for sparsity in (0.3, 0.7):
        rows = [r for r in data["results"] if r["sparsity"] == sparsity]
        assert sorted(r["seed"] for r in rows if r["method"] == "random") == [0, 1]
        for method in DETERMINISTIC:
            assert [r["seed"] for r in rows if r["method"] == method] == [None]
    assert set(data["dense"]) == {"n_keep", "mae", "rmse", "mape"}


def test_compare_csv_rows_match_the_json(payload):
    data, out = payload
    with open(out / "compare.csv", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == len(data["results"]) + 1
    for row, want in zip(rows, data["results"], strict=False):
        assert row["method"] == want["method"]
        assert float(row["sparsity"]) == want["sparsity"]
        assert row["seed"] == ("" if want["seed"] is None else str(want["seed"]))
        assert float(row["mae"]) == want["mae"] and float(row["rmse"]) == want["rmse"]
    assert rows[-1]["method"] == "dense"
    assert float(rows[-1]["mae"]) == data["dense"]["mae"]


def test_output_folder_holds_figure_timings_and_stability(payload):
    data, out = payload
    assert (out / "compare.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "seconds" in (out / "timings.json").read_text()
    assert json.loads((out / "stability.json").read_text()) == data["stability"]
    with open(out / "selection_frequency.csv", newline="") as fh:
        frequency = {r["sensor_id"]: float(r["selection_frequency"]) for r in csv.DictReader(fh)}
    assert frequency == data["stability"]["selection_frequency"]
    assert all(0.0 <= f <= 1.0 for f in frequency.values())
    assert 0.0 <= data["stability"]["mean_jaccard"] <= 1.0
    assert not [p for p in out.iterdir() if p.name.startswith(".")]  # no refits left behind


def test_plan_with_stability_is_a_valid_plan(payload):
    data, out = payload
    plan = read_plan(out / "plan-with-stability.json").to_json()
    assert plan["selection_frequency_seeds"] == 2
    freq = data["stability"]["selection_frequency"]
    assert all(s["selection_frequency"] == freq[s["sensor_id"]] for s in plan["sensors"])


def test_table_names_every_method(fitted_run, capsys):
    argv = ["--quiet", "compare", str(fitted_run), "--sparsity", "0.5", "--seeds", "1"]
    assert main([*argv, "--epochs", "1", "--methods", "dynst,random"]) == 0
    out = capsys.readouterr().out
    for word in ("dynst", "random", "dense", "MAE"):
        assert word in out


@pytest.mark.parametrize(
    ("extra", "words"),
    [
        (["--sparsity", "0.5", "--methods", "dynst,pca"], "variance"),
        (["--sparsity", "abc"], "--sparsity"),
        (["--sparsity", "0.5", "--seeds", "2", "--plan", "p.json"], "--plan needs -o"),
        (["--sparsity", "0.5", "--nproc", "0"], "--nproc"),
    ],
)
def test_usage_errors_exit_2_with_one_message(fitted_run, extra, words, capsys):
    assert main(["compare", str(fitted_run), *extra]) == 2
    err = capsys.readouterr().err
    assert words in err and "Traceback" not in err


def test_progress_counts_the_models_trained(fitted_run, capsys):
    argv = ["compare", str(fitted_run), "--sparsity", "0.5", "--seeds", "2", "--epochs", "1"]
    assert main([*argv, "--methods", "dynst,random"]) == 0
    err = capsys.readouterr().err
    # dynst, random x 2 seeds, the dense model and 2 stability refits
    assert "compare: model 1/6  dynst sparsity 0.50" in err
    assert "compare: model 6/6  DynST refit seed 1" in err
