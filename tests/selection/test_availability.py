"""A sensor valued at how often it will report from now on (selection/availability.py)."""

from __future__ import annotations

import numpy as np
import pytest

from dynst_cli.selection.availability import availability_weights, reporting_share


def test_the_reporting_share_counts_steps_with_any_channel_observed():
    values = np.ones((10, 3, 2), dtype=np.float32)
    values[:5, 1] = np.nan  # sensor 1: half of the steps
    values[:, 2, 0] = np.nan  # sensor 2: its second channel reports throughout
    assert reporting_share(values, 0, 10).tolist() == pytest.approx([1.0, 0.5, 1.0])
    assert reporting_share(values, 0, 5).tolist() == pytest.approx([1.0, 0.0, 1.0])
    assert reporting_share(values, 4, 4).tolist() == [0.0, 0.0, 0.0]  # an empty period


def test_the_reporting_share_of_a_long_archive_is_read_in_chunks(monkeypatch):
    from dynst_cli.selection import availability

    monkeypatch.setattr(availability, "CHUNK_STEPS", 7)
    values = np.ones((50, 2), dtype=np.float32)
    values[::5, 0] = np.nan  # one step in five missing
    assert reporting_share(values, 0, 50).tolist() == pytest.approx([0.8, 1.0])


def test_weights_follow_what_each_sensor_does_in_the_recent_period():
    values = np.ones((20, 5), dtype=np.float32)
    values[:8, 0] = np.nan  # opened late: 2 of 10 training steps, every recent step
    values[10:, 1] = np.nan  # closed: every training step, none recent
    values[:10, 2] = np.nan  # never in training, reports now
    values[10:, 3] = np.nan  # every training step, half of the recent ones:
    values[10:20:2, 3] = 1.0  # reports less often now
    weights = availability_weights(values, (0, 10), (10, 20))
    assert weights.tolist() == pytest.approx([5.0, 0.0, 0.0, 0.5, 1.0])
    recent = availability_weights(values, (0, 10), (10, 20), relative=False)
    assert recent.tolist() == pytest.approx([1.0, 0.0, 1.0, 0.5, 1.0])


def test_a_recent_period_in_which_no_sensor_reports_changes_nothing():
    values = np.ones((20, 3), dtype=np.float32)
    values[:5, 0] = np.nan
    values[10:] = np.nan
    assert availability_weights(values, (0, 10), (10, 20)).tolist() == [1.0, 1.0, 1.0]
    assert availability_weights(values, (0, 10), (10, 10)).tolist() == [1.0, 1.0, 1.0]
    recent = availability_weights(values, (0, 10), (10, 20), relative=False)
    assert recent.tolist() == [1.0, 1.0, 1.0]
