"""Graph WaveNet: gated dilated temporal convolutions with diffusion graph convolution.

Follows Wu et al., "Graph WaveNet for Deep Spatial-Temporal Graph Modeling", IJCAI 2019: a start
layer, layers of gated (tanh * sigmoid) kernel-2 temporal convolutions with doubling dilations,
each followed by a diffusion graph convolution over fixed transition matrices plus an adaptive
adjacency learned from node embeddings, a residual connection cropped to the layer's output
steps, skip connections summed into two end layers.

Shaped for the CPU (the costs were measured in `benchmarks/bench_backbones.py`):

* **Only the steps the forecast reads are computed.** A causal stack of kernel-2 convolutions
  with dilations d, 2d, 4d, ... evaluated at the steps that feed the last one is the same stack
  with stride 2 at every layer. So the start layer is a temporal convolution of kernel and
  stride `p = ceil(t_in / 2**layers)` (the first dilation), and every gated layer halves the
  steps (left zero padding where odd): at `t_in = 12` with 2 layers the layers see 2 and 1 steps
  instead of 12 and 12. Each layer's skip reads all of its steps, so the end layers see the
  whole history.
* **Sensors first.** Features are held as `(N, B, T, C)`: the channel mixes are plain matrix
  products over the last axis, a kernel-2 stride-2 convolution is a reshape of adjacent steps
  into channels, and a diffusion step is one `(N, N) @ (N, B*T*C)` product, all without copies.
* **A low-rank adaptive adjacency.** `softmax(relu(E1 E2^T))` costs `N` multiply-adds per
  sensor and channel at every hop; here the adaptive transition matrix is `P Q^T` with
  `P = softmax(E1)` over its `r = embed` columns and `Q = softmax(E2)` over sensors, still
  learned from node embeddings and row-stochastic, applied as `P (Q^T x)` at `2r` per entry.

Time-of-day and day-of-week enter as learned embeddings added after the start layer. The
fixed graph is the distance kernel for point sensors and the lattice for grids
(`backbones/graph.py`). `kept` is served by scattering the kept sensors into zeros; the graph
mixes every sensor anyway, so no speedup.
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


def start_stride(t_in: int, layers: int) -> int:
    """Steps per start patch: `ceil(t_in / 2**layers)`, so the last layer ends at one step."""
    return max(1, math.ceil(t_in / 2 ** max(0, layers)))


def layer_steps(t_in: int, layers: int) -> list[int]:
    """Steps each gated layer outputs: the start's `ceil(t_in / p)`, halved (rounding up)."""
    steps, out = math.ceil(t_in / start_stride(t_in, layers)), []
    for _ in range(layers):
        steps = math.ceil(steps / 2)
        out.append(steps)
    return out


