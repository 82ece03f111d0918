"""Tiny specs for backbone tests: a point network and a partly filled grid."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from dynst_cli.backbones import BACKBONES, BackboneSpec, GridLayout
from dynst_cli.config import ModelConfig

N_SENSORS, T_IN, T_OUT, C = 6, 4, 3, 2
STEPS_PER_DAY = 24


@pytest.fixture
def model_config() -> ModelConfig:
    return ModelConfig(hidden=8, embed=4, layers=2, graph_k=2)


@pytest.fixture
def point_spec() -> BackboneSpec:
    rng = np.random.default_rng(0)
    return BackboneSpec(
        n_sensors=N_SENSORS,
        t_in=T_IN,
        t_out=T_OUT,
        c_in=2 * C,
        c_out=C,
        steps_per_day=STEPS_PER_DAY,
        lat=45.0 + rng.random(N_SENSORS),
        lon=7.0 + rng.random(N_SENSORS),
    )


@pytest.fixture
def grid_spec(point_spec: BackboneSpec) -> BackboneSpec:
    # 6 sensors on a 3x3 grid with odd sides (the downsampling rounds up), 3 cells empty
    rows = np.array([0, 0, 1, 1, 2, 2])
    cols = np.array([0, 2, 1, 2, 0, 1])
    point_spec.grid = GridLayout(rows=rows, cols=cols, shape=(3, 3))
    return point_spec


@pytest.fixture(params=sorted(BACKBONES))
def backbone_name(request) -> str:
    return request.param


@pytest.fixture
def spec_for(point_spec: BackboneSpec, grid_spec: BackboneSpec):
    """The spec a backbone can take: the grid for grid models, point sensors otherwise."""

    def pick(name: str) -> BackboneSpec:
        return grid_spec if BACKBONES[name].needs_grid else point_spec

    return pick


def random_batch(spec: BackboneSpec, batch: int = 3, seed: int = 1):
    """(x, tod, dow) with x of shape (batch, N, t_in * c_in)."""
    gen = torch.Generator().manual_seed(seed)
    x = torch.randn(batch, spec.n_sensors, spec.n_features, generator=gen)
    tod = torch.randint(0, spec.steps_per_day, (batch,), generator=gen)
    dow = torch.randint(0, 7, (batch,), generator=gen)
    return x, tod, dow
