import numpy as np
import pytest
import torch

from dynst_cli.mask.gate import SensorGate


def _gate(n: int, keep: list[bool]) -> SensorGate:
    gate = SensorGate(n)
    with torch.no_grad():
        gate.scores.copy_(torch.linspace(0.5, 1.5, n))
    gate.set_keep(np.array(keep), step=3)
    return gate


def test_initial_state():
    gate = SensorGate(4)
    assert torch.equal(gate.scores.detach(), torch.ones(4))
    assert torch.equal(gate.keep, torch.ones(4))
    assert gate.keep.dtype == torch.float32
    assert torch.equal(gate.grad_accum, torch.zeros(4))
    assert torch.equal(gate.dropped_at, torch.full((4,), -1))
    assert gate.tracking is False


def test_dropped_sensor_input_is_exactly_zero_even_for_nan():
    gate = _gate(3, [True, False, True])
    x = torch.randn(2, 3, 5)
    x[:, 1] = float("nan")
    out = gate(x)
    assert torch.all(out[:, 1] == 0)
    assert torch.equal(out[:, 0], x[:, 0] * gate.scores[0])


def test_dropped_sensor_values_change_nothing_downstream():
    torch.manual_seed(0)
    layer = torch.nn.Linear(3 * 4, 2)
    x = torch.randn(5, 3, 4)
    results = []
    for fill in (0.0, 1e6, float("nan")):
        gate = _gate(3, [True, False, True])
        layer.zero_grad()
        x_changed = x.clone()
        x_changed[:, 1] = fill
        out = layer(gate(x_changed).reshape(5, -1))
        out.square().sum().backward()
        results.append((out.detach(), gate.scores.grad.clone(), layer.weight.grad.clone()))
    for out, score_grad, weight_grad in results[1:]:
        assert torch.equal(out, results[0][0])
        assert torch.equal(score_grad, results[0][1])
        assert torch.equal(weight_grad, results[0][2])
    assert results[0][1][1] == 0


def test_grad_accum_matches_hand_computed_gate_gradient():
    # Linear readout y = sum_{n,f} w[n,f] * g[n] * x[b,n,f]; L = sum_b y_b.
    # dL/dg[n] = sum_{b,f} w[n,f] * x[b,n,f], the same for kept and dropped sensors.
    x = torch.tensor([[[1.0, 2.0], [3.0, -1.0]], [[0.5, 0.0], [-2.0, 4.0]]])
    w = torch.tensor([[1.0, -1.0], [2.0, 0.5]])
    gate = _gate(2, [True, False])
    gate.tracking = True
    (gate(x) * w).sum().backward()
    expected = (x * w).sum(dim=(0, 2)).abs()
    assert torch.allclose(gate.grad_accum, expected)
    assert gate.grad_accum[1] > 0
    (gate(x) * w).sum().backward()
    assert torch.allclose(gate.grad_accum, 2 * expected)
    gate.reset_grad_accum()
    assert torch.equal(gate.grad_accum, torch.zeros(2))


def test_no_accumulation_without_tracking():
    gate = SensorGate(2)
    gate(torch.randn(3, 2, 4)).sum().backward()
    assert torch.equal(gate.grad_accum, torch.zeros(2))


def test_set_keep_records_step_of_newly_dropped_only():
    gate = SensorGate(4)
    gate.set_keep(np.array([True, False, True, True]), step=5)
    gate.set_keep(torch.tensor([True, False, False, True]), step=9)
    assert gate.dropped_at.tolist() == [-1, 5, 9, -1]
    assert gate.keep.tolist() == [1.0, 0.0, 0.0, 1.0]


def test_forward_subset_matches_full_forward_on_kept_sensors():
    gate = _gate(4, [True, False, True, True])
    x = torch.randn(2, 4, 3)
    kept_idx = torch.tensor([0, 2, 3])
    assert torch.allclose(gate.forward_subset(x[:, kept_idx], kept_idx), gate(x)[:, kept_idx])


def test_l1_penalty_counts_kept_gates_only():
    gate = _gate(3, [True, False, True])
    with torch.no_grad():
        gate.scores.copy_(torch.tensor([-2.0, 5.0, 0.5]))
    assert gate.l1_penalty().item() == 2.5


