"""Fixtures shared across the test tree: small real subsets and synthetic datasets."""

from __future__ import annotations

from pathlib import Path

import pytest

from dynst_cli.config import FitConfig
from synthetic import canonical_dataset, planted_network, write

REPO = Path(__file__).resolve().parents[1]
DATA = REPO / "data"


def tiny_config(**train) -> FitConfig:
    """A configuration that trains in about a second: short windows, few small batches."""
    return FitConfig.from_dict(
        {
            "data": {"t_in": 4, "t_out": 2},
            "mask": {"sparsity": 0.5, "update_every": 2},
            "model": {"hidden": 16, "embed": 4},
            "train": {
                "epochs": 4,
                "batch_size": 16,
                "max_batches_per_epoch": 6,
                "finetune_epochs": 1,
                "dense_reference": False,
                **train,
            },
        }
    )


@pytest.fixture
def config() -> FitConfig:
    return tiny_config()


@pytest.fixture(scope="session")
def planted(tmp_path_factory) -> tuple[Path, object]:
    """A planted network on disk: 3 drivers and 21 lagged noisy followers."""
    values, follows = planted_network(n_steps=300)
    path = tmp_path_factory.mktemp("planted") / "planted.nc"
    return write(canonical_dataset(values), path), follows


@pytest.fixture(scope="session")
def fitted_run(tmp_path_factory, planted) -> Path:
    """One finished tiny run on the planted network, shared by read-only tests."""
    from dynst_cli.fit import fit_run

    run = tmp_path_factory.mktemp("runs") / "run"
    fit_run(planted[0], run, tiny_config())
    return run
