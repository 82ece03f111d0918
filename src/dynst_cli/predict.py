"""`predict` as a library call: forecast every sensor from the kept sensors of a plan.

Only the kept sensors' last `t_in` steps are read from the recent archive; dropped sensors'
values are never touched, which is what a reduced network in the field can deliver.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
import xarray as xr

from dynst_cli import __version__
from dynst_cli.atomic import sha256_file
from dynst_cli.bundle import ModelBundle
from dynst_cli.config import FitConfig
from dynst_cli.console import log
from dynst_cli.data import StandardScaler
from dynst_cli.data.inputs import model_input, steps_per_day
from dynst_cli.errors import InputError, UsageError
from dynst_cli.model import ForecastModel, backbone_spec, build_model
from dynst_cli.plan.schema import Plan
from dynst_cli.run import CONFIG, MODEL, RunDir
from dynst_cli.train import usable_device


def load_plan_model(run: RunDir, plan: Plan) -> tuple[ForecastModel, ModelBundle, FitConfig]:
    """The model a plan was evaluated with (fine-tuned weights where prune made them)."""
    record = run.read_json(CONFIG)
    config = FitConfig.from_dict(record["config"], source=str(run.file(CONFIG)))
    if plan.dataset_sha256 != record["dataset"]["sha256"]:
        raise InputError(
            f"the plan was made from another dataset than run {run.path} (sha256 differs); "
            "prune this run again to get a matching plan"
        )
    bundle = ModelBundle.load(run)
    spec = backbone_spec(
        bundle, config.data.t_in, config.data.t_out, steps_per_day(bundle.step_seconds)
    )
    model = build_model(spec, config.model)
    weights = _check_weights(run, plan)
    state = bundle.model if weights == MODEL else run.load_torch(weights)["model"]
    model.load_state_dict(state)
    keep = np.zeros(bundle.n_sensors, dtype=bool)
    index = {sid: i for i, sid in enumerate(bundle.sensor_ids)}
    for entry in plan.sensors:
        if entry.sensor_id not in index:
            raise InputError(f"plan sensor {entry.sensor_id} is not in run {run.path}")
        keep[index[entry.sensor_id]] = entry.keep
    model.gate.set_keep(keep, -1)
    model.eval()
    return model, bundle, config


def _check_weights(run: RunDir, plan: Plan) -> str:
    """The plan's weights file inside `run`; refuse a plan that another run made."""
    weights = plan.model.weights if plan.model else MODEL
    expected = plan.model.weights_sha256 if plan.model else None
    path = run.file(weights)
    if not path.is_file() or (expected and sha256_file(path) != expected):
        raise InputError(
            f"the plan was made from another run than {run.path} (its weights {weights} "
            f"{'differ' if path.is_file() else 'are missing'}); "
            f"prune this run again: dynst prune {run.path} --sparsity {plan.sparsity} -o PLAN"
        )
    return weights


def read_recent(path: Path, bundle: ModelBundle, kept_ids: list[str], t_in: int):
    """The last `t_in` steps of the kept sensors: values (t_in, K, C) and their times."""
    try:
        ds = xr.open_dataset(path, engine="netcdf4")
    except FileNotFoundError:
        raise UsageError(f"recent data {path} does not exist") from None
    except Exception as exc:
        raise InputError(f"{path}: not a readable NetCDF dataset ({exc})") from None
    with ds:
        missing_vars = [v for v in bundle.variables if v not in ds.data_vars]
        if missing_vars:
            raise InputError(f"{path}: variable(s) {', '.join(missing_vars)} missing")
        present = set(ds["sensor"].values.astype(str))
        absent = [sid for sid in kept_ids if sid not in present]
        if absent:
            raise InputError(f"{path}: kept sensor(s) missing: {', '.join(absent[:10])}")
        if ds.sizes["time"] < t_in:
            raise InputError(f"{path}: {ds.sizes['time']} time steps, the model needs {t_in}")
        recent = ds.isel(time=slice(-t_in, None)).sel(sensor=kept_ids)
        _check_steps(path, recent["time"].values, int(bundle.step_seconds))
        values = np.stack(
            [recent[v].transpose("time", "sensor").values for v in bundle.variables], -1
        )
        warn_mostly_missing(path, values, kept_ids)
        return values.astype(np.float32), recent["time"].values


