import torch

from dynst_cli.mask.morph import morph_graph, morph_grid, unmorph_graph, unmorph_grid


def test_graph_round_trip_is_exact():
    x = torch.randn(3, 5, 7, 2)
    z = morph_graph(x)
    assert z.shape == (3, 7, 10)
    assert torch.equal(unmorph_graph(z, 5, 2), x)


def test_grid_round_trip_is_exact():
    x = torch.randn(2, 4, 3, 5, 6)
    z = morph_grid(x)
    assert z.shape == (2, 30, 12)
    assert torch.equal(unmorph_grid(z, 4, 3, 5, 6), x)


def test_graph_features_stay_with_their_sensor_in_time_major_order():
    b, t, n, c = 2, 3, 4, 2
    x = torch.arange(b * t * n * c, dtype=torch.float32).reshape(b, t, n, c)
    z = morph_graph(x)
    for ti in range(t):
        for ci in range(c):
            assert torch.equal(z[:, :, ti * c + ci], x[:, ti, :, ci])


def test_grid_cells_are_row_major_and_keep_their_features():
    b, t, c, h, w = 1, 2, 3, 2, 4
    x = torch.zeros(b, t, c, h, w)
    x[:, :, :, 1, 2] = torch.arange(t * c, dtype=torch.float32).reshape(t, c) + 1
    z = morph_grid(x)
    cell = 1 * w + 2
    assert torch.equal(z[0, cell], torch.arange(1, t * c + 1, dtype=torch.float32))
    others = torch.cat([z[0, :cell], z[0, cell + 1 :]])
    assert torch.all(others == 0)
