"""The devices a run is fitted and used on: a GPU where there is one, and a GPU run on a laptop.

The CUDA tests run only where PyTorch sees a GPU; the fallback test runs everywhere.
"""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest
import torch
import xarray as xr

from dynst_cli.cli import main
from dynst_cli.plan.schema import read_plan
from dynst_cli.predict import predict_from_plan
from dynst_cli.prune import prune_run
from dynst_cli.run import CONFIG

pytestmark = pytest.mark.slow  # trains models: run by `make test`, not `make test-fast`
needs_cuda = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")

FALLBACK_NOTE = "fitted on a CUDA GPU, which this machine lacks"


def fitted_on(run, device: str) -> None:
    """Rewrite the device that `run` records it was fitted on."""
    path = run / CONFIG
    record = json.loads(path.read_text())
    record["config"]["train"]["device"] = device
    path.write_text(json.dumps(record))


def without_cuda(monkeypatch) -> None:
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)


def test_a_run_fitted_on_a_gpu_is_pruned_compared_and_predicted_on_a_cpu(
    fitted_run, planted, tmp_path, monkeypatch, capsys
):
    without_cuda(monkeypatch)
    gpu_run = tmp_path / "gpu-run"
    shutil.copytree(fitted_run, gpu_run)
    fitted_on(gpu_run, "cuda")
    for run in (fitted_run, gpu_run):
        args = ["prune", str(run), "--sparsity", "0.5", "-o", str(tmp_path / f"{run.name}.json")]
        assert main(args) == 0
    assert FALLBACK_NOTE in capsys.readouterr().err
    cpu_plan = read_plan(tmp_path / f"{fitted_run.name}.json").to_json()
    gpu_plan = read_plan(tmp_path / "gpu-run.json").to_json()
    assert gpu_plan["metrics"]["test"] == cpu_plan["metrics"]["test"]
    assert [s["keep"] for s in gpu_plan["sensors"]] == [s["keep"] for s in cpu_plan["sensors"]]

    forecast = tmp_path / "forecast.nc"
    plan = str(tmp_path / "gpu-run.json")
    args = ["predict", str(gpu_run), "--plan", plan, "--data", str(planted[0]), "-o", str(forecast)]
    assert main(args) == 0
    args = ["compare", str(gpu_run), "--sparsity", "0.5", "--methods", "random", "--seeds", "1"]
    assert main([*args, "--epochs", "1", "--json"]) == 0
    out, err = capsys.readouterr()
    assert FALLBACK_NOTE in err
    assert all(np.isfinite(row["mae"]) for row in json.loads(out.splitlines()[-1])["results"])
    cpu_plan_path = tmp_path / f"{fitted_run.name}.json"
    cpu_forecast = predict_from_plan(fitted_run, read_plan(cpu_plan_path), planted[0])
    with xr.open_dataset(forecast) as written:
        for name in cpu_forecast.data_vars:
            np.testing.assert_array_equal(written[name].values, cpu_forecast[name].values)


@needs_cuda
def test_fit_prune_compare_and_predict_run_on_the_gpu(planted, tmp_path, monkeypatch, capsys):
    run = tmp_path / "run"
    fit = ["fit", str(planted[0]), "-o", str(run), "--device", "cuda", "--epochs", "4"]
    assert main([*fit, "--sparsity", "0.5", "--no-dense-reference"]) == 0
    assert json.loads((run / CONFIG).read_text())["config"]["train"]["device"] == "cuda"

    plan_path = tmp_path / "plan.json"
    assert main(["prune", str(run), "--sparsity", "0.5", "-o", str(plan_path)]) == 0
    plan = read_plan(plan_path)
    on_gpu = predict_from_plan(run, plan, planted[0])

    compare = ["compare", str(run), "--sparsity", "0.5", "--methods", "dynst,random", "--json"]
    rows = {}
    for nproc in ("1", "2"):
        assert main([*compare, "--seeds", "1", "--epochs", "2", "--nproc", nproc]) == 0
        result = json.loads(capsys.readouterr().out.splitlines()[-1])["results"]
        rows[nproc] = [(r["method"], r["n_keep"], r["mae"]) for r in result]
    assert [r[:2] for r in rows["1"]] == [r[:2] for r in rows["2"]]
    for (_, _, one), (_, _, two) in zip(rows["1"], rows["2"], strict=True):
        assert np.isfinite(one) and two == pytest.approx(one, rel=0.05)

    # the same weights evaluated on the CPU give the same plan metrics and forecast
    without_cuda(monkeypatch)
    on_cpu_plan = prune_run(run, 0.5, finetune_epochs=0).to_json()
    for name, value in plan.to_json()["metrics"]["test"].items():
        if value is not None:
            assert on_cpu_plan["metrics"]["test"][name] == pytest.approx(value, rel=1e-4)
    on_cpu = predict_from_plan(run, plan, planted[0])
    for name in on_gpu.data_vars:
        np.testing.assert_allclose(on_cpu[name].values, on_gpu[name].values, rtol=1e-4, atol=1e-4)
