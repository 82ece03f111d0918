"""The interface every registered backbone honours (DESIGN: Backbones; ARCHITECTURE)."""

from __future__ import annotations

import pytest
import torch

from dynst_cli.backbones import build_backbone
from dynst_cli.model import ForecastModel

from .conftest import N_SENSORS, T_OUT, C, random_batch

KEPT = torch.tensor([0, 2, 3])


def _build(name, spec, model_config, seed=0):
    torch.manual_seed(seed)
    return build_backbone(name, spec, model_config)


def test_forecasts_every_sensor(backbone_name, spec_for, model_config):
    spec = spec_for(backbone_name)
    model = _build(backbone_name, spec, model_config)
    x, tod, dow = random_batch(spec)
    out = model(x, tod, dow)
    assert out.shape == (3, N_SENSORS, T_OUT, C)
    assert torch.isfinite(out).all()


def test_kept_input_equals_full_input_with_zeros(backbone_name, spec_for, model_config):
    spec = spec_for(backbone_name)
    model = _build(backbone_name, spec, model_config)
    x, tod, dow = random_batch(spec)
    zeroed = torch.zeros_like(x)
    zeroed[:, KEPT] = x[:, KEPT]
    full = model(zeroed, tod, dow)
    reduced = model(x[:, KEPT], tod, dow, kept=KEPT)
    assert reduced.shape == full.shape
    torch.testing.assert_close(reduced, full, rtol=1e-5, atol=1e-5)


def test_dropped_sensors_values_never_reach_the_forecast(backbone_name, spec_for, model_config):
    spec = spec_for(backbone_name)
    model = ForecastModel(_build(backbone_name, spec, model_config), N_SENSORS)
    keep = torch.zeros(N_SENSORS, dtype=torch.bool)
    keep[KEPT] = True
    model.gate.set_keep(keep, 0)
    x, tod, dow = random_batch(spec)
    window = x.reshape(3, N_SENSORS, spec.t_in, spec.c_in).permute(0, 2, 1, 3)  # (B, T, N, 2C)
    other = window.clone()
    other[:, :, ~keep] = (
        random_batch(spec, seed=7)[0]
        .reshape(3, N_SENSORS, spec.t_in, -1)[:, ~keep]
        .permute(0, 2, 1, 3)
    )
    other[:, 0, ~keep] = float("nan")  # not even NaN readings of a dropped sensor leak through
    assert not torch.equal(window, other)
    with torch.no_grad():
        forecast = model(window, tod, dow)
        torch.testing.assert_close(model(other, tod, dow), forecast, rtol=0, atol=0)
        reduced = model.forward_kept(window[:, :, KEPT], KEPT, tod, dow)
    torch.testing.assert_close(reduced, forecast, rtol=1e-5, atol=1e-5)


def test_gradient_reaches_parameters_and_dropped_inputs(backbone_name, spec_for, model_config):
    spec = spec_for(backbone_name)
    model = _build(backbone_name, spec, model_config)
    x, tod, dow = random_batch(spec)
    x[:, 1] = 0.0  # a gated-off sensor: DynST regrows from the gradient at its zero input
    x.requires_grad_(True)
    model(x, tod, dow).square().mean().backward()
    grads = [p.grad for p in model.parameters() if p.requires_grad]
    assert all(g is not None and torch.isfinite(g).all() for g in grads)
    assert sum(float(g.abs().sum()) for g in grads) > 0
    assert x.grad[:, 1].abs().sum() > 0


def test_init_is_deterministic_under_manual_seed(backbone_name, spec_for, model_config):
    spec = spec_for(backbone_name)
    first = _build(backbone_name, spec, model_config, seed=3).state_dict()
    second = _build(backbone_name, spec, model_config, seed=3).state_dict()
    assert first.keys() == second.keys()
    for key in first:
        torch.testing.assert_close(first[key], second[key], rtol=0, atol=0)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_the_cuda_forecast_equals_the_cpu_one(backbone_name, spec_for, model_config):
    spec = spec_for(backbone_name)
    model = _build(backbone_name, spec, model_config)
    x, tod, dow = random_batch(spec)
    expected = model(x, tod, dow)
    gpu = model.to("cuda")
    got = gpu(x.cuda(), tod.cuda(), dow.cuda(), kept=None).cpu()
    torch.testing.assert_close(got, expected, rtol=1e-3, atol=1e-3)
    reduced = gpu(x[:, KEPT].cuda(), tod.cuda(), dow.cuda(), kept=KEPT.cuda()).cpu()
    assert reduced.shape == expected.shape
