"""What every regrow probe shares (mask/probe.py) and which probe each signal reads with."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from dynst_cli.mask.probe import RegrowProbe
from dynst_cli.mask.regrow_signals import PROBES


def _batch(seed: int, b: int = 8, n: int = 4):
    """A random batch: x (B, 4, N, 2), y / pred / observed (B, 2, N, 1)."""
    gen = torch.Generator().manual_seed(seed)
    x = torch.randn(b, 4, n, 2, generator=gen)
    y, pred = torch.randn(2, b, 2, n, 1, generator=gen)
    return x, y, pred, torch.ones_like(y, dtype=torch.bool)


def test_the_base_class_measures_nothing_itself():
    with pytest.raises(TypeError):
        RegrowProbe(3)


@pytest.mark.parametrize("signal", sorted(PROBES))
def test_a_probe_restored_from_its_state_continues_as_the_uninterrupted_one(signal):
    uninterrupted, first = PROBES[signal](4), PROBES[signal](4)
    for probe in (uninterrupted, first):
        probe.add(*_batch(0))
    resumed = PROBES[signal](4)
    resumed.load(first.state())
    for probe in (uninterrupted, resumed):
        probe.add(*_batch(1))
    assert resumed.count == uninterrupted.count == 2
    assert np.array_equal(resumed.scores(), uninterrupted.scores())
    assert uninterrupted.scores().any()


@pytest.mark.parametrize("signal", sorted(PROBES))
def test_reset_starts_the_next_interval_from_nothing(signal):
    probe = PROBES[signal](4)
    probe.add(*_batch(0))
    probe.reset()
    assert probe.count == 0 and not probe.scores().any()
    probe.add(*_batch(2))
    alone = PROBES[signal](4)
    alone.add(*_batch(2))
    assert np.array_equal(probe.scores(), alone.scores())
