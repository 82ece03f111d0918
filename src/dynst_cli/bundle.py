"""The trained-model bundle (`RUN/model.pt`): a typed, versioned object, written and read here.

The bundle holds all `prune` and `predict` need besides data: the gate and backbone weights, the
training scaler and the network description. It is saved with `torch.save` as a dict of plain
values and tensors (so `torch.load(weights_only=True)` reads it), keys in the order of the fields.

Versions: 1 is the layout `dynst` has always written, which carries no `version` key; a later
layout writes its number under `version`, and a bundle of a version this `dynst` does not know is
refused as bad input (exit 3) rather than misread.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from dynst_cli.errors import InputError
from dynst_cli.run import MODEL, RunDir

VERSION = 1
KNOWN_VERSIONS = (1,)


@dataclass
class ModelBundle:
    """What `fit` leaves for `prune` and `predict`.

    Attributes
    ----------
    model : dict
        `ForecastModel.state_dict()`: gate (scores, keep, ...) and backbone weights.
    scaler : dict
        `StandardScaler.state()` fitted on the training period.
    sensor_ids : list of str, length N
    lat, lon : list of float, length N
        Degrees, WGS84.
    rows, cols : list of int, length N, or None
        Grid cell of each sensor (gridded networks only).
    grid_shape : list of int [H, W] or None
    variables : list of str
        Channel names, C of them; `units` maps each to its units.
    units : dict of str
    step_seconds : int
        Time step of the training data.
    version : int
        Layout version (module docstring).
    """

    model: dict
    scaler: dict
    sensor_ids: list[str]
    lat: list[float]
    lon: list[float]
    rows: list[int] | None
    cols: list[int] | None
    grid_shape: list[int] | None
    variables: list[str]
    units: dict[str, str]
    step_seconds: int
    version: int = VERSION

    @classmethod
    def from_training(cls, model_state: dict, scaler_state: dict, data) -> ModelBundle:
        """The bundle of a model trained on `data` (a `SensorData`)."""
        return cls(
            model=model_state,
            scaler=scaler_state,
            sensor_ids=data.sensor_ids.tolist(),
            lat=data.lat.tolist(),
            lon=data.lon.tolist(),
            rows=None if data.rows is None else data.rows.tolist(),
            cols=None if data.cols is None else data.cols.tolist(),
            grid_shape=None if data.grid_shape is None else list(data.grid_shape),
            variables=data.variables,
            units=data.units,
            step_seconds=data.step_seconds(),
        )

    # The network as `model.backbone_spec` reads it (the same attributes as `SensorData`).

    @property
    def n_sensors(self) -> int:
        return len(self.sensor_ids)

    @property
    def n_channels(self) -> int:
        return len(self.variables)

    @property
    def is_grid(self) -> bool:
        return self.grid_shape is not None

    def to_dict(self) -> dict:
        """The saved dict: the fields in order, `version` only from version 2 on."""
        record = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}
        if record["version"] == 1:
            del record["version"]
        return record

    @classmethod
    def from_dict(cls, record: object, where: str) -> ModelBundle:
        """Check a loaded dict against the layout; InputError naming `where` if it does not fit."""
        if not isinstance(record, dict):
            raise InputError(f"{where} is not a dynst model bundle")
        version = record.get("version", 1)
        if version not in KNOWN_VERSIONS:
            raise InputError(
                f"{where} is a model bundle of version {version!r}; this dynst reads version "
                f"{', '.join(map(str, KNOWN_VERSIONS))} (upgrade dynst, or fit the run again)"
            )
        names = [f.name for f in dataclasses.fields(cls) if f.name != "version"]
        missing = [name for name in names if name not in record]
        if missing:
            raise InputError(f"{where} is not a complete model bundle: no {', '.join(missing)}")
        return cls(**{name: record[name] for name in names}, version=version)

    def save(self, run: RunDir, name: str = MODEL) -> None:
        """Write the bundle into the run, atomically and byte-reproducibly."""
        run.save_torch(name, self.to_dict())

    @classmethod
    def load(cls, run: RunDir, name: str = MODEL) -> ModelBundle:
        """Read the run's bundle; InputError when it is missing, damaged or of another layout."""
        return cls.from_dict(run.load_torch(name), str(run.file(name)))
