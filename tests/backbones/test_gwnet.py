"""Graph WaveNet's CPU shape: only the steps the forecast reads, every input step still read."""

from __future__ import annotations

import dataclasses

import pytest
import torch

from dynst_cli.backbones.gwnet import GraphWaveNet, layer_steps, start_stride

from .conftest import random_batch


@pytest.mark.parametrize(
    ("t_in", "layers", "stride", "steps"),
    [(12, 2, 3, [2, 1]), (12, 4, 1, [6, 3, 2, 1]), (4, 2, 1, [2, 1]), (5, 1, 3, [1])],
)
def test_the_start_stride_leaves_one_step_after_the_last_layer(t_in, layers, stride, steps):
    assert start_stride(t_in, layers) == stride
    assert layer_steps(t_in, layers) == steps


@pytest.mark.parametrize(("t_in", "layers"), [(1, 1), (3, 2), (7, 3), (12, 2), (12, 5)])
def test_every_history_step_reaches_the_forecast(point_spec, model_config, t_in, layers):
    spec = dataclasses.replace(point_spec, t_in=t_in)
    torch.manual_seed(0)
    model = GraphWaveNet(spec, dataclasses.replace(model_config, layers=layers))
    x, tod, dow = random_batch(spec)
    x.requires_grad_(True)
    out = model(x, tod, dow)
    assert out.shape == (x.shape[0], spec.n_sensors, spec.t_out, spec.c_out)
    out.square().sum().backward()
    per_step = x.grad.abs().view(*x.shape[:2], t_in, spec.c_in).sum(dim=(0, 1, 3))
    assert (per_step > 0).all()  # no history step falls between the strided convolutions


def test_the_adaptive_adjacency_is_a_learned_transition_matrix(point_spec, model_config):
    torch.manual_seed(0)
    model = GraphWaveNet(point_spec, model_config)
    adj = model.adaptive_adjacency()
    assert adj.shape == (point_spec.n_sensors, point_spec.n_sensors)
    torch.testing.assert_close(adj.sum(dim=1), torch.ones(point_spec.n_sensors))
    assert (adj >= 0).all()
    x, tod, dow = random_batch(point_spec)
    model(x, tod, dow).sum().backward()
    assert model.node_src.grad.abs().sum() > 0 and model.node_dst.grad.abs().sum() > 0
