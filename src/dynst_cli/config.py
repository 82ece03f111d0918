"""The one typed configuration of a fit, with every default in one place.

Precedence: CLI flag over recipe (YAML in `recipes/`) over the defaults below. The resolved object
is saved in the run directory (`config.json`) and is what `prune`, `predict` and `--resume` read.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from dynst_cli.errors import InputError, UsageError


@dataclass
class DataConfig:
    t_in: int = 12  # history steps seen by the model (DESIGN: 12 -> 12)
    t_out: int = 12  # forecast horizon in steps
    train_frac: float = 0.7  # chronological split: train / validation / test = 70 / 10 / 20
    val_frac: float = 0.1
    variables: list[str] | None = None  # None: every data variable of the dataset
    # Read values from a float32 .npy copy mapped from disk instead of loading them: for datasets
    # larger than memory. The copy is made once per dataset (keyed by its sha256) in
    # $DYNST_CACHE_DIR (default ~/.cache/dynst); batches are then gathered from the page cache.
    mmap: bool = False


@dataclass
class MaskConfig:
    sparsity: float = 0.5  # fraction of sensors switched off: keep N - round(S*N)
    l1_lambda: float = 1e-4  # weight of |b*m|_1, pushes unimportant gates towards zero
    warmup_frac: float = 0.15  # dense warm-up, as a fraction of all optimiser steps
    ramp_frac: float = 0.30  # cubic ramp s_t = S(1-(1-t/T)^3) after the warm-up
    update_end_frac: float = 0.75  # drop-and-regrow stops here; the rest is frozen-mask fine-tuning
    regrow_alpha: float = 0.3  # initial drop-and-regrow fraction, cosine-annealed to 0
    update_every: int = 10  # optimiser steps between two mask updates
    # Adam moves every parameter by about lr per step whatever its gradient's size, so with the
    # backbone's lr the gate scores could hardly separate within a short fit; they get their own.
    score_lr_scale: float = 10.0


@dataclass
class ModelConfig:
    backbone: str = "stid"
    hidden: int = 64  # width of the backbone's hidden layers
    embed: int = 16  # size of sensor / time-of-day embeddings
    layers: int = 2  # depth (MLP blocks, or temporal layers for gwnet)
    graph_k: int = 8  # k nearest neighbours of the distance-kernel graph (point sensors)


@dataclass
class TrainConfig:
    epochs: int = 20
    batch_size: int = 32
    lr: float = 2e-3
    weight_decay: float = 1e-4
    seed: int = 0
    device: str = "cpu"
    finetune_epochs: int = 3  # frozen-mask epochs `prune` spends at a sparsity other than the fit's
    max_batches_per_epoch: int | None = None  # cap for quick runs; None uses every window
    # Also train a dense model with the same backbone and epochs, so that plans compare the
    # reduced network with a fully trained full network (costs a second training).
    dense_reference: bool = True


@dataclass
class FitConfig:
    data: DataConfig = field(default_factory=DataConfig)
    mask: MaskConfig = field(default_factory=MaskConfig)
    model: ModelConfig = field(default_factory=ModelConfig)
    train: TrainConfig = field(default_factory=TrainConfig)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, raw: dict[str, Any], source: str = "configuration") -> FitConfig:
        """Build from nested plain values, rejecting unknown sections and keys by name."""
        sections = {f.name: f.type for f in dataclasses.fields(cls)}
        kwargs = {}
        for name, values in (raw or {}).items():
            if name not in sections:
                raise UsageError(
                    f"{source}: unknown section '{name}' (valid: {', '.join(sections)})"
                )
            section_cls = {
                "data": DataConfig,
                "mask": MaskConfig,
                "model": ModelConfig,
                "train": TrainConfig,
            }[name]
            kwargs[name] = _build_section(section_cls, values or {}, f"{source}: {name}")
        return cls(**kwargs)


def _build_section(section_cls: type, values: dict[str, Any], where: str) -> Any:
    valid = {f.name for f in dataclasses.fields(section_cls)}
    unknown = sorted(set(values) - valid)
    if unknown:
        raise UsageError(
            f"{where}: unknown key(s) {', '.join(unknown)} (valid: {', '.join(sorted(valid))})"
        )
    return section_cls(**values)


def load_recipe(path: str | Path) -> FitConfig:
    """Read a YAML recipe (sections data, mask, model, train) into a FitConfig."""
    path = Path(path)
    try:
        raw = yaml.safe_load(path.read_text())
    except FileNotFoundError:
        raise UsageError(f"recipe {path} does not exist") from None
    except yaml.YAMLError as exc:
        raise InputError(f"recipe {path} is not valid YAML: {exc}") from None
    if raw is not None and not isinstance(raw, dict):
        raise InputError(f"recipe {path}: expected a mapping of sections, got {type(raw).__name__}")
    return FitConfig.from_dict(raw or {}, source=f"recipe {path}")


def with_overrides(config: FitConfig, overrides: dict[str, dict[str, Any]]) -> FitConfig:
    """Return a copy with the non-None values of `overrides` ({section: {key: value}}) applied."""
    merged = config.to_dict()
    for section, values in overrides.items():
        for key, value in values.items():
            if value is not None:
                merged[section][key] = value
    return FitConfig.from_dict(merged)


def validate(config: FitConfig) -> None:
    """Reject values no fit can use, naming the key."""
    s = config.mask.sparsity
    if not 0.0 <= s < 1.0:
        raise UsageError(f"sparsity must lie in [0, 1), got {s}")
    if config.train.epochs < 1:
        raise UsageError(f"epochs must be at least 1, got {config.train.epochs}")
    if config.data.t_in < 1 or config.data.t_out < 1:
        raise UsageError("t_in and t_out must be at least 1")
    if not 0 < config.data.train_frac < 1 or not 0 <= config.data.val_frac < 1:
        raise UsageError("train_frac must lie in (0, 1) and val_frac in [0, 1)")
    if config.data.train_frac + config.data.val_frac >= 1:
        raise UsageError("train_frac + val_frac must leave a test period (sum below 1)")
    if config.train.device not in ("cpu", "cuda"):
        raise UsageError(f"device must be 'cpu' or 'cuda', got '{config.train.device}'")
