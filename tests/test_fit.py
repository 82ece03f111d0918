"""`fit`: the DynST loop end to end on a planted network, checkpoints and resume."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from dynst_cli.errors import InputError, UsageError
from dynst_cli.fit import fit_run
from dynst_cli.mask import n_keep_for
from synthetic import canonical_dataset, planted_network, tiny_config, write

pytestmark = pytest.mark.slow  # trains models: run by `make test`, not `make test-fast`


def test_run_keeps_exactly_the_target_count_and_ranks_every_sensor(fitted_run):
    ranking = json.loads((fitted_run / "ranking.json").read_text())
    n = len(ranking)
    assert sorted(r["index"] for r in ranking) == list(range(n))
    assert [r["rank"] for r in ranking] == list(range(1, n + 1))
    kept = [r["kept_in_fit"] for r in ranking]
    assert sum(kept) == n_keep_for(n, 0.5)
    assert kept == sorted(kept, reverse=True)  # kept sensors rank above dropped ones
    metrics = json.loads((fitted_run / "metrics.json").read_text())
    assert np.isfinite(metrics["sparse"]["test"]["mae"])
    history = json.loads((fitted_run / "history.json").read_text())
    assert [h["epoch"] for h in history] == [1, 2, 3, 4]
    assert history[-1]["n_keep"] == n_keep_for(n, 0.5)


@pytest.mark.parametrize(
    "mask",
    [
        {},
        {"sensor_dropout": 0.3, "signal_smoothing": 0.8},
        {"regrow_signal": "residual", "regrow_grace": 2, "settle_share": 1.0},
        {"regrow_signal": "error", "regrow_grace": 2},
        {"exchange_trials": 2},
    ],
)
def test_resume_after_an_interruption_gives_the_same_run(tmp_path, planted, mask):
    config = tiny_config()
    # the random sensor dropout, the smoothed signal, the residual probe, the regrow grace, the
    # settling and the exchanges too
    for key, value in mask.items():
        setattr(config.mask, key, value)
    straight = tmp_path / "straight"
    fit_run(planted[0], straight, config)

    def interrupt_after_two(state, total):
        if state.epoch == 2:
            raise KeyboardInterrupt

    resumed = tmp_path / "resumed"
    with pytest.raises(KeyboardInterrupt):
        fit_run(planted[0], resumed, config, on_epoch=interrupt_after_two)
    assert not (resumed / "model.pt").exists()
    fit_run(planted[0], resumed, config, resume=True)
    for name in ("ranking.json", "metrics.json", "history.json"):
        assert (straight / name).read_bytes() == (resumed / name).read_bytes(), name


def test_resume_with_another_configuration_is_refused(tmp_path, planted):
    run = tmp_path / "run"
    fit_run(planted[0], run, tiny_config(epochs=1))
    with pytest.raises(UsageError, match="train.epochs"):
        fit_run(planted[0], run, tiny_config(epochs=2), resume=True)


def test_a_finished_run_is_not_overwritten_without_resume(fitted_run, planted):
    before = (fitted_run / "ranking.json").read_bytes()
    with pytest.raises(UsageError, match="--resume"):
        fit_run(planted[0], fitted_run, tiny_config())
    assert (fitted_run / "ranking.json").read_bytes() == before


def test_a_damaged_checkpoint_is_bad_input(tmp_path, planted):
    run = tmp_path / "run"
    fit_run(planted[0], run, tiny_config(epochs=1))
    (run / "checkpoint.pt").write_bytes(b"not a checkpoint")
    with pytest.raises(InputError, match="damaged"):
        fit_run(planted[0], run, tiny_config(epochs=1), resume=True)


def test_dense_reference_is_recorded_when_asked(tmp_path, planted):
    run = tmp_path / "run"
    summary = fit_run(planted[0], run, tiny_config(epochs=2, dense_reference=True))
    assert summary["dense"]["test"]["mae"] > 0
    assert summary["dense"]["test"] != summary["sparse"]["test"]


@pytest.mark.parametrize(
    ("backbone", "grid"), [("stid", (4, 5)), ("gwnet", None), ("gwnet", (4, 5)), ("simvp", (4, 5))]
)
def test_every_backbone_runs_the_whole_schedule(tmp_path, backbone, grid):
    values = planted_network(n_drivers=2, n_followers=18, n_steps=200)[0]
    dataset = write(canonical_dataset(values, grid=grid), tmp_path / "data.nc")
    config = tiny_config(epochs=3)
    config.model.backbone = backbone
    summary = fit_run(dataset, tmp_path / "run", config)
    assert summary["n_keep"] == n_keep_for(20, 0.5)
    assert np.isfinite(summary["sparse"]["test"]["mae"])


def test_constraints_hold_while_the_mask_learns(tmp_path, planted):
    from dynst_cli.selection import SitingConstraints

    constraints = SitingConstraints(keep_ids=("s010", "s011"), exclude_ids=("s000", "s001"))
    run = tmp_path / "run"
    fit_run(planted[0], run, tiny_config(), constraints=constraints)
    kept = {
        r["sensor_id"] for r in json.loads((run / "ranking.json").read_text()) if r["kept_in_fit"]
    }
    assert {"s010", "s011"} <= kept
    assert not {"s000", "s001"} & kept
    assert len(kept) == n_keep_for(24, 0.5)


@pytest.mark.parametrize("signal", ["residual", "error"])
def test_a_checkpoint_keeps_the_regrow_grace_and_the_regrow_probe(tmp_path, planted, signal):
    from dynst_cli.data import load_dataset
    from dynst_cli.fit import _restore, _save_checkpoint
    from dynst_cli.mask.regrow_signals import regrow_probe
    from dynst_cli.run import RunDir
    from dynst_cli.train import TrainState, make_optimizer, prepare

    config = tiny_config()
    config.mask.regrow_signal = signal
    prep = prepare(load_dataset(planted[0]), config)
    optimizer = make_optimizer(prep.model, config)
    n = prep.model.gate.n_sensors
    probe = regrow_probe(signal, n, "cpu")
    probe.total += torch.arange(n, dtype=torch.float64)
    probe.count = 3
    state = TrainState(epoch=2, step=40, probe=probe, grown_at=np.arange(n) % 5 - 1)
    run = RunDir(tmp_path / "run")
    run.path.mkdir()
    _save_checkpoint(run, prep, optimizer, state)
    back = _restore(run, prep, optimizer, config)
    assert back.grown_at.tolist() == state.grown_at.tolist()
    assert type(back.probe) is type(probe)
    assert back.probe.count == 3 and torch.equal(back.probe.total, probe.total)