class GatedGraphLayer(nn.Module):
    """One Graph WaveNet layer: gated stride-2 temporal conv, diffusion conv, residual, skip.

    Parameters
    ----------
    channels : int
        Residual and dilation width C.
    n_supports : int
        Transition matrices the diffusion runs over (fixed ones plus the adaptive one).
    steps_out : int
        Steps this layer outputs; its skip reads all of them.
    skip_channels : int
        Width of the skip contribution.
    """

    def __init__(self, channels: int, n_supports: int, steps_out: int, skip_channels: int):
        super().__init__()
        # kernel 2 over the steps (t-1, t) of each pair: a linear map of the two concatenated
        self.temporal = nn.Linear(2 * channels, 2 * channels)
        self.mix = nn.Linear(channels * (1 + DIFFUSION_ORDER * n_supports), channels)
        self.skip = nn.Linear(steps_out * channels, skip_channels)

    def forward(self, x: torch.Tensor, hops: list) -> tuple[torch.Tensor, torch.Tensor]:
        """`(N, B, T, C)` -> (residual output `(N, B, ceil(T/2), C)`, skip `(N, B, C)`).

        `hops` are functions `(N, M) -> (N, M)`, one transition matrix applied to every column.
        """
        n, b, t, c = x.shape
        if t % 2:  # causal: a missing earlier step counts as zeros
            x = F.pad(x, (0, 0, 1, 0))
            t += 1
        filt, gate = self.temporal(x.reshape(n, b, t // 2, 2 * c)).chunk(2, dim=-1)
        h = torch.tanh(filt) * torch.sigmoid(gate)  # (N, B, T/2, C)
        terms = [h]
        for hop in hops:
            z = h.reshape(n, -1)
            for _ in range(DIFFUSION_ORDER):
                z = hop(z)
                terms.append(z.view_as(h))
        spatial = self.mix(torch.cat(terms, dim=-1))
        # the residual keeps the later step of each pair, as WaveNet crops it to the output;
        # the skip reads the diffused features, so the last graph convolution reaches the output
        return x[:, :, 1::2] + spatial, self.skip(spatial.reshape(n, b, -1))


class GraphWaveNet(nn.Module):
    """Graph WaveNet over the sensor graph, forecasting every sensor.

    Parameters
    ----------
    spec : BackboneSpec
        Sizes and geometry; the fixed graph comes from `spec.grid` if set, else from lat/lon.
    model_config : ModelConfig
        `hidden` (skip and end width; the residual and dilation channels are `hidden // 2`, the
        paper's residual channels being narrower than its skip and end ones), `embed` (rank of
        the adaptive adjacency, calendar embeddings),
        `layers` (gated graph layers), `graph_k` (neighbours of the distance kernel).
    """

    needs_grid = False

    def __init__(self, spec: BackboneSpec, model_config: ModelConfig):
        super().__init__()
        n, hidden, embed = spec.n_sensors, model_config.hidden, model_config.embed
        channels = max(1, hidden // 2)
        self.n_sensors, self.t_in, self.c_in = n, spec.t_in, spec.c_in
        self.t_out, self.c_out = spec.t_out, spec.c_out
        layers = max(1, model_config.layers)
        self.stride = start_stride(spec.t_in, layers)
        self.start_steps = math.ceil(spec.t_in / self.stride)
        if spec.grid is not None:
            adj = lattice_adjacency(spec.grid.rows, spec.grid.cols)
        else:
            adj = distance_kernel_adjacency(spec.lat, spec.lon, model_config.graph_k)
        fixed = torch.from_numpy(np.stack(transition_matrices(adj))).float()
        self.register_buffer("fixed_supports", fixed)  # (S, N, N)
        self.node_src = nn.Parameter(torch.randn(n, embed))
        self.node_dst = nn.Parameter(torch.randn(n, embed))
        self.start = nn.Linear(self.stride * spec.c_in, channels)
        self.calendar = CalendarEmbedding(spec.steps_per_day, embed)
        self.time_proj = nn.Linear(2 * embed, channels)
        n_supports = fixed.shape[0] + 1
        self.layers = nn.ModuleList(
            GatedGraphLayer(channels, n_supports, steps, hidden)
            for steps in layer_steps(spec.t_in, layers)
        )
        self.end = nn.Sequential(
            nn.ReLU(),
            nn.Linear(hidden, 2 * hidden),
            nn.ReLU(),
            nn.Linear(2 * hidden, spec.t_out * spec.c_out),
        )

    def adaptive_factors(self) -> tuple[torch.Tensor, torch.Tensor]:
        """`P (N, r)` with rows summing to 1 and `Q (N, r)` with columns summing to 1.

        The adaptive transition matrix is `P Q^T`: row-stochastic, rank at most r.
        """
        return torch.softmax(self.node_src, dim=1), torch.softmax(self.node_dst, dim=0)

    def adaptive_adjacency(self) -> torch.Tensor:
        """The `(N, N)` adaptive transition matrix `P Q^T` (for inspection; never formed in
        training)."""
        p, q = self.adaptive_factors()
        return p @ q.T

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
        # causal left padding to whole start patches; a patch of steps is one row of features
        x = F.pad(x, (self.start_steps * self.stride * self.c_in - x.shape[2], 0))
        patches = x.view(b, self.n_sensors, self.start_steps, self.stride * self.c_in)
        h = self.start(patches).permute(1, 0, 2, 3).contiguous()  # (N, B, T0, C)
        h = h + self.time_proj(self.calendar(tod, dow))[None, :, None, :]
        p, q = self.adaptive_factors()
        hops = [lambda z, a=a: a @ z for a in self.fixed_supports]
        hops.append(lambda z: p @ (q.T @ z))
        skip = 0
        for layer in self.layers:
            h, s = layer(h, hops)
            skip = skip + s
        out = self.end(skip)  # (N, B, t_out*c_out)
        return out.permute(1, 0, 2).reshape(b, self.n_sensors, self.t_out, self.c_out)
