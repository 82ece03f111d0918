"""The error regrow signal: each dropped sensor's share of the training loss (mask/error.py)."""

from __future__ import annotations

import pytest
import torch

from dynst_cli.mask.error import ErrorProbe
from dynst_cli.mask.loss import masked_mae
from dynst_cli.mask.regrow_signals import regrow_probe
from dynst_cli.mask.residual import ResidualProbe


def _batch(errors, observed=None):
    """y = 0 and pred = -errors, shape (B, T, N, 1), with the observed mask given or all True."""
    errors = torch.as_tensor(errors, dtype=torch.float32)[..., None]
    observed = torch.ones_like(errors, dtype=torch.bool) if observed is None else observed
    x = torch.zeros(errors.shape[0], 4, errors.shape[2], 2)
    return x, torch.zeros_like(errors), -errors, observed


def test_the_shares_of_all_sensors_add_up_to_the_masked_mae():
    torch.manual_seed(0)
    x, y, pred, observed = _batch(torch.rand(5, 3, 4))
    observed = observed & (torch.rand(observed.shape) > 0.3)
    probe = ErrorProbe(4)
    probe.add(x, y, pred, observed)
    assert probe.total.sum().item() == pytest.approx(masked_mae(pred, y, observed).item())


def test_the_sensor_forecast_worst_scores_highest_and_unobserved_targets_carry_nothing():
    errors = torch.tensor([[[1.0, 3.0, 2.0, 50.0]]]).expand(2, 2, 4)
    observed = torch.ones(2, 2, 4, 1, dtype=torch.bool)
    observed[:, :, 3] = False  # sensor 3 reported nothing: its huge error was never measured
    probe = ErrorProbe(4)
    probe.add(*_batch(errors, observed))
    scores = probe.scores()
    assert scores.argmax() == 1 and scores[3] == 0.0
    assert scores[1] == pytest.approx(3 * scores[0])


def test_only_the_sensors_that_are_off_are_scored_and_batches_are_averaged():
    probe = ErrorProbe(3)
    off = torch.tensor([True, False, True])
    probe.add(*_batch(torch.ones(2, 1, 3)), off=off)
    probe.add(*_batch(3 * torch.ones(2, 1, 3)), off=off)
    scores = probe.scores()
    assert scores[1] == 0.0
    # per batch each sensor holds a third of the loss: 1/3 then 1, averaged over the 2 batches
    assert scores[0] == pytest.approx((1 / 3 + 1) / 2) and scores[2] == scores[0]


@pytest.mark.parametrize(
    ("signal", "kind"), [("gate", None), ("residual", ResidualProbe), ("error", ErrorProbe)]
)
def test_each_regrow_signal_gets_its_probe(signal, kind):
    probe = regrow_probe(signal, 5, "cpu")
    assert probe is None if kind is None else type(probe) is kind
