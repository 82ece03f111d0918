"""Chronological splits: every period holds whole windows; a too-short archive is told what the
whole split needs."""

from __future__ import annotations

import pytest

from dynst_cli.data.splits import chronological_splits, longest_window, steps_needed
from dynst_cli.errors import InputError


@pytest.mark.parametrize(("t_in", "t_out"), [(12, 12), (4, 2), (1, 1), (24, 6)])
def test_steps_needed_is_the_fewest_steps_that_split(t_in, t_out):
    n = steps_needed(t_in + t_out, 0.7, 0.1)
    splits = chronological_splits(n, t_in, t_out, 0.7, 0.1)
    assert all(s.window_starts.size >= 1 for s in splits.values())
    with pytest.raises(InputError):
        chronological_splits(n - 1, t_in, t_out, 0.7, 0.1)


def test_the_too_short_message_counts_validation_and_test_windows():
    with pytest.raises(InputError) as info:
        chronological_splits(130, 12, 12, 0.7, 0.1)
    message = str(info.value)
    assert "130 time steps" in message and "val window" in message
    assert f"at least {steps_needed(24, 0.7, 0.1)} steps" in message
    assert f"t_in + t_out <= {longest_window(130, 0.7, 0.1)}" in message
    window = longest_window(130, 0.7, 0.1)
    chronological_splits(130, window - 1, 1, 0.7, 0.1)  # the suggestion works


def test_without_a_validation_share_only_train_and_test_need_windows():
    assert steps_needed(10, 0.8, 0.0) < steps_needed(10, 0.7, 0.1)
