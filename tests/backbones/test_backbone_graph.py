"""Fixed graphs: the distance kernel for point sensors and the grid lattice."""

from __future__ import annotations

import numpy as np
import pytest

from dynst_cli.backbones.graph import (
    distance_kernel_adjacency,
    lattice_adjacency,
    transition_matrices,
)
from dynst_cli.geo import pairwise_km

# London, Paris, Berlin; great-circle distances London-Paris ~344 km, Paris-Berlin ~878 km,
# London-Berlin ~932 km
CITIES_LAT = np.array([51.5074, 48.8566, 52.5200])
CITIES_LON = np.array([-0.1278, 2.3522, 13.4050])
KM_LONDON_PARIS, KM_PARIS_BERLIN, KM_LONDON_BERLIN = 344.0, 878.0, 932.0


def test_three_cities_kernel_matches_hand_computation():
    dist = pairwise_km(CITIES_LAT, CITIES_LON)
    assert dist[0, 1] == pytest.approx(KM_LONDON_PARIS, rel=0.01)
    assert dist[1, 2] == pytest.approx(KM_PARIS_BERLIN, rel=0.01)
    assert dist[0, 2] == pytest.approx(KM_LONDON_BERLIN, rel=0.01)

    adj = distance_kernel_adjacency(CITIES_LAT, CITIES_LON, k=1)
    # nearest of London is Paris, of Paris London, of Berlin Paris: London-Berlin is no edge
    sigma = np.std([KM_LONDON_PARIS, KM_LONDON_PARIS, KM_PARIS_BERLIN])
    w_lp = np.exp(-((KM_LONDON_PARIS / sigma) ** 2))
    w_pb = np.exp(-((KM_PARIS_BERLIN / sigma) ** 2))
    expected = np.array([[1.0, w_lp, 0.0], [w_lp, 1.0, w_pb], [0.0, w_pb, 1.0]])
    np.testing.assert_allclose(adj, expected, rtol=0.03, atol=1e-12)


def test_distance_kernel_is_symmetric_with_k_neighbours_and_self_loops():
    rng = np.random.default_rng(0)
    lat, lon = 40 + rng.random(30), -3 + rng.random(30)
    k = 4
    adj = distance_kernel_adjacency(lat, lon, k)
    np.testing.assert_array_equal(adj, adj.T)
    np.testing.assert_array_equal(np.diag(adj), 1.0)
    assert ((adj >= 0) & (adj <= 1)).all()
    # each sensor keeps its k nearest others (plus whoever picked it): at least k + 1 entries
    dist = pairwise_km(lat, lon) + np.diag(np.full(30, np.inf))
    nearest = np.argsort(dist, axis=1, kind="stable")[:, :k]
    assert (np.take_along_axis(adj, nearest, axis=1) > 0).all()
    assert ((adj > 0).sum(axis=1) >= k + 1).all()
    assert (adj > 0).sum() < 30 * 30  # sparse, not complete


def test_k_larger_than_network_links_everyone():
    adj = distance_kernel_adjacency(CITIES_LAT, CITIES_LON, k=10)
    assert (adj > 0).all()


def test_lattice_neighbours_on_a_3x3_grid():
    rows, cols = np.divmod(np.arange(9), 3)
    rook = lattice_adjacency(rows, cols, neighbours=4)
    queen = lattice_adjacency(rows, cols, neighbours=8)
    # self-loop included: corner 2 + 1, edge 3 + 1, centre 4 + 1 (queen: 3, 5, 8 neighbours)
    np.testing.assert_array_equal(rook.sum(axis=1), [3, 4, 3, 4, 5, 4, 3, 4, 3])
    np.testing.assert_array_equal(queen.sum(axis=1), [4, 6, 4, 6, 9, 6, 4, 6, 4])
    assert rook[0, 1] == 1 and rook[0, 4] == 0 and queen[0, 4] == 1
    np.testing.assert_array_equal(rook, rook.T)


def test_lattice_skips_empty_cells():
    # sensors at (0,0) and (0,2): the empty cell between them is no bridge
    adj = lattice_adjacency(np.array([0, 0]), np.array([0, 2]))
    np.testing.assert_array_equal(adj, np.eye(2))


def test_transition_matrices_are_row_stochastic():
    adj = np.array([[1.0, 2.0, 0.0], [0.0, 1.0, 1.0], [3.0, 0.0, 1.0]])
    mats = transition_matrices(adj)
    assert len(mats) == 2  # asymmetric: forward and backward
    for mat in mats:
        np.testing.assert_allclose(mat.sum(axis=1), 1.0)
    assert len(transition_matrices(adj + adj.T)) == 1
