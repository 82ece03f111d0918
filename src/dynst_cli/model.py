"""The forecaster DynST trains: the sensor gate in front of a backbone.

Input batches arrive as (B, T_in, N, 2C) windows; the stream morph folds time and channels into
each sensor's features, the gate multiplies every sensor's features by its gate value `b*m`,
and the backbone forecasts every sensor, returned as (B, T_out, N, C).
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from dynst_cli.backbones import build_backbone
from dynst_cli.backbones.spec import BackboneSpec, GridLayout
from dynst_cli.config import ModelConfig
from dynst_cli.mask import SensorGate, morph_graph


class ForecastModel(nn.Module):
    """Gate + backbone; one module so that DDP averages the gradients of both."""

    def __init__(self, backbone: nn.Module, n_sensors: int):
        super().__init__()
        self.gate = SensorGate(n_sensors)
        self.backbone = backbone

    def forward(self, x: torch.Tensor, tod: torch.Tensor, dow: torch.Tensor) -> torch.Tensor:
        """x (B, T_in, N, 2C) -> forecast (B, T_out, N, C) of every sensor."""
        gated = self.gate(morph_graph(x))
        return self.backbone(gated, tod, dow).permute(0, 2, 1, 3)

    def forward_kept(
        self, x_kept: torch.Tensor, kept: torch.Tensor, tod: torch.Tensor, dow: torch.Tensor
    ) -> torch.Tensor:
        """Forecast every sensor from the kept sensors' history alone.

        x_kept (B, T_in, K, 2C) holds only the sensors `kept` (sorted indices); the others are
        never read, and the result equals `forward` with them switched off.
        """
        return self.forecast_gated(self.gate_kept(x_kept, kept), kept, tod, dow)

    def gate_kept(self, x_kept: torch.Tensor, kept: torch.Tensor) -> torch.Tensor:
        """The backbone's input (B, K, F) from the kept sensors' history (B, T_in, K, 2C)."""
        return self.gate.forward_subset(morph_graph(x_kept), kept)

    def forecast_gated(
        self, gated: torch.Tensor, kept: torch.Tensor, tod: torch.Tensor, dow: torch.Tensor
    ) -> torch.Tensor:
        """Forecast (B, T_out, N, C) of every sensor from the gated kept sensors (`gate_kept`)."""
        return self.backbone(gated, tod, dow, kept=kept).permute(0, 2, 1, 3)


def backbone_spec(network, t_in: int, t_out: int, steps_per_day: int) -> BackboneSpec:
    """What a backbone needs to know about the network (input has C values + C indicators).

    `network` is the training data (`SensorData`) or a trained model's `ModelBundle`: anything
    with `n_sensors`, `n_channels`, `lat`, `lon` and, when `is_grid`, `rows`, `cols`,
    `grid_shape`.
    """
    grid = None
    if network.is_grid:
        grid = GridLayout(rows=network.rows, cols=network.cols, shape=network.grid_shape)
    return BackboneSpec(
        n_sensors=network.n_sensors,
        t_in=t_in,
        t_out=t_out,
        c_in=2 * network.n_channels,
        c_out=network.n_channels,
        steps_per_day=steps_per_day,
        lat=np.asarray(network.lat, dtype=np.float64),
        lon=np.asarray(network.lon, dtype=np.float64),
        grid=grid,
    )


def build_model(spec: BackboneSpec, model_config: ModelConfig) -> ForecastModel:
    return ForecastModel(build_backbone(model_config.backbone, spec, model_config), spec.n_sensors)
