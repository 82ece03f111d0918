"""Small synthetic snapshot matrices with a known best ranking."""

import numpy as np
import pytest


@pytest.fixture
def rng():
    return np.random.default_rng(20180101)


@pytest.fixture
def noise_levels(rng):
    """Distinct noise standard deviations, one per sensor, in shuffled order, shape [12]."""
    return rng.permutation(1.4 ** np.arange(12))


@pytest.fixture
def noisy_sensors(rng, noise_levels):
    """Independent zero-mean noise with sensor-specific levels, shape [4000, 12]."""
    return rng.normal(size=(4000, noise_levels.size)) * noise_levels


@pytest.fixture
def low_rank_field(rng):
    """A rank-4 field ``X = A @ Phi`` and its spatial factor ``Phi`` of shape [4, 30].

    Two thirds of the sensors (scattered) see nothing, so a careless pick of 4 is rank-deficient.
    """
    phi = rng.normal(size=(4, 30))
    phi[:, rng.permutation(30)[:20]] = 0.0
    a = rng.normal(size=(200, 4))
    return a @ phi, phi


@pytest.fixture
def copied_sources(rng):
    """Three independent signals, each copied (rescaled) to several sensors.

    Returns the snapshots, shape [300, 12], and the group (source) of each sensor, shape [12].
    """
    group = rng.permutation(np.repeat(np.arange(3), 4))
    sources = rng.normal(size=(300, 3))
    scale = rng.uniform(0.5, 2.0, size=group.size)
    return sources[:, group] * scale, group
