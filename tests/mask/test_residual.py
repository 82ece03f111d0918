"""The residual regrow signal (`mask.regrow_signal: residual`)."""

from __future__ import annotations

import numpy as np
import torch

from dynst_cli.mask.residual import ResidualProbe


def _batch(latest: torch.Tensor, residual_of_target: torch.Tensor, t_in=3, t_out=2):
    """x whose last history step is `latest` (B, N), and y - pred equal to `residual_of_target`
    (B, N) at every horizon step."""
    b, n = latest.shape
    x = torch.zeros(b, t_in, n, 2)
    x[:, -1, :, 0] = latest
    x[..., 1] = 1.0
    pred = torch.zeros(b, t_out, n, 1)
    y = residual_of_target[:, None, :, None].expand(b, t_out, n, 1).clone()
    return x, y, pred, torch.ones_like(y, dtype=torch.bool)


def test_the_sensor_whose_reading_explains_the_residual_scores_highest():
    gen = torch.Generator().manual_seed(0)
    latest = torch.randn(64, 6, generator=gen)
    residual = torch.zeros(64, 6)
    residual[:, 1] = 2.0 * latest[:, 4]  # what the model misses at target 1 is sensor 4's reading
    residual[:, 2] = 0.5 * latest[:, 4] + 0.1 * torch.randn(64, generator=gen)
    latest[:, 5] = 3.0  # a constant reading explains nothing
    probe = ResidualProbe(6)
    probe.add(*_batch(latest, residual))
    scores = probe.scores()
    assert int(np.argmax(scores)) == 4 and scores[5] == 0.0
    assert scores[[0, 1, 2, 3]].max() < 0.2 * scores[4]
    # The loss's pull on each forecast is sign(y - pred) (masked MAE), summed over the horizon.
    x4 = latest[:, 4].numpy().astype(np.float64)
    pull = 2 * np.sign(residual.numpy().astype(np.float64))
    x4c, pullc = x4 - x4.mean(), pull - pull.mean(axis=0)
    expected = ((x4c @ pullc / 64) ** 2).sum() / (x4c**2).mean()
    assert np.isclose(scores[4], expected, rtol=1e-4)


def test_one_large_error_does_not_decide_the_signal():
    gen = torch.Generator().manual_seed(4)
    latest = torch.randn(64, 3, generator=gen)
    residual = 0.1 * latest[:, [1, 1, 1]]  # every target follows sensor 1 a little
    residual[0, 2] = 1e4 * latest[0, 2]  # and one outlier goes with sensor 2
    probe = ResidualProbe(3)
    probe.add(*_batch(latest, residual))
    assert int(np.argmax(probe.scores())) == 1


def test_missing_targets_leave_no_residual_and_the_signal_is_a_mean_per_batch():
    gen = torch.Generator().manual_seed(1)
    latest = torch.randn(32, 3, generator=gen)
    residual = latest[:, [2, 2, 2]]
    x, y, pred, observed = _batch(latest, residual)
    probe = ResidualProbe(3)
    probe.add(x, y, pred, torch.zeros_like(observed))  # nothing observed: nothing to explain
    assert probe.count == 1 and not probe.scores().any()
    probe.reset()
    probe.add(x, y, pred, observed)
    once = probe.scores()
    probe.add(x, y, pred, observed)
    assert np.allclose(probe.scores(), once) and probe.count == 2


def test_the_probe_state_round_trips_and_one_window_is_skipped():
    gen = torch.Generator().manual_seed(2)
    latest = torch.randn(16, 4, generator=gen)
    probe = ResidualProbe(4)
    probe.add(*_batch(latest, latest.roll(1, dims=1)))
    probe.add(*_batch(latest[:1], latest[:1]))  # a batch of one window has no covariance
    restored = ResidualProbe(4)
    restored.load(probe.state())
    assert restored.count == 1 and np.array_equal(restored.scores(), probe.scores())


def test_only_the_sensors_that_are_off_are_scored():
    gen = torch.Generator().manual_seed(3)
    latest = torch.randn(32, 5, generator=gen)
    batch = _batch(latest, latest[:, [1, 1, 3, 3, 0]])
    every, some = ResidualProbe(5), ResidualProbe(5)
    every.add(*batch)
    off = torch.tensor([False, True, False, True, True])
    some.add(*batch, off)
    assert np.allclose(some.scores()[off.numpy()], every.scores()[off.numpy()], rtol=1e-5)
    assert not some.scores()[~off.numpy()].any()