def _check_steps(path: Path, times: np.ndarray, step_seconds: int) -> None:
    """Refuse recent data whose last steps are not the model's step apart (gaps, other rates)."""
    steps = np.unique(np.diff(times).astype("timedelta64[s]").astype(np.int64))
    if steps.size and (steps.size > 1 or int(steps[0]) != step_seconds):
        found = ", ".join(f"{int(x)} s" for x in steps[:3])
        raise InputError(
            f"{path}: the last steps are {found} apart, but the model was trained on steps of "
            f"{step_seconds} s; give recent data on the same regular time axis "
            "(`dynst ingest --resample`)"
        )


MOSTLY_MISSING = 0.5  # share of the input window above which a kept sensor is reported


def warn_mostly_missing(path: Path, values: np.ndarray, kept_ids: list[str]) -> None:
    """Warn about kept sensors missing in most of the input window, values (t_in, K, C)."""
    share = np.isnan(values).mean(axis=(0, 2)) if values.size else np.zeros(0)
    bad = np.flatnonzero(share > MOSTLY_MISSING)
    if bad.size:
        named = ", ".join(f"{kept_ids[i]} ({share[i]:.0%})" for i in bad[:10])
        log(
            f"warning: {path}: {bad.size} kept sensor(s) missing in most of the last "
            f"{values.shape[0]} steps: {named}; the forecast leans on the others"
        )


def predict_from_plan(run_path: str | Path, plan: Plan, data_path: str | Path) -> xr.Dataset:
    """Forecast of every sensor for the `t_out` steps after the end of `data_path`."""
    run = RunDir(run_path).require()
    model, bundle, config = load_plan_model(run, plan)
    ids = bundle.sensor_ids
    kept = np.flatnonzero(model.gate.keep.numpy() > 0.5)
    device = torch.device(usable_device(config.train.device))
    model.to(device)
    values, times = read_recent(Path(data_path), bundle, [ids[i] for i in kept], config.data.t_in)
    scaler = StandardScaler.from_state(bundle.scaler)
    x, tod, dow = model_input(values[None], times[-1:], scaler, bundle.step_seconds)
    step = np.timedelta64(int(bundle.step_seconds), "s")
    with torch.no_grad():
        pred = model.forward_kept(
            torch.from_numpy(x).to(device),
            torch.from_numpy(kept).to(device),
            torch.from_numpy(tod).to(device),
            torch.from_numpy(dow).to(device),
        )
    forecast = scaler.inverse(pred[0].cpu().numpy())  # (t_out, N, C)
    future = times[-1] + step * np.arange(1, config.data.t_out + 1)
    return _as_dataset(forecast, future, bundle)


def iso_seconds(time: np.datetime64) -> str:
    """ISO 8601 to the second, e.g. ``2012-03-08T00:55:00`` (no nanoseconds)."""
    return str(np.datetime_as_string(np.datetime64(time, "s"), unit="s"))


def _as_dataset(forecast: np.ndarray, future: np.ndarray, bundle: ModelBundle) -> xr.Dataset:
    data_vars = {
        var: (
            ("time", "sensor"),
            forecast[..., c].astype(np.float32),
            {"units": bundle.units.get(var, "unknown")},
        )
        for c, var in enumerate(bundle.variables)
    }
    return xr.Dataset(
        data_vars,
        coords={
            "time": future.astype("datetime64[ns]"),
            "sensor": np.asarray(bundle.sensor_ids, dtype=str),
            "lat": ("sensor", np.asarray(bundle.lat)),
            "lon": ("sensor", np.asarray(bundle.lon)),
        },
        attrs={"dynst_version": __version__, "title": "dynst forecast from the kept sensors"},
    )
