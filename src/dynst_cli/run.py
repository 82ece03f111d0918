"""The run directory `fit` writes and `prune`, `predict` and `compare` read.

    RUN/config.json      resolved configuration, dataset path and sha256, constraints
    RUN/checkpoint.pt    everything needed to continue (`fit --resume`), rewritten every epoch
    RUN/model.pt         the final gate and backbone, the scaler and the network description
    RUN/ranking.json     every sensor's rank, score and keep flag
    RUN/metrics.json     validation and test metrics of the dense warm-up and the sparse model
    RUN/history.json     one record per epoch
    RUN/timings.json     wall-clock times (kept apart so that the files above are reproducible)

Every file is written atomically; a damaged or truncated file is reported as bad input (exit 3).
"""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import torch

from dynst_cli.atomic import write_bytes, write_json
from dynst_cli.errors import InputError, UsageError

CONFIG = "config.json"
CHECKPOINT = "checkpoint.pt"
MODEL = "model.pt"
RANKING = "ranking.json"
METRICS = "metrics.json"
HISTORY = "history.json"
TIMINGS = "timings.json"
FIT_FILES = (CONFIG, CHECKPOINT, MODEL, RANKING, METRICS, HISTORY, TIMINGS)


class RunDir:
    """Paths and atomic reads/writes of one run directory."""

    def __init__(self, path: str | Path):
        self.path = Path(path)

    def file(self, name: str) -> Path:
        return self.path / name

    def exists(self) -> bool:
        return self.file(CONFIG).is_file()

    def require(self) -> RunDir:
        """Raise a usage error unless this is a run directory with a finished model."""
        if self.path.exists() and not self.path.is_dir():
            raise UsageError(
                f"{self.path} is a file, not a run directory: give the folder `dynst fit -o` wrote"
            )
        if not self.path.is_dir():
            raise UsageError(
                f"run directory {self.path} does not exist (create it with `dynst fit`)"
            )
        for name in (CONFIG, MODEL, RANKING):
            if not self.file(name).is_file():
                raise UsageError(
                    f"{self.path} is not a finished dynst run: {name} is missing "
                    "(run `dynst fit`, or `dynst fit --resume` to finish an interrupted one)"
                )
        return self

    def write_json(self, name: str, obj: Any) -> None:
        write_json(self.file(name), obj)

    def read_json(self, name: str) -> Any:
        path = self.file(name)
        try:
            return json.loads(path.read_text())
        except FileNotFoundError:
            raise InputError(f"{path} is missing") from None
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise InputError(f"{path} is damaged ({exc}); re-run `dynst fit`") from None

    def save_torch(self, name: str, obj: Any) -> None:
        """Save `obj` with torch.save, atomically and byte-reproducibly.

        Serialised through memory: torch names the records inside the zip after the file it
        writes to, so saving straight to a random temporary name would change the bytes.
        Writing the checkpoint (fit, the only writer of a run's own files) also removes the
        temporary files a killed fit left behind.
        """
        if name == CHECKPOINT:
            self.remove_stale_temporaries()
        buffer = io.BytesIO()
        torch.save(obj, buffer)
        write_bytes(self.file(name), buffer.getvalue())

    def remove_stale_temporaries(self) -> list[Path]:
        """Remove `.NAME.*` files of the fit's own outputs that an earlier, killed fit left."""
        stale = [
            path for name in FIT_FILES for path in self.path.glob(f".{name}.*") if path.is_file()
        ]
        for path in stale:
            path.unlink(missing_ok=True)
        return stale

    def load_torch(self, name: str) -> Any:
        path = self.file(name)
        if not path.is_file():
            raise InputError(f"{path} is missing")
        try:
            # Our own files hold numpy-free plain objects and tensors, so weights_only holds.
            return torch.load(path, map_location="cpu", weights_only=True)
        except Exception as exc:
            raise InputError(
                f"{path} is damaged or truncated ({type(exc).__name__}); fit a new run "
                f"(`dynst fit` with another -o, or after removing {self.path})"
            ) from None
