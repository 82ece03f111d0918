"""SimVP-style CNN for gridded datasets.

Follows Gao et al., "SimVP: Simpler yet Better Video Prediction", CVPR 2022: the history is one
image whose channels are the time steps and variables, a convolutional encoder downsamples it,
a translator of convolution blocks evolves it, and a decoder upsamples it back, with a skip
from the first encoder layer. Here the translator is plain 3x3 convolution + GroupNorm + SiLU
residual blocks rather than SimVP's inception modules (smaller, and enough on CPU-sized grids),
and time-of-day / day-of-week embeddings enter as a bias on the latent channels.

Shaped for the CPU (measured in `benchmarks/bench_backbones.py`): as in SimVP, where the spatial
encoder and decoder (`hid_S`) are narrower than the translator (`hid_T`), the full-resolution
layers have `hidden // 2` channels and only the translator, at half resolution, has `hidden`;
the full-resolution convolutions (the encoder's first layer, the decoder's upsampling and merge)
were three quarters of the cost at equal widths.

Sensors are scattered into their cells of the full `(H, W)` grid (zeros where no sensor, or a
dropped one, sits) and their forecasts gathered back, so every sensor gets a forecast.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from dynst_cli.backbones.common import CalendarEmbedding, scatter_kept
from dynst_cli.backbones.spec import BackboneSpec
from dynst_cli.config import ModelConfig


def conv_block(c_in: int, c_out: int, stride: int = 1) -> nn.Sequential:
    """3x3 convolution, GroupNorm (up to 8 groups), SiLU."""
    return nn.Sequential(
        nn.Conv2d(c_in, c_out, 3, stride=stride, padding=1),
        nn.GroupNorm(math.gcd(8, c_out), c_out),
        nn.SiLU(),
    )


class SimVP(nn.Module):
    """Encoder-translator-decoder CNN over the full grid.

    Parameters
    ----------
    spec : BackboneSpec
        Sizes; `spec.grid` (required) places each sensor in the `(H, W)` grid.
    model_config : ModelConfig
        `hidden` (translator channels; `hidden // 2` at full resolution), `embed` (calendar
        embeddings), `layers` (translator blocks).
    """

    needs_grid = True

    def __init__(self, spec: BackboneSpec, model_config: ModelConfig):
        super().__init__()
        if spec.grid is None:
            raise ValueError("SimVP needs a grid layout (spec.grid)")
        hidden = model_config.hidden
        spatial = max(1, hidden // 2)  # width of the full-resolution layers
        self.n_sensors, self.t_out, self.c_out = spec.n_sensors, spec.t_out, spec.c_out
        self.grid_shape = spec.grid.shape
        self.register_buffer("cells", torch.from_numpy(spec.grid.flat_index))  # (N,)
        self.enc_full = conv_block(spec.n_features, spatial)
        self.enc_down = conv_block(spatial, hidden, stride=2)
        self.calendar = CalendarEmbedding(spec.steps_per_day, model_config.embed)
        self.time_proj = nn.Linear(2 * model_config.embed, hidden)
        self.translator = nn.ModuleList(
            conv_block(hidden, hidden) for _ in range(model_config.layers)
        )
        self.dec_up = nn.Sequential(nn.Upsample(scale_factor=2), conv_block(hidden, spatial))
        self.dec_merge = conv_block(2 * spatial, spatial)
        self.head = nn.Conv2d(spatial, spec.t_out * spec.c_out, 1)

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
