"""The trained-model bundle: one typed, versioned object behind RUN/model.pt."""

from __future__ import annotations

import pytest
import torch

from dynst_cli.bundle import ModelBundle
from dynst_cli.errors import InputError
from dynst_cli.run import MODEL, RunDir

pytestmark = pytest.mark.slow  # trains models: run by `make test`, not `make test-fast`


def test_a_fitted_runs_bundle_describes_its_network(fitted_run):
    bundle = ModelBundle.load(RunDir(fitted_run))
    assert bundle.version == 1 and bundle.n_sensors == len(bundle.lat) == len(bundle.sensor_ids)
    assert bundle.n_channels == len(bundle.variables) and not bundle.is_grid
    assert "gate.scores" in bundle.model


def test_saving_and_loading_keeps_every_field_and_the_bytes(fitted_run, tmp_path):
    bundle = ModelBundle.load(RunDir(fitted_run))
    copy = RunDir(tmp_path)
    bundle.save(copy)
    assert (tmp_path / MODEL).read_bytes() == (fitted_run / MODEL).read_bytes()
    again = ModelBundle.load(copy)
    assert again.sensor_ids == bundle.sensor_ids and again.scaler == bundle.scaler


def test_an_unknown_version_or_layout_is_bad_input(fitted_run, tmp_path):
    record = torch.load(fitted_run / MODEL, weights_only=True)
    torch.save({**record, "version": 99}, tmp_path / MODEL)
    with pytest.raises(InputError, match="version 99"):
        ModelBundle.load(RunDir(tmp_path))
    del record["scaler"]
    torch.save(record, tmp_path / MODEL)
    with pytest.raises(InputError, match="no scaler"):
        ModelBundle.load(RunDir(tmp_path))
