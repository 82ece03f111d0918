"""Forecasting backbones: one module each, and the registry that builds them by name.

Every backbone is built as `cls(spec, model_config)` and has `forward(x, tod, dow, kept=None)`
taking the gated, morphed history `(B, N, t_in*c_in)` (or `(B, K, ...)` for the sorted sensor
indices `kept`, the rest counting as zeros) and returning the forecast of every sensor,
`(B, N, t_out, c_out)`. A class attribute `needs_grid` says whether it needs `spec.grid`.
Adding a backbone is one module and one line in `BACKBONES`.
"""

from __future__ import annotations

from torch import nn

from dynst_cli.backbones.gwnet import GraphWaveNet
from dynst_cli.backbones.simvp import SimVP
from dynst_cli.backbones.spec import BackboneSpec, GridLayout
from dynst_cli.backbones.stid import STID
from dynst_cli.config import ModelConfig
from dynst_cli.errors import UsageError

BACKBONES: dict[str, type[nn.Module]] = {
    "stid": STID,
    "gwnet": GraphWaveNet,
    "simvp": SimVP,
}

__all__ = ["BACKBONES", "BackboneSpec", "GridLayout", "build_backbone"]


def build_backbone(name: str, spec: BackboneSpec, model_config: ModelConfig) -> nn.Module:
    """Build the backbone registered as `name` for a dataset described by `spec`.

    Raises
    ------
    UsageError
        If `name` is not registered (the message lists the valid names), or the backbone
        needs a grid and the dataset has point sensors.
    """
    if name not in BACKBONES:
        raise UsageError(f"unknown backbone '{name}' (valid: {', '.join(sorted(BACKBONES))})")
    cls = BACKBONES[name]
    if getattr(cls, "needs_grid", False) and spec.grid is None:
        point_ok = sorted(k for k, c in BACKBONES.items() if not getattr(c, "needs_grid", False))
        raise UsageError(
            f"backbone '{name}' needs a gridded dataset (sensors with row/col on a grid), but "
            f"this dataset has point sensors; use one of: {', '.join(point_ok)}"
        )
    return cls(spec, model_config)
