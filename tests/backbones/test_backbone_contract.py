"""The interface every registered backbone honours (DESIGN: Backbones; ARCHITECTURE)."""

from __future__ import annotations

import torch

from dynst_cli.backbones import build_backbone

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


def test_zeroed_sensors_values_do_not_matter(backbone_name, spec_for, model_config):
    spec = spec_for(backbone_name)
    model = _build(backbone_name, spec, model_config)
    x, tod, dow = random_batch(spec)
    other, _, _ = random_batch(spec, seed=7)
    # the caller zeroes the dropped sensors; whatever they held before must not leak through
    a = x.clone()
    b = other.clone()
    b[:, KEPT] = x[:, KEPT]
    dropped = torch.ones(N_SENSORS, dtype=torch.bool)
    dropped[KEPT] = False
    a[:, dropped] = 0.0
    b[:, dropped] = 0.0
    torch.testing.assert_close(model(a, tod, dow), model(b, tod, dow), rtol=0, atol=0)
    torch.testing.assert_close(
        model(x[:, KEPT], tod, dow, kept=KEPT), model(b[:, KEPT], tod, dow, kept=KEPT)
    )


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
