"""The gwnet and simvp backbones as they were before their CPU reshaping (commit 5a44470), kept
only so that `bench_backbones.py` can measure before against after in one run."""

from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from dynst_cli.backbones.common import CalendarEmbedding, scatter_kept
from dynst_cli.backbones.graph import (
    distance_kernel_adjacency,
    lattice_adjacency,
    transition_matrices,
)
from dynst_cli.backbones.spec import BackboneSpec
from dynst_cli.config import ModelConfig

DIFFUSION_ORDER = 2  # powers A, A^2 of each transition matrix, as in Graph WaveNet


def dilation_schedule(t_in: int, layers: int) -> list[int]:
    """Dilations 1, 2, 4, ... restarting at 1 once they would reach `t_in`."""
    n_pow = max(1, math.ceil(math.log2(t_in))) if t_in > 1 else 1
    return [2 ** (i % n_pow) for i in range(layers)]


def diffuse(x: torch.Tensor, adj: torch.Tensor) -> torch.Tensor:
    """`(B, C, T, N)` features -> `sum_j adj[i, j] x[..., j]` at every sensor i.

    Sensors are the last axis so that this is one matrix product without copies.
    """
    return x @ adj.T


class GatedGraphLayer(nn.Module):
    """One Graph WaveNet layer: gated dilated temporal conv, diffusion conv, skip out, residual.

    Parameters
    ----------
    channels : int
        Residual, dilation and skip width.
    dilation : int
        Temporal dilation of the kernel-2 convolution.
    n_supports : int
        Adjacency matrices the diffusion runs over (fixed ones plus the adaptive one).
    """

    def __init__(self, channels: int, dilation: int, n_supports: int):
        super().__init__()
        self.dilation = dilation
        self.temporal = nn.Conv2d(channels, 2 * channels, (2, 1), dilation=(dilation, 1))
        self.skip = nn.Conv2d(channels, channels, 1)
        self.mix = nn.Conv2d(channels * (1 + DIFFUSION_ORDER * n_supports), channels, 1)

    def forward(
        self, x: torch.Tensor, supports: list[torch.Tensor]
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """`(B, C, T, N)` -> (residual output, skip contribution), both `(B, C, T, N)`."""
        # left padding keeps the convolution causal and the length at T
        filt, gate = self.temporal(F.pad(x, (0, 0, self.dilation, 0))).chunk(2, dim=1)
        h = torch.tanh(filt) * torch.sigmoid(gate)
        terms = [h]
        for adj in supports:
            hop = h
            for _ in range(DIFFUSION_ORDER):
                hop = diffuse(hop, adj)
                terms.append(hop)
        # the skip reads the diffused features (Graph WaveNet reads them before the diffusion),
        # so the last layer's graph convolution also reaches the output
        spatial = self.mix(torch.cat(terms, dim=1))
        return x + spatial, self.skip(spatial)


class LegacyGraphWaveNet(nn.Module):
    """Graph WaveNet over the sensor graph, forecasting every sensor.

    Parameters
    ----------
    spec : BackboneSpec
        Sizes and geometry; the fixed graph comes from `spec.grid` if set, else from lat/lon.
    model_config : ModelConfig
        `hidden` (channel width), `embed` (adaptive-adjacency and calendar embeddings),
        `layers` (gated graph layers), `graph_k` (neighbours of the distance kernel).
    """

    needs_grid = False

    def __init__(self, spec: BackboneSpec, model_config: ModelConfig):
        super().__init__()
        n, hidden, embed = spec.n_sensors, model_config.hidden, model_config.embed
        self.n_sensors, self.t_in, self.c_in = n, spec.t_in, spec.c_in
        self.t_out, self.c_out = spec.t_out, spec.c_out
        if spec.grid is not None:
            adj = lattice_adjacency(spec.grid.rows, spec.grid.cols)
        else:
            adj = distance_kernel_adjacency(spec.lat, spec.lon, model_config.graph_k)
        fixed = torch.from_numpy(np.stack(transition_matrices(adj))).float()
        self.register_buffer("fixed_supports", fixed)  # (S, N, N)
        self.node_src = nn.Parameter(torch.randn(n, embed))
        self.node_dst = nn.Parameter(torch.randn(n, embed))
        self.start = nn.Conv2d(spec.c_in, hidden, 1)
        self.calendar = CalendarEmbedding(spec.steps_per_day, embed)
        self.time_proj = nn.Linear(2 * embed, hidden)
        n_supports = fixed.shape[0] + 1
        self.layers = nn.ModuleList(
            GatedGraphLayer(hidden, d, n_supports)
            for d in dilation_schedule(spec.t_in, model_config.layers)
        )
        self.end = nn.Sequential(
            nn.ReLU(),
            nn.Linear(hidden * spec.t_in, 2 * hidden),
            nn.ReLU(),
            nn.Linear(2 * hidden, spec.t_out * spec.c_out),
        )

    def adaptive_adjacency(self) -> torch.Tensor:
        """`(N, N)` learned transition matrix `softmax(relu(E1 E2^T))`, rows summing to 1."""
        return torch.softmax(torch.relu(self.node_src @ self.node_dst.T), dim=1)

    def forward(
        self,
        x: torch.Tensor,
        tod: torch.Tensor,
        dow: torch.Tensor,
        kept: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """Forecast every sensor.

        Parameters
        ----------
        x : torch.Tensor, shape (B, N, F) or (B, K, F)
            Gated, morphed history, `F = t_in * c_in`, feature index `t*c_in + c`.
        tod, dow : torch.LongTensor, shape (B,)
            Time-of-day bin of the last input step and day of week (Monday = 0).
        kept : torch.LongTensor, shape (K,), optional
            Sorted indices of the sensors in `x`; the rest count as zeros.

        Returns
        -------
        torch.Tensor, shape (B, N, t_out, c_out)
        """
        x = scatter_kept(x, kept, self.n_sensors)
        b = x.shape[0]
        # (B, N, T*C) -> (B, C, T, N): channels first for the convolutions, sensors last
        h = x.view(b, self.n_sensors, self.t_in, self.c_in).permute(0, 3, 2, 1)
        h = self.start(h) + self.time_proj(self.calendar(tod, dow))[:, :, None, None]
        supports = [*self.fixed_supports, self.adaptive_adjacency()]
        skip = 0
        for layer in self.layers:
            h, s = layer(h, supports)
            skip = skip + s
        # (B, C, T, N) -> (B, N, T*C): every step's skip features feed the end layers
        feats = skip.permute(0, 3, 2, 1).reshape(b, self.n_sensors, -1)
        return self.end(feats).view(b, self.n_sensors, self.t_out, self.c_out)


def conv_block(c_in: int, c_out: int, stride: int = 1) -> nn.Sequential:
    """3x3 convolution, GroupNorm (up to 8 groups), SiLU."""
    return nn.Sequential(
        nn.Conv2d(c_in, c_out, 3, stride=stride, padding=1),
        nn.GroupNorm(math.gcd(8, c_out), c_out),
        nn.SiLU(),
    )


class LegacySimVP(nn.Module):
    """Encoder-translator-decoder CNN over the full grid.

    Parameters
    ----------
    spec : BackboneSpec
        Sizes; `spec.grid` (required) places each sensor in the `(H, W)` grid.
    model_config : ModelConfig
        `hidden` (channels), `embed` (calendar embeddings), `layers` (translator blocks).
    """

    needs_grid = True

    def __init__(self, spec: BackboneSpec, model_config: ModelConfig):
        super().__init__()
        if spec.grid is None:
            raise ValueError("SimVP needs a grid layout (spec.grid)")
        hidden = model_config.hidden
        self.n_sensors, self.t_out, self.c_out = spec.n_sensors, spec.t_out, spec.c_out
        self.grid_shape = spec.grid.shape
        self.register_buffer("cells", torch.from_numpy(spec.grid.flat_index))  # (N,)
        self.enc_full = conv_block(spec.n_features, hidden)
        self.enc_down = conv_block(hidden, hidden, stride=2)
        self.calendar = CalendarEmbedding(spec.steps_per_day, model_config.embed)
        self.time_proj = nn.Linear(2 * model_config.embed, hidden)
        self.translator = nn.ModuleList(
            conv_block(hidden, hidden) for _ in range(model_config.layers)
        )
        self.dec_up = nn.Sequential(nn.Upsample(scale_factor=2), conv_block(hidden, hidden))
        self.dec_merge = conv_block(2 * hidden, hidden)
        self.head = nn.Conv2d(hidden, spec.t_out * spec.c_out, 1)

    def forward(
        self,
        x: torch.Tensor,
        tod: torch.Tensor,
        dow: torch.Tensor,
        kept: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """Forecast every sensor.

        Parameters
        ----------
        x : torch.Tensor, shape (B, N, F) or (B, K, F)
            Gated, morphed history, `F = t_in * c_in`, feature index `t*c_in + c`.
        tod, dow : torch.LongTensor, shape (B,)
            Time-of-day bin of the last input step and day of week (Monday = 0).
        kept : torch.LongTensor, shape (K,), optional
            Sorted indices of the sensors in `x`; the rest count as zeros.

        Returns
        -------
        torch.Tensor, shape (B, N, t_out, c_out)
        """
        x = scatter_kept(x, kept, self.n_sensors)
        b, _, f = x.shape
        h_img, w_img = self.grid_shape
        # (B, N, F) -> (B, F, H*W) -> (B, F, H, W): time steps and variables become channels
        img = x.new_zeros(b, f, h_img * w_img).index_copy(2, self.cells, x.transpose(1, 2))
        img = img.view(b, f, h_img, w_img)
        skip = self.enc_full(img)
        z = self.enc_down(skip) + self.time_proj(self.calendar(tod, dow))[:, :, None, None]
        for block in self.translator:
            z = z + block(z)
        up = self.dec_up(z)[:, :, :h_img, :w_img]  # odd sizes round up when downsampled
        out = self.head(self.dec_merge(torch.cat([up, skip], dim=1)))  # (B, T_out*C_out, H, W)
        out = out.flatten(2)[:, :, self.cells]  # (B, T_out*C_out, N)
        return out.transpose(1, 2).reshape(b, self.n_sensors, self.t_out, self.c_out)
