"""A ranking of every sensor of a network, and `ranking.json`, read and written only here.

`RUN/ranking.json` is a list, most important sensor first, of
``{"index", "sensor_id", "rank", "score", "kept_in_fit"}`` (and ``"selection_frequency"`` and
``"silent_in_validation"`` when the ranking carries them): `index` is the sensor's position in
the dataset, `rank` runs 1..N, `score` is what the sensor is worth by the fit's drop criterion
(its saliency, or its gate magnitude ``|m|``) and `kept_in_fit` says whether the fit ended with
the sensor kept.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from dynst_cli.atomic import write_json
from dynst_cli.errors import InputError

ENTRY_KEYS = ("index", "sensor_id", "rank", "score", "kept_in_fit")


@dataclass(frozen=True)
class Ranking:
    """Every sensor of a network, most important first.

    Attributes
    ----------
    order : ndarray of int64, shape (N,)
        Sensor indices (positions in the dataset), most important first.
    scores : ndarray of float64, shape (N,)
        Score of each sensor, by sensor index (DynST: saliency or ``|m|``).
    kept : ndarray of bool, shape (N,) or None
        By sensor index: kept when the ranking was made (DynST: at the end of the fit).
    sensor_ids : tuple of str or None
        The network's sensor ids, by sensor index; needed to write JSON.
    selection_frequency : ndarray of float64, shape (N,) or None
        By sensor index: share of refits (seeds) that kept the sensor, in [0, 1].
    silent : ndarray of bool, shape (N,) or None
        By sensor index: no reading in the fit's validation period, so ranked last
        (`selection.silent`); None when the fit did not look.
    """

    order: np.ndarray
    scores: np.ndarray
    kept: np.ndarray | None = None
    sensor_ids: tuple[str, ...] | None = None
    selection_frequency: np.ndarray | None = None
    silent: np.ndarray | None = None

    def __post_init__(self) -> None:
        order = np.asarray(self.order, dtype=np.int64)
        n = order.size
        if order.ndim != 1 or (n and not np.array_equal(np.sort(order), np.arange(n))):
            raise ValueError("a ranking's order must be a permutation of the sensor indices")
        object.__setattr__(self, "order", order)
        object.__setattr__(self, "scores", _per_sensor(self.scores, n, np.float64, "scores"))
        object.__setattr__(self, "kept", _per_sensor(self.kept, n, bool, "kept"))
        frequency = _per_sensor(self.selection_frequency, n, np.float64, "selection_frequency")
        object.__setattr__(self, "selection_frequency", frequency)
        object.__setattr__(self, "silent", _per_sensor(self.silent, n, bool, "silent"))
        if self.sensor_ids is not None:
            ids = tuple(str(s) for s in self.sensor_ids)
            if len(ids) != n:
                raise ValueError(f"{len(ids)} sensor ids for a ranking of {n} sensors")
            object.__setattr__(self, "sensor_ids", ids)

    @property
    def n_sensors(self) -> int:
        return int(self.order.size)

    @property
    def rank(self) -> np.ndarray:
        """Rank of each sensor by index, 1 (most important) to N; ``rank[order[i]] == i + 1``."""
        rank = np.empty(self.n_sensors, dtype=np.int64)
        rank[self.order] = np.arange(1, self.n_sensors + 1)
        return rank

    def to_json(self) -> list[dict]:
        """The `ranking.json` records, most important sensor first."""
        if self.sensor_ids is None or self.kept is None:
            raise ValueError("a ranking needs sensor ids and keep flags to be written")
        rank = self.rank
        records = []
        for i in self.order:
            record = {
                "index": int(i),
                "sensor_id": self.sensor_ids[i],
                "rank": int(rank[i]),
                "score": float(self.scores[i]),
                "kept_in_fit": bool(self.kept[i]),
            }
            if self.selection_frequency is not None:
                record["selection_frequency"] = float(self.selection_frequency[i])
            if self.silent is not None:
                record["silent_in_validation"] = bool(self.silent[i])
            records.append(record)
        return records

    @classmethod
    def from_json(cls, records, where: str = "ranking") -> Ranking:
        """Parse `ranking.json` records; InputError naming `where` when they are not a ranking."""
        if not isinstance(records, list) or not all(isinstance(r, dict) for r in records):
            raise InputError(f"{where}: a ranking is a list of sensor records")
        for key in ENTRY_KEYS:
            if any(key not in r for r in records):
                raise InputError(f"{where}: a sensor record has no '{key}'")
        try:
            order = np.array([r["index"] for r in records], dtype=np.int64)
            n = order.size
            if n and not np.array_equal(np.sort(order), np.arange(n)):
                raise ValueError("'index' is not a permutation of 0..N-1")
            by_index = [records[k] for k in np.argsort(order)]
            frequency = None
            if records and all("selection_frequency" in r for r in records):
                frequency = [float(r["selection_frequency"]) for r in by_index]
            silent = None
            if records and all("silent_in_validation" in r for r in records):
                silent = [_flag(r["silent_in_validation"]) for r in by_index]
            return cls(
                order=order,
                scores=np.array([float(r["score"]) for r in by_index]),
                kept=np.array([bool(r["kept_in_fit"]) for r in by_index]),
                sensor_ids=tuple(str(r["sensor_id"]) for r in by_index),
                selection_frequency=frequency,
                silent=silent,
            )
        except (TypeError, ValueError) as exc:
            raise InputError(f"{where}: not a ranking of the network's sensors ({exc})") from None

    def write(self, path: str | os.PathLike) -> None:
        """Write `ranking.json` atomically."""
        write_json(path, self.to_json())

    @classmethod
    def read(cls, path: str | os.PathLike) -> Ranking:
        """Read `ranking.json`; InputError when it is missing or damaged."""
        path = Path(path)
        try:
            records = json.loads(path.read_text())
        except FileNotFoundError:
            raise InputError(f"{path} is missing") from None
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise InputError(f"{path} is damaged ({exc}); re-run `dynst fit`") from None
        return cls.from_json(records, str(path))


def _flag(value) -> bool:
    if not isinstance(value, bool):
        raise ValueError(f"'silent_in_validation' is {value!r}, not true or false")
    return value


def _per_sensor(values, n: int, dtype, name: str) -> np.ndarray | None:
    if values is None:
        return None
    array = np.asarray(values, dtype=dtype)
    if array.shape != (n,):
        raise ValueError(f"{name} must have shape ({n},), got {array.shape}")
    return array
