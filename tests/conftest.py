"""Fixtures shared across the test tree: small real subsets and synthetic datasets."""

from __future__ import annotations

from pathlib import Path

import pytest

from synthetic import canonical_dataset, planted_network, tiny_config, write

REPO = Path(__file__).resolve().parents[1]
DATA = REPO / "data"


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
