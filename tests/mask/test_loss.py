import torch

from dynst_cli.mask.gate import SensorGate
from dynst_cli.mask.loss import dynst_loss, masked_mae


def test_masked_mae_averages_over_observed_targets_only():
    pred = torch.tensor([1.0, 2.0, 3.0, 4.0], requires_grad=True)
    target = torch.tensor([2.0, float("nan"), 1.0, 100.0])
    observed = torch.tensor([True, True, True, False])
    assert masked_mae(pred, target, observed).item() == 1.5
    masked_mae(pred, target, observed).backward()
    assert torch.isfinite(pred.grad).all()
    assert pred.grad[1] == 0 and pred.grad[3] == 0


def test_nothing_observed_gives_zero_with_grad():
    pred = torch.ones(3, requires_grad=True)
    loss = masked_mae(pred, torch.full((3,), float("nan")), torch.zeros(3, dtype=torch.bool))
    assert loss.item() == 0.0
    loss.backward()
    assert torch.equal(pred.grad, torch.zeros(3))


def test_dynst_loss_adds_l1_of_gates():
    gate = SensorGate(4)
    pred, target = torch.zeros(2), torch.ones(2)
    loss = dynst_loss(pred, target, torch.ones(2, dtype=torch.bool), gate, l1_lambda=0.1)
    assert torch.isclose(loss, torch.tensor(1.0 + 0.1 * 4))
