"""Known answers of the greedy ridge selector, and its incremental updates against brute force."""

import numpy as np
import pytest
from tests.synthetic import planted_network

from dynst_cli.selection import GreedySelector
from dynst_cli.selection.greedy import _greedy_ridge


def brute_force_sse(f_tr, y_tr, f_va, y_va, chosen, ridge):
    """Validation SSE of a ridge forecaster on the columns `chosen`, solved directly."""
    f_mean, y_mean = f_tr.mean(0), y_tr.mean(0)
    if not chosen:
        return float(((y_va - y_mean) ** 2).sum())
    a = f_tr[:, chosen] - f_mean[chosen]
    gram = a.T @ a + ridge * len(f_tr) * np.eye(len(chosen))
    w = np.linalg.solve(gram, a.T @ (y_tr - y_mean))
    return float(((y_va - y_mean - (f_va[:, chosen] - f_mean[chosen]) @ w) ** 2).sum())


def test_incremental_steps_match_brute_force_greedy(rng):
    f_tr, f_va = rng.normal(size=(80, 7)), rng.normal(size=(40, 7))
    y_tr, y_va = rng.normal(size=(80, 5)), rng.normal(size=(40, 5))
    order, gains = _greedy_ridge(f_tr.copy(), y_tr.copy(), f_va.copy(), y_va.copy(), 0.05)
    chosen = []
    for step in range(7):
        before = brute_force_sse(f_tr, y_tr, f_va, y_va, chosen, 0.05)
        drops = {
            j: before - brute_force_sse(f_tr, y_tr, f_va, y_va, [*chosen, j], 0.05)
            for j in range(7)
            if j not in chosen
        }
        best = max(drops, key=drops.get)
        assert order[step] == best
        assert gains[step] == pytest.approx(drops[best], rel=1e-8, abs=1e-8)
        chosen.append(best)


def test_planted_drivers_come_first():
    values, follows = planted_network(n_drivers=4, n_followers=36, n_steps=1500, seed=3)
    selector = GreedySelector(horizon=3).fit(None, periods=(values[:1000], values[1000:1200]))
    assert set(selector.get_all_sensors()[:4]) == {0, 1, 2, 3}


def test_a_copy_of_a_chosen_sensor_adds_nothing(rng):
    walk = np.cumsum(rng.normal(size=(600, 3)), axis=0)
    values = np.column_stack([walk, walk[:, 0]])  # sensor 3 repeats sensor 0
    ranking = list(GreedySelector(horizon=2).fit(values).get_all_sensors())
    assert max(ranking.index(0), ranking.index(3)) == 3  # whichever copy comes second is last


def test_channels_and_missing_values_give_a_full_ranking(rng):
    values = np.cumsum(rng.normal(size=(300, 6, 2)), axis=0)
    values[rng.random(values.shape) < 0.4] = np.nan
    values[:, 5] = np.nan  # a sensor that never reported
    ranking = (
        GreedySelector(horizon=4).fit(None, periods=(values[:250], values[250:])).get_all_sensors()
    )
    assert sorted(ranking) == list(range(6))
    assert ranking[-1] == 5
