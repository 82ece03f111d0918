"""The regrow signals `mask.regrow_signal` names, and the probe each reads the dropped sensors with.

`gate` (the default) is the gate's own signal, accumulated by `SensorGate`, and needs no probe;
`residual` and `error` read each training step's forecast (`mask/residual.py`, `mask/error.py`).
"""

from __future__ import annotations

from dynst_cli.mask.error import ErrorProbe
from dynst_cli.mask.probe import RegrowProbe
from dynst_cli.mask.residual import ResidualProbe

PROBES: dict[str, type[RegrowProbe]] = {"residual": ResidualProbe, "error": ErrorProbe}


def regrow_probe(signal: str, n_sensors: int, device) -> RegrowProbe | None:
    """The probe `signal` reads dropped sensors with; None for the gate's signal."""
    return PROBES[signal](n_sensors, device) if signal in PROBES else None
