"""One dense reference per (dataset, backbone and training configuration, budget, seed).

A dense reference is a backbone trained on every sensor (`train.train_fixed` with an all-on
keep set). It does not depend on the mask settings, so `fit` at any sparsity, `prune` and
`compare` of the same data and configuration share one, stored beside the runs:

    <folder of the run>/.dynst-cache/dense/<key>/
        key.json      what the key was computed from (readable; not used for lookups)
        metrics.json  {"val": metrics, "test": metrics} as `evaluate` returns them
        model.pt      the dense model's weights (ForecastModel state dict)

`key` is the sha256 of the dataset's sha256, the resolved configuration without the `mask`
section and without the settings that cannot change the trained weights (`data.mmap`,
`train.finetune_epochs`, `train.dense_reference`), the number of training processes (a DDP fit
shards the batches), `DENSE_RULE` and a digest of the training code's sources (`RULE_MODULES`).
An entry is written to a temporary folder and renamed into place, so a reader sees a whole
entry or none; a damaged entry counts as missing.
"""

from __future__ import annotations

import functools
import hashlib
import importlib.util
import io
import json
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

import torch

from dynst_cli.atomic import write_bytes, write_json
from dynst_cli.config import FitConfig
from dynst_cli.console import log

# Bump whenever `train_fixed` or `evaluate` would give another result for the same inputs (the
# training loop, the model, the metrics): entries made under another rule are then never read.
# The sources of the modules below also enter the key, so an edit of any of them is a new rule.
DENSE_RULE = 3  # 3: every trained model keeps its best-validation-epoch weights
RULE_MODULES = (
    "dynst_cli.train",
    "dynst_cli.evaluate",
    "dynst_cli.model",
    "dynst_cli.mask.loss",
    "dynst_cli.mask.gate",
    "dynst_cli.data.windows",
    "dynst_cli.data.scaling",
    "dynst_cli.data.splits",
    "dynst_cli.data.metrics",
    "dynst_cli.backbones.common",
    "dynst_cli.backbones.graph",
    "dynst_cli.backbones.stid",
    "dynst_cli.backbones.gwnet",
    "dynst_cli.backbones.simvp",
)
CACHE_DIR = ".dynst-cache"
# Settings that cannot change the dense model or its metrics.
NOT_IN_KEY = {"data": ("mmap",), "train": ("finetune_epochs", "dense_reference")}


@dataclass
class DenseReference:
    """A dense reference's metrics and where they came from.

    Attributes
    ----------
    metrics : dict
        `{"val": ..., "test": ...}`, each what `evaluate` returns (overall and per horizon).
    source : str
        ``"trained"`` (trained by this command, then cached) or ``"cache"`` (read back).
    key : str
        The entry's key (64 hex digits).
    path : Path or None
        The entry's folder (None when it could not be written).
    """

    metrics: dict
    source: str
    key: str
    path: Path | None

    def record(self) -> dict:
        """What a run's `metrics.json` says about it: the key and the entry's folder beside the
        run. Whether this command trained it or read it back goes to `timings.json`, so that
        `metrics.json` stays reproducible."""
        return {"key": self.key, "folder": f"{CACHE_DIR}/dense/{self.key}"}


def cache_root(run_path: str | Path) -> Path:
    """`<folder holding the run>/.dynst-cache/dense`: shared by the runs of one folder."""
    return Path(run_path).resolve().parent / CACHE_DIR / "dense"


def key_inputs(config: FitConfig, dataset_sha256: str, world_size: int = 1) -> dict:
    """Everything that decides the dense model, as plain values."""
    resolved = config.to_dict()
    resolved.pop("mask", None)
    for section, names in NOT_IN_KEY.items():
        for name in names:
            resolved.get(section, {}).pop(name, None)
    return {
        "rule": DENSE_RULE,
        "code": code_digest(),
        "dataset_sha256": dataset_sha256,
        "config": resolved,
        "world_size": int(world_size),
    }


@functools.cache
def code_digest() -> str:
    """sha256 (first 16 hex digits) of the sources of `RULE_MODULES`, in that order."""
    digest = hashlib.sha256()
    for name in RULE_MODULES:
        spec = importlib.util.find_spec(name)
        origin = spec.origin if spec else None
        digest.update(name.encode())
        if origin and Path(origin).is_file():
            digest.update(Path(origin).read_bytes())
    return digest.hexdigest()[:16]


def dense_key(config: FitConfig, dataset_sha256: str, world_size: int = 1) -> str:
    """The content address of a dense reference: sha256 of the canonical JSON of its inputs."""
    text = json.dumps(key_inputs(config, dataset_sha256, world_size), sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()


def lookup(root: Path, key: str) -> DenseReference | None:
    """The cached entry `key` under `root`, or None if absent or unreadable."""
    path = Path(root) / key
    try:
        metrics = json.loads((path / "metrics.json").read_text())
    except (OSError, ValueError):
        return None
    if not isinstance(metrics, dict) or "test" not in metrics:
        return None
    return DenseReference(metrics, "cache", key, path)


def store(root: Path, key: str, inputs: dict, metrics: dict, state_dict: dict) -> Path | None:
    """Write entry `key` atomically (a whole folder renamed into place); returns its folder.

    When another process stored the same key first, its entry is kept (both are equal). The
    cache only saves time: when it cannot be written, a note says so and None is returned.
    """
    root = Path(root)
    try:
        return _store(root, key, inputs, metrics, state_dict)
    except OSError as exc:
        log(f"note: the dense reference was not cached in {root} ({exc})")
        return None


def _store(root: Path, key: str, inputs: dict, metrics: dict, state_dict: dict) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    final = root / key
    tmp = Path(tempfile.mkdtemp(prefix=f".{key[:16]}.", dir=root))
    try:
        write_json(tmp / "key.json", inputs)
        write_json(tmp / "metrics.json", metrics)
        buffer = io.BytesIO()
        torch.save({k: v.detach().cpu() for k, v in state_dict.items()}, buffer)
        write_bytes(tmp / "model.pt", buffer.getvalue())
        os.chmod(tmp, 0o755)
        try:
            os.replace(tmp, final)
        except OSError:  # a complete entry is already there
            if not (final / "metrics.json").is_file():
                raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return final
