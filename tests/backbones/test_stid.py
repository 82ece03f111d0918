"""STID specifics: the bias-free encoder and a small fitting sanity check."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from dynst_cli.backbones import BackboneSpec, build_backbone
from dynst_cli.backbones.stid import BiasFreeEncoder
from dynst_cli.config import ModelConfig


def test_encoder_is_bias_free_and_maps_zero_to_zero():
    torch.manual_seed(0)
    encoder = BiasFreeEncoder(n_features=10, hidden=16, layers=3)
    assert all(not name.endswith("bias") for name, _ in encoder.named_parameters())
    out = encoder(torch.zeros(2, 5, 10))
    assert torch.equal(out, torch.zeros(2, 5, 16))


def _lagged_field(n_sensors: int, steps: int, seed: int = 0) -> np.ndarray:
    """Sensor 0 a random smooth signal; sensor j its copy delayed by j steps. (steps, N)."""
    rng = np.random.default_rng(seed)
    base = np.convolve(rng.standard_normal(steps + n_sensors + 8), np.ones(8) / 8, mode="same")
    base = (base - base.mean()) / base.std()
    return np.stack([base[n_sensors - j : n_sensors - j + steps] for j in range(n_sensors)], 1)


@pytest.mark.slow
def test_stid_learns_a_lagged_field_from_sensor_zero_only():
    torch.manual_seed(0)
    n, t_in, t_out = 4, 6, 2
    field = torch.from_numpy(_lagged_field(n, 400)).float()
    spec = BackboneSpec(n, t_in, t_out, 2, 1, 24, np.zeros(n), np.arange(n, dtype=float))
    model = build_backbone("stid", spec, ModelConfig(hidden=32, embed=8, layers=1))
    starts = torch.arange(0, 400 - t_in - t_out)
    hist = field[starts[:, None] + torch.arange(t_in)]  # (S, t_in, N)
    fut = field[starts[:, None] + t_in + torch.arange(t_out)]  # (S, t_out, N)
    # channels per step: the value and an all-observed indicator; feature index t*2 + c
    x = torch.stack([hist, torch.ones_like(hist)], dim=-1).permute(0, 2, 1, 3).flatten(2)
    y = fut.permute(0, 2, 1)[..., None]  # (S, N, t_out, 1)
    kept = torch.tensor([0])  # the other sensors are forecast from sensor 0 alone
    tod = torch.zeros(len(starts), dtype=torch.long)
    dow = torch.zeros_like(tod)
    opt = torch.optim.Adam(model.parameters(), lr=3e-3)

    def loss() -> torch.Tensor:
        return (model(x[:, kept], tod, dow, kept=kept) - y).square().mean()

    with torch.no_grad():
        start = loss().item()
    for _ in range(200):
        opt.zero_grad()
        step = loss()
        step.backward()
        opt.step()
    with torch.no_grad():
        end = loss().item()
    assert end < 0.3 * start
