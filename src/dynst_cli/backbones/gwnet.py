"""Graph WaveNet: gated dilated temporal convolutions with diffusion graph convolution.

Follows Wu et al., "Graph WaveNet for Deep Spatial-Temporal Graph Modeling", IJCAI 2019: a 1x1
start convolution, layers of gated (tanh * sigmoid) dilated temporal convolutions each followed
by a diffusion graph convolution over fixed transition matrices plus an adaptive adjacency
`softmax(relu(E1 E2^T))`, skip connections summed into two end layers.

Departures, and why: the temporal convolutions are causally left-padded so every layer keeps
all `t_in` steps and any depth fits any history length, and the end layers read the skip sum
of every step (flattened) rather than only the last one. Time-of-day and day-of-week enter as
learned embeddings added after the start convolution. The fixed graph is the distance kernel
for point sensors and the lattice for grids (`backbones/graph.py`). `kept` is served by
scattering the kept sensors into zeros; the graph mixes every sensor anyway, so no speedup.
"""

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


class GraphWaveNet(nn.Module):
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
