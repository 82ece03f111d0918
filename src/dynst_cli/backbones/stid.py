"""STID with spatial mixing: the fast CPU default backbone.

Follows STID (Shao et al., "Spatial-Temporal Identity: A Simple yet Effective Baseline for
Multivariate Time Series Forecasting", CIKM 2022): a per-sensor MLP over the flattened history
with sensor, time-of-day and day-of-week embeddings. STID forecasts every sensor from its own
history only, which cannot forecast a switched-off sensor, so this version adds a low-rank
mixing across sensors between a bias-free encoder and the decoder.

Why it is shaped this way:

* The encoder has no biases and an activation with `act(0) = 0`, so a gated-off sensor (exact
  zeros) encodes to exactly zero and contributes nothing to any forecast. GELU rather than ReLU:
  its slope at 0 is 1/2, so the loss still has a gradient with respect to a dropped sensor's
  input, which is the regrow signal of DynST.
* With `kept`, only the K kept sensors are encoded and the encoder holds the residual blocks
  (`model_config.layers`), so it is the dominant cost and compute falls about in proportion to K.
* The decoder's first layer is linear in `[h_i, ctx_i, e_i, tod, dow]`, so it is split by input:
  the sensor-embedding term is computed once per forward, the calendar term once per sample,
  the mixing `ctx = U (V^T h)` is projected at rank r before `U` spreads it over N sensors, and
  the `h_i` term exists only for kept sensors.
"""

from __future__ import annotations

import torch
from torch import nn

from dynst_cli.backbones.common import CalendarEmbedding
from dynst_cli.backbones.spec import BackboneSpec
from dynst_cli.config import ModelConfig


class BiasFreeEncoder(nn.Module):
    """Per-sensor MLP `(B, K, F) -> (B, K, H)` without biases, so zeros map to zeros.

    A linear embedding followed by `layers` residual blocks `h + W2 gelu(W1 h)` (STID's block).
    """

    def __init__(self, n_features: int, hidden: int, layers: int):
        super().__init__()
        self.embed = nn.Linear(n_features, hidden, bias=False)
        self.blocks = nn.ModuleList(
            nn.Sequential(
                nn.Linear(hidden, hidden, bias=False),
                nn.GELU(),
                nn.Linear(hidden, hidden, bias=False),
            )
            for _ in range(layers)
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.embed(x)
        for block in self.blocks:
            h = h + block(h)
        return h


class STID(nn.Module):
    """STID-style MLP with sensor identity, calendar embeddings and low-rank spatial mixing.

    Parameters
    ----------
    spec : BackboneSpec
        Sizes of the dataset.
    model_config : ModelConfig
        `hidden` (encoder and decoder width), `embed` (sensor and calendar embeddings, and the
        rank r of the mixing), `layers` (residual blocks of the encoder).
    """

    needs_grid = False

    def __init__(self, spec: BackboneSpec, model_config: ModelConfig):
        super().__init__()
        n, hidden, embed = spec.n_sensors, model_config.hidden, model_config.embed
        self.n_sensors, self.t_out, self.c_out = n, spec.t_out, spec.c_out
        self.encoder = BiasFreeEncoder(spec.n_features, hidden, model_config.layers)
        # ctx = U (V^T h): V pools the kept encodings into r summaries, U reads them per sensor;
        # V's scale keeps the pooled sum O(1) whatever N is
        self.mix_v = nn.Parameter(torch.randn(n, embed) / n**0.5)
        self.mix_u = nn.Parameter(torch.randn(n, embed) / embed**0.5)
        self.sensor_emb = nn.Parameter(torch.randn(n, embed) * 0.1)
        self.calendar = CalendarEmbedding(spec.steps_per_day, embed)
        self.dec_h = nn.Linear(hidden, hidden, bias=False)
        self.dec_ctx = nn.Linear(hidden, hidden, bias=False)
        self.dec_sensor = nn.Linear(embed, hidden)  # carries the decoder's only hidden bias
        self.dec_time = nn.Linear(2 * embed, hidden, bias=False)
        self.act = nn.GELU()
        self.dec_out = nn.Linear(hidden, spec.t_out * spec.c_out)

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
            Gated, morphed history, `F = t_in * c_in`, feature index `t*c_in + c`; only the
            kept sensors' rows when `kept` is given.
        tod, dow : torch.LongTensor, shape (B,)
            Time-of-day bin of the last input step and day of week (Monday = 0).
        kept : torch.LongTensor, shape (K,), optional
            Sorted indices of the sensors in `x`; the rest count as zeros.

        Returns
        -------
        torch.Tensor, shape (B, N, t_out, c_out)
        """
        h = self.encoder(x)  # (B, K, H): the cost that scales with K
        v = self.mix_v if kept is None else self.mix_v[kept]
        pooled = self.dec_ctx(torch.einsum("bkh,kr->brh", h, v))  # (B, r, H)
        base = self.dec_sensor(self.sensor_emb) + self.dec_time(self.calendar(tod, dow))[:, None]
        # base + U pooled in one pass over (B, N, H); elementwise passes over all N sensors are
        # what the kept-only path cannot save, so the decoder keeps them few
        z = torch.baddbmm(base, self.mix_u.expand(x.shape[0], -1, -1), pooled)
        own = self.dec_h(h)
        z = z.add_(own) if kept is None else z.index_add_(1, kept, own)
        out = self.dec_out(self.act(z))
        return out.view(x.shape[0], self.n_sensors, self.t_out, self.c_out)