def _tracked_loss(gate: SensorGate, x: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
    gate.tracking = True
    return (gate(x) * weights).sum()


def test_saliency_of_a_kept_sensor_is_gate_times_loss_gradient():
    gate = _gate(3, [True, True, True])
    x, weights = torch.randn(4, 3, 5), torch.randn(3, 5)
    _tracked_loss(gate, x, weights).backward()
    # L = sum_b,f x*g*w, so dL/dg_i = sum_b,f x_i*w_i and the saliency is |g_i * dL/dg_i|.
    expected = (gate.scores.detach() * (x * weights).sum(dim=(0, 2))).abs()
    assert torch.allclose(gate.saliency_accum, expected, rtol=1e-5)
    assert torch.allclose(gate.scores.grad.abs(), gate.grad_accum, rtol=1e-5)
    assert int(gate.n_accum) == 1


def test_against_a_baseline_a_sensor_is_worth_only_its_departure_from_it():
    gate = _gate(3, [True, True, False])
    x, weights = torch.randn(4, 3, 5), torch.randn(3, 5)
    x[:, 1] = torch.tensor([2.0, -1.0, 0.5, 3.0, 1.0])  # sensor 1 never changes
    gate.center = x.mean(dim=0)
    _tracked_loss(gate, x, weights).backward()
    # dL/dg_i against the baseline: sum_b,f (x_i - center_i) * w_i
    expected = ((x - gate.center) * weights).sum(dim=(0, 2)).abs()
    assert torch.allclose(gate.grad_accum, expected, atol=1e-6)
    assert gate.grad_accum[1] == pytest.approx(0.0, abs=1e-5)  # its level alone: worth nothing
    assert gate.grad_accum[0] > 0 and gate.grad_accum[2] > 0
    assert "center" not in gate.state_dict()  # a saved model does not carry it


def test_the_saliency_is_weighed_by_the_sensors_availability_and_the_regrow_signal_is_not():
    gate = _gate(3, [True, True, False])
    x, weights = torch.randn(4, 3, 5), torch.randn(3, 5)
    _tracked_loss(gate, x, weights).backward()
    plain, regrow = gate.saliency_accum.clone(), gate.grad_accum.clone()
    gate.reset_grad_accum()
    gate.scores.grad = None
    gate.availability = torch.tensor([2.0, 0.0, 0.5])
    _tracked_loss(gate, x, weights).backward()
    assert torch.allclose(gate.saliency_accum, plain * gate.availability, rtol=1e-6)
    assert torch.allclose(gate.grad_accum, regrow)
    assert "availability" not in gate.state_dict()  # a saved model does not carry it


def test_per_window_the_saliency_adds_each_windows_magnitude():
    gate = _gate(2, [True, True])
    gate.per_window = True
    x = torch.ones(2, 2, 1)
    x[1, 0] = -1.0  # sensor 0 pulls the two windows' losses in opposite directions
    weights = torch.ones(2, 1)
    _tracked_loss(gate, x, weights).backward()
    # |g| * (|+1| + |-1|) for sensor 0, where the batch's sum cancels to 0 (the regrow signal)
    g = gate.scores.detach().abs()  # 0.5 and 1.5
    assert gate.saliency_accum.tolist() == pytest.approx((2 * g).tolist())
    assert gate.grad_accum.tolist() == pytest.approx([0.0, 2.0])
    gate.reset_grad_accum()
    gate.per_window = False
    _tracked_loss(gate, x, weights).backward()
    assert gate.saliency_accum.tolist() == pytest.approx([0.0, 2 * float(g[1])])


def test_dropped_sensor_saliency_is_measured_at_its_regrow_gate_value():
    gate = _gate(3, [True, False, True])
    x, weights = torch.randn(4, 3, 5), torch.randn(3, 5)
    _tracked_loss(gate, x, weights).backward()
    level = gate.scores.detach()[[0, 2]].abs().mean()
    expected = level * (x[:, 1] * weights[1]).sum().abs()
    assert torch.allclose(gate.saliency_accum[1], expected, rtol=1e-5)
    assert gate.saliency_accum[1] > 0


def test_reset_clears_every_accumulator():
    gate = _gate(3, [True, True, False])
    _tracked_loss(gate, torch.randn(2, 3, 4), torch.randn(3, 4)).backward()
    gate.reset_grad_accum()
    assert not gate.grad_accum.any() and not gate.saliency_accum.any() and int(gate.n_accum) == 0


def test_sensor_dropout_hides_whole_sensors_of_a_window_only_while_learning_the_mask():
    gate = _gate(50, [True] * 50)
    gate.dropout, gate.dropout_seed, gate.dropout_step = 0.3, 7, 11
    gate.tracking = True  # the drop-and-regrow phases
    x = torch.ones(64, 50, 4)
    gate.train()
    out = gate(x)
    assert gate(x).equal(out)  # the pattern depends on (seed, step) alone
    hidden = out.sum(dim=2) == 0
    assert (out[~hidden] > 0).all()  # a sensor of a window is hidden whole or not at all
    assert 0.25 < hidden.float().mean() < 0.35
    gate.dropout_step = 12
    assert not gate(x).equal(out)
    gate.tracking = False  # the frozen-mask epochs and fine-tunes see every kept sensor
    assert (gate(x).sum(dim=2) > 0).all()
    gate.tracking = True
    gate.eval()  # and so do validation, saliency passes and prediction
    assert (gate(x).sum(dim=2) > 0).all()
