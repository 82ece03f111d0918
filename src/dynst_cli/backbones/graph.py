"""Fixed sensor graphs: a distance kernel for point sensors, the lattice for grids.

Both return a dense, symmetric, non-negative `(N, N)` weight matrix with self-loops on the
diagonal; `transition_matrices` turns one into the random-walk matrices of a diffusion
convolution (Li et al., "Diffusion Convolutional Recurrent Neural Network", ICLR 2018).
"""

from __future__ import annotations

import numpy as np

from dynst_cli.geo import pairwise_km


def distance_kernel_adjacency(lat: np.ndarray, lon: np.ndarray, k: int) -> np.ndarray:
    """Gaussian-kernel weights over the k nearest neighbours by great-circle distance.

    `W_ij = exp(-d_ij^2 / sigma^2)` where `j` is among the `k` nearest sensors of `i` or `i`
    among those of `j` (so `W` is symmetric), 0 otherwise, and 1 on the diagonal. `sigma` is
    the (population) standard deviation of the k-NN distances, the usual choice for traffic
    graphs (DCRNN, Graph WaveNet), so the kernel adapts to the network's spacing.

    Parameters
    ----------
    lat, lon : np.ndarray, shape (N,)
        Sensor positions in degrees.
    k : int
        Neighbours per sensor, not counting itself; capped at N - 1. Ties break by sensor order.

    Returns
    -------
    np.ndarray, shape (N, N), float64
    """
    dist = pairwise_km(lat, lon)
    n = dist.shape[0]
    k = max(0, min(int(k), n - 1))
    if k == 0:
        return np.eye(n)
    # a stable sort puts the sensor itself (distance 0) first unless a duplicate position
    # precedes it; removing the diagonal explicitly keeps exactly k others per row
    masked = dist + np.diag(np.full(n, np.inf))
    nearest = np.argsort(masked, axis=1, kind="stable")[:, :k]
    rows = np.repeat(np.arange(n), k)
    knn_d = dist[rows, nearest.ravel()]
    sigma = float(np.std(knn_d))
    if not sigma > 0:  # every neighbour equally far: fall back to the common distance
        sigma = float(knn_d.mean()) or 1.0
    keep = np.zeros((n, n), dtype=bool)
    keep[rows, nearest.ravel()] = True
    keep |= keep.T
    np.fill_diagonal(keep, True)
    return np.where(keep, np.exp(-((dist / sigma) ** 2)), 0.0)


def lattice_adjacency(rows: np.ndarray, cols: np.ndarray, neighbours: int = 4) -> np.ndarray:
    """Unit weights between sensors in adjacent grid cells, with self-loops.

    Parameters
    ----------
    rows, cols : np.ndarray of int, shape (N,)
        Grid cell of each sensor; cells without a sensor simply have no node.
    neighbours : {4, 8}
        Rook (edge-sharing) or queen (edge- or corner-sharing) adjacency.

    Returns
    -------
    np.ndarray, shape (N, N), float64
    """
    if neighbours not in (4, 8):
        raise ValueError(f"neighbours must be 4 or 8, got {neighbours}")
    rows = np.asarray(rows, dtype=np.int64)
    cols = np.asarray(cols, dtype=np.int64)
    dr = np.abs(rows[:, None] - rows[None, :])
    dc = np.abs(cols[:, None] - cols[None, :])
    # rook: Manhattan distance <= 1; queen: Chebyshev distance <= 1 (both include the cell)
    reach = dr + dc if neighbours == 4 else np.maximum(dr, dc)
    return (reach <= 1).astype(np.float64)


def transition_matrices(adj: np.ndarray) -> list[np.ndarray]:
    """Row-normalised forward `D^-1 W` and backward `D'^-1 W^T` random-walk matrices.

    For a symmetric `W` the two coincide and only one is returned, which halves the
    diffusion cost without changing what the model can express.

    Parameters
    ----------
    adj : np.ndarray, shape (N, N)
        Non-negative weights.

    Returns
    -------
    list of np.ndarray, each (N, N), float64
    """
    mats = [_row_normalise(adj)]
    if not np.allclose(adj, adj.T):
        mats.append(_row_normalise(adj.T))
    return mats


def _row_normalise(adj: np.ndarray) -> np.ndarray:
    deg = adj.sum(axis=1, keepdims=True)
    return np.divide(adj, deg, out=np.zeros_like(adj, dtype=np.float64), where=deg > 0)
